//! Remote instrument settings (issue 16) through the command handler and
//! the configuration file's owner, as `meterdeck-agent run` wires them: a
//! signed command -> consent -> the editor's edit -> the file rewritten
//! (or, refused, left byte for byte as it was) -> the agent restarted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ed25519_dalek::SigningKey;
use meterdeck_wire::remote::{Action, Command, Reply, ReplyStatus, seal};
use serde_json::json;
use tokio::sync::mpsc;

use super::FileEdits;
use crate::agent::STORE_PARTS;
use crate::config::{AgentConfig, STORE_FILE};
use crate::model::now_ms;
use crate::poll::Control;
use crate::remote::{EditRequest, RemoteExec, StoreJob, set_consent};
use crate::store::{Store, StoreOptions};

const AGENT: &str = "a-0123456789abcdef";
const CONFIG: &str = r#"[agent]
name = "site"

[[instrument]]
id = "a"
family = "scpi"
enabled = false
transport = { kind = "tcp", host = "127.0.0.1", port = 9 }

[[instrument]]
id = "b"
family = "scpi"
enabled = false
transport = { kind = "tcp", host = "127.0.0.1", port = 10 }
"#;

struct Site {
    path: PathBuf,
    exec: RemoteExec,
    writer: mpsc::Sender<StoreJob>,
    key: SigningKey,
    restarts: Arc<AtomicUsize>,
    control: mpsc::Receiver<Control>,
    n: usize,
}

impl Site {
    fn start(dir: &Path, with_owner: bool) -> Site {
        let path = dir.join("agent.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut store = Store::open_with(&data.join(STORE_FILE), StoreOptions::default(), STORE_PARTS).unwrap();
        // The agent's writer: owns the store, runs the handler's jobs.
        let (writer, mut jobs) = mpsc::channel::<StoreJob>(16);
        std::thread::spawn(move || {
            while let Some(job) = jobs.blocking_recv() {
                (job.0)(&mut store);
            }
        });
        // The owner of the file, as `meterdeck-agent run` is.
        let restarts = Arc::new(AtomicUsize::new(0));
        let edits = with_owner.then(|| {
            let (tx, mut rx) = mpsc::channel::<EditRequest>(4);
            let files = FileEdits::new(path.clone(), data.clone(), true);
            let mut cfg = AgentConfig::load(&path).unwrap();
            let restarted = restarts.clone();
            tokio::spawn(async move {
                while let Some(req) = rx.recv().await {
                    match files.save(&cfg, &req.edit) {
                        Err(refused) => {
                            let _ = req.answer.send(Err(refused));
                        }
                        Ok(next) => {
                            let (after, after_rx) = tokio::sync::oneshot::channel();
                            let _ = req.answer.send(Ok(after));
                            // Restarts only once the reply is out.
                            let _ = after_rx.await;
                            restarted.fetch_add(1, Ordering::SeqCst);
                            cfg = next;
                        }
                    }
                }
            });
            tx
        });
        let key = meterdeck_wire::licence::signing_key(&[9; 32]);
        let (control_tx, control) = mpsc::channel(4);
        let controls = HashMap::from([("a".to_string(), control_tx)]);
        let exec = RemoteExec::new(AGENT.into(), Some(key.verifying_key()), controls, edits);
        Site { path, exec, writer, key, restarts, control, n: 0 }
    }

    /// Sends one command as `role` and returns the reply (after the
    /// handler let go of the restart, as the sync drain does once the
    /// reply is queued).
    async fn send(&mut self, role: &str, action: Action) -> Reply {
        self.n += 1;
        let now = now_ms();
        let cmd = Command {
            v: 1,
            id: format!("cmd-{}-{}", self.n, now),
            agent: AGENT.into(),
            user: "ann@example.com".into(),
            role: role.into(),
            issued_ms: now,
            expires_ms: now + 60_000,
            action,
        };
        let handled = self.exec.handle(&seal(&cmd, &self.key), &self.writer).await;
        drop(handled.after_reply);
        handled.reply
    }

    async fn consent(&self, instrument: &str, on: bool) {
        let inst = instrument.to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = StoreJob(Box::new(move |s: &mut Store| {
            set_consent(s, &inst, on).unwrap();
            let _ = tx.send(());
        }));
        self.writer.send(job).await.unwrap();
        rx.await.unwrap();
    }

    async fn with_store<T: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = StoreJob(Box::new(move |s: &mut Store| {
            let _ = tx.send(f(s));
        }));
        self.writer.send(job).await.unwrap();
        rx.await.unwrap()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }

    fn config(&self) -> AgentConfig {
        AgentConfig::load(&self.path).unwrap()
    }

    fn restarts(&self) -> usize {
        self.restarts.load(Ordering::SeqCst)
    }

    /// The agent's journal.
    async fn journal(&self) -> Vec<String> {
        let ev = self.with_store(|s| s.events(None, None, 1000).unwrap()).await;
        ev.into_iter().map(|e| e.message).collect()
    }
}

fn tcp(host: &str, port: u16) -> serde_json::Value {
    json!({"kind": "tcp", "host": host, "port": port})
}

/// Refused, with this code, the message containing `says`; nothing saved.
async fn refused(site: &mut Site, role: &str, action: Action, code: &str, says: &str) {
    let before = site.text();
    let restarts = site.restarts();
    let r = site.send(role, action.clone()).await;
    assert_eq!((r.status, r.code.as_str()), (ReplyStatus::Refused, code), "{action:?}: {r:?}");
    assert!(r.message.contains(says), "{action:?}: {}", r.message);
    assert_eq!(site.text(), before, "{action:?} changed the file");
    assert_eq!(site.restarts(), restarts, "{action:?} restarted the agent");
}

async fn done(site: &mut Site, action: Action, says: &str) {
    let restarts = site.restarts();
    let r = site.send("admin", action.clone()).await;
    assert_eq!(r.status, ReplyStatus::Done, "{action:?}: {r:?}");
    assert!(r.message.contains(says), "{action:?}: {}", r.message);
    // The owner restarts the agent once the reply is out.
    for _ in 0..100 {
        if site.restarts() > restarts {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{action:?}: the agent was not restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_interval_needs_consent_and_is_saved_as_a_local_edit() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = Site::start(dir.path(), true);
    let poll = |seconds| Action::PollInterval { instrument: "a".into(), seconds };
    refused(&mut site, "admin", poll(5), "no_consent", "has not allowed remote access to instrument `a`").await;
    site.consent("a", true).await;
    // Settings are an admin's.
    refused(&mut site, "member", poll(5), "forbidden", "needs admin").await;
    // Out of range: refused before anything is looked at.
    refused(&mut site, "admin", poll(0), "bad_command", "1 to 3600").await;
    refused(&mut site, "admin", Action::PollInterval { instrument: "zz".into(), seconds: 5 }, "no_consent", "`zz`")
        .await;
    done(&mut site, poll(5), "instrument `a`: configuration saved").await;
    let cfg = site.config();
    assert_eq!(cfg.instruments[0].poll_interval, Some(std::time::Duration::from_secs(5)));
    assert_eq!(cfg.instruments[1].poll_interval, None, "nothing else changed");
    assert_eq!(cfg.agent.name, "site", "the [agent] table is kept");
    let journal = site.journal().await;
    assert!(
        journal.iter().any(|m| m == "remote poll interval by ann@example.com (admin) from the cloud: done"),
        "{journal:?}"
    );
    assert!(journal.iter().any(|m| m.contains("no_consent")), "the refusal is journaled too: {journal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_remove_need_the_instruments_consent_and_bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = Site::start(dir.path(), true);
    let edit = |config: serde_json::Value| Action::EditInstrument { instrument: "a".into(), config };
    let good = json!({"family": "scpi", "name": "Bench DMM", "enabled": false, "transport": tcp("10.0.0.7", 5025)});
    refused(&mut site, "admin", edit(good.clone()), "no_consent", "`a`").await;
    site.consent("a", true).await;
    // Bad input: the editor's own messages, the file untouched.
    let bad_family = json!({"family": "nope", "transport": tcp("10.0.0.7", 5025)});
    refused(&mut site, "admin", edit(bad_family), "invalid", "config: ").await;
    refused(&mut site, "admin", edit(json!({"family": "scpi"})), "invalid", "transport").await;
    let taken = json!({"id": "b", "family": "scpi", "enabled": false, "transport": tcp("10.0.0.7", 5025)});
    refused(&mut site, "admin", edit(taken), "invalid", "already used by another instrument").await;
    refused(&mut site, "admin", edit(json!(["not", "an", "object"])), "bad_command", "config").await;
    done(&mut site, edit(good.clone()), "instrument `a`: configuration saved").await;
    let a = site.config().instruments.into_iter().find(|i| i.id == "a").unwrap();
    assert_eq!(a.name.as_deref(), Some("Bench DMM"));
    assert!(site.text().contains("10.0.0.7"), "{}", site.text());

    // Renamed: the consent was for `a`; `a2` starts without one.
    let renamed = json!({"id": "a2", "family": "scpi", "enabled": false, "transport": tcp("10.0.0.7", 5025)});
    done(&mut site, edit(renamed), "instrument `a2`: configuration saved").await;
    let consents = site.with_store(|s| crate::remote::consent::consents(s).unwrap()).await;
    assert!(consents.is_empty(), "{consents:?}");
    let ids: Vec<String> = site.config().instruments.into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["a2", "b"]);
    refused(&mut site, "admin", edit(good.clone()), "no_consent", "`a`").await;
    let back = json!({"id": "a", "family": "scpi", "enabled": false, "transport": tcp("10.0.0.7", 5025)});
    site.consent("a2", true).await;
    let edit2 = Action::EditInstrument { instrument: "a2".into(), config: back };
    done(&mut site, edit2, "instrument `a`: configuration saved").await;
    site.consent("a", true).await;

    // Remove: b has no consent; a does, and its consent goes with it.
    let remove = |id: &str| Action::RemoveInstrument { instrument: id.into() };
    refused(&mut site, "admin", remove("b"), "no_consent", "`b`").await;
    done(&mut site, remove("a"), "instrument `a` removed").await;
    let ids: Vec<String> = site.config().instruments.into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["b"]);
    let consents = site.with_store(|s| crate::remote::consent::consents(s).unwrap()).await;
    assert!(consents.is_empty(), "a removed instrument keeps no consent: {consents:?}");
    // Gone: a second removal is refused (no consent for what is not there).
    refused(&mut site, "admin", remove("a"), "no_consent", "`a`").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_needs_the_agent_wide_consent() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = Site::start(dir.path(), true);
    let add = |config: serde_json::Value| Action::AddInstrument { config };
    let c = json!({"id": "c", "family": "scpi", "enabled": false, "transport": tcp("127.0.0.1", 11), "poll_interval": "2s"});
    // Consent to every instrument is not consent to adding one.
    site.consent("a", true).await;
    site.consent("b", true).await;
    refused(&mut site, "admin", add(c.clone()), "no_consent", "has not allowed adding instruments remotely").await;
    site.consent(meterdeck_wire::remote::ANY_INSTRUMENT, true).await;
    refused(&mut site, "member", add(c.clone()), "forbidden", "needs admin").await;
    let dup = json!({"id": "a", "family": "scpi", "transport": tcp("127.0.0.1", 11)});
    refused(&mut site, "admin", add(dup), "invalid", "`id` is already used").await;
    refused(
        &mut site,
        "admin",
        add(json!({"id": "", "family": "scpi", "transport": tcp("127.0.0.1", 11)})),
        "invalid",
        "id",
    )
    .await;
    done(&mut site, add(c), "instrument `c` added").await;
    let cfg = site.config();
    let c = cfg.instruments.iter().find(|i| i.id == "c").expect("c added");
    assert_eq!(c.poll_interval, Some(std::time::Duration::from_secs(2)));
    assert_eq!(cfg.instruments.len(), 3);
    // The new instrument has no consent of its own.
    let consents = site.with_store(|s| crate::remote::consent::consents(s).unwrap()).await;
    assert!(!consents.contains(&"c".to_string()), "{consents:?}");
    // The owner turns adding off again: refused.
    site.consent(meterdeck_wire::remote::ANY_INSTRUMENT, false).await;
    let d = json!({"id": "d", "family": "scpi", "transport": tcp("127.0.0.1", 12)});
    refused(&mut site, "admin", add(d), "no_consent", "adding instruments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_monitor_needs_consent_and_reaches_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = Site::start(dir.path(), true);
    let fast = |on| Action::FastMonitor { instrument: "a".into(), on };
    refused(&mut site, "admin", fast(true), "no_consent", "`a`").await;
    assert!(site.control.try_recv().is_err(), "nothing reached the poller");
    site.consent("a", true).await;
    let r = site.send("admin", fast(true)).await;
    assert_eq!(r.status, ReplyStatus::Done, "{r:?}");
    assert!(matches!(site.control.try_recv(), Ok(Control::Fast { on: true, .. })));
    let r = site.send("admin", fast(false)).await;
    assert_eq!(r.status, ReplyStatus::Done, "{r:?}");
    assert!(matches!(site.control.try_recv(), Ok(Control::Fast { on: false, .. })));
    assert_eq!(site.restarts(), 0, "fast monitor is no configuration change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_owner_settings_say_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = Site::start(dir.path(), false);
    site.consent("a", true).await;
    let before = site.text();
    let r = site.send("admin", Action::PollInterval { instrument: "a".into(), seconds: 5 }).await;
    assert_eq!((r.status, r.code.as_str()), (ReplyStatus::Failed, "unsupported"), "{r:?}");
    assert_eq!(site.text(), before);
}

/// The window's side: the desk takes the edit through its own editing
/// path, refuses bad input with the editor's message, restarts the agent
/// once the reply is out and tells the window to list its instruments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_applies_a_remote_edit_as_its_own() {
    use crate::remote::InstrumentEdit;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let opts = crate::agent::AgentOptions {
        secrets: Arc::new(crate::notify::MemorySecrets::new()),
        ..crate::agent::AgentOptions::default()
    };
    let desk = Arc::new(super::Desk::open_with(&dir.path().join("data"), &path, false, opts).await.unwrap());
    desk.serve_remote_edits();
    let edits = desk.agent_opts.config_edits.clone().expect("the desk owns the configuration");
    let mut live = desk.subscribe();
    let ask = |edit| {
        let edits = edits.clone();
        async move {
            let (answer, rx) = tokio::sync::oneshot::channel();
            edits.send(EditRequest { edit, answer }).await.unwrap();
            rx.await.unwrap()
        }
    };
    // Refused: the editor's own message; nothing written.
    let before = std::fs::read_to_string(&path).unwrap();
    let gone = ask(InstrumentEdit::PollInterval { id: "zz".into(), interval: std::time::Duration::from_secs(5) }).await;
    assert_eq!(
        gone.unwrap_err(),
        crate::remote::EditRefused { code: "unknown_instrument", message: "no instrument `zz` is configured".into() }
    );
    let mut dup = desk.config().instruments[1].clone();
    dup.id = "a".into();
    let e = ask(InstrumentEdit::Save { config: Box::new(dup), replace_id: Some("b".into()) }).await.unwrap_err();
    assert!(e.code == "invalid" && e.message.contains("already used"), "{e:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    // Saved: in effect at once (what the Instruments screen lists) and in
    // the file; the restart and the window's cue follow the reply.
    let after = ask(InstrumentEdit::PollInterval { id: "a".into(), interval: std::time::Duration::from_secs(5) })
        .await
        .expect("saved");
    let a = desk.list_instruments().unwrap().into_iter().find(|v| v.config.id == "a").unwrap();
    assert_eq!(a.poll_interval_s, 5.0);
    assert!(std::fs::read_to_string(&path).unwrap().contains("poll_interval = \"5s\""));
    drop(after);
    let cue = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            if let Ok(super::LiveEvent::Instruments) = live.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(cue.is_ok(), "the window is told to list its instruments again");
    desk.shutdown().await.unwrap();
}
