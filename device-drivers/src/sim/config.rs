//! What the simulator serves: instruments, personalities and faults, read
//! from TOML (`[[instrument]]` tables) or built in code by tests.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{Family, ModbusRegister};
use crate::families;

/// Which instrument the simulator pretends to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Personality {
    /// Hioki-style data logger: `:MEMory:GETReal` + `:MEMory:VREAL?`.
    HiokiLogger,
    /// Hioki-style power meter: `:MEASure? U1,I1,...`.
    PowerMeter,
    /// Generic SCPI digital multimeter: `MEASure:VOLTage:DC?` etc.
    Scpi,
    /// Modbus TCP device (unit id 1).
    Modbus,
}

impl Personality {
    pub fn name(self) -> &'static str {
        match self {
            Personality::HiokiLogger => "hioki-logger",
            Personality::PowerMeter => "power-meter",
            Personality::Scpi => "scpi",
            Personality::Modbus => "modbus",
        }
    }

    /// The driver family that talks to this personality.
    pub fn family(self) -> Family {
        match self {
            Personality::HiokiLogger => families::hioki_logger::FAMILY,
            Personality::PowerMeter => families::hioki_power::FAMILY,
            Personality::Scpi => families::scpi::FAMILY,
            Personality::Modbus => families::modbus::FAMILY,
        }
    }

    /// Channels served when the configuration names no count.
    pub fn default_channels(self) -> usize {
        match self {
            Personality::HiokiLogger => 30,
            Personality::PowerMeter => super::channels::POWER_ITEMS.len(),
            Personality::Scpi => super::channels::DMM_CHANNELS.len(),
            Personality::Modbus => 10,
        }
    }

    /// The most channels this personality can serve.
    pub fn max_channels(self) -> usize {
        match self {
            // CH1_1 .. CH9_15
            Personality::HiokiLogger => 9 * 15,
            Personality::PowerMeter => super::channels::POWER_ITEMS.len(),
            Personality::Scpi => super::channels::DMM_CHANNELS.len(),
            // Two holding registers per channel must fit the 16-bit address space.
            Personality::Modbus => 10_000,
        }
    }
}

impl std::fmt::Display for Personality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Faults to inject. Every field is optional; the default injects none.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Close every connection of the instrument at this period (new
    /// connections are still accepted).
    #[serde(default, with = "humantime_serde")]
    pub drop_every: Option<Duration>,
    /// Delay every reply by this much.
    #[serde(default, with = "humantime_serde")]
    pub slow: Option<Duration>,
    /// Every Nth data reply is garbage of the right shape.
    #[serde(default)]
    pub garbage_every: Option<u32>,
    /// Every Nth reading of a channel is a sentinel (cycling through the kinds).
    #[serde(default)]
    pub sentinel_every: Option<u32>,
}

/// One simulated instrument.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimInstrument {
    pub name: String,
    pub personality: Personality,
    /// `host:port` to listen on; `127.0.0.1:0` (an ephemeral port) when `None`.
    #[serde(default)]
    pub listen: Option<String>,
    /// `scpi` only: serve on a pty the simulator creates instead of TCP.
    #[serde(default)]
    pub serial: bool,
    /// Channel count; the personality's default when `None`.
    #[serde(default)]
    pub channels: Option<usize>,
    /// `modbus` only: serve channel k at `registers[k]` (its table, data
    /// type and word order) instead of the default layout, as a device with
    /// a fixed register map does; other addresses answer exception 0x02.
    #[serde(default)]
    pub registers: Option<Vec<ModbusRegister>>,
    #[serde(default)]
    pub seed: u64,
    /// Waveforms change at most once per step.
    #[serde(default = "default_step", with = "humantime_serde")]
    pub step: Duration,
    #[serde(default)]
    pub faults: Faults,
}

pub(crate) fn default_step() -> Duration {
    Duration::from_secs(1)
}

impl SimInstrument {
    /// An instrument with every option at its default (ephemeral port,
    /// default channels, seed 0, 1 s step, no faults).
    pub fn new(name: impl Into<String>, personality: Personality) -> SimInstrument {
        SimInstrument {
            name: name.into(),
            personality,
            listen: None,
            serial: false,
            channels: None,
            registers: None,
            seed: 0,
            step: default_step(),
            faults: Faults::default(),
        }
    }

    pub fn channel_count(&self) -> usize {
        match &self.registers {
            Some(regs) => regs.len(),
            None => self.channels.unwrap_or(self.personality.default_channels()),
        }
    }

    /// Checks what serde's types cannot; names the instrument and the field.
    pub fn validate(&self) -> Result<(), InvalidSim> {
        let name = || self.name.clone();
        if self.name.trim().is_empty() || self.name.contains(char::is_whitespace) {
            return Err(InvalidSim::Name(name()));
        }
        let max = self.personality.max_channels();
        if let Some(n) = self.channels
            && !(1..=max).contains(&n)
        {
            return Err(InvalidSim::Channels { name: name(), max, personality: self.personality, got: n });
        }
        if let Some(regs) = &self.registers {
            check_registers(regs, self).map_err(|problem| InvalidSim::Registers { name: name(), problem })?;
        }
        if self.serial && self.personality != Personality::Scpi {
            return Err(InvalidSim::SerialPersonality(name()));
        }
        if self.serial && self.listen.is_some() {
            return Err(InvalidSim::ListenAndSerial(name()));
        }
        if self.step < Duration::from_millis(1) {
            return Err(InvalidSim::Step(name()));
        }
        let f = &self.faults;
        if f.drop_every.is_some_and(|d| d < Duration::from_millis(10)) {
            return Err(InvalidSim::DropEvery(name()));
        }
        if f.garbage_every == Some(0) {
            return Err(InvalidSim::GarbageEvery(name()));
        }
        if f.sentinel_every == Some(0) {
            return Err(InvalidSim::SentinelEvery(name()));
        }
        Ok(())
    }
}

/// Addresses a value of this register occupies (1 for a coil or discrete input).
pub(crate) fn register_span(reg: &ModbusRegister) -> u32 {
    u32::from(crate::families::modbus::protocol::span(reg))
}

/// A register map the Modbus device can serve: at least one entry, each
/// inside the address space, none overlapping another of its table.
fn check_registers(regs: &[ModbusRegister], inst: &SimInstrument) -> Result<(), RegisterMapError> {
    if inst.personality != Personality::Modbus {
        return Err(RegisterMapError::NotModbus);
    }
    if regs.is_empty() {
        return Err(RegisterMapError::Empty);
    }
    if inst.channels.is_some_and(|n| n != regs.len()) {
        return Err(RegisterMapError::ChannelCount);
    }
    let range = |r: &ModbusRegister| u32::from(r.address)..u32::from(r.address) + register_span(r);
    for (i, r) in regs.iter().enumerate() {
        if range(r).end > 0x1_0000 {
            return Err(RegisterMapError::PastEnd { index: i, address: r.address });
        }
        if let Some(j) = regs[..i]
            .iter()
            .position(|o| o.kind == r.kind && range(o).start < range(r).end && range(r).start < range(o).end)
        {
            return Err(RegisterMapError::Overlap { first: j, second: i });
        }
    }
    Ok(())
}

/// A simulated register map that cannot be served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterMapError {
    #[error("`registers` is only available for the modbus personality")]
    NotModbus,
    #[error("`registers` must list at least one register")]
    Empty,
    #[error("`channels` must be left out or equal the number of `registers`")]
    ChannelCount,
    #[error("`registers[{index}]` at {address} runs past address 65535")]
    PastEnd { index: usize, address: u16 },
    #[error("`registers[{first}]` and `registers[{second}]` overlap")]
    Overlap { first: usize, second: usize },
}

/// A whole simulator: several instruments in one process.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    #[serde(rename = "instrument", default)]
    pub instruments: Vec<SimInstrument>,
}

impl SimConfig {
    /// Parses TOML; `origin` (usually the file name) prefixes every error,
    /// which names the line, column and field.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<SimConfig> {
        let cfg: SimConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end();
            match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    // Type errors do not say which key they are about; name it.
                    match key_at(text, span.start).filter(|k| !msg.contains(&format!("`{k}`"))) {
                        Some(key) => anyhow::anyhow!("{origin}:{line}:{col}: field `{key}`: {msg}"),
                        None => anyhow::anyhow!("{origin}:{line}:{col}: {msg}"),
                    }
                }
                None => anyhow::anyhow!("{origin}: {msg}"),
            }
        })?;
        cfg.validate().map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(cfg)
    }

    pub fn load(path: &Path) -> anyhow::Result<SimConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        SimConfig::parse(&text, &path.display().to_string())
    }

    pub fn validate(&self) -> Result<(), InvalidSim> {
        if self.instruments.is_empty() {
            return Err(InvalidSim::NoInstruments);
        }
        let mut names = HashSet::new();
        for i in &self.instruments {
            i.validate()?;
            if !names.insert(i.name.as_str()) {
                return Err(InvalidSim::Duplicate(i.name.clone()));
            }
        }
        Ok(())
    }
}

/// A simulator configuration that cannot run; names the instrument and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSim {
    #[error("instrument `{0}`: `name` must be non-empty without spaces")]
    Name(String),
    #[error("instrument `{name}`: `channels` must be 1..={max} for {personality}, got {got}")]
    Channels { name: String, max: usize, personality: Personality, got: usize },
    #[error("instrument `{0}`: `serial` is only available for the scpi personality")]
    SerialPersonality(String),
    #[error("instrument `{0}`: `listen` and `serial` exclude each other")]
    ListenAndSerial(String),
    #[error("instrument `{0}`: `step` must be at least 1ms")]
    Step(String),
    #[error("instrument `{0}`: `faults.drop_every` must be at least 10ms")]
    DropEvery(String),
    #[error("instrument `{0}`: `faults.garbage_every` must be >= 1")]
    GarbageEvery(String),
    #[error("instrument `{0}`: `faults.sentinel_every` must be >= 1")]
    SentinelEvery(String),
    #[error("instrument `{name}`: {problem}")]
    Registers { name: String, problem: RegisterMapError },
    #[error("no `[[instrument]]` configured")]
    NoInstruments,
    #[error("instrument `{0}` is listed twice")]
    Duplicate(String),
}

/// The key whose value starts at `offset` (`channels = "x"` or
/// `faults = { slow = 3 }`), if the line has one before it.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line = before.rsplit('\n').next()?;
    let (lhs, _) = line.rsplit_once('=')?;
    let is_key = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"');
    let lhs = lhs.trim_end();
    let start = lhs.char_indices().rev().find(|(_, c)| !is_key(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    let key = lhs[start..].trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_example() {
        let text = r#"
[[instrument]]
name = "logger-1"
personality = "hioki-logger"
listen = "127.0.0.1:0"
channels = 20
seed = 7
step = "500ms"
faults = { drop_every = "30s", slow = "200ms", garbage_every = 10, sentinel_every = 7 }

[[instrument]]
name = "dmm"
personality = "scpi"
serial = true
"#;
        let cfg = SimConfig::parse(text, "sim.toml").unwrap();
        assert_eq!(cfg.instruments.len(), 2);
        let l = &cfg.instruments[0];
        assert_eq!(l.personality, Personality::HiokiLogger);
        assert_eq!(l.step, Duration::from_millis(500));
        assert_eq!(l.faults.drop_every, Some(Duration::from_secs(30)));
        assert_eq!(l.faults.garbage_every, Some(10));
        let d = &cfg.instruments[1];
        assert!(d.serial);
        assert_eq!(d.step, Duration::from_secs(1));
        assert_eq!(d.channel_count(), 6);
    }

    #[test]
    fn bad_field_names_file_line_and_field() {
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"scpi\"\nchanels = 3\n";
        let err = SimConfig::parse(text, "sim.toml").unwrap_err().to_string();
        assert!(err.starts_with("sim.toml:4:"), "{err}");
        assert!(err.contains("chanels"), "{err}");
    }

    #[test]
    fn type_errors_name_the_field() {
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"scpi\"\nchannels = \"x\"\n";
        let err = SimConfig::parse(text, "sim.toml").unwrap_err().to_string();
        assert!(err.starts_with("sim.toml:4:12: field `channels`"), "{err}");
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"scpi\"\nfaults = { slow = 5 }\n";
        let err = SimConfig::parse(text, "sim.toml").unwrap_err().to_string();
        assert!(err.starts_with("sim.toml:4:") && err.contains("`slow`"), "{err}");
    }

    #[test]
    fn odd_text_before_an_error_does_not_panic() {
        for text in ["é = \"x\"", "[[instrument]]\nnameé=1\n", "= 3", "\u{2028}channels = \"x\""] {
            assert!(SimConfig::parse(text, "x.toml").is_err());
        }
    }

    #[test]
    fn bad_personality_is_named() {
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"oscilloscope\"\n";
        let err = SimConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.starts_with("x.toml:3:"), "{err}");
        assert!(err.contains("oscilloscope"), "{err}");
    }

    #[test]
    fn validation_names_instrument_and_field() {
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"scpi\"\nchannels = 99\n";
        let err = SimConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("instrument `a`") && err.contains("`channels`"), "{err}");
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"modbus\"\nserial = true\n";
        let err = SimConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("`serial`"), "{err}");
        let text = "[[instrument]]\nname = \"a\"\npersonality = \"modbus\"\n[[instrument]]\nname = \"a\"\npersonality = \"scpi\"\n";
        let err = SimConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
    }

    #[test]
    fn register_maps_are_checked() {
        let text = "[[instrument]]\nname = \"m\"\npersonality = \"modbus\"\nregisters = [{ address = 0, kind = \"input\", data_type = \"f32\" }, { address = 4, kind = \"input\", data_type = \"f32\" }]\n";
        let cfg = SimConfig::parse(text, "x.toml").unwrap();
        assert_eq!(cfg.instruments[0].channel_count(), 2);
        for (bad, what) in [
            ("{ address = 0, data_type = \"f32\" }, { address = 1 }", "overlap"),
            ("{ address = 65535, data_type = \"f32\" }", "past address 65535"),
        ] {
            let text = format!("[[instrument]]\nname = \"m\"\npersonality = \"modbus\"\nregisters = [{bad}]\n");
            let err = SimConfig::parse(&text, "x.toml").unwrap_err().to_string();
            assert!(err.contains(what) && err.contains("registers["), "{err}");
        }
        let text = "[[instrument]]\nname = \"m\"\npersonality = \"scpi\"\nregisters = [{ address = 0 }]\n";
        assert!(SimConfig::parse(text, "x.toml").unwrap_err().to_string().contains("modbus personality"));
        let text =
            "[[instrument]]\nname = \"m\"\npersonality = \"modbus\"\nchannels = 3\nregisters = [{ address = 0 }]\n";
        assert!(SimConfig::parse(text, "x.toml").unwrap_err().to_string().contains("`channels`"));
    }

    #[test]
    fn empty_config_is_an_error() {
        assert!(SimConfig::parse("", "x.toml").is_err());
    }
}
