//! Deterministic waveforms: a pure function of (seed, channel index, time
//! quantised down to the step). Integer phase arithmetic keeps them exact and
//! cheap (one `sin` at most per channel and poll).

use std::f64::consts::TAU;
use std::time::Duration;

use super::channels::{DMM_CHANNELS, POWER_ITEMS, PowerQty, generic_is_temperature};
use super::config::Personality;

/// SplitMix64 finaliser: a fast, well-mixed hash for seeding noise and phases.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn hash3(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(a) ^ b) ^ c)
}

/// Uniform noise in [-1, 1), a pure function of its inputs.
fn noise(seed: u64, channel: u64, t_ms: i64) -> f64 {
    let h = hash3(seed, channel, t_ms as u64);
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Fraction of `period_ms` elapsed at `t_ms` (shifted by `phase_ms`), in [0, 1).
fn cycle(t_ms: i64, phase_ms: i64, period_ms: i64) -> f64 {
    t_ms.wrapping_add(phase_ms).rem_euclid(period_ms) as f64 / period_ms as f64
}

/// sin(2 pi * the cycle fraction at `t_ms`).
fn sine(t_ms: i64, phase_ms: i64, period_ms: i64) -> f64 {
    (TAU * cycle(t_ms, phase_ms, period_ms)).sin()
}

/// A unit-amplitude shape in [-1, 1]: the kind is picked from `kind`, the
/// period and phase from the seed and channel; its sines come from
/// `sine(phase_ms, period_ms)`.
fn shape_with(kind: usize, seed: u64, channel: u64, t_ms: i64, sine: impl FnOnce(i64, i64) -> f64) -> f64 {
    let h = hash3(seed, channel, 0x53_4841_5045);
    let phase_ms = (h % 3_600_000) as i64;
    match kind % 4 {
        // Sine with a period of 2..6 minutes.
        0 => {
            let period = 120_000 + 60_000 * ((h >> 32) % 5) as i64;
            sine(phase_ms, period)
        }
        // Sawtooth ramp over 10 minutes.
        1 => 2.0 * cycle(t_ms, phase_ms, 600_000) - 1.0,
        // Four levels, each held 5 minutes.
        2 => {
            let level = t_ms.wrapping_add(phase_ms).div_euclid(300_000).rem_euclid(4);
            level as f64 * (2.0 / 3.0) - 1.0
        }
        // Slow 30-minute sine plus a little seeded noise.
        _ => 0.95 * sine(phase_ms, 1_800_000) + 0.05 * noise(seed, channel, t_ms),
    }
}

const DAY_MS: i64 = 86_400_000;

/// A slow daily swing in [-1, 1] for temperature-like channels (issue 17):
/// the fast shapes repeat every 2 to 30 minutes, so a week drew as a solid
/// band; with this it shows its days. Lowest near 03:00 UTC, highest near
/// 15:00, shifted up to an hour per channel (rooms differ). This is its
/// sine's (phase, period) in ms.
fn daily_phase(seed: u64, channel: u64) -> (i64, i64) {
    let h = hash3(seed, channel, 0x4441_494C_59);
    let shift_ms = (h % 3_600_000) as i64;
    // sin peaks a quarter day after its zero: zero at 09:00, peak at 15:00.
    (-9 * 3_600_000 - shift_ms, DAY_MS)
}

/// Where the value functions get their sines: computed per call (a live
/// poll), or looked up per period (a history's millions of samples).
trait Sines {
    fn sine(&mut self, t_ms: i64, phase_ms: i64, period_ms: i64) -> f64;

    fn shape(&mut self, kind: usize, seed: u64, channel: u64, t_ms: i64) -> f64 {
        shape_with(kind, seed, channel, t_ms, |phase, period| self.sine(t_ms, phase, period))
    }

    fn daily(&mut self, seed: u64, channel: u64, t_ms: i64) -> f64 {
        let (phase, period) = daily_phase(seed, channel);
        self.sine(t_ms, phase, period)
    }
}

/// One `sin` per call.
struct Direct;

impl Sines for Direct {
    fn sine(&mut self, t_ms: i64, phase_ms: i64, period_ms: i64) -> f64 {
        sine(t_ms, phase_ms, period_ms)
    }
}

/// Each distinct (phase, period) sine's values on the `step_ms` grid, one
/// period's worth, filled on first use. Every period is a multiple of the
/// 1 s step and divides a day, so a week of history computes each value at
/// most once a period (a day for the daily swing, minutes for the rest)
/// instead of once a sample. The lookup gives the same bits as `sin`: the
/// index is the same integer `cycle` reduces the time to.
struct Tabled {
    step_ms: i64,
    tables: Vec<(i64, i64, Vec<f64>)>,
}

impl Sines for Tabled {
    fn sine(&mut self, t_ms: i64, phase_ms: i64, period_ms: i64) -> f64 {
        let step = self.step_ms;
        if period_ms % step != 0 || t_ms % step != 0 {
            return sine(t_ms, phase_ms, period_ms);
        }
        let k = match self.tables.iter().position(|(p, q, _)| (*p, *q) == (phase_ms, period_ms)) {
            Some(k) => k,
            None => {
                self.tables.push((phase_ms, period_ms, vec![f64::NAN; (period_ms / step) as usize]));
                self.tables.len() - 1
            }
        };
        let r = t_ms.rem_euclid(period_ms);
        let slot = &mut self.tables[k].2[(r / step) as usize];
        if slot.is_nan() {
            *slot = sine(r, phase_ms, period_ms);
        }
        *slot
    }
}

const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Rounds to 10^-decimals. Dividing by an exact power of ten yields the
/// double nearest to the decimal, i.e. exactly what a parser of the printed
/// number returns.
pub(crate) fn quantise(x: f64, decimals: u8) -> f64 {
    let p = POW10[usize::from(decimals).min(POW10.len() - 1)];
    (x * p).round() / p
}

/// Floors `t_ms` to a multiple of `step_ms` (which must be > 0).
pub(crate) fn quantise_time(t_ms: i64, step_ms: i64) -> i64 {
    t_ms - t_ms.rem_euclid(step_ms.max(1))
}

pub(crate) fn step_ms(step: Duration) -> i64 {
    i64::try_from(step.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Logger / Modbus channel: temperatures ~20-30 degC at 0.1, voltages 0.5-5.5 V at 0.001.
fn generic_value(w: &mut impl Sines, seed: u64, index: usize, t_ms: i64) -> f64 {
    let ch = index as u64;
    let h = hash3(seed, ch, 0x4241_5345);
    let s = w.shape(index / 2, seed, ch, t_ms);
    if generic_is_temperature(index) {
        // Mostly the day's swing, a little of the fast shape on top.
        let base = 25.0 + ((h % 21) as f64 - 10.0) / 10.0;
        quantise(base + 1.0 * s + 3.0 * w.daily(seed, ch, t_ms), 1)
    } else {
        let base = 1.0 + (h % 4001) as f64 / 1000.0;
        quantise(base + 0.5 * s, 3)
    }
}

/// Per-phase raw quantities of the power meter, already quantised.
fn phase_u(w: &mut impl Sines, seed: u64, phase: u8, t: i64) -> f64 {
    let ch = u64::from(phase);
    quantise(100.0 + 2.0 * w.shape(usize::from(phase), seed, ch, t), 2)
}
fn phase_i(w: &mut impl Sines, seed: u64, phase: u8, t: i64) -> f64 {
    let ch = 4 + u64::from(phase);
    quantise(3.0 + 2.0 * w.shape(usize::from(phase) + 1, seed, ch, t), 4)
}
fn phase_pf(w: &mut impl Sines, seed: u64, phase: u8, t: i64) -> f64 {
    let ch = 20 + u64::from(phase);
    quantise(0.95 + 0.05 * w.shape(3, seed, ch, t), 4)
}

fn power_value(w: &mut impl Sines, seed: u64, index: usize, t: i64) -> f64 {
    let Some(it) = POWER_ITEMS.get(index % POWER_ITEMS.len()) else { return 0.0 };
    let p = it.phase;
    let d = it.decimals;
    let uipf = |w: &mut _| (phase_u(w, seed, p, t), phase_i(w, seed, p, t), phase_pf(w, seed, p, t));
    match it.qty {
        PowerQty::Voltage => phase_u(w, seed, p, t),
        PowerQty::Current => phase_i(w, seed, p, t),
        PowerQty::PowerFactor => phase_pf(w, seed, p, t),
        PowerQty::Apparent => {
            let (u, i, _) = uipf(w);
            quantise(u * i, d)
        }
        PowerQty::Active => {
            let (u, i, pf) = uipf(w);
            quantise(u * i * pf, d)
        }
        PowerQty::Reactive => {
            let (u, i, pf) = uipf(w);
            quantise(u * i * (1.0 - pf * pf).max(0.0).sqrt(), d)
        }
        PowerQty::ActiveSum => {
            let sum: f64 =
                (1..=3).map(|p| phase_u(w, seed, p, t) * phase_i(w, seed, p, t) * phase_pf(w, seed, p, t)).sum();
            quantise(sum, d)
        }
        PowerQty::Frequency => quantise(50.0 + 0.05 * w.shape(0, seed, 24 + u64::from(p), t), d),
        PowerQty::Efficiency => quantise(95.0 + 2.0 * w.shape(2, seed, 28, t), d),
    }
}

fn dmm_value(w: &mut impl Sines, seed: u64, index: usize, t: i64) -> f64 {
    let Some(d) = DMM_CHANNELS.get(index % DMM_CHANNELS.len()) else { return 0.0 };
    let s = w.shape(index, seed, index as u64, t);
    if d.unit == "degC" {
        return quantise(d.base + d.amplitude * (0.5 * s + w.daily(seed, index as u64, t)), d.decimals);
    }
    quantise(d.base + d.amplitude * s, d.decimals)
}

/// The waveform at an already step-quantised time.
pub(crate) fn value_at(seed: u64, personality: Personality, index: usize, tq_ms: i64) -> f64 {
    value_with(&mut Direct, seed, personality, index, tq_ms)
}

fn value_with(w: &mut impl Sines, seed: u64, personality: Personality, index: usize, tq_ms: i64) -> f64 {
    match personality {
        Personality::HiokiLogger => generic_value(w, seed, index, tq_ms),
        Personality::PowerMeter => power_value(w, seed, index, tq_ms),
        Personality::Scpi => dmm_value(w, seed, index, tq_ms),
        Personality::Modbus => as_served_f32(generic_value(w, seed, index, tq_ms)),
    }
}

/// A Modbus value as served: an f32 holding-register pair, which a reader
/// takes as the shortest decimal of that f32.
fn as_served_f32(v: f64) -> f64 {
    // These values have at most 4 significant digits (0.1 degC below 1000,
    // 0.001 V below 10), and an f32 keeps any decimal of up to 6 (FLT_DIG):
    // its shortest decimal is the value itself, so the round trip (a third
    // of a history's cost) changes nothing there.
    if v.abs() < 1000.0 {
        return v;
    }
    let f = v as f32;
    // ryu prints the same shortest digits as `to_string`, without allocating.
    ryu::Buffer::new().format(f).parse().unwrap_or(f64::from(f))
}

/// One channel's waveform over many consecutive polls (the demo's history):
/// the same values as [`value_at`], with each sine computed once per period
/// rather than once per sample.
pub struct History {
    seed: u64,
    personality: Personality,
    index: usize,
    sines: Tabled,
}

impl History {
    pub(crate) fn new(seed: u64, personality: Personality, index: usize, step_ms: i64) -> History {
        History { seed, personality, index, sines: Tabled { step_ms: step_ms.max(1), tables: Vec::new() } }
    }

    /// The value served at `t_ms` (ms since the Unix epoch, UTC).
    pub fn value(&mut self, t_ms: i64) -> f64 {
        let tq = quantise_time(t_ms, self.sines.step_ms);
        value_with(&mut self.sines, self.seed, self.personality, self.index, tq)
    }
}

/// The value channel `channel_index` of an instrument with this seed and
/// personality serves at `t_ms` (ms since the Unix epoch, UTC), for the
/// default 1 s step. Modbus values are the f32 the holding registers carry.
/// Sentinels and forced values (`:SIMulate:...`, `sentinel_every`) are not
/// included.
pub fn expected_value(seed: u64, personality: Personality, channel_index: usize, t_ms: i64) -> f64 {
    expected_value_with_step(seed, personality, channel_index, t_ms, super::config::default_step())
}

/// [`expected_value`] for an instrument configured with another `step`.
pub fn expected_value_with_step(
    seed: u64,
    personality: Personality,
    channel_index: usize,
    t_ms: i64,
    step: Duration,
) -> f64 {
    value_at(seed, personality, channel_index, quantise_time(t_ms, step_ms(step)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_790_000_000_000;

    #[test]
    fn deterministic_and_step_quantised() {
        for p in [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus] {
            for ch in 0..6 {
                let a = expected_value(3, p, ch, T0 + 10);
                assert_eq!(a, expected_value(3, p, ch, T0 + 999));
                assert_eq!(a.to_bits(), expected_value(3, p, ch, T0).to_bits());
            }
        }
        let ms = Duration::from_millis(100);
        assert_eq!(
            expected_value_with_step(1, Personality::Scpi, 0, T0 + 150, ms),
            expected_value_with_step(1, Personality::Scpi, 0, T0 + 199, ms)
        );
    }

    #[test]
    fn seeds_differ() {
        let diff = (0..20).any(|ch| {
            expected_value(1, Personality::HiokiLogger, ch, T0) != expected_value(2, Personality::HiokiLogger, ch, T0)
        });
        assert!(diff);
    }

    #[test]
    fn logger_values_are_realistic_and_quantised() {
        for ch in 0..30 {
            for k in 0..200 {
                let t = T0 + k * 37_000;
                let v = expected_value(9, Personality::HiokiLogger, ch, t);
                if ch % 2 == 0 {
                    assert!((18.0..=32.0).contains(&v), "ch{ch} {v}");
                    assert_eq!(v, quantise(v, 1));
                    assert_eq!(format!("{v:.1}").parse::<f64>().unwrap(), v);
                } else {
                    assert!((0.4..=5.6).contains(&v), "ch{ch} {v}");
                    assert_eq!(format!("{v:.3}").parse::<f64>().unwrap(), v);
                }
            }
        }
    }

    /// Temperatures follow the day: a week of them is not one band (the
    /// Viewer's week, issue 17); other channels keep their fast shapes.
    #[test]
    fn temperatures_swing_daily() {
        const HOUR: i64 = 3_600_000;
        // Hourly means over 20 minutes (the fast shapes average out).
        let mean = |p: Personality, ch: usize, t0: i64| {
            (0..20).map(|m| expected_value(4, p, ch, t0 + m * 60_000)).sum::<f64>() / 20.0
        };
        let day0 = T0 - T0.rem_euclid(DAY_MS);
        for (p, ch) in [(Personality::HiokiLogger, 0), (Personality::HiokiLogger, 2), (Personality::Scpi, 4)] {
            let night = mean(p, ch, day0 + 3 * HOUR);
            let afternoon = mean(p, ch, day0 + 15 * HOUR);
            assert!(afternoon - night > 2.5, "{p:?} ch{ch}: night {night}, afternoon {afternoon}");
            // and the next day repeats it
            assert_eq!(expected_value(4, p, ch, day0 + 15 * HOUR), expected_value(4, p, ch, day0 + DAY_MS + 15 * HOUR));
        }
        // a voltage channel of the logger has no daily swing added
        let v = |t| expected_value(4, Personality::HiokiLogger, 1, t);
        assert!((1.0..=5.6).contains(&v(day0 + 3 * HOUR)));
    }

    #[test]
    fn power_meter_is_physical() {
        for k in 0..100 {
            let t = T0 + k * 61_000;
            let v = |i| expected_value(5, Personality::PowerMeter, i, t);
            let (u, i, p, s, pf) = (v(0), v(4), v(8), v(12), v(20));
            assert!((97.0..=103.0).contains(&u), "{u}");
            assert!((1.0..=5.0).contains(&i), "{i}");
            assert!((0.9..=1.0).contains(&pf), "{pf}");
            assert!((p - u * i * pf).abs() < 0.01 && (s - u * i).abs() < 0.01);
            assert!((49.9..=50.1).contains(&v(24)));
        }
    }

    #[test]
    fn modbus_is_f32_exact() {
        let v = expected_value(2, Personality::Modbus, 1, T0);
        assert_eq!((v as f32).to_string().parse::<f64>().unwrap(), v);
    }

    #[test]
    fn quantise_matches_decimal_parsing() {
        for (x, d) in [(23.4, 1), (1.2345678, 3), (-0.05, 1), (100.015, 2), (0.0, 4)] {
            let q = quantise(x, d);
            let text = format!("{q:.*}", usize::from(d));
            assert_eq!(text.parse::<f64>().unwrap(), q, "{x} {d}");
        }
        assert_eq!(quantise_time(-1, 1000), -1000);
        assert_eq!(quantise_time(1999, 1000), 1000);
    }

    /// The history's period tables and skipped f32 round trip give the live
    /// values bit for bit, across a day's wrap and for every personality.
    #[test]
    fn history_equals_the_live_values() {
        let all = [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus];
        let start = T0 - T0.rem_euclid(DAY_MS) + DAY_MS - 2 * 3_600_000; // 22:00, through midnight
        for p in all {
            for ch in 0..p.default_channels().min(30) {
                let mut h = History::new(7, p, ch, 1000);
                for k in (0..4 * 3600).step_by(if ch < 4 { 1 } else { 13 }) {
                    let t = start + k * 1000 + 250;
                    assert_eq!(h.value(t).to_bits(), expected_value(7, p, ch, t).to_bits(), "{p:?} ch{ch} t{t}");
                }
                // a coarser step falls back to computing each sine
                let mut h = History::new(7, p, ch, 7_000);
                let ms = Duration::from_millis(7_000);
                for k in 0..50 {
                    let t = start + k * 7_001;
                    assert_eq!(h.value(t), expected_value_with_step(7, p, ch, t, ms), "{p:?} ch{ch}");
                }
            }
        }
    }

    /// Skipping the f32 round trip is exact: for the Modbus values (any
    /// seed, channel and time) the full round trip changes nothing.
    #[test]
    fn modbus_round_trip_is_the_identity_on_its_values() {
        for seed in 0..20 {
            for ch in 0..8 {
                for k in 0..500 {
                    let v = generic_value(&mut Direct, seed, ch, T0 + k * 7_919_000);
                    let f = v as f32;
                    assert_eq!(ryu::Buffer::new().format(f).parse::<f64>().unwrap(), v, "seed {seed} ch{ch}");
                    assert_eq!(as_served_f32(v), v);
                }
            }
        }
        assert_eq!(as_served_f32(12345.678), (12345.678f32).to_string().parse::<f64>().unwrap());
    }

    proptest! {
        #[test]
        fn history_matches_any_time(seed: u64, ch in 0usize..30, t in 0i64..4_000_000_000_000) {
            for p in [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus] {
                let mut h = History::new(seed, p, ch, 1000);
                prop_assert_eq!(h.value(t).to_bits(), expected_value(seed, p, ch, t).to_bits());
            }
        }

        #[test]
        fn shapes_stay_in_range(kind in 0usize..8, seed: u64, ch in 0u64..1000, t in -4_000_000_000_000i64..4_000_000_000_000) {
            let s = Direct.shape(kind, seed, ch, t);
            prop_assert!((-1.0..=1.0).contains(&s), "{}", s);
        }
    }
}
