//! The real cloud service for end-to-end tests: `meterdeck-cloud serve`
//! with its own Mosquitto on a free port, its admin commands, and a small
//! client for its Web API.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Result, anyhow, bail, ensure};
use serde_json::{Value, json};

use crate::{Proc, bin};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Cloud {
    pub proc: Proc,
    pub data: PathBuf,
    pub db: Option<String>,
    pub http: String,
    pub mqtt_port: u16,
}

impl Cloud {
    /// Starts `serve` on a free HTTP port with a managed Mosquitto on
    /// `mqtt_port` (or a free one), data in `data`.
    pub fn start(data: &Path, mqtt_port: Option<u16>, db: Option<&str>, extra: &[&str]) -> Cloud {
        Cloud::start_at(data, free_port(), mqtt_port, db, extra)
    }

    /// [`Cloud::start`] with the Web API on `http_port` (a restart keeps the
    /// address the agents were given).
    pub fn start_at(data: &Path, http_port: u16, mqtt_port: Option<u16>, db: Option<&str>, extra: &[&str]) -> Cloud {
        let mqtt_port = mqtt_port.unwrap_or_else(free_port);
        let mut cmd = Command::new(bin("meterdeck-cloud"));
        cmd.arg("--data").arg(data);
        if let Some(db) = db {
            cmd.arg("--db").arg(db);
        }
        cmd.args(["serve", "--http", &format!("127.0.0.1:{http_port}"), "--mqtt-port", &mqtt_port.to_string()])
            .args(["--backup-every", "0"])
            .args(extra);
        let mut proc = Proc::spawn("meterdeck-cloud", &mut cmd);
        let line = proc.wait_line("meterdeck-cloud ready:", Duration::from_secs(30));
        let http = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no http address in {line:?}"))
            .to_owned();
        Cloud { proc, data: data.to_owned(), db: db.map(str::to_owned), http, mqtt_port }
    }

    /// Runs an admin command against the same database; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(&self.data, self.db.as_deref(), args)
    }

    pub fn stop(&mut self) {
        self.proc.terminate(Duration::from_secs(10));
    }
}

impl Drop for Cloud {
    /// SIGTERM first, so `serve` stops its Mosquitto (a SIGKILL would leave
    /// that to the broker's parent-death signal).
    fn drop(&mut self) {
        if let Ok(None) = self.proc.child.try_wait() {
            self.proc.terminate(Duration::from_secs(10));
        }
    }
}

/// `meterdeck-cloud --data DATA [--db DB] ARGS`, which must succeed.
pub fn cli(data: &Path, db: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(bin("meterdeck-cloud"));
    cmd.arg("--data").arg(data);
    if let Some(db) = db {
        cmd.arg("--db").arg(db);
    }
    let out = cmd.args(args).stdin(Stdio::null()).output().expect("run meterdeck-cloud");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "meterdeck-cloud {args:?} failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The last non-empty line after `marker` in a command's output (the
/// one-time secrets the admin commands print).
pub fn line_after(out: &str, marker: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.contains(marker));
    lines.next();
    lines
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("nothing after {marker:?} in {out}"))
        .trim()
        .to_owned()
}

/// A signed-in Web API client.
pub struct Api {
    pub base: String,
    pub token: String,
}

/// (status, body as JSON or as a string value).
pub fn request(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = agent.delete(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.call()
        }
        (m, b) => {
            let mut r = if m == "PUT" { agent.put(url) } else { agent.post(url) };
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.header("Content-Type", "application/json").send(b.unwrap_or(&json!({})).to_string())
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl Api {
    /// Signs in; a temporary password is changed to `new_password` first.
    pub fn sign_in(base: &str, account: &str, user: &str, password: &str, new_password: &str) -> Api {
        let (s, r) = request(
            "POST",
            &format!("{base}/api/v1/login"),
            None,
            Some(&json!({"account": account, "user": user, "password": password})),
        );
        assert_eq!(s, 200, "login: {r}");
        let mut token = r["token"].as_str().expect("token").to_owned();
        if r["pending"].as_str() == Some("change_password") || r["must_change_password"].as_bool() == Some(true) {
            let (s, r2) = request(
                "POST",
                &format!("{base}/api/v1/password"),
                Some(&token),
                Some(&json!({"current": password, "new": new_password})),
            );
            assert!(s < 300, "password change: {r2}");
            // Then a normal login with the new password.
            let (s, r3) = request(
                "POST",
                &format!("{base}/api/v1/login"),
                None,
                Some(&json!({"account": account, "user": user, "password": new_password})),
            );
            assert_eq!(s, 200, "login with the new password: {r3}");
            token = r3["token"].as_str().expect("token").to_owned();
        }
        Api { base: base.to_owned(), token }
    }

    pub fn get(&self, path: &str) -> Value {
        let (s, v) = request("GET", &format!("{}{path}", self.base), Some(&self.token), None);
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }
}

/// `meterdeck-agent cloud login --agent ID --broker 127.0.0.1:PORT EXTRA`
/// with the secret on stdin, on the session bus `bus` (its keychain);
/// `Err(output)` when it fails. `extra`: e.g. `--check`, or `--config F
/// --send-interval 1s`.
pub fn agent_login(bus: &str, agent_id: &str, secret: &str, port: u16, extra: &[&str]) -> Result<(), String> {
    use std::io::Write;
    let broker = format!("127.0.0.1:{port}");
    let mut args = vec!["cloud", "login", "--agent", agent_id, "--broker", &broker];
    args.extend_from_slice(extra);
    let mut child = crate::agent(&args)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run meterdeck-agent cloud login");
    writeln!(child.stdin.take().expect("stdin"), "{secret}").expect("write the secret");
    let out = child.wait_with_output().expect("meterdeck-agent cloud login");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(()) } else { Err(text) }
}

/// Creates account `acme` (Free) with admin `alice` on `cloud`; returns the
/// admin's temporary password.
pub fn create_acme(cloud: &Cloud) -> String {
    let out = cloud.cli(&[
        "account",
        "create",
        "--id",
        "acme",
        "--name",
        "Acme",
        "--admin",
        "alice",
        "--email",
        "alice@acme.test",
    ]);
    line_after(&out, "temporary password")
}

/// The password the tests' admin `alice` sets at her first sign-in.
pub const ADMIN_PASSWORD: &str = "Meter1deck-test";

/// A real cloud with account `acme`, one registered agent (`site-a`) and
/// its admin signed in.
pub struct CloudWithAgent {
    pub cloud: Cloud,
    pub api: Api,
    pub agent_id: String,
    pub secret: String,
}

pub fn cloud_with_agent(dir: &Path) -> CloudWithAgent {
    let cloud = Cloud::start(&dir.join("cloud"), None, None, &[]);
    let temp = create_acme(&cloud);
    let out = cloud.cli(&["agent", "register", "--account", "acme", "--name", "site-a"]);
    let agent_id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let secret = line_after(&out, "shown once");
    let api = Api::sign_in(&cloud.http, "acme", "alice", &temp, ADMIN_PASSWORD);
    CloudWithAgent { cloud, api, agent_id, secret }
}

/// The series of `label` drawn in the Viewer (`plot`: the page's uPlot data)
/// equals the cloud API's answer for the plotted range: raw points sample by
/// sample (at least `min_raw`), or min/max bands bucket by bucket with the
/// same bucket count (at least `min_buckets` with data). Shared by the
/// desktop's and the portal's Viewer tests.
pub fn check_series(api: &Api, plot: &Value, id: &str, label: &str, min_raw: usize, min_buckets: usize) -> Result<()> {
    let from = plot["from"].as_f64().ok_or_else(|| anyhow!("plot without x range"))? as i64;
    let to = plot["to"].as_f64().ok_or_else(|| anyhow!("plot without x range"))? as i64;
    let xs: Vec<i64> = plot["xs"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN) as i64).collect();
    let series: Vec<&Value> = plot["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["label"].as_str().is_some_and(|t| t == label || t.starts_with(&format!("{label} "))))
        .collect();
    // (time, value) where the series has a point.
    let points = |s: &Value| -> Vec<(i64, Option<f64>)> {
        s["vals"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&xs)
            .filter(|(v, _)| *v != "u")
            .map(|(v, &t)| (t, v.as_f64()))
            .collect()
    };
    match series.as_slice() {
        [raw] => {
            let drawn: Vec<_> = points(raw).into_iter().filter(|(_, v)| v.is_some()).collect();
            let api_raw = api.get(&format!("/api/v1/channels/{id}/raw?from={from}&to={to}&limit=100000"));
            let want: Vec<(i64, Option<f64>)> = api_raw["points"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["v"].is_number())
                .map(|p| (p["t"].as_i64().unwrap(), p["v"].as_f64()))
                .collect();
            ensure!(drawn == want, "{label}: drawn raw {drawn:?}\n API {want:?}");
            ensure!(drawn.len() >= min_raw, "{label}: only {} points drawn", drawn.len());
            eprintln!("    {label}: {} raw points equal the API's", drawn.len());
        }
        [max, min] => {
            let (maxs, mins) = (points(max), points(min));
            let n = maxs.len();
            let api_mm = api.get(&format!("/api/v1/channels/{id}/minmax?from={from}&to={to}&buckets={n}"));
            let buckets = api_mm["buckets"].as_array().ok_or_else(|| anyhow!("minmax reply: {api_mm}"))?;
            let want = |k: &str| -> Vec<(i64, Option<f64>)> {
                buckets.iter().map(|b| (b["t_start"].as_i64().unwrap(), b[k]["v"].as_f64())).collect()
            };
            ensure!(maxs == want("max"), "{label}: drawn maxima differ from the API's {n} buckets");
            ensure!(mins == want("min"), "{label}: drawn minima differ from the API's {n} buckets");
            let filled = maxs.iter().filter(|(_, v)| v.is_some()).count();
            ensure!(filled >= min_buckets, "{label}: only {filled} buckets with data");
            eprintln!("    {label}: {n} min/max buckets ({filled} with data) equal the API's");
        }
        other => bail!("{label}: {} series in the plot: {other:?}", other.len()),
    }
    Ok(())
}

/// Registers agent `name` through the API and publishes one batch for it
/// as an agent does (its broker login, QoS 1): `n` samples on `dev/volts`
/// [V], one every 10 s over the last half hour (inside the Viewer's
/// default hour), values around `seed`. Waits until the cloud stored them;
/// returns the agent id. The portal's browser tests' sites.
pub fn register_site(cloud: &Cloud, api: &Api, dir: &Path, name: &str, seed: f64, n: usize) -> String {
    let (s, r) =
        request("POST", &format!("{}/api/v1/agents", api.base), Some(&api.token), Some(&json!({"name": name})));
    assert_eq!(s, 201, "register {name}: {r}");
    let id = r["id"].as_str().expect("agent id").to_owned();
    let secret = r["secret"].as_str().expect("agent secret").to_owned();
    use meterdeck_wire::Sample;
    use meterdeck_wire::codec::EncodeScratch;
    use meterdeck_wire::sync::{PartIn, batch_topic, encode_batch};
    let now = meterdeck_wire::now_ms();
    let t0 = now - 30 * 60 * 1000;
    let samples: Vec<Sample> = (0..n)
        .map(|i| Sample::number(t0 + i as i64 * 10_000, seed + (i as f64 / 9.0).sin() * 2.0 + i as f64 * 0.01))
        .collect();
    let parts = [PartIn { path: "dev/volts", unit: Some("V"), seq_from: 1, seq_to: 1 + n as i64, samples: &samples }];
    let bytes = encode_batch("store-1", 1, now, 0, &parts, &mut EncodeScratch::default()).unwrap();
    let file = dir.join(format!("{name}.batch"));
    std::fs::write(&file, bytes).unwrap();
    // The broker's password file reaches Mosquitto within seconds of the registration.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &cloud.mqtt_port.to_string(), "-u", &id, "-P", &secret, "-q", "1"])
            .args(["-i", &id, "-t", &batch_topic(&id), "-f"])
            .arg(&file)
            .output()
            .expect("run mosquitto_pub (apt-get install mosquitto-clients)");
        if out.status.success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "mosquitto_pub as {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    crate::wait_until(Duration::from_secs(30), &format!("{name}'s batch stored"), || {
        let (_, chans) = request("GET", &format!("{}/api/v1/agents/{id}/channels", api.base), Some(&api.token), None);
        chans.as_array().is_some_and(|l| l.iter().any(|c| c["samples"].as_u64() == Some(n as u64)))
    });
    id
}
