//! One site for the cloud e2e tests: a `meterdeck-agent` with its own
//! keychain session (a real gnome-keyring on a private D-Bus holding the
//! agent's cloud secret), its config file and its data directory. Shared
//! by cloud_sync, cloud_alarms and remote_console (which builds its own
//! config and logs in with more flags, so the fields are public).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cloud::agent_login;
use crate::notify_peers::Session;
use crate::{Proc, agent, write_agent_config};

pub struct Site {
    pub session: Session,
    pub config: PathBuf,
    pub data: PathBuf,
}

impl Site {
    /// A site polling `instruments` every second, `extra_config` appended to
    /// its config (alarms, ...), logged in to the cloud's broker on
    /// `broker_port` as `agent_id` and sending every second. The secret goes
    /// to the keychain, never to the config.
    pub fn new(
        dir: &Path,
        agent_id: &str,
        secret: &str,
        broker_port: u16,
        instruments: &[meterdeck_drivers::InstrumentConfig],
        extra_config: &str,
    ) -> Site {
        let mut session = Session::start();
        session.start_keyring();
        let config = write_agent_config(dir, "name = \"site-a\"\npoll_interval = \"1s\"", instruments);
        if !extra_config.is_empty() {
            let mut text = std::fs::read_to_string(&config).unwrap();
            text.push_str(extra_config);
            std::fs::write(&config, text).unwrap();
        }
        let site = Site { session, config, data: dir.join("data") };
        let extra = ["--config", site.config.to_str().unwrap(), "--send-interval", "1s"];
        agent_login(&site.session.address, agent_id, secret, broker_port, &extra).expect("cloud login");
        let text = std::fs::read_to_string(&site.config).unwrap();
        assert!(
            text.contains("[cloud]") && !text.contains(secret),
            "the config holds the [cloud] section, never the secret"
        );
        assert!(text.contains("send_interval = \"1s\""), "{text}");
        site
    }

    /// `meterdeck-agent ARGS` on this site's keychain session.
    pub fn agent(&self, args: &[&str]) -> std::process::Command {
        let mut c = agent(args);
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.session.address);
        c
    }

    /// `meterdeck-agent run` on this site's config and data.
    pub fn run(&self) -> Proc {
        let args = ["run", "--config", self.config.to_str().unwrap(), "--data-dir", self.data.to_str().unwrap()];
        Proc::spawn("meterdeck-agent", &mut self.agent(&args))
    }

    pub fn store_path(&self) -> PathBuf {
        self.data.join("meterdeck.db")
    }

    /// The agent's cache, read-only (the agent may be running).
    pub fn store(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.store_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("agent store")
    }

    /// Records still waiting for the cloud.
    pub fn records_waiting(&self) -> i64 {
        self.store().query_row("SELECT count(*) FROM record_outbox", [], |r| r.get(0)).unwrap_or(-1)
    }

    /// A setting of the agent's store.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.store().query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| r.get(0)).ok()
    }

    /// `meterdeck-agent cloud status --json`.
    pub fn sync_status(&self) -> Value {
        let out = self
            .agent(&[
                "cloud",
                "status",
                "--config",
                self.config.to_str().unwrap(),
                "--data-dir",
                self.data.to_str().unwrap(),
                "--json",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Waits until the agent says nothing is waiting for the cloud.
    pub fn wait_drained(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.sync_status();
            if s["backlog_samples"].as_u64() == Some(0) && s["last_ack_ms"].as_i64().is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "the outbox did not drain within {timeout:?}: {s}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}
