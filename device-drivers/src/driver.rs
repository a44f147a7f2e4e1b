//! The one trait every instrument family implements, and `open` which builds
//! the right driver for a configuration (through the family's registry entry).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Family, InstrumentConfig};
use crate::control::Setting;
use crate::error::{DriverError, Result};
use crate::reading::Reading;

/// What `*IDN?` (or the family's equivalent) says about an instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct Identity {
    pub maker: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
}

impl std::fmt::Display for Identity {
    /// `HIOKI LR8450 serial 123 firmware V2.10`, leaving out what is unknown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = vec![];
        for (label, v) in
            [("", &self.maker), ("", &self.model), ("serial ", &self.serial), ("firmware ", &self.firmware)]
        {
            if !v.trim().is_empty() {
                parts.push(format!("{label}{}", v.trim()));
            }
        }
        f.write_str(&parts.join(" "))
    }
}

/// A channel the instrument offers (or the configuration declares).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub id: String,
    pub unit: Option<String>,
}

/// Everything the agent may ask of an instrument. Optional capabilities
/// default to a typed `Unsupported` error; no family panics on them.
#[async_trait]
pub trait Driver: Send {
    fn family(&self) -> Family;

    /// Identify the instrument (maker, model, serial, firmware).
    async fn identify(&mut self) -> Result<Identity>;

    /// The channels this driver can read (configured or discovered).
    fn channels(&self) -> Vec<ChannelInfo>;

    /// Read the given channels (ids as in [`ChannelInfo`]), in one compound
    /// query where the protocol allows. Returns one reading per requested
    /// channel, in order; a channel the instrument has no value for comes
    /// back as `SpecialKind::NoData`, not as an error.
    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>>;

    /// Readings the instrument pushes between polls (BLE notifications),
    /// each to be stored as it arrives; `None` for instruments that only
    /// answer polls.
    fn pushed(&self) -> Option<tokio::sync::broadcast::Receiver<Reading>> {
        None
    }

    async fn set_clock(&mut self, _now: DateTime<Utc>) -> Result<()> {
        Err(self.unsupported("clock setting"))
    }

    async fn start(&mut self) -> Result<()> {
        Err(self.unsupported("start measurement"))
    }

    async fn stop(&mut self) -> Result<()> {
        Err(self.unsupported("stop measurement"))
    }

    /// Stop, then start a new measurement.
    async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        self.start().await
    }

    /// The instrument's current settings, those its configuration (or its
    /// family) lists, as a settings profile records them.
    async fn read_settings(&mut self) -> Result<Vec<Setting>> {
        Err(self.unsupported("settings profiles"))
    }

    /// Writes settings in order, stopping at the first the instrument
    /// refuses (an error naming it). `control::push_profile` diffs, undoes
    /// a partial push and verifies.
    async fn write_settings(&mut self, _settings: &[Setting]) -> Result<()> {
        Err(self.unsupported("settings profiles"))
    }

    /// Send a raw command line; returns the reply if the command is a query.
    async fn raw(&mut self, _command: &str) -> Result<Option<String>> {
        Err(self.unsupported("raw commands"))
    }

    fn unsupported(&self, capability: &'static str) -> DriverError {
        DriverError::Unsupported { family: self.family().name(), capability }
    }
}

/// Connect to an instrument and return its driver. Validates the
/// configuration first.
pub async fn open(cfg: &InstrumentConfig) -> Result<Box<dyn Driver>> {
    cfg.validate().map_err(|e| DriverError::Config(e.to_string()))?;
    cfg.family.open(cfg).await
}
