//! `cargo bench -p meterdeck-cloud --bench offline [-- --quick]`: prints one JSON line.
//!
//! `agent_offline_alert_s` (issue 16): an agent process killed with
//! SIGKILL (no DISCONNECT, no goodbye) until the "agent offline" mail is in
//! a real SMTP server's hands, with the account's silence setting at 60 s
//! (`--quick`: 5 s, the smallest allowed). Target: <= silence + 30 s.
//!
//! The parts: the real `meterdeck-cloud serve` (its managed Mosquitto with
//! logins and ACL, `--smtp` to aiosmtpd from `tests/peers/smtp_peer.py`, the
//! default offline check period); a CHILD process (this binary again, with
//! `--child-agent`) that connects with the agent's credentials exactly as
//! the agent's sync connection does (`meterdeck_core::sync` defaults:
//! keep-alive, retained last will "offline", retained "online" on every
//! connection, a batch every send interval, acknowledgements read). The
//! figure is split into: kill -> the cloud shows the agent disconnected
//! (the broker published its will), -> the cloud raised the alarm, -> the
//! mail arrived (each seen by polling the API every 100 ms).
//!
//! The same with the agent's link going dead instead (no close: a pulled
//! cable), where the broker's keep-alive timeout decides when the will is
//! published: `agent_offline_alert_link_cut_s`.
//!
//! Baseline, same run: the clean stop (the agent says "offline" and
//! disconnects), which has no keep-alive wait in it.
//!
//! Without Python's aiosmtpd (`MD_PYTHON`, default
//! `/var/tmp/meterdeck-venv/bin/python`) it prints why and a JSON line with
//! `"skipped"`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meterdeck_cloud::broker::NoBroker;
use meterdeck_wire::Sample;
use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{self as wire, PartIn, Presence};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

const PASSWORD: &str = "Bench-pass1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn secs(d: Duration) -> f64 {
    r1(d.as_secs_f64())
}

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-agent") {
        let a = &args[i + 1..];
        let rt = tokio::runtime::Runtime::new().unwrap();
        return rt.block_on(child_agent(a[0].parse().unwrap(), a[1].clone(), a[2].clone()));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let python = std::env::var("MD_PYTHON").unwrap_or_else(|_| "/var/tmp/meterdeck-venv/bin/python".into());
    let have_smtp =
        Command::new(&python).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !have_smtp {
        eprintln!(
            "agent_offline_alert_s not measured: no Python with aiosmtpd at {python} (set MD_PYTHON, or run ./scripts/test once to create /var/tmp/meterdeck-venv)"
        );
        println!("{}", json!({"quick": quick, "agent_offline_alert_s": null, "skipped": "no aiosmtpd"}));
        return;
    }
    let silence_s: u64 = if quick { 5 } else { 60 };
    let bench = Bench::start(&python, silence_s);
    let killed = bench.measure(Stop::Kill);
    let link = bench.measure(Stop::LinkCut);
    let clean = bench.measure(Stop::Clean);
    let target = silence_s as f64 + 30.0;
    println!(
        "{}",
        json!({
            "quick": quick,
            "offline_after_s": silence_s,
            "agent_offline_alert_s": killed.mail,
            "agent_offline_alert_parts_s": {"kill_to_will_seen": killed.seen, "to_alarm": r1(killed.alarm - killed.seen),
                                            "to_mail": r1(killed.mail - killed.alarm)},
            "agent_offline_alert_link_cut_s": link.mail,
            "link_cut_parts_s": {"cut_to_will_seen": link.seen, "to_alarm": r1(link.alarm - link.seen),
                                 "to_mail": r1(link.mail - link.alarm)},
            "keep_alive_s": meterdeck_core::sync::SyncOptions::default().keep_alive.as_secs_f64(),
            "offline_check_every_s": 5,
            "baseline_clean_stop_alert_s": clean.mail,
            "baseline_parts_s": {"stop_to_goodbye_seen": clean.seen, "to_alarm": r1(clean.alarm - clean.seen),
                                 "to_mail": r1(clean.mail - clean.alarm)},
            "target_s": target,
            "met": killed.mail <= target && link.mail <= target,
        })
    );
}

/// How the agent goes away.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// SIGKILL: the kernel closes its socket, the broker publishes the will at once.
    Kill,
    /// Its link goes dead without a close (a pulled cable, a dead router):
    /// only the broker's keep-alive timeout (1.5 x keep-alive) notices.
    LinkCut,
    /// It says goodbye and disconnects.
    Clean,
}

/// A TCP relay to the broker that can go dead: after `cut` nothing more
/// passes either way and nothing is closed; new connections are dropped.
fn dead_link(rt: &tokio::runtime::Runtime, broker: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::Ordering::SeqCst;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let c = cut.clone();
    rt.spawn(async move {
        async fn pipe(
            mut r: tokio::net::tcp::OwnedReadHalf,
            mut w: tokio::net::tcp::OwnedWriteHalf,
            cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
        ) {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n @ 1..) = r.read(&mut buf).await {
                if cut.load(SeqCst) {
                    // Hold both sockets open, pass nothing.
                    std::future::pending::<()>().await;
                }
                if w.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
        while let Ok((inbound, _)) = listener.accept().await {
            if c.load(SeqCst) {
                continue;
            }
            let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", broker)).await else { continue };
            let (ri, wi) = inbound.into_split();
            let (ro, wo) = outbound.into_split();
            tokio::spawn(pipe(ri, wo, c.clone()));
            tokio::spawn(pipe(ro, wi, c.clone()));
        }
    });
    (port, cut)
}

/// Seconds from the stop to each step.
struct Timing {
    seen: f64,
    alarm: f64,
    mail: f64,
}

struct Bench {
    _dir: tempfile::TempDir,
    cloud: Child,
    smtp: Child,
    mails: mpsc::Receiver<(Instant, Value)>,
    mails_seen: std::cell::Cell<usize>,
    http: String,
    mqtt_port: u16,
    agent: String,
    secret: String,
    token: String,
    rt: tokio::runtime::Runtime,
    api: reqwest::Client,
}

impl Drop for Bench {
    fn drop(&mut self) {
        for c in [&mut self.cloud, &mut self.smtp] {
            // SIGTERM so `serve` stops its Mosquitto.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }
}

impl Bench {
    fn start(python: &str, silence_s: u64) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("cloud");
        // The account, its agent and the silence setting, before `serve`
        // takes the data directory; its broker gets the agent's login from the store.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (agent, secret) = rt.block_on(prepare(&data, silence_s));

        let peer = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/smtp_peer.py");
        let mut smtp = Command::new(python).arg(peer).stdout(Stdio::piped()).spawn().expect("smtp peer");
        let mut lines = BufReader::new(smtp.stdout.take().unwrap()).lines();
        let ready = lines.next().expect("smtp peer output").unwrap();
        let smtp_port = ready.strip_prefix("READY ").expect("READY <port>").trim().to_owned();
        let (tx, mails) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(m) = line.strip_prefix("MAIL ") {
                    let _ = tx.send((Instant::now(), serde_json::from_str(m).unwrap_or(Value::Null)));
                }
            }
        });

        let (http_port, mqtt_port) = (free_port(), free_port());
        let http = format!("http://127.0.0.1:{http_port}");
        let cloud = Command::new(env!("CARGO_BIN_EXE_meterdeck-cloud"))
            .arg("--data")
            .arg(&data)
            .args(["serve", "--http", &format!("127.0.0.1:{http_port}"), "--mqtt-port", &mqtt_port.to_string()])
            .args(["--backup-every", "0", "--smtp", &format!("127.0.0.1:{smtp_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("meterdeck-cloud serve");
        let mut b = Bench {
            _dir: dir,
            cloud,
            smtp,
            mails,
            mails_seen: Default::default(),
            http,
            mqtt_port,
            agent,
            secret,
            token: String::new(),
            rt,
            api: reqwest::Client::new(),
        };
        let login = json!({"account": "bench", "user": "admin", "password": PASSWORD});
        let deadline = Instant::now() + Duration::from_secs(60);
        b.token = loop {
            if let Ok((200, v)) = b.call("POST", "/api/v1/login", Some(&login))
                && let Some(t) = v["token"].as_str()
            {
                break t.to_owned();
            }
            assert!(Instant::now() < deadline, "the cloud did not start");
            std::thread::sleep(Duration::from_millis(200));
        };
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        self.rt.block_on(async {
            let mut r = self.api.request(method.parse().unwrap(), format!("{}{path}", self.http));
            if !self.token.is_empty() {
                r = r.bearer_auth(&self.token);
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            let r = r.send().await.map_err(|e| e.to_string())?;
            let s = r.status().as_u16();
            Ok((s, r.json().await.unwrap_or(Value::Null)))
        })
    }

    fn alarms(&self) -> Value {
        self.call("GET", &format!("/api/v1/agents/{}/alarms", self.agent), None).map(|(_, v)| v).unwrap_or_default()
    }

    fn spawn_agent(&self, port: u16) -> (Child, ChildStdin, mpsc::Receiver<String>) {
        let mut c = Command::new(std::env::current_exe().unwrap())
            .args(["--child-agent", &port.to_string(), &self.agent, &self.secret])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("child agent");
        let stdin = c.stdin.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let out = BufReader::new(c.stdout.take().unwrap());
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        (c, stdin, rx)
    }

    /// The next mail, or none by `deadline`.
    fn next_mail(&self, deadline: Instant) -> Option<(Instant, Value)> {
        let m = self.mails.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()?;
        self.mails_seen.set(self.mails_seen.get() + 1);
        Some(m)
    }

    /// Starts the agent, lets it send, stops it as `how` says and times
    /// the offline notice; then brings it back until the cloud has cleared
    /// the alarm (its back-online mail read).
    fn measure(&self, how: Stop) -> Timing {
        let relay = tokio::runtime::Runtime::new().unwrap();
        let (port, cut) = match how {
            Stop::LinkCut => dead_link(&relay, self.mqtt_port),
            _ => (self.mqtt_port, Default::default()),
        };
        let (mut child, mut stdin, out) = self.spawn_agent(port);
        // Connected and a batch acknowledged: running as an agent does.
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            match out.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(l) if l.starts_with("ACK") => break,
                Ok(_) => {}
                Err(_) => panic!("the bench agent got no acknowledgement within 60 s"),
            }
        }
        while self.alarms()["connected"] != true {
            std::thread::sleep(Duration::from_millis(100));
        }
        // Some way into its send interval.
        std::thread::sleep(Duration::from_secs(3));
        let stopped = Instant::now();
        match how {
            Stop::Kill => child.kill().unwrap(),
            Stop::LinkCut => cut.store(true, std::sync::atomic::Ordering::SeqCst),
            Stop::Clean => writeln!(stdin, "stop").unwrap(),
        }
        let (mut seen, mut alarm) = (None, None);
        let limit = Duration::from_secs(300);
        let mail = loop {
            let a = self.alarms();
            if seen.is_none() && a["connected"] == false {
                seen = Some(stopped.elapsed());
            }
            if alarm.is_none() && a["offline"] == true {
                alarm = Some(stopped.elapsed());
            }
            if let Some((at, m)) = self.next_mail(Instant::now() + Duration::from_millis(100)) {
                assert!(m["subject"].as_str().unwrap_or_default().contains("offline"), "not the offline mail: {m}");
                break at - stopped;
            }
            assert!(stopped.elapsed() < limit, "no offline mail within {limit:?}");
        };
        let _ = child.kill();
        let _ = child.wait();
        drop(stdin);
        // Back: the alarm clears (and its mail is read) before the next round.
        let (mut child, stdin, _out) = self.spawn_agent(self.mqtt_port);
        let back = self.next_mail(Instant::now() + Duration::from_secs(120)).expect("back-online mail");
        assert!(back.1["subject"].as_str().unwrap_or_default().contains("back online"), "{}", back.1);
        child.kill().unwrap();
        let _ = child.wait();
        drop(stdin);
        let (seen, alarm) = (seen.unwrap_or(mail), alarm.unwrap_or(mail));
        Timing { seen: secs(seen), alarm: secs(alarm), mail: secs(mail) }
    }
}

async fn prepare(data: &Path, silence_s: u64) -> (String, String) {
    std::fs::create_dir_all(data).unwrap();
    let db = format!("sqlite:{}", data.join("cloud.db").display());
    let store = meterdeck_cloud::store::open(&db).await.unwrap();
    meterdeck_cloud::admin::create_account(&*store, "bench", "Bench", "pro", "admin", "admin@bench.test")
        .await
        .unwrap();
    let (agent, secret) = meterdeck_cloud::admin::register_agent(&*store, &NoBroker, "bench", "site").await.unwrap();
    store.records().set_offline_after("bench", silence_s).await.unwrap();
    let mut u = store.user("bench", "admin").await.unwrap().unwrap();
    u.password_hash = meterdeck_cloud::auth::password::hash_password(PASSWORD);
    u.must_change = false;
    store.update_user(&u).await.unwrap();
    (agent.id, secret)
}

/// The child: the agent's sync connection as `meterdeck_core::sync`'s drain
/// sets it up (client id = agent id, keep-alive, clean session, retained
/// last will "offline", retained "online" on every connection and again
/// every minute, a batch of the last interval's samples every send
/// interval). Prints `ACK <batch>` for each acknowledgement. A `stop` line
/// on stdin stops it cleanly (goodbye "offline", DISCONNECT), as the
/// agent's shutdown does.
async fn child_agent(port: u16, agent: String, secret: String) {
    let opts = meterdeck_core::sync::SyncOptions::default();
    let send_interval = meterdeck_core::sync::settings::DEFAULT_SEND_INTERVAL;
    let status_topic = wire::status_topic(&agent);
    let presence = |online| Presence { v: 1, online }.to_json();
    let mut mo = MqttOptions::new(agent.clone(), "127.0.0.1", port);
    mo.set_last_will(LastWill::new(status_topic.clone(), presence(false), QoS::AtLeastOnce, true));
    mo.set_keep_alive(opts.keep_alive).set_clean_session(true).set_credentials(agent.clone(), secret);
    let (client, mut ev) = AsyncClient::new(mo, 64);
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<()>(1);
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.trim() == "stop" {
                let _ = stop_tx.blocking_send(());
            }
            line.clear();
        }
    });
    let mut scratch = EncodeScratch::default();
    let (mut batch, mut seq) = (1u64, 0i64);
    let mut last_sent = meterdeck_wire::now_ms() - send_interval.as_millis() as i64;
    let mut next_send = tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut next_presence = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut connected = false;
    loop {
        tokio::select! {
            e = ev.poll() => match e {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected = true;
                    client.subscribe(wire::ack_topic(&agent), QoS::AtLeastOnce).await.unwrap();
                    client.publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(true)).await.unwrap();
                    next_send = tokio::time::Instant::now();
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(a) = wire::Ack::parse(&p.payload) {
                        println!("ACK {:?} {}", a.batch, a.ok);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    // Once per outage: a dead link retries every second.
                    if connected {
                        eprintln!("bench agent: {e}");
                    }
                    connected = false;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = tokio::time::sleep_until(next_send), if connected => {
                // One sample a second since the last batch, one channel.
                let now = meterdeck_wire::now_ms();
                let samples: Vec<Sample> = (last_sent / 1000 + 1..=now / 1000)
                    .map(|s| Sample::number(s * 1000, (s % 100) as f64))
                    .collect();
                let part = PartIn { path: "log/CH1", unit: Some("V"), seq_from: seq, seq_to: seq + samples.len() as i64, samples: &samples };
                let payload = wire::encode_batch("bench-agent-store", batch, now, 0, &[part], &mut scratch).unwrap();
                client.publish(wire::batch_topic(&agent), QoS::AtLeastOnce, false, payload).await.unwrap();
                seq += samples.len() as i64;
                batch += 1;
                last_sent = now;
                next_send = tokio::time::Instant::now() + send_interval;
            }
            _ = tokio::time::sleep_until(next_presence), if connected => {
                next_presence = tokio::time::Instant::now() + Duration::from_secs(60);
                client.publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(true)).await.unwrap();
            }
            _ = stop_rx.recv() => {
                client.publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(false)).await.unwrap();
                client.disconnect().await.unwrap();
                // Flush the goodbye and the DISCONNECT.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while ev.poll().await.is_ok() {}
                }).await;
                return;
            }
        }
    }
}
