//! One error type for every driver, transport and protocol failure. Each
//! variant carries enough to tell a person what went wrong and where.

use std::time::Duration;

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

pub type Result<T, E = DriverError> = std::result::Result<T, E>;
