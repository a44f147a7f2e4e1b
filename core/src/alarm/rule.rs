//! `[[alarm]]` rules: the serde shape of the contract (TOML and the UI's
//! JSON) and its checks. Kind-specific keys live side by side in one flat
//! struct (the contract is flat, and serde cannot deny unknown fields across
//! a flattened enum); `validate` refuses keys that do not belong to the kind.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fmt::{SizeError, parse_size};
use crate::model::SpecialKind;

/// Free bytes below which a storage rule raises when it names no `below`.
pub const DEFAULT_STORAGE_BELOW: u64 = 1_000_000_000;
/// Longest filter: a day; longer is a mistake and would overflow nothing but patience.
pub const MAX_FILTER: Duration = Duration::from_secs(24 * 3600);
pub const MIN_REMINDER: Duration = Duration::from_secs(60);
pub const MAX_REMINDER: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_TEXT: usize = 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AlarmRule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    // TypeScript: a defaulted field is optional (the form may leave it out).
    #[serde(default = "yes")]
    #[ts(as = "Option<_>", optional)]
    pub enabled: bool,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub severity: Severity,
    pub kind: RuleKind,
    /// threshold: required; special: optional (absent = any channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Applies to the first condition only (the second channel may have another unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadband: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<Second>,
    /// connection, new_file: optional (absent = any instrument).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// new_file: only files whose name matches this shell-style pattern
    /// (`*.csv`, case-insensitive); absent = every new file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// special: optional (absent = all kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specials: Option<Vec<SpecialKind>>,
    /// storage: optional (absent = 1GB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | number")]
    pub below: Option<ByteSize>,
    /// A duration such as `"10s"`.
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[ts(type = "string")]
    pub filter: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub notify_on_return: bool,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub destinations: Vec<String>,
    /// A duration such as `"15m"`.
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[ts(type = "string")]
    pub reminder: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn yes() -> bool {
    true
}

/// Declared low to high so that `Ord` sorts critical last; views sort descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Low, Severity::Medium, Severity::High, Severity::Critical].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Threshold,
    Connection,
    Special,
    Storage,
    /// The FTP collector fetched a new measurement file (SPEC 5.2).
    NewFile,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Threshold => "threshold",
            RuleKind::Connection => "connection",
            RuleKind::Special => "special",
            RuleKind::Storage => "storage",
            RuleKind::NewFile => "new_file",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    /// Alarm when `v <= low || v >= high`.
    #[serde(rename = "outside_incl")]
    OutsideIncl,
    /// Alarm when `v < low || v > high`.
    #[serde(rename = "outside_excl")]
    OutsideExcl,
}

impl Op {
    pub fn is_range(self) -> bool {
        matches!(self, Op::OutsideIncl | Op::OutsideExcl)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::OutsideIncl => "outside_incl",
            Op::OutsideExcl => "outside_excl",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    #[default]
    And,
    Or,
}

/// The optional second channel's condition (no deadband of its own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Second {
    pub channel: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub combine: Combine,
}

/// `window = { days, from, to, tz }`, kept as written; `validate` parses it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// `mon`..`sun`; absent = every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<String>>,
    /// `HH:MM`, inclusive; absent = `00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `HH:MM` (`24:00` allowed), exclusive; absent = `24:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// IANA name; absent = the engine's default zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// A size as written (`"1GB"`, `"500 MiB"`) or a plain byte count; parsed by
/// `validate` so a bad size is reported with its field.
#[derive(Clone, Debug, PartialEq)]
pub enum ByteSize {
    Text(String),
    Bytes(u64),
}

impl ByteSize {
    pub fn bytes(&self) -> Result<u64, SizeError> {
        match self {
            ByteSize::Bytes(b) => Ok(*b),
            ByteSize::Text(t) => parse_size(t),
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ByteSize::Text(t) => s.serialize_str(t),
            ByteSize::Bytes(b) => s.serialize_u64(*b),
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"1GB\" or \"500 MiB\", or a number of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                Ok(ByteSize::Text(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize::Bytes(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v).map(ByteSize::Bytes).map_err(|_| E::custom("a size cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A refused rule: `field` is e.g. `alarm[boiler-hot].high`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: String,
    /// `text` in English.
    pub message: String,
    /// The message in any language (locales/*/forms.ftl).
    #[serde(skip)]
    pub text: Text,
}

impl RuleError {
    pub fn new(field: impl Into<String>, text: Text) -> RuleError {
        RuleError { field: field.into(), message: text.to_string(), text }
    }
}

/// `[A-Za-z0-9_-]{1,64}`: ids appear in alarm ids (`<rule>:<channel>`) and file names.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An instrument id as a rule names it: no blanks at the ends, no `/`.
fn valid_instrument(i: &str) -> bool {
    !i.trim().is_empty() && i.trim() == i && !i.contains('/') && i.len() <= 128
}

/// `instrument/channel`, both parts non-empty, no blanks at the ends.
pub fn valid_channel_path(p: &str) -> bool {
    match p.split_once('/') {
        Some((i, c)) => {
            !i.is_empty() && !c.is_empty() && !i.contains('/') && i.trim() == i && c.trim() == c && p.len() <= 256
        }
        None => false,
    }
}

/// A parsed `window`: weekday mask (bit 0 = Monday) and ms of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowParts {
    pub days: u8,
    pub from_ms: u32,
    pub to_ms: u32,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `HH:MM` (or `H:MM`) to ms of the day; `24:00` only when `end`.
fn parse_hhmm(s: &str, end: bool) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let ok = (h < 24 && m < 60) || (end && h == 24 && m == 0);
    ok.then_some((h * 60 + m) * 60_000)
}

impl WindowSpec {
    /// Parses days and hours; errors are `(subfield, message)`.
    pub fn parts(&self) -> Result<WindowParts, (&'static str, Text)> {
        let days = match &self.days {
            None => 0x7f,
            Some(list) if list.is_empty() => {
                return Err(("days", Text::new("form-alarm-window-no-days")));
            }
            Some(list) => {
                let mut mask = 0u8;
                for d in list {
                    let i = DAY_NAMES.iter().position(|n| n.eq_ignore_ascii_case(d.trim())).ok_or_else(|| {
                        ("days", Text::new("form-alarm-window-unknown-day").arg("day", format!("{d:?}")))
                    })?;
                    mask |= 1 << i;
                }
                mask
            }
        };
        let from = match &self.from {
            None => 0,
            Some(s) => parse_hhmm(s, false)
                .ok_or_else(|| ("from", Text::new("form-alarm-window-from").arg("got", format!("{s:?}"))))?,
        };
        let to = match &self.to {
            None => 24 * 3_600_000,
            Some(s) => parse_hhmm(s, true)
                .ok_or_else(|| ("to", Text::new("form-alarm-window-to").arg("got", format!("{s:?}"))))?,
        };
        if from == to {
            return Err(("to", Text::new("form-alarm-window-empty")));
        }
        Ok(WindowParts { days, from_ms: from, to_ms: to })
    }

    pub fn zone(&self) -> Result<Option<chrono_tz::Tz>, (&'static str, Text)> {
        match &self.tz {
            None => Ok(None),
            Some(name) => chrono_tz::Tz::from_str(name.trim())
                .map(Some)
                .map_err(|_| ("tz", Text::new("form-alarm-window-tz").arg("name", format!("{name:?}")))),
        }
    }
}

/// Threshold operands after `validate`: `(a, b)` = `(value, -)` or `(low, high)`.
pub(crate) fn operands(op: Op, value: Option<f64>, low: Option<f64>, high: Option<f64>) -> (f64, f64) {
    if op.is_range() { (low.unwrap_or(f64::NAN), high.unwrap_or(f64::NAN)) } else { (value.unwrap_or(f64::NAN), 0.0) }
}

impl AlarmRule {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(&self.id)
    }

    pub fn filter_ms(&self) -> i64 {
        self.filter.map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64)
    }

    pub fn reminder_ms(&self) -> Option<i64> {
        self.reminder.map(|d| d.as_millis().min(i64::MAX as u128) as i64)
    }

    /// Free-byte threshold of a storage rule (default 1GB).
    pub fn storage_below(&self) -> u64 {
        self.below.as_ref().and_then(|b| b.bytes().ok()).unwrap_or(DEFAULT_STORAGE_BELOW)
    }

    /// Deserialises the UI's JSON; a failure names the offending field.
    pub fn from_json(v: &serde_json::Value) -> Result<AlarmRule, RuleError> {
        match serde_json::from_value::<AlarmRule>(v.clone()) {
            Ok(rule) => Ok(rule),
            Err(e) => Err(json_error(v, &e)),
        }
    }

    fn prefix(&self) -> String {
        if valid_id(&self.id) { format!("alarm[{}]", self.id) } else { "alarm".to_string() }
    }

    pub fn validate(&self) -> Result<(), RuleError> {
        let p = self.prefix();
        let err = |field: &str, text: Text| Err(RuleError::new(format!("{p}.{field}"), text));
        let got = |key: &str, v: String| Text::new(key).arg("got", v);
        if !valid_id(&self.id) {
            return err("id", got("form-alarm-id", format!("{:?}", self.id)));
        }
        if let Some(n) = &self.name
            && (n.trim().is_empty() || n.len() > 200)
        {
            return err("name", Text::new("form-alarm-name"));
        }
        let k = self.kind.as_str();
        // Keys that belong to other kinds.
        let foreign: [(&str, bool, &[RuleKind]); 10] = [
            ("channel", self.channel.is_some(), &[RuleKind::Threshold, RuleKind::Special]),
            ("op", self.op.is_some(), &[RuleKind::Threshold]),
            ("value", self.value.is_some(), &[RuleKind::Threshold]),
            ("low", self.low.is_some(), &[RuleKind::Threshold]),
            ("high", self.high.is_some(), &[RuleKind::Threshold]),
            ("deadband", self.deadband.is_some(), &[RuleKind::Threshold]),
            ("second", self.second.is_some(), &[RuleKind::Threshold]),
            ("instrument", self.instrument.is_some(), &[RuleKind::Connection, RuleKind::NewFile]),
            ("specials", self.specials.is_some(), &[RuleKind::Special]),
            ("pattern", self.pattern.is_some(), &[RuleKind::NewFile]),
        ];
        for (key, set, kinds) in foreign {
            if set && !kinds.contains(&self.kind) {
                return err(key, Text::new("form-alarm-not-for-kind").arg("key", key).arg("kind", k));
            }
        }
        if self.below.is_some() && self.kind != RuleKind::Storage {
            return err("below", Text::new("form-alarm-not-for-kind").arg("key", "below").arg("kind", k));
        }
        match self.kind {
            RuleKind::Threshold => {
                let Some(ch) = &self.channel else {
                    return err("channel", Text::new("form-alarm-threshold-no-channel"));
                };
                if !valid_channel_path(ch) {
                    return err("channel", channel_path("channel", ch));
                }
                let Some(op) = self.op else {
                    return err("op", Text::new("form-alarm-threshold-no-op"));
                };
                check_operands(op, self.value, self.low, self.high)
                    .map_err(|(f, m)| RuleError::new(format!("{p}.{f}"), m))?;
                if let Some(d) = self.deadband {
                    if !d.is_finite() || d < 0.0 {
                        return err("deadband", got("form-alarm-deadband", d.to_string()));
                    }
                    if let (true, Some(lo), Some(hi)) = (op.is_range(), self.low, self.high)
                        && 2.0 * d >= hi - lo
                    {
                        let text = Text::new("form-alarm-deadband-too-wide")
                            .arg("deadband", d.to_string())
                            .arg("low", lo.to_string())
                            .arg("high", hi.to_string());
                        return err("deadband", text);
                    }
                }
                if let Some(s) = &self.second {
                    if !valid_channel_path(&s.channel) {
                        return err("second.channel", channel_path("second.channel", &s.channel));
                    }
                    check_operands(s.op, s.value, s.low, s.high).map_err(|(f, m)| {
                        RuleError::new(format!("{p}.second.{f}"), Text::new("form-alarm-second").text_arg("message", m))
                    })?;
                }
            }
            RuleKind::Connection => {
                if let Some(i) = &self.instrument
                    && !valid_instrument(i)
                {
                    return err("instrument", got("form-alarm-instrument", format!("{i:?}")));
                }
            }
            RuleKind::NewFile => {
                if let Some(i) = &self.instrument
                    && !valid_instrument(i)
                {
                    return err("instrument", got("form-alarm-instrument", format!("{i:?}")));
                }
                if let Some(pat) = &self.pattern {
                    if pat.trim().is_empty() || pat.len() > 200 {
                        return err("pattern", Text::new("form-alarm-pattern"));
                    }
                    if let Err(m) = meterdeck_drivers::files::NamePattern::new(pat.trim()) {
                        return err("pattern", Text::plain(m));
                    }
                }
                // A new file is an event: raised at once, returned at once.
                for (key, set) in [("filter", self.filter.is_some()), ("window", self.window.is_some())] {
                    if set {
                        return err(key, Text::new("form-alarm-not-for-new-file").arg("key", key));
                    }
                }
            }
            RuleKind::Special => {
                if let Some(ch) = &self.channel
                    && !valid_channel_path(ch)
                {
                    return err("channel", channel_path("channel", ch));
                }
                if self.specials.as_ref().is_some_and(|s| s.is_empty()) {
                    return err("specials", Text::new("form-alarm-no-specials"));
                }
            }
            RuleKind::Storage => {
                if let Some(b) = &self.below {
                    match b.bytes() {
                        Ok(0) => return err("below", Text::new("form-alarm-below-zero")),
                        Ok(_) => {}
                        Err(m) => return err("below", Text::new("form-alarm-below").text_arg("message", m.text())),
                    }
                }
            }
        }
        if let Some(f) = self.filter
            && f > MAX_FILTER
        {
            return err("filter", got("form-alarm-filter", humantime::format_duration(f).to_string()));
        }
        if let Some(w) = &self.window {
            let window = |(f, m): (&str, Text)| {
                RuleError::new(format!("{p}.window.{f}"), Text::new("form-alarm-window").text_arg("message", m))
            };
            w.parts().map_err(window)?;
            w.zone().map_err(window)?;
        }
        let mut seen = HashSet::new();
        for d in &self.destinations {
            if !valid_id(d) {
                return err("destinations", Text::new("form-alarm-destination-id").arg("id", format!("{d:?}")));
            }
            if !seen.insert(d) {
                return err("destinations", Text::new("form-alarm-destination-twice").arg("id", format!("{d:?}")));
            }
        }
        if let Some(r) = self.reminder
            && !(MIN_REMINDER..=MAX_REMINDER).contains(&r)
        {
            return err("reminder", got("form-alarm-reminder", humantime::format_duration(r).to_string()));
        }
        if let Some(m) = &self.message
            && m.len() > MAX_TEXT
        {
            return err("message", Text::new("form-alarm-message").arg("max", MAX_TEXT.to_string()));
        }
        Ok(())
    }
}

/// `key` must be `instrument/channel` but is `ch`.
fn channel_path(key: &str, ch: &str) -> Text {
    Text::new("form-alarm-channel-path").arg("key", key).arg("got", format!("{ch:?}"))
}

/// `value` for the comparisons, `low` < `high` for the ranges; errors name the key.
fn check_operands(op: Op, value: Option<f64>, low: Option<f64>, high: Option<f64>) -> Result<(), (&'static str, Text)> {
    let finite = |key: &'static str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err((key, Text::new("form-alarm-not-finite").arg("key", key).arg("got", v.to_string())))
        }
    };
    let o = op.as_str();
    let needs = |key: &'static str| (key, Text::new("form-alarm-op-needs").arg("op", o).arg("key", key));
    if op.is_range() {
        if value.is_some() {
            return Err(("value", Text::new("form-alarm-op-range-no-value").arg("op", o)));
        }
        let Some(lo) = low else { return Err(needs("low")) };
        let Some(hi) = high else { return Err(needs("high")) };
        finite("low", lo)?;
        finite("high", hi)?;
        if lo >= hi {
            let text =
                Text::new("form-alarm-high-not-above-low").arg("high", hi.to_string()).arg("low", lo.to_string());
            return Err(("high", text));
        }
    } else {
        let only_value = |key: &'static str| (key, Text::new("form-alarm-op-value-only").arg("op", o).arg("key", key));
        if low.is_some() {
            return Err(only_value("low"));
        }
        if high.is_some() {
            return Err(only_value("high"));
        }
        let Some(v) = value else { return Err(needs("value")) };
        finite("value", v)?;
    }
    Ok(())
}

/// Every rule valid and ids unique.
pub fn validate_all(rules: &[AlarmRule]) -> Result<(), RuleError> {
    let mut seen = HashSet::new();
    for r in rules {
        r.validate()?;
        if !seen.insert(r.id.as_str()) {
            let text = Text::new("form-alarm-duplicate-id").arg("id", format!("{:?}", r.id));
            return Err(RuleError::new(format!("alarm[{}].id", r.id), text));
        }
    }
    Ok(())
}

/// Finds the key a serde error is about by deserialising each key alone
/// next to a minimal valid rule (serde_json errors carry no path).
fn json_error(v: &serde_json::Value, e: &serde_json::Error) -> RuleError {
    let Some(obj) = v.as_object() else {
        return RuleError::new("alarm", Text::new("form-alarm-not-object").arg("reason", e.to_string()));
    };
    let id = obj.get("id").and_then(|i| i.as_str()).filter(|i| valid_id(i));
    let p = id.map_or("alarm".to_string(), |i| format!("alarm[{i}]"));
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    for key in ["id", "kind"] {
        if !obj.contains_key(key) {
            return RuleError::new(format!("{p}.{key}"), Text::new("form-alarm-required").arg("key", key));
        }
    }
    for (key, val) in obj {
        let mut probe = serde_json::Map::new();
        probe.insert("id".into(), "x".into());
        probe.insert("kind".into(), "threshold".into());
        probe.insert(key.clone(), val.clone());
        if let Err(e) = serde_json::from_value::<AlarmRule>(serde_json::Value::Object(probe)) {
            let m = e.to_string();
            let m = m.split(" at line ").next().unwrap_or(&m);
            return RuleError::new(format!("{p}.{key}"), Text::new("form-key-says").arg("key", key).arg("reason", m));
        }
    }
    RuleError::new(p, Text::plain(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        alarm: Vec<AlarmRule>,
    }

    const CONTRACT: &str = r#"
[[alarm]]
id = "boiler-hot"
name = "Boiler too hot"
enabled = true
severity = "high"
kind = "threshold"
channel = "logger1/CH1_1"
op = ">"
value = 80.0
deadband = 0.5
second = { channel = "logger1/CH1_2", op = "<", value = 5.0, combine = "and" }
filter = "10s"
window = { days = ["mon","tue","wed","thu","fri"], from = "08:00", to = "18:00", tz = "Europe/Berlin" }
notify_on_return = true
destinations = ["desk", "ops-mail"]
reminder = "15m"
message = "Check the burner"

[[alarm]]
id = "range"
kind = "threshold"
channel = "a/b"
op = "outside_incl"
low = 10
high = 90

[[alarm]]
id = "link"
kind = "connection"
instrument = "logger1"

[[alarm]]
id = "specials"
kind = "special"
specials = ["over-range", "no-data"]

[[alarm]]
id = "disk"
kind = "storage"
below = "1GB"
"#;

    fn parse(text: &str) -> Result<Vec<AlarmRule>, String> {
        toml::from_str::<File>(text).map(|f| f.alarm).map_err(|e| e.to_string())
    }

    fn one(extra: &str) -> AlarmRule {
        parse(&format!("[[alarm]]\nid = \"r\"\n{extra}")).unwrap().remove(0)
    }

    fn field_of(extra: &str) -> String {
        one(extra).validate().unwrap_err().field
    }

    #[test]
    fn contract_example_parses_and_validates() {
        let rules = parse(CONTRACT).unwrap();
        assert_eq!(rules.len(), 5);
        validate_all(&rules).unwrap();
        let r = &rules[0];
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.filter, Some(Duration::from_secs(10)));
        assert_eq!(r.second.as_ref().unwrap().combine, Combine::And);
        assert_eq!(r.window.as_ref().unwrap().parts().unwrap().days, 0b1_1111);
        assert_eq!(rules[1].low, Some(10.0));
        assert_eq!(rules[4].storage_below(), 1_000_000_000);
        assert_eq!(rules[2].severity, Severity::Medium);
        assert!(rules[2].enabled);
    }

    #[test]
    fn json_round_trip_keeps_the_shape() {
        for r in parse(CONTRACT).unwrap() {
            let j = serde_json::to_value(&r).unwrap();
            assert_eq!(AlarmRule::from_json(&j).unwrap(), r);
        }
        let j = serde_json::to_value(&parse(CONTRACT).unwrap()[0]).unwrap();
        assert_eq!(j["filter"], "10s");
        assert_eq!(j["reminder"], "15m");
        assert_eq!(j["op"], ">");
        assert_eq!(j["second"]["combine"], "and");
        assert_eq!(j["window"]["tz"], "Europe/Berlin");
        assert!(j.get("low").is_none());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("[[alarm]]\nid = \"r\"\nkind = \"storage\"\nbogus = 1").unwrap_err().contains("bogus"));
        assert!(parse("[[alarm]]\nid=\"r\"\nkind=\"threshold\"\nwindow = { day = [] }").unwrap_err().contains("day"));
        assert!(parse("[[alarm]]\nid=\"r\"\nkind=\"threshold\"\nop = \"=>\"").unwrap_err().contains("=>"));
    }

    #[test]
    fn errors_name_the_field() {
        let t = "kind = \"threshold\"\nchannel = \"a/b\"\n";
        assert_eq!(field_of(&format!("{t}op = \">\"")), "alarm[r].value");
        assert_eq!(field_of(&format!("{t}op = \">\"\nvalue = 1\nlow = 0")), "alarm[r].low");
        assert_eq!(field_of(&format!("{t}op = \"outside_excl\"\nlow = 5\nhigh = 5")), "alarm[r].high");
        assert_eq!(
            field_of(&format!("{t}op = \"outside_excl\"\nlow = 0\nhigh = 5\ndeadband = 2.5")),
            "alarm[r].deadband"
        );
        assert_eq!(field_of(&format!("{t}op = \"<\"\nvalue = 1\ndeadband = -1")), "alarm[r].deadband");
        assert_eq!(field_of("kind = \"threshold\"\nop = \"<\"\nvalue = 1"), "alarm[r].channel");
        assert_eq!(field_of("kind = \"threshold\"\nchannel = \"ab\"\nop = \"<\"\nvalue = 1"), "alarm[r].channel");
        assert_eq!(field_of(&format!("{t}value = 1")), "alarm[r].op");
        assert_eq!(field_of(&format!("{t}op = \"<\"\nvalue = nan")), "alarm[r].value");
        assert_eq!(
            field_of(&format!("{t}op = \"<\"\nvalue = 1\nsecond = {{ channel = \"a/c\", op = \">\" }}")),
            "alarm[r].second.value"
        );
        assert_eq!(
            field_of(&format!("{t}op = \"<\"\nvalue = 1\nwindow = {{ tz = \"Mars/Base\" }}")),
            "alarm[r].window.tz"
        );
        assert_eq!(
            field_of(&format!("{t}op = \"<\"\nvalue = 1\nwindow = {{ days = [\"mo\"] }}")),
            "alarm[r].window.days"
        );
        assert_eq!(
            field_of(&format!("{t}op = \"<\"\nvalue = 1\nwindow = {{ from = \"8h\" }}")),
            "alarm[r].window.from"
        );
        assert_eq!(field_of(&format!("{t}op = \"<\"\nvalue = 1\nwindow = {{ to = \"24:01\" }}")), "alarm[r].window.to");
        assert_eq!(field_of(&format!("{t}op = \"<\"\nvalue = 1\nreminder = \"30s\"")), "alarm[r].reminder");
        assert_eq!(
            field_of(&format!("{t}op = \"<\"\nvalue = 1\ndestinations = [\"a\", \"a\"]")),
            "alarm[r].destinations"
        );
        assert_eq!(field_of("kind = \"connection\"\nchannel = \"a/b\""), "alarm[r].channel");
        assert_eq!(
            field_of("kind = \"storage\"\nsecond = { channel = \"a/c\", op = \">\", value = 1 }"),
            "alarm[r].second"
        );
        assert_eq!(field_of("kind = \"special\"\nspecials = []"), "alarm[r].specials");
        assert_eq!(field_of("kind = \"storage\"\nbelow = \"1 parsec\""), "alarm[r].below");
        assert_eq!(field_of("kind = \"storage\"\nbelow = 0"), "alarm[r].below");
        assert_eq!(field_of("kind = \"storage\"\nfilter = \"2d\""), "alarm[r].filter");
        let bad_id = parse("[[alarm]]\nid = \"a b\"\nkind = \"storage\"").unwrap().remove(0);
        assert_eq!(bad_id.validate().unwrap_err().field, "alarm.id");
        let msg = one("kind = \"storage\"\nbelow = \"1 parsec\"").validate().unwrap_err().message;
        assert!(msg.contains("unknown size unit"), "{msg}");
    }

    #[test]
    fn sizes_windows_and_duplicates() {
        assert_eq!(one("kind = \"storage\"\nbelow = \"500 MiB\"").storage_below(), 500 * 1024 * 1024);
        assert_eq!(one("kind = \"storage\"\nbelow = 12345").storage_below(), 12345);
        assert_eq!(one("kind = \"storage\"").storage_below(), DEFAULT_STORAGE_BELOW);
        assert!(parse("[[alarm]]\nid = \"r\"\nkind = \"storage\"\nbelow = -1").is_err());
        let w = one("kind = \"storage\"\nwindow = { from = \"22:00\", to = \"6:00\", days = [\"Sat\"] }");
        let parts = w.window.unwrap().parts().unwrap();
        assert_eq!(parts, WindowParts { days: 1 << 5, from_ms: 22 * 3_600_000, to_ms: 6 * 3_600_000 });
        assert!(one("kind = \"storage\"\nwindow = { from = \"08:00\", to = \"08:00\" }").validate().is_err());
        let rules = parse("[[alarm]]\nid=\"a\"\nkind=\"storage\"\n[[alarm]]\nid=\"a\"\nkind=\"storage\"").unwrap();
        assert_eq!(validate_all(&rules).unwrap_err().field, "alarm[a].id");
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = AlarmRule::from_json(&serde_json::json!({"id": "r", "kind": "threshold", "op": "=="})).unwrap_err();
        assert_eq!(e.field, "alarm[r].op");
        let e = AlarmRule::from_json(&serde_json::json!({"id": "r", "kind": "storage", "colour": 1})).unwrap_err();
        assert_eq!(e.field, "alarm[r].colour");
        let e = AlarmRule::from_json(&serde_json::json!({"id": "r"})).unwrap_err();
        assert_eq!(e.field, "alarm[r].kind");
        let e = AlarmRule::from_json(&serde_json::json!({"id": "r", "kind": "x", "value": "hot"})).unwrap_err();
        assert_eq!(e.field, "alarm[r].kind");
        let e =
            AlarmRule::from_json(&serde_json::json!({"id": "r", "kind": "threshold", "filter": "soon"})).unwrap_err();
        assert_eq!(e.field, "alarm[r].filter");
        let e = AlarmRule::from_json(&serde_json::json!([1])).unwrap_err();
        assert_eq!(e.field, "alarm");
    }

    #[test]
    fn new_file_rules_are_checked() {
        let r = one("kind = \"new_file\"\ninstrument = \"logger1\"\npattern = \"*.csv\"");
        r.validate().unwrap();
        assert_eq!(r.kind.as_str(), "new_file");
        one("kind = \"new_file\"").validate().unwrap();
        assert_eq!(field_of("kind = \"new_file\"\npattern = \"[\""), "alarm[r].pattern");
        let m = one("kind = \"new_file\"\npattern = \"[\"").validate().unwrap_err().message;
        assert!(m.contains("`[` is not a name pattern"), "{m}");
        assert_eq!(field_of("kind = \"new_file\"\npattern = \" \""), "alarm[r].pattern");
        assert_eq!(field_of("kind = \"new_file\"\ninstrument = \"a/b\""), "alarm[r].instrument");
        assert_eq!(field_of("kind = \"new_file\"\nchannel = \"a/b\""), "alarm[r].channel");
        assert_eq!(field_of("kind = \"new_file\"\nfilter = \"10s\""), "alarm[r].filter");
        assert_eq!(field_of("kind = \"new_file\"\nwindow = { from = \"08:00\" }"), "alarm[r].window");
        assert_eq!(field_of("kind = \"connection\"\npattern = \"*.csv\""), "alarm[r].pattern");
        let e = AlarmRule::from_json(&serde_json::json!({"id": "r", "kind": "new file"})).unwrap_err();
        assert_eq!(e.field, "alarm[r].kind");
    }

    #[test]
    fn severity_orders_critical_highest() {
        let mut v = vec![Severity::Medium, Severity::Critical, Severity::Low, Severity::High];
        v.sort();
        assert_eq!(v, [Severity::Low, Severity::Medium, Severity::High, Severity::Critical]);
        assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
    }

    #[test]
    fn refusals_read_as_before_in_english_and_are_translated() {
        let t = "kind = \"threshold\"\nchannel = \"a/b\"\n";
        let errors = [
            one(&format!("{t}op = \">\"")).validate().unwrap_err(),
            one(&format!("{t}op = \"outside_excl\"\nlow = 5\nhigh = 5")).validate().unwrap_err(),
            one(&format!("{t}op = \"<\"\nvalue = 1\nwindow = {{ tz = \"Mars/Base\" }}")).validate().unwrap_err(),
            one(&format!("{t}op = \"<\"\nvalue = 1\nsecond = {{ channel = \"a/c\", op = \">\" }}"))
                .validate()
                .unwrap_err(),
            one("kind = \"storage\"\nbelow = \"1 parsec\"").validate().unwrap_err(),
            one("kind = \"new_file\"\nfilter = \"10s\"").validate().unwrap_err(),
            one("kind = \"connection\"\nchannel = \"a/b\"").validate().unwrap_err(),
            AlarmRule::from_json(&serde_json::json!({"id": "r"})).unwrap_err(),
        ];
        for e in &errors {
            assert_eq!(e.text.to_string(), e.message, "the English file reads as the code");
            let de = e.text.render("de");
            assert_ne!(de, e.message, "{e} in German");
            assert!(!de.contains('{') && !de.contains('$'), "a placeholder left in {de:?}");
        }
        assert_eq!(errors[0].message, "op \">\" needs `value`");
        assert_eq!(errors[1].message, "`high` (5) must be greater than `low` (5)");
        assert_eq!(errors[1].text.render("de"), "`high` (5) muss größer als `low` (5) sein");
        assert_eq!(errors[3].text.render("de"), "zweite Bedingung: Operator \">\" braucht `value`");
        assert_eq!(
            errors[4].message,
            "`below`: unknown size unit \"parsec\" in \"1 parsec\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"
        );
        assert_eq!(errors[6].text.render("ja"), "`channel` は kind = \"connection\" には使えません");
        assert_eq!(
            errors[2].text.render("ja"),
            "時間帯: 不明なタイムゾーン \"Mars/Base\" です（\"Europe/Berlin\" のような IANA 名を指定）"
        );
    }
}
