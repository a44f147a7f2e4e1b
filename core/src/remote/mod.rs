//! Remote commands from the cloud (issue 16, docs/protocol.md "Remote
//! commands"): the sync drain hands each `down/cmd` payload here; it is
//! verified (the cloud's signature with the pinned key, this agent, not
//! expired, not seen before), checked against the owner's consent for the
//! instrument and the console holds, carried out between two polls, and
//! answered on `up/reply`. Every command, done or refused, is an event in
//! the agent's journal (events sync up to the cloud).
//!
//! Consent is a store setting ([`CONSENT_KEY`]) only the local user
//! changes (the window's instrument form, `meterdeck-agent consent`):
//! nothing a command carries can change it.
//!
//! Instrument settings (add, edit, remove, poll interval) go to the owner
//! of the configuration file as the window's editor's edits
//! ([`settings`]); the owner restarts the agent once the reply is out.

pub mod consent;
pub mod settings;

use std::collections::HashMap;
use std::sync::Mutex;

use ed25519_dalek::VerifyingKey;
use meterdeck_wire::i18n::Text;
use meterdeck_wire::remote::{self, Action, Command, RemoteError, Reply, ReplyStatus};
use tokio::sync::{mpsc, oneshot};

use crate::control::{ConsoleHold, ControlAction};
use crate::model::{Event, EventKind, TimeMs, now_ms};
use crate::poll::{ActionReply, Control};
use crate::store::Store;

pub use consent::{CONSENT_KEY, REMOTE_HOLDS_KEY, has_consent, remote_holder, set_consent};
pub use settings::{ConfigEdits, EditAnswer, EditRefused, EditRequest, InstrumentEdit};

/// Command ids seen, until they expire (replays are refused). One map for
/// the process: a settings change restarts the agent, and a command seen
/// before the restart stays seen.
fn seen_ids() -> &'static Mutex<HashMap<String, TimeMs>> {
    static SEEN: std::sync::OnceLock<Mutex<HashMap<String, TimeMs>>> = std::sync::OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// A handled command: the reply to publish, and (after a settings change)
/// what to drop once the reply is on its way: the configuration's owner
/// then restarts the agent.
pub(crate) struct Handled {
    pub reply: Reply,
    pub after_reply: Option<oneshot::Sender<()>>,
}

/// Work on the agent's store, run by the writer that owns it (the sync
/// drain carries commands out but holds no store). Its own type, so this
/// module needs nothing of `sync`.
pub struct StoreJob(pub Box<dyn FnOnce(&mut Store) + Send>);

/// What the drain needs to carry out commands.
#[derive(Clone)]
pub struct RemoteExec {
    pub agent: String,
    /// The cloud's key (pinned at `cloud login`); none: every command is refused.
    pub key: Option<VerifyingKey>,
    pub(crate) controls: HashMap<String, mpsc::Sender<Control>>,
    /// The owner of the configuration file; none: settings answer `unsupported`.
    edits: Option<ConfigEdits>,
    /// Ids seen, until they expire (replays are refused).
    seen: &'static Mutex<HashMap<String, TimeMs>>,
}

impl RemoteExec {
    pub(crate) fn new(
        agent: String,
        key: Option<VerifyingKey>,
        controls: HashMap<String, mpsc::Sender<Control>>,
        edits: Option<ConfigEdits>,
    ) -> RemoteExec {
        RemoteExec { agent, key, controls, edits, seen: seen_ids() }
    }

    /// Verifies, checks, carries out and journals one command; the reply
    /// to publish. `W` is the writer's message type (which owns the store).
    pub(crate) async fn handle<W: From<StoreJob> + Send + 'static>(
        &self,
        payload: &[u8],
        writer: &mpsc::Sender<W>,
    ) -> Handled {
        let now = now_ms();
        let cmd = match self.open(payload, now) {
            Ok(c) => c,
            Err((code, why)) => {
                let id = remote::peek_id(payload).unwrap_or_default();
                let text = Text::new("evt.remoteInvalid").arg("id", &id).text_arg("error", why.clone());
                tracing::warn!("{}", text.render("en"));
                journal(writer, None, text).await;
                return Handled { reply: Reply::refused(&id, code, why.render("en")), after_reply: None };
            }
        };
        let mut outcome = self.carry_out(&cmd, writer).await;
        let what = match &cmd.action {
            Action::Console { line, .. } => Text::new("evt.remoteConsole").arg("line", line.as_str()),
            Action::Start { .. } => Text::new("evt.remoteStart"),
            Action::Stop { .. } => Text::new("evt.remoteStop"),
            Action::FastMonitor { .. } => Text::new("evt.remoteFastMonitor"),
            a => Text::new("evt.remoteSettings").arg("action", a.name().replace('_', " ")),
        };
        let result = match outcome.status {
            ReplyStatus::Done => Text::new("evt.remoteDone"),
            ReplyStatus::Refused => {
                Text::new("evt.remoteRefused").arg("code", outcome.code).text_arg("message", outcome.message.clone())
            }
            ReplyStatus::Failed => {
                Text::new("evt.remoteFailed").arg("code", outcome.code).text_arg("message", outcome.message.clone())
            }
        };
        let inst = Some(cmd.action.instrument().to_string()).filter(|i| i != remote::ANY_INSTRUMENT);
        let entry = Text::new("evt.remoteCommand")
            .text_arg("what", what)
            .arg("user", cmd.user.as_str())
            .arg("role", cmd.role.to_string())
            .text_arg("outcome", result);
        journal(writer, inst, entry).await;
        let after_reply = outcome.after_reply.take();
        Handled { reply: outcome.reply(&cmd.id), after_reply }
    }

    /// The command, or the refusal's code and why.
    fn open(&self, payload: &[u8], now: TimeMs) -> Result<Command, (&'static str, Text)> {
        let Some(key) = &self.key else {
            return Err((RemoteError::Invalid(String::new()).code(), Text::new("evt.remoteNoKey")));
        };
        let plain = |e: RemoteError| (e.code(), Text::plain(e.to_string()));
        let cmd = remote::open(payload, key, &self.agent, now).map_err(plain)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, exp| *exp >= now);
        if seen.insert(cmd.id.clone(), cmd.expires_ms).is_some() {
            return Err(plain(RemoteError::Replay(cmd.id)));
        }
        Ok(cmd)
    }

    async fn carry_out<W: From<StoreJob> + Send + 'static>(&self, cmd: &Command, writer: &mpsc::Sender<W>) -> Outcome {
        let inst = cmd.action.instrument().to_string();
        let hold = match cmd.action {
            Action::Console { .. } => Hold::Take,
            // As the window's control buttons: not while another operates it.
            Action::Start { .. } | Action::Stop { .. } => Hold::Respect,
            _ => Hold::Ignore,
        };
        let user = cmd.user.clone();
        let gone = || Outcome::failed("stopped", Text::new("evt.remoteStopping"));
        // Consent and holds are read (and a remote console hold taken) by
        // the writer, which owns the store.
        let checked = with_store(writer, move |s| admit(s, &inst, &user, hold, now_ms())).await;
        match checked {
            None => return gone(),
            Some(Err((code, message))) => return Outcome::refused(code, message),
            Some(Ok(())) => {}
        }
        if let Some(edit) = settings::edit_of(&cmd.action) {
            return self.edit(edit, writer).await;
        }
        let inst = cmd.action.instrument();
        let Some(control) = self.controls.get(inst) else {
            return Outcome::refused(
                "unknown_instrument",
                Text::new("evt.remoteUnknownInstrument").arg("instrument", inst),
            );
        };
        match &cmd.action {
            Action::Console { line, .. } => {
                let (tx, rx) = oneshot::channel();
                if control.send(Control::Raw { command: line.trim().to_string(), reply: tx }).await.is_err() {
                    return gone();
                }
                match rx.await {
                    Ok(Ok(out)) => Outcome::done(Text::new("evt.remoteSent").arg("instrument", inst), out),
                    Ok(Err(e)) => Outcome::failed("instrument_error", Text::plain(e.to_string())),
                    Err(_) => gone(),
                }
            }
            Action::Start { .. } | Action::Stop { .. } => {
                let action =
                    if matches!(cmd.action, Action::Start { .. }) { ControlAction::Start } else { ControlAction::Stop };
                let (tx, rx) = oneshot::channel();
                if control.send(Control::Action { action, reply: ActionReply::Handle(tx) }).await.is_err() {
                    return gone();
                }
                match rx.await {
                    Ok(Ok(o)) => Outcome::done(Text::plain(o.message), None),
                    Ok(Err(e)) => Outcome::failed("instrument_error", Text::plain(e.to_string())),
                    Err(_) => gone(),
                }
            }
            Action::FastMonitor { on, .. } => {
                if control.send(Control::Fast { on: *on, at: now_ms() }).await.is_err() {
                    return gone();
                }
                let key = if *on { "evt.remoteFastOn" } else { "evt.remoteFastOff" };
                Outcome::done(Text::new(key).arg("instrument", inst), None)
            }
            _ => unreachable!("settings actions answered above"),
        }
    }

    /// A settings command, after consent: the owner of the configuration
    /// validates and saves it as a local edit.
    async fn edit<W: From<StoreJob> + Send + 'static>(
        &self,
        edit: Result<InstrumentEdit, String>,
        writer: &mpsc::Sender<W>,
    ) -> Outcome {
        let edit = match edit {
            Ok(e) => e,
            Err(why) => return Outcome::refused("invalid", Text::plain(why)),
        };
        let Some(edits) = &self.edits else {
            return Outcome::failed("unsupported", Text::new("evt.remoteUnsupported"));
        };
        let (answer, rx) = oneshot::channel();
        let gone = || Outcome::failed("stopped", Text::new("evt.remoteStopping"));
        if edits.send(EditRequest { edit: edit.clone(), answer }).await.is_err() {
            return gone();
        }
        let after_reply = match rx.await {
            Err(_) => return gone(),
            Ok(Err(refused)) => return Outcome::refused(refused.code, Text::plain(refused.message)),
            Ok(Ok(after)) => after,
        };
        // The consent was for the instrument as it was: a removed or
        // renamed instrument's consent goes (an instrument added later
        // under that id starts without it).
        let dropped = match &edit {
            InstrumentEdit::Remove { id } => Some(id.clone()),
            InstrumentEdit::Save { config, replace_id: Some(old) } if *old != config.id => Some(old.clone()),
            _ => None,
        };
        if let Some(id) = dropped {
            with_store(writer, move |s| {
                if let Err(e) = set_consent(s, &id, false) {
                    tracing::warn!("consent of removed instrument {id} not cleared: {e}");
                }
            })
            .await;
        }
        let key = match edit {
            InstrumentEdit::Save { replace_id: None, .. } => "evt.remoteAdded",
            InstrumentEdit::Remove { .. } => "evt.remoteRemoved",
            _ => "evt.remoteSaved",
        };
        let mut done = Outcome::done(Text::new(key).arg("instrument", edit.instrument()), None);
        done.after_reply = Some(after_reply);
        done
    }
}

/// What came of a command: the reply's fields, with its message as a
/// translatable text (the journal keeps the text; the reply carries English).
struct Outcome {
    status: ReplyStatus,
    code: &'static str,
    message: Text,
    output: Option<String>,
    /// Dropped once the reply is out (a settings change restarts the agent then).
    after_reply: Option<oneshot::Sender<()>>,
}

impl Outcome {
    fn done(message: Text, output: Option<String>) -> Outcome {
        Outcome { status: ReplyStatus::Done, code: "ok", message, output, after_reply: None }
    }
    fn refused(code: &'static str, message: Text) -> Outcome {
        Outcome { status: ReplyStatus::Refused, code, message, output: None, after_reply: None }
    }
    fn failed(code: &'static str, message: Text) -> Outcome {
        Outcome { status: ReplyStatus::Failed, code, message, output: None, after_reply: None }
    }
    fn reply(self, id: &str) -> Reply {
        let message = self.message.render("en");
        match self.status {
            ReplyStatus::Done => Reply::done(id, message, self.output),
            ReplyStatus::Refused => Reply::refused(id, self.code, message),
            ReplyStatus::Failed => Reply::failed(id, self.code, message),
        }
    }
}

/// Runs `f` on the writer's store; `None` when the writer is gone.
async fn with_store<W, T>(writer: &mpsc::Sender<W>, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> Option<T>
where
    W: From<StoreJob> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job = Box::new(move |s: &mut Store| {
        let _ = tx.send(f(s));
    });
    writer.send(StoreJob(job).into()).await.ok()?;
    rx.await.ok()
}

/// Records a journal event (it syncs up as an instrument event).
async fn journal<W: From<StoreJob> + Send + 'static>(writer: &mpsc::Sender<W>, inst: Option<String>, text: Text) {
    let _ = with_store(writer, move |s| {
        if let Err(e) = s.record_event(&Event::said(now_ms(), inst, EventKind::Control, text)) {
            tracing::warn!("remote command not journaled: {e}");
        }
    })
    .await;
}

/// What a command does with the instrument's console hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hold {
    /// The console: one operator at a time; takes or renews the remote hold.
    Take,
    /// Start and stop: refused while someone else operates the console
    /// (the window refuses its own buttons so too); takes no hold.
    Respect,
    /// Settings.
    Ignore,
}

/// The owner's consent, then (console, start, stop) one operator at a
/// time: refused while the window holds the console or another remote
/// user does; the console's user takes or renews the remote hold the
/// window shows.
fn admit(store: &mut Store, instrument: &str, user: &str, hold: Hold, now: TimeMs) -> Result<(), (&'static str, Text)> {
    let consents = store.setting(CONSENT_KEY).ok().flatten();
    if !has_consent(consents.as_deref(), instrument) {
        let key = if instrument == remote::ANY_INSTRUMENT { "evt.remoteNoConsentAdd" } else { "evt.remoteNoConsent" };
        return Err(("no_consent", Text::new(key).arg("instrument", instrument)));
    }
    if hold == Hold::Ignore {
        return Ok(());
    }
    let idle = crate::control::requests::CONSOLE_IDLE_MS;
    let held = |key: &str, h: &ConsoleHold| {
        Text::new(key)
            .arg("instrument", instrument)
            .arg("operator", h.operator.as_str())
            .arg("since", crate::fmt::format_time(h.since))
    };
    let window = store.setting(crate::control::CONSOLE_HOLDS_KEY).ok().flatten();
    if let Some(h) = crate::control::requests::console_hold(window.as_deref(), instrument, now, idle) {
        return Err(("console_held", held("evt.remoteHeldLocal", &h)));
    }
    let text = store.setting(REMOTE_HOLDS_KEY).ok().flatten();
    let mut holds: Vec<ConsoleHold> = text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    holds.retain(|h| now - h.last_used < idle);
    match holds.iter_mut().find(|h| h.instrument == instrument) {
        Some(h) if h.operator != user => return Err(("console_held", held("evt.remoteHeldRemote", h))),
        _ if hold == Hold::Respect => return Ok(()),
        Some(h) => h.last_used = now,
        None => {
            holds.push(ConsoleHold { instrument: instrument.into(), operator: user.into(), since: now, last_used: now })
        }
    }
    let json = serde_json::to_string(&holds).unwrap_or_else(|_| "[]".into());
    store
        .set_setting(REMOTE_HOLDS_KEY, &json)
        .map_err(|e| ("store", Text::new("evt.remoteHoldNotKept").arg("error", e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[test]
    fn consent_then_one_operator_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("m.db"), StoreOptions::default()).unwrap();
        let e = admit(&mut s, "log", "ann@example.com", Hold::Take, 1_000).unwrap_err();
        assert_eq!(e.0, "no_consent");
        let m = e.1.render("en");
        assert!(m.contains("not allowed remote access to instrument `log`"), "{m}");
        assert!(e.1.render("de").contains("`log`"), "every language names the instrument");
        set_consent(&mut s, "log", true).unwrap();
        admit(&mut s, "log", "ann@example.com", Hold::Take, 1_000).unwrap();
        let holder = remote_holder(s.setting(REMOTE_HOLDS_KEY).unwrap().as_deref(), "log", 2_000).unwrap();
        assert_eq!(holder.operator, "ann@example.com");
        let e = admit(&mut s, "log", "bob@example.com", Hold::Take, 2_000).unwrap_err();
        let m = e.1.render("en");
        assert!(e.0 == "console_held" && m.contains("operated remotely by ann@example.com"), "{m}");
        // Start and stop: not by another while ann operates it; she may, and takes no new hold.
        assert_eq!(admit(&mut s, "log", "bob@example.com", Hold::Respect, 2_000).unwrap_err().0, "console_held");
        let before = s.setting(REMOTE_HOLDS_KEY).unwrap();
        admit(&mut s, "log", "ann@example.com", Hold::Respect, 2_100).unwrap();
        assert_eq!(s.setting(REMOTE_HOLDS_KEY).unwrap(), before, "start/stop renews no hold");
        // Settings do not care who operates the console.
        admit(&mut s, "log", "bob@example.com", Hold::Ignore, 2_000).unwrap();
        // The window's hold wins over a remote user.
        let window = serde_json::to_string(&[ConsoleHold {
            instrument: "log".into(),
            operator: "carl".into(),
            since: 1,
            last_used: 2_500,
        }])
        .unwrap();
        s.set_setting(crate::control::CONSOLE_HOLDS_KEY, &window).unwrap();
        let e = admit(&mut s, "log", "ann@example.com", Hold::Take, 3_000).unwrap_err();
        let m = e.1.render("en");
        assert!(m.contains("operated at the site by carl"), "{m}");
        let e = admit(&mut s, "log", "ann@example.com", Hold::Respect, 3_000).unwrap_err();
        assert!(e.1.render("en").contains("operated at the site by carl"));
        set_consent(&mut s, "log", false).unwrap();
        assert_eq!(admit(&mut s, "log", "ann@example.com", Hold::Ignore, 3_000).unwrap_err().0, "no_consent");
    }

    #[test]
    fn every_remote_text_is_in_the_locales() {
        // The journal and the reply render these; a missing key would show its id.
        for key in [
            "evt.remoteCommand",
            "evt.remoteConsole",
            "evt.remoteDone",
            "evt.remoteFailed",
            "evt.remoteFastMonitor",
            "evt.remoteFastOff",
            "evt.remoteFastOn",
            "evt.remoteHeldLocal",
            "evt.remoteHeldRemote",
            "evt.remoteHoldNotKept",
            "evt.remoteInvalid",
            "evt.remoteNoConsent",
            "evt.remoteNoConsentAdd",
            "evt.remoteNoKey",
            "evt.remoteRefused",
            "evt.remoteSent",
            "evt.remoteSettings",
            "evt.remoteStart",
            "evt.remoteStop",
            "evt.remoteStopping",
            "evt.remoteUnknownInstrument",
            "evt.remoteUnsupported",
            "evt.remoteAdded",
            "evt.remoteSaved",
            "evt.remoteRemoved",
        ] {
            assert!(meterdeck_wire::i18n::has(key), "{key} is not in locales/*/ui.ftl");
        }
        let t = Text::new("evt.remoteCommand")
            .text_arg("what", Text::new("evt.remoteConsole").arg("line", "*IDN?"))
            .arg("user", "ann@example.com")
            .arg("role", "member")
            .text_arg("outcome", Text::new("evt.remoteDone"));
        assert_eq!(t.render("en"), "remote console `*IDN?` by ann@example.com (member) from the cloud: done");
        assert!(t.render("ja").contains("ann@example.com") && t.render("ja") != t.render("en"));
    }
}
