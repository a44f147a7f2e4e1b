//! `meterdeck-agent cloud login | logout | status`: the agent's broker
//! credentials. The secret goes only to the OS keychain (entry
//! `cloud-agent:<agent>`); the `[cloud]` section (no secret in it) is
//! added to the config file when asked, else printed for the user.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use meterdeck_core::agent::now_ms;
use meterdeck_core::config::{AgentConfig, CloudSettings, DEFAULT_MQTT_PORT};
use meterdeck_core::notify::{KeyringSecrets, SecretStore};
use meterdeck_core::store::Store;
use meterdeck_core::sync::secret_entry;
use meterdeck_core::sync::wire::valid_agent_id;

use super::{StoreArgs, runtime};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: CloudAction,
}

#[derive(clap::Subcommand)]
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
        /// The cloud's Web API, http(s)://HOST:PORT: its licence key is fetched once and pinned
        /// (`[cloud] licence_key`); the agent fetches its licence there.
        #[arg(long, value_name = "URL")]
        api: Option<String>,
        /// The cloud account of this agent (a licence of another account is refused).
        #[arg(long, value_name = "ID")]
        account: Option<String>,
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

pub fn run(args: Args) -> Result<()> {
    cloud_cmd(args.action)
}

fn cloud_cmd(action: CloudAction) -> Result<()> {
    match action {
        CloudAction::Login {
            agent,
            broker,
            config,
            check,
            tls,
            ca_file,
            client_cert,
            client_key,
            send_interval,
            api,
            account,
        } => {
            let settings = login_settings(&agent, &broker).map_err(|e| anyhow!(e))?;
            let tls = LoginTls { tls, ca_file, client_cert, client_key };
            let mut settings = with_tls(settings, &tls).map_err(|e| anyhow!(e))?;
            if let Some(every) = send_interval {
                settings.send_interval = every;
                settings.validate().map_err(|e| anyhow!("--send-interval: {e}"))?;
            }
            settings.account = account;
            settings.validate().map_err(|e| anyhow!("--account: {e}"))?;
            if let Some(api) = api {
                pin_licence_key(&mut settings, &api)?;
            }
            // Check the file before asking for the secret.
            let text = match &config {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let secret = read_secret(&agent).map_err(|e| anyhow!(e))?;
            if settings.api.is_some() && settings.account.is_none() {
                pin_account(&mut settings, &agent, &secret)?;
            }
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
                    let out = with_cloud_section(&text, &origin, &settings).map_err(|e| anyhow!(e))?;
                    meterdeck_core::desk::write_atomic(&path, &out)?;
                    println!("[cloud] written to {origin}; restart the agent to start syncing");
                }
                _ => {
                    println!("add this to the agent's config file (or run again with --config FILE):\n");
                    print!("{}", section_text(&settings));
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

/// Fetches the cloud's licence key once (`GET /api/v1/licence/key`) and
/// pins it with the API address in the settings.
fn pin_licence_key(settings: &mut CloudSettings, api: &str) -> Result<()> {
    let api = api.trim().trim_end_matches('/').to_string();
    settings.api = Some(api.clone());
    settings.validate().map_err(|e| anyhow!("--api: {e}"))?;
    let key = runtime()?.block_on(async {
        let http = meterdeck_core::licence::fetch::client(settings.ca_file.as_deref())?;
        meterdeck_core::licence::fetch::key(&http, &api).await
    });
    let key = key.map_err(|e| anyhow!("--api {api}: {e}; nothing stored"))?;
    let id = meterdeck_core::licence::parse_public_key(&key).map(|k| meterdeck_core::licence::key_id(&k));
    println!("licence key of {api} pinned: {}", id.unwrap_or_default());
    settings.licence_key = Some(key);
    Ok(())
}

/// Without `--account`, asks the cloud (as this agent, with its secret) for
/// its licence and pins the account it names: otherwise, until the first
/// fetch, a licence file of another account signed by the same cloud could
/// be installed by hand.
fn pin_account(settings: &mut CloudSettings, agent: &str, secret: &str) -> Result<()> {
    let (Some(api), Some(key)) = (settings.api.clone(), settings.licence_key.clone()) else { return Ok(()) };
    let trust = meterdeck_core::licence::Trust::from_text(&key, None).map_err(|e| anyhow!(e))?;
    let text = runtime()?.block_on(async {
        let http = meterdeck_core::licence::fetch::client(settings.ca_file.as_deref())?;
        let auth = meterdeck_core::licence::fetch::Auth::Agent { id: agent.to_string(), secret: secret.to_string() };
        meterdeck_core::licence::fetch::licence(&http, &api, &auth).await
    });
    let text = text.map_err(|e| anyhow!("--api {api}: {e}; nothing stored (or give --account)"))?;
    let doc = meterdeck_core::licence::verify(&text, &trust, now_ms())
        .map_err(|e| anyhow!("--api {api}: its licence for agent {agent}: {e}; nothing stored"))?;
    println!("agent {agent} belongs to account {}: pinned", doc.account);
    settings.account = Some(doc.account);
    settings.validate().map_err(|e| anyhow!("the account the cloud named: {e}"))?;
    Ok(())
}

/// `HOST:PORT`, `HOST` (port 1883) or `[v6]:PORT`.
pub fn parse_broker(text: &str) -> Result<(String, u16), String> {
    let t = text.trim();
    let bad = || format!("--broker {text:?}: expected HOST:PORT, e.g. mqtt.example.com:1883");
    if t.is_empty() {
        return Err(bad());
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(bad)?;
        match tail.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if tail.is_empty() => (h, None),
            None => return Err(bad()),
        }
    } else {
        match t.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err(format!("--broker {text:?}: write IPv6 addresses as [ADDR]:PORT"));
            }
            Some((h, p)) => (h, Some(p)),
            None => (t, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    let port = match port {
        None => DEFAULT_MQTT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("--broker {text:?}: `{p}` is not a TCP port"))?,
    };
    Ok((host.to_string(), port))
}

/// The settings a login makes, checked.
pub fn login_settings(agent: &str, broker: &str) -> Result<CloudSettings, String> {
    if !valid_agent_id(agent) {
        return Err(format!("--agent {agent:?}: an agent id is 1-64 of A-Z a-z 0-9 _ - (as the cloud handed it out)"));
    }
    let (host, port) = parse_broker(broker)?;
    let c = CloudSettings::new(host, port, agent);
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

/// `cloud login --tls [--ca-file F] [--client-cert F --client-key F]`.
#[derive(Clone, Debug, Default)]
pub struct LoginTls {
    pub tls: bool,
    pub ca_file: Option<std::path::PathBuf>,
    pub client_cert: Option<std::path::PathBuf>,
    pub client_key: Option<std::path::PathBuf>,
}

/// Adds the TLS options to a login's settings (a file option implies TLS).
/// The files are read now, before the secret is asked for; their paths are
/// made absolute, since the agent may run from another directory.
pub fn with_tls(mut c: CloudSettings, t: &LoginTls) -> Result<CloudSettings, String> {
    let abs = |p: &Option<std::path::PathBuf>, flag: &str| -> Result<_, String> {
        p.as_ref().map(|p| std::path::absolute(p).map_err(|e| format!("{flag} {}: {e}", p.display()))).transpose()
    };
    c.ca_file = abs(&t.ca_file, "--ca-file")?;
    c.client_cert = abs(&t.client_cert, "--client-cert")?;
    c.client_key = abs(&t.client_key, "--client-key")?;
    c.tls = t.tls || c.ca_file.is_some() || c.client_cert.is_some() || c.client_key.is_some();
    let flag = |m: String| {
        m.replace("`cloud.ca_file`", "--ca-file")
            .replace("`cloud.client_cert`", "--client-cert")
            .replace("`cloud.client_key`", "--client-key")
    };
    c.validate().map_err(|e| flag(e.to_string()))?;
    if c.tls {
        meterdeck_core::sync::tls::client_config(&c).map_err(|e| flag(e.to_string()))?;
    }
    Ok(c)
}

/// The `[cloud]` section as TOML text.
pub fn section_text(c: &CloudSettings) -> String {
    let mut doc = toml::Table::new();
    doc.insert("cloud".into(), toml::Value::Table(c.to_toml()));
    toml::to_string(&doc).unwrap_or_default()
}

/// The config text with `c` as its `[cloud]` section: appended when there
/// is none (the rest of the file, comments included, stays as it is),
/// else the document is rewritten with the new section (comments are
/// lost then). The result is checked like the agent loads it.
pub fn with_cloud_section(text: &str, origin: &str, c: &CloudSettings) -> Result<String, String> {
    let mut doc: toml::Table = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let out = if doc.contains_key("cloud") {
        doc.insert("cloud".into(), toml::Value::Table(c.to_toml()));
        toml::to_string(&doc).map_err(|e| format!("{origin}: cannot write TOML: {e}"))?
    } else {
        let mut t = text.to_string();
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str("\n# Cloud sync (written by `meterdeck-agent cloud login`; the secret is in the OS keychain).\n");
        t.push_str(&section_text(c));
        t
    };
    AgentConfig::parse(&out, origin).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The secret from stdin: one line when piped, or typed at a prompt
/// without echo on a terminal.
pub fn read_secret(agent: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        eprint!("secret of agent {agent}: ");
        let _ = std::io::stderr().flush();
        let echo = EchoOff::new();
        let mut s = String::new();
        let r = stdin.lock().read_line(&mut s);
        drop(echo);
        eprintln!();
        r.map_err(|e| format!("cannot read the secret: {e}"))?;
        s
    } else {
        let mut s = String::new();
        stdin.lock().read_line(&mut s).map_err(|e| format!("cannot read the secret from stdin: {e}"))?;
        s
    };
    let secret = line.trim_end_matches(['\r', '\n']).to_string();
    if secret.trim().is_empty() {
        return Err("no secret given (type it at the prompt or pipe it on stdin)".into());
    }
    if secret.len() > 1024 {
        return Err("the secret is longer than 1024 bytes; is it the right one?".into());
    }
    Ok(secret)
}

/// Terminal echo off while alive (best effort: not a terminal, no change).
struct EchoOff(Option<rustix::termios::Termios>);

impl EchoOff {
    fn new() -> EchoOff {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let Ok(old) = tcgetattr(&stdin) else { return EchoOff(None) };
        let mut quiet = old.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        match tcsetattr(&stdin, OptionalActions::Now, &quiet) {
            Ok(()) => EchoOff(Some(old)),
            Err(_) => EchoOff(None),
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(old) = self.0.take() {
            let _ = rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, &old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_parse_with_clear_errors() {
        assert_eq!(parse_broker("mqtt.example.com:8883").unwrap(), ("mqtt.example.com".into(), 8883));
        assert_eq!(parse_broker("10.0.0.5").unwrap(), ("10.0.0.5".into(), 1883));
        assert_eq!(parse_broker("[::1]:1884").unwrap(), ("::1".into(), 1884));
        assert!(parse_broker("host:0").unwrap_err().contains("not a TCP port"));
        assert!(parse_broker("host:99999").unwrap_err().contains("not a TCP port"));
        assert!(parse_broker("::1").unwrap_err().contains("[ADDR]"));
        assert!(parse_broker("").is_err());
        assert!(parse_broker("mqtt://x:1").is_err());
    }

    #[test]
    fn login_checks_the_agent_id() {
        assert!(login_settings("site-a_1", "h:1").is_ok());
        assert!(login_settings("a/b", "h:1").unwrap_err().contains("--agent"));
        assert!(login_settings("", "h:1").is_err());
    }

    #[test]
    fn login_tls_options_imply_tls_and_name_the_flag() {
        let c = login_settings("site-a", "h:8883").unwrap();
        let plain = with_tls(c.clone(), &LoginTls::default()).unwrap();
        assert!(!plain.tls);
        let t = with_tls(c.clone(), &LoginTls { tls: true, ..LoginTls::default() }).unwrap();
        assert!(t.tls && t.ca_file.is_none());
        let e = with_tls(c.clone(), &LoginTls { ca_file: Some("no-such-ca.pem".into()), ..LoginTls::default() })
            .unwrap_err();
        assert!(e.contains("--ca-file") && e.contains("no-such-ca.pem"), "{e}");
        let e = with_tls(c, &LoginTls { client_cert: Some("c.pem".into()), ..LoginTls::default() }).unwrap_err();
        assert!(e.contains("--client-key"), "{e}");
    }

    #[test]
    fn the_section_is_appended_keeping_comments_and_loads() {
        let c = login_settings("site-a", "mqtt.example.com:1883").unwrap();
        let text = "# my site\n[agent]\nname = \"x\" # keep me\n";
        let out = with_cloud_section(text, "a.toml", &c).unwrap();
        assert!(out.starts_with(text));
        let cfg = AgentConfig::parse(&out, "a.toml").unwrap();
        assert_eq!(cfg.cloud, Some(c.clone()));
        // Again with another agent: replaced, still valid.
        let c2 = login_settings("site-b", "other:1884").unwrap();
        let again = with_cloud_section(&out, "a.toml", &c2).unwrap();
        assert_eq!(AgentConfig::parse(&again, "a.toml").unwrap().cloud, Some(c2));
        assert!(with_cloud_section("[agent\n", "a.toml", &c).unwrap_err().contains("a.toml"));
    }
}
