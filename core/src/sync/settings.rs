//! The `[cloud]` table: the broker the outbox drains to and how, with the
//! checks a hand-built value (the CLI's `cloud login`, tests) may fail. The
//! config file's parser (`config`) reads it and points errors at the line.

use std::path::PathBuf;
use std::time::Duration;

use crate::fmt::GIB;
use meterdeck_wire::i18n::Text;

pub const DEFAULT_MQTT_PORT: u16 = 1883;
pub const DEFAULT_ALLOWANCE_BYTES: u64 = GIB;
pub const DEFAULT_SYNC_WINDOW: usize = 8;
pub const DEFAULT_RESEND_TIMEOUT: Duration = Duration::from_secs(15);
pub const DEFAULT_SEND_INTERVAL: Duration = Duration::from_secs(60);

/// The `[cloud]` table: the broker the outbox drains to and how. The agent's
/// secret is not here: it lives in the OS keychain (`cloud-agent:<agent>`).
#[derive(Clone, Debug, PartialEq)]
pub struct CloudSettings {
    /// MQTT broker host name or address.
    pub host: String,
    pub port: u16,
    /// MQTT over TLS (rustls). The broker's certificate is checked against
    /// `ca_file`, or the system's trusted roots when there is none.
    pub tls: bool,
    /// PEM file of the CA (or self-signed certificate) the broker's
    /// certificate must chain to; only with `tls`.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and its private key, for brokers that require
    /// mutual TLS; both or neither, only with `tls`.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// The agent id the cloud handed out (also the broker user name).
    pub agent: String,
    /// Payload bytes per UTC month; a notice fires at 90 %.
    pub allowance_bytes: u64,
    /// Batches in flight (published, not yet acknowledged).
    pub window: usize,
    /// A batch without an acknowledgement this long is sent again.
    pub resend_timeout: Duration,
    /// Once the backlog is sent, new samples go out this often: each
    /// channel's part costs ~150 header bytes, so a longer interval means
    /// less traffic, a shorter one fresher data in the cloud.
    pub send_interval: Duration,
    /// The cloud's Web API (`http(s)://host:port`): where the licence is
    /// fetched (`GET /api/v1/licence`, HTTP Basic agent id + secret).
    pub api: Option<String>,
    /// The licence authority's public key (`md-ed25519:...`), pinned at
    /// `cloud login --api URL`; licences are verified against it only.
    pub licence_key: Option<String>,
    /// The cloud account the agent belongs to; a licence of another account
    /// is refused. Unset: the account of the first verified licence.
    pub account: Option<String>,
}

impl CloudSettings {
    pub fn new(host: impl Into<String>, port: u16, agent: impl Into<String>) -> CloudSettings {
        CloudSettings {
            host: host.into(),
            port,
            tls: false,
            ca_file: None,
            client_cert: None,
            client_key: None,
            agent: agent.into(),
            allowance_bytes: DEFAULT_ALLOWANCE_BYTES,
            window: DEFAULT_SYNC_WINDOW,
            resend_timeout: DEFAULT_RESEND_TIMEOUT,
            send_interval: DEFAULT_SEND_INTERVAL,
            api: None,
            licence_key: None,
            account: None,
        }
    }

    /// `host:port`, as status shows it.
    pub fn broker(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The `[cloud]` table as it would be written to a config file.
    pub fn to_toml(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("host".into(), toml::Value::String(self.host.clone()));
        t.insert("port".into(), toml::Value::Integer(i64::from(self.port)));
        t.insert("tls".into(), toml::Value::Boolean(self.tls));
        for (key, path) in
            [("ca_file", &self.ca_file), ("client_cert", &self.client_cert), ("client_key", &self.client_key)]
        {
            if let Some(p) = path {
                t.insert(key.into(), toml::Value::String(p.display().to_string()));
            }
        }
        t.insert("agent".into(), toml::Value::String(self.agent.clone()));
        t.insert("monthly_allowance".into(), toml::Value::String(format!("{} B", self.allowance_bytes)));
        t.insert("window".into(), toml::Value::Integer(self.window as i64));
        t.insert(
            "resend_timeout".into(),
            toml::Value::String(humantime::format_duration(self.resend_timeout).to_string()),
        );
        t.insert(
            "send_interval".into(),
            toml::Value::String(humantime::format_duration(self.send_interval).to_string()),
        );
        for (key, value) in [("api", &self.api), ("licence_key", &self.licence_key), ("account", &self.account)] {
            if let Some(v) = value {
                t.insert(key.into(), toml::Value::String(v.clone()));
            }
        }
        t
    }

    /// Checks what a hand-built value (CLI, tests) may get wrong.
    pub fn validate(&self) -> Result<(), CloudFieldError> {
        let err = |field: &'static str, text: Text| Err(CloudFieldError::new(field, text));
        let got = |key: &str, v: String| Text::new(key).arg("got", v);
        if self.host.trim().is_empty() {
            return err("host", Text::new("form-cloud-host"));
        }
        if self.port == 0 {
            return err("port", Text::new("form-cloud-port"));
        }
        for (key, path) in
            [("ca_file", &self.ca_file), ("client_cert", &self.client_cert), ("client_key", &self.client_key)]
        {
            if path.is_some() && !self.tls {
                return err(key, Text::new("form-cloud-tls-only").arg("key", key));
            }
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return err(key, Text::new("form-cloud-pem-file").arg("key", key));
            }
        }
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => {
                return err("client_key", Text::new("form-cloud-client-key"));
            }
            (None, Some(_)) => {
                return err("client_cert", Text::new("form-cloud-client-cert"));
            }
            _ => {}
        }
        if !super::wire::valid_agent_id(&self.agent) {
            return err("agent", got("form-cloud-agent", format!("{:?}", self.agent)));
        }
        if self.allowance_bytes == 0 {
            return err("monthly_allowance", Text::new("form-cloud-allowance-zero"));
        }
        if !(1..=1000).contains(&self.window) {
            return err("window", got("form-cloud-window", self.window.to_string()));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.resend_timeout) {
            let d = humantime::format_duration(self.resend_timeout).to_string();
            return err("resend_timeout", got("form-cloud-resend-timeout", d));
        }
        if !(Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&self.send_interval) {
            let d = humantime::format_duration(self.send_interval).to_string();
            return err("send_interval", got("form-cloud-send-interval", d));
        }
        if let Some(api) = &self.api {
            let ok = api.starts_with("http://") || api.starts_with("https://");
            if !ok || api.contains(char::is_whitespace) || api.len() < 10 {
                return err("api", got("form-cloud-api", format!("{api:?}")));
            }
        }
        if let Some(key) = &self.licence_key
            && let Err(e) = meterdeck_wire::licence::parse_public_key(key)
        {
            return err("licence_key", Text::new("form-cloud-licence-key").arg("reason", e.to_string()));
        }
        if let Some(a) = &self.account
            && (a.trim().is_empty() || a.len() > 128 || a.chars().any(char::is_control))
        {
            return err("account", Text::new("form-cloud-account"));
        }
        Ok(())
    }
}

/// A `[cloud]` value that cannot work: the field (`host`, `window`, ...)
/// and a message naming `cloud.<field>` and what it must be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CloudFieldError {
    pub field: &'static str,
    /// `text` in English.
    pub message: String,
    /// The message in any language (locales/*/forms.ftl).
    pub text: Text,
}

impl CloudFieldError {
    pub fn new(field: &'static str, text: Text) -> CloudFieldError {
        CloudFieldError { field, message: text.to_string(), text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_before_in_english_and_are_translated() {
        let ok = CloudSettings::new("broker", DEFAULT_MQTT_PORT, "site-a");
        ok.validate().unwrap();
        let with = |f: &dyn Fn(&mut CloudSettings)| {
            let mut c = ok.clone();
            f(&mut c);
            c.validate().unwrap_err()
        };
        let errors = [
            with(&|c| c.host = " ".into()),
            with(&|c| c.port = 0),
            with(&|c| c.ca_file = Some("ca.pem".into())),
            with(&|c| c.agent = "a b".into()),
            with(&|c| c.window = 0),
            with(&|c| c.resend_timeout = Duration::from_secs(7200)),
            with(&|c| c.api = Some("ftp://x".into())),
        ];
        let english = [
            "`cloud.host` must name the MQTT broker",
            "`cloud.port` must be 1..65535",
            "`cloud.ca_file` is only used over TLS: add `tls = true` (or remove it)",
            "`cloud.agent` must be the agent id the cloud handed out: 1-64 of A-Z a-z 0-9 _ -, got \"a b\"",
            "`cloud.window` must be 1..1000 batches, got 0",
            "`cloud.resend_timeout` must be between 1s and 1h, got 2h",
            "`cloud.api` must be the cloud's Web API, http(s)://host:port, got \"ftp://x\"",
        ];
        for (e, en) in errors.iter().zip(english) {
            assert_eq!((e.message.as_str(), e.text.to_string()), (en, en.to_string()));
            assert_ne!(e.text.render("de"), en);
            assert_ne!(e.text.render("ja"), en);
        }
        assert_eq!(errors[2].field, "ca_file");
        assert_eq!(errors[4].text.render("de"), "`cloud.window` muss 1..1000 Pakete sein, angegeben: 0");
        assert_eq!(errors[0].text.render("ja"), "`cloud.host` には MQTT ブローカーを指定してください");
    }
}
