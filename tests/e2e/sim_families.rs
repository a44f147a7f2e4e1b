//! The Hioki-style logger and power-meter personalities of `meterdeck-sim`
//! (a real process, over TCP) polled by `meterdeck-agent` (a real process):
//! every value the agent stores equals the value the simulator served, as
//! given by the simulator's deterministic waveform for that poll's time.

use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{Personality, expected_value};
use meterdeck_e2e::*;
use std::collections::HashMap;
use std::time::Duration;

const SIM: &str = r#"
[[instrument]]
name = "logger"
personality = "hioki-logger"
channels = 30
seed = 11

[[instrument]]
name = "power"
personality = "power-meter"
seed = 12
"#;

/// Power-meter items and their channel index in the simulator's table.
const POWER: [(&str, usize, &str); 5] =
    [("U1", 0, "V"), ("I1", 4, "A"), ("P1", 8, "W"), ("PF1", 20, ""), ("FREQ1", 24, "Hz")];

fn logger_channels() -> Vec<String> {
    (1..=2).flat_map(|u| (1..=15).map(move |c| format!("CH{u}_{c}"))).collect()
}

#[test]
fn logger_and_power_meter_values_stored_equal_values_served() {
    let dir = tempfile::tempdir().unwrap();
    let sim_cfg = dir.path().join("sim.toml");
    std::fs::write(&sim_cfg, SIM).unwrap();
    let (_sim, ready) = start_sim(&["--config", sim_cfg.to_str().unwrap()], 2);
    let port = |name: &str| ready.iter().find(|r| r.name == name).unwrap().port();

    let mut cfg = format!(
        "[agent]\nname = \"families\"\npoll_interval = \"1s\"\n\n[[instrument]]\nid = \"logger\"\nfamily = \"hioki-logger\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {} }}\n",
        port("logger")
    );
    for ch in logger_channels() {
        cfg += &format!("[[instrument.channel]]\nid = \"{ch}\"\n");
    }
    cfg += &format!(
        "\n[[instrument]]\nid = \"power\"\nfamily = \"hioki-power\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {} }}\n",
        port("power")
    );
    for (item, _, unit) in POWER {
        cfg += &format!("[[instrument.channel]]\nid = \"{item}\"\nunit = \"{unit}\"\n");
    }
    let (mut agent, data) = run_agent_on(dir.path(), &cfg);
    let mut acks = Vec::new();
    wait_until(Duration::from_secs(30), "3 polls of both instruments", || {
        acks.extend(parse_acks(&agent.drain()));
        ["logger/CH2_15", "power/FREQ1"].iter().all(|c| acks.iter().filter(|a| a.channel == *c).count() >= 3)
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));

    let mut index: HashMap<String, (Personality, u64, usize)> = HashMap::new();
    for (i, ch) in logger_channels().into_iter().enumerate() {
        index.insert(format!("logger/{ch}"), (Personality::HiokiLogger, 11, i));
    }
    for (item, i, _) in POWER {
        index.insert(format!("power/{item}"), (Personality::PowerMeter, 12, i));
    }
    // The simulator computes a value from the time the request reaches it,
    // quantised to 1 s; the agent stamps the tick it polled on. On a loaded
    // machine the request may land in the next second.
    let matches = |a: &Ack| {
        let (p, seed, i) = index[&a.channel];
        let got: f64 = a.value.parse().unwrap_or(f64::NAN);
        [a.t, a.t + 1000].iter().any(|t| {
            let want = expected_value(seed, p, i, *t);
            (got - want).abs() <= 1e-9 * want.abs().max(1.0)
        })
    };
    let bad: Vec<_> = acks.iter().filter(|a| !matches(a)).collect();
    assert!(
        bad.is_empty(),
        "{} of {} samples differ from the waveform, e.g. {:?}",
        bad.len(),
        acks.len(),
        &bad[..bad.len().min(5)]
    );

    // The store holds what was acknowledged.
    let store = Store::open_readonly(&data.join("meterdeck.db")).unwrap();
    for a in acks.iter().filter(|a| a.channel == "power/P1" || a.channel == "logger/CH1_1") {
        let ch = store.find_channel(&a.channel).unwrap().unwrap();
        let s = store.range(ch.id, a.t, a.t + 1).unwrap();
        assert_eq!(s.len(), 1, "{} @{}", a.channel, a.t);
        assert_eq!(value_label(&s[0].value), a.value);
    }
    let units: HashMap<_, _> = store.channels().unwrap().into_iter().map(|c| (c.path(), c.unit)).collect();
    assert_eq!(units["power/P1"].as_deref(), Some("W"));
}
