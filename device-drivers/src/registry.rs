//! The instrument family registry (libsigrok's rule: a driver registers
//! itself and the front ends learn its options at run time).
//!
//! Each folder under `families/` declares one [`FamilyDescriptor`]: its id,
//! the translation key of its name, the transports it works over, its
//! default and discovery ports, the identities it claims, its instrument and
//! channel fields (with their checks) and the constructor of its driver.
//! [`crate::families::FAMILIES`] lists them, one line each. Config checks,
//! `open`, discovery, the desk and the window ask this module; nothing
//! outside a family's own folder matches on a family.
//!
//! Family properties still to come (BLE services) are further fields of
//! [`FamilyDescriptor`], filled in by each folder.

use std::fmt;
use std::sync::LazyLock;

use futures::future::BoxFuture;
use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

use crate::config::{ErrorFormat, InstrumentConfig, NO_ERROR_QUERY, TransportConfig};
use crate::driver::{Driver, Identity};
use crate::error::Result;

/// How bytes reach an instrument of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    Tcp,
    Serial,
    Ble,
    BleUart,
}

impl TransportKind {
    pub fn of(transport: &TransportConfig) -> TransportKind {
        match transport {
            TransportConfig::Tcp { .. } => TransportKind::Tcp,
            TransportConfig::Serial { .. } => TransportKind::Serial,
            TransportConfig::Ble { .. } => TransportKind::Ble,
            TransportConfig::BleUart { .. } => TransportKind::BleUart,
        }
    }

    /// The `transport.kind` spelling in the config file.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Serial => "serial",
            TransportKind::Ble => "ble",
            TransportKind::BleUart => "ble-uart",
        }
    }
}

/// How an instrument of a family tells who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Identification {
    /// It answers SCPI's `*IDN?` with `maker,model,serial,firmware`.
    Idn,
    /// The protocol has no identity query (Modbus): a sweep learns only that
    /// the port accepts connections, and identify keeps the last identity known.
    None,
}

/// An identity a family claims in discovery: the maker (any when empty,
/// compared without case) and the start of the model name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityPattern {
    pub maker: &'static str,
    pub model_prefix: &'static str,
}

impl IdentityPattern {
    /// Any identity at all: the fallback of a generic family.
    pub const ANY: IdentityPattern = IdentityPattern { maker: "", model_prefix: "" };

    /// How specific the match is (`None`: no match). A named maker counts
    /// more than any model prefix, a longer prefix more than a shorter one.
    pub fn score(&self, identity: &Identity) -> Option<usize> {
        let maker_ok = self.maker.is_empty() || identity.maker.trim().eq_ignore_ascii_case(self.maker);
        let model = identity.model.trim().to_ascii_uppercase();
        (maker_ok && model.starts_with(&self.model_prefix.to_ascii_uppercase()))
            .then(|| usize::from(!self.maker.is_empty()) * 1000 + self.model_prefix.len())
    }
}

/// What a LAN sweep tries for a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    /// TCP ports a sweep tries when none are given.
    pub ports: &'static [u16],
    /// Identities (answers to `*IDN?`) that belong to this family.
    pub identities: &'static [IdentityPattern],
}

/// How a family reads its instruments' error queue: the query and the form
/// of its reply. An instrument's `error_query` / `error_format` override it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorQuery {
    pub query: &'static str,
    pub format: ErrorFormat,
}

/// The error query an instrument uses: its family's, with the instrument's
/// overrides. `None`: the instrument has no error queue (or the family no
/// error query at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorQuerySetting {
    pub query: String,
    pub format: ErrorFormat,
}

impl ErrorQuerySetting {
    pub fn of(cfg: &InstrumentConfig) -> Option<ErrorQuerySetting> {
        let family = cfg.family.error_query?;
        let query = cfg.error_query.as_deref().map(str::trim).unwrap_or(family.query);
        if query.eq_ignore_ascii_case(NO_ERROR_QUERY) {
            return None;
        }
        // A query of the instrument's own with no format given: either form.
        let format =
            cfg.error_format.unwrap_or(if cfg.error_query.is_some() { ErrorFormat::Either } else { family.format });
        Some(ErrorQuerySetting { query: query.to_string(), format })
    }
}

/// Instrument fields of the families that read an error queue.
pub mod error_fields {
    use super::{FieldKind, FieldSpec};
    use crate::config::ErrorFormat;

    pub const ERROR_QUERY: FieldSpec = FieldSpec::optional("error_query", "inst.field.error_query", FieldKind::Text);
    pub const ERROR_FORMAT: FieldSpec = FieldSpec::optional(
        "error_format",
        "inst.field.error_format",
        FieldKind::Choice { values: ErrorFormat::NAMES },
    );
}

/// Instrument fields of the line-based families that can share a
/// multi-drop serial line (an address command before each exchange).
pub mod bus_fields {
    use super::{FieldKind, FieldSpec};

    pub const SELECT: FieldSpec = FieldSpec::optional("select", "inst.field.select", FieldKind::Text);
    pub const SELECT_REPLY: FieldSpec = FieldSpec::optional("select_reply", "inst.field.select_reply", FieldKind::Text);
}

/// The kind of value a field holds, with its limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FieldKind {
    Text,
    /// A whole number in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// Any finite number.
    Number,
    /// One of these words.
    Choice {
        values: &'static [&'static str],
    },
}

/// A default as the form shows it and serde fills it in.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum FieldValue {
    Text(&'static str),
    Integer(i64),
    Number(f64),
}

/// One field of an instrument's or a channel's configuration that a family
/// uses. `key` is its path in the config (`query`, `modbus.address`,
/// `unit_id`): the window builds the JSON by it and the checks look it up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    pub key: &'static str,
    /// Translation key of the label.
    pub label_key: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// What serde fills in when the field is left out.
    pub default: Option<FieldValue>,
}

impl FieldSpec {
    /// An optional field of `kind` without a default.
    pub const fn optional(key: &'static str, label_key: &'static str, kind: FieldKind) -> FieldSpec {
        FieldSpec { key, label_key, kind, required: false, default: None }
    }

    /// A field that must be given.
    pub const fn required(key: &'static str, label_key: &'static str, kind: FieldKind) -> FieldSpec {
        FieldSpec { key, label_key, kind, required: true, default: None }
    }

    pub const fn with_default(mut self, value: FieldValue) -> FieldSpec {
        self.default = Some(value);
        self
    }

    /// Checks the field's value in `config` (the JSON of an instrument or a
    /// channel); a missing or null value is fine unless required.
    pub fn check(&self, config: &Json, family: Family) -> Result<(), FieldError> {
        let key = self.key;
        let value = self.key.split('.').try_fold(config, |v, k| v.get(k)).filter(|v| !v.is_null());
        let blank = value.and_then(Json::as_str).is_some_and(|s| s.trim().is_empty());
        let Some(value) = value.filter(|_| !blank) else {
            return if self.required { Err(FieldError::Missing { key, family: family.id() }) } else { Ok(()) };
        };
        match self.kind {
            FieldKind::Text if !value.is_string() => Err(FieldError::Type { key, expected: "text" }),
            FieldKind::Number if !value.as_f64().is_some_and(f64::is_finite) => {
                Err(FieldError::Type { key, expected: "a finite number" })
            }
            FieldKind::Integer { min, max } => match value.as_i64() {
                Some(v) if (min..=max).contains(&v) => Ok(()),
                Some(v) => Err(FieldError::Range { key, min, max, got: v.to_string() }),
                None => Err(FieldError::Range { key, min, max, got: value.to_string() }),
            },
            FieldKind::Choice { values } => match value.as_str() {
                Some(v) if values.contains(&v) => Ok(()),
                _ => Err(FieldError::Choice {
                    key,
                    allowed: values.join(", "),
                    got: value.as_str().map_or_else(|| value.to_string(), str::to_string),
                }),
            },
            _ => Ok(()),
        }
    }
}

/// Channel fields most families share.
pub mod fields {
    use super::{FieldKind, FieldSpec, FieldValue};

    /// The channel's id within the instrument.
    pub const CHANNEL_ID: FieldSpec = FieldSpec::required("id", "inst.field.id", FieldKind::Text);
    pub const UNIT: FieldSpec = FieldSpec::optional("unit", "inst.field.unit", FieldKind::Text);
    /// value = raw * scale + offset
    pub const SCALE: FieldSpec =
        FieldSpec::optional("scale", "inst.field.scale", FieldKind::Number).with_default(FieldValue::Number(1.0));
    pub const OFFSET: FieldSpec =
        FieldSpec::optional("offset", "inst.field.offset", FieldKind::Number).with_default(FieldValue::Number(0.0));
}

/// A field of an instrument's configuration its family cannot work with.
/// Every message quotes the field's key, so the config file's error points
/// at its line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("needs `{key}` (family {family})")]
    Missing { key: &'static str, family: &'static str },
    #[error("`{key}` must be {expected}")]
    Type { key: &'static str, expected: &'static str },
    #[error("`{key}` must be {min}..{max}, got {got}")]
    Range { key: &'static str, min: i64, max: i64, got: String },
    #[error("`{key}` must be one of {allowed}, got `{got}`")]
    Choice { key: &'static str, allowed: String, got: String },
    #[error("family {family} does not work over `transport.kind` {got}; use {allowed}")]
    Transport { family: &'static str, got: &'static str, allowed: String },
    #[error("`{key}` is not used by family {family}")]
    Unused { key: &'static str, family: &'static str },
    #[error("`transport.port` must be given: family {family} has no default port")]
    NoPort { family: &'static str },
    #[error("channel `{channel}`: {problem}")]
    Channel { channel: String, problem: Box<FieldError> },
    /// A family's own check (see [`FamilyDescriptor::check`]); keys
    /// `err-field-*` in locales/*/core.ftl.
    #[error("{0}")]
    Family(Text),
}

impl FieldError {
    /// The problem as a translatable message (keys `err-field-*` in
    /// locales/*/core.ftl); English is the Display.
    pub fn text(&self) -> Text {
        match self {
            FieldError::Missing { key, family } => {
                Text::new("err-field-missing").arg("key", *key).arg("family", *family)
            }
            FieldError::Type { key, expected } => {
                let expected = match *expected {
                    "text" => Text::new("err-field-expected-text"),
                    "a finite number" => Text::new("err-field-expected-number"),
                    other => Text::plain(other),
                };
                Text::new("err-field-type").arg("key", *key).text_arg("expected", expected)
            }
            FieldError::Range { key, min, max, got } => Text::new("err-field-range")
                .arg("key", *key)
                .arg("min", min.to_string())
                .arg("max", max.to_string())
                .arg("got", got),
            FieldError::Choice { key, allowed, got } => {
                Text::new("err-field-choice").arg("key", *key).arg("allowed", allowed).arg("got", got)
            }
            FieldError::Transport { family, got, allowed } => {
                Text::new("err-field-transport").arg("family", *family).arg("got", *got).arg("allowed", allowed)
            }
            FieldError::Unused { key, family } => Text::new("err-field-unused").arg("key", *key).arg("family", *family),
            FieldError::NoPort { family } => Text::new("err-field-no-port").arg("family", *family),
            FieldError::Channel { channel, problem } => {
                Text::new("err-field-channel").arg("channel", channel).text_arg("problem", problem.text())
            }
            FieldError::Family(t) => t.clone(),
        }
    }
}

/// A family's own configuration check, beyond its fields'.
pub type CheckFn = fn(&InstrumentConfig) -> Result<(), FieldError>;

/// Connects the family's driver; the configuration is already checked.
pub type OpenFn = for<'a> fn(&'a InstrumentConfig) -> BoxFuture<'a, Result<Box<dyn Driver>>>;

/// Everything the rest of the program knows about a family. Each family's
/// folder declares one as a `static` and lists it in
/// [`crate::families::FAMILIES`].
pub struct FamilyDescriptor {
    /// The `family = "..."` of the config file.
    pub id: &'static str,
    /// Translation key of the family's name in the window.
    pub name_key: &'static str,
    pub transports: &'static [TransportKind],
    /// The TCP port used when the configuration names none.
    pub default_port: Option<u16>,
    pub identification: Identification,
    pub discovery: Discovery,
    /// Instrument-level fields the family uses beyond id, name, transport
    /// and poll interval (e.g. the Modbus unit id).
    pub instrument_fields: &'static [FieldSpec],
    /// The fields of each `[[instrument.channel]]`.
    pub channel_fields: &'static [FieldSpec],
    /// How the family reads an instrument's error queue (`None`: it has none,
    /// e.g. Modbus).
    pub error_query: Option<ErrorQuery>,
    /// Checks beyond the fields' own, with messages naming the field.
    pub check: Option<CheckFn>,
    pub open: OpenFn,
}

impl FamilyDescriptor {
    /// The window's view of the family.
    pub fn info(&'static self) -> FamilyInfo {
        FamilyInfo {
            id: self.id,
            name_key: self.name_key,
            transports: self.transports,
            default_port: self.default_port,
            identification: self.identification,
            discovery_ports: self.discovery.ports,
            instrument_fields: self.instrument_fields,
            channel_fields: self.channel_fields,
        }
    }
}

/// What the window learns about a family (the `families` command): enough
/// to list it and build its form.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FamilyInfo {
    pub id: &'static str,
    pub name_key: &'static str,
    pub transports: &'static [TransportKind],
    pub default_port: Option<u16>,
    pub identification: Identification,
    pub discovery_ports: &'static [u16],
    pub instrument_fields: &'static [FieldSpec],
    pub channel_fields: &'static [FieldSpec],
}

/// A registered family: a copyable handle on its descriptor, written as its
/// id in configuration files and JSON (`"hioki-logger"`). Two handles are
/// equal when their ids are.
#[derive(Clone, Copy)]
pub struct Family(&'static FamilyDescriptor);

impl Family {
    pub const fn of(descriptor: &'static FamilyDescriptor) -> Family {
        Family(descriptor)
    }

    /// Every registered family, in registration order.
    pub fn all() -> &'static [Family] {
        crate::families::FAMILIES
    }

    /// The registered family with this id.
    pub fn lookup(id: &str) -> Option<Family> {
        Family::all().iter().copied().find(|f| f.id() == id)
    }

    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// The id (as written in the config and stored with the instrument).
    pub fn name(self) -> &'static str {
        self.0.id
    }

    pub fn default_port(self) -> Option<u16> {
        self.0.default_port
    }

    pub fn descriptor(self) -> &'static FamilyDescriptor {
        self.0
    }

    pub fn info(self) -> FamilyInfo {
        self.0.info()
    }

    /// Checks what the family needs of an instrument's configuration: its
    /// transport, its instrument and channel fields, then its own check.
    /// Channel errors name the channel (`channel `t`: ...`).
    pub fn check(self, cfg: &InstrumentConfig) -> Result<(), FieldError> {
        let d = self.0;
        let kind = TransportKind::of(&cfg.transport);
        if !d.transports.contains(&kind) {
            let allowed: Vec<&str> = d.transports.iter().map(|t| t.name()).collect();
            return Err(FieldError::Transport { family: d.id, got: kind.name(), allowed: allowed.join(" or ") });
        }
        if let TransportConfig::Tcp { port: None, .. } = cfg.transport
            && d.default_port.is_none()
        {
            return Err(FieldError::NoPort { family: d.id });
        }
        let json = serde_json::to_value(cfg)
            .map_err(|e| FieldError::Family(Text::new("err-field-read-config").arg("reason", e.to_string())))?;
        for f in d.instrument_fields {
            f.check(&json, self)?;
        }
        for key in ["error_query", "error_format"] {
            unused_field(&json, key, d.instrument_fields, d.id)?;
        }
        check_error_query(cfg)?;
        for key in ["select", "select_reply"] {
            unused_field(&json, key, d.instrument_fields, d.id)?;
        }
        check_select(cfg)?;
        let channels = json.get("channel").and_then(Json::as_array).map_or(&[][..], Vec::as_slice);
        for (c, cj) in cfg.channels.iter().zip(channels) {
            let in_channel = |e: FieldError| FieldError::Channel { channel: c.id.clone(), problem: Box::new(e) };
            unused_field(cj, "timeout", d.channel_fields, d.id).map_err(in_channel)?;
            if let Some(t) = c.timeout
                && (t.is_zero() || t > MAX_CHANNEL_TIMEOUT)
            {
                let got = humantime::format_duration(t);
                return Err(in_channel(FieldError::Family(
                    Text::new("err-field-channel-timeout").arg("got", got.to_string()),
                )));
            }
            for f in d.channel_fields {
                f.check(cj, self).map_err(|e| FieldError::Channel { channel: c.id.clone(), problem: Box::new(e) })?;
            }
        }
        match d.check {
            Some(check) => check(cfg),
            None => Ok(()),
        }
    }

    /// Connects this family's driver (the caller has validated `cfg`).
    pub fn open(self, cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
        (self.0.open)(cfg)
    }
}

impl std::ops::Deref for Family {
    type Target = FamilyDescriptor;

    fn deref(&self) -> &FamilyDescriptor {
        self.0
    }
}

impl PartialEq for Family {
    fn eq(&self, other: &Family) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Family {}

impl std::hash::Hash for Family {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Family({})", self.id())
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// Longest reply timeout a channel may ask for.
pub const MAX_CHANNEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A field given in `config` that the family has no use for: an error, so
/// that a setting never silently does nothing.
fn unused_field(
    config: &Json,
    key: &'static str,
    fields: &[FieldSpec],
    family: &'static str,
) -> Result<(), FieldError> {
    let given = config.get(key).is_some_and(|v| !v.is_null());
    if given && !fields.iter().any(|f| f.key == key) {
        return Err(FieldError::Unused { key, family });
    }
    Ok(())
}

/// `error_query` is one query line (or `none`); `error_format` needs a query.
fn check_error_query(cfg: &InstrumentConfig) -> Result<(), FieldError> {
    let Some(query) = cfg.error_query.as_deref() else { return Ok(()) };
    let query = query.trim();
    let bad = |key: &str| FieldError::Family(Text::new(key).arg("got", crate::text::quote_reply(query)));
    if query.eq_ignore_ascii_case(NO_ERROR_QUERY) {
        if cfg.error_format.is_some() {
            return Err(FieldError::Family(Text::new("err-field-error-format-unused")));
        }
        return Ok(());
    }
    if query.is_empty() {
        return Err(bad("err-field-error-query-empty"));
    }
    if query.contains(['\n', '\r', ';']) || query.chars().any(char::is_control) {
        return Err(bad("err-field-error-query-line"));
    }
    if !query.ends_with('?') {
        return Err(bad("err-field-error-query-mark"));
    }
    Ok(())
}

/// `select` is one command line for a serial instrument; `select_reply`
/// one reply line that needs a `select`.
fn check_select(cfg: &InstrumentConfig) -> Result<(), FieldError> {
    let one_line = |key: &str, text: &str| {
        let text = text.trim();
        let bad =
            |why: &str| FieldError::Family(Text::new(why).arg("key", key).arg("got", crate::text::quote_reply(text)));
        if text.is_empty() {
            return Err(bad("err-field-line-empty"));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("err-field-line-multi"));
        }
        Ok(())
    };
    if let Some(reply) = cfg.select_reply.as_deref() {
        if cfg.select.is_none() {
            return Err(FieldError::Family(Text::new("err-field-select-reply-alone")));
        }
        one_line("select_reply", reply)?;
    }
    let Some(select) = cfg.select.as_deref() else { return Ok(()) };
    one_line("select", select)?;
    if !matches!(cfg.transport, TransportConfig::Serial { .. }) {
        return Err(FieldError::Family(Text::new("err-field-select-serial")));
    }
    Ok(())
}

/// The registered ids, for serde's "expected one of" message.
static IDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| Family::all().iter().map(|f| f.id()).collect());

impl<'de> Deserialize<'de> for Family {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Family, D::Error> {
        let id = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Family::lookup(&id).ok_or_else(|| serde::de::Error::unknown_variant(&id, &IDS))
    }
}

/// TCP ports a LAN sweep tries when none are given: every family's
/// discovery ports, each once, in registration order.
pub fn sweep_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for f in Family::all() {
        for p in f.discovery.ports {
            if !ports.contains(p) {
                ports.push(*p);
            }
        }
    }
    ports
}

/// Discovery ports of families without an identity query: what accepts a
/// connection there is reported as that family without asking `*IDN?`.
pub fn connect_only_ports() -> Vec<(u16, Family)> {
    let mut out: Vec<(u16, Family)> = Vec::new();
    for f in Family::all().iter().filter(|f| f.identification == Identification::None) {
        for p in f.discovery.ports {
            if !out.iter().any(|(q, _)| q == p) {
                out.push((*p, *f));
            }
        }
    }
    out
}

/// The family an identity most likely belongs to: the most specific
/// matching pattern wins, the first registered on a tie.
pub fn guess_family(identity: &Identity) -> Option<Family> {
    let mut best: Option<(usize, Family)> = None;
    for f in Family::all() {
        for score in f.discovery.identities.iter().filter_map(|p| p.score(identity)) {
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, *f));
            }
        }
    }
    best.map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelConfig;
    use crate::families::{FAMILIES, hioki_logger, hioki_power, modbus, scpi};

    fn id(maker: &str, model: &str) -> Identity {
        Identity { maker: maker.into(), model: model.into(), ..Identity::default() }
    }

    #[test]
    fn ids_are_unique_and_round_trip_through_serde() {
        let mut seen = std::collections::HashSet::new();
        for f in FAMILIES {
            assert!(seen.insert(f.id()), "{} registered twice", f.id());
            assert!(!f.transports.is_empty(), "{} has no transport", f.id());
            let json = serde_json::to_string(f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.id()));
            assert_eq!(serde_json::from_str::<Family>(&json).unwrap(), *f);
        }
        let err = serde_json::from_str::<Family>("\"oscilloscope\"").unwrap_err().to_string();
        assert!(err.contains("oscilloscope") && err.contains("hioki-logger") && err.contains("modbus"), "{err}");
    }

    #[test]
    fn identities_pick_the_most_specific_family() {
        assert_eq!(guess_family(&id("HIOKI", "LR8450")), Some(hioki_logger::FAMILY));
        assert_eq!(guess_family(&id("hioki", " pw3390-03 ")), Some(hioki_power::FAMILY));
        assert_eq!(guess_family(&id("HIOKI", "DM7275")), Some(scpi::FAMILY));
        assert_eq!(guess_family(&id("Keysight", "LR8000")), Some(scpi::FAMILY));
        assert_eq!(IdentityPattern { maker: "HIOKI", model_prefix: "LR8" }.score(&id("HIOKI", "LR8450")), Some(1003));
        assert_eq!(IdentityPattern::ANY.score(&id("", "")), Some(0));
    }

    #[test]
    fn sweep_ports_come_from_the_families() {
        let ports = sweep_ports();
        for p in [8802, 3390, 3300, 5025, 502] {
            assert!(ports.contains(&p), "{ports:?}");
        }
        assert_eq!(ports.len(), ports.iter().collect::<std::collections::HashSet<_>>().len());
        assert!(connect_only_ports().contains(&(502, modbus::FAMILY)));
        assert!(!connect_only_ports().iter().any(|(p, _)| *p == 5025));
    }

    /// A declared default is what serde fills in when the field is left out.
    #[test]
    fn declared_defaults_equal_serdes() {
        let bare_channel = serde_json::to_value(
            serde_json::from_value::<ChannelConfig>(serde_json::json!({"id": "x", "modbus": {"address": 0}})).unwrap(),
        )
        .unwrap();
        let bare_instrument = serde_json::to_value(
            serde_json::from_value::<InstrumentConfig>(serde_json::json!({
                "id": "i", "family": "scpi", "transport": {"kind": "tcp", "host": "h"}
            }))
            .unwrap(),
        )
        .unwrap();
        for f in FAMILIES {
            for (fields, bare) in [(f.channel_fields, &bare_channel), (f.instrument_fields, &bare_instrument)] {
                for spec in fields.iter().filter(|s| s.default.is_some()) {
                    let got = spec.key.split('.').try_fold(bare, |v, k| v.get(k));
                    let want = serde_json::to_value(spec.default).unwrap();
                    let same = match (got, &want) {
                        (Some(g), w) if g.is_number() && w.is_number() => g.as_f64() == w.as_f64(),
                        (g, w) => g == Some(w),
                    };
                    assert!(same, "{}: `{}` defaults to {want}, serde gives {got:?}", f.id(), spec.key);
                }
            }
        }
    }

    fn instrument(toml_text: &str) -> InstrumentConfig {
        toml::from_str(&format!("id = \"i\"\ntransport = {{ kind = \"tcp\", host = \"h\", port = 1 }}\n{toml_text}"))
            .unwrap()
    }

    #[test]
    fn error_queries_come_from_the_family_and_the_instrument() {
        let of = |t: &str| ErrorQuerySetting::of(&instrument(t));
        let setting = |q: &str, format| Some(ErrorQuerySetting { query: q.into(), format });
        assert_eq!(of("family = \"hioki-logger\""), setting(":ERRor?", ErrorFormat::Nr1));
        assert_eq!(of("family = \"hioki-power\""), setting(":ERRor?", ErrorFormat::Nr1));
        assert_eq!(of("family = \"scpi\""), setting(":SYSTem:ERRor?", ErrorFormat::Either));
        assert_eq!(of("family = \"modbus\""), None);
        assert_eq!(
            of("family = \"hioki-logger\"\nerror_query = \":SYST:ERR?\"\nerror_format = \"scpi\""),
            setting(":SYST:ERR?", ErrorFormat::Scpi)
        );
        assert_eq!(of("family = \"scpi\"\nerror_query = \":ERR?\""), setting(":ERR?", ErrorFormat::Either));
        assert_eq!(of("family = \"scpi\"\nerror_format = \"nr1\""), setting(":SYSTem:ERRor?", ErrorFormat::Nr1));
        assert_eq!(of("family = \"hioki-power\"\nerror_query = \"none\""), None);
    }

    #[test]
    fn bad_error_settings_are_clear_errors() {
        let check = |t: &str| instrument(t).validate().map_err(|e| e.to_string());
        assert_eq!(check("family = \"scpi\"\nerror_query = \"none\""), Ok(()));
        let cases = [
            ("family = \"scpi\"\nerror_query = \":SYST:ERR\"", "`error_query` must be a query ending in `?`"),
            ("family = \"scpi\"\nerror_query = \" \"", "`error_query` must be a query such as"),
            ("family = \"scpi\"\nerror_query = \"*CLS;:ERR?\"", "`error_query` must be one query on one line"),
            ("family = \"scpi\"\nerror_query = \"none\"\nerror_format = \"nr1\"", "`error_format` is given but"),
            ("family = \"modbus\"\nerror_query = \":ERR?\"", "`error_query` is not used by family modbus"),
            ("family = \"sdm630\"\nerror_format = \"nr1\"", "`error_format` is not used by family sdm630"),
        ];
        for (text, want) in cases {
            let err = check(text).unwrap_err();
            assert!(err.starts_with("instrument `i`: ") && err.contains(want), "{text}: {err}");
        }
        let err = toml::from_str::<InstrumentConfig>(
            "id = \"i\"\nfamily = \"scpi\"\nerror_format = \"text\"\ntransport = { kind = \"tcp\", host = \"h\" }",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown variant `text`") && err.contains("nr1"), "{err}");
    }

    #[test]
    fn select_is_one_line_for_a_serial_line_based_instrument() {
        let serial = |t: &str| {
            toml::from_str::<InstrumentConfig>(&format!(
                "id = \"i\"\ntransport = {{ kind = \"serial\", path = \"/dev/ttyUSB0\" }}\n{t}"
            ))
            .unwrap()
            .validate()
            .map_err(|e| e.to_string())
        };
        assert_eq!(serial("family = \"scpi\"\nselect = \"ADR 6\"\nselect_reply = \"OK\""), Ok(()));
        assert_eq!(serial("family = \"hioki-power\"\nselect = \"ADR 2\""), Ok(()));
        assert_eq!(serial("family = \"hioki-logger\"\nselect = \"ADR 3\""), Ok(()));
        let cases = [
            ("family = \"scpi\"\nselect = \"ADR 6\\nV?\"", "`select` must be one line"),
            ("family = \"scpi\"\nselect_reply = \"OK\"", "`select_reply` is given but `select` is not"),
            ("family = \"scpi\"\nselect = \"ADR 6\"\nselect_reply = \"O\\rK\"", "`select_reply` must be one line"),
            ("family = \"modbus\"\nselect = \"ADR 6\"", "`select` is not used by family modbus"),
            ("family = \"sdm630\"\nselect_reply = \"OK\"", "`select_reply` is not used by family sdm630"),
        ];
        for (text, want) in cases {
            let err = serial(text).unwrap_err();
            assert!(err.starts_with("instrument `i`: ") && err.contains(want), "{text}: {err}");
        }
        let blank = serial("family = \"scpi\"\nselect = \"  \"").unwrap_err();
        assert!(blank.starts_with("instrument `i`: ") && blank.contains("`select`"), "{blank}");
        let err = instrument("family = \"scpi\"\nselect = \"ADR 6\"").validate().unwrap_err().to_string();
        assert!(err.contains("`select`") && err.contains("needs a serial transport"), "{err}");
    }

    #[test]
    fn channel_timeouts_are_for_generic_scpi_channels() {
        let check = |t: &str| instrument(t).validate().map_err(|e| e.to_string());
        let channel = "[[channel]]\nid = \"v\"\nquery = \"V?\"\ntimeout = ";
        assert_eq!(check(&format!("family = \"scpi\"\n{channel}\"5s\"")), Ok(()));
        let err = check(&format!("family = \"scpi\"\n{channel}\"0s\"")).unwrap_err();
        assert_eq!(err, "instrument `i`: channel `v`: `timeout` must be > 0 and at most 1m, got 0s");
        let err = check(&format!("family = \"scpi\"\n{channel}\"2m\"")).unwrap_err();
        assert_eq!(err, "instrument `i`: channel `v`: `timeout` must be > 0 and at most 1m, got 2m");
        let err = check("family = \"hioki-power\"\n[[channel]]\nid = \"U1\"\ntimeout = \"5s\"").unwrap_err();
        assert_eq!(err, "instrument `i`: channel `U1`: `timeout` is not used by family hioki-power");
        assert!(
            toml::from_str::<InstrumentConfig>(&format!(
                "id = \"i\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"h\" }}\n{channel}\"soon\""
            ))
            .is_err()
        );
    }

    #[test]
    fn field_checks_name_the_field() {
        let fam = modbus::FAMILY;
        let required = FieldSpec::required("modbus.address", "k", FieldKind::Integer { min: 0, max: 10 });
        let json = |v| serde_json::json!({ "modbus": v });
        assert_eq!(required.check(&json(serde_json::json!({"address": 3})), fam), Ok(()));
        let e = required.check(&json(serde_json::Value::Null), fam).unwrap_err().to_string();
        assert_eq!(e, "needs `modbus.address` (family modbus)");
        let e = required.check(&json(serde_json::json!({"address": 11})), fam).unwrap_err().to_string();
        assert_eq!(e, "`modbus.address` must be 0..10, got 11");
        let choice = FieldSpec::optional("id", "k", FieldKind::Choice { values: &["U1", "I1"] });
        let e = choice.check(&serde_json::json!({"id": "X9"}), fam).unwrap_err().to_string();
        assert_eq!(e, "`id` must be one of U1, I1, got `X9`");
        let text = FieldSpec::required("query", "k", FieldKind::Text);
        assert!(text.check(&serde_json::json!({"query": "  "}), fam).is_err());
        let number = FieldSpec::optional("scale", "k", FieldKind::Number);
        assert!(number.check(&serde_json::json!({"scale": "big"}), fam).is_err());
        assert!(number.check(&serde_json::json!({}), fam).is_ok());
    }
}
