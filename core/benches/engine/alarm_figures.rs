//! Alarm rule evaluation: 10,000 `[[alarm]]` threshold rules on 2,500
//! logger channels (hi, hi-hi, lo and a band per channel; deadbands,
//! filters, second channels AND/OR, valid time windows), fed 1M samples of
//! the simulator's own waveforms (`sim::expected_value`) polled at 1 s from
//! 30 loggers x 100 channels (500 channels without rules), with the engine's
//! clock tick every 500 ms of data time as the agent's writer does. One
//! channel in five has limits inside its range (crossed now and then, some
//! flapping), the others limits outside it.
//! Baseline: the same samples through a plain loop over a Vec of
//! (channel, threshold) indexed by channel number (the in-RAM ceiling).

use std::time::{Duration, Instant};

use meterdeck_core::alarm::rule::{Second, WindowSpec};
use meterdeck_core::alarm::{Action, AlarmEngine, AlarmRule, Combine, Op, RuleKind, Severity, validate_all};
use meterdeck_core::model::Value;
use meterdeck_drivers::sim::{Personality, expected_value};

const LOGGERS: usize = 30;
const RULED_LOGGERS: usize = 25;
const PER_LOGGER: usize = 100;
const CHANNELS: usize = LOGGERS * PER_LOGGER;
const RULED: usize = RULED_LOGGERS * PER_LOGGER;
/// 2026-06-10 05:58:30 UTC, a Wednesday, 07:58:30 in Berlin: the office-hours
/// windows open 90 s into the run.
const T0: i64 = 1_781_071_110_000;

/// The agent's writer calls `AlarmEngine::tick` this often.
const TICK_MS: i64 = 500;

/// One sample: channel number, time, value.
type In = (u32, i64, f64);

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn path(ch: usize) -> String {
    let c = ch % PER_LOGGER;
    format!("logger{:03}/CH{}_{}", ch / PER_LOGGER, c / 15 + 1, c % 15 + 1)
}

/// Poll cycles at 1 s, each logger answering a few ms after the previous one.
fn samples(n: usize) -> Vec<In> {
    let mut out = Vec::with_capacity(n);
    'all: for cycle in 0.. {
        for ch in 0..CHANNELS {
            if out.len() == n {
                break 'all;
            }
            let inst = ch / PER_LOGGER;
            let t = T0 + cycle * 1000 + inst as i64 * 7;
            let v = expected_value(inst as u64, Personality::HiokiLogger, ch % PER_LOGGER, t);
            out.push((ch as u32, t, v));
        }
    }
    out
}

fn rule(id: String, ch: usize, op: Op, severity: Severity) -> AlarmRule {
    AlarmRule {
        id,
        name: None,
        enabled: true,
        severity,
        kind: RuleKind::Threshold,
        channel: Some(path(ch)),
        op: Some(op),
        value: None,
        low: None,
        high: None,
        deadband: None,
        second: None,
        instrument: None,
        specials: None,
        pattern: None,
        below: None,
        filter: None,
        window: None,
        notify_on_return: false,
        destinations: vec!["desk".into()],
        reminder: None,
        message: None,
    }
}

fn window(days: Option<&[&str]>, from: &str, to: &str, tz: Option<&str>) -> WindowSpec {
    WindowSpec {
        days: days.map(|d| d.iter().map(|s| s.to_string()).collect()),
        from: Some(from.into()),
        to: Some(to.into()),
        tz: tz.map(str::to_string),
    }
}

/// Four rules per ruled channel, placed by the channel's range `[lo, hi]`:
/// on one channel in five ("lively") the limits sit inside the range and get
/// crossed; on the others they sit outside it, the quiet majority of a plant.
fn rules(range: &[(f64, f64)]) -> Vec<AlarmRule> {
    let secs = |s: u64| Some(Duration::from_secs(s));
    let mut out = Vec::with_capacity(4 * RULED);
    for ch in 0..RULED {
        let (lo, hi) = range[ch];
        let span = (hi - lo).max(0.01);
        let at = |f: f64| ((lo + span * f) * 1000.0).round() / 1000.0;
        let h = mix(ch as u64);
        let pick = |shift: u32, n: u64| (h >> shift) % n;
        let pair = ch ^ 1; // the neighbour on the same logger (temperature / voltage)
        let (plo, phi) = range[pair];
        let out_by = if pick(52, 5) == 0 { 0.0 } else { 0.3 };
        let f_hi = [0.75, 0.8, 0.85, 0.9, 0.95, 1.05][pick(0, 6) as usize] + out_by;

        let mut r = rule(format!("hi-{ch}"), ch, if pick(4, 2) == 0 { Op::Gt } else { Op::Ge }, Severity::High);
        r.value = Some(at(f_hi));
        r.deadband = (pick(8, 10) < 7).then(|| (span * 0.05 * 1000.0).round() / 1000.0);
        r.filter = [None, None, secs(2), secs(5), secs(10)][pick(12, 5) as usize];
        r.notify_on_return = pick(16, 2) == 0;
        r.message = Some(format!("Channel {} high", path(ch)));
        out.push(r);

        let mut r = rule(format!("hihi-{ch}"), ch, Op::Ge, Severity::Critical);
        r.value = Some(at(f_hi + 0.1));
        if pick(20, 5) == 0 {
            // Interlock: only when the neighbour is up as well.
            r.second = Some(Second {
                channel: path(pair),
                op: Op::Gt,
                value: Some((plo + phi) / 2.0),
                low: None,
                high: None,
                combine: Combine::And,
            });
        }
        out.push(r);

        let mut r = rule(format!("lo-{ch}"), ch, if pick(24, 2) == 0 { Op::Lt } else { Op::Le }, Severity::Medium);
        r.value = Some(at([-0.05, 0.0, 0.05, 0.1, 0.2][pick(28, 5) as usize] - out_by));
        r.deadband = (pick(32, 10) < 6).then(|| (span * 0.04 * 1000.0).round() / 1000.0);
        r.filter = [None, secs(5), secs(30)][pick(36, 3) as usize];
        if pick(40, 4) == 0 {
            r.second = Some(Second {
                channel: path(pair),
                op: Op::Lt,
                value: Some(plo + (phi - plo) * (0.2 - out_by)),
                low: None,
                high: None,
                combine: Combine::Or,
            });
        }
        out.push(r);

        let op = if pick(44, 2) == 0 { Op::OutsideIncl } else { Op::OutsideExcl };
        let mut r = rule(format!("band-{ch}"), ch, op, Severity::Low);
        r.low = Some(at(0.05 - out_by));
        r.high = Some(at(0.95 + out_by));
        r.deadband = Some((span * 0.03 * 1000.0).round() / 1000.0);
        r.filter = secs(3);
        r.window = match pick(48, 10) {
            0 | 1 => Some(window(Some(&["mon", "tue", "wed", "thu", "fri"]), "08:00", "18:00", Some("Europe/Berlin"))),
            2 => Some(window(None, "22:00", "06:00", Some("UTC"))),
            3 => Some(window(Some(&["sat", "sun"]), "00:00", "24:00", None)),
            _ => None,
        };
        r.notify_on_return = true;
        out.push(r);
    }
    out
}

#[derive(Clone, Copy, Default, PartialEq, Debug)]
struct Counts {
    raise: usize,
    ret: usize,
    other: usize,
}

/// One pass over the samples with a fresh engine; (elapsed, of which in
/// `tick`, transitions).
fn engine_pass(rules: &[AlarmRule], paths: &[String], samples: &[In]) -> (Duration, Duration, Counts) {
    let mut e = AlarmEngine::new(rules.to_vec(), chrono_tz::Europe::Berlin, Vec::new());
    assert_eq!(e.states().count(), rules.len(), "every rule compiles");
    let mut c = Counts::default();
    let mut count = |tr: Vec<meterdeck_core::alarm::Transition>| {
        for t in tr {
            match t.action {
                Action::Raise => c.raise += 1,
                Action::Return => c.ret += 1,
                _ => c.other += 1,
            }
        }
    };
    let mut ticks = Duration::ZERO;
    let start = Instant::now();
    let mut slot = samples.first().map_or(0, |s| s.1 / TICK_MS);
    for &(ch, t, v) in samples {
        // Every 500 ms slot that passed gets its tick, as on the wall clock.
        while slot < t / TICK_MS {
            let t0 = Instant::now();
            count(e.tick(slot * TICK_MS + TICK_MS - 1));
            ticks += t0.elapsed();
            slot += 1;
        }
        count(e.on_sample(&paths[ch as usize], t, Value::Number(v)));
    }
    (start.elapsed(), ticks, c)
}

/// The ceiling: per sample, compare against that channel's thresholds in a
/// Vec of (channel, threshold) sorted by channel; count flips.
fn ram_pass(table: &[(u32, f64)], offsets: &[usize], samples: &[In]) -> (Duration, usize) {
    let mut state = vec![false; table.len()];
    let mut flips = 0usize;
    let start = Instant::now();
    for &(ch, _, v) in std::hint::black_box(samples) {
        let (a, b) = (offsets[ch as usize], offsets[ch as usize + 1]);
        for (i, &(_, th)) in table[a..b].iter().enumerate() {
            let hit = v > th;
            flips += usize::from(hit != state[a + i]);
            state[a + i] = hit;
        }
    }
    (start.elapsed(), std::hint::black_box(flips))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] }
}

/// Each channel's range over two hours around the run (10 s steps): the
/// span an engineer would set limits against. A run of minutes sees only part
/// of it, so only some rules are crossed.
fn long_range() -> Vec<(f64, f64)> {
    (0..CHANNELS)
        .map(|ch| {
            (-360..360).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), k| {
                let v = expected_value(
                    (ch / PER_LOGGER) as u64,
                    Personality::HiokiLogger,
                    ch % PER_LOGGER,
                    T0 + k * 10_000,
                );
                (lo.min(v), hi.max(v))
            })
        })
        .collect()
}

pub fn run(quick: bool) -> Vec<(&'static str, Option<f64>)> {
    let (n, passes) = if quick { (250_000, 3) } else { (1_000_000, 5) };
    let samples = samples(n);
    let rules = rules(&long_range());
    validate_all(&rules).expect("bench rules are valid");
    let paths: Vec<String> = (0..CHANNELS).map(path).collect();

    let mut table: Vec<(u32, f64)> =
        rules.iter().enumerate().map(|(i, r)| ((i / 4) as u32, r.value.or(r.high).unwrap_or(f64::INFINITY))).collect();
    table.sort_by_key(|e| e.0);
    let mut offsets = vec![0usize; CHANNELS + 1];
    for &(ch, _) in &table {
        offsets[ch as usize + 1] += 1;
    }
    for i in 0..CHANNELS {
        offsets[i + 1] += offsets[i];
    }

    let (mut rates, mut ram_rates, mut tick_share) = (Vec::new(), Vec::new(), Vec::new());
    let mut counts = None;
    let mut flips = 0;
    for _ in 0..passes {
        let (dt, ticks, c) = engine_pass(&rules, &paths, &samples);
        assert!(counts.is_none_or(|p| p == c), "passes must agree");
        counts = Some(c);
        rates.push(n as f64 / dt.as_secs_f64());
        tick_share.push(100.0 * ticks.as_secs_f64() / dt.as_secs_f64());
        let (dt, f) = ram_pass(&table, &offsets, &samples);
        flips = f;
        ram_rates.push(n as f64 / dt.as_secs_f64());
    }
    if std::env::var_os("STORE_FIGURES_DEBUG").is_some() {
        eprintln!("alarm passes: {rates:.0?}, ram: {ram_rates:.0?}");
    }
    let (rate, ram, tick_share) = (median(rates), median(ram_rates), median(tick_share));
    let c = counts.unwrap_or_default();
    let with_second = rules.iter().filter(|r| r.second.is_some()).count();
    let with_window = rules.iter().filter(|r| r.window.is_some()).count();
    let with_filter = rules.iter().filter(|r| r.filter.is_some()).count();
    eprintln!(
        "alarms: {} rules on {RULED} of {CHANNELS} channels ({with_second} with a second channel, {with_window} with a \
         window, {with_filter} with a filter), {n} simulator samples at 1 s + a tick per {TICK_MS} ms, median of {passes} \
         passes: {rate:.0} samples/s ({tick_share:.0} % of it in tick), {} transitions per pass ({} raise, {} return, \
         {} other); RAM loop over (channel, threshold): {ram:.0} samples/s, {flips} flips",
        rules.len(),
        c.raise + c.ret + c.other,
        c.raise,
        c.ret,
        c.other,
    );
    vec![
        ("rule_eval_samples_per_s", Some(rate.round())),
        ("rule_eval_transitions", Some((c.raise + c.ret + c.other) as f64)),
        ("ram_threshold_loop_samples_per_s", Some(ram.round())),
        ("rule_eval_vs_ram", Some((rate / ram * 1000.0).round() / 1000.0)),
    ]
}
