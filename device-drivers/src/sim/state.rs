//! One simulated instrument's shared state: what every connection to it sees
//! (forced values, counters, runtime faults, clock, run state).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::channels::{self, ChannelSpec};
use super::config::{Personality, SimInstrument};
use super::faults::{DropSwitch, SENTINEL_CYCLE};
use super::settings;
use super::waveform::{quantise_time, step_ms, value_at};
use crate::config::ModbusRegister;
use crate::reading::SpecialKind;

/// A value as an instrument serves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SimValue {
    /// `decimals` is the resolution to print with; `None` for forced values.
    Number {
        value: f64,
        decimals: Option<u8>,
    },
    Sentinel(SpecialKind),
}

/// `:SIMulate:VALue` / `:SIMulate:SENTinel` overrides.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Forced {
    Auto,
    Value(f64),
    Sentinel(SpecialKind),
}

const GARBAGE_CONFIG: u8 = 0;
const GARBAGE_ALL: u8 = 1;
const GARBAGE_NONE: u8 = 2;

pub(crate) struct InstrumentState {
    pub name: String,
    pub personality: Personality,
    pub seed: u64,
    pub step_ms: i64,
    pub specs: Vec<ChannelSpec>,
    /// The Modbus device's register map, when it serves one (see `SimInstrument::registers`).
    pub registers: Option<Vec<ModbusRegister>>,
    forced: Mutex<Vec<Forced>>,
    /// Fast path: most polls see no override and skip the lock.
    any_forced: AtomicBool,
    reads: Box<[AtomicU32]>,
    sentinel_every: Option<u32>,
    garbage_every: Option<u32>,
    garbage_mode: AtomicU8,
    data_replies: AtomicU64,
    slow_ms: AtomicU64,
    pub drops: DropSwitch,
    clock_offset_ms: AtomicI64,
    running: AtomicBool,
    /// Measurements started (`:STARt`, a restart too) since the simulator started.
    starts: AtomicU32,
    /// Current values of the personality's settings (`settings::table`).
    settings: Mutex<Vec<String>>,
    /// The Modbus device's settings registers (`settings::MODBUS_BASE..`).
    modbus_settings: Mutex<[u16; settings::MODBUS_DEFAULTS.len()]>,
}

pub(crate) use meterdeck_wire::now_ms;

impl InstrumentState {
    pub(crate) fn new(cfg: &SimInstrument, root: CancellationToken) -> InstrumentState {
        let specs = channels::specs(cfg.personality, cfg.channel_count());
        let n = specs.len();
        InstrumentState {
            name: cfg.name.clone(),
            personality: cfg.personality,
            seed: cfg.seed,
            step_ms: step_ms(cfg.step),
            specs,
            registers: cfg.registers.clone(),
            forced: Mutex::new(vec![Forced::Auto; n]),
            any_forced: AtomicBool::new(false),
            reads: (0..n).map(|_| AtomicU32::new(0)).collect(),
            sentinel_every: cfg.faults.sentinel_every.filter(|n| *n > 0),
            garbage_every: cfg.faults.garbage_every.filter(|n| *n > 0),
            garbage_mode: AtomicU8::new(GARBAGE_CONFIG),
            data_replies: AtomicU64::new(0),
            slow_ms: AtomicU64::new(cfg.faults.slow.map_or(0, |d| d.as_millis().try_into().unwrap_or(u64::MAX))),
            drops: DropSwitch::new(root),
            clock_offset_ms: AtomicI64::new(0),
            running: AtomicBool::new(true),
            starts: AtomicU32::new(0),
            settings: Mutex::new(settings::table(cfg.personality).iter().map(|s| s.default.to_string()).collect()),
            modbus_settings: Mutex::new(settings::MODBUS_DEFAULTS),
        }
    }

    pub(crate) fn channel_count(&self) -> usize {
        self.specs.len()
    }

    /// Channel index by id, case-insensitive.
    pub(crate) fn find_channel(&self, id: &str) -> Option<usize> {
        let id = id.trim();
        if self.personality == Personality::HiokiLogger {
            return channels::logger_index(id).filter(|i| *i < self.specs.len());
        }
        self.specs.iter().position(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// The waveform value, without counting a reading or applying overrides.
    pub(crate) fn wave(&self, index: usize, now_ms: i64) -> f64 {
        value_at(self.seed, self.personality, index, quantise_time(now_ms, self.step_ms))
    }

    /// One reading of a channel as served: override, then `sentinel_every`,
    /// then the waveform.
    pub(crate) fn read(&self, index: usize, now_ms: i64) -> SimValue {
        let decimals = self.specs.get(index).map(|s| s.decimals);
        if self.any_forced.load(Ordering::Relaxed) {
            let forced = self.forced.lock().unwrap_or_else(|e| e.into_inner());
            match forced.get(index) {
                Some(Forced::Value(v)) => return SimValue::Number { value: *v, decimals: None },
                Some(Forced::Sentinel(k)) => return SimValue::Sentinel(*k),
                _ => {}
            }
        }
        if let (Some(every), Some(counter)) = (self.sentinel_every, self.reads.get(index)) {
            let n = counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if n.is_multiple_of(every) {
                let k = ((n / every - 1) as usize) % SENTINEL_CYCLE.len();
                return SimValue::Sentinel(SENTINEL_CYCLE[k]);
            }
        }
        SimValue::Number { value: self.wave(index, now_ms), decimals }
    }

    pub(crate) fn force_value(&self, index: usize, value: Option<f64>) {
        self.set_forced(index, value.map_or(Forced::Auto, Forced::Value));
    }

    pub(crate) fn force_sentinel(&self, index: usize, kind: Option<SpecialKind>) {
        self.set_forced(index, kind.map_or(Forced::Auto, Forced::Sentinel));
    }

    fn set_forced(&self, index: usize, f: Forced) {
        let mut forced = self.forced.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = forced.get_mut(index) {
            *slot = f;
        }
        let any = forced.iter().any(|f| *f != Forced::Auto);
        self.any_forced.store(any, Ordering::Relaxed);
    }

    /// Counts a data reply; `Some(salt)` when this one must be garbage.
    pub(crate) fn garbage_for_next_reply(&self) -> Option<u64> {
        let n = self.data_replies.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let garbage = match self.garbage_mode.load(Ordering::Relaxed) {
            GARBAGE_ALL => true,
            GARBAGE_NONE => false,
            _ => self.garbage_every.is_some_and(|every| n.is_multiple_of(u64::from(every))),
        };
        garbage.then_some(self.seed ^ n)
    }

    pub(crate) fn set_garbage(&self, on: bool) {
        self.garbage_mode.store(if on { GARBAGE_ALL } else { GARBAGE_NONE }, Ordering::Relaxed);
    }

    pub(crate) fn slow(&self) -> Option<Duration> {
        match self.slow_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    pub(crate) fn set_slow(&self, ms: u64) {
        self.slow_ms.store(ms, Ordering::Relaxed);
    }

    /// The instrument's clock (UTC), which `:SYSTem:DATE/TIME` may have moved.
    pub(crate) fn clock(&self) -> DateTime<Utc> {
        let ms = now_ms().saturating_add(self.clock_offset_ms.load(Ordering::Relaxed));
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }

    pub(crate) fn set_clock(&self, to: DateTime<Utc>) {
        self.clock_offset_ms.store(to.timestamp_millis().saturating_sub(now_ms()), Ordering::Relaxed);
    }

    pub(crate) fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    pub(crate) fn set_running(&self, on: bool) {
        self.running.store(on, Ordering::Relaxed);
    }

    /// `:STARt`: running, and one more measurement started.
    pub(crate) fn start_measurement(&self) {
        self.starts.fetch_add(1, Ordering::Relaxed);
        self.set_running(true);
    }

    pub(crate) fn starts(&self) -> u32 {
        self.starts.load(Ordering::Relaxed)
    }

    pub(crate) fn setting(&self, index: usize) -> Option<String> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).get(index).cloned()
    }

    pub(crate) fn set_setting(&self, index: usize, value: String) {
        if let Some(slot) = self.settings.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index) {
            *slot = value;
        }
    }

    pub(crate) fn modbus_setting(&self, index: usize) -> Option<u16> {
        self.modbus_settings.lock().unwrap_or_else(|e| e.into_inner()).get(index).copied()
    }

    pub(crate) fn set_modbus_setting(&self, index: usize, value: u16) {
        if let Some(slot) = self.modbus_settings.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index) {
            *slot = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::Faults;

    fn state(faults: Faults) -> InstrumentState {
        let mut cfg = SimInstrument::new("t", Personality::HiokiLogger);
        cfg.faults = faults;
        InstrumentState::new(&cfg, CancellationToken::new())
    }

    #[test]
    fn every_nth_reading_is_a_sentinel_cycling_kinds() {
        let s = state(Faults { sentinel_every: Some(3), ..Faults::default() });
        let kinds: Vec<_> = (0..15)
            .filter_map(|_| match s.read(0, 0) {
                SimValue::Sentinel(k) => Some(k),
                SimValue::Number { .. } => None,
            })
            .collect();
        assert_eq!(kinds, SENTINEL_CYCLE.to_vec());
    }

    #[test]
    fn forced_values_win_and_reset() {
        let s = state(Faults::default());
        s.force_value(2, Some(1.5));
        assert_eq!(s.read(2, 0), SimValue::Number { value: 1.5, decimals: None });
        s.force_sentinel(3, Some(SpecialKind::BurnOut));
        assert_eq!(s.read(3, 0), SimValue::Sentinel(SpecialKind::BurnOut));
        s.force_value(2, None);
        s.force_sentinel(3, None);
        assert!(matches!(s.read(2, 0), SimValue::Number { decimals: Some(1), .. }));
        assert!(!s.any_forced.load(Ordering::Relaxed));
    }

    #[test]
    fn garbage_every_and_modes() {
        let s = state(Faults { garbage_every: Some(2), ..Faults::default() });
        let g: Vec<bool> = (0..4).map(|_| s.garbage_for_next_reply().is_some()).collect();
        assert_eq!(g, [false, true, false, true]);
        s.set_garbage(false);
        assert!((0..4).all(|_| s.garbage_for_next_reply().is_none()));
        s.set_garbage(true);
        assert!((0..4).all(|_| s.garbage_for_next_reply().is_some()));
    }

    #[test]
    fn finds_channels_case_insensitively() {
        let s = state(Faults::default());
        assert_eq!(s.find_channel("ch2_1"), Some(15));
        assert_eq!(s.find_channel("CH3_1"), None);
    }
}
