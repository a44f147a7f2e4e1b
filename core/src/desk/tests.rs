use std::path::Path;
use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use tokio::sync::broadcast;

use super::*;
use crate::model::{Sample, SpecialKind};
use crate::store::StoreOptions;

/// Waits (bounded) for a live event matching `pred`.
async fn wait_for(rx: &mut broadcast::Receiver<LiveEvent>, what: &str, pred: impl Fn(&LiveEvent) -> bool) -> LiveEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(ev)) if pred(&ev) => return ev,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("live channel closed while waiting for {what}"),
            Err(_) => panic!("no {what} within 30 s"),
        }
    }
}

fn connected(id: &'static str) -> impl Fn(&LiveEvent) -> bool {
    move |ev| matches!(ev, LiveEvent::State { instrument, state: ConnState::Connected, .. } if instrument == id)
}

/// The demo with an hour of history (a week takes seconds in a debug build).
async fn demo_desk(dir: &Path) -> Desk {
    let opts = AgentOptions { demo_history: Duration::from_secs(3600), ..AgentOptions::default() };
    Desk::open_with(&dir.join("data"), &dir.join("agent.toml"), true, opts).await.expect("demo desk opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_demo_starts_with_its_history_and_a_second_start_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let opened = crate::model::now_ms();
    let desk = demo_desk(dir.path()).await;
    desk.shutdown().await.unwrap();
    let store = Store::open_readonly(&dir.path().join("data").join(STORE_FILE)).unwrap();
    let channels = store.channels().unwrap();
    assert_eq!(channels.len(), 22, "every demo channel");
    for c in &channels {
        let (first, _) = store.extent(c.id).unwrap().unwrap_or_else(|| panic!("{} has no history", c.path()));
        assert!(opened - first >= 3_599_000, "{}: history from {} only", c.path(), opened - first);
    }
    let before = store.count_in_range(channels[0].id, 0, opened).unwrap();
    drop(store);
    let desk = demo_desk(dir.path()).await;
    desk.shutdown().await.unwrap();
    let store = Store::open_readonly(&dir.path().join("data").join(STORE_FILE)).unwrap();
    assert_eq!(store.count_in_range(channels[0].id, 0, opened).unwrap(), before, "the history is written once");
}

/// Issue 17: the first screen waits for the last hour of the demo's
/// history only; the rest is written behind the running agent. Once in,
/// the Viewer reads the whole span complete and in time order, live
/// samples after it, and the sync outbox holds every sample once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_older_demo_history_is_written_behind_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let opened = crate::model::now_ms();
    let opts = AgentOptions { demo_history: Duration::from_secs(5 * 3600), ..AgentOptions::default() };
    let desk = Desk::open_with(&dir.path().join("data"), &dir.path().join("agent.toml"), true, opts).await.unwrap();
    let ch = desk.channels().unwrap().into_iter().find(|c| c.instrument == "hioki-logger-1").unwrap();
    // An export made at once waits for the history of its range.
    let out = dir.path().join("early.csv");
    let (from, to) = (opened - 5 * 3_600_000 + 1000, opened - 1000);
    let early = tokio::task::block_in_place(|| desk.export(&[ch.id], from, to, out.to_str().unwrap(), &mut |_, _| {}));
    assert_eq!(early.unwrap().samples, 5 * 3600 - 2, "the export's range is complete");
    let mut rx = desk.subscribe();
    wait_for(
        &mut rx,
        "logger readings",
        |e| matches!(e, LiveEvent::Readings { instrument, .. } if instrument == "hioki-logger-1"),
    )
    .await;
    desk.history_written().await.unwrap();
    let now = crate::model::now_ms();
    let view = desk.series(&[ch.id], opened - 6 * 3_600_000, now + 1000, 16_384).unwrap().remove(0);
    assert!(view.raw);
    let first = view.t[0];
    assert!((opened - first - 5 * 3_600_000).abs() <= 1000, "the history starts 5 h back: {}", opened - first);
    // One sample a second up to the live polls (all after `opened`).
    let history = view.t.iter().take_while(|&&t| t < opened).count();
    assert!((5 * 3600 - 1..=5 * 3600).contains(&history), "{history} samples before the live ones");
    assert!(view.t[..history].windows(2).all(|w| w[1] - w[0] == 1000), "complete and in time order");
    assert!(view.t.windows(2).all(|w| w[1] > w[0]), "live samples follow in time order");
    assert!(view.min.iter().all(Option::is_some));
    desk.shutdown().await.unwrap();

    // Every stored sample waits in the outbox exactly once.
    let store = Store::open_readonly(&dir.path().join("data").join(STORE_FILE)).unwrap();
    let stored = store.range(ch.id, 0, i64::MAX).unwrap();
    let mut outboxed: Vec<(i64, Sample)> = store
        .outbox_next(100_000)
        .unwrap()
        .into_iter()
        .filter(|b| b.channel == ch.id)
        .flat_map(|b| (b.seq_from..).zip(b.samples))
        .collect();
    outboxed.sort_by_key(|x| x.0);
    assert_eq!(outboxed.iter().map(|x| x.0).collect::<Vec<_>>(), (0..stored.len() as i64).collect::<Vec<_>>());
    assert_eq!(outboxed.into_iter().map(|x| x.1).collect::<Vec<_>>(), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_starts_the_simulator_and_live_readings_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let mut rx = desk.subscribe();
    let ids: Vec<String> = desk.list_instruments().unwrap().into_iter().map(|v| v.config.id).collect();
    assert_eq!(ids, ["hioki-logger-1", "power-meter-1", "scpi-1", "modbus-1"]);
    let ev = wait_for(
        &mut rx,
        "logger readings",
        |e| matches!(e, LiveEvent::Readings { instrument, .. } if instrument == "hioki-logger-1"),
    )
    .await;
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(json["type"], "readings");
    assert!(json["values"][0]["channel"].is_string());
    // The demo file is a normal agent config.
    let cfg = AgentConfig::load(&dir.path().join("agent.toml")).unwrap();
    assert_eq!(cfg.instruments.len(), 4);
    assert!(desk.app_state().unwrap().demo);
    desk.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_edits_are_validated_persisted_and_restart_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let cfg_path = dir.path().join("agent.toml");
    let mut rx = desk.subscribe();
    let scpi = desk.config().instruments.iter().find(|i| i.id == "scpi-1").cloned().unwrap();

    // Invalid: poll interval below 100 ms; the file stays as it was.
    let before = std::fs::read_to_string(&cfg_path).unwrap();
    let mut bad: InstrumentConfig = scpi.clone();
    bad.id = "dmm2".into();
    bad.poll_interval = Some(Duration::from_millis(50));
    let err = desk.save_instrument(bad, None).await.unwrap_err().to_string();
    assert!(err.contains("poll_interval"), "{err}");
    // Duplicate id.
    let err = desk.save_instrument(scpi.clone(), None).await.unwrap_err().to_string();
    assert!(err.contains("already used"), "{err}");
    // Replacing an unknown instrument.
    let err = desk.save_instrument(scpi.clone(), Some("nope")).await.unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
    assert_eq!(std::fs::read_to_string(&cfg_path).unwrap(), before);

    // Valid: a second DMM on the same simulator.
    let mut dmm2 = scpi.clone();
    dmm2.id = "dmm2".into();
    dmm2.name = Some("Bench DMM".into());
    let view = desk.save_instrument(dmm2, None).await.unwrap();
    assert_eq!(view.config.id, "dmm2");
    assert_eq!(view.poll_interval_s, 1.0);
    let on_disk = AgentConfig::load(&cfg_path).unwrap();
    assert!(on_disk.instruments.iter().any(|i| i.id == "dmm2" && i.name.as_deref() == Some("Bench DMM")));
    // The restarted agent polls the new instrument.
    wait_for(&mut rx, "dmm2 connected", connected("dmm2")).await;

    // Edit under a new id, then remove.
    let mut renamed = on_disk.instruments.iter().find(|i| i.id == "dmm2").cloned().unwrap();
    renamed.id = "dmm3".into();
    desk.save_instrument(renamed, Some("dmm2")).await.unwrap();
    let ids: Vec<String> = AgentConfig::load(&cfg_path).unwrap().instruments.into_iter().map(|i| i.id).collect();
    assert!(ids.contains(&"dmm3".to_string()) && !ids.contains(&"dmm2".to_string()), "{ids:?}");
    desk.remove_instrument("dmm3").await.unwrap();
    assert_eq!(AgentConfig::load(&cfg_path).unwrap().instruments.len(), 4);
    assert!(desk.remove_instrument("dmm3").await.unwrap_err().to_string().contains("dmm3"));
    desk.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_is_held_by_one_operator_and_talks_to_the_instrument() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let mut rx = desk.subscribe();
    wait_for(&mut rx, "scpi-1 connected", connected("scpi-1")).await;

    desk.console_acquire("scpi-1", "alice").unwrap();
    let err = desk.console_acquire("scpi-1", "bob").unwrap_err().to_string();
    assert!(err.starts_with("held by alice since "), "{err}");
    let err = desk.console_send("scpi-1", "bob", "*IDN?").await.unwrap_err().to_string();
    assert!(err.starts_with("held by alice"), "{err}");
    let reply = desk.console_send("scpi-1", "alice", "*IDN?").await.unwrap();
    assert!(reply.unwrap_or_default().starts_with("MeterdeckSim,SCPI-1"));
    assert!(desk.console_acquire("scpi-1", " ").unwrap_err().to_string().contains("operator"));
    assert!(desk.console_acquire("nope", "bob").is_err());
    desk.console_release("scpi-1", "alice").unwrap();
    desk.console_acquire("scpi-1", "bob").unwrap();
    assert_eq!(desk.console_holder("scpi-1").map(|h| h.0), Some("bob".to_string()));

    let id = desk.identify("scpi-1").await.unwrap();
    assert_eq!(id.identity.model, "SCPI-1");
    let listed = desk.list_instruments().unwrap();
    assert_eq!(listed.iter().find(|v| v.config.id == "scpi-1").unwrap().identity.as_ref().unwrap().model, "SCPI-1");
    let until = desk.set_fast_monitor("scpi-1", true).await.unwrap();
    assert!(until.is_some());
    assert_eq!(desk.set_fast_monitor("scpi-1", false).await.unwrap(), None);
    desk.shutdown().await.unwrap();
}

#[test]
fn console_lock_expires_when_idle() {
    let mut locks = ConsoleLocks::default();
    locks.acquire("a", "alice", 0).unwrap();
    assert!(locks.acquire("a", "bob", 1000).is_err());
    locks.acquire("a", "bob", CONSOLE_IDLE_MS + 1).unwrap();
    assert!(locks.release("a", "alice").is_err());
    locks.release("a", "bob").unwrap();
}

fn store_with(dir: &Path, n: i64) -> (Store, ChannelId) {
    let mut store = Store::open(&dir.join("s.db"), StoreOptions::default()).unwrap();
    store.upsert_instrument("i", "i", "scpi", "tcp").unwrap();
    let ch = store.ensure_channel("i", "v", Some("V")).unwrap();
    let mut samples: Vec<(ChannelId, Sample)> =
        (0..n).map(|k| (ch, Sample::number(k * 1000, (k % 100) as f64))).collect();
    samples[5].1 = Sample::special(5000, SpecialKind::OverRange);
    store.append(&samples).unwrap();
    (store, ch)
}

#[test]
fn series_is_raw_when_small_and_m4_when_large() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ch) = store_with(dir.path(), 1000);
    let raw = series::series(&store, &[ch], 0, 1_000_000, 500).unwrap();
    assert!(raw[0].raw);
    assert_eq!(raw[0].t.len(), 1000);
    assert_eq!(raw[0].min, raw[0].max);
    assert_eq!(raw[0].min[5], None, "a special is a gap");
    let m4 = series::series(&store, &[ch], 0, 1_000_000, 100).unwrap();
    assert!(!m4[0].raw);
    assert_eq!(m4[0].t.len(), 100);
    assert_eq!(m4[0].min[0], Some(0.0));
    assert_eq!(m4[0].max[0], Some(9.0));
    assert!(series::series(&store, &[ch], 10, 10, 100).is_err());
    assert!(series::series(&store, &[ch], 0, 10, 0).is_err());
    assert!(series::series(&store, &[ch; 33], 0, 10, 10).is_err());
    let json = serde_json::to_value(&m4[0]).unwrap();
    assert!(json.get("channelId").is_some());
}

#[test]
fn table_lists_rows_and_says_when_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ch) = store_with(dir.path(), 5000);
    let rec = store.channels().unwrap().into_iter().find(|c| c.id == ch).unwrap();
    let t = series::table(&store, std::slice::from_ref(&rec), 0, 10_000_000, 10).unwrap();
    assert_eq!(t.columns, ["i/v"]);
    assert_eq!(t.rows.len(), 10);
    assert!(t.truncated);
    assert_eq!(t.rows[0], (0, vec![Some("0".to_string())]));
    let all = series::table(&store, &[rec], 0, 10_000, 100).unwrap();
    assert_eq!(all.rows.len(), 10);
    assert!(!all.truncated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let s = desk.settings().unwrap();
    assert_eq!(s.language, "en");
    let new = UiSettings { language: "ja".into(), timezone: "Asia/Tokyo".into(), theme: "dark".into() };
    desk.save_settings(&new).unwrap();
    assert_eq!(desk.settings().unwrap(), new);
    assert_eq!(desk.app_state().unwrap().settings, new);
    let bad = UiSettings { language: "fr".into(), ..new.clone() };
    assert!(desk.save_settings(&bad).unwrap_err().to_string().contains("language"));
    let bad = UiSettings { timezone: "../etc/passwd".into(), ..new.clone() };
    assert!(desk.save_settings(&bad).unwrap_err().to_string().contains("time zone"));
    let bad = UiSettings { theme: "blue".into(), ..new.clone() };
    assert!(desk.save_settings(&bad).is_err());
    assert_eq!(desk.settings().unwrap(), new);
    let json = serde_json::to_value(desk.app_state().unwrap()).unwrap();
    assert!(json.get("dataDir").is_some() && json.get("configPath").is_some());
    desk.shutdown().await.unwrap();
}

#[test]
fn timezones_are_checked_against_the_zone_database() {
    let zi = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(zi.path().join("Asia")).unwrap();
    std::fs::write(zi.path().join("Asia/Tokyo"), b"TZif").unwrap();
    assert!(check_timezone("Asia/Tokyo", zi.path()).is_ok());
    assert!(check_timezone("UTC", zi.path()).is_ok());
    assert!(check_timezone("Mars/Base", zi.path()).is_err());
    assert!(check_timezone("", zi.path()).is_err());
    assert!(check_timezone("Asia/../../etc", zi.path()).is_err());
    // Without a database only the form is checked.
    assert!(check_timezone("Mars/Base", &zi.path().join("none")).is_ok());
}

#[test]
fn config_render_round_trips_and_keeps_the_agent_table() {
    let text = "[agent]\nname = \"bench\"\npoll_interval = \"5s\"\n\n[[instrument]]\nid = \"d\"\nfamily = \"scpi\"\n\
                transport = { kind = \"tcp\", host = \"10.0.0.2\" }\npoll_interval = \"2s\"\n\
                [[instrument.channel]]\nid = \"v\"\nunit = \"V\"\nquery = \"MEAS:VOLT:DC?\"\n";
    let cfg = AgentConfig::parse(text, "t").unwrap();
    let out = render_config(&agent_table(text), &cfg).unwrap();
    let back = AgentConfig::parse(&out, "out").unwrap();
    assert_eq!(back.instruments, cfg.instruments);
    assert_eq!(back.agent.name, "bench");
    assert_eq!(back.agent.poll_interval, Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_file_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let mut rx = desk.subscribe();
    wait_for(&mut rx, "readings", |e| matches!(e, LiveEvent::Readings { .. })).await;
    {
        let agent = desk.agent.read().await;
        agent.as_ref().unwrap().flush().await.unwrap();
    }
    let latest = desk.latest().unwrap();
    assert!(!latest.is_empty());
    let ids: Vec<ChannelId> = latest.iter().take(3).map(|l| l.channel_id).collect();
    let out = dir.path().join("out.csv");
    let mut calls = 0;
    let v = desk.export(&ids, 0, now_ms() + 1000, out.to_str().unwrap(), &mut |_, _| calls += 1).unwrap();
    assert!(out.is_file());
    assert_eq!(v.channels, 3);
    assert!(v.samples > 0 && calls > 0);
    assert!(desk.export(&ids, 0, 1, "relative.csv", &mut |_, _| {}).unwrap_err().to_string().contains("absolute"));
    let bad = dir.path().join("x.txt");
    assert!(desk.export(&ids, 0, 1, bad.to_str().unwrap(), &mut |_, _| {}).unwrap_err().to_string().contains(".csv"));
    let events = desk.events(None, Some("agent-started"), 10).unwrap();
    assert!(!events.is_empty());
    assert!(desk.events(None, Some("bogus"), 10).is_err());
    desk.shutdown().await.unwrap();
}

#[test]
fn live_events_have_the_shapes_the_window_parses() {
    use crate::agent::{LiveUpdate, LiveValue};
    let readings = LiveUpdate::Readings {
        instrument: "a".into(),
        t: 5,
        values: vec![
            LiveValue { channel: "v".into(), unit: Some("V".into()), value: crate::model::Value::Number(1.5) },
            LiveValue { channel: "w".into(), unit: None, value: crate::model::Value::Special(SpecialKind::OverRange) },
        ],
    };
    let j = serde_json::to_value(LiveEvent::from(&readings)).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"type": "readings", "instrument": "a", "t": 5, "values": [
            {"channel": "v", "unit": "V", "value": 1.5, "special": null},
            {"channel": "w", "unit": null, "value": null, "special": "over-range"}]})
    );
    let state = LiveEvent::from(&LiveUpdate::State {
        instrument: "a".into(),
        state: ConnState::Reconnecting,
        reason: Some(Text::plain("timeout")),
    });
    let text = serde_json::json!({"key": "text.plain", "args": {"text": "timeout"}});
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        serde_json::json!({"type": "state", "instrument": "a", "state": "reconnecting", "reason": "timeout",
            "reason_text": text})
    );
    assert_eq!(
        serde_json::to_value(state.as_state().unwrap()).unwrap(),
        serde_json::json!({"instrument": "a", "state": "reconnecting", "reason": "timeout", "reasonText": text})
    );
    let fast = LiveEvent::from(&LiveUpdate::FastMonitor { instrument: "a".into(), until: Some(9) });
    assert_eq!(serde_json::to_value(&fast).unwrap()["type"], "fast-monitor");
    let ev = LiveEvent::from(&LiveUpdate::Event(Event::new(1, None, EventKind::Error, "m".into())));
    assert_eq!(serde_json::to_value(&ev).unwrap()["event"]["kind"], "error");
}

#[test]
fn tray_summary_counts_states_and_names_errors() {
    let cfg = |id: &str| -> InstrumentConfig {
        serde_json::from_value(
            serde_json::json!({"id": id, "family": "scpi", "transport": {"kind": "tcp", "host": "h"}}),
        )
        .unwrap()
    };
    let view = |id: &str, state: ConnState, reason: Option<&str>| InstrumentView {
        config: cfg(id),
        state,
        reason: reason.map(str::to_string),
        reason_text: None,
        last_poll: None,
        identity: None,
        compat_warning: None,
        fast_until: None,
        poll_interval_s: 60.0,
    };
    assert_eq!(tray_summary(&[]), "Meterdeck: no instruments configured");
    let text = tray_summary(&[
        view("a", ConnState::Connected, None),
        view("b", ConnState::Connected, None),
        view("c", ConnState::Error, Some("connection refused")),
    ]);
    assert_eq!(text, "Meterdeck: 2 connected, 1 error\nc: connection refused");
    let de = super::tray_summary_in(&[view("a", ConnState::Connected, None), view("c", ConnState::Error, None)], "de");
    assert_eq!(de, "Meterdeck: 1 verbunden, 1 Fehler");
    assert_eq!(super::tray_summary_in(&[], "de"), "Meterdeck: keine Messgeräte eingerichtet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_config_is_run_and_edits_keep_its_agent_table() {
    use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
    let dir = tempfile::tempdir().unwrap();
    let sim = sim::start(SimConfig { instruments: vec![SimInstrument::new("dmm", Personality::Scpi)] }).await.unwrap();
    let mut inst = sim.instruments[0].instrument_config();
    inst.poll_interval = Some(Duration::from_secs(1));
    let agent = toml::toml! { name = "bench" poll_interval = "30s" };
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, render_config(&agent, &super::config_file::with_instruments(vec![inst], None)).unwrap())
        .unwrap();
    let desk = Desk::open(&dir.path().join("data"), &path, false).await.unwrap();
    let mut rx = desk.subscribe();
    assert!(!desk.app_state().unwrap().demo);
    wait_for(&mut rx, "dmm connected", connected("dmm")).await;
    desk.remove_instrument("dmm").await.unwrap();
    let back = AgentConfig::load(&path).unwrap();
    assert_eq!(back.agent.name, "bench");
    assert_eq!(back.agent.poll_interval, Duration::from_secs(30));
    assert!(back.instruments.is_empty());
    assert!(desk.list_instruments().unwrap().is_empty());
    assert!(desk.latest().unwrap().is_empty(), "removed instruments leave the monitor");
    desk.shutdown().await.unwrap();
    sim.shutdown().await;

    // No file: an empty one is created.
    let fresh = dir.path().join("new/agent.toml");
    let desk = Desk::open(&dir.path().join("data2"), &fresh, false).await.unwrap();
    assert!(AgentConfig::load(&fresh).unwrap().instruments.is_empty());
    desk.shutdown().await.unwrap();
}

#[test]
fn tray_text_counts_unread_on_its_first_line() {
    assert_eq!(super::with_unread("Meterdeck: 2 connected".into(), 0, "en"), "Meterdeck: 2 connected");
    assert_eq!(
        super::with_unread("Meterdeck: 1 error\nlog: refused".into(), 3, "en"),
        "Meterdeck: 1 error · 3 unread\nlog: refused"
    );
    assert_eq!(super::with_unread("Meterdeck: 1 Fehler".into(), 3, "de"), "Meterdeck: 1 Fehler · 3 ungelesen");
}

#[test]
fn extent_spans_blocks_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ch) = store_with(dir.path(), 5000);
    assert_eq!(store.extent(ch).unwrap(), Some((0, 4_999_000)));
    // A sample still in the tail widens it too.
    store.append(&[(ch, Sample::number(9_000_000, 1.0))]).unwrap();
    assert_eq!(store.extent(ch).unwrap(), Some((0, 9_000_000)));
    let empty = store.ensure_channel("i", "w", None).unwrap();
    assert_eq!(store.extent(empty).unwrap(), None);
    assert!(store.extent(empty + 1).is_err());
}
