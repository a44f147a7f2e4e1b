//! One error type for every driver, transport and protocol failure. Each
//! variant carries enough to tell a person what went wrong and where.

use std::time::Duration;

use meterdeck_wire::i18n::Text;

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot connect to {target}: {source}")]
    Connect { target: String, source: std::io::Error },
    #[error("{target}: no reply within {timeout:?}")]
    Timeout { target: String, timeout: Duration },
    /// A reply began but stopped before its end of line: the instrument (or
    /// the line) is stuck, so the link is dropped and made again.
    #[error("{target}: the reply stopped mid-line after {bytes} bytes (\"{received}\"), nothing more within {}", humantime::format_duration(*timeout))]
    Stalled { target: String, timeout: Duration, received: String, bytes: usize },
    #[error("{target}: connection closed by the instrument")]
    Closed { target: String },
    #[error("{target}: i/o error: {source}")]
    Io { target: String, source: std::io::Error },
    /// The instrument answered, but not with something we understand.
    #[error("bad reply to `{command}`: {reason} (reply: \"{}\")", crate::text::quote_reply(reply))]
    BadReply { command: String, reply: String, reason: String },
    /// The instrument reported an error in its error queue.
    #[error("instrument error after `{command}`: {}", crate::text::quote_reply(message))]
    Instrument { command: String, message: String },
    /// A query got no reply while the instrument still answers otherwise
    /// (its error queue was read, but was empty): that query's problem, not
    /// the link's.
    #[error("no reply to `{command}` within {} (the instrument answers other queries)", humantime::format_duration(*timeout))]
    NoReply { command: String, timeout: Duration },
    #[error("{0}")]
    Modbus(String),
    /// A capability this family or model does not have. Never a panic.
    #[error("{family} does not support {capability}")]
    Unsupported { family: &'static str, capability: &'static str },
    /// Settings pushed to an instrument did not read back as pushed.
    #[error("settings not as pushed when read back: {0}")]
    NotVerified(String),
    /// A configuration the driver cannot work with (names the field).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl DriverError {
    /// True for errors after which the connection should be dropped and
    /// re-established (as opposed to a bad reply on a healthy link).
    pub fn is_link_failure(&self) -> bool {
        matches!(
            self,
            DriverError::Connect { .. }
                | DriverError::Timeout { .. }
                | DriverError::Stalled { .. }
                | DriverError::Closed { .. }
                | DriverError::Io { .. }
        )
    }
}

impl DriverError {
    /// The error as a translatable message (keys `driver.*` in
    /// locales/*/ui.ftl); its English reads exactly as the Display text.
    /// What the OS or the instrument said is quoted as it came.
    pub fn text(&self) -> Text {
        let quoted = crate::text::quote_reply;
        match self {
            DriverError::Connect { target, source } => {
                Text::new("driver.connect").arg("target", target).arg("reason", source.to_string())
            }
            DriverError::Timeout { target, timeout } => {
                Text::new("driver.timeout").arg("target", target).arg("timeout", format!("{timeout:?}"))
            }
            DriverError::Stalled { target, timeout, received, bytes } => Text::new("driver.stalled")
                .arg("target", target)
                .arg("bytes", bytes.to_string())
                .arg("received", received)
                .arg("timeout", humantime::format_duration(*timeout).to_string()),
            DriverError::Closed { target } => Text::new("driver.closed").arg("target", target),
            DriverError::Io { target, source } => {
                Text::new("driver.io").arg("target", target).arg("reason", source.to_string())
            }
            DriverError::BadReply { command, reply, reason } => {
                Text::new("driver.badReply").arg("command", command).arg("reason", reason).arg("reply", quoted(reply))
            }
            DriverError::Instrument { command, message } => {
                Text::new("driver.instrument").arg("command", command).arg("message", quoted(message))
            }
            DriverError::NoReply { command, timeout } => Text::new("driver.noReply")
                .arg("command", command)
                .arg("timeout", humantime::format_duration(*timeout).to_string()),
            DriverError::Modbus(m) => Text::new("driver.modbus").arg("message", m),
            DriverError::Unsupported { family, capability } => {
                Text::new("driver.unsupported").arg("family", *family).arg("capability", *capability)
            }
            DriverError::NotVerified(what) => Text::new("driver.notVerified").arg("what", what),
            DriverError::Config(what) => Text::new("driver.config").arg("what", what),
        }
    }
}

pub type Result<T, E = DriverError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<DriverError> {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let t = Duration::from_millis(2500);
        vec![
            DriverError::Connect { target: "10.0.0.5:5025".into(), source: io() },
            DriverError::Timeout { target: "10.0.0.5:5025".into(), timeout: t },
            DriverError::Stalled { target: "/dev/ttyUSB0".into(), timeout: t, received: "+1.2".into(), bytes: 4 },
            DriverError::Closed { target: "10.0.0.5:5025".into() },
            DriverError::Io { target: "10.0.0.5:5025".into(), source: io() },
            DriverError::BadReply { command: "MEAS?".into(), reply: "xyz\r".into(), reason: "not a number".into() },
            DriverError::Instrument { command: "CONF".into(), message: "-113,\"Undefined header\"".into() },
            DriverError::NoReply { command: "MEAS?".into(), timeout: t },
            DriverError::Modbus("illegal data address".into()),
            DriverError::Unsupported { family: "hioki-lr8450", capability: "set clock" },
            DriverError::NotVerified("interval 1 s reads 2 s".into()),
            DriverError::Config("`port` must be 1..65535".into()),
        ]
    }

    #[test]
    fn the_english_text_reads_as_the_display_and_german_is_translated() {
        for e in all() {
            let text = e.text();
            assert_eq!(text.render("en"), e.to_string(), "{}", text.key);
            assert!(meterdeck_wire::i18n::has(&text.key), "{} is in locales/en/ui.ftl", text.key);
            // Modbus carries the library's words only.
            if !matches!(e, DriverError::Modbus(_)) {
                assert_ne!(text.render("de"), e.to_string(), "{} in German", text.key);
            }
        }
    }
}
