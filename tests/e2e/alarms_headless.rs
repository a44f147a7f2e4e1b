//! Alarms in the headless agent (real `meterdeck-sim` and `meterdeck-agent`
//! processes): a calc channel is stored, a rule raises when the simulator is
//! driven over its threshold, `meterdeck-agent alarms ack` acknowledges it
//! through the running agent, the journal and the notification centre show
//! it, a second ack is refused with a reason, and the return is journalled.

use meterdeck_e2e::*;
use std::io::Write;
use std::time::Duration;

fn sim_command(port: u16, cmd: &str) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("{cmd};*OPC?\n").as_bytes()).unwrap();
    let mut buf = [0u8; 16];
    let _ = std::io::Read::read(&mut s, &mut buf);
}

fn cli(args: &[&str]) -> (i32, String, String) {
    agent_output(args)
}

#[test]
fn headless_agent_raises_acknowledges_and_journals_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, ready) = start_sim(&["--personality", "hioki-logger", "--channels", "2"], 1);
    let port = ready[0].port();
    let config = dir.path().join("agent.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            r#"[agent]
data_dir = "{}"
poll_interval = "1s"

[[instrument]]
id = "log"
family = "hioki-logger"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {port} }}

[[instrument.channel]]
id = "CH1_1"
unit = "degC"

[[instrument.channel]]
id = "CH1_2"
unit = "degC"

[[calc]]
id = "diff"
unit = "K"
expr = "A - B"
inputs = {{ A = "log/CH1_1", B = "log/CH1_2" }}

[[alarm]]
id = "hot"
name = "Too hot"
kind = "threshold"
channel = "log/CH1_1"
op = ">"
value = 50.0
severity = "critical"
notify_on_return = true
"#,
            data.display()
        ),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let mut agent = Proc::spawn("meterdeck-agent", &mut agent(&["run", "--config", c]));

    // The calc channel is stored like any channel.
    wait_until(Duration::from_secs(20), "calc/diff samples", || {
        let (code, out, _) = cli(&["query", "--config", c, "--channel", "calc/diff", "--from", "-1h"]);
        code == 0 && out.lines().count() >= 3
    });

    sim_command(port, ":SIMulate:VALue CH1_1,77.5");
    wait_until(Duration::from_secs(20), "alarm hot active", || {
        let (_, out, _) = cli(&["alarms", "--config", c]);
        out.lines().any(|l| l.starts_with("hot ") && l.contains("ACTIVE, UNACKED") && l.contains("77.5 degC"))
    });

    let (code, out, err) = cli(&["alarms", "--config", c, "ack", "hot", "--user", "mika", "--comment", "burner off"]);
    assert_eq!(code, 0, "ack: {out}{err}");
    assert!(out.contains("hot ack: UNACK -> ACKED"), "{out}");
    let (code, _, err) = cli(&["alarms", "--config", c, "ack", "hot", "--user", "mika"]);
    assert_ne!(code, 0);
    assert!(err.contains("not unacknowledged"), "{err}");
    let (code, _, err) = cli(&["alarms", "--config", c, "shelve", "hot", "--user", "mika", "--minutes", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("minutes"), "{err}");

    sim_command(port, ":SIMulate:VALue CH1_1,20");
    wait_until(Duration::from_secs(20), "the return in the journal", || {
        let (_, out, _) = cli(&["journal", "--config", c, "--alarm", "hot", "--action", "return"]);
        out.lines().count() >= 2
    });
    let (_, journal, _) = cli(&["journal", "--config", c, "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&journal).unwrap();
    let ack = entries.as_array().unwrap().iter().find(|e| e["action"] == "ack").expect("an ack entry");
    assert_eq!((ack["user"].as_str(), ack["comment"].as_str()), (Some("mika"), Some("burner off")));
    let (_, notes, _) = cli(&["notifications", "--config", c, "--unread"]);
    assert!(notes.contains("Alarm: Too hot") && notes.contains("Returned to normal: Too hot"), "{notes}");
    let (code, _, err) = cli(&["journal", "--config", c, "--action", "dance"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown action `dance`"), "{err}");

    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));
}
