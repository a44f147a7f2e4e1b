//! Remote commands (issue 16, docs/protocol.md "Remote commands"): what
//! the cloud publishes on an agent's `down/cmd` topic and what the agent
//! answers on its `up/reply` topic.
//!
//! Authorisation: the cloud signs every command with its ed25519 licence
//! key (the key each agent already pins at `cloud login` to verify its
//! licence), over a domain prefix and the command's JSON text. The agent
//! verifies the signature, that the command names it, that it has not
//! expired, and that it has not seen its id before. The broker's ACL adds
//! that only the cloud may publish on `down/`; the signature holds even if
//! the broker or its ACL is wrong.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::TimeMs;
use crate::sync::valid_agent_id;

pub const REMOTE_VERSION: u32 = 1;
/// Signed bytes are this prefix and the command's JSON text: a command
/// signature is never a licence signature and the reverse.
const DOMAIN: &[u8] = b"meterdeck remote command v1\n";
/// Largest command or reply payload read.
pub const MAX_REMOTE_BYTES: usize = 64 * 1024;
/// A command lives at most this long (the agent refuses longer ones).
pub const MAX_TTL_MS: TimeMs = 120_000;
/// Tolerated clock difference between cloud and agent.
pub const CLOCK_SLACK_MS: TimeMs = 30_000;
const MAX_LINE_CHARS: usize = 1024;
const MAX_FIELD_CHARS: usize = 256;

/// Where the cloud publishes commands for `agent` (QoS 1, not retained).
pub fn command_topic(agent: &str) -> String {
    format!("md/v1/{agent}/down/cmd")
}
/// Where the agent answers (QoS 1).
pub fn reply_topic(agent: &str) -> String {
    format!("md/v1/{agent}/up/reply")
}
/// The cloud's subscription to every agent's replies.
pub const REPLY_SUBSCRIPTION: &str = "md/v1/+/up/reply";

/// The agent id in a reply topic, if the topic is one.
pub fn agent_of_reply_topic(topic: &str) -> Option<&str> {
    let rest = topic.strip_prefix("md/v1/")?;
    let (agent, tail) = rest.split_once('/')?;
    (tail == "up/reply" && valid_agent_id(agent)).then_some(agent)
}

/// What a command asks of the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// One command line to the instrument; the answer of a query comes back.
    Console {
        instrument: String,
        line: String,
    },
    /// Start or stop the instrument's measurement.
    Start {
        instrument: String,
    },
    Stop {
        instrument: String,
    },
    /// Fast monitor (5 s polls for 10 minutes) on or off.
    FastMonitor {
        instrument: String,
        on: bool,
    },
    /// The instrument's poll interval, seconds (1 .. 3600).
    PollInterval {
        instrument: String,
        seconds: u64,
    },
    /// Add an instrument: `config` is one `[[instrument]]` entry as JSON
    /// (the fields of the configuration file); the consent of the agent
    /// as a whole (`*`) is needed.
    AddInstrument {
        config: serde_json::Value,
    },
    /// Replace an instrument's configuration (same shape as adding).
    EditInstrument {
        instrument: String,
        config: serde_json::Value,
    },
    RemoveInstrument {
        instrument: String,
    },
}

/// Consent key of actions that concern no existing instrument (adding one).
pub const ANY_INSTRUMENT: &str = "*";

impl Action {
    /// The instrument whose consent is needed.
    pub fn instrument(&self) -> &str {
        match self {
            Action::Console { instrument, .. }
            | Action::Start { instrument }
            | Action::Stop { instrument }
            | Action::FastMonitor { instrument, .. }
            | Action::PollInterval { instrument, .. }
            | Action::EditInstrument { instrument, .. }
            | Action::RemoveInstrument { instrument } => instrument,
            Action::AddInstrument { .. } => ANY_INSTRUMENT,
        }
    }

    /// Settings and start/stop need an admin; the console a member.
    pub fn needs_admin(&self) -> bool {
        !matches!(self, Action::Console { .. })
    }

    /// A short name for journals: `console`, `start`, `poll_interval` ...
    pub fn name(&self) -> &'static str {
        match self {
            Action::Console { .. } => "console",
            Action::Start { .. } => "start",
            Action::Stop { .. } => "stop",
            Action::FastMonitor { .. } => "fast_monitor",
            Action::PollInterval { .. } => "poll_interval",
            Action::AddInstrument { .. } => "add_instrument",
            Action::EditInstrument { .. } => "edit_instrument",
            Action::RemoveInstrument { .. } => "remove_instrument",
        }
    }

    /// The action's own checks (no context): names what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let inst = self.instrument();
        if inst != ANY_INSTRUMENT && !valid_name(inst) {
            return Err(format!("instrument: 1-{MAX_FIELD_CHARS} printable characters, got {inst:?}"));
        }
        match self {
            Action::Console { line, .. } => {
                let l = line.trim();
                if l.is_empty() || l.chars().count() > MAX_LINE_CHARS || l.chars().any(char::is_control) {
                    return Err(format!("line: one command line of 1-{MAX_LINE_CHARS} printable characters"));
                }
            }
            Action::PollInterval { seconds, .. } if !(1..=3600).contains(seconds) => {
                return Err(format!("seconds: the poll interval must be 1 to 3600 s, got {seconds}"));
            }
            Action::AddInstrument { config } | Action::EditInstrument { config, .. } if !config.is_object() => {
                return Err("config: must be an object with the instrument's fields".into());
            }
            _ => {}
        }
        Ok(())
    }
}

fn valid_name(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().count() <= MAX_FIELD_CHARS && !s.chars().any(char::is_control)
}

/// One command, as signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    pub v: u32,
    /// Unique per command (the cloud's random id); the reply names it and
    /// the agent refuses a second command with the same id.
    pub id: String,
    /// The agent it is for.
    pub agent: String,
    /// Who asked: the signed-in user (their login name) and their role.
    pub user: String,
    pub role: String,
    pub issued_ms: TimeMs,
    pub expires_ms: TimeMs,
    pub action: Action,
}

/// What travels on `down/cmd`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    v: u32,
    /// The command's JSON text, exactly as signed.
    command: String,
    /// base64 ed25519 signature over [`DOMAIN`] and `command`.
    sig: String,
}

/// Why a command was refused before anything was done. Each names what
/// was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("not a remote command ({0})")]
    Malformed(String),
    #[error(
        "remote command version {0} is not understood by this agent (it reads version {REMOTE_VERSION}); update Meterdeck"
    )]
    Version(u32),
    #[error("the command's authorisation does not verify against the cloud key this agent pinned: refused")]
    BadSignature,
    #[error("the command is addressed to agent {to:?}, not to this agent {ours:?}: refused")]
    WrongAgent { to: String, ours: String },
    #[error("the command expired at {expires_ms} (now {now}): refused")]
    Expired { expires_ms: TimeMs, now: TimeMs },
    #[error(
        "the command's validity ({issued_ms}..{expires_ms}) is not a window of at most {MAX_TTL_MS} ms around now ({now}): refused"
    )]
    BadWindow { issued_ms: TimeMs, expires_ms: TimeMs, now: TimeMs },
    #[error("command {0} was already received: a replay is refused")]
    Replay(String),
    #[error("the role {role:?} may not {action} (needs {needs}): refused")]
    Role { role: String, action: &'static str, needs: &'static str },
    #[error("bad command: {0}")]
    Invalid(String),
}

impl RemoteError {
    /// The reply's `code` for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            RemoteError::Malformed(_) | RemoteError::Version(_) | RemoteError::Invalid(_) => "bad_command",
            RemoteError::BadSignature | RemoteError::WrongAgent { .. } => "bad_authorisation",
            RemoteError::Expired { .. } | RemoteError::BadWindow { .. } => "expired",
            RemoteError::Replay(_) => "replay",
            RemoteError::Role { .. } => "forbidden",
        }
    }
}

impl Command {
    /// The checks that need no key: version, fields, role for the action.
    pub fn check(&self) -> Result<(), RemoteError> {
        if self.v != REMOTE_VERSION {
            return Err(RemoteError::Version(self.v));
        }
        if self.id.is_empty() || self.id.len() > 64 || !self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(RemoteError::Invalid("id: 1-64 letters, digits or '-'".into()));
        }
        if !valid_agent_id(&self.agent) {
            return Err(RemoteError::Invalid(format!("agent: {:?} is not an agent id", self.agent)));
        }
        if !valid_name(&self.user) {
            return Err(RemoteError::Invalid("user: 1-256 printable characters".into()));
        }
        let needs = if self.action.needs_admin() { "admin" } else { "member" };
        let allowed = match self.role.as_str() {
            "admin" => true,
            "member" => !self.action.needs_admin(),
            _ => false,
        };
        if !allowed {
            return Err(RemoteError::Role { role: self.role.clone(), action: self.action.name(), needs });
        }
        self.action.check().map_err(RemoteError::Invalid)
    }
}

/// The payload for `down/cmd`: the command signed with the cloud's key.
pub fn seal(cmd: &Command, key: &SigningKey) -> Vec<u8> {
    let command = serde_json::to_string(cmd).expect("a command is plain data");
    let sig = key.sign(&signed_bytes(&command));
    serde_json::to_vec(&Envelope { v: REMOTE_VERSION, command, sig: B64.encode(sig.to_bytes()) })
        .expect("an envelope is plain data")
}

fn signed_bytes(command: &str) -> Vec<u8> {
    let mut b = DOMAIN.to_vec();
    b.extend_from_slice(command.as_bytes());
    b
}

/// Reads and verifies a `down/cmd` payload for agent `ours` at `now`: the
/// command only if it is well formed, signed by `key`, addressed here and
/// within its validity. Replays are the caller's to refuse (it keeps the
/// ids it has seen until they expire).
pub fn open(payload: &[u8], key: &VerifyingKey, ours: &str, now: TimeMs) -> Result<Command, RemoteError> {
    if payload.len() > MAX_REMOTE_BYTES {
        return Err(RemoteError::Malformed(format!("{} bytes, at most {MAX_REMOTE_BYTES}", payload.len())));
    }
    let env: Envelope = serde_json::from_slice(payload).map_err(|e| RemoteError::Malformed(e.to_string()))?;
    if env.v != REMOTE_VERSION {
        return Err(RemoteError::Version(env.v));
    }
    let sig = B64.decode(&env.sig).map_err(|_| RemoteError::BadSignature)?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| RemoteError::BadSignature)?;
    key.verify_strict(&signed_bytes(&env.command), &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| RemoteError::BadSignature)?;
    let cmd: Command = serde_json::from_str(&env.command).map_err(|e| RemoteError::Malformed(e.to_string()))?;
    if cmd.agent != ours {
        return Err(RemoteError::WrongAgent { to: cmd.agent, ours: ours.to_string() });
    }
    if now > cmd.expires_ms {
        return Err(RemoteError::Expired { expires_ms: cmd.expires_ms, now });
    }
    let window = cmd.expires_ms - cmd.issued_ms;
    if !(0..=MAX_TTL_MS).contains(&window) || cmd.issued_ms > now + CLOCK_SLACK_MS {
        return Err(RemoteError::BadWindow { issued_ms: cmd.issued_ms, expires_ms: cmd.expires_ms, now });
    }
    cmd.check()?;
    Ok(cmd)
}

/// The command id of a payload, read without trusting it (to answer a
/// refused command under its id when there is one).
pub fn peek_id(payload: &[u8]) -> Option<String> {
    let env: Envelope = serde_json::from_slice(payload).ok()?;
    let v: serde_json::Value = serde_json::from_str(&env.command).ok()?;
    v.get("id")?.as_str().filter(|s| s.len() <= 64).map(str::to_string)
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStatus {
    /// Carried out.
    Done,
    /// Not carried out: no consent, held console, bad authorisation ...
    Refused,
    /// Tried, and the instrument or the configuration failed.
    Failed,
}

/// The agent's answer on `up/reply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub v: u32,
    /// The command's id (empty when the payload had none readable).
    pub id: String,
    pub status: ReplyStatus,
    /// Machine-readable reason: `ok`, `no_consent`, `console_held`,
    /// `bad_authorisation`, `expired`, `replay`, `forbidden`,
    /// `bad_command`, `unknown_instrument`, `instrument_error`; settings:
    /// `invalid`, `limit`, `not_saved`, `unsupported`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The instrument's answer to a console query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl Reply {
    pub fn done(id: &str, message: impl Into<String>, output: Option<String>) -> Reply {
        Reply {
            v: REMOTE_VERSION,
            id: id.into(),
            status: ReplyStatus::Done,
            code: "ok".into(),
            message: message.into(),
            output,
        }
    }
    pub fn refused(id: &str, code: &str, message: impl Into<String>) -> Reply {
        Reply {
            v: REMOTE_VERSION,
            id: id.into(),
            status: ReplyStatus::Refused,
            code: code.into(),
            message: message.into(),
            output: None,
        }
    }
    pub fn failed(id: &str, code: &str, message: impl Into<String>) -> Reply {
        Reply { status: ReplyStatus::Failed, ..Reply::refused(id, code, message) }
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a reply is plain data")
    }
    pub fn parse(payload: &[u8]) -> Result<Reply, RemoteError> {
        if payload.len() > MAX_REMOTE_BYTES {
            return Err(RemoteError::Malformed(format!(
                "reply of {} bytes, at most {MAX_REMOTE_BYTES}",
                payload.len()
            )));
        }
        let r: Reply = serde_json::from_slice(payload).map_err(|e| RemoteError::Malformed(format!("reply: {e}")))?;
        if r.v != REMOTE_VERSION {
            return Err(RemoteError::Version(r.v));
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: TimeMs = 1_800_000_000_000;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    fn cmd(action: Action) -> Command {
        Command {
            v: 1,
            id: "c-1".into(),
            agent: "site-a".into(),
            user: "ann@example.com".into(),
            role: "member".into(),
            issued_ms: NOW,
            expires_ms: NOW + 10_000,
            action,
        }
    }

    fn console() -> Action {
        Action::Console { instrument: "log".into(), line: "*IDN?".into() }
    }

    #[test]
    fn a_sealed_command_opens_only_for_its_agent_key_and_time() {
        let k = key(1);
        let c = cmd(console());
        let p = seal(&c, &k);
        assert_eq!(open(&p, &k.verifying_key(), "site-a", NOW + 1).unwrap(), c);
        assert_eq!(open(&p, &key(2).verifying_key(), "site-a", NOW), Err(RemoteError::BadSignature));
        assert!(matches!(open(&p, &k.verifying_key(), "site-b", NOW), Err(RemoteError::WrongAgent { .. })));
        assert!(matches!(open(&p, &k.verifying_key(), "site-a", NOW + 10_001), Err(RemoteError::Expired { .. })));
        assert_eq!(peek_id(&p).as_deref(), Some("c-1"));
    }

    #[test]
    fn altered_or_garbage_payloads_are_refused_with_a_reason() {
        let k = key(1);
        let p = String::from_utf8(seal(&cmd(console()), &k)).unwrap();
        let altered = p.replace("*IDN?", "*RST");
        assert_eq!(open(altered.as_bytes(), &k.verifying_key(), "site-a", NOW), Err(RemoteError::BadSignature));
        for bad in [&b""[..], b"{}", b"[1]", b"{\"v\":1,\"command\":\"{}\",\"sig\":\"\"}"] {
            let e = open(bad, &k.verifying_key(), "site-a", NOW).unwrap_err();
            assert!(matches!(e, RemoteError::Malformed(_) | RemoteError::BadSignature), "{e}");
        }
        let huge = vec![b' '; MAX_REMOTE_BYTES + 1];
        assert!(matches!(open(&huge, &k.verifying_key(), "a", NOW), Err(RemoteError::Malformed(_))));
    }

    #[test]
    fn roles_and_fields_are_checked_even_when_signed() {
        let k = key(1);
        let mut c = cmd(Action::Stop { instrument: "log".into() });
        let e = open(&seal(&c, &k), &k.verifying_key(), "site-a", NOW).unwrap_err();
        assert_eq!(e.code(), "forbidden");
        c.role = "admin".into();
        assert!(open(&seal(&c, &k), &k.verifying_key(), "site-a", NOW).is_ok());
        c.role = "viewer".into();
        c.action = console();
        assert_eq!(open(&seal(&c, &k), &k.verifying_key(), "site-a", NOW).unwrap_err().code(), "forbidden");
        c.role = "member".into();
        c.action = Action::Console { instrument: "log".into(), line: "a\nb".into() };
        assert_eq!(open(&seal(&c, &k), &k.verifying_key(), "site-a", NOW).unwrap_err().code(), "bad_command");
        c.action = console();
        c.expires_ms = c.issued_ms + MAX_TTL_MS + 1;
        assert_eq!(open(&seal(&c, &k), &k.verifying_key(), "site-a", NOW).unwrap_err().code(), "expired");
    }

    #[test]
    fn replies_round_trip_and_topics_name_their_agent() {
        let r = Reply::done("c-1", "sent", Some("HIOKI".into()));
        assert_eq!(Reply::parse(&r.to_json()).unwrap(), r);
        assert!(Reply::parse(b"{\"v\":1}").is_err());
        assert_eq!(agent_of_reply_topic(&reply_topic("a-1")), Some("a-1"));
        assert_eq!(agent_of_reply_topic(&command_topic("a-1")), None);
        assert_eq!(agent_of_reply_topic("md/v1/+/up/reply"), None);
    }
}
