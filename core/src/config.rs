//! The agent's TOML configuration: an `[agent]` table and `[[instrument]]`
//! tables that deserialize straight into [`InstrumentConfig`].
//!
//! Every error names the file, the line and the field. Serde errors carry a
//! byte span; semantic errors (ours and [`InstrumentConfig::validate`]) are
//! located by parsing the document once more with toml's span-preserving
//! [`DeTable`] and looking the offending field up by path.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::config::{MAX_POLL, MIN_POLL};
use meterdeck_drivers::transport::check_shared_ports;
use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};

use crate::alarm::AlarmRule;
use crate::calc::CalcConfig;
use crate::fmt::{GIB, MIB, parse_size};
use crate::notify::DestinationConfig;
use crate::store::Durability;
// The `[cloud]` table belongs to sync, which checks it; the whole
// configuration names it here.
/// SPEC 2.4: unsynced data is kept at least the latest two weeks (the store enforces it).
pub use crate::store::MIN_KEEP_UNSYNCED;
pub use crate::sync::settings::{
    CloudSettings, DEFAULT_ALLOWANCE_BYTES, DEFAULT_MQTT_PORT, DEFAULT_RESEND_TIMEOUT, DEFAULT_SEND_INTERVAL,
    DEFAULT_SYNC_WINDOW,
};

/// Name of the SQLite file inside the data directory.
pub const STORE_FILE: &str = "meterdeck.db";
pub const DEFAULT_POLL: Duration = Duration::from_secs(60);
pub const DEFAULT_QUOTA_BYTES: u64 = 4 * GIB;
/// Smallest quota we accept: below this retention would thrash.
pub const MIN_QUOTA_BYTES: u64 = 16 * MIB;
pub const DEFAULT_BLOCK_SAMPLES: usize = 1024;
pub const BLOCK_SAMPLES_RANGE: std::ops::RangeInclusive<usize> = 16..=65536;

/// The `[agent]` table, defaults applied and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSettings {
    pub name: String,
    pub data_dir: Option<PathBuf>,
    /// Default poll interval for instruments that name none.
    pub poll_interval: Duration,
    pub durability: Durability,
    pub disk_quota_bytes: u64,
    pub keep_unsynced: Duration,
    pub block_samples: usize,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            name: default_agent_name(),
            data_dir: None,
            poll_interval: DEFAULT_POLL,
            durability: Durability::Normal,
            disk_quota_bytes: DEFAULT_QUOTA_BYTES,
            keep_unsynced: MIN_KEEP_UNSYNCED,
            block_samples: DEFAULT_BLOCK_SAMPLES,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    pub agent: AgentSettings,
    pub instruments: Vec<InstrumentConfig>,
    /// `[[calc]]`: calculation channels, stored as `calc/<id>`.
    pub calcs: Vec<CalcConfig>,
    /// `[[alarm]]`: alarm rules.
    pub alarms: Vec<AlarmRule>,
    /// `[[destination]]`: where notifications go.
    pub destinations: Vec<DestinationConfig>,
    /// `[cloud]`: where the outbox drains to; `None` = no cloud sync.
    pub cloud: Option<CloudSettings>,
    /// `[[files]]`: instruments' measurement files over FTP.
    pub files: Vec<crate::files::FileSource>,
    /// The file it was loaded from, if any.
    pub source: Option<PathBuf>,
}

impl AgentConfig {
    /// A config built in code (demo, bench, tests); validated like a file.
    pub fn new(agent: AgentSettings, instruments: Vec<InstrumentConfig>) -> Result<AgentConfig, ConfigError> {
        let cfg = AgentConfig {
            agent,
            instruments,
            calcs: Vec::new(),
            alarms: Vec::new(),
            destinations: Vec::new(),
            cloud: None,
            files: Vec::new(),
            source: None,
        };
        for inst in &cfg.instruments {
            inst.validate().map_err(|m| ConfigError::plain("<built-in config>", Text::plain(m.to_string())))?;
        }
        if let Some(dup) = first_duplicate_id(&cfg.instruments) {
            let text = Text::new("config-instrument-id-used").arg("id", &cfg.instruments[dup].id);
            return Err(ConfigError::plain("<built-in config>", text));
        }
        check_shared_ports(&cfg.instruments)
            .map_err(|e| ConfigError::plain("<built-in config>", Text::plain(e.to_string())))?;
        Ok(cfg)
    }

    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { file: path.to_path_buf(), message: e.to_string() })?;
        let mut cfg = AgentConfig::parse(&text, &path.display().to_string())?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parse config text; `origin` names it in errors (usually the path).
    pub fn parse(text: &str, origin: &str) -> Result<AgentConfig, ConfigError> {
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => return Err(serde_error(text, origin, &e)),
        };
        let locator = Locator::new(text, origin);
        let agent = check_agent(raw.agent, &locator)?;
        for (i, inst) in raw.instruments.iter().enumerate() {
            if let Err(msg) = inst.validate() {
                return Err(locator.instrument_error(i, inst, msg.to_string()));
            }
        }
        if let Some(dup) = first_duplicate_id(&raw.instruments) {
            let id = &raw.instruments[dup].id;
            let first = raw.instruments.iter().position(|i| &i.id == id).unwrap_or(dup);
            let first_line = locator.line_of(&[Seg::Key("instrument"), Seg::Index(first), Seg::Key("id")]);
            let msg = Text::new("config-instrument-id-at-line")
                .arg("id", id)
                .arg("line", first_line.unwrap_or(0).to_string());
            return Err(locator.error_at(
                &[Seg::Key("instrument"), Seg::Index(dup), Seg::Key("id")],
                "instrument.id",
                msg,
            ));
        }
        if let Err(e) = check_shared_ports(&raw.instruments) {
            // Points at the second instrument's transport (or its `select`), naming both.
            let field = e.field();
            return Err(locator.error_at(
                &[Seg::Key("instrument"), Seg::Index(e.second_index()), Seg::Key(field)],
                &format!("instrument.{field}"),
                Text::plain(e.to_string()),
            ));
        }
        check_sections(&raw.instruments, &raw.calcs, &raw.alarms, &raw.destinations, &locator)?;
        let cloud = raw.cloud.map(|c| check_cloud(c, &locator)).transpose()?;
        check_files(&raw.files, &raw.instruments, &locator)?;
        Ok(AgentConfig {
            agent,
            instruments: raw.instruments,
            calcs: raw.calcs,
            alarms: raw.alarms,
            destinations: raw.destinations,
            cloud,
            files: raw.files,
            source: None,
        })
    }

    /// Checks the alarm, calculation and destination sections together (a
    /// rule may name a destination or a calc output); the message names the
    /// field, e.g. `alarm[hot].destinations`.
    pub fn check_sections(&self) -> Result<(), SectionError> {
        sections_ok(&self.instruments, &self.calcs, &self.alarms, &self.destinations)
    }

    /// The interval an instrument is polled at in normal mode.
    pub fn poll_interval_of(&self, inst: &InstrumentConfig) -> Duration {
        inst.poll_interval.unwrap_or(self.agent.poll_interval)
    }

    pub fn enabled_instruments(&self) -> impl Iterator<Item = &InstrumentConfig> {
        self.instruments.iter().filter(|i| i.enabled)
    }

    /// What the plan limits count (SPEC 7): instruments, the configured
    /// channels of each, alarm rules, calculation channels.
    pub fn counts(&self) -> crate::licence::Counts {
        let n = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
        crate::licence::Counts {
            instruments: n(self.instruments.len()),
            channels: self.instruments.iter().map(|i| (i.id.clone(), n(i.channels.len()))).collect(),
            alarm_rules: n(self.alarms.len()),
            calcs: n(self.calcs.len()),
            // Counted from the store by the desk (dashboards are not configuration).
            panels: 0,
        }
    }
}

fn first_duplicate_id(instruments: &[InstrumentConfig]) -> Option<usize> {
    let mut seen = std::collections::HashSet::new();
    instruments.iter().position(|i| !seen.insert(i.id.as_str()))
}

fn default_agent_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "meterdeck-agent".to_string())
}

/// Where the agent keeps its store when neither the command line nor the
/// config names a directory: `$XDG_DATA_HOME/meterdeck`, else
/// `~/.local/share/meterdeck`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("meterdeck"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local/share/meterdeck"))
}

/// A refused configuration. The message is ours (keyed, locales/*/forms.ftl)
/// or quotes what the OS or the TOML parser said; Display is English and
/// [`text_in`](ConfigError::text_in) any language.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `message`: the OS's words.
    #[error("{}: cannot read: {message}", file.display())]
    Read { file: PathBuf, message: String },
    /// `FILE:LINE:COL: message`; the message names the field.
    #[error("{file}:{line}:{col}: {message}")]
    At { file: String, line: usize, col: usize, field: String, message: Text },
    #[error("{file}: {message}")]
    Plain { file: String, message: Text },
}

impl ConfigError {
    fn plain(file: &str, message: Text) -> ConfigError {
        ConfigError::Plain { file: file.to_string(), message }
    }

    /// The error in `lang`: the `file:line:col:` frame as it is, then the
    /// message translated (what the OS or the parser said stays as said).
    /// English is the Display.
    pub fn text_in(&self, lang: &str) -> String {
        match self {
            ConfigError::Read { file, message } => {
                let said = Text::new("config-read").arg("reason", message).render(lang);
                format!("{}: {said}", file.display())
            }
            ConfigError::At { file, line, col, message, .. } => {
                format!("{file}:{line}:{col}: {}", message.render(lang))
            }
            ConfigError::Plain { file, message } => format!("{file}: {}", message.render(lang)),
        }
    }

    /// The line (1-based) the error points at, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::At { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The dotted path of the offending field, when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::At { field, .. } if !field.is_empty() => Some(field),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------- raw form

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    agent: RawAgent,
    #[serde(default, rename = "instrument")]
    instruments: Vec<InstrumentConfig>,
    #[serde(default, rename = "calc")]
    calcs: Vec<CalcConfig>,
    #[serde(default, rename = "alarm")]
    alarms: Vec<AlarmRule>,
    #[serde(default, rename = "destination")]
    destinations: Vec<DestinationConfig>,
    cloud: Option<RawCloud>,
    #[serde(default, rename = "files")]
    files: Vec<crate::files::FileSource>,
}

/// `[[files]]` sections: each names an instrument of this file; the error
/// points at the section's field.
fn check_files(
    files: &[crate::files::FileSource],
    instruments: &[InstrumentConfig],
    loc: &Locator,
) -> Result<(), ConfigError> {
    let Err((field, message)) = crate::files::validate_all(files, instruments) else {
        return Ok(());
    };
    let id = field.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(id, _)| id).unwrap_or("");
    let key = field.rsplit('.').next().unwrap_or("").to_string();
    let index = files.iter().rposition(|f| f.instrument == id).unwrap_or(0);
    Err(loc.error_at(
        &[Seg::Key("files"), Seg::Index(index), Seg::Key(&key)],
        &format!("files.{key}"),
        Text::new("config-files-field").arg("field", &field).text_arg("message", message),
    ))
}

/// A refused `[[calc]]`, `[[alarm]]` or `[[destination]]`: the dotted field
/// (`alarm[hot].value`) and why.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{field}: {message}")]
pub struct SectionError {
    pub field: String,
    /// Why: English here (the Display); the desktop app sends it to the
    /// window in the window's language.
    pub message: String,
    /// 1-based column in a calc expression, when the error is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub position: Option<usize>,
    /// The message in any language; `None` when it has no key (the words
    /// of a parser, or a check that words its message itself).
    #[serde(skip)]
    #[ts(skip)]
    pub text: Option<Text>,
}

impl SectionError {
    /// A refusal worded in English only (`message` in every language).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> SectionError {
        SectionError { field: field.into(), message: message.into(), position: None, text: None }
    }

    /// A refusal with a keyed message.
    pub fn keyed(field: impl Into<String>, text: Text, position: Option<usize>) -> SectionError {
        SectionError { field: field.into(), message: text.to_string(), position, text: Some(text) }
    }

    /// The message in `lang` (English: `message`).
    pub fn message_in(&self, lang: &str) -> String {
        match &self.text {
            Some(t) => t.render(lang),
            None => self.message.clone(),
        }
    }

    /// `field: message` in `lang`; English is the Display.
    pub fn text_in(&self, lang: &str) -> String {
        format!("{}: {}", self.field, self.message_in(lang))
    }

    /// The whole refusal (`field: message`) as a message in any language.
    pub fn full_text(&self) -> Text {
        let message = self.text.clone().unwrap_or_else(|| Text::plain(&self.message));
        Text::new("config-field").arg("field", &self.field).text_arg("message", message)
    }
}

impl From<crate::calc::CalcError> for SectionError {
    fn from(e: crate::calc::CalcError) -> SectionError {
        SectionError::keyed(e.field, e.text, e.position)
    }
}

impl From<crate::alarm::RuleError> for SectionError {
    fn from(e: crate::alarm::RuleError) -> SectionError {
        SectionError::keyed(e.field, e.text, None)
    }
}

impl From<crate::notify::DestError> for SectionError {
    fn from(e: crate::notify::DestError) -> SectionError {
        SectionError::keyed(e.field, e.text, None)
    }
}

fn sections_ok(
    instruments: &[InstrumentConfig],
    calcs: &[CalcConfig],
    alarms: &[AlarmRule],
    destinations: &[DestinationConfig],
) -> Result<(), SectionError> {
    crate::calc::validate_all(calcs)?;
    crate::alarm::validate_all(alarms)?;
    crate::notify::destination::validate_all(destinations)?;
    if !calcs.is_empty()
        && let Some(i) = instruments.iter().find(|i| i.id == crate::calc::OUTPUT_INSTRUMENT)
    {
        let text = Text::new("config-reserved-instrument").arg("id", &i.id);
        return Err(SectionError::keyed(format!("instrument[{}].id", i.id), text, None));
    }
    for rule in alarms {
        for d in &rule.destinations {
            if !destinations.iter().any(|x| &x.id == d) {
                let text = Text::new("config-no-destination").arg("id", d);
                return Err(SectionError::keyed(format!("alarm[{}].destinations", rule.id), text, None));
            }
        }
    }
    Ok(())
}

/// Points a section error at its line: `alarm[hot].high` -> the `high` key
/// of the `[[alarm]]` table whose id is `hot` (or whose index is given).
fn check_sections(
    instruments: &[InstrumentConfig],
    calcs: &[CalcConfig],
    alarms: &[AlarmRule],
    destinations: &[DestinationConfig],
    loc: &Locator,
) -> Result<(), ConfigError> {
    let Err(e) = sections_ok(instruments, calcs, alarms, destinations) else {
        return Ok(());
    };
    let (section, rest) = e.field.split_once('[').unwrap_or((e.field.as_str(), ""));
    let (key, tail) = rest.split_once(']').unwrap_or(("", ""));
    let field = tail.trim_start_matches('.').split('.').next().unwrap_or("");
    let ids: Vec<&str> = match section {
        "calc" => calcs.iter().map(|c| c.id.as_str()).collect(),
        "alarm" => alarms.iter().map(|a| a.id.as_str()).collect(),
        "destination" => destinations.iter().map(|d| d.id.as_str()).collect(),
        "instrument" => instruments.iter().map(|i| i.id.as_str()).collect(),
        _ => Vec::new(),
    };
    let index = key.parse::<usize>().ok().or_else(|| ids.iter().position(|id| *id == key));
    let mut path = vec![Seg::Key(section)];
    if let Some(i) = index {
        path.push(Seg::Index(i));
        if !field.is_empty() {
            path.push(Seg::Key(field));
        }
    }
    Err(loc.error_at(&path, &e.field, e.full_text()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default, with = "humantime_serde")]
    poll_interval: Option<Duration>,
    durability: Option<Durability>,
    disk_quota: Option<String>,
    disk_quota_mb: Option<u64>,
    #[serde(default, with = "humantime_serde")]
    keep_unsynced: Option<Duration>,
    block_samples: Option<usize>,
}

fn check_agent(raw: RawAgent, loc: &Locator) -> Result<AgentSettings, ConfigError> {
    let at =
        |field: &'static str, msg: Text| loc.error_at(&[Seg::Key("agent"), Seg::Key(field)], field_name(field), msg);
    let got = |key: &str, v: String| Text::new(key).arg("got", v);
    let mut s = AgentSettings::default();
    if let Some(name) = raw.name {
        if name.trim().is_empty() {
            return Err(at("name", Text::new("config-agent-name")));
        }
        s.name = name;
    }
    s.data_dir = raw.data_dir;
    if let Some(p) = raw.poll_interval {
        if !(MIN_POLL..=MAX_POLL).contains(&p) {
            return Err(at(
                "poll_interval",
                got("config-agent-poll-interval", humantime::format_duration(p).to_string()),
            ));
        }
        s.poll_interval = p;
    }
    if let Some(d) = raw.durability {
        s.durability = d;
    }
    match (raw.disk_quota, raw.disk_quota_mb) {
        (Some(_), Some(_)) => {
            return Err(at("disk_quota_mb", Text::new("config-agent-quota-both")));
        }
        (Some(text), None) => {
            s.disk_quota_bytes = parse_size(&text).map_err(|m| {
                at("disk_quota", Text::new("form-key-says").arg("key", "agent.disk_quota").text_arg("reason", m.text()))
            })?;
        }
        (None, Some(mb)) => {
            s.disk_quota_bytes =
                mb.checked_mul(MIB).ok_or_else(|| at("disk_quota_mb", Text::new("config-agent-quota-mb-too-large")))?;
        }
        (None, None) => {}
    }
    if s.disk_quota_bytes < MIN_QUOTA_BYTES {
        let field = if loc.line_of(&[Seg::Key("agent"), Seg::Key("disk_quota_mb")]).is_some() {
            "disk_quota_mb"
        } else {
            "disk_quota"
        };
        return Err(at(field, got("config-agent-quota-too-small", s.disk_quota_bytes.to_string())));
    }
    if let Some(k) = raw.keep_unsynced {
        if k < MIN_KEEP_UNSYNCED {
            return Err(at(
                "keep_unsynced",
                got("config-agent-keep-unsynced", humantime::format_duration(k).to_string()),
            ));
        }
        s.keep_unsynced = k;
    }
    if let Some(b) = raw.block_samples {
        if !BLOCK_SAMPLES_RANGE.contains(&b) {
            return Err(at("block_samples", got("config-agent-block-samples", b.to_string())));
        }
        s.block_samples = b;
    }
    Ok(s)
}

// ---------------------------------------------------------------- [cloud]

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloud {
    host: String,
    port: Option<u16>,
    #[serde(default)]
    tls: bool,
    ca_file: Option<PathBuf>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    agent: String,
    monthly_allowance: Option<String>,
    window: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    resend_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    send_interval: Option<Duration>,
    api: Option<String>,
    licence_key: Option<String>,
    account: Option<String>,
}

fn check_cloud(raw: RawCloud, loc: &Locator) -> Result<CloudSettings, ConfigError> {
    let at = |field: &'static str, msg: Text| {
        loc.error_at(&[Seg::Key("cloud"), Seg::Key(field)], &format!("cloud.{field}"), msg)
    };
    let mut c = CloudSettings::new(raw.host, raw.port.unwrap_or(DEFAULT_MQTT_PORT), raw.agent);
    c.tls = raw.tls;
    c.ca_file = raw.ca_file;
    c.client_cert = raw.client_cert;
    c.client_key = raw.client_key;
    if let Some(text) = raw.monthly_allowance {
        c.allowance_bytes = parse_size(&text).map_err(|m| {
            let text = Text::new("form-key-says").arg("key", "cloud.monthly_allowance").text_arg("reason", m.text());
            at("monthly_allowance", text)
        })?;
    }
    if let Some(w) = raw.window {
        c.window = w;
    }
    if let Some(t) = raw.resend_timeout {
        c.resend_timeout = t;
    }
    if let Some(t) = raw.send_interval {
        c.send_interval = t;
    }
    c.api = raw.api.map(|a| a.trim_end_matches('/').to_string());
    c.licence_key = raw.licence_key;
    c.account = raw.account;
    c.validate().map_err(|e| at(e.field, e.text))?;
    // The certificate files are read now, so a bad one is a config error
    // naming the field and the file rather than a failing link later.
    if c.tls {
        crate::sync::tls::client_config(&c).map_err(|e| {
            let field = e.field.strip_prefix("cloud.").unwrap_or("tls");
            at(field, Text::plain(e.to_string()))
        })?;
    }
    Ok(c)
}

fn field_name(field: &'static str) -> &'static str {
    match field {
        "name" => "agent.name",
        "poll_interval" => "agent.poll_interval",
        "disk_quota" => "agent.disk_quota",
        "disk_quota_mb" => "agent.disk_quota_mb",
        "keep_unsynced" => "agent.keep_unsynced",
        "block_samples" => "agent.block_samples",
        other => other,
    }
}

// ---------------------------------------------------------------- locating

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(1, |s| s.chars().count() + 1);
    (line, col)
}

fn serde_error(text: &str, origin: &str, e: &toml::de::Error) -> ConfigError {
    let (span, field) = match e.span() {
        Some(span) => Locator::new(text, origin).refine(span, e.message()),
        None => (0..0, String::new()),
    };
    let (line, col) = line_col(text, span.start);
    // The parser's words, quoted as they are.
    let message = if field.is_empty() {
        Text::plain(e.message())
    } else {
        Text::new("form-key-says").arg("key", &field).arg("reason", e.message())
    };
    ConfigError::At { file: origin.to_string(), line, col, field, message }
}

#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Finds spans in the document by field path (and paths by offset).
struct Locator<'t> {
    text: &'t str,
    origin: &'t str,
    doc: Option<toml::Spanned<DeTable<'t>>>,
}

impl<'t> Locator<'t> {
    fn new(text: &'t str, origin: &'t str) -> Locator<'t> {
        Locator { text, origin, doc: DeTable::parse(text).ok() }
    }

    /// Span of the key (or array element header) at `path`.
    fn span_of(&self, path: &[Seg]) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut table: &DeTable = doc.get_ref();
        let mut value: Option<&toml::Spanned<DeValue>> = None;
        let mut span = None;
        for seg in path {
            match *seg {
                Seg::Key(k) => {
                    if let Some(v) = value {
                        table = v.get_ref().as_table()?;
                    }
                    let (key, v) = table.iter().find(|(key, _)| key.get_ref() == k)?;
                    span = Some(key.span());
                    value = Some(v);
                }
                Seg::Index(i) => {
                    let arr = value?.get_ref().as_array()?;
                    let v = arr.get(i)?;
                    span = Some(v.span());
                    value = Some(v);
                }
            }
        }
        span
    }

    fn line_of(&self, path: &[Seg]) -> Option<usize> {
        self.span_of(path).map(|s| line_col(self.text, s.start).0)
    }

    fn error_at(&self, path: &[Seg], field: &str, message: Text) -> ConfigError {
        // Fall back to ever shorter prefixes: a default that failed has no key.
        let span = (0..=path.len()).rev().find_map(|n| self.span_of(&path[..n]));
        let (line, col) = span.map_or((0, 0), |s| line_col(self.text, s.start));
        if line == 0 {
            return ConfigError::plain(self.origin, message);
        }
        ConfigError::At { file: self.origin.to_string(), line, col, field: field.to_string(), message }
    }

    /// Locates a message from `InstrumentConfig::validate` (it names fields
    /// and channels in backticks) inside instrument `index`.
    fn instrument_error(&self, index: usize, inst: &InstrumentConfig, msg: String) -> ConfigError {
        let quoted: Vec<String> = msg.split('`').skip(1).step_by(2).map(str::to_string).collect();
        // Which channel, if the message is about one.
        let channel = channel_named_in(&msg).and_then(|name| {
            let twice = msg.contains("listed twice");
            let mut hits = inst.channels.iter().enumerate().filter(|(_, c)| c.id == name).map(|(i, _)| i);
            if twice { hits.nth(1) } else { hits.next() }
        });
        let channel = channel.or_else(|| {
            (msg.contains("empty `id`") && msg.contains("channel"))
                .then(|| inst.channels.iter().position(|c| c.id.trim().is_empty()))
                .flatten()
        });
        let base = [Seg::Key("instrument"), Seg::Index(index)];
        for q in &quoted {
            if Some(q) == channel_named_in(&msg).as_ref() || *q == inst.id {
                continue;
            }
            let fields: Vec<Seg> = q.split('.').map(Seg::Key).collect();
            if let Some(ch) = channel {
                let mut p = base.to_vec();
                p.extend([Seg::Key("channel"), Seg::Index(ch)]);
                p.extend(fields.iter().copied());
                if self.span_of(&p).is_some() {
                    return self.error_at(&p, &format!("instrument.channel.{q}"), Text::plain(msg));
                }
            }
            let mut p = base.to_vec();
            p.extend(fields.iter().copied());
            if self.span_of(&p).is_some() {
                return self.error_at(&p, &format!("instrument.{q}"), Text::plain(msg));
            }
        }
        if let Some(ch) = channel {
            let mut p = base.to_vec();
            p.extend([Seg::Key("channel"), Seg::Index(ch), Seg::Key("id")]);
            return self.error_at(&p, "instrument.channel.id", Text::plain(msg));
        }
        let field =
            quoted.iter().find(|q| **q != inst.id).map_or("instrument".to_string(), |q| format!("instrument.{q}"));
        self.error_at(&base, &field, Text::plain(msg))
    }

    /// Serde reports some errors (inside internally tagged enums such as
    /// `transport`) at the enclosing table; find the offending key or value
    /// the message quotes inside that table so the line is the right one.
    fn refine(&self, span: Range<usize>, message: &str) -> (Range<usize>, String) {
        let path = self.path_at(span.start);
        let Some(doc) = self.doc.as_ref() else { return (span, path) };
        let mut nodes = Vec::new();
        collect_nodes(doc.get_ref(), String::new(), &mut nodes);
        let quoted = |prefix: &str, open: char, close: char| -> Option<String> {
            let rest = &message[message.find(prefix)? + prefix.len()..];
            let rest = rest.strip_prefix(open)?;
            Some(rest[..rest.find(close)?].to_string())
        };
        let wanted_key = quoted("unknown field ", '`', '`');
        let wanted_value = quoted("unknown variant ", '`', '`')
            .or_else(|| quoted("string ", '"', '"'))
            .or_else(|| quoted("integer ", '`', '`'))
            .or_else(|| quoted("floating point ", '`', '`'));
        let inside = |p: &str| p == path || p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}["));
        for (s, p) in &nodes {
            if !inside(p) || s.start < span.start {
                continue;
            }
            let src = self.text.get(s.clone()).unwrap_or("");
            let last_key = p.rsplit('.').next().unwrap_or(p);
            let key_hit = wanted_key.as_deref().is_some_and(|k| last_key == k && src == k);
            let value_hit = wanted_value
                .as_deref()
                .is_some_and(|v| src.trim_matches(|c| c == '"' || c == '\'') == v && src != last_key);
            if key_hit || value_hit {
                return (s.clone(), p.clone());
            }
        }
        (span, path)
    }

    /// The dotted path of the field at byte `offset`, like
    /// `instrument[1].transport.port`.
    fn path_at(&self, offset: usize) -> String {
        let Some(doc) = self.doc.as_ref() else { return String::new() };
        let mut nodes = Vec::new();
        collect_nodes(doc.get_ref(), String::new(), &mut nodes);
        // Prefer the smallest span containing the offset, else the last one
        // that starts before it (a table header before its body).
        let containing = nodes
            .iter()
            .filter(|(s, _)| s.start <= offset && offset < s.end.max(s.start + 1))
            .min_by_key(|(s, _)| s.len());
        let preceding = || nodes.iter().filter(|(s, _)| s.start <= offset).max_by_key(|(s, _)| s.start);
        containing.or_else(preceding).map(|(_, p)| p.clone()).unwrap_or_default()
    }
}

fn channel_named_in(msg: &str) -> Option<String> {
    let rest = &msg[msg.find("channel `")? + "channel `".len()..];
    Some(rest[..rest.find('`')?].to_string())
}

fn collect_nodes(table: &DeTable, prefix: String, out: &mut Vec<(Range<usize>, String)>) {
    for (k, v) in table.iter() {
        let path = if prefix.is_empty() { k.get_ref().to_string() } else { format!("{prefix}.{}", k.get_ref()) };
        out.push((k.span(), path.clone()));
        collect_value(v, path, out);
    }
}

fn collect_value(v: &toml::Spanned<DeValue>, path: String, out: &mut Vec<(Range<usize>, String)>) {
    out.push((v.span(), path.clone()));
    match v.get_ref() {
        DeValue::Table(t) => collect_nodes(t, path, out),
        DeValue::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                collect_value(e, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[agent]
name = "site-a"
poll_interval = "30s"
durability = "full"
disk_quota = "2 GiB"
keep_unsynced = "21d"

[[instrument]]
id = "logger1"
family = "hioki-logger"
transport = { kind = "tcp", host = "127.0.0.1", port = 8802 }
poll_interval = "10s"

[[instrument.channel]]
id = "CH1_1"
unit = "V"

[[instrument]]
id = "pm"
family = "hioki-power"
enabled = false
[instrument.transport]
kind = "tcp"
host = "10.0.0.2"
"#;

    fn err(text: &str) -> ConfigError {
        match AgentConfig::parse(text, "site.toml") {
            Ok(_) => panic!("config should have been rejected:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn good_config_loads_with_defaults() {
        let cfg = AgentConfig::parse(GOOD, "site.toml").unwrap();
        assert_eq!(cfg.agent.name, "site-a");
        assert_eq!(cfg.agent.poll_interval, Duration::from_secs(30));
        assert_eq!(cfg.agent.durability, Durability::Full);
        assert_eq!(cfg.agent.disk_quota_bytes, 2 * GIB);
        assert_eq!(cfg.agent.keep_unsynced, Duration::from_secs(21 * 86400));
        assert_eq!(cfg.agent.block_samples, 1024);
        assert_eq!(cfg.instruments.len(), 2);
        assert_eq!(cfg.poll_interval_of(&cfg.instruments[0]), Duration::from_secs(10));
        assert_eq!(cfg.poll_interval_of(&cfg.instruments[1]), Duration::from_secs(30));
        assert_eq!(cfg.enabled_instruments().count(), 1);
        assert_eq!(cfg.instruments[0].channels[0].unit.as_deref(), Some("V"));
    }

    #[test]
    fn cloud_section_loads_with_defaults_and_checks() {
        let text = "[cloud]\nhost = \"mqtt.example.com\"\nagent = \"site-a\"\n";
        let c = AgentConfig::parse(text, "c.toml").unwrap().cloud.unwrap();
        assert_eq!((c.host.as_str(), c.port, c.tls), ("mqtt.example.com", 1883, false));
        assert_eq!(c.allowance_bytes, GIB);
        assert_eq!(c.window, 8);
        assert_eq!(c.resend_timeout, Duration::from_secs(15));
        assert_eq!(c.send_interval, Duration::from_secs(60));
        assert_eq!(c.broker(), "mqtt.example.com:1883");
        let full = "[cloud]\nhost = \"h\"\nport = 8883\nagent = \"a_1\"\nmonthly_allowance = \"500 MiB\"\nwindow = 4\nresend_timeout = \"30s\"\nsend_interval = \"5m\"\n";
        let c = AgentConfig::parse(full, "c.toml").unwrap().cloud.unwrap();
        assert_eq!((c.port, c.allowance_bytes, c.window), (8883, 500 * MIB, 4));
        assert_eq!(c.resend_timeout, Duration::from_secs(30));
        assert_eq!(c.send_interval, Duration::from_secs(300));
        // Round trip through the table the desk and `cloud login` write.
        let mut doc = toml::Table::new();
        doc.insert("cloud".into(), toml::Value::Table(c.to_toml()));
        let again = AgentConfig::parse(&toml::to_string(&doc).unwrap(), "c.toml").unwrap().cloud.unwrap();
        assert_eq!(again, c);

        let e = err("[cloud]\nhost = \"h\"\nagent = \"a/b\"\n");
        assert_eq!((e.line(), e.field()), (Some(3), Some("cloud.agent")), "{e}");
        let e = err("[cloud]\nhost = \"h\"\nagent = \"a\"\nwindow = 0\n");
        assert_eq!(e.field(), Some("cloud.window"), "{e}");
        let e = err("[cloud]\nhost = \"h\"\nagent = \"a\"\nmonthly_allowance = \"lots\"\n");
        assert_eq!(e.field(), Some("cloud.monthly_allowance"), "{e}");
        let e = err("[cloud]\nhost = \"h\"\nagent = \"a\"\npassword = \"x\"\n");
        assert!(e.to_string().contains("password"), "{e}");
        assert!(err("[cloud]\nagent = \"a\"\n").to_string().contains("host"));
    }

    #[test]
    fn cloud_tls_settings_are_checked_with_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.cert.pem()).unwrap();
        let key_file = dir.path().join("key.pem");
        std::fs::write(&key_file, ca.signing_key.serialize_pem()).unwrap();
        let section = |extra: &str| format!("[cloud]\nhost = \"h\"\nagent = \"a\"\n{extra}");

        // System roots when no CA file is named; the file when one is.
        let c = AgentConfig::parse(&section("tls = true\n"), "c.toml").unwrap().cloud.unwrap();
        assert!(c.tls && c.ca_file.is_none());
        let text = section(&format!("tls = true\nca_file = {:?}\n", ca_file.display().to_string()));
        let c = AgentConfig::parse(&text, "c.toml").unwrap().cloud.unwrap();
        assert_eq!(c.ca_file.as_deref(), Some(ca_file.as_path()));
        let mut doc = toml::Table::new();
        doc.insert("cloud".into(), toml::Value::Table(c.to_toml()));
        assert_eq!(AgentConfig::parse(&toml::to_string(&doc).unwrap(), "c.toml").unwrap().cloud.unwrap(), c);
        // Mutual TLS: both files, readable.
        let text = section(&format!(
            "tls = true\nclient_cert = {:?}\nclient_key = {:?}\n",
            ca_file.display().to_string(),
            key_file.display().to_string()
        ));
        assert!(AgentConfig::parse(&text, "c.toml").unwrap().cloud.unwrap().client_key.is_some());

        // A TLS setting needs a host like any other.
        let e = err("[cloud]\nhost = \"\"\nagent = \"a\"\ntls = true\n");
        assert_eq!(e.field(), Some("cloud.host"), "{e}");
        // A CA file without TLS would be silently unused.
        let e = err(&section(&format!("ca_file = {:?}\n", ca_file.display().to_string())));
        assert_eq!((e.line(), e.field()), (Some(4), Some("cloud.ca_file")), "{e}");
        assert!(e.to_string().contains("tls = true"), "{e}");
        // A missing CA file: the field and the file are named.
        let e = err(&section("tls = true\nca_file = \"/nowhere/ca.pem\"\n"));
        assert_eq!((e.line(), e.field()), (Some(5), Some("cloud.ca_file")), "{e}");
        assert!(e.to_string().contains("/nowhere/ca.pem"), "{e}");
        // A key file where the CA should be.
        let e = err(&section(&format!("tls = true\nca_file = {:?}\n", key_file.display().to_string())));
        assert_eq!(e.field(), Some("cloud.ca_file"), "{e}");
        assert!(e.to_string().contains("key.pem") && e.to_string().contains("no PEM certificate"), "{e}");
        // Half of a client identity.
        let e = err(&section(&format!("tls = true\nclient_cert = {:?}\n", ca_file.display().to_string())));
        assert_eq!(e.field(), Some("cloud.client_key"), "{e}");
        let e = err(&section(&format!(
            "tls = true\nclient_cert = {:?}\nclient_key = {:?}\n",
            ca_file.display().to_string(),
            ca_file.display().to_string()
        )));
        assert_eq!((e.line(), e.field()), (Some(6), Some("cloud.client_key")), "{e}");
        assert!(e.to_string().contains("private key"), "{e}");
    }

    #[cfg(all(feature = "email", feature = "desktop-notify"))]
    #[test]
    fn the_example_config_has_a_valid_cloud_section() {
        let cfg = AgentConfig::parse(include_str!("../../docs/agent.example.toml"), "agent.example.toml").unwrap();
        let c = cfg.cloud.unwrap();
        assert_eq!((c.agent.as_str(), c.window, c.allowance_bytes), ("site-a", 8, GIB));
    }

    #[test]
    fn files_sections_are_read_and_refusals_name_the_line() {
        let cfg = AgentConfig::parse(include_str!("../../docs/agent.example.toml"), "agent.example.toml").unwrap();
        let f = &cfg.files[0];
        assert_eq!((f.instrument.as_str(), f.folder.as_str(), f.auto_max_mb), ("logger1", "/DATA", 128));
        let text = "[[instrument]]\nid = \"l1\"\nfamily = \"scpi\"\ntransport = { kind = \"tcp\", host = \"h\" }\n\n\
                    [[files]]\ninstrument = \"l1\"\npattern = \"[\"\n";
        let e = AgentConfig::parse(text, "x.toml").unwrap_err();
        assert_eq!((e.line(), e.field()), (Some(8), Some("files.pattern")), "{e}");
        assert!(e.to_string().contains("`files[l1].pattern`"), "{e}");
        let e = AgentConfig::parse("[[files]]\ninstrument = \"ghost\"\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("`ghost` is not an instrument"), "{e}");
    }

    #[test]
    fn empty_config_is_defaults() {
        let cfg = AgentConfig::parse("", "x.toml").unwrap();
        assert_eq!(cfg.agent.poll_interval, DEFAULT_POLL);
        assert_eq!(cfg.agent.keep_unsynced, MIN_KEEP_UNSYNCED);
        assert!(cfg.instruments.is_empty());
    }

    #[test]
    fn syntax_error_has_file_line_col() {
        let e = err("[agent]\nname = \"x\"\npoll_interval = = 3\n");
        let s = e.to_string();
        assert!(s.starts_with("site.toml:3:"), "{s}");
        assert_eq!(e.line(), Some(3));
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let e = err(
            "[agent]\nname = \"x\"\n\n[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\nbogus = 1\ntransport = { kind = \"tcp\", host = \"h\" }\n",
        );
        let s = e.to_string();
        assert!(s.starts_with("site.toml:7:"), "{s}");
        assert!(s.contains("bogus"), "{s}");
    }

    #[test]
    fn wrong_type_names_nested_field() {
        let e = err(
            "[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\n[instrument.transport]\nkind = \"tcp\"\nhost = \"h\"\nport = \"eighty\"\n",
        );
        let s = e.to_string();
        assert!(s.starts_with("site.toml:7:"), "{s}");
        assert!(s.contains("instrument[0].transport.port"), "{s}");
    }

    #[test]
    fn bad_family_names_its_line() {
        let e = err(
            "[[instrument]]\nid = \"a\"\nfamily = \"oscilloscope\"\ntransport = { kind = \"tcp\", host = \"h\" }\n",
        );
        let s = e.to_string();
        assert!(s.starts_with("site.toml:3:"), "{s}");
        assert!(s.contains("family"), "{s}");
    }

    #[test]
    fn missing_field_points_at_the_instrument() {
        let e =
            err("[agent]\nname = \"x\"\n\n[[instrument]]\nid = \"a\"\ntransport = { kind = \"tcp\", host = \"h\" }\n");
        let s = e.to_string();
        assert!(s.contains("family"), "{s}");
        assert_eq!(e.line(), Some(4), "{s}");
    }

    #[test]
    fn validate_errors_point_at_the_field() {
        let text = "[[instrument]]\nid = \"ok\"\nfamily = \"scpi\"\ntransport = { kind = \"tcp\", host = \"h\" }\n\n[[instrument]]\nid = \"slow\"\nfamily = \"scpi\"\ntransport = { kind = \"tcp\", host = \"h\" }\npoll_interval = \"2h\"\n";
        let e = err(text);
        let s = e.to_string();
        assert_eq!(e.line(), Some(10), "{s}");
        assert!(s.contains("poll_interval"), "{s}");
        assert_eq!(e.field(), Some("instrument.poll_interval"));
    }

    #[cfg(feature = "email")]
    #[test]
    fn alarm_calc_and_destination_errors_point_at_the_field() {
        let rule = "[[alarm]]\nid = \"hot\"\nkind = \"threshold\"\nchannel = \"a/b\"\nop = \"outside_incl\"\nlow = 9.0\nhigh = 1.0\n";
        let e = err(rule);
        assert_eq!(e.line(), Some(7), "{e}");
        assert!(e.to_string().contains("alarm[hot].high"), "{e}");
        let dest = "[[alarm]]\nid = \"hot\"\nkind = \"connection\"\ndestinations = [\"nowhere\"]\n";
        let e = err(dest);
        assert_eq!(e.line(), Some(4), "{e}");
        assert!(e.to_string().contains("no [[destination]] with id `nowhere`"), "{e}");
        let calc = "[[calc]]\nid = \"c\"\nexpr = \"A + (B\"\ninputs = { A = \"x/a\", B = \"x/b\" }\n";
        let e = err(calc);
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.to_string().contains("calc[c].expr") && e.to_string().contains("column"), "{e}");
        let mail = "[[destination]]\nid = \"m\"\nkind = \"email\"\nhost = \"h\"\nfrom = \"not an address\"\nto = [\"a@b.c\"]\n";
        let e = err(mail);
        assert_eq!(e.line(), Some(5), "{e}");
    }

    #[test]
    fn channel_errors_point_at_the_channel() {
        let text = "[[instrument]]\nid = \"dmm\"\nfamily = \"scpi\"\ntransport = { kind = \"serial\", path = \"/dev/ttyUSB0\" }\n[[instrument.channel]]\nid = \"v\"\nquery = \"MEAS:VOLT?\"\n[[instrument.channel]]\nid = \"i\"\nunit = \"A\"\n";
        let e = err(text);
        let s = e.to_string();
        assert_eq!(e.line(), Some(9), "{s}");
        assert!(s.contains("query"), "{s}");
        let dup = "[[instrument]]\nid = \"dmm\"\nfamily = \"hioki-logger\"\ntransport = { kind = \"tcp\", host = \"h\" }\n[[instrument.channel]]\nid = \"CH1_1\"\n[[instrument.channel]]\nid = \"CH1_1\"\n";
        let e = err(dup);
        assert_eq!(e.line(), Some(8), "{e}");
        assert!(e.to_string().contains("listed twice"), "{e}");
    }

    #[test]
    fn two_instruments_asking_one_port_for_different_settings_is_an_error_naming_both() {
        let inst = |id: &str, unit: u8, baud: u32| {
            format!(
                "[[instrument]]\nid = \"{id}\"\nfamily = \"modbus\"\nunit_id = {unit}\ntransport = {{ kind = \"serial\", path = \"/dev/ttyUSB0\", baud = {baud} }}\n[[instrument.channel]]\nid = \"p\"\nmodbus = {{ address = 0 }}\n"
            )
        };
        let same = format!("{}{}", inst("meter1", 1, 9600), inst("meter2", 2, 9600));
        assert_eq!(AgentConfig::parse(&same, "agent.toml").unwrap().instruments.len(), 2);
        let text = format!("{}{}", inst("meter1", 1, 9600), inst("meter2", 2, 19200));
        let e = err(&text);
        let s = e.to_string();
        assert_eq!(e.line(), Some(13), "{s}");
        assert!(s.contains("`meter1`") && s.contains("`meter2`") && s.contains("/dev/ttyUSB0"), "{s}");
        assert!(s.contains("9600 8N1") && s.contains("19200 8N1"), "{s}");
    }

    #[test]
    fn addressed_scpi_devices_share_a_port_and_a_duplicate_select_points_at_it() {
        let inst = |id: &str, select: Option<&str>| {
            let select = select.map(|s| format!("select = \"{s}\"\nselect_reply = \"OK\"\n")).unwrap_or_default();
            format!(
                "[[instrument]]\nid = \"{id}\"\nfamily = \"scpi\"\n{select}transport = {{ kind = \"serial\", path = \"/dev/ttyUSB0\" }}\n[[instrument.channel]]\nid = \"v\"\nquery = \"MEAS:VOLT?\"\n"
            )
        };
        let two = format!("{}{}", inst("psu6", Some("ADR 6")), inst("psu7", Some("ADR 7")));
        let cfg = AgentConfig::parse(&two, "agent.toml").unwrap();
        assert_eq!(cfg.instruments[1].select.as_deref(), Some("ADR 7"));
        assert_eq!(cfg.instruments[1].select_reply.as_deref(), Some("OK"));
        let e = err(&format!("{two}{}", inst("psu6b", Some("ADR 6"))));
        let s = e.to_string();
        assert_eq!(e.line(), Some(22), "{s}"); // the third instrument's `select`
        assert!(s.contains("`psu6`") && s.contains("`psu6b`") && s.contains("ADR 6"), "{s}");
        let e = err(&format!("{two}{}", inst("dmm", None)));
        let s = e.to_string();
        assert_eq!(e.line(), Some(22), "{s}"); // the third instrument's transport
        assert!(s.contains("`psu6`") && s.contains("`dmm` has no `select`"), "{s}");
    }

    #[test]
    fn poll_intervals_go_down_to_100ms_and_old_word_orders_load() {
        let text = "[[instrument]]\nid = \"m\"\nfamily = \"modbus\"\npoll_interval = \"100ms\"\ntransport = { kind = \"tcp\", host = \"h\" }\n[[instrument.channel]]\nid = \"p\"\nmodbus = { address = 0, data_type = \"f32\", word_order = \"little\" }\n[[instrument.channel]]\nid = \"s\"\nmodbus = { address = 2, data_type = \"string\", count = 4, word_order = \"badc\" }\n";
        let cfg = AgentConfig::parse(text, "agent.toml").unwrap();
        assert_eq!(cfg.instruments[0].poll_interval, Some(Duration::from_millis(100)));
        let reg = cfg.instruments[0].channels[0].modbus.clone().unwrap();
        assert_eq!(reg.word_order, meterdeck_drivers::config::WordOrder::Little);
        let e = err(&text.replace("100ms", "99ms"));
        assert!(e.to_string().contains("between 100ms and 1h"), "{e}");
        let e = err(&text.replace("count = 4, ", ""));
        assert!(e.to_string().contains("modbus.count"), "{e}");
        assert_eq!(e.line(), Some(10), "{e}"); // the channel's line
    }

    #[test]
    fn serial_baud_zero_points_at_baud() {
        let text = "[[instrument]]\nid = \"dmm\"\nfamily = \"scpi\"\n[instrument.transport]\nkind = \"serial\"\npath = \"/dev/ttyUSB0\"\nbaud = 0\n";
        let e = err(text);
        assert_eq!(e.line(), Some(7), "{e}");
        assert!(e.to_string().contains("transport.baud"), "{e}");
    }

    #[test]
    fn duplicate_ids_point_at_the_second() {
        let text = "[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\ntransport = { kind = \"tcp\", host = \"h\" }\n[[instrument]]\nid = \"a\"\nfamily = \"modbus\"\ntransport = { kind = \"tcp\", host = \"h\" }\n";
        let e = err(text);
        let s = e.to_string();
        assert_eq!(e.line(), Some(6), "{s}");
        assert!(s.contains("`id`") && s.contains("line 2"), "{s}");
    }

    #[test]
    fn agent_checks_point_at_their_lines() {
        let e = err("[agent]\nname = \"x\"\npoll_interval = \"50ms\"\n");
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.to_string().contains("agent.poll_interval"), "{e}");
        let e = err("[agent]\nkeep_unsynced = \"7d\"\n");
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().contains("keep_unsynced"), "{e}");
        let e = err("[agent]\n\ndisk_quota = \"2 parsecs\"\n");
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.to_string().contains("disk_quota"), "{e}");
        let e = err("[agent]\ndisk_quota_mb = 1\n");
        assert_eq!(e.line(), Some(2), "{e}");
        let e = err("[agent]\ndisk_quota = \"1 GiB\"\ndisk_quota_mb = 1000\n");
        assert_eq!(e.line(), Some(3), "{e}");
        let e = err("[agent]\ndurability = \"paranoid\"\n");
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().contains("agent.durability"), "{e}");
    }

    #[test]
    fn unknown_field_in_an_inline_transport_names_it() {
        let e = err("[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\n\ntransport = { kind = \"tcp\", hots = \"h\" }\n");
        let s = e.to_string();
        assert_eq!(e.line(), Some(5), "{s}");
        assert!(s.contains("hots") && s.contains("instrument[0].transport"), "{s}");
        let e = err("[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\n\ntransport = { kind = \"usb\", host = \"h\" }\n");
        assert_eq!(e.line(), Some(5), "{e}");
        assert!(e.to_string().contains("usb"), "{e}");
    }

    #[test]
    fn channel_fields_are_located() {
        let text = "[[instrument]]\nid = \"m\"\nfamily = \"modbus\"\ntransport = { kind = \"tcp\", host = \"h\" }\n[[instrument.channel]]\nid = \"t\"\nscale = \"big\"\n";
        let e = err(text);
        assert_eq!(e.line(), Some(7), "{e}");
        assert!(e.to_string().contains("instrument[0].channel[0].scale"), "{e}");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2 GiB").unwrap(), 2 * GIB);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("1.5 kib").unwrap(), 1536);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 XB").is_err());
    }

    #[test]
    fn load_names_missing_file() {
        let e = AgentConfig::load(Path::new("/nonexistent/agent.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/agent.toml"), "{e}");
    }

    #[test]
    fn refusals_keep_their_frame_and_are_translated() {
        let rule = "[[alarm]]\nid = \"hot\"\nkind = \"connection\"\ndestinations = [\"nowhere\"]\n";
        let errors = [
            err("[agent]\nkeep_unsynced = \"7d\"\n"),
            err("[agent]\ndisk_quota = \"2 parsecs\"\n"),
            err("[agent]\ndisk_quota = \"1 GiB\"\ndisk_quota_mb = 1000\n"),
            err(rule),
            err("[[calc]]\nid = \"c\"\nexpr = \"A + (B\"\ninputs = { A = \"x/a\", B = \"x/b\" }\n"),
            err("[cloud]\nhost = \"b\"\nagent = \"a\"\nwindow = 0\n"),
            err("[[files]]\ninstrument = \"ghost\"\n"),
            AgentConfig::load(Path::new("/nonexistent/agent.toml")).unwrap_err(),
        ];
        for e in &errors {
            assert_eq!(e.text_in("en"), e.to_string());
            let de = e.text_in("de");
            assert_ne!(de, e.to_string(), "{e} in German");
            assert!(!de.contains('{') && !de.contains('$'), "a placeholder left in {de:?}");
            // The frame (`file:line:col:`, or the file) stays as it is.
            let frame = e.to_string().split(": ").next().unwrap().to_string();
            assert!(de.starts_with(&format!("{frame}: ")), "{de}");
        }
        assert_eq!(errors[0].to_string(), "site.toml:2:1: `agent.keep_unsynced` must be at least 14d, got 7days");
        assert_eq!(
            errors[0].text_in("de"),
            "site.toml:2:1: `agent.keep_unsynced` muss mindestens 14d sein, angegeben: 7days"
        );
        assert_eq!(
            errors[3].text_in("de"),
            "site.toml:4:1: alarm[hot].destinations: kein [[destination]] mit der ID `nowhere`"
        );
        assert_eq!(
            errors[1].text_in("ja"),
            "site.toml:2:1: `agent.disk_quota`: \"2 parsecs\" のサイズ単位 \"parsecs\" は不明です（B, KB, MB, GB, TB, KiB, MiB, GiB, TiB が使えます）"
        );
        assert!(errors[4].text_in("de").contains("calc[c].expr: Spalte 7: `)` nach `(B` erwartet"), "{}", errors[4]);
        assert!(
            errors[7].text_in("de").ends_with(": kann nicht gelesen werden: No such file or directory (os error 2)")
        );
        // What the TOML parser said is quoted as it is.
        let e = err("[agent]\nname = \"x\"\npoll_interval = = 3\n");
        assert_eq!(e.text_in("de"), e.to_string());
        // A section refusal without a key (a desk check's own words) reads the same everywhere.
        let plain = SectionError::new("calc", "as worded");
        assert_eq!((plain.text_in("de"), plain.to_string()), ("calc: as worded".into(), "calc: as worded".into()));
    }
}
