//! `meterdeck-cloud`: the cloud service and its admin commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use meterdeck_cloud::broker::{BrokerMode, BrokerTls};
use meterdeck_cloud::serve::{ServeOptions, TlsFiles, default_db};
use meterdeck_cloud::state::MailConfig;

#[derive(Parser)]
#[command(name = "meterdeck-cloud", version, about = "The Meterdeck cloud service: MQTT ingest, Web API, accounts")]
struct Cli {
    /// Data directory: the SQLite database, the broker's files, backups.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Database: `sqlite:PATH` (default `sqlite:<data>/cloud.db`) or `postgres://user@host/db`.
    #[arg(long, global = true)]
    db: Option<String>,
    /// The licence authority's signing key file (default `<data>/licence-signing.key`,
    /// created 0600 on first use). Every API process of one cloud needs the same key.
    #[arg(long, global = true, value_name = "FILE")]
    licence_key: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once per run: the size of `Serve` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Run the service: broker (Mosquitto, started here unless --broker), ingest, Web API, backups.
    Serve {
        /// Address of the Web API.
        #[arg(long, default_value = "127.0.0.1:8440")]
        http: SocketAddr,
        /// Port of the Mosquitto this command starts (with --mosquitto).
        #[arg(long, default_value_t = 8883)]
        mqtt_port: u16,
        /// Address the started Mosquitto listens on.
        #[arg(long, default_value = "127.0.0.1")]
        mqtt_bind: String,
        /// The Mosquitto program to start.
        #[arg(long, default_value = "mosquitto")]
        mosquitto: PathBuf,
        /// Use an external broker at HOST:PORT instead of starting one. Its
        /// login: --broker-user and the password in MD_BROKER_PASSWORD.
        #[arg(long)]
        broker: Option<String>,
        #[arg(long, default_value = meterdeck_cloud::broker::CLOUD_BROKER_USER)]
        broker_user: String,
        /// External Mosquitto: write its password file and ACL into this directory...
        #[arg(long)]
        broker_files: Option<PathBuf>,
        /// ...and send SIGHUP to the pid in this file when agents change.
        #[arg(long)]
        broker_pid_file: Option<PathBuf>,
        /// With --broker: where agents connect (HOST:PORT), when not at
        /// --broker (the cloud's own, private listener). Shown at
        /// registration; the start-up self-test probes it.
        #[arg(long, requires = "broker")]
        agent_broker: Option<String>,
        /// Agents connect to the agents' broker with TLS.
        #[arg(long, requires = "broker")]
        agent_broker_tls: bool,
        /// PEM CA the self-test trusts for --agent-broker-tls (default: the system's roots).
        #[arg(long, value_name = "FILE", requires = "agent_broker_tls")]
        agent_broker_ca: Option<PathBuf>,
        /// SMTP server (HOST:PORT) for password-reset links and email login codes.
        #[arg(long)]
        smtp: Option<String>,
        #[arg(long, default_value = "meterdeck@localhost")]
        mail_from: String,
        /// The URL users reach the service at (links in mail).
        #[arg(long)]
        public_url: Option<String>,
        /// Batches decoded and stored at once.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// SQLite backups into <data>/backups this often (0 = off).
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        backup_every: Duration,
        #[arg(long, default_value_t = 7)]
        backups_kept: usize,
        /// PEM certificate (chain) of this host: the API serves HTTPS, and the
        /// started Mosquitto speaks TLS on --mqtt-port (needs --tls-key).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Channels one agent may have; a batch that would make more is refused (error ack).
        #[arg(long, default_value_t = meterdeck_cloud::store::DEFAULT_MAX_CHANNELS_PER_AGENT,
              value_parser = clap::value_parser!(u64).range(1..))]
        max_channels_per_agent: u64,
        /// A proxy (CIDR) in front of the API, e.g. the TLS terminator: from
        /// it the caller's address is taken from X-Forwarded-For (the
        /// rightmost hop that is not a trusted proxy), and its
        /// `X-Forwarded-Proto: https` makes the portal's session cookie
        /// Secure. None by default. Repeatable.
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxy: Vec<meterdeck_cloud::auth::cidr::Cidr>,
        /// The licence sweep (reminders, retention, capacity, lapsed gateways) this often (0 = off,
        /// e.g. when another process or `licence sweep` from cron does it).
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
        licence_sweep_every: Duration,
        /// Where agents' uploaded measurement files are kept (default: `files/` beside the
        /// SQLite database; with PostgreSQL `<data>/files`, shared by every API process).
        #[arg(long, value_name = "DIR")]
        files_dir: Option<PathBuf>,
        /// How often the offline monitor looks at every agent (0 = off, e.g. when other
        /// processes on the same database do it).
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        offline_check_every: Duration,
        /// The view-only link key file (HMAC; created 0600 on first start; default
        /// `<data>/view-link.key`). Every API process of one cloud must share it.
        #[arg(long, value_name = "FILE")]
        link_key: Option<PathBuf>,
        /// The key file sealing the accounts' alarm destinations (webhook URLs) at rest
        /// (created 0600 on first start; default `<data>/alarm-secrets.key`). Every
        /// process of one cloud must share it.
        #[arg(long, value_name = "FILE")]
        alarm_key: Option<PathBuf>,
    },
    /// Accounts (the licence authority's side).
    Account {
        #[command(subcommand)]
        cmd: AccountCmd,
    },
    /// Users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Agents.
    Agent {
        #[command(subcommand)]
        cmd: AgentCmd,
    },
    /// Licences: cards, plan changes, history, signed documents (the licence authority).
    Licence {
        #[command(subcommand)]
        cmd: LicenceCmd,
    },
    /// Back up the SQLite database now into DIR (default <data>/backups), keeping the newest --keep.
    Backup {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 7)]
        keep: usize,
    },
    /// Replace the SQLite database with a backup (the service must be stopped).
    Restore {
        /// A backup file, or `latest` for the newest in <data>/backups.
        from: String,
    },
}

#[derive(Subcommand)]
enum AccountCmd {
    /// Create an account and its first admin; prints the admin's temporary password once.
    Create {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "free")]
        plan: String,
        #[arg(long)]
        admin: String,
        #[arg(long)]
        email: String,
    },
    /// Delete an account with all its data, users and agents.
    Delete {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum LicenceCmd {
    /// Print the authority's public key (agents pin it at `cloud login`); creates the key on first use.
    Key,
    /// Issue a licence card for an account; prints its code once.
    IssueCard {
        #[arg(long)]
        account: String,
        /// standard | pro (the account's plan).
        #[arg(long, conflicts_with = "remote", required_unless_present = "remote")]
        plan: Option<String>,
        /// basic | pro: a Remote plan for the gateway agent --agent.
        #[arg(long, requires = "agent")]
        remote: Option<String>,
        #[arg(long)]
        agent: Option<String>,
        /// 1, 3 or 12.
        #[arg(long)]
        months: u32,
    },
    /// Apply a card to an account (the term extends from the current end; at most 13 months ahead).
    Apply {
        #[arg(long)]
        account: String,
        #[arg(long)]
        card: String,
    },
    /// Change the plan (once a month; days left convert: Standard = Pro x 5, Basic = Pro x 2).
    Plan {
        #[arg(long)]
        account: String,
        /// standard | pro; with --agent: basic | pro.
        #[arg(long)]
        plan: String,
        #[arg(long)]
        agent: Option<String>,
    },
    /// The account's plan, term, days left and gateways.
    Show {
        #[arg(long)]
        account: String,
    },
    /// The IANA time zone (e.g. Asia/Tokyo) expiry reminders go out in, at 09:00.
    TimeZone {
        #[arg(long)]
        account: String,
        #[arg(long)]
        tz: String,
    },
    /// The account's licence history, newest first.
    History {
        #[arg(long)]
        account: String,
    },
    /// Run the licence sweep once (what `serve` does every --licence-sweep-every):
    /// reminders, Free's retention, over-capacity notices and deletion, lapsed gateways.
    Sweep {
        /// Sweep as at this time (RFC 3339, e.g. 2027-02-01T00:00:00Z) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// SMTP server (HOST:PORT) for the mails; without it they are logged only.
        #[arg(long)]
        smtp: Option<String>,
        #[arg(long, default_value = "meterdeck@localhost")]
        mail_from: String,
        /// The URL users reach the service at (in the mails).
        #[arg(long, default_value = "http://127.0.0.1:8440")]
        public_url: String,
    },
    /// Write the account's signed licence file (stdout, or --out).
    Document {
        #[arg(long)]
        account: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// A new temporary password for a user who lost theirs (prints it once; it
    /// must be changed at the next login; the user's sessions end).
    ResetPassword {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
enum AgentCmd {
    /// Register an agent; prints its id and secret once.
    Register {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
    },
    /// Give an agent a new secret (a lost or reinstalled machine); prints it once.
    Rotate {
        #[arg(long)]
        account: String,
        #[arg(long)]
        agent: String,
    },
    /// The account's agents: id, name, last batch.
    List {
        #[arg(long)]
        account: String,
    },
}

fn data_dir(cli: &Cli) -> PathBuf {
    cli.data.clone().unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".local/share/meterdeck-cloud")
    })
}

/// Mosquitto reads the certificate files itself, from its own working directory.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("{}: cannot make the path absolute", path.display()))
}

/// A loopback port for the broker's plain listener of the ingest subscriber.
fn free_local_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port for the broker")?;
    Ok(l.local_addr()?.port())
}

fn sqlite_path(db: &str) -> anyhow::Result<&Path> {
    match db.strip_prefix("sqlite:") {
        Some(p) => Ok(Path::new(p)),
        None => {
            bail!("backup and restore work on the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore")
        }
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MD_LOG").unwrap_or_else(|_| "info,rumqttc=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("meterdeck-cloud: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data = data_dir(&cli);
    let db = cli.db.clone().unwrap_or_else(|| default_db(&data));
    match cli.cmd {
        Cmd::Serve {
            http,
            mqtt_port,
            mqtt_bind,
            mosquitto,
            broker,
            broker_user,
            broker_files,
            broker_pid_file,
            agent_broker,
            agent_broker_tls,
            agent_broker_ca,
            smtp,
            mail_from,
            public_url,
            workers,
            backup_every,
            backups_kept,
            tls_cert,
            tls_key,
            max_channels_per_agent,
            trusted_proxy,
            licence_sweep_every,
            files_dir,
            offline_check_every,
            link_key,
            alarm_key,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert: absolute(&cert)?, key: absolute(&key)? }),
                _ => None,
            };
            let host_port = |opt: &str, addr: &str| {
                addr.rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                    .with_context(|| format!("{opt} {addr}: expected HOST:PORT"))
            };
            let broker = match broker {
                Some(addr) => {
                    let (host, port) = host_port("--broker", &addr)?;
                    let agents = agent_broker.as_deref().map(|a| host_port("--agent-broker", a)).transpose()?;
                    let password = std::env::var("MD_BROKER_PASSWORD")
                        .context("--broker needs the cloud's broker password in MD_BROKER_PASSWORD")?;
                    BrokerMode::External {
                        host,
                        port,
                        user: broker_user,
                        password,
                        files: broker_files,
                        pid_file: broker_pid_file,
                        agents,
                        agents_tls: agent_broker_tls.then(|| meterdeck_cloud::broker::AgentsTls {
                            ca_file: agent_broker_ca.as_deref().map(absolute).transpose().ok().flatten(),
                        }),
                    }
                }
                None => BrokerMode::Managed {
                    program: mosquitto,
                    bind: mqtt_bind,
                    port: mqtt_port,
                    tls: match &tls {
                        Some(t) => {
                            let local_port = free_local_port()?;
                            Some(BrokerTls { cert: t.cert.clone(), key: t.key.clone(), local_port })
                        }
                        None => None,
                    },
                },
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let public_url = public_url.unwrap_or_else(|| format!("{scheme}://{http}"));
            let mail = smtp.map(|smtp| MailConfig { smtp, from: mail_from, public_url });
            meterdeck_cloud::serve::serve(ServeOptions {
                data_dir: data,
                db: Some(db),
                http,
                broker,
                mail,
                ingest_workers: workers,
                backup_every: (!backup_every.is_zero()).then_some(backup_every),
                backups_kept,
                tls,
                limits: meterdeck_cloud::store::IngestLimits { max_channels_per_agent },
                trusted_proxies: trusted_proxy,
                licence_key: cli.licence_key.clone(),
                licence_sweep_every: (!licence_sweep_every.is_zero()).then_some(licence_sweep_every),
                files_dir,
                offline_check_every: (!offline_check_every.is_zero()).then_some(offline_check_every),
                link_key,
                alarm_key,
            })
            .await
        }
        Cmd::Account { cmd } => {
            std::fs::create_dir_all(&data).ok();
            let store = meterdeck_cloud::store::open(&db).await?;
            match cmd {
                AccountCmd::Create { id, name, plan, admin, email } => {
                    let temp =
                        meterdeck_cloud::admin::create_account(&*store, &id, &name, &plan, &admin, &email).await?;
                    println!("account {id} created; admin {admin}, temporary password (change it at first login):");
                    println!("{temp}");
                }
                AccountCmd::Delete { id } => {
                    store.delete_account(&id).await?;
                    println!("account {id} deleted with its data, users and agents");
                }
            }
            Ok(())
        }
        Cmd::User { cmd: UserCmd::ResetPassword { account, user } } => {
            let store = meterdeck_cloud::store::open(&db).await?;
            let (_, temp) = meterdeck_cloud::admin::reset_to_temporary(&*store, &account, &user).await?;
            println!(
                "user {user} of {account}: new temporary password (change it at the next login; their sessions ended):"
            );
            println!("{temp}");
            Ok(())
        }
        Cmd::Agent { cmd } => {
            std::fs::create_dir_all(&data).ok();
            let store = meterdeck_cloud::store::open(&db).await?;
            let broker = meterdeck_cloud::broker::NoBroker;
            match cmd {
                AgentCmd::Register { account, name } => {
                    let (agent, secret) =
                        meterdeck_cloud::admin::register_agent(&*store, &broker, &account, &name).await?;
                    println!("agent {} registered for {account}. Its secret is shown once:", agent.id);
                    println!("{secret}");
                    println!(
                        "On the agent: meterdeck-agent cloud login --agent {} --broker HOST:PORT [--tls | --ca-file CA.pem] (paste the secret)",
                        agent.id
                    );
                }
                AgentCmd::Rotate { account, agent } => {
                    let secret =
                        meterdeck_cloud::admin::rotate_agent_secret(&*store, &broker, &account, &agent).await?;
                    println!(
                        "agent {agent} of {account} has a new secret (the old one no longer works). It is shown once:"
                    );
                    println!("{secret}");
                    println!(
                        "On the agent: meterdeck-agent cloud login --agent {agent} --broker HOST:PORT [--tls | --ca-file CA.pem] (paste the secret)"
                    );
                }
                AgentCmd::List { account } => {
                    if store.account(&account).await?.is_none() {
                        anyhow::bail!("account {account:?} does not exist");
                    }
                    for a in store.agents(&account).await? {
                        let last = a
                            .sync
                            .last_batch_ms
                            .and_then(chrono::DateTime::from_timestamp_millis)
                            .map_or("never".to_string(), |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                        println!("{}\t{}\tlast batch: {last}\tbacklog: {}", a.id, a.name, a.sync.backlog);
                    }
                }
            }
            Ok(())
        }
        Cmd::Licence { cmd } => {
            std::fs::create_dir_all(&data).ok();
            let key_path =
                cli.licence_key.clone().unwrap_or_else(|| meterdeck_cloud::licence::key::default_path(&data));
            let key = meterdeck_cloud::licence::key::load_or_create(&key_path)?;
            let store = meterdeck_cloud::store::open(&db).await?;
            meterdeck_cloud::licence::cli::run(&*store, &key, cmd.into(), meterdeck_wire::now_ms()).await
        }
        Cmd::Backup { out, keep } => {
            let store = meterdeck_cloud::store::open(&db).await?;
            sqlite_path(&db)?;
            let dest =
                meterdeck_cloud::backup::run_once(&*store, &out.unwrap_or_else(|| data.join("backups")), keep).await?;
            println!("{}", dest.display());
            Ok(())
        }
        Cmd::Restore { from } => {
            let path = sqlite_path(&db)?.to_owned();
            let _lock = meterdeck_cloud::backup::lock_data_dir(&data)?;
            let file = if from == "latest" {
                meterdeck_cloud::backup::list(&data.join("backups"))?
                    .pop()
                    .with_context(|| format!("no backups in {}", data.join("backups").display()))?
            } else {
                PathBuf::from(from)
            };
            meterdeck_cloud::backup::restore(&path, &file)?;
            println!("restored {} from {}", path.display(), file.display());
            Ok(())
        }
    }
}

impl From<LicenceCmd> for meterdeck_cloud::licence::cli::Command {
    fn from(c: LicenceCmd) -> Self {
        use meterdeck_cloud::licence::cli::Command as C;
        match c {
            LicenceCmd::Key => C::Key,
            LicenceCmd::IssueCard { account, plan, remote, agent, months } => {
                C::IssueCard { account, plan, remote, agent, months }
            }
            LicenceCmd::Apply { account, card } => C::Apply { account, card },
            LicenceCmd::Plan { account, plan, agent } => C::Plan { account, plan, agent },
            LicenceCmd::Show { account } => C::Show { account },
            LicenceCmd::TimeZone { account, tz } => C::TimeZone { account, tz },
            LicenceCmd::History { account } => C::History { account },
            LicenceCmd::Document { account, out } => C::Document { account, out },
            LicenceCmd::Sweep { at, smtp, mail_from, public_url } => {
                C::Sweep { at, mail: smtp.map(|smtp| MailConfig { smtp, from: mail_from, public_url }) }
            }
        }
    }
}
