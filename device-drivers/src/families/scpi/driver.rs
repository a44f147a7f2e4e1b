//! Generic SCPI driver: each channel is the query the configuration gives
//! it, sent on its own line (generic instruments may not accept compound
//! lines), with the channel's scale and offset applied. A channel whose
//! query fails is a `Reading::failed` while the others keep their values;
//! a refused query is retried less often (`channel_backoff`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::channel_backoff::ChannelBackoff;
use super::protocol;
use super::session::ScpiSession;
use crate::config::{ChannelConfig, Family, InstrumentConfig};
use crate::driver::{ChannelInfo, Driver, Identity};
use crate::error::{DriverError, Result};
use crate::reading::Reading;
use tokio::time::Instant;

#[derive(Debug)]
pub struct ScpiDriver {
    session: ScpiSession,
    /// Setting headers a settings profile covers.
    settings: Vec<String>,
    id: String,
    channels: Vec<ChannelConfig>,
    backoff: ChannelBackoff,
}

impl ScpiDriver {
    /// Connects, sends `*CLS` and drains the error queue.
    pub async fn connect(cfg: &InstrumentConfig) -> Result<ScpiDriver> {
        for c in &cfg.channels {
            if c.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
                return Err(DriverError::Config(format!(
                    "instrument `{}`: channel `{}` needs a `query` (generic SCPI)",
                    cfg.id, c.id
                )));
            }
        }
        let session = ScpiSession::open(cfg, &[]).await?;
        Ok(ScpiDriver {
            session,
            settings: crate::control::setting_keys(cfg, &[]),
            id: cfg.id.clone(),
            channels: cfg.channels.clone(),
            backoff: ChannelBackoff::default(),
        })
    }

    /// One channel's reading: its value, or why the instrument gave none
    /// (refused query, no reply while the link is alive). Link failures and
    /// unreadable replies are errors.
    async fn read_channel(&mut self, channel: &ChannelConfig) -> Result<Reading> {
        let id = &channel.id;
        if let Some(problem) = self.backoff.waiting(id, Instant::now()) {
            return Ok(Reading::failed(id.clone(), problem));
        }
        let query = channel.query.as_deref().unwrap_or_default().trim();
        let timeout = channel.timeout.unwrap_or_else(|| self.session.timeout());
        let reply = match self.session.query_within(query, timeout).await {
            Ok(reply) => reply,
            Err(err @ (DriverError::Instrument { .. } | DriverError::NoReply { .. })) => {
                let problem = err.to_string();
                let pause = self.backoff.refused(id, problem.clone(), Instant::now());
                tracing::debug!(instrument = %self.id, channel = %id, "{problem}; next try in {pause:?}");
                return Ok(Reading::failed(id.clone(), problem));
            }
            Err(err) => return Err(err),
        };
        let value = protocol::parse_value(&reply, &self.session.sentinels).map_err(|reason| DriverError::BadReply {
            command: query.to_string(),
            reply: reply.clone(),
            reason: reason.to_string(),
        })?;
        self.backoff.answered(id);
        Ok(Reading::new(id.clone(), protocol::scaled(value, channel.scale, channel.offset)))
    }

    fn channel(&self, id: &str) -> Result<&ChannelConfig> {
        self.channels
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| DriverError::Config(format!("instrument `{}` has no channel `{id}`", self.id)))
    }
}

#[async_trait]
impl Driver for ScpiDriver {
    fn family(&self) -> Family {
        crate::families::scpi::FAMILY
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        crate::config::ChannelConfig::infos(&self.channels)
    }

    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>> {
        let mut readings = Vec::with_capacity(channels.len());
        // Replies that are no value. When every channel's is, the instrument
        // talks nonsense as a whole: the poll fails, as one problem.
        let mut nonsense = Vec::new();
        for id in channels {
            let channel = self.channel(id)?.clone();
            match self.read_channel(&channel).await {
                Ok(reading) => readings.push(reading),
                Err(err @ DriverError::BadReply { .. }) => {
                    readings.push(Reading::failed(id.clone(), err.to_string()));
                    nonsense.push(err);
                }
                Err(err) => return Err(err),
            }
        }
        if !channels.is_empty() && nonsense.len() == channels.len() {
            return Err(nonsense.swap_remove(0));
        }
        Ok(readings)
    }

    async fn identify(&mut self) -> Result<Identity> {
        self.session.identify().await
    }

    async fn set_clock(&mut self, now: DateTime<Utc>) -> Result<()> {
        self.session.set_clock(now).await
    }

    async fn start(&mut self) -> Result<()> {
        self.session.start().await
    }

    async fn stop(&mut self) -> Result<()> {
        self.session.stop().await
    }

    async fn read_settings(&mut self) -> Result<Vec<crate::control::Setting>> {
        self.session.read_settings(&self.settings).await
    }

    async fn write_settings(&mut self, settings: &[crate::control::Setting]) -> Result<()> {
        self.session.write_settings(settings).await
    }

    async fn raw(&mut self, command: &str) -> Result<Option<String>> {
        self.session.raw(command).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::{SpecialKind, Value};
    use crate::transport::test_peer::{self, Answer, Reply};

    fn channel(id: &str, query: &str, scale: f64, offset: f64) -> ChannelConfig {
        ChannelConfig { query: Some(query.into()), scale, offset, ..ChannelConfig::new(id) }
    }

    fn dmm(command: &str) -> Answer {
        match command.to_ascii_uppercase().as_str() {
            "MEAS:VOLT:DC?" => Answer::Reply("+1.50000E+00".into()),
            "MEAS:RES?" => Answer::Reply("+9.9E+37".into()),
            "MEAS:GARBAGE?" => Answer::Reply("#$%garbage".into()),
            "CONF:VOLT:DC" => Answer::Accept,
            _ => Answer::Refuse(-113, "Undefined header"),
        }
    }

    async fn connect(port: u16, channels: Vec<ChannelConfig>) -> Result<ScpiDriver> {
        ScpiDriver::connect(&test_peer::tcp_config(crate::families::scpi::FAMILY, port, channels)).await
    }

    #[tokio::test]
    async fn reads_identifies_and_scales() {
        let peer = test_peer::spawn(test_peer::scpi("MeterdeckSim,SCPI-1,SIM01,1.0", dmm)).await;
        let mut d = connect(
            peer.addr.port(),
            vec![channel("v", "MEAS:VOLT:DC?", 2.0, 1.0), channel("r", "MEAS:RES?", 1.0, 0.0)],
        )
        .await
        .unwrap();
        assert_eq!(d.identify().await.unwrap().model, "SCPI-1");
        assert_eq!(d.channels().len(), 2);
        let r = d.read(&["v".into(), "r".into()]).await.unwrap();
        assert_eq!(r[0], Reading::new("v", Value::Number(4.0)));
        assert_eq!(r[1].value, Value::Special(SpecialKind::OverRange));
        d.set_clock(Utc::now()).await.unwrap();
        d.start().await.unwrap();
        d.stop().await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_query_fails_only_its_channel_and_is_retried_less_often() {
        let peer = test_peer::spawn(test_peer::scpi("A,B,C,D", dmm)).await;
        let mut d = connect(
            peer.addr.port(),
            vec![channel("bad", "MEAS:FOO?", 1.0, 0.0), channel("v", "MEAS:VOLT:DC?", 1.0, 0.0)],
        )
        .await
        .unwrap();
        let ids = ["bad".to_string(), "v".to_string()];
        let r = d.read(&ids).await.unwrap();
        let problem = "instrument error after `MEAS:FOO?`: -113,\"Undefined header\"";
        assert_eq!(r[0], Reading::failed("bad", problem));
        assert_eq!(r[1], Reading::new("v", Value::Number(1.5)));
        // Within the pause the refused query is not sent: no reply timeout is waited out.
        let started = std::time::Instant::now();
        let r = d.read(&ids).await.unwrap();
        assert!(started.elapsed() < std::time::Duration::from_millis(250), "{:?}", started.elapsed());
        assert_eq!(r[0], Reading::failed("bad", problem));
        assert_eq!(r[1].value, Value::Number(1.5));
    }

    #[tokio::test]
    async fn a_channel_timeout_bounds_only_that_query() {
        // `slow` answers after 450 ms: too late for the 300 ms transport
        // timeout, in time for its own 1 s. `never` is silent but the
        // instrument answers its error query: that channel's problem.
        let peer = test_peer::spawn(|| {
            |line: &str| match line {
                "*CLS" | "NEVER?" => Reply::Nothing,
                ":SYSTem:ERRor?" => Reply::Line("0,\"No error\"".into()),
                "SLOW?" => Reply::Late(std::time::Duration::from_millis(450), "+4.0E+00".into()),
                _ => Reply::Line("+1.0E+00".into()),
            }
        })
        .await;
        let mut slow = channel("slow", "SLOW?", 1.0, 0.0);
        slow.timeout = Some(std::time::Duration::from_secs(1));
        let mut d =
            connect(peer.addr.port(), vec![slow, channel("never", "NEVER?", 1.0, 0.0), channel("v", "V?", 1.0, 0.0)])
                .await
                .unwrap();
        let r = d.read(&["slow".into(), "never".into(), "v".into()]).await.unwrap();
        assert_eq!(r[0].value, Value::Number(4.0));
        assert_eq!(
            r[1].problem.as_deref(),
            Some("no reply to `NEVER?` within 300ms (the instrument answers other queries)")
        );
        assert_eq!(r[2].value, Value::Number(1.0));
    }

    #[tokio::test]
    async fn nr1_and_scpi_error_replies_both_connect_a_generic_instrument() {
        for answer in ["0", "+0,\"No error\""] {
            let peer = test_peer::spawn(move || {
                move |line: &str| match line {
                    "*CLS" => Reply::Nothing,
                    ":SYSTem:ERRor?" => Reply::Line(answer.into()),
                    _ => Reply::Line("+2.5E+00".into()),
                }
            })
            .await;
            let mut d = connect(peer.addr.port(), vec![channel("v", "V?", 1.0, 0.0)]).await.unwrap();
            assert_eq!(d.read(&["v".into()]).await.unwrap()[0].value, Value::Number(2.5), "{answer}");
        }
    }

    #[tokio::test]
    async fn an_instrument_without_error_queue_connects_on_its_identity() {
        let peer = test_peer::spawn(|| {
            |line: &str| match line {
                "*IDN?" => Reply::Line("X,Y,1,2".into()),
                "V?" => Reply::Line("+3.0E+00".into()),
                _ => Reply::Nothing,
            }
        })
        .await;
        let mut cfg =
            test_peer::tcp_config(crate::families::scpi::FAMILY, peer.addr.port(), vec![channel("v", "V?", 1.0, 0.0)]);
        cfg.error_query = Some("none".into());
        let mut d = ScpiDriver::connect(&cfg).await.unwrap();
        assert_eq!(d.read(&["v".into()]).await.unwrap()[0].value, Value::Number(3.0));
        cfg.error_query = Some(":ERR?".into());
        assert!(matches!(ScpiDriver::connect(&cfg).await, Err(DriverError::Timeout { .. })));
    }

    #[tokio::test]
    async fn garbage_reply_is_a_bad_reply() {
        let peer = test_peer::spawn(test_peer::scpi("A,B,C,D", dmm)).await;
        let mut d = connect(peer.addr.port(), vec![channel("g", "MEAS:GARBAGE?", 1.0, 0.0)]).await.unwrap();
        let err = d.read(&["g".into()]).await.unwrap_err();
        assert!(
            matches!(err, DriverError::BadReply { ref command, ref reply, .. } if command == "MEAS:GARBAGE?" && reply == "#$%garbage"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn one_garbage_reply_fails_only_its_channel() {
        let peer = test_peer::spawn(test_peer::scpi("A,B,C,D", dmm)).await;
        let channels = vec![channel("g", "MEAS:GARBAGE?", 1.0, 0.0), channel("v", "MEAS:VOLT:DC?", 1.0, 0.0)];
        let mut d = connect(peer.addr.port(), channels).await.unwrap();
        let r = d.read(&["g".into(), "v".into()]).await.unwrap();
        assert_eq!(
            r[0].problem.as_deref(),
            Some("bad reply to `MEAS:GARBAGE?`: `#$%garbage` is not a number (reply: \"#$%garbage\")")
        );
        assert_eq!(r[1], Reading::new("v", Value::Number(1.5)));
    }

    #[tokio::test]
    async fn endless_binary_reply_is_a_bad_reply_not_unbounded_memory() {
        let peer = test_peer::spawn(|| {
            |line: &str| match line {
                "*CLS" => Reply::Nothing,
                ":SYSTem:ERRor?" => Reply::Line("0,\"No error\"".into()),
                _ => Reply::Raw(vec![0xff; 3 * crate::transport::MAX_LINE]),
            }
        })
        .await;
        let mut d = connect(peer.addr.port(), vec![channel("v", "MEAS:VOLT:DC?", 1.0, 0.0)]).await.unwrap();
        let err = d.read(&["v".into()]).await.unwrap_err();
        assert!(
            matches!(err, DriverError::BadReply { ref command, ref reason, .. } if command == "MEAS:VOLT:DC?" && reason.contains("longer than")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn late_reply_is_a_timeout_and_never_read_as_the_next_answer() {
        let peer = test_peer::spawn(|| {
            let mut polls = 0;
            move |line: &str| match line {
                "*CLS" => Reply::Nothing,
                ":SYSTem:ERRor?" => Reply::Line("0,\"No error\"".into()),
                _ => {
                    polls += 1;
                    if polls == 1 {
                        Reply::Late(std::time::Duration::from_millis(450), "+1.0E+00".into())
                    } else {
                        Reply::Line("+2.0E+00".into())
                    }
                }
            }
        })
        .await;
        let mut d = connect(peer.addr.port(), vec![channel("v", "MEAS:VOLT:DC?", 1.0, 0.0)]).await.unwrap();
        let err = d.read(&["v".into()]).await.unwrap_err();
        assert!(matches!(err, DriverError::Timeout { .. }), "{err:?}");
        // The late `+1.0E+00` was taken neither for an error entry nor for this reply.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(d.read(&["v".into()]).await.unwrap()[0].value, Value::Number(2.0));
    }

    #[tokio::test]
    async fn raw_console_commands() {
        let peer = test_peer::spawn(test_peer::scpi("A,B,C,D", dmm)).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        assert_eq!(d.raw("*IDN?").await.unwrap().as_deref(), Some("A,B,C,D"));
        assert_eq!(d.raw("CONF:VOLT:DC").await.unwrap(), None);
        let err = d.raw("FOO:BAR 1").await.unwrap_err();
        assert!(matches!(err, DriverError::Instrument { ref command, .. } if command == "FOO:BAR 1"), "{err:?}");
        assert!(matches!(d.raw("  ").await, Err(DriverError::Config(_))));
    }

    #[tokio::test]
    async fn unknown_channel_id_is_a_config_error() {
        let peer = test_peer::spawn(test_peer::scpi("A,B,C,D", dmm)).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        let err = d.read(&["nope".into()]).await.unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("`nope`")), "{err:?}");
    }

    #[tokio::test]
    async fn refused_connect_names_the_target() {
        let port = test_peer::closed_port().await;
        let err = connect(port, vec![]).await.unwrap_err();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let peer = test_peer::spawn(|| |_: &str| Reply::Nothing).await;
        let err = connect(peer.addr.port(), vec![]).await.unwrap_err();
        assert!(matches!(err, DriverError::Timeout { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn closing_peer_is_closed() {
        // A peer that closes after the handshake, when the channel is queried.
        let closer = test_peer::spawn(|| {
            let mut n = 0;
            move |_: &str| {
                n += 1;
                match n {
                    1 => Reply::Nothing,                       // *CLS
                    2 => Reply::Line("0,\"No error\"".into()), // :SYSTem:ERRor?
                    _ => Reply::Close,
                }
            }
        })
        .await;
        let mut d = connect(closer.addr.port(), vec![channel("v", "MEAS:VOLT:DC?", 1.0, 0.0)]).await.unwrap();
        let err = d.read(&["v".into()]).await.unwrap_err();
        assert!(matches!(err, DriverError::Closed { .. }), "{err:?}");
        assert!(err.is_link_failure());
    }

    #[tokio::test]
    async fn channel_without_query_is_refused() {
        let cfg = test_peer::tcp_config(crate::families::scpi::FAMILY, 1, vec![ChannelConfig::new("x")]);
        let err = ScpiDriver::connect(&cfg).await.unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("`x`")), "{err:?}");
    }
}

#[cfg(test)]
mod serial_tests {
    use super::*;
    use crate::config::{Parity, TransportConfig};
    use crate::reading::Value;
    use crate::transport::test_peer::{self, Answer, Reply};
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio_serial::SerialPort;

    /// Generic SCPI over a real pseudo-terminal, `\r\n` terminated.
    #[tokio::test]
    async fn scpi_over_serial() {
        let (master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let path = slave.name().unwrap();
        drop(slave);
        let mut handler = test_peer::scpi("MeterdeckSim,SCPI-1,SIM04,1.0", |c: &str| match c {
            "MEAS:TEMP?" => Answer::Reply("+2.35E+01".into()),
            _ => Answer::Refuse(-113, "Undefined header"),
        })();
        let responder = tokio::spawn(async move {
            let mut master = BufReader::new(master);
            let mut line = String::new();
            while master.read_line(&mut line).await.is_ok_and(|n| n > 0) {
                if let Reply::Line(reply) = handler(line.trim_end()) {
                    let _ = master.get_mut().write_all(format!("{reply}\r\n").as_bytes()).await;
                }
                line.clear();
            }
        });
        let mut cfg = test_peer::tcp_config(
            crate::families::scpi::FAMILY,
            0,
            vec![ChannelConfig { query: Some("MEAS:TEMP?".into()), ..ChannelConfig::new("t") }],
        );
        cfg.terminator = "\r\n".into();
        cfg.transport = TransportConfig::Serial {
            path: path.clone(),
            baud: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            timeout: Duration::from_secs(2),
        };
        let mut d = crate::driver::open(&cfg).await.unwrap();
        assert_eq!(d.family(), crate::families::scpi::FAMILY);
        assert_eq!(d.read(&["t".into()]).await.unwrap()[0].value, Value::Number(23.5));
        assert_eq!(d.identify().await.unwrap().serial, "SIM04");
        responder.abort();
    }
}
