//! Hioki power meter driver: one `:MEASure?` line per poll.

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
pub struct HiokiPowerDriver {
    session: ScpiSession,
    /// Setting headers a settings profile covers.
    settings: Vec<String>,
    id: String,
    /// Configured items, or U1, I1, P1 when the configuration lists none.
    channels: Vec<ChannelConfig>,
    /// Refused items (canonical names), retried less often.
    backoff: ChannelBackoff,
}

impl HiokiPowerDriver {
    /// Checks the item names, connects and turns reply headers off.
    pub async fn connect(cfg: &InstrumentConfig) -> Result<HiokiPowerDriver> {
        let mut channels = if cfg.channels.is_empty() {
            protocol::DEFAULT_ITEMS.iter().map(|i| ChannelConfig::new(*i)).collect()
        } else {
            cfg.channels.clone()
        };
        for c in &mut channels {
            protocol::canonical_item(&c.id)
                .map_err(|e| DriverError::Config(format!("instrument `{}`: {e}", cfg.id)))?;
            if c.unit.is_none() {
                c.unit = protocol::item_unit(&c.id).map(str::to_string);
            }
        }
        let session = ScpiSession::open(cfg, &[scpi::HEADER_OFF]).await?;
        Ok(HiokiPowerDriver {
            session,
            settings: crate::control::setting_keys(cfg, protocol::SETTINGS),
            id: cfg.id.clone(),
            channels,
            backoff: ChannelBackoff::default(),
        })
    }
}

impl HiokiPowerDriver {
    /// One item on its own: its value, or why the instrument refused it
    /// (then retried less often).
    async fn read_one(&mut self, item: &str) -> Result<Reading> {
        let command = protocol::measure_command(&[item]);
        self.session
            .query_one(item, &command, &mut self.backoff, |reply, sentinels| {
                protocol::parse_measure_reply(reply, &[item], sentinels)
            })
            .await
    }
}

#[async_trait]
impl Driver for HiokiPowerDriver {
    fn family(&self) -> Family {
        crate::families::hioki_power::FAMILY
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        crate::config::ChannelConfig::infos(&self.channels)
    }

    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let items = channels
            .iter()
            .map(|id| protocol::canonical_item(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DriverError::Config(format!("instrument `{}`: {e}", self.id)))?;
        // Items refused lately wait out their pause outside the query, so
        // that it is answered in full.
        let now = Instant::now();
        let asked: Vec<&String> = items.iter().filter(|i| self.backoff.waiting(i, now).is_none()).collect();
        let mut got: HashMap<String, Reading> = HashMap::new();
        if !asked.is_empty() {
            let command = protocol::measure_command(&asked);
            let values = self
                .session
                .query_values(&command, |reply, sentinels| protocol::parse_measure_reply(reply, &asked, sentinels))
                .await?;
            match values {
                Some(values) => {
                    for (item, value) in asked.iter().zip(values) {
                        got.insert(item.to_string(), Reading::new(item.as_str(), value));
                    }
                }
                // The query was refused: find which items, one at a time.
                None => {
                    for item in asked {
                        let reading = self.read_one(item).await?;
                        got.insert(item.clone(), reading);
                    }
                }
            }
        }
        Ok(channels
            .iter()
            .zip(&items)
            .map(|(id, item)| {
                let problem = || self.backoff.waiting(item, now).unwrap_or("not read").to_string();
                match got.get(item) {
                    Some(Reading { value, problem: None, .. }) => {
                        let value = crate::config::ChannelConfig::scale_by_id(&self.channels, id, *value);
                        Reading::new(id.clone(), value)
                    }
                    Some(Reading { problem: Some(p), .. }) => Reading::failed(id.clone(), p.clone()),
                    None => Reading::failed(id.clone(), problem()),
                }
            })
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
    use crate::reading::Value;
    use crate::transport::test_peer::{self, Answer, Reply};

    /// A fake power meter: U = 100, I = 2, P = 200, everything else 0;
    /// `header` selects the header ON reply form; PF4 is refused (-224).
    fn meter(header: bool) -> impl Fn(&str) -> Answer + Clone + Send + Sync + 'static {
        move |command: &str| {
            let upper = command.to_ascii_uppercase();
            let Some(list) = upper.strip_prefix(":MEASURE? ") else { return Answer::Refuse(-113, "Undefined header") };
            let mut parts = Vec::new();
            for item in list.split(',') {
                let v = match item {
                    "PF4" => return Answer::Refuse(-224, "Illegal parameter value"),
                    "U1" => 100.0,
                    "I1" => 2.0,
                    "P1" => 200.0,
                    _ => 0.0,
                };
                parts.push(if header { format!("{item} {v:+.4E}") } else { format!("{v:+.4E}") });
            }
            Answer::Reply(parts.join(";"))
        }
    }

    async fn connect(port: u16, channels: Vec<ChannelConfig>) -> Result<HiokiPowerDriver> {
        HiokiPowerDriver::connect(&test_peer::tcp_config(crate::families::hioki_power::FAMILY, port, channels)).await
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn reads_items_with_header_off_and_on() {
        for header in [false, true] {
            let peer = test_peer::spawn(test_peer::scpi("HIOKI,PW3390,SIM01,V1.30", meter(header))).await;
            let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
            assert_eq!(
                d.channels().iter().map(|c| c.unit.as_deref()).collect::<Vec<_>>(),
                vec![Some("V"), Some("A"), Some("W")]
            );
            let r = d.read(&ids(&["U1", "I1", "P1", "FREQ1"])).await.unwrap();
            let values: Vec<Value> = r.iter().map(|r| r.value).collect();
            assert_eq!(
                values,
                vec![Value::Number(100.0), Value::Number(2.0), Value::Number(200.0), Value::Number(0.0)]
            );
            assert_eq!(d.identify().await.unwrap().model, "PW3390");
        }
    }

    #[tokio::test]
    async fn scale_and_offset_apply() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,PW3390,SIM01,V1.30", meter(false))).await;
        let ct = ChannelConfig { scale: 50.0, offset: 1.0, ..ChannelConfig::new("I1") };
        let mut d = connect(peer.addr.port(), vec![ct]).await.unwrap();
        assert_eq!(d.read(&ids(&["I1"])).await.unwrap()[0].value, Value::Number(101.0));
    }

    #[tokio::test]
    async fn unknown_items_are_config_errors_naming_them() {
        let cfg = test_peer::tcp_config(crate::families::hioki_power::FAMILY, 1, vec![ChannelConfig::new("U9")]);
        let err = HiokiPowerDriver::connect(&cfg).await.unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("`U9`")), "{err:?}");

        let peer = test_peer::spawn(test_peer::scpi("HIOKI,PW3390,SIM01,V1.30", meter(false))).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        let err = d.read(&ids(&["U1", "VOLT"])).await.unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("`VOLT`")), "{err:?}");
    }

    #[tokio::test]
    async fn a_refused_item_fails_alone_and_the_others_keep_their_values() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,PW3390,SIM01,V1.30", meter(false))).await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        for _ in 0..2 {
            let r = d.read(&ids(&["U1", "PF4", "I1"])).await.unwrap();
            assert_eq!(r[0], Reading::new("U1", Value::Number(100.0)));
            assert_eq!(r[1], Reading::failed("PF4", "instrument error after `:MEASure? PF4`: error code -224"));
            assert_eq!(r[2], Reading::new("I1", Value::Number(2.0)));
        }
    }

    #[tokio::test]
    async fn garbage_and_short_replies_are_bad_replies() {
        let peer = test_peer::spawn(test_peer::scpi("HIOKI,PW3390,SIM01,V1.30", |c: &str| {
            if c.to_ascii_uppercase().contains("U1,I1") {
                Answer::Reply("+1.0E+0".into())
            } else {
                Answer::Reply("@@@".into())
            }
        }))
        .await;
        let mut d = connect(peer.addr.port(), vec![]).await.unwrap();
        let err = d.read(&ids(&["U1", "I1"])).await.unwrap_err();
        assert!(
            matches!(err, DriverError::BadReply { ref reason, .. } if reason.contains("expected 2 values, got 1")),
            "{err:?}"
        );
        let err = d.read(&ids(&["P1"])).await.unwrap_err();
        assert!(matches!(err, DriverError::BadReply { ref reply, .. } if reply == "@@@"), "{err:?}");
    }

    #[tokio::test]
    async fn link_failures() {
        let port = test_peer::closed_port().await;
        let err = connect(port, vec![]).await.unwrap_err();
        assert!(
            matches!(err, DriverError::Connect { .. }) && err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );

        let silent = test_peer::spawn(|| |_: &str| Reply::Nothing).await;
        assert!(matches!(connect(silent.addr.port(), vec![]).await, Err(DriverError::Timeout { .. })));

        // Closes when polled (after a normal handshake).
        let closing = test_peer::spawn(|| {
            |line: &str| {
                if line.starts_with(":MEASure?") {
                    Reply::Close
                } else if line.ends_with('?') {
                    Reply::Line("0".into())
                } else {
                    Reply::Nothing
                }
            }
        })
        .await;
        let mut d = connect(closing.addr.port(), vec![]).await.unwrap();
        assert!(matches!(d.read(&ids(&["U1"])).await, Err(DriverError::Closed { .. })));
    }
}
