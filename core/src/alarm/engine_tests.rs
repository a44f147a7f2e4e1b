//! Engine behaviour end to end (without SQLite; see `journal` for that).

use super::*;
use crate::model::{SpecialKind, TimeMs, Value};

pub(super) fn rules(toml_text: &str) -> Vec<AlarmRule> {
    #[derive(serde::Deserialize)]
    struct F {
        alarm: Vec<AlarmRule>,
    }
    let rules = toml::from_str::<F>(toml_text).unwrap().alarm;
    validate_all(&rules).unwrap();
    rules
}

fn engine(toml_text: &str) -> AlarmEngine {
    AlarmEngine::new(rules(toml_text), chrono_tz::UTC, Vec::new())
}

fn n(v: f64) -> Value {
    Value::Number(v)
}

fn acts(tr: &[Transition]) -> Vec<(&str, Action, TimeMs)> {
    tr.iter().map(|t| (t.alarm_id.as_str(), t.action, t.t)).collect()
}

const HOT: &str = r#"
[[alarm]]
id = "hot"
name = "Boiler hot"
kind = "threshold"
channel = "l/t"
op = ">"
value = 80
deadband = 2
filter = "10s"
notify_on_return = true
destinations = ["desk"]
message = "Check the burner"
"#;

#[test]
fn filter_raises_at_start_plus_filter() {
    let mut e = engine(HOT);
    assert!(e.on_sample("l/t", 0, n(81.0)).is_empty());
    assert!(e.on_sample("l/t", 9_999, n(85.0)).is_empty());
    let tr = e.on_sample("l/t", 10_000, n(79.0));
    assert_eq!(acts(&tr), [("hot", Action::Raise, 10_000)]);
    let t = &tr[0];
    assert_eq!((t.from.as_str(), t.to.as_str(), t.notify), ("NORM", "UNACK", Some(Notify::Raise)));
    assert_eq!((t.name.as_str(), t.values.as_deref()), ("Boiler hot", Some("l/t = 85")));
    assert_eq!((t.destinations.clone(), t.message.as_deref()), (vec!["desk".to_string()], Some("Check the burner")));
    // 79 is inside the deadband: still active, no return timer.
    assert!(e.tick(30_000).is_empty());
    assert!(e.on_sample("l/t", 31_000, n(78.0)).is_empty()); // back inside by the deadband: timer starts
    assert!(e.tick(40_999).is_empty());
    let tr = e.tick(41_500);
    assert_eq!(acts(&tr), [("hot", Action::Return, 41_000)]);
    assert_eq!((tr[0].to.as_str(), tr[0].notify), ("RTNUN", Some(Notify::Return)));
}

#[test]
fn a_blip_shorter_than_the_filter_does_nothing() {
    let mut e = engine(HOT);
    assert!(e.on_sample("l/t", 0, n(90.0)).is_empty());
    assert!(e.on_sample("l/t", 5_000, n(70.0)).is_empty());
    assert!(e.tick(60_000).is_empty());
    assert_eq!(e.state("hot").unwrap().phase, Phase::Normal);
}

#[test]
fn second_channel_and_or() {
    let base = "[[alarm]]\nid = \"x\"\nkind = \"threshold\"\nchannel = \"a/1\"\nop = \">\"\nvalue = 0\n";
    let mut and = engine(&format!("{base}second = {{ channel = \"a/2\", op = \"<\", value = 0, combine = \"and\" }}"));
    let mut or = engine(&format!("{base}second = {{ channel = \"a/2\", op = \"<\", value = 0, combine = \"or\" }}"));
    assert!(and.on_sample("a/1", 1, n(1.0)).is_empty()); // second unknown
    assert_eq!(acts(&or.on_sample("a/1", 1, n(1.0))), [("x", Action::Raise, 1)]);
    let tr = and.on_sample("a/2", 2, n(-1.0));
    assert_eq!(tr[0].values.as_deref(), Some("a/1 = 1, a/2 = -1"));
    assert_eq!(acts(&and.on_sample("a/2", 3, Value::Special(SpecialKind::NoData))), [("x", Action::Return, 3)]);
    assert!(or.on_sample("a/2", 3, Value::Special(SpecialKind::NoData)).is_empty());
    assert_eq!(acts(&or.on_sample("a/1", 4, n(-5.0))), [("x", Action::Return, 4)]);
    // Both conditions on one channel: the sample updates both before evaluating.
    let mut band =
        engine(&format!("{base}second = {{ channel = \"a/1\", op = \"<\", value = 10, combine = \"and\" }}"));
    assert_eq!(acts(&band.on_sample("a/1", 1, n(5.0))), [("x", Action::Raise, 1)]);
    assert_eq!(acts(&band.on_sample("a/1", 2, n(15.0))), [("x", Action::Return, 2)]);
}

#[test]
fn specials_connection_and_storage() {
    let mut e = engine(
        r#"
[[alarm]]
id = "odd"
kind = "special"
specials = ["over-range"]
[[alarm]]
id = "p"
kind = "special"
channel = "l/p"
[[alarm]]
id = "link"
kind = "connection"
[[alarm]]
id = "dev1"
kind = "connection"
instrument = "dev1"
[[alarm]]
id = "disk"
kind = "storage"
"#,
    );
    assert!(e.on_sample("l/q", 1, Value::Special(SpecialKind::NoData)).is_empty());
    assert_eq!(acts(&e.on_sample("l/q", 2, Value::Special(SpecialKind::OverRange))), [("odd:l/q", Action::Raise, 2)]);
    assert_eq!(e.state("odd:l/q").unwrap().rule_id, "odd");
    assert_eq!(acts(&e.on_sample("l/q", 3, n(1.0))), [("odd:l/q", Action::Return, 3)]);
    assert!(e.on_sample("l/z", 3, n(1.0)).is_empty());
    assert!(e.state("odd:l/z").is_none());
    let tr = e.on_sample("l/p", 4, Value::Special(SpecialKind::BurnOut));
    assert_eq!(acts(&tr), [("p", Action::Raise, 4)]);
    assert_eq!(tr[0].values.as_deref(), Some("l/p = burn-out"));

    assert!(e.on_connection("dev2", true, None, 5).is_empty());
    let tr = e.on_connection("dev1", false, Some("timeout"), 6);
    assert_eq!(acts(&tr), [("dev1", Action::Raise, 6), ("link:dev1", Action::Raise, 6)]);
    assert_eq!(tr[0].values.as_deref(), Some("dev1 disconnected: timeout"));
    assert_eq!(tr[1].name, "link (dev1)");
    assert_eq!(acts(&e.on_connection("dev1", true, None, 7)).len(), 2);

    assert!(e.on_storage(1_000_000_000, 8).is_empty());
    let tr = e.on_storage(999_999_999, 9);
    assert_eq!(acts(&tr), [("disk", Action::Raise, 9)]);
    assert_eq!(tr[0].values.as_deref(), Some("1000.0 MB free (alarm below 1.00 GB)"));
}

#[test]
fn new_files_raise_by_instrument_and_pattern() {
    let mut e = engine(
        r#"
[[alarm]]
id = "csv"
kind = "new_file"
instrument = "log"
pattern = "*.csv"
destinations = ["mail"]

[[alarm]]
id = "any"
kind = "new_file"
"#,
    );
    // A matching file: the fixed rule raises and returns at once, naming the file.
    let tr = e.on_new_file("log", "/DATA/W001.CSV", 1234, 5);
    assert_eq!(
        acts(&tr),
        [
            ("csv", Action::Raise, 5),
            ("csv", Action::Return, 5),
            ("any:log", Action::Raise, 5),
            ("any:log", Action::Return, 5)
        ]
    );
    assert_eq!(tr[0].values.as_deref(), Some("new file from log: /DATA/W001.CSV (1234 bytes)"));
    assert_eq!(tr[0].notify, Some(Notify::Raise));
    assert_eq!(tr[0].destinations, ["mail"]);
    assert_eq!(tr[1].notify, None);
    assert!(e.state("csv").unwrap().phase.is_unacked());
    // Not matching the pattern, or another instrument: only the catch-all.
    assert_eq!(
        acts(&e.on_new_file("log", "/DATA/W002.MEM", 10, 6)),
        [("any:log", Action::Raise, 6), ("any:log", Action::Return, 6)]
    );
    assert_eq!(
        acts(&e.on_new_file("pm", "/x/a.csv", 10, 7)),
        [("any:pm", Action::Raise, 7), ("any:pm", Action::Return, 7)]
    );
    assert!(e.on_new_file("a/b", "/x/a.csv", 10, 8).is_empty());
    // Acknowledged, the next file raises again.
    e.ack("csv", "op", "", 9).unwrap();
    assert_eq!(acts(&e.on_new_file("log", "b.csv", 1, 10)).len(), 4);
}

#[test]
fn window_edges_come_from_tick() {
    // 2024-01-10 is a Wednesday; window 08:00-18:00 UTC on weekdays.
    let day = 1_704_844_800_000; // 2024-01-10T00:00Z
    let h = 3_600_000;
    let mut e = engine(
        "[[alarm]]\nid = \"w\"\nkind = \"storage\"\nwindow = { days = [\"wed\"], from = \"08:00\", to = \"18:00\", tz = \"UTC\" }",
    );
    assert!(e.on_storage(1, day + 7 * h).is_empty());
    assert!(e.tick(day + 8 * h - 1).is_empty());
    assert_eq!(acts(&e.tick(day + 8 * h)), [("w", Action::Raise, day + 8 * h)]);
    assert!(e.tick(day + 18 * h - 1).is_empty());
    assert_eq!(acts(&e.tick(day + 18 * h)), [("w", Action::Return, day + 18 * h)]);
}

#[test]
fn reminders_until_acknowledged_and_silenced_when_shelved() {
    let mut e = engine("[[alarm]]\nid = \"d\"\nkind = \"storage\"\nreminder = \"1m\"");
    e.on_storage(0, 0);
    assert!(e.tick(59_999).is_empty());
    let tr = e.tick(60_000);
    assert_eq!((tr[0].action, tr[0].notify, tr[0].from.as_str()), (Action::Reminder, Some(Notify::Reminder), "UNACK"));
    e.shelve("d", 200_000, "ann", "later", 70_000).unwrap();
    assert!(e.tick(190_000).is_empty());
    let tr = e.tick(200_500);
    assert_eq!(acts(&tr), [("d", Action::Unshelve, 200_000)]);
    assert_eq!(tr[0].notify, Some(Notify::Raise)); // still active and unacknowledged
    assert!(e.tick(259_999).is_empty());
    assert_eq!(acts(&e.tick(260_000)), [("d", Action::Reminder, 260_000)]);
    e.ack("d", "ann", "", 261_000).unwrap();
    assert!(e.tick(10_000_000).is_empty());
}

#[test]
fn manual_operations_and_their_errors() {
    let mut e = engine(HOT);
    assert_eq!(e.ack("nope", "ann", "", 0).unwrap_err(), AlarmError::UnknownAlarm("nope".into()));
    assert!(matches!(e.ack("hot", "ann", "", 0).unwrap_err(), AlarmError::NotUnacknowledged { .. }));
    assert_eq!(e.unshelve("hot", "ann", "", 0).unwrap_err(), AlarmError::NotShelved("hot".into()));
    assert!(matches!(e.shelve("hot", 5, "ann", "", 10).unwrap_err(), AlarmError::ShelveInPast { .. }));
    assert_eq!(
        e.set_out_of_service("hot", true, " ", "", 0).unwrap_err(),
        AlarmError::NoUser("take an alarm out of service")
    );
    let tr = e.set_out_of_service("hot", true, "ann", "maintenance", 1).unwrap();
    assert_eq!(
        (tr[0].action, tr[0].to.as_str(), tr[0].user.as_deref()),
        (Action::OutOfService, "NORM/OOS", Some("ann"))
    );
    e.on_sample("l/t", 2, n(99.0));
    let tr = e.on_sample("l/t", 20_000, n(99.0));
    assert_eq!((tr[0].action, tr[0].notify, tr[0].to.as_str()), (Action::Raise, None, "UNACK/OOS"));
    let tr = e.set_out_of_service("hot", false, "ann", "", 30_000).unwrap();
    assert_eq!((tr[0].action, tr[0].notify), (Action::InService, Some(Notify::Raise)));
    let tr = e.ack("hot", "ann", "seen", 31_000).unwrap();
    assert_eq!((tr[0].to.as_str(), tr[0].comment.as_deref()), ("ACKED", Some("seen")));
}

#[test]
fn set_rules_keeps_resets_and_drops() {
    let two = format!("{HOT}\n[[alarm]]\nid = \"disk\"\nkind = \"storage\"\n");
    let mut e = engine(&two);
    e.on_sample("l/t", 0, n(90.0));
    e.tick(10_000);
    e.on_storage(0, 10_000);
    e.ack("disk", "ann", "", 11_000).unwrap();
    // Cosmetic change: state kept, new name used.
    let mut r = rules(&two);
    r[0].name = Some("Hot!".into());
    r[0].severity = Severity::Critical;
    assert!(e.set_rules(r.clone(), 12_000).is_empty());
    assert_eq!(e.state("hot").unwrap().phase, Phase::Unack);
    assert_eq!(e.views(|_, _| String::new())[0].name, "Hot!");
    // The pending filter timer survives too.
    e.on_sample("l/t", 13_000, n(0.0));
    assert!(e.set_rules(r.clone(), 14_000).is_empty());
    assert_eq!(acts(&e.tick(23_000)), [("hot", Action::Return, 23_000)]);
    // Condition change: reset; deletion: dropped.
    e.on_sample("l/t", 30_000, n(90.0));
    e.tick(40_000);
    let mut changed = r[..1].to_vec();
    changed[0].value = Some(95.0);
    let tr = e.set_rules(changed, 50_000);
    let got: Vec<_> =
        tr.iter().map(|t| (t.alarm_id.as_str(), t.from.as_str(), t.to.as_str(), t.comment.clone())).collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&("hot", "UNACK", "NORM", Some("rule changed; alarm reset".into()))));
    assert!(got.contains(&("disk", "ACKED", "NORM", Some("rule deleted or disabled".into()))));
    assert!(tr.iter().all(|t| t.notify.is_none()));
    assert!(e.state("disk").is_none());
    assert_eq!(e.state("hot").unwrap().phase, Phase::Normal);
    // Disabling drops it.
    let mut off = rules(HOT);
    off[0].enabled = false;
    e.set_rules(off, 60_000);
    assert_eq!(e.states().count(), 0);
}

#[test]
fn views_sorted_and_formatted() {
    let mut e = engine(
        r#"
[[alarm]]
id = "a"
severity = "low"
kind = "threshold"
channel = "x/1"
op = ">"
value = 0
[[alarm]]
id = "b"
severity = "critical"
kind = "threshold"
channel = "x/1"
op = ">"
value = 0
[[alarm]]
id = "c"
severity = "critical"
kind = "storage"
[[alarm]]
id = "d"
kind = "storage"
below = "1 KB"
"#,
    );
    e.on_sample("x/1", 10, n(3.0));
    e.on_storage(100, 20);
    e.ack("c", "ann", "", 30).unwrap();
    e.ack("d", "ann", "", 40).unwrap();
    e.on_storage(5_000, 50); // d returns (acked -> NORM)
    let v = e.views(|p, v| format!("{} {p}", super::engine_tests::fmt(v)));
    let order: Vec<&str> = v.iter().map(|v| v.alarm_id.as_str()).collect();
    assert_eq!(order, ["b", "a", "c", "d"]);
    assert_eq!(v[0].value.as_deref(), Some("3 °C x/1"));
    assert_eq!((v[2].active, v[2].acked, v[2].ack.as_ref().unwrap().user.as_str()), (true, true, "ann"));
    assert_eq!((v[3].active, v[3].acked, v[3].since), (false, true, 50));
    let j = serde_json::to_value(&v[0]).unwrap();
    for k in [
        "alarm_id",
        "rule_id",
        "name",
        "severity",
        "kind",
        "active",
        "acked",
        "shelved_until",
        "out_of_service",
        "since",
        "raised_at",
        "value",
        "message",
        "ack",
    ] {
        assert!(j.get(k).is_some(), "{k}");
    }
    assert_eq!(j["severity"], "critical");
    assert_eq!(j["kind"], "threshold");
    assert!(e.view("c", |_, _| String::new()).is_some());
}

pub(super) fn fmt(v: Value) -> String {
    match v {
        Value::Number(x) => format!("{x} °C"),
        Value::Special(k) => k.label().to_string(),
    }
}

/// `cargo test -p meterdeck-core --lib alarm::engine_tests::throughput -- --ignored --nocapture`
/// 10,000 threshold rules, one per channel (a tenth with a window, a seventh
/// with an OR'ed second channel), 1M samples over those channels and 2,000
/// channels without rules.
#[test]
#[ignore]
fn throughput() {
    let path = |i: usize| format!("i{}/c{}", i / 100, i % 100);
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "[[alarm]]\nid = \"r{i}\"\nkind = \"threshold\"\nchannel = \"{}\"\nop = \">\"\nvalue = 90\ndeadband = 1\nfilter = \"5s\"\n",
            path(i)
        ));
        if i % 10 == 0 {
            text.push_str("window = { from = \"08:00\", to = \"18:00\", tz = \"Europe/Berlin\" }\n");
        }
        if i % 7 == 0 {
            text.push_str(&format!(
                "second = {{ channel = \"{}\", op = \"<\", value = 61, combine = \"or\" }}\n",
                path((i + 1) % 10_000)
            ));
        }
    }
    let mut e = AlarmEngine::new(rules(&text), chrono_tz::Europe::Berlin, Vec::new());
    let paths: Vec<String> = (0..12_000).map(path).collect();
    let t0 = 1_704_873_600_000; // 2024-01-10T08:00Z
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut run = |label: &str, t_start: i64, base: f64| {
        let start = std::time::Instant::now();
        let mut transitions = 0usize;
        for k in 0..1_000_000usize {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = base + (x % 35) as f64;
            transitions += e.on_sample(&paths[k % 12_000], t_start + k as i64 * 10, Value::Number(v)).len();
        }
        let dt = start.elapsed();
        println!(
            "{label}: 1M samples x 10,000 rules in {dt:?} ({:.1} M samples/s), {transitions} transitions",
            1.0 / dt.as_secs_f64()
        );
    };
    // Values 62..96 around the threshold 90: many transitions.
    run("noisy", t0, 62.0);
    // Values 20..54: after the first settling, no state changes (the no-change path).
    run("quiet", t0 + 20_000_000, 20.0);
}
