//! Site records on the wire (docs/protocol.md, "Records", protocol v2): the
//! alarm journal entries and instrument events an agent syncs to the cloud
//! through the same outbox, batches and acknowledgements as its samples.
//!
//! A record is one row of the agent's record outbox: `seq` is that row's id
//! (increasing, never reused within one store), so the cloud keys records by
//! (agent, store, seq) and a resend stores nothing new. Alarm states are not
//! sent apart: every transition is a journal entry naming the state it left
//! and the one it entered, so the cloud's state of an alarm is its latest
//! entry's `to_state`.
//!
//! A batch carrying records says `"v": 2`: a cloud that only speaks v1
//! refuses it whole with an error ack naming both versions, rather than
//! reading the samples and dropping the records it does not know.

use serde::{Deserialize, Serialize};

use crate::sync::WireError;

/// The protocol version of a batch that carries records.
pub const RECORDS_VERSION: u32 = 2;
/// Records in one batch at most (agents pack far fewer bytes than the
/// header limit with it).
pub const MAX_RECORDS: usize = 1000;
/// Longest free text (an event's message, a comment, values) in characters;
/// agents cut longer texts before sending.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Record times: the years 0 to 9999, like samples.
pub const MIN_TIME_MS: i64 = -62_167_219_200_000;
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;
/// Longest id or name (alarm, rule, instrument, user, state) in characters.
pub const MAX_NAME_CHARS: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The agent's record outbox row id: increasing within one store.
    pub seq: i64,
    /// When it happened on the agent (ms since the epoch, UTC).
    pub t: i64,
    #[serde(flatten)]
    pub body: RecordBody,
}

/// What a record is: `kind` names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordBody {
    /// One alarm journal entry: a transition or a notification attempt.
    Journal(JournalRecord),
    /// One instrument event (connect, disconnect, error, ...).
    Event(EventRecord),
}

impl RecordBody {
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::Journal(_) => "journal",
            RecordBody::Event(_) => "event",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    pub alarm_id: String,
    pub rule_id: String,
    pub name: String,
    /// low | medium | high | critical
    pub severity: String,
    /// raise, return, ack, shelve, unshelve, out_of_service, in_service,
    /// reminder, notify_ok, notify_failed, notify_retry
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The channels' values at the transition, as the agent wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<String>,
    /// The destination of a notification attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// connected | disconnected | error | ... (the agent's event kinds)
    pub event: String,
    /// English (what older clouds and logs show).
    pub message: String,
    /// The message as key and arguments, for a reader's own language
    /// (agents from before it send none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<crate::i18n::Text>,
}

/// Cuts `s` to at most `max` characters (agents, before sending).
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

/// The checks a received batch's records must pass; the error names the
/// record and the field.
pub fn check(records: &[Record]) -> Result<(), WireError> {
    if records.len() > MAX_RECORDS {
        return Err(WireError(format!("{} records in one batch; at most {MAX_RECORDS}", records.len())));
    }
    for (i, r) in records.iter().enumerate() {
        let what = || format!("record {i} (seq {})", r.seq);
        if r.seq < 1 {
            return Err(WireError(format!("{}: seq must be 1 or more", what())));
        }
        if !(MIN_TIME_MS..=MAX_TIME_MS).contains(&r.t) {
            return Err(WireError(format!("{}: time {} is outside the years 0 to 9999", what(), r.t)));
        }
        let field = |name: &str, v: &str, max: usize, required: bool| -> Result<(), WireError> {
            if required && v.is_empty() {
                return Err(WireError(format!("{}: {name} is empty", what())));
            }
            if v.chars().count() > max {
                return Err(WireError(format!("{}: {name} is longer than {max} characters", what())));
            }
            Ok(())
        };
        match &r.body {
            RecordBody::Journal(j) => {
                for (name, v) in [
                    ("alarm_id", &j.alarm_id),
                    ("rule_id", &j.rule_id),
                    ("severity", &j.severity),
                    ("action", &j.action),
                    ("from_state", &j.from_state),
                    ("to_state", &j.to_state),
                ] {
                    field(name, v, MAX_NAME_CHARS, true)?;
                }
                field("name", &j.name, MAX_NAME_CHARS, false)?;
                for (name, v, max) in [
                    ("user", &j.user, MAX_NAME_CHARS),
                    ("comment", &j.comment, MAX_TEXT_CHARS),
                    ("values", &j.values, MAX_TEXT_CHARS),
                    ("destination", &j.destination, MAX_NAME_CHARS),
                ] {
                    if let Some(v) = v {
                        field(name, v, max, false)?;
                    }
                }
            }
            RecordBody::Event(e) => {
                if let Some(inst) = &e.instrument {
                    field("instrument", inst, MAX_NAME_CHARS, false)?;
                }
                field("event", &e.event, MAX_NAME_CHARS, true)?;
                field("message", &e.message, MAX_TEXT_CHARS, false)?;
                if let Some(text) = &e.text {
                    let json = serde_json::to_string(text).unwrap_or_default();
                    field("text", &json, MAX_TEXT_CHARS, true)?;
                }
            }
        }
    }
    if records.windows(2).any(|w| w[1].seq <= w[0].seq) {
        return Err(WireError("records must come in increasing seq order".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(seq: i64) -> Record {
        Record {
            seq,
            t: 1_764_259_200_000 + seq,
            body: RecordBody::Journal(JournalRecord {
                alarm_id: "hot".into(),
                rule_id: "hot".into(),
                name: "Too hot".into(),
                severity: "critical".into(),
                action: "raise".into(),
                from_state: "normal".into(),
                to_state: "unack_active".into(),
                values: Some("log/CH1_1=77.5".into()),
                ..JournalRecord::default()
            }),
        }
    }

    #[test]
    fn records_read_back_with_their_kind() {
        let ev = Record {
            seq: 3,
            t: 5,
            body: RecordBody::Event(EventRecord {
                instrument: Some("log".into()),
                event: "disconnected".into(),
                message: "connection reset".into(),
                text: None,
            }),
        };
        let text = serde_json::to_string(&[journal(1), ev.clone()]).unwrap();
        assert!(text.contains("\"kind\":\"journal\"") && text.contains("\"kind\":\"event\""), "{text}");
        let back: Vec<Record> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, vec![journal(1), ev]);
        assert!(serde_json::from_str::<Record>(r#"{"seq":1,"t":1,"kind":"photo"}"#).is_err());
    }

    #[test]
    fn bad_records_are_named() {
        assert!(check(&[journal(1), journal(2)]).is_ok());
        let err = |r: &[Record]| check(r).unwrap_err().0;
        assert!(err(&[journal(2), journal(2)]).contains("increasing seq"));
        assert!(err(&[journal(0)]).contains("seq must be"));
        let mut long = journal(1);
        if let RecordBody::Journal(j) = &mut long.body {
            j.comment = Some("x".repeat(MAX_TEXT_CHARS + 1));
        }
        assert!(err(&[long]).contains("record 0 (seq 1): comment is longer"));
        let mut empty = journal(4);
        if let RecordBody::Journal(j) = &mut empty.body {
            j.alarm_id.clear();
        }
        assert!(err(&[empty]).contains("alarm_id is empty"));
        let mut far = journal(1);
        far.t = i64::MAX;
        assert!(err(&[far]).contains("outside the years"));
        let many: Vec<Record> = (1..=MAX_RECORDS as i64 + 1).map(journal).collect();
        assert!(err(&many).contains("at most"));
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("ab", 5), "ab");
    }
}
