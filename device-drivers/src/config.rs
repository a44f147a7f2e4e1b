//! How an instrument is described in configuration (TOML in the agent's
//! config file, JSON over the desktop app's commands). Validation that needs
//! more than types lives in [`InstrumentConfig::validate`].

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which family an instrument belongs to: a handle on its registry entry,
/// written as its id (`family = "hioki-logger"`).
pub use crate::registry::Family;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

// In TypeScript a field with a serde default is optional (`#[ts(as = "Option<_>",
// optional)]`): the window may leave it out, and it reads it back filled in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TransportConfig {
    Tcp {
        host: String,
        /// Defaults to the family's port (its registry entry's `default_port`).
        #[serde(default)]
        #[ts(optional = nullable)]
        port: Option<u16>,
        /// A duration such as `"2s"` or `"500ms"`.
        #[serde(default = "default_timeout", with = "humantime_serde")]
        #[ts(as = "Option<String>", optional)]
        timeout: Duration,
    },
    Serial {
        /// Device path, e.g. `/dev/ttyUSB0` or `COM3`.
        path: String,
        #[serde(default = "default_baud")]
        #[ts(as = "Option<_>", optional)]
        baud: u32,
        #[serde(default = "default_data_bits")]
        #[ts(as = "Option<_>", optional)]
        data_bits: u8,
        #[serde(default)]
        #[ts(as = "Option<_>", optional)]
        parity: Parity,
        #[serde(default = "default_stop_bits")]
        #[ts(as = "Option<_>", optional)]
        stop_bits: u8,
        /// A duration such as `"2s"` or `"500ms"`.
        #[serde(default = "default_timeout", with = "humantime_serde")]
        #[ts(as = "Option<String>", optional)]
        timeout: Duration,
    },
    /// A Bluetooth LE GATT device (e.g. the Environmental Sensing Service).
    Ble {
        /// The device's advertised name, or its address `AA:BB:CC:DD:EE:FF`.
        /// By name it is found again when it comes back under a new (random) address.
        device: String,
        /// A duration such as `"5s"`: scan, connect and each read give up after it.
        #[serde(default = "default_ble_timeout", with = "humantime_serde")]
        #[ts(as = "Option<String>", optional)]
        timeout: Duration,
    },
    /// A BLE serial bridge (Nordic UART Service): text lines over GATT, so the
    /// SCPI and Hioki families run over Bluetooth unchanged.
    BleUart {
        /// The device's advertised name, or its address.
        device: String,
        #[serde(default = "default_ble_timeout", with = "humantime_serde")]
        #[ts(as = "Option<String>", optional)]
        timeout: Duration,
    },
}

/// A BLE scan plus connect plus service discovery takes seconds, not a TCP round trip.
fn default_ble_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_timeout() -> Duration {
    Duration::from_secs(2)
}
fn default_baud() -> u32 {
    9600
}
fn default_data_bits() -> u8 {
    8
}
fn default_stop_bits() -> u8 {
    1
}

impl TransportConfig {
    pub fn timeout(&self) -> Duration {
        match self {
            TransportConfig::Tcp { timeout, .. }
            | TransportConfig::Serial { timeout, .. }
            | TransportConfig::Ble { timeout, .. }
            | TransportConfig::BleUart { timeout, .. } => *timeout,
        }
    }

    /// Human-readable target, used in every error message.
    pub fn describe(&self, family: Family) -> String {
        match self {
            TransportConfig::Tcp { host, port, .. } => match port.or(family.default_port()) {
                Some(p) => format!("{host}:{p}"),
                None => format!("{host}:?"),
            },
            TransportConfig::Serial { path, baud, .. } => format!("{path}@{baud}"),
            TransportConfig::Ble { device, .. } => format!("ble:{device}"),
            TransportConfig::BleUart { device, .. } => format!("ble-uart:{device}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum RegisterKind {
    #[default]
    Holding,
    Input,
    Coil,
    Discrete,
}

// How a Modbus channel's registers decode. Every type gives a number (the
// sample model is numeric): `string` stores the number its trimmed ASCII
// text spells (`" 23.5"` -> 23.5), and text that is not a number is an
// invalid value with the text as its reason; 64-bit integers beyond 2^53
// lose their last digits as f64. (Plain comments: the TypeScript bindings
// carry no text for these enums.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum DataType {
    #[default]
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
    /// `count` registers of ASCII, two characters each (high byte first
    /// unless the byte order swaps them), trimmed of NULs and spaces.
    String,
    /// Bit `bit` (0 = least significant) of one 16-bit register, as 0 / 1.
    Bit,
    /// Four packed BCD digits in one register (`0x1234` -> 1234).
    Bcd16,
    /// Eight packed BCD digits in two registers.
    Bcd32,
}

impl DataType {
    pub fn is_float(self) -> bool {
        matches!(self, DataType::F32 | DataType::F64)
    }
}

// Byte and word order of multi-register values, named by where the bytes
// `A B C D` of a big-endian 32-bit value land on the wire: `abcd` big-endian
// (the Modbus convention), `cdab` word-swapped, `badc` byte-swapped,
// `dcba` little-endian. 64-bit values extend the same rule; 16-bit values
// and strings only honour the byte swap (`badc`, `dcba`). `big` and
// `little` (older configs) read as `abcd` and `cdab`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
pub enum WordOrder {
    /// Most significant word first, bytes big-endian.
    #[default]
    #[serde(rename = "abcd", alias = "big")]
    Big,
    /// Least significant word first ("CDAB"); `little` in older configs.
    #[serde(rename = "cdab", alias = "little")]
    Little,
    /// Words in order, the bytes inside each swapped.
    #[serde(rename = "badc")]
    ByteSwapped,
    /// Fully little-endian: words reversed and bytes swapped.
    #[serde(rename = "dcba")]
    LittleByteSwapped,
}

impl WordOrder {
    /// Least significant word comes first on the wire.
    pub fn words_reversed(self) -> bool {
        matches!(self, WordOrder::Little | WordOrder::LittleByteSwapped)
    }

    /// The two bytes of each register are swapped on the wire.
    pub fn bytes_swapped(self) -> bool {
        matches!(self, WordOrder::ByteSwapped | WordOrder::LittleByteSwapped)
    }
}

/// How an instrument answers its error query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorFormat {
    /// SCPI-99: `-113,"Undefined header"`, `0,"No error"`.
    Scpi,
    /// A bare NR1 code (Hioki's `:ERRor?`): `0` is no error.
    Nr1,
    /// Either of the two.
    Either,
}

impl ErrorFormat {
    /// The `error_format` spelling in the config file.
    pub const NAMES: &'static [&'static str] = &["scpi", "nr1", "either"];
}

/// `error_query = "none"`: the instrument has no error queue.
pub const NO_ERROR_QUERY: &str = "none";

/// Where a Modbus channel lives and how to decode it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ModbusRegister {
    /// Zero-based register or coil address.
    pub address: u16,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub kind: RegisterKind,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub data_type: DataType,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub word_order: WordOrder,
    // `string` only: how many registers the text spans (1..125).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub count: Option<u16>,
    // `bit` only: which bit of the register (0..15, 0 = least significant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bit: Option<u8>,
}

impl ModbusRegister {
    /// A register map entry without the per-type extras (`count`, `bit`).
    pub fn new(address: u16, kind: RegisterKind, data_type: DataType, word_order: WordOrder) -> ModbusRegister {
        ModbusRegister { address, kind, data_type, word_order, count: None, bit: None }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ChannelConfig {
    /// The channel's id within the instrument: `CH1_1` (logger), `U1` / `P1`
    /// (power meter), any name (SCPI, Modbus).
    pub id: String,
    #[serde(default)]
    pub unit: Option<String>,
    /// Generic SCPI only: the query that returns this channel's value.
    #[serde(default)]
    pub query: Option<String>,
    /// Modbus only.
    #[serde(default)]
    pub modbus: Option<ModbusRegister>,
    /// SCPI only: how long to wait for this channel's reply (e.g. `"5s"` for
    /// a slow range change); the transport's `timeout` when left out.
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[ts(as = "Option<String>", optional)]
    pub timeout: Option<Duration>,
    /// value = raw * scale + offset
    #[serde(default = "one")]
    #[ts(as = "Option<_>", optional)]
    pub scale: f64,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub offset: f64,
}

fn one() -> f64 {
    1.0
}

impl ChannelConfig {
    pub fn new(id: impl Into<String>) -> ChannelConfig {
        ChannelConfig { id: id.into(), unit: None, query: None, modbus: None, timeout: None, scale: 1.0, offset: 0.0 }
    }

    pub fn apply_scale(&self, raw: f64) -> f64 {
        raw * self.scale + self.offset
    }

    /// Applies the scale/offset of channel `id` from `channels` to a number;
    /// special values and unknown channels pass through unchanged.
    pub fn scale_by_id(channels: &[ChannelConfig], id: &str, value: crate::Value) -> crate::Value {
        match (channels.iter().find(|c| c.id == id), value) {
            (Some(c), crate::Value::Number(v)) => crate::Value::Number(c.apply_scale(v)),
            _ => value,
        }
    }

    /// The channels as the driver trait lists them.
    pub fn infos(channels: &[ChannelConfig]) -> Vec<crate::driver::ChannelInfo> {
        channels.iter().map(|c| crate::driver::ChannelInfo { id: c.id.clone(), unit: c.unit.clone() }).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct InstrumentConfig {
    /// Stable id, unique within an agent (used as the storage key).
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[ts(as = "String")]
    pub family: Family,
    pub transport: TransportConfig,
    /// Line terminator for text protocols (`"\n"` by default; `"\r\n"` for many
    /// serial instruments).
    #[serde(default = "default_terminator")]
    #[ts(as = "Option<_>", optional)]
    pub terminator: String,
    /// Modbus unit (slave) id.
    #[serde(default = "default_unit_id")]
    #[ts(as = "Option<_>", optional)]
    pub unit_id: u8,
    /// SCPI-based families: the query that reads the instrument's error
    /// queue (`":ERRor?"`), or `"none"` for an instrument without one; the
    /// family's own (see the registry) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_query: Option<String>,
    /// How the error query is answered; the family's own when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_format: Option<ErrorFormat>,
    /// Line-based families on a multi-drop serial line (RS-485): the
    /// command that addresses this device before each exchange (`"ADR 6"`),
    /// so several devices can share one port; each needs its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    /// The reply the device gives to `select` (`"OK"`); none expected when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_reply: Option<String>,
    /// Extra sentinel values this model uses for "no valid value".
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub sentinels: Vec<f64>,
    /// Poll interval (100 ms .. 1 h) such as `"5s"` or `"100ms"`; `None` uses the agent's default (60 s).
    #[serde(default, with = "humantime_serde")]
    #[ts(as = "Option<String>")]
    pub poll_interval: Option<Duration>,
    /// A disabled instrument stays configured but is not polled.
    #[serde(default = "yes")]
    #[ts(as = "Option<_>", optional)]
    pub enabled: bool,
    /// Set the instrument's clock to the agent's (UTC) on every connect.
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub set_clock_on_connect: bool,
    /// Send a start-measurement command on every connect.
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub start_on_connect: bool,
    /// Settings a profile reads and pushes (see `control`): SCPI-based
    /// families list setting headers (`":SAMPle:RATE"`: queried with `?`,
    /// set with a value); Modbus lists holding register addresses
    /// (`"1000"`). Left out: the family's own list (none for generic SCPI
    /// and Modbus).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<_>", optional)]
    pub settings: Vec<String>,
    #[serde(default, rename = "channel")]
    #[ts(as = "Option<_>", optional)]
    pub channels: Vec<ChannelConfig>,
}

fn yes() -> bool {
    true
}

/// Allowed poll intervals (SPEC 1.7 said 1 s; issue 18 lowers the floor to
/// 100 ms: bench work polls LAN instruments that fast, and the store, the
/// alarm engine and the window take far more than that rate).
pub const MIN_POLL: Duration = Duration::from_millis(100);
pub const MAX_POLL: Duration = Duration::from_secs(3600);

fn default_terminator() -> String {
    "\n".to_string()
}
fn default_unit_id() -> u8 {
    1
}

impl InstrumentConfig {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn target(&self) -> String {
        self.transport.describe(self.family)
    }

    /// Checks what serde's types cannot: returns the first problem, naming
    /// the instrument and the field.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let id = || self.id.clone();
        if self.id.trim().is_empty() {
            return Err(InvalidConfig::EmptyId);
        }
        if self.terminator.is_empty() {
            return Err(InvalidConfig::EmptyTerminator { id: id() });
        }
        if let TransportConfig::Serial { baud, data_bits, stop_bits, .. } = &self.transport {
            if *baud == 0 {
                return Err(InvalidConfig::Baud { id: id() });
            }
            if !(5..=8).contains(data_bits) {
                return Err(InvalidConfig::DataBits { id: id(), got: *data_bits });
            }
            if !(1..=2).contains(stop_bits) {
                return Err(InvalidConfig::StopBits { id: id(), got: *stop_bits });
            }
        }
        if let Some(p) = self.poll_interval
            && !(MIN_POLL..=MAX_POLL).contains(&p)
        {
            return Err(InvalidConfig::PollInterval { id: id(), got: p });
        }
        if self.transport.timeout().is_zero() {
            return Err(InvalidConfig::Timeout { id: id() });
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.channels {
            let channel = || c.id.clone();
            if c.id.trim().is_empty() {
                return Err(InvalidConfig::EmptyChannelId { id: id() });
            }
            if !seen.insert(c.id.as_str()) {
                return Err(InvalidConfig::DuplicateChannel { id: id(), channel: channel() });
            }
            if !c.scale.is_finite() || !c.offset.is_finite() {
                return Err(InvalidConfig::NotFinite { id: id(), channel: channel() });
            }
        }
        for key in &self.settings {
            if let Err(problem) = crate::control::check_setting_key(self.family, key) {
                return Err(InvalidConfig::Setting { id: id(), key: key.clone(), problem });
            }
        }
        // What the family needs (transport, its fields, its own checks).
        self.family.check(self).map_err(|problem| InvalidConfig::Family { id: id(), problem })
    }
}

impl InvalidConfig {
    /// The refusal as a translatable message (keys `err-config-*` in
    /// locales/*/core.ftl); English is the Display.
    pub fn text(&self) -> meterdeck_wire::i18n::Text {
        use meterdeck_wire::i18n::Text;
        let t = |key: &str, id: &str| Text::new(key).arg("id", id);
        match self {
            InvalidConfig::EmptyId => Text::new("err-config-empty-id"),
            InvalidConfig::EmptyTerminator { id } => t("err-config-empty-terminator", id),
            InvalidConfig::Baud { id } => t("err-config-baud", id),
            InvalidConfig::DataBits { id, got } => t("err-config-data-bits", id).arg("got", got.to_string()),
            InvalidConfig::StopBits { id, got } => t("err-config-stop-bits", id).arg("got", got.to_string()),
            InvalidConfig::PollInterval { id, got } => {
                t("err-config-poll-interval", id).arg("got", humantime::format_duration(*got).to_string())
            }
            InvalidConfig::Timeout { id } => t("err-config-timeout", id),
            InvalidConfig::EmptyChannelId { id } => t("err-config-empty-channel-id", id),
            InvalidConfig::DuplicateChannel { id, channel } => {
                t("err-config-duplicate-channel", id).arg("channel", channel)
            }
            InvalidConfig::NotFinite { id, channel } => t("err-config-not-finite", id).arg("channel", channel),
            InvalidConfig::Setting { id, key, problem } => t("err-config-setting", id)
                .arg("key", key)
                .text_arg("problem", crate::control::setting_key_text(problem)),
            InvalidConfig::Family { id, problem } => t("err-config-family", id).text_arg("problem", problem.text()),
        }
    }
}

/// An instrument configuration a driver cannot work with; each message
/// names the instrument and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidConfig {
    #[error("instrument: `id` must not be empty")]
    EmptyId,
    #[error("instrument `{id}`: `terminator` must not be empty")]
    EmptyTerminator { id: String },
    #[error("instrument `{id}`: `transport.baud` must be > 0")]
    Baud { id: String },
    #[error("instrument `{id}`: `transport.data_bits` must be 5..8, got {got}")]
    DataBits { id: String, got: u8 },
    #[error("instrument `{id}`: `transport.stop_bits` must be 1 or 2, got {got}")]
    StopBits { id: String, got: u8 },
    #[error("instrument `{id}`: `poll_interval` must be between 100ms and 1h, got {}", humantime::format_duration(*got))]
    PollInterval { id: String, got: Duration },
    #[error("instrument `{id}`: `transport.timeout` must be > 0")]
    Timeout { id: String },
    #[error("instrument `{id}`: a channel has an empty `id`")]
    EmptyChannelId { id: String },
    #[error("instrument `{id}`: channel `{channel}` is listed twice")]
    DuplicateChannel { id: String, channel: String },
    #[error("instrument `{id}`: channel `{channel}`: `scale` and `offset` must be finite")]
    NotFinite { id: String, channel: String },
    #[error("instrument `{id}`: `settings` entry `{key}`: {problem}")]
    Setting { id: String, key: String, problem: &'static str },
    /// What the instrument's family needs (see the family registry).
    #[error("instrument `{id}`: {problem}")]
    Family { id: String, problem: crate::registry::FieldError },
}
