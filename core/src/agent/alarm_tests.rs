//! Calculation channels and alarms inside the running agent, against the
//! in-process simulator: calc outputs stored beside their inputs, a rule
//! raised by a driven value, journalled, put in the notification centre,
//! acknowledged, returned, and its state kept across a restart.

use std::sync::Arc;
use std::time::Duration;

use meterdeck_drivers::sim::{self, Personality, SimAddress, SimConfig, SimInstrument};
use tokio::io::AsyncWriteExt;

use super::tests::{fast_options, wait_for};
use super::*;
use crate::alarm::{Action, AlarmRule, JournalFilter, journal};
use crate::calc::CalcConfig;
use crate::config::{AgentConfig, AgentSettings, STORE_FILE};
use crate::model::Value;
use crate::notify::{MemorySecrets, centre};
use crate::store::Store;

async fn sim_command(addr: &SimAddress, cmd: &str) {
    let SimAddress::Tcp(a) = addr else { panic!("tcp sim expected") };
    let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
    s.write_all(format!("{cmd}\n").as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    // Let the simulator read it before the connection closes.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn config(inst: meterdeck_drivers::InstrumentConfig) -> AgentConfig {
    let mut cfg = AgentConfig::new(AgentSettings::default(), vec![inst]).unwrap();
    cfg.calcs = vec![
        toml::from_str::<CalcConfig>(
            r#"id = "sum"
unit = "V"
expr = "A + 2 * B"
inputs = { A = "log/CH1_1", B = "log/CH1_2" }"#,
        )
        .unwrap(),
    ];
    cfg.alarms = vec![
        toml::from_str::<AlarmRule>(
            r#"id = "hot"
name = "Too hot"
kind = "threshold"
channel = "log/CH1_1"
op = ">"
value = 50.0
severity = "high"
notify_on_return = true"#,
        )
        .unwrap(),
    ];
    cfg.check_sections().unwrap();
    cfg
}

fn options() -> AgentOptions {
    AgentOptions { secrets: Arc::new(MemorySecrets::new()), ..fast_options(default_connector()) }
}

async fn views(agent: &AgentHandle) -> Vec<crate::alarm::AlarmView> {
    match agent.alarm(AlarmCommand::Views).await.unwrap() {
        AlarmReply::Views(v) => v,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calcs_are_stored_and_alarms_run_their_lifecycle() {
    let mut log = SimInstrument::new("log", Personality::HiokiLogger);
    log.channels = Some(2);
    let sim = sim::start(SimConfig { instruments: vec![log] }).await.unwrap();
    let running = &sim.instruments[0];
    let mut inst = running.instrument_config();
    inst.poll_interval = Some(Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(config(inst.clone()), dir.path(), options()).unwrap();
    let store = Store::open_readonly(&dir.path().join(STORE_FILE)).unwrap();
    let series = |path: &str| {
        store.find_channel(path).unwrap().map(|c| store.range(c.id, 0, i64::MAX).unwrap()).unwrap_or_default()
    };

    // The calc output: one sample per poll, A + 2B of that poll's inputs.
    wait_for("two calc samples", || series("calc/sum").len() >= 2).await;
    let (a, b) = (series("log/CH1_1"), series("log/CH1_2"));
    for s in series("calc/sum") {
        let at = |v: &[crate::model::Sample]| v.iter().find(|x| x.t == s.t).and_then(|x| x.value.as_number());
        let want = at(&a).unwrap() + 2.0 * at(&b).unwrap();
        assert!(matches!(s.value, Value::Number(v) if (v - want).abs() < 1e-9), "{s:?} != {want}");
    }

    // Over the threshold: raised, journalled, in the notification centre.
    sim_command(&running.address, ":SIMulate:VALue CH1_1,80").await;
    let mut raised = None;
    for _ in 0..100 {
        raised = views(&agent).await.into_iter().find(|v| v.alarm_id == "hot" && v.active);
        if raised.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let raised = raised.expect("alarm `hot` raised within 10 s");
    assert!(!raised.acked);
    // Formatted with the channel's unit (registered after the agent started).
    let unit = store.find_channel("log/CH1_1").unwrap().unwrap().unit.expect("the logger's channels have units");
    assert_eq!(raised.value.as_deref(), Some(format!("80 {unit}").as_str()), "{raised:?}");
    wait_for("the raise notification", || {
        centre::list(store.conn(), true, None).unwrap().iter().any(|n| n.title == "Alarm: Too hot")
    })
    .await;

    // Acknowledged with a comment: journalled with user and comment.
    agent
        .alarm(AlarmCommand::Ack { alarm_id: "hot".into(), user: "mika".into(), comment: Some("burner off".into()) })
        .await
        .unwrap();
    let acks = journal::query(
        store.conn(),
        &JournalFilter { alarm_id: Some("hot".into()), action: Some(Action::Ack), ..Default::default() },
    )
    .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!((acks[0].user.as_deref(), acks[0].comment.as_deref()), (Some("mika"), Some("burner off")));
    // A second ack is refused with a reason.
    let again = agent.alarm(AlarmCommand::Ack { alarm_id: "hot".into(), user: "mika".into(), comment: None }).await;
    assert!(again.is_err(), "{again:?}");
    assert!(agent.alarm(AlarmCommand::Ack { alarm_id: "nope".into(), user: "x".into(), comment: None }).await.is_err());

    // Shelved state survives a restart of the agent.
    agent
        .alarm(AlarmCommand::Shelve {
            alarm_id: "hot".into(),
            until: now_ms() + 3_600_000,
            user: "mika".into(),
            comment: None,
        })
        .await
        .unwrap();
    agent.shutdown().await.unwrap();
    let agent = Agent::start(config(inst), dir.path(), options()).unwrap();
    let v = views(&agent).await.into_iter().find(|v| v.alarm_id == "hot").unwrap();
    assert!(v.acked && v.shelved_until.is_some(), "{v:?}");
    agent.alarm(AlarmCommand::Unshelve { alarm_id: "hot".into(), user: "mika".into() }).await.unwrap();

    // Back under: returns (acked -> normal) with the end-of-condition notice.
    sim_command(&running.address, ":SIMulate:VALue CH1_1,AUTO;:SIMulate:VALue CH1_1,10").await;
    wait_for("the return notice", || {
        centre::list(store.conn(), false, None).unwrap().iter().any(|n| n.title == "Returned to normal: Too hot")
    })
    .await;
    let unread = centre::unread_count(store.conn()).unwrap();
    assert!(unread >= 2);
    match agent.alarm(AlarmCommand::MarkAllRead).await.unwrap() {
        AlarmReply::Count(n) => assert_eq!(n as u64, unread),
        other => panic!("{other:?}"),
    }
    assert_eq!(centre::unread_count(store.conn()).unwrap(), 0);
    agent.shutdown().await.unwrap();
    sim.shutdown().await;
}
