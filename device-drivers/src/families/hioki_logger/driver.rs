//! Hioki logger driver: one snapshot + all selected channels per poll line.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::protocol;
use crate::config::{ChannelConfig, Family, InstrumentConfig};
use crate::driver::{ChannelInfo, Driver, Identity};
use crate::error::{DriverError, Result};
use std::collections::HashMap;

use tokio::time::Instant;

use crate::families::scpi::channel_backoff::ChannelBackoff;
use crate::families::scpi::{ScpiSession, protocol as scpi};
use crate::reading::Reading;

#[derive(Debug)]
pub struct HiokiLoggerDriver {
    session: ScpiSession,
    /// Setting headers a settings profile covers.
    settings: Vec<String>,
    id: String,
    /// Configured channels, or CH1_1..CH1_15 when the configuration lists none.
    channels: Vec<ChannelConfig>,
    backoff: ChannelBackoff,
}

impl HiokiLoggerDriver {
    /// Checks the channel ids, connects and turns reply headers off.
    pub async fn connect(cfg: &InstrumentConfig) -> Result<HiokiLoggerDriver> {
        let channels = if cfg.channels.is_empty() {
            protocol::default_channels().into_iter().map(ChannelConfig::new).collect()
        } else {
            cfg.channels.clone()
        };
        for c in &channels {
            protocol::parse_channel_id(&c.id)
                .map_err(|e| DriverError::Config(format!("instrument `{}`: {e}", cfg.id)))?;
        }
        let session = ScpiSession::open(cfg, &[scpi::HEADER_OFF]).await?;
        Ok(HiokiLoggerDriver {
            session,
            settings: crate::control::setting_keys(cfg, protocol::SETTINGS),
            id: cfg.id.clone(),
            channels,
            backoff: ChannelBackoff::default(),
        })
    }
}

impl HiokiLoggerDriver {
    /// One channel on its own line (the snapshot is already latched): its
    /// value, or why the instrument refused it (then retried less often).
    async fn read_one(&mut self, id: &str) -> Result<Reading> {
        let line = format!(":MEM:VREAL? {id}");
        let reading = self
            .session
            .query_one(id, &line, &mut self.backoff, |reply, sentinels| {
                protocol::parse_poll_reply(reply, &[id], sentinels)
            })
            .await?;
        Ok(match reading.problem {
            None => Reading::new(id, ChannelConfig::scale_by_id(&self.channels, id, reading.value)),
            Some(_) => reading,
        })
    }
}

#[async_trait]
impl Driver for HiokiLoggerDriver {
    fn family(&self) -> Family {
        crate::families::hioki_logger::FAMILY
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        crate::config::ChannelConfig::infos(&self.channels)
    }

    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>> {
        for id in channels {
            protocol::parse_channel_id(id)
                .map_err(|e| DriverError::Config(format!("instrument `{}`: {e}", self.id)))?;
        }
        // Channels whose query was refused lately wait out their pause
        // outside the poll line, so that the line is answered in full.
        let now = Instant::now();
        let mut got: HashMap<String, Reading> = HashMap::new();
        let mut asked = Vec::with_capacity(channels.len());
        for id in channels {
            match self.backoff.waiting(id, now) {
                Some(problem) => {
                    got.insert(id.clone(), Reading::failed(id.clone(), problem));
                }
                None => asked.push(id.clone()),
            }
        }
        let lines = protocol::poll_lines(&asked);
        for (line, chunk) in lines.iter().zip(asked.chunks(protocol::MAX_QUERIES_PER_LINE)) {
            let values = self
                .session
                .query_values(line, |reply, sentinels| protocol::parse_poll_reply(reply, chunk, sentinels))
                .await?;
            match values {
                Some(values) => {
                    for (id, value) in chunk.iter().zip(values) {
                        let value = crate::config::ChannelConfig::scale_by_id(&self.channels, id, value);
                        got.insert(id.clone(), Reading::new(id.clone(), value));
                    }
                }
                // The line was refused: find which channels, one at a time.
                None => {
                    for id in chunk {
                        let reading = self.read_one(id).await?;
                        got.insert(id.clone(), reading);
                    }
                }
            }
        }
        Ok(channels
            .iter()
            .map(|id| got.get(id).cloned().unwrap_or_else(|| Reading::failed(id.clone(), "not read")))
            .collect())
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

    /// A fake logger: CHu_c reads u + c/100; CH9_9 reads "no data";
    /// units above 2 do not exist (-224).
    fn logger(command: &str) -> Answer {
        let upper = command.to_ascii_uppercase();
        if upper == ":MEM:GETR" {
            return Answer::Accept;
        }
        let Some(ch) = upper.strip_prefix(":MEM:VREAL? ") else { return Answer::Refuse(-113, "Undefined header") };
        match protocol::parse_channel_id(ch) {
            Ok((9, 9)) => Answer::Reply("+9999.9E+99".into()),
            Ok((u, c)) if u <= 2 => Answer::Reply(format!("{:+.5E}", u as f64 + c as f64 / 100.0)),
            _ => Answer::Refuse(-224, "Illegal parameter value"),
        }
    }

    async fn connect(port: u16, channels: Vec<ChannelConfig>) -> Result<HiokiLoggerDriver> {
        HiokiLoggerDriver::connect(&test_peer::tcp_config(crate::families::hioki_logger::FAMILY, port, channels)).await
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn reads_selected_channels_in_one_line() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,LR8450,SIM01,V2.10", logger)).await;
        let scaled = ChannelConfig { scale: 10.0, ..ChannelConfig::new("CH1_2") };
        let mut d = connect(peer.addr.port(), vec![ChannelConfig::new("CH1_1"), scaled]).await.unwrap();
        assert_eq!(d.channels().len(), 2);
        assert_eq!(d.identify().await.unwrap().model, "LR8450");
        let r = d.read(&ids(&["CH1_1", "CH1_2", "CH2_3", "CH9_9"])).await.unwrap();
        let values: Vec<Value> = r.iter().map(|r| r.value).collect();
        assert_eq!(
            values,
            vec![Value::Number(1.01), Value::Number(10.2), Value::Number(2.03), Value::Special(SpecialKind::NoData)]
        );
        assert!(d.read(&[]).await.unwrap().is_empty());
        d.set_clock(Utc::now()).await.unwrap();
        d.start().await.unwrap();
        d.stop().await.unwrap();
    }

    #[tokio::test]
    async fn many_channels_are_chunked_and_all_read() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,LR8450,SIM01,V2.10", logger)).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        assert_eq!(d.channels().len(), 15);
        let all: Vec<String> = (1..=2)
            .flat_map(|u| (1..=30).map(move |c| format!("CH{u}_{c}")))
            .chain((1..=30).map(|c| format!("CH1_{c}")))
            .collect();
        let r = d.read(&all).await.unwrap();
        assert_eq!(r.len(), 90);
        assert_eq!(r[89].value, Value::Number(1.30));
    }

    #[tokio::test]
    async fn a_refused_channel_fails_alone_and_waits_out_its_pause() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,LR8450,SIM01,V2.10", logger)).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        let r = d.read(&ids(&["CH1_1", "CH5_1", "CH2_2"])).await.unwrap();
        assert_eq!(r[0], Reading::new("CH1_1", Value::Number(1.01)));
        assert_eq!(r[1], Reading::failed("CH5_1", "instrument error after `:MEM:VREAL? CH5_1`: error code -224"));
        assert_eq!(r[2], Reading::new("CH2_2", Value::Number(2.02)));
        // Next poll: the refused channel is left out of the line, which is answered in full.
        let r = d.read(&ids(&["CH1_1", "CH5_1", "CH2_2"])).await.unwrap();
        assert_eq!(r[1].problem.as_deref(), Some("instrument error after `:MEM:VREAL? CH5_1`: error code -224"));
        assert_eq!((r[0].value, r[2].value), (Value::Number(1.01), Value::Number(2.02)));
    }

    #[tokio::test]
    async fn count_mismatch_and_garbage_are_bad_replies() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,LR8450,SIM01,V2.10", |c: &str| match c {
            ":MEM:GETR" => Answer::Accept,
            ":MEM:VREAL? CH1_1" => Answer::Reply("+1.0E+00;+2.0E+00".into()),
            _ => Answer::Accept,
        }))
        .await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        let err = d.read(&ids(&["CH1_1"])).await.unwrap_err();
        assert!(
            matches!(err, DriverError::BadReply { ref command, ref reason, .. }
                if command == ":MEM:GETR;:MEM:VREAL? CH1_1" && reason.contains("expected 1 values, got 2")),
            "{err:?}"
        );

        let garbage = test_peer::spawn(test_peer::scpi("HIOKI,LR8450,SIM01,V2.10", |c: &str| match c {
            ":MEM:GETR" => Answer::Accept,
            _ => Answer::Reply("\u{1}\u{2}zz".into()),
        }))
        .await;
        let mut d = connect(garbage.addr.port(), vec![]).await.unwrap();
        let err = d.read(&ids(&["CH1_1", "CH1_2"])).await.unwrap_err();
        assert!(matches!(err, DriverError::BadReply { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn bad_channel_ids_are_config_errors() {
        let cfg = test_peer::tcp_config(crate::families::hioki_logger::FAMILY, 1, vec![ChannelConfig::new("U1")]);
        let err = HiokiLoggerDriver::connect(&cfg).await.unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("`U1`")), "{err:?}");
    }

    #[tokio::test]
    async fn link_failures() {
        let port = test_peer::closed_port().await;
        let err = connect(port, vec![]).await.unwrap_err();
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");

        let silent = test_peer::spawn(|| |_: &str| Reply::Nothing).await;
        assert!(matches!(connect(silent.addr.port(), vec![]).await, Err(DriverError::Timeout { .. })));

        let closing = test_peer::spawn(|| |_: &str| Reply::Close).await;
        assert!(matches!(connect(closing.addr.port(), vec![]).await, Err(DriverError::Closed { .. })));
    }
}
