//! A SCPI conversation over a line connection: the error queue, identity,
//! clock, start/stop and raw commands. Every SCPI-speaking family (generic,
//! Hioki logger, Hioki power meter) drives its instrument through this.

use chrono::{DateTime, Utc};

use super::channel_backoff::ChannelBackoff;
use super::protocol::{self, ScpiError};
use crate::config::{ErrorFormat, InstrumentConfig};
use crate::control::Setting;
use crate::driver::Identity;
use crate::error::{DriverError, Result};
use crate::reading::{Reading, Value};
use crate::registry::ErrorQuerySetting;
use crate::transport::{self, LineConnection};
use tokio::time::Instant;

/// Stop draining the error queue after this many entries (a broken
/// instrument might never say "No error").
const MAX_QUEUED_ERRORS: usize = 32;

#[derive(Debug)]
pub struct ScpiSession {
    conn: LineConnection,
    /// Per-instrument sentinel values (meaning `Invalid`).
    pub sentinels: Vec<f64>,
    /// How the instrument's error queue is read; `None`: it has none, and a
    /// refusal shows only as a missing reply.
    errors: Option<ErrorQuerySetting>,
}

impl ScpiSession {
    /// Connects, clears the status (`*CLS`), sends `init` commands and then
    /// reads the error queue (the family's query, or the instrument's own):
    /// this proves the instrument answers, and an init command it refused is
    /// an `Instrument` error naming it. Without an error queue, `*IDN?`
    /// proves it answers.
    pub async fn open(cfg: &InstrumentConfig, init: &[&str]) -> Result<ScpiSession> {
        let select = cfg.select.as_ref().map(|command| transport::bus_line::Select {
            command: command.trim().to_string(),
            reply: cfg.select_reply.as_ref().map(|r| r.trim().to_string()),
        });
        let conn = transport::connect(&cfg.transport, cfg.family, &cfg.terminator, select).await?;
        let errors = ErrorQuerySetting::of(cfg);
        let mut session = ScpiSession { conn, sentinels: cfg.sentinels.clone(), errors };
        session.conn.send(protocol::CLEAR_STATUS).await?;
        for command in init {
            session.conn.send(command).await?;
        }
        if session.errors.is_none() {
            session.conn.query(protocol::IDN).await?;
            return Ok(session);
        }
        let errors = session.drain_errors().await?;
        if !errors.is_empty() {
            let command = if init.is_empty() { protocol::CLEAR_STATUS.to_string() } else { init.join(";") };
            return Err(instrument_error(command, &errors));
        }
        Ok(session)
    }

    /// Wraps an already open connection (no initialisation), reading errors
    /// with SCPI-99's `:SYSTem:ERRor?` in either reply form.
    pub fn from_connection(conn: LineConnection, sentinels: Vec<f64>) -> ScpiSession {
        let errors = Some(ErrorQuerySetting { query: protocol::ERROR_QUERY.into(), format: ErrorFormat::Either });
        ScpiSession { conn, sentinels, errors }
    }

    pub fn target(&self) -> &str {
        self.conn.target()
    }

    /// Sends a query and returns its reply line. An instrument that stays
    /// silent because it refused the query (SCPI queues an error instead of
    /// answering) gives an `Instrument` error naming the query, and the link
    /// stays usable; real silence stays a `Timeout`.
    pub async fn query(&mut self, command: &str) -> Result<String> {
        match self.conn.query(command).await {
            Err(err @ DriverError::Timeout { .. }) => Err(self.explain(command, err).await),
            other => other,
        }
    }

    /// [`Self::query`] waiting up to `timeout` for the reply (a channel's own
    /// timeout); the error queue is then read with the usual one.
    pub async fn query_within(&mut self, command: &str, timeout: std::time::Duration) -> Result<String> {
        let usual = self.conn.timeout();
        self.conn.set_timeout(timeout);
        let reply = self.conn.query(command).await;
        self.conn.set_timeout(usual);
        match reply {
            Err(err @ DriverError::Timeout { .. }) => Err(self.explain(command, err).await),
            other => other,
        }
    }

    /// The reply timeout of the connection.
    pub fn timeout(&self) -> std::time::Duration {
        self.conn.timeout()
    }

    /// Sends a command that has no reply.
    pub async fn send(&mut self, command: &str) -> Result<()> {
        self.conn.send(command).await
    }

    /// Sends a command, then asks the error queue whether it was accepted.
    pub async fn command_checked(&mut self, command: &str) -> Result<()> {
        self.conn.send(command).await?;
        self.check_errors(command).await
    }

    /// An `Instrument` error naming `after` if the error queue is not empty.
    async fn check_errors(&mut self, after: &str) -> Result<()> {
        let errors = self.drain_errors().await?;
        if errors.is_empty() { Ok(()) } else { Err(instrument_error(after.to_string(), &errors)) }
    }

    /// Reads the error queue until it is empty (bounded), oldest first. A
    /// bare NR1 code is a state, not a queue: read once. Nothing to read
    /// for an instrument without an error query.
    pub async fn drain_errors(&mut self) -> Result<Vec<ScpiError>> {
        let Some(setting) = self.errors.clone() else { return Ok(Vec::new()) };
        let mut errors = Vec::new();
        for _ in 0..MAX_QUEUED_ERRORS {
            let reply = self.conn.query(&setting.query).await?;
            let error =
                protocol::parse_error_reply_as(&reply, setting.format).map_err(|reason| DriverError::BadReply {
                    command: setting.query.clone(),
                    reply: reply.clone(),
                    reason: reason.to_string(),
                })?;
            if error.is_none() {
                break;
            }
            let bare = error.is_bare();
            errors.push(error);
            if bare {
                break;
            }
        }
        Ok(errors)
    }

    /// Turns `err` (from `command`) into an `Instrument` error when the
    /// instrument has queued one; a reply timeout whose error query is
    /// answered with "no error" becomes `NoReply` (the link is alive);
    /// otherwise returns `err` unchanged.
    pub async fn explain(&mut self, command: &str, err: DriverError) -> DriverError {
        match (self.drain_errors().await, err) {
            (Ok(errors), _) if !errors.is_empty() => instrument_error(command.to_string(), &errors),
            (Ok(_), DriverError::Timeout { timeout, .. }) if self.errors.is_some() => {
                DriverError::NoReply { command: command.to_string(), timeout }
            }
            (_, err) => err,
        }
    }

    /// A query whose reply `parse` reads (with the session's sentinels).
    /// `Ok(None)`: the instrument refused it (its error queue says so, or it
    /// stayed silent while still answering), so the caller can find the
    /// refused channel by asking for each alone.
    pub async fn query_values<T, E: std::fmt::Display>(
        &mut self,
        command: &str,
        parse: impl FnOnce(&str, &[f64]) -> std::result::Result<T, E>,
    ) -> Result<Option<T>> {
        match self.query(command).await {
            Ok(reply) => match parse(&reply, &self.sentinels) {
                Ok(values) => Ok(Some(values)),
                Err(reason) => {
                    let err = DriverError::BadReply { command: command.to_string(), reply, reason: reason.to_string() };
                    match self.explain(command, err).await {
                        DriverError::Instrument { .. } => Ok(None),
                        err => Err(err),
                    }
                }
            },
            Err(DriverError::Instrument { .. } | DriverError::NoReply { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// One channel's query on its own: its (unscaled) value, or why the
    /// instrument refused it, which `backoff` then retries less often.
    pub async fn query_one<E: std::fmt::Display>(
        &mut self,
        channel: &str,
        command: &str,
        backoff: &mut ChannelBackoff,
        parse: impl FnOnce(&str, &[f64]) -> std::result::Result<Vec<Value>, E>,
    ) -> Result<Reading> {
        let reply = match self.query(command).await {
            Ok(reply) => reply,
            Err(err @ (DriverError::Instrument { .. } | DriverError::NoReply { .. })) => {
                let problem = err.to_string();
                backoff.refused(channel, problem.clone(), Instant::now());
                return Ok(Reading::failed(channel, problem));
            }
            Err(err) => return Err(err),
        };
        match parse(&reply, &self.sentinels) {
            Ok(values) if values.len() == 1 => {
                backoff.answered(channel);
                Ok(Reading::new(channel, values[0]))
            }
            Ok(values) => {
                let reason = format!("expected 1 value, got {}", values.len());
                let err = DriverError::BadReply { command: command.to_string(), reply, reason };
                Ok(Reading::failed(channel, err.to_string()))
            }
            Err(reason) => {
                let err = DriverError::BadReply { command: command.to_string(), reply, reason: reason.to_string() };
                Ok(Reading::failed(channel, err.to_string()))
            }
        }
    }

    /// `*IDN?`, parsed.
    pub async fn identify(&mut self) -> Result<Identity> {
        let reply = self.query(protocol::IDN).await?;
        let identity = protocol::parse_idn(&reply).map_err(|reason| DriverError::BadReply {
            command: protocol::IDN.into(),
            reply: reply.clone(),
            reason: reason.to_string(),
        })?;
        if let Some(warning) = crate::families::compat::check_compat(&identity) {
            tracing::warn!(target = self.conn.target(), "{warning}");
        }
        Ok(identity)
    }

    /// Sets the instrument clock (UTC) with `:SYSTem:DATE` and `:SYSTem:TIME`.
    pub async fn set_clock(&mut self, now: DateTime<Utc>) -> Result<()> {
        let [date, time] = protocol::clock_commands(now);
        self.conn.send(&date).await?;
        self.conn.send(&time).await?;
        self.check_errors(&format!("{date}; {time}")).await
    }

    pub async fn start(&mut self) -> Result<()> {
        self.command_checked(protocol::START).await
    }

    pub async fn stop(&mut self) -> Result<()> {
        self.command_checked(protocol::STOP).await
    }

    /// Each setting's current value: `<key>?`, its reply without a header.
    pub async fn read_settings(&mut self, keys: &[String]) -> Result<Vec<Setting>> {
        if keys.is_empty() {
            return Err(DriverError::Config(
                "this instrument lists no `settings` to read (add `settings = [\":SENSe:...\"]` to its configuration)"
                    .into(),
            ));
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let reply = self.query(&format!("{key}?")).await?;
            out.push(Setting::new(key.clone(), protocol::strip_header(&reply).trim().to_string()));
        }
        Ok(out)
    }

    /// Sends `<key> <value>` for each setting, each checked against the
    /// error queue, so a refusal names the setting and stops there. Every
    /// value is checked before the first is sent.
    pub async fn write_settings(&mut self, settings: &[Setting]) -> Result<()> {
        for s in settings {
            crate::control::check_setting_value(&s.key, &s.value)?;
        }
        for s in settings {
            self.command_checked(&format!("{} {}", s.key, s.value.trim())).await?;
        }
        Ok(())
    }

    /// The console: a query returns its reply; a command is checked against
    /// the error queue so the operator sees a refusal at once.
    pub async fn raw(&mut self, command: &str) -> Result<Option<String>> {
        let command = command.trim();
        if command.is_empty() {
            return Err(DriverError::Config("raw command is empty".into()));
        }
        if protocol::is_query(command) {
            self.query(command).await.map(Some)
        } else {
            self.command_checked(command).await.map(|()| None)
        }
    }
}

fn instrument_error(command: String, errors: &[ScpiError]) -> DriverError {
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    DriverError::Instrument { command, message }
}
