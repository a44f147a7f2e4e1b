//! Faults: the simulator drops connections, replies slowly and sends
//! garbage, and one instrument is not there at all. The agent records an
//! event for each with its reason, keeps polling the healthy instrument on
//! time, and recovers the faulty ones without a restart.

use meterdeck_core::model::EventKind;
use meterdeck_core::store::Store;
use meterdeck_drivers::TransportConfig;
use meterdeck_drivers::sim::{self, Faults, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::*;
use std::time::{Duration, Instant};

fn logger(name: &str, faults: Faults) -> SimInstrument {
    SimInstrument { channels: Some(8), seed: 7, faults, ..SimInstrument::new(name, Personality::HiokiLogger) }
}

#[test]
fn faulty_instruments_never_stall_the_healthy_one() {
    let rt = runtime();
    let cfg = SimConfig {
        instruments: vec![
            logger("healthy", Faults::default()),
            logger("dropper", Faults { drop_every: Some(Duration::from_secs(3)), ..Faults::default() }),
            logger("slow", Faults { slow: Some(Duration::from_millis(2500)), ..Faults::default() }),
            logger("garbage", Faults { garbage_every: Some(2), ..Faults::default() }),
        ],
    };
    let sims = rt.block_on(sim::start(cfg)).expect("simulator starts");
    let mut instruments: Vec<_> = sims
        .instruments
        .iter()
        .map(|s| {
            let mut c = s.instrument_config();
            c.id = s.name.clone();
            if let TransportConfig::Tcp { timeout, .. } = &mut c.transport {
                *timeout = Duration::from_millis(800);
            }
            c
        })
        .collect();
    // An instrument that is not there: a port nobody listens on.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut dead = instruments[0].clone();
    dead.id = "dead".into();
    dead.transport =
        TransportConfig::Tcp { host: "127.0.0.1".into(), port: Some(dead_port), timeout: Duration::from_millis(500) };
    instruments.push(dead);

    let dir = tempfile::tempdir().unwrap();
    let config = write_agent_config(dir.path(), "name = \"faults\"\npoll_interval = \"1s\"", &instruments);
    let data = dir.path().join("data");
    // Five instruments: more than the Free plan's three.
    meterdeck_e2e::licence::grant_pro(&data);
    let mut agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent(&[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--print-acks",
        ]),
    );
    let started = Instant::now();
    let run = Duration::from_secs(14);
    let mut acks = Vec::new();
    while started.elapsed() < run {
        std::thread::sleep(Duration::from_millis(200));
        acks.extend(parse_acks(&agent.drain()));
    }
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    acks.extend(parse_acks(&agent.drain()));
    drop(sims);

    let polls_of = |inst: &str| {
        let mut ts: Vec<i64> =
            acks.iter().filter(|a| a.channel == format!("{inst}/CH1_1") && a.value != "no-data").map(|a| a.t).collect();
        ts.dedup();
        ts
    };
    // The healthy logger was polled on (almost) every 1 s tick despite the others.
    let healthy = polls_of("healthy");
    assert!(healthy.len() >= 11, "healthy instrument polled only {} times in {run:?}", healthy.len());
    let gaps = healthy.windows(2).filter(|w| w[1] - w[0] > 1000).count();
    assert!(gaps <= 1, "healthy instrument missed ticks: {healthy:?}");

    let store = Store::open_readonly(&data.join("meterdeck.db")).unwrap();
    let events = store.events(None, None, 10_000).unwrap();
    let of = |inst: &str, kind: EventKind| {
        events.iter().filter(|e| e.instrument.as_deref() == Some(inst) && e.kind == kind).collect::<Vec<_>>()
    };

    // Dropped connections: disconnect events with a reason, reconnects, data after each.
    let drops = of("dropper", EventKind::Disconnected);
    assert!(drops.len() >= 2, "dropper: expected >= 2 disconnects, events: {events:#?}");
    assert!(drops.iter().all(|e| !e.message.is_empty()), "disconnect events carry a reason");
    assert!(of("dropper", EventKind::Connected).len() >= 3, "dropper reconnects without a restart");
    // Every drop that left time to reconnect (backoff starts at 1 s) is followed by data.
    let end = healthy.last().copied().unwrap_or_default();
    let dropper = polls_of("dropper");
    for d in drops.iter().filter(|d| d.t < end - 3000) {
        assert!(dropper.iter().any(|t| *t > d.t), "dropper not polled again after the drop at {}: {dropper:?}", d.t);
    }

    // Slow replies: timeouts recorded, named as such.
    let slow: Vec<_> = events
        .iter()
        .filter(|e| e.instrument.as_deref() == Some("slow") && e.message.contains("no reply within"))
        .collect();
    assert!(!slow.is_empty(), "slow: no timeout event; events: {events:#?}");

    // Garbage replies: errors naming the bad reply, the link kept, good polls in between.
    let bad = of("garbage", EventKind::Error);
    assert!(bad.iter().any(|e| e.message.contains("bad reply")), "garbage: no bad-reply event; events: {events:#?}");
    assert!(polls_of("garbage").len() >= 4, "garbage: good replies between bad ones are stored");
    assert!(
        acks.iter().any(|a| a.channel.starts_with("garbage/") && a.value == "no-data"),
        "a bad poll is stored as no-data"
    );

    // The missing instrument: connect errors with the address, retried.
    let dead_ev: Vec<_> = events.iter().filter(|e| e.instrument.as_deref() == Some("dead")).collect();
    assert!(
        dead_ev.iter().any(|e| e.message.contains(&format!("127.0.0.1:{dead_port}"))),
        "dead: events name the address: {dead_ev:#?}"
    );
    assert!(!acks.iter().any(|a| a.channel.starts_with("dead/") && a.value != "no-data"));
}
