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

pub mod consent;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::VerifyingKey;
use meterdeck_wire::remote::{self, Action, Command, RemoteError, Reply};
use tokio::sync::{mpsc, oneshot};

use crate::control::{ConsoleHold, ControlAction};
use crate::model::{Event, EventKind, TimeMs, now_ms};
use crate::poll::{ActionReply, Control};
use crate::store::Store;
use crate::sync::SyncMsg;

pub use consent::{CONSENT_KEY, REMOTE_HOLDS_KEY, has_consent, remote_holder, set_consent};

/// What the drain needs to carry out commands.
#[derive(Clone)]
pub struct RemoteExec {
    pub agent: String,
    /// The cloud's key (pinned at `cloud login`); none: every command is refused.
    pub key: Option<VerifyingKey>,
    pub(crate) controls: HashMap<String, mpsc::Sender<Control>>,
    /// Ids seen, until they expire (replays are refused).
    seen: Arc<Mutex<HashMap<String, TimeMs>>>,
}

impl RemoteExec {
    pub(crate) fn new(
        agent: String,
        key: Option<VerifyingKey>,
        controls: HashMap<String, mpsc::Sender<Control>>,
    ) -> RemoteExec {
        RemoteExec { agent, key, controls, seen: Default::default() }
    }

    /// Verifies, checks, carries out and journals one command; the reply
    /// to publish. `W` is the writer's message type (which owns the store).
    pub(crate) async fn handle<W: From<SyncMsg> + Send + 'static>(
        &self,
        payload: &[u8],
        writer: &mpsc::Sender<W>,
    ) -> Reply {
        let now = now_ms();
        let cmd = match self.open(payload, now) {
            Ok(c) => c,
            Err(e) => {
                let id = remote::peek_id(payload).unwrap_or_default();
                let msg = format!("remote command {id} refused: {e}");
                tracing::warn!("{msg}");
                journal(writer, None, msg).await;
                return Reply::refused(&id, e.code(), e.to_string());
            }
        };
        let reply = self.carry_out(&cmd, writer).await;
        let what = match &cmd.action {
            Action::Console { line, .. } => format!("console `{line}`"),
            a => a.name().replace('_', " "),
        };
        let outcome = match reply.status {
            remote::ReplyStatus::Done => "done".to_string(),
            remote::ReplyStatus::Refused => format!("refused ({}): {}", reply.code, reply.message),
            remote::ReplyStatus::Failed => format!("failed ({}): {}", reply.code, reply.message),
        };
        let inst = Some(cmd.action.instrument().to_string()).filter(|i| i != remote::ANY_INSTRUMENT);
        journal(writer, inst, format!("remote {what} by {} ({}) from the cloud: {outcome}", cmd.user, cmd.role)).await;
        reply
    }

    fn open(&self, payload: &[u8], now: TimeMs) -> Result<Command, RemoteError> {
        let Some(key) = &self.key else {
            return Err(RemoteError::Invalid(
                "this agent has no cloud key pinned (`[cloud] licence_key`, set by `meterdeck-agent cloud login --api`), \
                 so it cannot verify commands"
                    .into(),
            ));
        };
        let cmd = remote::open(payload, key, &self.agent, now)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, exp| *exp >= now);
        if seen.insert(cmd.id.clone(), cmd.expires_ms).is_some() {
            return Err(RemoteError::Replay(cmd.id));
        }
        Ok(cmd)
    }

    async fn carry_out<W: From<SyncMsg> + Send + 'static>(&self, cmd: &Command, writer: &mpsc::Sender<W>) -> Reply {
        let id = cmd.id.as_str();
        let inst = cmd.action.instrument().to_string();
        let console = matches!(cmd.action, Action::Console { .. });
        let user = cmd.user.clone();
        // Consent and holds are read (and a remote console hold taken) by
        // the writer, which owns the store.
        let checked = with_store(writer, move |s| admit(s, &inst, &user, console, now_ms())).await;
        match checked {
            None => return Reply::failed(id, "stopped", "the agent is stopping"),
            Some(Err((code, message))) => return Reply::refused(id, code, message),
            Some(Ok(())) => {}
        }
        let inst = cmd.action.instrument();
        let control = match cmd.action {
            Action::AddInstrument { .. }
            | Action::EditInstrument { .. }
            | Action::RemoveInstrument { .. }
            | Action::PollInterval { .. } => {
                return Reply::failed(
                    id,
                    "unsupported",
                    "this agent version cannot change its instrument configuration remotely yet; change it at the site",
                );
            }
            _ => match self.controls.get(inst) {
                Some(c) => c,
                None => {
                    return Reply::refused(
                        id,
                        "unknown_instrument",
                        format!("instrument `{inst}` is not configured or not enabled on this agent"),
                    );
                }
            },
        };
        let gone = || Reply::failed(id, "stopped", "the agent is stopping");
        match &cmd.action {
            Action::Console { line, .. } => {
                let (tx, rx) = oneshot::channel();
                if control.send(Control::Raw { command: line.trim().to_string(), reply: tx }).await.is_err() {
                    return gone();
                }
                match rx.await {
                    Ok(Ok(out)) => Reply::done(id, format!("sent to `{inst}`"), out),
                    Ok(Err(e)) => Reply::failed(id, "instrument_error", e.to_string()),
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
                    Ok(Ok(o)) => Reply::done(id, o.message, None),
                    Ok(Err(e)) => Reply::failed(id, "instrument_error", e.to_string()),
                    Err(_) => gone(),
                }
            }
            Action::FastMonitor { on, .. } => {
                if control.send(Control::Fast { on: *on, at: now_ms() }).await.is_err() {
                    return gone();
                }
                let m = if *on { "fast monitor on for 10 minutes" } else { "fast monitor off" };
                Reply::done(id, format!("`{inst}`: {m}"), None)
            }
            _ => unreachable!("settings actions answered above"),
        }
    }
}

/// Runs `f` on the writer's store; `None` when the writer is gone.
async fn with_store<W, T>(writer: &mpsc::Sender<W>, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> Option<T>
where
    W: From<SyncMsg> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job = Box::new(move |s: &mut Store| {
        let _ = tx.send(f(s));
    });
    writer.send(SyncMsg::WithStore(job).into()).await.ok()?;
    rx.await.ok()
}

/// Records a journal event (it syncs up as an instrument event).
async fn journal<W: From<SyncMsg> + Send + 'static>(writer: &mpsc::Sender<W>, inst: Option<String>, message: String) {
    let _ = with_store(writer, move |s| {
        if let Err(e) = s.record_event(&Event::new(now_ms(), inst, EventKind::Control, message)) {
            tracing::warn!("remote command not journaled: {e}");
        }
    })
    .await;
}

/// The owner's consent, then (for the console) one operator at a time:
/// refused while the window holds it, else the remote user takes or renews
/// the remote hold the window shows.
fn admit(
    store: &mut Store,
    instrument: &str,
    user: &str,
    console: bool,
    now: TimeMs,
) -> Result<(), (&'static str, String)> {
    let consents = store.setting(CONSENT_KEY).ok().flatten();
    if !has_consent(consents.as_deref(), instrument) {
        let what = if instrument == remote::ANY_INSTRUMENT {
            "adding instruments".to_string()
        } else {
            format!("instrument `{instrument}`")
        };
        return Err((
            "no_consent",
            format!(
                "refused: the owner of this agent has not allowed remote access to {what}; \
                 they can allow it on the agent's machine with `meterdeck-agent consent {instrument} on`"
            ),
        ));
    }
    if !console {
        return Ok(());
    }
    let idle = crate::control::requests::CONSOLE_IDLE_MS;
    let window = store.setting(crate::control::CONSOLE_HOLDS_KEY).ok().flatten();
    if let Some(h) = crate::control::requests::console_hold(window.as_deref(), instrument, now, idle) {
        return Err((
            "console_held",
            format!(
                "refused: the console of `{instrument}` is operated at the site by {} since {}; one operator at a time",
                h.operator,
                crate::fmt::format_time(h.since)
            ),
        ));
    }
    let text = store.setting(REMOTE_HOLDS_KEY).ok().flatten();
    let mut holds: Vec<ConsoleHold> = text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    holds.retain(|h| now - h.last_used < idle);
    match holds.iter_mut().find(|h| h.instrument == instrument) {
        Some(h) if h.operator != user => {
            return Err((
                "console_held",
                format!(
                    "refused: the console of `{instrument}` is operated remotely by {} since {}; one operator at a time",
                    h.operator,
                    crate::fmt::format_time(h.since)
                ),
            ));
        }
        Some(h) => h.last_used = now,
        None => {
            holds.push(ConsoleHold { instrument: instrument.into(), operator: user.into(), since: now, last_used: now })
        }
    }
    let json = serde_json::to_string(&holds).unwrap_or_else(|_| "[]".into());
    store.set_setting(REMOTE_HOLDS_KEY, &json).map_err(|e| ("store", format!("cannot record the console hold: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[test]
    fn consent_then_one_operator_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("m.db"), StoreOptions::default()).unwrap();
        let e = admit(&mut s, "log", "ann@example.com", true, 1_000).unwrap_err();
        assert_eq!(e.0, "no_consent");
        assert!(e.1.contains("not allowed remote access to instrument `log`"), "{}", e.1);
        set_consent(&mut s, "log", true).unwrap();
        admit(&mut s, "log", "ann@example.com", true, 1_000).unwrap();
        let holder = remote_holder(s.setting(REMOTE_HOLDS_KEY).unwrap().as_deref(), "log", 2_000).unwrap();
        assert_eq!(holder.operator, "ann@example.com");
        let e = admit(&mut s, "log", "bob@example.com", true, 2_000).unwrap_err();
        assert!(e.0 == "console_held" && e.1.contains("operated remotely by ann@example.com"), "{}", e.1);
        // The window's hold wins over a remote user.
        let window = serde_json::to_string(&[ConsoleHold {
            instrument: "log".into(),
            operator: "carl".into(),
            since: 1,
            last_used: 2_500,
        }])
        .unwrap();
        s.set_setting(crate::control::CONSOLE_HOLDS_KEY, &window).unwrap();
        let e = admit(&mut s, "log", "ann@example.com", true, 3_000).unwrap_err();
        assert!(e.1.contains("operated at the site by carl"), "{}", e.1);
        set_consent(&mut s, "log", false).unwrap();
        assert_eq!(admit(&mut s, "log", "ann@example.com", false, 3_000).unwrap_err().0, "no_consent");
    }
}
