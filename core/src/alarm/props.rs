//! Property tests of the evaluator: filter boundaries, hysteresis, window
//! boundaries (midnight, DST), AND/OR against a reference, and no panics.

use proptest::prelude::*;
use serde_json::json;

use super::rule::WindowParts;
use super::window::{Window, WindowCache};
use super::*;
use crate::model::{SpecialKind, TimeMs, Value};

const DAY: i64 = 86_400_000;

fn rule(v: serde_json::Value) -> AlarmRule {
    let r = AlarmRule::from_json(&v).unwrap();
    r.validate().unwrap();
    r
}

fn engine(rules: Vec<AlarmRule>) -> AlarmEngine {
    AlarmEngine::new(rules, chrono_tz::UTC, Vec::new())
}

fn active(e: &AlarmEngine, id: &str) -> bool {
    e.state(id).unwrap().phase.is_active()
}

const OPS: [&str; 6] = [">", ">=", "<=", "<", "outside_incl", "outside_excl"];

/// The contract's definitions, written out independently of `condition.rs`.
fn reference_met(op: &str, v: f64, value: f64, low: f64, high: f64) -> bool {
    match op {
        ">" => v > value,
        ">=" => v >= value,
        "<=" => v <= value,
        "<" => v < value,
        "outside_incl" => v <= low || v >= high,
        "outside_excl" => v < low || v > high,
        _ => unreachable!(),
    }
}

fn cond_json(op: &str, value: f64, low: f64, high: f64) -> serde_json::Value {
    if op.starts_with("outside") {
        json!({"op": op, "low": low, "high": high})
    } else {
        json!({"op": op, "value": value})
    }
}

fn sample_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (-3i32..=3).prop_map(|i| Value::Number(i as f64)),
        1 => Just(Value::Special(SpecialKind::OverRange)),
        1 => Just(Value::Special(SpecialKind::NoData)),
    ]
}

/// Berlin's UTC offset in 2024, written out: CEST from 31 Mar 01:00Z to 27 Oct 01:00Z.
fn berlin_2024_offset(t: TimeMs) -> i64 {
    let (spring, autumn) = (1_711_846_800_000, 1_729_990_800_000);
    if (spring..autumn).contains(&t) { 2 * 3_600_000 } else { 3_600_000 }
}

/// Weekday (0 = Monday) and ms of the day of a local time given as ms.
fn reference_local(local: i64) -> (u8, u32) {
    let day = local.div_euclid(DAY);
    (((day + 3).rem_euclid(7)) as u8, local.rem_euclid(DAY) as u32) // 1970-01-01 was a Thursday
}

fn reference_window(p: &WindowParts, day: u8, ms: u32) -> bool {
    let on = |d: u8| p.days >> d & 1 == 1;
    let prev = (day + 6) % 7;
    if p.from_ms < p.to_ms {
        on(day) && ms >= p.from_ms && ms < p.to_ms
    } else {
        (on(day) && ms >= p.from_ms) || (on(prev) && ms < p.to_ms)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Held for `filter - 1` ms: nothing; held for `filter` ms: raise at `t0 + filter`,
    /// by a sample or by a tick. The same for the return.
    #[test]
    fn filter_duration_boundary(filter in 1i64..200_000, t0 in 0i64..4_000_000_000_000, by_tick in any::<bool>()) {
        let r = rule(json!({"id": "f", "kind": "threshold", "channel": "a/b", "op": ">", "value": 10.0,
                            "filter": format!("{filter}ms")}));
        let mut e = engine(vec![r]);
        prop_assert!(e.on_sample("a/b", t0, Value::Number(11.0)).is_empty());
        let tr = if by_tick { e.tick(t0 + filter - 1) } else { e.on_sample("a/b", t0 + filter - 1, Value::Number(12.0)) };
        prop_assert!(tr.is_empty());
        let tr = if by_tick { e.tick(t0 + filter) } else { e.on_sample("a/b", t0 + filter, Value::Number(12.0)) };
        prop_assert_eq!(tr.len(), 1);
        prop_assert_eq!((tr[0].action, tr[0].t), (Action::Raise, t0 + filter));
        let t1 = t0 + filter + 5;
        prop_assert!(e.on_sample("a/b", t1, Value::Number(1.0)).is_empty());
        prop_assert!(e.tick(t1 + filter - 1).is_empty());
        let tr = e.tick(t1 + filter);
        prop_assert_eq!((tr[0].action, tr[0].t), (Action::Return, t1 + filter));
    }

    /// A condition that breaks off 1 ms before the filter ends never raises.
    #[test]
    fn filter_interrupted_never_raises(filter in 1i64..100_000, gaps in prop::collection::vec(0i64..100_000, 1..20)) {
        let r = rule(json!({"id": "f", "kind": "threshold", "channel": "a/b", "op": ">", "value": 10.0,
                            "filter": format!("{filter}ms")}));
        let mut e = engine(vec![r]);
        let mut t = 0;
        for g in gaps {
            let held = g % filter; // < filter
            prop_assert!(e.on_sample("a/b", t, Value::Number(11.0)).is_empty());
            prop_assert!(e.tick(t + held).is_empty());
            prop_assert!(e.on_sample("a/b", t + held, Value::Number(9.0)).is_empty());
            t += held + 1 + g;
            prop_assert!(e.tick(t).is_empty());
        }
    }

    /// Values oscillating inside the deadband never change the alarm's state,
    /// whichever state it is in.
    #[test]
    fn hysteresis_never_flaps(
        op in 0usize..6,
        thr in -1000.0f64..1000.0,
        deadband in 0.1f64..100.0,
        start_active in any::<bool>(),
        fracs in prop::collection::vec((0.01f64..0.99, any::<bool>()), 1..60),
    ) {
        let op = OPS[op];
        let (low, high) = (thr, thr + 3.0 * deadband + 1.0);
        let mut body = json!({"id": "h", "kind": "threshold", "channel": "a/b", "deadband": deadband});
        for (k, v) in cond_json(op, thr, low, high).as_object().unwrap() {
            body[k] = v.clone();
        }
        let mut e = engine(vec![rule(body)]);
        // Far beyond or far inside sets the starting state.
        let far = 10.0 * deadband + 10.0;
        let start = match (op, start_active) {
            (">" | ">=", true) | ("<" | "<=", false) => thr + far,
            (">" | ">=", false) | ("<" | "<=", true) => thr - far,
            (_, true) => low - far,
            (_, false) => (low + high) / 2.0,
        };
        e.on_sample("a/b", 0, Value::Number(start));
        prop_assert_eq!(active(&e, "h"), start_active);
        for (i, (f, near_high)) in fracs.into_iter().enumerate() {
            let v = match op {
                ">" | ">=" => thr - deadband * f,
                "<" | "<=" => thr + deadband * f,
                _ if near_high => high - deadband * f,
                _ => low + deadband * f,
            };
            let tr = e.on_sample("a/b", 1 + i as i64, Value::Number(v));
            prop_assert!(tr.is_empty(), "{op} thr {thr} db {deadband}: {v} flipped {:?}", tr);
        }
    }

    /// From inclusive, to exclusive, midnight spans, in UTC.
    #[test]
    fn window_boundaries(days in 1u8..128, from_min in 0u32..1440, to_min in 1u32..=1440, day in 0i64..3000) {
        prop_assume!(from_min != to_min);
        let p = WindowParts { days, from_ms: from_min * 60_000, to_ms: to_min * 60_000 };
        let w = Window { parts: p, tz: chrono_tz::UTC };
        let start = (19_000 + day) * DAY; // a day in 2022..2030
        let wd = ((19_000 + day + 3) % 7) as u8;
        let on = |d: u8| days >> (d % 7) & 1 == 1;
        prop_assume!(on(wd));
        let (from, to) = (p.from_ms as i64, p.to_ms as i64);
        prop_assert!(w.contains(start + from));
        if from < to {
            prop_assert!(w.contains(start + to - 1));
            prop_assert_eq!(w.contains(start + to), to == DAY && from == 0 && on(wd + 1));
            prop_assert_eq!(w.contains(start + from - 1), from == 0 && to == DAY && on(wd + 6));
        } else {
            prop_assert!(w.contains(start + DAY - 1));
            prop_assert!(w.contains(start + DAY + to - 1));
            prop_assert!(!w.contains(start + DAY + to));
            prop_assert!(!w.contains(start + from - 1));
        }
    }

    /// Around Berlin's 2024 DST changes the window follows local wall-clock
    /// time (reference: offsets written out by hand), and the memo agrees.
    #[test]
    fn window_on_dst_days(
        days in 1u8..128,
        from_min in 0u32..1440,
        to_min in 1u32..=1440,
        spring in any::<bool>(),
        offsets in prop::collection::vec(-2 * DAY..2 * DAY, 1..50),
    ) {
        prop_assume!(from_min != to_min);
        let p = WindowParts { days, from_ms: from_min * 60_000, to_ms: to_min * 60_000 };
        let w = Window { parts: p, tz: chrono_tz::Europe::Berlin };
        let change = if spring { 1_711_846_800_000 } else { 1_729_990_800_000 };
        let mut cache = WindowCache::default();
        let mut ts: Vec<i64> = offsets.iter().map(|o| change + o).collect();
        ts.sort();
        for t in ts {
            let (d, ms) = reference_local(t + berlin_2024_offset(t));
            let want = reference_window(&p, d, ms);
            prop_assert_eq!(w.contains(t), want, "t {}", t);
            prop_assert_eq!(w.contains_cached(t, &mut cache), want, "cached t {}", t);
        }
    }

    /// AND/OR of two channels against a reference, specials and unseen channels counting as not met.
    #[test]
    fn and_or_truth_table(
        ops in (0usize..6, 0usize..6),
        or in any::<bool>(),
        events in prop::collection::vec((any::<bool>(), sample_value()), 1..80),
    ) {
        let (oa, ob) = (OPS[ops.0], OPS[ops.1]);
        let mut second = cond_json(ob, 0.0, -1.0, 1.0);
        second["channel"] = json!("x/b");
        second["combine"] = json!(if or { "or" } else { "and" });
        let mut body = json!({"id": "c", "kind": "threshold", "channel": "x/a", "second": second});
        for (k, v) in cond_json(oa, 0.0, -1.0, 1.0).as_object().unwrap() {
            body[k] = v.clone();
        }
        let mut e = engine(vec![rule(body)]);
        let (mut a, mut b): (Option<Value>, Option<Value>) = (None, None);
        let met = |op: &str, v: Option<Value>| matches!(v, Some(Value::Number(x)) if reference_met(op, x, 0.0, -1.0, 1.0));
        for (i, (on_a, v)) in events.into_iter().enumerate() {
            if on_a { a = Some(v) } else { b = Some(v) }
            e.on_sample(if on_a { "x/a" } else { "x/b" }, i as i64, v);
            let want = if or { met(oa, a) || met(ob, b) } else { met(oa, a) && met(ob, b) };
            prop_assert_eq!(active(&e, "c"), want);
        }
    }

    /// Rules from arbitrary field values and arbitrary inputs never panic.
    #[test]
    fn random_rules_and_inputs_never_panic(
        rules in prop::collection::vec(prop_oneof![arb_rule_json(), arb_valid_rule_json()], 0..6),
        steps in prop::collection::vec(arb_step(), 0..60),
    ) {
        let parsed: Vec<AlarmRule> = rules.iter().filter_map(|j| {
            let r = AlarmRule::from_json(j);
            if let Ok(r) = &r {
                let _ = r.validate();
                let back = serde_json::to_value(r).unwrap();
                assert_eq!(AlarmRule::from_json(&back).as_ref(), Ok(r));
            }
            r.ok()
        }).collect();
        let _ = validate_all(&parsed);
        let mut e = AlarmEngine::new(parsed.clone(), chrono_tz::Europe::Berlin, Vec::new());
        let ids: Vec<String> = e.states().map(|s| s.alarm_id.clone()).chain(["nope".to_string()]).collect();
        for s in steps {
            match s {
                Step::Sample(p, t, v) => { e.on_sample(PATHS[p], t, v); }
                Step::Conn(i, c, t) => { e.on_connection(INSTS[i], c, Some("why"), t); }
                Step::Storage(b, t) => { e.on_storage(b, t); }
                Step::Tick(t) => { e.tick(t); }
                Step::Manual(k, i, t, until) => {
                    let id = &ids[i % ids.len()];
                    let _ = match k {
                        0 => e.ack(id, "ann", "c", t),
                        1 => e.shelve(id, until, "ann", "", t),
                        2 => e.unshelve(id, "", "", t),
                        _ => e.set_out_of_service(id, k == 3, "ann", "", t),
                    };
                }
                Step::Rules(n) => { e.set_rules(parsed.iter().skip(n).cloned().collect(), 0); }
            }
        }
        let _ = e.views(|p, v| format!("{p}{v:?}"));
        let restored: Vec<AlarmState> = e.states().cloned().collect();
        let _ = AlarmEngine::new(parsed, chrono_tz::UTC, restored).tick(0);
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        let _ = AlarmRule::from_json(&v).map(|r| r.validate());
    }
}

const PATHS: [&str; 4] = ["a/1", "a/2", "b/1", "bad"];
const INSTS: [&str; 3] = ["a", "b", ""];

#[derive(Clone, Debug)]
enum Step {
    Sample(usize, TimeMs, Value),
    Conn(usize, bool, TimeMs),
    Storage(u64, TimeMs),
    Tick(TimeMs),
    Manual(u8, usize, TimeMs, TimeMs),
    Rules(usize),
}

fn arb_time() -> impl Strategy<Value = TimeMs> {
    prop_oneof![4 => 0i64..10_000_000, 1 => any::<i64>(), 1 => Just(i64::MAX), 1 => Just(i64::MIN)]
}

fn arb_step() -> impl Strategy<Value = Step> {
    let value = prop_oneof![
        any::<f64>().prop_map(Value::Number),
        (-5.0f64..5.0).prop_map(Value::Number),
        Just(Value::Number(f64::NAN)),
        prop::sample::select(SpecialKind::ALL.to_vec()).prop_map(Value::Special),
    ];
    prop_oneof![
        4 => (0usize..4, arb_time(), value).prop_map(|(p, t, v)| Step::Sample(p, t, v)),
        1 => (0usize..3, any::<bool>(), arb_time()).prop_map(|(i, c, t)| Step::Conn(i, c, t)),
        1 => (any::<u64>(), arb_time()).prop_map(|(b, t)| Step::Storage(b, t)),
        2 => arb_time().prop_map(Step::Tick),
        2 => (0u8..5, 0usize..10, arb_time(), arb_time()).prop_map(|(k, i, t, u)| Step::Manual(k, i, t, u)),
        1 => (0usize..4).prop_map(Step::Rules),
    ]
}

fn arb_rule_json() -> impl Strategy<Value = serde_json::Value> {
    let num = prop_oneof![(-5i32..5).prop_map(|i| json!(i)), Just(json!(1e308)), Just(json!("x"))];
    (
        prop::sample::select(vec!["r1", "r2", "r3", "bad id", ""]),
        prop::sample::select(vec!["threshold", "connection", "special", "storage", "other"]),
        prop::option::of(prop::sample::select(vec!["a/1", "a/2", "b/1", "bad", "a/"])),
        prop::option::of(prop::sample::select(OPS.to_vec())),
        (prop::option::of(num.clone()), prop::option::of(num.clone()), prop::option::of(num)),
        prop::option::of(prop::sample::select(vec![json!(0.5), json!(-1), json!(100)])),
        prop::option::of(prop::sample::select(vec!["0s", "1ms", "3s", "2d", "soon"])),
        prop::option::of(prop::sample::select(vec![
            json!({"from": "08:00", "to": "18:00"}),
            json!({"days": ["sat"], "from": "22:00", "to": "02:00", "tz": "America/New_York"}),
            json!({"tz": "Nowhere"}),
            json!({"from": "25:00"}),
        ])),
        prop::option::of(prop::sample::select(vec![
            json!({"channel": "a/2", "op": "<", "value": 0, "combine": "or"}),
            json!({"channel": "b/1", "op": "outside_excl", "low": -1, "high": 1}),
            json!({"channel": "a/2", "op": ">"}),
        ])),
        (
            prop::option::of(prop::sample::select(vec!["a", "b", "a/b"])),
            prop::option::of(prop::sample::select(vec![json!(["over-range"]), json!([]), json!(["weird"])])),
            prop::option::of(prop::sample::select(vec![json!("1GB"), json!(5), json!("lots"), json!(-1)])),
            prop::option::of(prop::sample::select(vec!["1m", "30s", "1h"])),
            any::<bool>(),
        ),
    )
        .prop_map(|(id, kind, channel, op, (value, low, high), deadband, filter, window, second, rest)| {
            let (instrument, specials, below, reminder, notify) = rest;
            let mut o = json!({"id": id, "kind": kind, "notify_on_return": notify});
            let mut put = |k: &str, v: Option<serde_json::Value>| {
                if let Some(v) = v {
                    o[k] = v;
                }
            };
            put("channel", channel.map(|c| json!(c)));
            put("op", op.map(|c| json!(c)));
            put("value", value);
            put("low", low);
            put("high", high);
            put("deadband", deadband);
            put("filter", filter.map(|c| json!(c)));
            put("window", window);
            put("second", second);
            put("instrument", instrument.map(|c| json!(c)));
            put("specials", specials);
            put("below", below);
            put("reminder", reminder.map(|c| json!(c)));
            o
        })
}

/// Coherent rules with random parameters, so the engine has work to do.
fn arb_valid_rule_json() -> impl Strategy<Value = serde_json::Value> {
    (
        prop::sample::select(vec!["v1", "v2", "v3"]),
        0usize..6,
        -3i32..3,
        0u32..3,
        prop::sample::select(vec!["0s", "1ms", "20ms", "1s"]),
        any::<bool>(),
        0usize..5,
    )
        .prop_map(|(id, op, thr, db, filter, win, kind)| {
            let mut o = match kind {
                0 | 1 => {
                    let mut o = cond_json(OPS[op], thr as f64, thr as f64, thr as f64 + 10.0);
                    o["channel"] = json!(PATHS[op % 3]);
                    o["deadband"] = json!(db as f64);
                    if kind == 1 {
                        o["second"] = json!({"channel": PATHS[(op + 1) % 3], "op": "<", "value": thr, "combine": "or"});
                    }
                    o["kind"] = json!("threshold");
                    o
                }
                2 => json!({"kind": "special", "specials": ["no-data", "invalid"]}),
                3 => json!({"kind": "connection", "reminder": "1m"}),
                _ => json!({"kind": "storage", "below": 1_000_000, "reminder": "2m"}),
            };
            o["id"] = json!(id);
            o["filter"] = json!(filter);
            if win {
                o["window"] = json!({"days": ["mon", "thu"], "from": "23:00", "to": "01:00", "tz": "Asia/Kathmandu"});
            }
            o
        })
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z_/:]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec!["id", "kind", "op", "value", "window", "second", "channel", "zzz"])
                    .prop_map(String::from),
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
