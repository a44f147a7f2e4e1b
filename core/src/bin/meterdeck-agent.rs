//! `meterdeck-agent`: the headless engine. Polls instruments into the local
//! cache (`run`), shows it (`status`, `query`), exports it (`export`), finds
//! instruments (`discover`), and runs everything on the built-in simulator
//! (`demo`). Logs go to stderr (RUST_LOG respected); every user error ends
//! the process with one line and a non-zero exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use meterdeck_core::agent::{
    Agent, AgentOptions, FAST_DURATION, FAST_INTERVAL, FAST_REQUESTS_KEY, FastRequest, now_ms,
};
use meterdeck_core::cli::alarms as cli_alarms;
use meterdeck_core::cli::cloud as cli_cloud;
use meterdeck_core::cli::live_table::LiveTable;
use meterdeck_core::cli::paths::{existing_store, resolve_data_dir};
use meterdeck_core::cli::status::{self, render_table};
use meterdeck_core::cli::time::{format_bytes, format_time, parse_time};
use meterdeck_core::config::{AgentConfig, AgentSettings};
use meterdeck_core::export::{ExportFormat, export, format_number, format_value};
use meterdeck_core::model::{ChannelRecord, Value};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use tracing::{info, warn};

#[derive(Parser)]
#[command(
    name = "meterdeck-agent",
    version,
    about = "Meterdeck's headless agent: polls instruments into the local cache"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Poll the instruments of a config file until SIGINT or SIGTERM.
    Run {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Overrides `[agent].data_dir`.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Print `ACK <instrument>/<channel> <t_ms> <value>` for every stored sample.
        #[arg(long)]
        print_acks: bool,
    },
    /// Run the built-in simulator and the agent together, printing live values every second.
    Demo {
        /// Default: the platform data directory's `demo` folder.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Simulated instruments (logger, power meter, SCPI DMM, Modbus, then again).
        #[arg(long, default_value_t = 4, value_name = "N")]
        instruments: usize,
        /// Sync to the cloud named in this file's `[cloud]` section (written by
        /// `meterdeck-agent cloud login --config FILE`); the secret comes from the keychain.
        #[arg(long, value_name = "FILE")]
        cloud_config: Option<PathBuf>,
    },
    /// Find instruments on the LAN or on serial ports.
    Discover {
        #[command(subcommand)]
        target: DiscoverTarget,
    },
    /// Instruments with their state, latest values, outbox backlog, store size.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        json: bool,
        /// Recent events to show.
        #[arg(long, default_value_t = 10)]
        events: usize,
    },
    /// Ask the running agent to poll an instrument every 5 s for 10 minutes.
    Fast {
        #[command(flatten)]
        store: StoreArgs,
        instrument: String,
        /// Back to the normal interval now.
        #[arg(long)]
        off: bool,
    },
    /// Export channels over a time range to CSV (one wide file) or ZIP (one CSV per channel + the wide file).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Comma-separated `instrument/channel` list.
        #[arg(long, value_name = "LIST", required_unless_present = "all", conflicts_with = "all")]
        channels: Option<String>,
        /// Every channel in the store.
        #[arg(long)]
        all: bool,
        /// RFC 3339, a date, `now` or relative (`-1h`, `-7d`).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        from: String,
        #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
        to: String,
        /// FILE.csv or FILE.zip
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Alarms in their current state (rules from the config), or an operator action on one.
    Alarms {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        action: Option<AlarmAction>,
        #[arg(long)]
        json: bool,
    },
    /// The alarm journal: every transition and delivery attempt.
    Journal {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_name = "ID")]
        alarm: Option<String>,
        /// raise, return, ack, shelve, unshelve, out_of_service, in_service, reminder, notify_ok, notify_failed, notify_retry
        #[arg(long)]
        action: Option<String>,
        #[arg(long, value_name = "TIME", default_value = "-7d", allow_hyphen_values = true)]
        from: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// The notification centre.
    Notifications {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        unread: bool,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Cloud sync: store the agent's broker login in the OS keychain, remove it, or show the sync state.
    Cloud {
        #[command(subcommand)]
        action: CloudAction,
    },
    /// Print a channel's samples, or an M4 (min/max per bucket) view of them.
    Query {
        #[command(flatten)]
        store: StoreArgs,
        /// `instrument/channel`
        #[arg(long, value_name = "PATH")]
        channel: String,
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        from: String,
        #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
        to: String,
        /// Downsample to N buckets (M4: first, last, min, max per bucket).
        #[arg(long, value_name = "N")]
        buckets: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

/// Carried out by the running agent (it owns the journal) within a second.
#[derive(Subcommand)]
enum AlarmAction {
    /// Acknowledge an unacknowledged alarm.
    Ack {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Suppress an alarm's notifications for a while.
    Shelve {
        alarm: String,
        #[arg(long)]
        minutes: u32,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    Unshelve {
        alarm: String,
        #[arg(long)]
        user: String,
    },
    /// Take an alarm out of service (maintenance).
    OutOfService {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    InService {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Subcommand)]
enum CloudAction {
    /// Store the agent's secret (read from stdin, or typed at a prompt) in the
    /// OS keychain and add the `[cloud]` section to --config, or print it.
    Login {
        /// The agent id the cloud handed out at registration.
        #[arg(long, value_name = "ID")]
        agent: String,
        /// The MQTT broker, HOST:PORT (port 1883 when omitted).
        #[arg(long, value_name = "HOST:PORT")]
        broker: String,
        /// Add (or replace) the `[cloud]` section in this config file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Log in to the broker first; store nothing if it refuses.
        #[arg(long)]
        check: bool,
        /// MQTT over TLS (`tls = true`), checked against the system's trusted roots...
        #[arg(long)]
        tls: bool,
        /// ...or against this CA certificate (PEM; implies --tls).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Client certificate (PEM) for a broker that requires mutual TLS (implies --tls).
        #[arg(long, value_name = "FILE", requires = "client_key")]
        client_cert: Option<PathBuf>,
        /// Private key (PEM) of --client-cert.
        #[arg(long, value_name = "FILE", requires = "client_cert")]
        client_key: Option<PathBuf>,
        /// How often a caught-up agent sends (default 60s; a backlog drains at once).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        send_interval: Option<Duration>,
    },
    /// Delete the agent's secret from the OS keychain (the `[cloud]` section stays; remove it to stop syncing).
    Logout {
        #[arg(long, value_name = "ID", required_unless_present = "config")]
        agent: Option<String>,
        /// Take the agent id from this config's `[cloud]` section.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Link state, backlog, last acknowledgement and the month's traffic.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DiscoverTarget {
    /// Sweep hosts x ports and ask `*IDN?` of whatever accepts a connection.
    Lan {
        /// e.g. `192.168.1.1-254`, `10.0.0.0/24`, `192.168.1.5,192.168.1.9`
        #[arg(long)]
        hosts: String,
        /// Default: every instrument family's discovery ports.
        #[arg(long)]
        ports: Option<String>,
        #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Connections in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// List serial ports (USB VID/PID, maker, product, serial) and ask each `*IDN?`.
    Serial {
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Line terminator to send (`\n` or `\r\n`).
        #[arg(long, default_value = "\\n")]
        terminator: String,
        #[arg(long)]
        json: bool,
    },
}

/// Where the store is, for the commands that read it.
#[derive(clap::Args)]
struct StoreArgs {
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Take the data directory from this config's `[agent].data_dir`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl StoreArgs {
    fn store_path(&self) -> Result<PathBuf> {
        let cfg = match &self.config {
            Some(path) => Some(AgentConfig::load(path)?),
            None => None,
        };
        let dir = resolve_data_dir(self.data_dir.as_deref(), cfg.as_ref()).map_err(|e| anyhow!(e))?;
        existing_store(&dir).map_err(|e| anyhow!(e))
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without repeating a cause the
/// message already contains.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text.replace('\n', " ")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run { config, data_dir, print_acks } => {
            runtime()?.block_on(run(&config, data_dir.as_deref(), print_acks))
        }
        Command::Demo { data_dir, instruments, cloud_config } => {
            runtime()?.block_on(demo(data_dir, instruments, cloud_config))
        }
        Command::Discover { target } => runtime()?.block_on(discover(target)),
        Command::Status { store, json, events } => status_cmd(&store, json, events),
        Command::Fast { store, instrument, off } => fast_cmd(&store, &instrument, !off),
        Command::Export { store, channels, all, from, to, out } => {
            export_cmd(&store, channels.as_deref(), all, &from, &to, &out)
        }
        Command::Alarms { store, action: None, json } => alarms_cmd(&store, json),
        Command::Alarms { store, action: Some(action), .. } => alarm_action_cmd(&store, action),
        Command::Journal { store, alarm, action, from, limit, json } => {
            journal_cmd(&store, alarm, action.as_deref(), &from, limit, json)
        }
        Command::Notifications { store, unread, limit, json } => notifications_cmd(&store, unread, limit, json),
        Command::Query { store, channel, from, to, buckets, json } => {
            query_cmd(&store, &channel, &from, &to, buckets, json)
        }
        Command::Cloud { action } => cloud_cmd(action),
    }
}

// ------------------------------------------------------------------ cloud

fn cloud_cmd(action: CloudAction) -> Result<()> {
    use meterdeck_core::notify::{KeyringSecrets, SecretStore};
    use meterdeck_core::sync::secret_entry;
    match action {
        CloudAction::Login { agent, broker, config, check, tls, ca_file, client_cert, client_key, send_interval } => {
            let settings = cli_cloud::login_settings(&agent, &broker).map_err(|e| anyhow!(e))?;
            let tls = cli_cloud::LoginTls { tls, ca_file, client_cert, client_key };
            let mut settings = cli_cloud::with_tls(settings, &tls).map_err(|e| anyhow!(e))?;
            if let Some(every) = send_interval {
                settings.send_interval = every;
                settings.validate().map_err(|e| anyhow!("--send-interval: {e}"))?;
            }
            // Check the file before asking for the secret.
            let text = match &config {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let secret = cli_cloud::read_secret(&agent).map_err(|e| anyhow!(e))?;
            if check {
                runtime()?
                    .block_on(meterdeck_core::sync::check_login(&settings, &secret, Duration::from_secs(10)))
                    .map_err(|e| anyhow!("{e}; nothing stored"))?;
                println!("the broker {} accepted the login of agent {agent}", settings.broker());
            }
            let entry = secret_entry(&agent);
            KeyringSecrets::new().set(&entry, &secret).map_err(|e| anyhow!("{e}"))?;
            println!("secret of agent {agent} stored in the OS keychain (entry {entry})");
            match (config, text) {
                (Some(path), Some(text)) => {
                    let origin = path.display().to_string();
                    let out = cli_cloud::with_cloud_section(&text, &origin, &settings).map_err(|e| anyhow!(e))?;
                    meterdeck_core::desk::write_atomic(&path, &out)?;
                    println!("[cloud] written to {origin}; restart the agent to start syncing");
                }
                _ => {
                    println!("add this to the agent's config file (or run again with --config FILE):\n");
                    print!("{}", cli_cloud::section_text(&settings));
                }
            }
            Ok(())
        }
        CloudAction::Logout { agent, config } => {
            let agent = match (agent, config) {
                (Some(a), _) => a,
                (None, Some(path)) => {
                    AgentConfig::load(&path)?
                        .cloud
                        .ok_or_else(|| anyhow!("{}: no [cloud] section; give --agent ID", path.display()))?
                        .agent
                }
                (None, None) => bail!("give --agent ID or --config FILE"),
            };
            if !meterdeck_core::sync::wire::valid_agent_id(&agent) {
                bail!("--agent {agent:?}: an agent id is 1-64 of A-Z a-z 0-9 _ -");
            }
            let entry = secret_entry(&agent);
            KeyringSecrets::new().delete(&entry).map_err(|e| anyhow!("{e}"))?;
            println!(
                "secret of agent {agent} removed from the OS keychain; a running agent keeps its connection until it restarts \
                 (remove the [cloud] section to stop syncing)"
            );
            Ok(())
        }
        CloudAction::Status { store, json } => {
            let cfg = match &store.config {
                Some(path) => Some(AgentConfig::load(path)?),
                None => None,
            };
            let db = Store::open_readonly(&store.store_path()?)?;
            let now = now_ms();
            let s = meterdeck_core::sync::SyncStatus::read(&db, cfg.as_ref().map(|c| c.cloud.as_ref()), now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!("{}", s.render(now));
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------------ run

async fn run(config: &Path, data_dir: Option<&Path>, print_acks: bool) -> Result<()> {
    let cfg = AgentConfig::load(config)?;
    let dir = resolve_data_dir(data_dir, Some(&cfg)).map_err(|e| anyhow!(e))?;
    if cfg.enabled_instruments().next().is_none() {
        warn!("{}: no enabled instruments; the agent will only keep the store", config.display());
    }
    let mut signals = Signals::new()?;
    let agent = Agent::start(cfg, &dir, AgentOptions { print_acks, ..AgentOptions::default() })?;
    tokio::select! {
        which = signals.recv() => info!("{which}: shutting down"),
        _ = agent.writer_failed() => {
            let _ = agent.shutdown().await;
            bail!("the store writer stopped; see the log above");
        }
    }
    agent.shutdown().await?;
    Ok(())
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

// ------------------------------------------------------------------ demo

async fn demo(data_dir: Option<PathBuf>, count: usize, cloud_config: Option<PathBuf>) -> Result<()> {
    if count == 0 {
        bail!("--instruments must be at least 1");
    }
    // Read before anything starts, so a bad file changes nothing.
    let cloud = match &cloud_config {
        Some(path) => Some(AgentConfig::load(path)?.cloud.ok_or_else(|| {
            anyhow!("{}: no [cloud] section (meterdeck-agent cloud login --config FILE writes one)", path.display())
        })?),
        None => None,
    };
    let dir = match data_dir {
        Some(d) => d,
        None => resolve_data_dir(None, None).map_err(|e| anyhow!(e))?.join("demo"),
    };
    let kinds = [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus];
    let instruments = (0..count)
        .map(|k| {
            let p = kinds[k % kinds.len()];
            let mut s = SimInstrument::new(format!("{}-{}", p.name(), k / kinds.len() + 1), p);
            s.seed = k as u64 + 1;
            // A screenful: a few channels of each.
            s.channels = Some(match p {
                Personality::HiokiLogger | Personality::PowerMeter => 6,
                Personality::Scpi => p.default_channels(),
                Personality::Modbus => 4,
            });
            s
        })
        .collect();
    let sim = sim::start(SimConfig { instruments }).await.context("cannot start the simulator")?;
    let insts = sim
        .instruments
        .iter()
        .map(|r| {
            let mut c = r.instrument_config();
            c.poll_interval = Some(Duration::from_secs(1));
            c
        })
        .collect();
    let settings =
        AgentSettings { name: "demo".into(), poll_interval: Duration::from_secs(1), ..AgentSettings::default() };
    let mut cfg = AgentConfig::new(settings, insts)?;
    let syncing = cloud.as_ref().map(|c| format!("; syncing as agent {} to {}", c.agent, c.broker()));
    cfg.cloud = cloud;
    let mut signals = Signals::new()?;
    let agent = Agent::start(cfg, &dir, AgentOptions::default())?;
    eprintln!(
        "demo: {} simulated instruments, store in {}{}; Ctrl-C stops",
        sim.instruments.len(),
        dir.display(),
        syncing.unwrap_or_default()
    );
    let mut live = agent.subscribe();
    let mut table = LiveTable::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let clear = std::io::stdout().is_terminal();
    let which = loop {
        tokio::select! {
            which = signals.recv() => break which,
            update = live.recv() => match update {
                Ok(u) => table.apply(&u),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break "agent stopped",
            },
            _ = tick.tick() => {
                let mut out = std::io::stdout().lock();
                let text = table.render(now_ms());
                let framed = if clear { format!("\x1b[2J\x1b[H{text}") } else { format!("{text}\n") };
                if out.write_all(framed.as_bytes()).and_then(|_| out.flush()).is_err() {
                    break "stdout closed";
                }
            }
        }
    };
    info!("{which}: shutting down");
    agent.shutdown().await?;
    sim.shutdown().await;
    Ok(())
}

// ------------------------------------------------------------------ discover

async fn discover(target: DiscoverTarget) -> Result<()> {
    use meterdeck_drivers::discovery::{default_ports, parse_host_range, probe_serial, sweep_lan};
    match target {
        DiscoverTarget::Lan { hosts, ports, timeout, concurrency, json } => {
            let hosts = parse_host_range(&hosts).map_err(|e| anyhow!("--hosts: {e}"))?;
            let ports = match ports {
                Some(p) => parse_ports(&p)?,
                None => default_ports(),
            };
            eprintln!(
                "probing {} hosts x {} ports (timeout {})",
                hosts.len(),
                ports.len(),
                humantime::format_duration(timeout)
            );
            let found = sweep_lan(hosts, ports, timeout, concurrency).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = found
                .iter()
                .map(|f| {
                    vec![
                        f.address.clone(),
                        f.port.map_or("-".into(), |p| p.to_string()),
                        f.family_guess.map_or("?".into(), |x| x.name().to_string()),
                        answer(f),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("nothing answered");
            } else {
                print!("{}", render_table(&["ADDRESS", "PORT", "FAMILY", "ANSWER"], rows));
            }
        }
        DiscoverTarget::Serial { baud, timeout, terminator, json } => {
            let terminator = terminator.replace("\\r", "\r").replace("\\n", "\n");
            let ports = meterdeck_drivers::transport::list_serial_ports().context("cannot list serial ports")?;
            let found = probe_serial(ports.iter().map(|p| p.path.clone()).collect(), baud, &terminator, timeout).await;
            if json {
                let joined: Vec<serde_json::Value> = ports
                    .iter()
                    .map(|p| {
                        let f = found.iter().find(|f| f.address == p.path);
                        serde_json::json!({ "port": p, "probe": f })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&joined)?);
                return Ok(());
            }
            if ports.is_empty() {
                println!("no serial ports");
                return Ok(());
            }
            let rows = ports
                .iter()
                .map(|p| {
                    let vidpid = match (&p.vid, &p.pid) {
                        (Some(v), Some(d)) => format!("{v}:{d}"),
                        _ => "-".into(),
                    };
                    let f = found.iter().find(|f| f.address == p.path);
                    vec![
                        p.path.clone(),
                        format!("{:?}", p.kind).to_lowercase(),
                        vidpid,
                        p.manufacturer.clone().unwrap_or_default(),
                        p.product.clone().unwrap_or_default(),
                        p.serial_number.clone().unwrap_or_default(),
                        f.map_or("-".into(), answer),
                    ]
                })
                .collect();
            print!(
                "{}",
                render_table(&["PORT", "KIND", "VID:PID", "MAKER", "PRODUCT", "SERIAL", "*IDN? ANSWER"], rows)
            );
        }
    }
    Ok(())
}

fn answer(f: &meterdeck_drivers::discovery::Found) -> String {
    match (&f.identity, &f.error) {
        (Some(i), _) => i.to_string(),
        (None, Some(e)) => e.clone(),
        (None, None) => "open (no *IDN?)".into(),
    }
}

fn parse_ports(text: &str) -> Result<Vec<u16>> {
    let ports: Vec<u16> = text
        .split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| p.trim().parse::<u16>().map_err(|_| anyhow!("--ports: `{p}` is not a TCP port")))
        .collect::<Result<_>>()?;
    if ports.is_empty() {
        bail!("--ports: no ports given");
    }
    Ok(ports)
}

// ------------------------------------------------------------------ status / fast

fn status_cmd(args: &StoreArgs, json: bool, events: usize) -> Result<()> {
    let cfg = match &args.config {
        Some(path) => Some(AgentConfig::load(path)?),
        None => None,
    };
    let store = Store::open_readonly(&args.store_path()?)?;
    let report = status::gather(&store, cfg.as_ref(), now_ms(), events)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", status::render(&report));
    }
    Ok(())
}

fn fast_cmd(args: &StoreArgs, instrument: &str, on: bool) -> Result<()> {
    let path = args.store_path()?;
    let mut store = Store::open_with(&path, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let known = store.instrument_states()?;
    if !known.iter().any(|i| i.id == instrument) {
        let ids: Vec<&str> = known.iter().map(|i| i.id.as_str()).collect();
        bail!(
            "unknown instrument `{instrument}` (known: {})",
            if ids.is_empty() { "none".into() } else { ids.join(", ") }
        );
    }
    let current = store.setting(FAST_REQUESTS_KEY)?;
    let value = meterdeck_core::agent::fast_monitor::add_request(
        current.as_deref(),
        instrument,
        FastRequest { on, at: now_ms() },
    );
    store.set_setting(FAST_REQUESTS_KEY, &value)?;
    if on {
        println!(
            "fast monitor requested for {instrument}: every {} for {}; the running agent applies it within a second",
            humantime::format_duration(FAST_INTERVAL),
            humantime::format_duration(FAST_DURATION)
        );
    } else {
        println!("fast monitor off requested for {instrument}; the running agent applies it within a second");
    }
    Ok(())
}

// ------------------------------------------------------------------ alarms

/// The rules: from `--config`, else the data directory's `agent.toml`
/// (where the desktop app keeps its configuration).
fn alarm_rules(args: &StoreArgs, store_path: &Path) -> Result<Vec<meterdeck_core::alarm::AlarmRule>> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None => store_path.with_file_name("agent.toml"),
    };
    if !path.exists() {
        bail!("the alarm rules live in the config file: give --config FILE ({} does not exist)", path.display());
    }
    Ok(AgentConfig::load(&path)?.alarms)
}

fn alarms_cmd(args: &StoreArgs, json: bool) -> Result<()> {
    let path = args.store_path()?;
    let rules = alarm_rules(args, &path)?;
    let store = Store::open_readonly(&path)?;
    let views = cli_alarms::list(&store, rules)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    let rows = views
        .iter()
        .map(|a| {
            let mut state =
                vec![if a.active { "ACTIVE" } else { "returned" }, if a.acked { "acked" } else { "UNACKED" }];
            if a.shelved_until.is_some() {
                state.push("shelved");
            }
            if a.out_of_service {
                state.push("out of service");
            }
            vec![
                a.alarm_id.clone(),
                a.severity.as_str().to_string(),
                state.join(", "),
                a.value.clone().unwrap_or_default(),
                if a.since > 0 { format_time(a.since) } else { "-".into() },
                a.ack
                    .as_ref()
                    .map(|k| format!("{} {}", k.user, k.comment.clone().unwrap_or_default()))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", render_table(&["alarm", "severity", "state", "value", "since", "acknowledged"], rows));
    Ok(())
}

fn alarm_action_cmd(args: &StoreArgs, action: AlarmAction) -> Result<()> {
    use meterdeck_core::agent::alarm_requests::AlarmRequest;
    let req = |alarm: String, action: &str, user: String, comment: Option<String>, minutes: Option<u32>| AlarmRequest {
        at: 0,
        alarm_id: alarm,
        action: action.to_string(),
        user,
        comment,
        minutes,
    };
    let r = match action {
        AlarmAction::Ack { alarm, user, comment } => req(alarm, "ack", user, comment, None),
        AlarmAction::Shelve { alarm, minutes, user, comment } => req(alarm, "shelve", user, comment, Some(minutes)),
        AlarmAction::Unshelve { alarm, user } => req(alarm, "unshelve", user, None, None),
        AlarmAction::OutOfService { alarm, user, comment } => req(alarm, "out_of_service", user, comment, None),
        AlarmAction::InService { alarm, user, comment } => req(alarm, "in_service", user, comment, None),
    };
    if r.user.trim().is_empty() {
        bail!("--user must name who acts");
    }
    let mut store = Store::open_with(&args.store_path()?, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let entry = cli_alarms::request(&mut store, r, Duration::from_secs(5)).map_err(|e| anyhow!(e))?;
    println!(
        "{} {}: {} -> {} ({})",
        entry.alarm_id,
        entry.action.as_str(),
        entry.from_state,
        entry.to_state,
        format_time(entry.t)
    );
    Ok(())
}

fn journal_cmd(
    args: &StoreArgs,
    alarm: Option<String>,
    action: Option<&str>,
    from: &str,
    limit: usize,
    json: bool,
) -> Result<()> {
    let from = parse_time(from, now_ms()).map_err(|e| anyhow!("--from: {e}"))?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let entries = cli_alarms::journal(&store, alarm, Some(from), action, limit).map_err(|e| anyhow!(e))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                format_time(e.t),
                e.alarm_id.clone(),
                e.action.as_str().to_string(),
                format!("{} -> {}", e.from_state, e.to_state),
                e.user.clone().unwrap_or_default(),
                e.comment.clone().unwrap_or_default(),
                e.values.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", render_table(&["time", "alarm", "action", "state", "user", "comment", "values"], rows));
    Ok(())
}

fn notifications_cmd(args: &StoreArgs, unread: bool, limit: usize, json: bool) -> Result<()> {
    let store = Store::open_readonly(&args.store_path()?)?;
    let notes = cli_alarms::notifications(&store, unread, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&notes)?);
        return Ok(());
    }
    let rows = notes
        .iter()
        .map(|n| {
            vec![
                format_time(n.t),
                if n.read { String::new() } else { "unread".into() },
                n.severity.clone().unwrap_or_default(),
                n.title.clone(),
                n.body.replace('\n', " "),
            ]
        })
        .collect();
    print!("{}", render_table(&["time", "", "severity", "title", "body"], rows));
    Ok(())
}

// ------------------------------------------------------------------ export / query

fn time_range(from: &str, to: &str) -> Result<(i64, i64)> {
    let now = now_ms();
    let f = parse_time(from, now).map_err(|e| anyhow!("--from: {e}"))?;
    let t = parse_time(to, now).map_err(|e| anyhow!("--to: {e}"))?;
    if f >= t {
        bail!("--from ({}) must be before --to ({})", format_time(f), format_time(t));
    }
    Ok((f, t))
}

fn find_channel(store: &Store, path: &str) -> Result<ChannelRecord> {
    if let Some(ch) = store.find_channel(path)? {
        return Ok(ch);
    }
    let known: Vec<String> = store.channels()?.iter().take(20).map(ChannelRecord::path).collect();
    bail!(
        "unknown channel `{path}` (expected instrument/channel; known: {}{})",
        if known.is_empty() { "none".to_string() } else { known.join(", ") },
        if known.len() == 20 { ", ..." } else { "" }
    )
}

fn export_cmd(args: &StoreArgs, channels: Option<&str>, all: bool, from: &str, to: &str, out: &Path) -> Result<()> {
    let format = ExportFormat::from_path(out)
        .ok_or_else(|| anyhow!("--out {}: the file name must end in .csv or .zip", out.display()))?;
    let (from, to) = time_range(from, to)?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let chosen: Vec<ChannelRecord> = if all {
        store.channels()?
    } else {
        let list = channels.unwrap_or_default();
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| find_channel(&store, p))
            .collect::<Result<_>>()?
    };
    if chosen.is_empty() {
        bail!("no channels to export");
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} samples ({per_sec}, {eta} left)")
            .map_err(|e| anyhow!("progress bar: {e}"))?
            .progress_chars("=> "),
    );
    let summary = export(&store, &chosen, from, to, out, format, &mut |done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    eprintln!(
        "exported {} samples of {} channels ({} rows) from {} to {} into {} ({})",
        summary.samples,
        summary.channels,
        summary.rows,
        format_time(from),
        format_time(to),
        summary.path.display(),
        format_bytes(summary.bytes)
    );
    Ok(())
}

fn query_cmd(args: &StoreArgs, channel: &str, from: &str, to: &str, buckets: Option<usize>, json: bool) -> Result<()> {
    let (from, to) = time_range(from, to)?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let ch = find_channel(&store, channel)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed pipe (`| head`) just ends the output.
    let mut ok = true;
    let mut emit = |s: &str| {
        if ok && out.write_all(s.as_bytes()).is_err() {
            ok = false;
        }
    };
    let unit = ch.unit.clone().unwrap_or_default();
    if let Some(n) = buckets {
        if n == 0 || n > 1_000_000 {
            bail!("--buckets must be 1..1000000, got {n}");
        }
        let m4 = store.m4(ch.id, from, to, n)?;
        if json {
            emit(&serde_json::to_string_pretty(&m4)?);
            emit("\n");
        } else {
            let cell = |v: Option<(i64, f64)>| v.map_or("-".to_string(), |(_, x)| format_number(x));
            let rows = m4
                .iter()
                .map(|b| {
                    vec![
                        format_time(b.t_start),
                        b.count.to_string(),
                        cell(b.min),
                        cell(b.max),
                        cell(b.first),
                        cell(b.last),
                        b.specials.to_string(),
                    ]
                })
                .collect();
            emit(&format!("{} [{unit}]\n", ch.path()));
            emit(&render_table(&["BUCKET START", "COUNT", "MIN", "MAX", "FIRST", "LAST", "SPECIALS"], rows));
        }
    } else if json {
        emit("[");
        let mut first = true;
        store.for_each_in_range(ch.id, from, to, |s| {
            let (number, special) = match s.value {
                Value::Number(v) => (serde_json::json!(v), serde_json::Value::Null),
                Value::Special(k) => (serde_json::Value::Null, serde_json::json!(k.label())),
            };
            let item = serde_json::json!({ "t": s.t, "time": format_time(s.t), "value": number, "special": special });
            emit(if first { "\n  " } else { ",\n  " });
            emit(&item.to_string());
            first = false;
        })?;
        emit("\n]\n");
    } else {
        emit(&format!("time_utc                  epoch_ms       {} [{unit}]\n", ch.path()));
        store.for_each_in_range(ch.id, from, to, |s| {
            emit(&format!("{}  {}  {}\n", format_time(s.t), s.t, format_value(s.value)));
        })?;
    }
    let _ = out.flush();
    Ok(())
}
