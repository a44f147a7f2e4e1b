//! Generic SCPI over a real serial line: socat makes a pty whose far side is
//! the simulator's DMM personality; the agent polls the pty with
//! tokio-serial. Also the simulator's own `--serial` pty. Values stored
//! equal the waveform, with the channel's scale and offset applied.

use meterdeck_drivers::sim::{Personality, expected_value};
use meterdeck_e2e::*;
use std::time::Duration;

/// (channel id, query, sim channel index, scale, offset)
const CHANNELS: [(&str, &str, usize, f64, f64); 3] = [
    ("vdc", "MEAS:VOLT:DC?", 0, 1.0, 0.0),
    ("vdc_mv", "MEASure:VOLTage:DC?", 0, 1000.0, 0.0),
    ("temp_k", "MEAS:TEMP?", 4, 1.0, 273.15),
];

fn poll_serial(path: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = format!(
        "[agent]\nname = \"serial\"\npoll_interval = \"1s\"\n\n[[instrument]]\nid = \"dmm\"\nfamily = \"scpi\"\ntransport = {{ kind = \"serial\", path = \"{path}\", baud = 115200, timeout = \"2s\" }}\n"
    );
    for (id, q, _, scale, offset) in CHANNELS {
        cfg += &format!(
            "[[instrument.channel]]\nid = \"{id}\"\nquery = \"{q}\"\nscale = {scale:?}\noffset = {offset:?}\n"
        );
    }
    let (mut agent, _data) = run_agent_on(dir.path(), &cfg);
    let mut acks = Vec::new();
    wait_until(Duration::from_secs(30), "3 serial polls", || {
        acks.extend(parse_acks(&agent.drain()));
        acks.iter().filter(|a| a.channel == "dmm/temp_k").count() >= 3
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));
    for a in &acks {
        let (_, _, i, scale, offset) = CHANNELS.iter().find(|c| format!("dmm/{}", c.0) == a.channel).unwrap();
        let got: f64 = a.value.parse().unwrap_or_else(|_| panic!("{a:?} is not a number"));
        let ok = [a.t, a.t + 1000].iter().any(|t| {
            let want = expected_value(seed, Personality::Scpi, *i, *t) * scale + offset;
            (got - want).abs() <= 1e-9 * want.abs().max(1.0)
        });
        assert!(ok, "{a:?} differs from the waveform");
    }
}

#[test]
fn generic_scpi_over_a_socat_pty() {
    let (_sim, ready) = start_sim(&["--personality", "scpi", "--seed", "5"], 1);
    let dir = tempfile::tempdir().unwrap();
    let bridge = socat_pty_to_tcp(&dir.path().join("ttyDMM"), &ready[0].address);
    poll_serial(bridge.path.to_str().unwrap(), 5);
}

#[test]
fn generic_scpi_over_the_simulators_own_pty() {
    let (_sim, ready) = start_sim(&["--personality", "scpi", "--seed", "6", "--serial"], 1);
    assert!(ready[0].address.starts_with("/dev/"), "pty path expected: {:?}", ready[0]);
    poll_serial(&ready[0].address, 6);
}
