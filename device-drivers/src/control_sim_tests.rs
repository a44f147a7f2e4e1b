//! Every family's control commands against the simulator over TCP: after
//! each command the simulator's own state (run state, start count, clock,
//! settings) is checked, not only the driver's OK.

use chrono::{TimeZone, Utc};

use super::*;
use crate::sim::{self, Personality, RunningSim, SimConfig, SimControlState, SimHandle, SimInstrument};

async fn start_sim(p: Personality) -> SimHandle {
    sim::start(SimConfig { instruments: vec![SimInstrument::new("inst", p)] }).await.unwrap()
}

async fn open(sim: &RunningSim) -> Box<dyn Driver> {
    crate::open(&sim.instrument_config()).await.unwrap()
}

fn near_now(state: &SimControlState) -> bool {
    (state.clock - Utc::now()).num_seconds().abs() <= 2
}

/// Start, stop, restart and set clock, with the simulator checked after each.
async fn run_state_commands(p: Personality) {
    let sim = start_sim(p).await;
    let inst = &sim.instruments[0];
    let mut d = open(inst).await;
    let before = inst.control_state();
    assert!(before.running);
    assert_eq!(before.starts, 0);

    d.stop().await.unwrap();
    let s = inst.control_state();
    assert!(!s.running, "{p:?}: stopped");
    assert_eq!(s.starts, 0);

    d.start().await.unwrap();
    let s = inst.control_state();
    assert!(s.running, "{p:?}: running again");
    assert_eq!(s.starts, 1);

    d.restart().await.unwrap();
    let s = inst.control_state();
    assert!(s.running);
    assert_eq!(s.starts, 2, "{p:?}: a restart starts a new measurement");

    // The clock: set far off, then to now.
    let past = Utc.with_ymd_and_hms(2020, 1, 2, 3, 4, 5).unwrap();
    d.set_clock(past).await.unwrap();
    let s = inst.control_state();
    assert!((s.clock - past).num_seconds().abs() <= 2, "{p:?}: {}", s.clock);
    d.set_clock(Utc::now()).await.unwrap();
    assert!(near_now(&inst.control_state()), "{p:?}: {}", inst.control_state().clock);
    sim.shutdown().await;
}

#[tokio::test]
async fn hioki_logger_start_stop_restart_clock() {
    run_state_commands(Personality::HiokiLogger).await;
}

#[tokio::test]
async fn hioki_power_start_stop_restart_clock() {
    run_state_commands(Personality::PowerMeter).await;
}

#[tokio::test]
async fn generic_scpi_start_stop_restart_clock() {
    run_state_commands(Personality::Scpi).await;
}

#[tokio::test]
async fn modbus_has_no_start_stop_or_clock_and_says_so() {
    let sim = start_sim(Personality::Modbus).await;
    let inst = &sim.instruments[0];
    let mut d = open(inst).await;
    for err in [d.start().await.unwrap_err(), d.stop().await.unwrap_err(), d.restart().await.unwrap_err()] {
        assert!(matches!(err, DriverError::Unsupported { .. }), "{err:?}");
        assert!(err.to_string().contains("does not support"), "{err}");
    }
    let err = d.set_clock(Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "modbus does not support clock setting");
    let s = inst.control_state();
    assert_eq!((s.running, s.starts), (true, 0));
    sim.shutdown().await;
}

/// Read the settings, push a changed profile, check the simulator, then a
/// refused value: nothing changed.
async fn profile_round_trip(p: Personality, change: &[(usize, &str)], refused: (usize, &str)) {
    let sim = start_sim(p).await;
    let inst = &sim.instruments[0];
    let mut d = open(inst).await;
    let current = d.read_settings().await.unwrap();
    let sim_values = inst.control_state().settings;
    assert_eq!(current.iter().map(|s| s.value.clone()).collect::<Vec<_>>(), sim_values, "{p:?}");

    let mut profile = current.clone();
    for (i, v) in change {
        profile[*i].value = (*v).to_string();
    }
    let plan = diff(&current, &profile);
    assert_eq!(plan.iter().filter(|d| d.changes).count(), change.len(), "{plan:?}");
    // The diff alone changes nothing on the instrument.
    assert_eq!(inst.control_state().settings, sim_values);

    let report = push_profile(d.as_mut(), &profile).await.unwrap();
    assert_eq!(report.changed.len(), change.len());
    let pushed = inst.control_state().settings;
    for (i, v) in change {
        assert!(same_value(&pushed[*i], v), "{p:?}: setting {i} is {} after pushing {v}", pushed[*i]);
    }
    // Pushing it again changes nothing.
    assert!(push_profile(d.as_mut(), &profile).await.unwrap().changed.is_empty());

    // One good change and one the instrument refuses: an error naming it,
    // and the good one is put back.
    let mut bad = profile.clone();
    let good = (0..bad.len()).find(|i| *i != refused.0).unwrap();
    bad[good].value = current[good].value.clone();
    bad[refused.0].value = refused.1.to_string();
    let err = push_profile(d.as_mut(), &bad).await.unwrap_err();
    assert!(matches!(err, DriverError::Instrument { .. }), "{p:?}: {err:?}");
    assert_eq!(inst.control_state().settings, pushed, "{p:?}: a refused push changes nothing");

    // A profile naming a setting the instrument does not list sends nothing.
    let mut unknown = profile.clone();
    unknown[0].value = current[0].value.clone();
    unknown.push(Setting::new(if p == Personality::Modbus { "1999" } else { ":NOPE:NOPE" }, "1"));
    let err = push_profile(d.as_mut(), &unknown).await.unwrap_err();
    assert!(err.to_string().contains("does not list"), "{err}");
    assert_eq!(inst.control_state().settings, pushed);
    sim.shutdown().await;
}

#[tokio::test]
async fn hioki_logger_profile() {
    profile_round_trip(Personality::HiokiLogger, &[(0, "0.5"), (1, "REPEAT")], (2, "LOUD")).await;
}

#[tokio::test]
async fn hioki_power_profile() {
    profile_round_trip(Personality::PowerMeter, &[(0, "600"), (2, "8")], (1, "5000")).await;
}

#[tokio::test]
async fn generic_scpi_profile() {
    profile_round_trip(Personality::Scpi, &[(0, "100"), (2, "BUS")], (1, "1000")).await;
}

#[tokio::test]
async fn modbus_profile() {
    profile_round_trip(Personality::Modbus, &[(1, "42"), (3, "1200")], (2, "12000")).await;
}

#[tokio::test]
async fn a_bad_value_is_refused_before_anything_is_sent() {
    let sim = start_sim(Personality::Scpi).await;
    let inst = &sim.instruments[0];
    let mut d = open(inst).await;
    let mut profile = d.read_settings().await.unwrap();
    let before = inst.control_state().settings;
    profile[0].value = "100".into();
    profile[2].value = "BUS;*RST".into();
    let err = push_profile(d.as_mut(), &profile).await.unwrap_err();
    assert!(matches!(err, DriverError::Config(ref m) if m.contains("without `;`")), "{err:?}");
    assert_eq!(inst.control_state().settings, before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_generic_instrument_without_settings_says_what_to_add() {
    let sim = start_sim(Personality::Scpi).await;
    let mut cfg = sim.instruments[0].instrument_config();
    cfg.settings.clear();
    let mut d = crate::open(&cfg).await.unwrap();
    let err = d.read_settings().await.unwrap_err();
    assert!(err.to_string().contains("add `settings"), "{err}");
    sim.shutdown().await;
}
