//! A BLE environmental sensor: each ESS / battery characteristic is a
//! channel. Characteristics that notify push their values (kept as the
//! latest, each one also handed to [`BleEssDriver::notified`] listeners);
//! the others are read on every poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use btleplug::api::{CharPropFlags, Characteristic};
use futures::StreamExt;
use tokio::sync::broadcast;

use super::protocol::{ESS_SERVICE, Quantity};
use crate::config::{ChannelConfig, Family, InstrumentConfig};
use crate::driver::{ChannelInfo, Driver, Identity};
use crate::error::{DriverError, Result};
use crate::reading::{Reading, Value};
use crate::transport::ble::{BleLink, sig_uuid};

/// Device Information Service (0x180A): maker, model, serial, firmware strings.
const DEVICE_INFO: u16 = 0x180A;
const INFO_FIELDS: [u16; 4] = [0x2A29, 0x2A24, 0x2A25, 0x2A26];

/// The latest decoded value of each notifying characteristic.
type Latest = Arc<Mutex<HashMap<&'static str, Result<Value, String>>>>;

pub struct BleEssDriver {
    cfg: InstrumentConfig,
    link: BleLink,
    /// The characteristics the device has, with whether they notify.
    found: Vec<(Quantity, Characteristic, bool)>,
    latest: Latest,
    notified: broadcast::Sender<Reading>,
    listener: tokio::task::JoinHandle<()>,
}

impl BleEssDriver {
    /// Finds the sensor (by name it must advertise the ESS), connects, and
    /// subscribes to every characteristic that notifies.
    pub async fn connect(cfg: &InstrumentConfig) -> Result<BleEssDriver> {
        let link = BleLink::open(&cfg.transport, cfg.target(), &[ESS_SERVICE]).await?;
        let found: Vec<(Quantity, Characteristic, bool)> = Quantity::ALL
            .into_iter()
            .filter_map(|q| {
                let c = link.characteristic(q.service(), q.characteristic())?;
                let notifies = c.properties.contains(CharPropFlags::NOTIFY);
                Some((q, c, notifies))
            })
            .collect();
        if found.iter().all(|(q, ..)| *q == Quantity::Battery) {
            return Err(DriverError::Connect {
                target: link.target().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the device has no Environmental Sensing characteristic (temperature 0x2A6E, humidity 0x2A6F, pressure 0x2A6D)",
                ),
            });
        }
        let latest: Latest = Arc::default();
        let (notified, _) = broadcast::channel(256);
        let mut notes = link.notifications().await?;
        for (_, c, _) in found.iter().filter(|(.., notifies)| *notifies) {
            link.subscribe(c).await?;
        }
        let listener = {
            let (latest, notified, cfg) = (latest.clone(), notified.clone(), cfg.clone());
            tokio::spawn(async move {
                while let Some(note) = notes.next().await {
                    let Some(q) = Quantity::by_characteristic(note.uuid) else { continue };
                    let decoded = q.decode(&note.value);
                    let reading = match &decoded {
                        Ok(v) => Reading::new(q.channel(), ChannelConfig::scale_by_id(&cfg.channels, q.channel(), *v)),
                        Err(why) => Reading::failed(q.channel(), why.clone()),
                    };
                    latest.lock().unwrap_or_else(|p| p.into_inner()).insert(q.channel(), decoded);
                    let _ = notified.send(reading);
                }
            })
        };
        Ok(BleEssDriver { cfg: cfg.clone(), link, found, latest, notified, listener })
    }

    /// Every notified value as it arrives (scaled like a poll's reading).
    pub fn notified(&self) -> broadcast::Receiver<Reading> {
        self.notified.subscribe()
    }

    async fn read_one(&self, channel: &str) -> Result<Reading> {
        let Some(q) = Quantity::by_channel(channel) else {
            return Ok(Reading::failed(channel, format!("`{channel}` is not a channel of ble-ess")));
        };
        let Some((_, c, notifies)) = self.found.iter().find(|(f, ..)| *f == q) else {
            return Ok(Reading::failed(
                channel,
                format!("the device has no {channel} characteristic (0x{:04X})", q.short_uuid()),
            ));
        };
        let pushed = self.latest.lock().unwrap_or_else(|p| p.into_inner()).get(channel).cloned();
        let decoded = match pushed {
            // A notifying characteristic is read once, until its first notification.
            Some(value) if *notifies => value,
            _ => q.decode(&self.link.read(c).await?),
        };
        Ok(match decoded {
            Ok(v) => Reading::new(channel, ChannelConfig::scale_by_id(&self.cfg.channels, channel, v)),
            Err(why) => Reading::failed(channel, why),
        })
    }
}

impl Drop for BleEssDriver {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

#[async_trait]
impl Driver for BleEssDriver {
    fn family(&self) -> Family {
        super::FAMILY
    }

    fn pushed(&self) -> Option<broadcast::Receiver<Reading>> {
        Some(self.notified())
    }

    /// From the Device Information Service where the device has one; else
    /// its name as the model and its address as the serial.
    async fn identify(&mut self) -> Result<Identity> {
        let (name, address) = self.link.name_and_address().await;
        let mut fields = [String::new(), name.unwrap_or_default(), address, String::new()];
        for (slot, short) in fields.iter_mut().zip(INFO_FIELDS) {
            if let Some(c) = self.link.characteristic(sig_uuid(DEVICE_INFO), sig_uuid(short)) {
                let text = crate::text::decode_line(&self.link.read(&c).await?);
                if !text.trim().is_empty() {
                    *slot = text.trim().to_string();
                }
            }
        }
        let [maker, model, serial, firmware] = fields;
        Ok(Identity { maker, model, serial, firmware })
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        if !self.cfg.channels.is_empty() {
            return ChannelConfig::infos(&self.cfg.channels);
        }
        self.found
            .iter()
            .map(|(q, ..)| ChannelInfo { id: q.channel().to_string(), unit: Some(q.unit().to_string()) })
            .collect()
    }

    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>> {
        self.link.check()?;
        let mut out = Vec::with_capacity(channels.len());
        for channel in channels {
            out.push(self.read_one(channel).await?);
        }
        Ok(out)
    }
}
