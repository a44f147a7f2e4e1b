//! The agent's licence end to end: `cloud login --api` pins the cloud's key,
//! `run` fetches the licence (HTTP Basic, the agent's secret from a real
//! gnome-keyring on a private D-Bus) and keeps it, a configuration over the
//! Free plan is refused at start naming the plan and the limit, a Standard
//! licence lifts it, and `licence verify` names each way a file is wrong.
//!
//! The cloud here is a stand-in serving documents signed with the wire
//! crate's `sign` on the licence interface's routes, so that it can serve
//! what the real cloud never would (another key, another account, a
//! post-dated or tampered document). The same path against the real
//! `meterdeck-cloud serve` is tests/e2e/licence_cloud.rs.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::Engine as _;
use meterdeck_e2e::cloud::agent_login;
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::{Proc, agent, runtime, wait_until};
use meterdeck_wire::licence::{LicenceDoc, Plan, public_key_text, sign, signing_key};
use serde_json::Value;

const DAY: i64 = 86_400_000;
const SECRET: &str = "agent-secret-1";

fn doc(serial: &str, account: &str, plan: Plan, issued_at: i64) -> LicenceDoc {
    LicenceDoc {
        serial: serial.into(),
        account: account.into(),
        plan,
        limits: plan.limits(),
        expires: (plan != Plan::Free).then_some(issued_at + 90 * DAY),
        gateways: vec![],
        issued_at,
    }
}

fn now() -> i64 {
    meterdeck_wire::now_ms()
}

/// The licence routes of the interface, serving whatever `licence` holds.
fn stand_in(rt: &tokio::runtime::Runtime, licence: Arc<Mutex<String>>) -> String {
    let key = public_key_text(&signing_key(&[5; 32]).verifying_key());
    let want = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("gw-1:{SECRET}")));
    let app = Router::new()
        .route(
            "/api/v1/licence/key",
            get(move || async move { axum::Json(serde_json::json!({"key": key, "key_id": "k"})) }),
        )
        .route(
            "/api/v1/licence",
            get(move |h: HeaderMap| async move {
                let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                if auth != want {
                    let body = serde_json::json!({"error": "agent not authenticated", "code": "unauthorized"});
                    return (StatusCode::UNAUTHORIZED, body.to_string());
                }
                (StatusCode::OK, licence.lock().unwrap().clone())
            }),
        );
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    })
}

fn instruments(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[instrument]]\nid = \"m{i}\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = 9 }}\n\n"
            )
        })
        .collect()
}

struct Site {
    session: Session,
    dir: tempfile::TempDir,
}

impl Site {
    fn config(&self) -> String {
        self.dir.path().join("agent.toml").display().to_string()
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Replaces the instruments, keeping the `[cloud]` section.
    fn set_instruments(&self, n: usize) {
        let text = std::fs::read_to_string(self.config()).unwrap();
        let cloud = &text[text.find("[cloud]").expect("a [cloud] section")..];
        std::fs::write(self.config(), format!("[agent]\nname = \"lic\"\n\n{}{cloud}", instruments(n))).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = agent(args);
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.session.address).stdin(Stdio::null());
        c
    }

    fn output(&self, args: &[&str]) -> (i32, String) {
        let out = self.cmd(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    fn show(&self) -> Value {
        let (code, text) =
            self.output(&["licence", "show", "--json", "--config", &self.config(), "--data-dir", &self.data()]);
        if code != 0 {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    fn run(&self) -> Proc {
        Proc::spawn("meterdeck-agent", &mut self.cmd(&["run", "--config", &self.config(), "--data-dir", &self.data()]))
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn the_agent_fetches_verifies_and_enforces_its_licence() {
    let rt = runtime();
    let licence = Arc::new(Mutex::new(String::new()));
    let api = stand_in(&rt, licence.clone());
    let key = signing_key(&[5; 32]);
    let mut session = Session::start();
    session.start_keyring();
    let site = Site { session, dir: tempfile::tempdir().unwrap() };
    std::fs::write(site.config(), format!("[agent]\nname = \"lic\"\n\n{}", instruments(3))).unwrap();

    // Login pins the key and the account; no secret in the file.
    let extra = ["--config", &site.config(), "--api", &api, "--account", "acme"];
    agent_login(&site.session.address, "gw-1", SECRET, 9, &extra).expect("cloud login");
    let text = std::fs::read_to_string(site.config()).unwrap();
    assert!(text.contains("licence_key = \"md-ed25519:") && text.contains(&api) && !text.contains(SECRET), "{text}");

    // The running agent fetches the Free licence at start and keeps it.
    *licence.lock().unwrap() = sign(&doc("L-1", "acme", Plan::Free, now()), &key);
    let mut run = site.run();
    wait_until(Duration::from_secs(30), "the licence fetched at start", || {
        site.show()["checks"].as_array().is_some_and(|c| c.iter().any(|c| c["source"] == "cloud" && c["ok"] == true))
    });
    let v = site.show();
    assert_eq!((v["plan"].as_str(), v["serial"].as_str()), (Some("free"), Some("L-1")), "{v}");
    run.terminate(Duration::from_secs(10));

    // One instrument more than Free allows: refused at start, by name.
    site.set_instruments(4);
    let (code, out) = site.output(&["run", "--config", &site.config(), "--data-dir", &site.data()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the Free plan allows 3 instruments per agent")
            && out.contains("this agent has 3 and the change asks for 4")
            && out.contains("Standard or Pro licence card"),
        "{out}"
    );

    // A Standard licence from the cloud lifts it.
    *licence.lock().unwrap() = sign(&doc("L-2", "acme", Plan::Standard, now()), &key);
    let (code, out) = site.output(&["licence", "fetch", "--config", &site.config(), "--data-dir", &site.data()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("L-2") && out.contains("Standard"), "{out}");
    let mut run = site.run();
    wait_until(Duration::from_secs(30), "the agent running with 4 instruments", || {
        let (_, text) = site.output(&["status", "--data-dir", &site.data()]);
        text.contains("m3")
    });
    run.terminate(Duration::from_secs(10));
    let (code, out) = site.output(&["licence", "show", "--config", &site.config(), "--data-dir", &site.data()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Standard") && out.contains("days left") && out.contains("8 instruments per agent"), "{out}");

    // `licence verify` names each way a file is wrong; none changes the licence in force.
    let dir = site.dir.path();
    let good = sign(&doc("L-3", "acme", Plan::Pro, now()), &key);
    let mut file: Value = serde_json::from_str(&good).unwrap();
    let mut payload = base64::engine::general_purpose::STANDARD.decode(file["payload"].as_str().unwrap()).unwrap();
    let at = payload.iter().position(|b| *b == b'L').unwrap();
    payload[at] = b'M';
    file["payload"] = Value::String(base64::engine::general_purpose::STANDARD.encode(payload));
    let cases = [
        ("good.json", good.clone(), None),
        ("flipped.json", file.to_string(), Some("was altered")),
        ("wrong-key.json", sign(&doc("L-4", "acme", Plan::Pro, now()), &signing_key(&[6; 32])), Some("signed by key")),
        ("cut.json", good[..good.len() / 2].to_string(), Some("cut short")),
        ("other.json", sign(&doc("L-5", "globex", Plan::Pro, now()), &key), Some("belongs to account \"globex\"")),
        (
            "future.json",
            sign(&doc("L-6", "acme", Plan::Pro, now() + 2 * DAY), &key),
            Some("after this computer's clock"),
        ),
    ];
    for (name, text, refusal) in cases {
        let path = write(dir, name, &text);
        let (code, out) = site.output(&["licence", "verify", &path, "--config", &site.config()]);
        match refusal {
            None => assert!(code == 0 && out.contains("valid licence L-3") && out.contains("Pro plan"), "{out}"),
            Some(why) => {
                assert_ne!(code, 0, "{name}: {out}");
                assert!(out.contains(why) && out.contains(name), "{name}: {out}");
            }
        }
    }
    // A tampered document from the cloud is refused; L-2 stays in force.
    *licence.lock().unwrap() = file.to_string();
    let (code, out) = site.output(&["licence", "fetch", "--config", &site.config(), "--data-dir", &site.data()]);
    assert!(code != 0 && out.contains("altered"), "{out}");
    let v = site.show();
    assert_eq!((v["plan"].as_str(), v["serial"].as_str()), (Some("standard"), Some("L-2")), "{v}");
    assert_eq!(v["last_check"]["ok"], false, "{v}");
}
