//! The record outbox: alarm journal entries and instrument events waiting
//! for the cloud (docs/protocol.md, "Records"). SQLite triggers on the
//! journal's and the events' tables copy each new row into `record_outbox`
//! in the transaction that writes it, so nothing the alarm stage or the
//! event journal records can miss the outbox, and neither needs to know
//! about sync. A row leaves only on the cloud's `ok` acknowledgement of a
//! batch that held it (like the samples' rows).
//!
//! `id` is AUTOINCREMENT: ids only grow, never reused after a delete, so
//! the cloud keys records by (agent, store, seq = id) and keeps their order.
//! An event repeating on every poll is one event row with a count (see
//! `store::events`): the outbox holds its first occurrence.

use rusqlite::params;

use crate::store::{SchemaPart, Store, StoreError};
use meterdeck_wire::records::{self, EventRecord, JournalRecord, MAX_NAME_CHARS, MAX_TEXT_CHARS, Record, RecordBody};

/// Registered after the alarm journal's part (the triggers name its table).
pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "record_outbox", ddl: SCHEMA, migrations: &[V2] };

/// Version 2: events carry their translatable text (store schema 6's
/// `event.text`) to the cloud.
const V2: &str = r#"
DROP TRIGGER IF EXISTS record_outbox_event;
CREATE TRIGGER record_outbox_event AFTER INSERT ON event BEGIN
    INSERT INTO record_outbox (kind, t, body) VALUES ('event', NEW.t, json_object(
        'instrument', NEW.instrument, 'event', NEW.kind, 'message', NEW.message, 'text', json(NEW.text)));
    DELETE FROM record_outbox WHERE id <= last_insert_rowid() - 200000;
END;
"#;

/// Records kept at most while the cloud is unreachable (or none is set up);
/// beyond it the oldest are dropped, so a cache without a cloud stays small.
pub const MAX_RECORDS_KEPT: i64 = 200_000;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS record_outbox (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    t    INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS record_outbox_journal AFTER INSERT ON alarm_journal BEGIN
    INSERT INTO record_outbox (kind, t, body) VALUES ('journal', NEW.t, json_object(
        'alarm_id', NEW.alarm_id, 'rule_id', NEW.rule_id, 'name', NEW.name, 'severity', NEW.severity,
        'action', NEW.action, 'from_state', NEW.from_state, 'to_state', NEW.to_state, 'user', NEW.user,
        'comment', NEW.comment, 'values', NEW.vals, 'destination', NEW.destination));
    DELETE FROM record_outbox WHERE id <= last_insert_rowid() - 200000;
END;
CREATE TRIGGER IF NOT EXISTS record_outbox_event AFTER INSERT ON event BEGIN
    INSERT INTO record_outbox (kind, t, body) VALUES ('event', NEW.t, json_object(
        'instrument', NEW.instrument, 'event', NEW.kind, 'message', NEW.message));
    DELETE FROM record_outbox WHERE id <= last_insert_rowid() - 200000;
END;
"#;

/// The negative keys the drain uses for record rows beside the samples'
/// outbox row ids (which are all positive), so one set of in-flight,
/// parked and acknowledged ids covers both.
pub fn key(record_id: i64) -> i64 {
    -record_id
}

/// The record row id of a drain key, if the key is a record's.
pub fn record_id(key: i64) -> Option<i64> {
    (key < 0).then_some(-key)
}

/// The oldest `limit` records, as they go on the wire (texts cut to the
/// wire's limits). A row that does not read is skipped with a warning and
/// dropped: it can never be sent.
pub fn next(store: &Store, limit: usize) -> Result<Vec<Record>, StoreError> {
    let conn = store.conn();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt =
        conn.prepare_cached("SELECT id, kind, t, body FROM record_outbox ORDER BY id LIMIT ?1").map_err(db)?;
    let rows: Vec<(i64, String, i64, String)> = stmt
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, kind, t, body) in rows {
        match parse(&kind, &body) {
            Some(body) => out.push(Record { seq: id, t, body }),
            None => {
                tracing::warn!("record outbox row {id} ({kind}) does not read; dropped: {body}");
                let _ = conn.execute("DELETE FROM record_outbox WHERE id = ?1", [id]);
            }
        }
    }
    Ok(out)
}

fn parse(kind: &str, body: &str) -> Option<RecordBody> {
    let clip = |s: String, max| records::clip(&s, max);
    let clip_opt = |s: Option<String>, max| s.map(|s| records::clip(&s, max));
    match kind {
        "journal" => {
            let j: JournalRecord = serde_json::from_str(body).ok()?;
            Some(RecordBody::Journal(JournalRecord {
                alarm_id: clip(j.alarm_id, MAX_NAME_CHARS),
                rule_id: clip(j.rule_id, MAX_NAME_CHARS),
                name: clip(j.name, MAX_NAME_CHARS),
                severity: clip(j.severity, MAX_NAME_CHARS),
                action: clip(j.action, MAX_NAME_CHARS),
                from_state: clip(j.from_state, MAX_NAME_CHARS),
                to_state: clip(j.to_state, MAX_NAME_CHARS),
                user: clip_opt(j.user, MAX_NAME_CHARS),
                comment: clip_opt(j.comment, MAX_TEXT_CHARS),
                values: clip_opt(j.values, MAX_TEXT_CHARS),
                destination: clip_opt(j.destination, MAX_NAME_CHARS),
            }))
            .filter(|b| match b {
                RecordBody::Journal(j) => ![&j.alarm_id, &j.rule_id, &j.action].iter().any(|s| s.is_empty()),
                RecordBody::Event(_) => true,
            })
        }
        "event" => {
            let e: EventRecord = serde_json::from_str(body).ok()?;
            Some(RecordBody::Event(EventRecord {
                instrument: clip_opt(e.instrument, MAX_NAME_CHARS),
                event: clip(e.event, MAX_NAME_CHARS),
                message: clip(e.message, MAX_TEXT_CHARS),
                // A text too long for the wire goes without it (the English message stays).
                text: e.text.filter(|t| serde_json::to_string(t).is_ok_and(|j| j.chars().count() <= MAX_TEXT_CHARS)),
            }))
        }
        _ => None,
    }
}

/// The cloud stored this record: it leaves the outbox.
pub fn ack(store: &Store, id: i64) -> Result<(), StoreError> {
    store.conn().execute("DELETE FROM record_outbox WHERE id = ?1", params![id]).map_err(db)?;
    Ok(())
}

/// Records waiting for the cloud (0 when the part is not registered).
pub fn waiting(store: &Store) -> Result<u64, StoreError> {
    let n: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM record_outbox", [], |r| r.get(0))
        .or_else(|e| if e.to_string().contains("no such table") { Ok(0) } else { Err(e) })
        .map_err(db)?;
    Ok(n.max(0) as u64)
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventKind};
    use crate::store::StoreOptions;

    fn store(dir: &std::path::Path) -> Store {
        Store::open_with(&dir.join("m.db"), StoreOptions::default(), &[crate::alarm::journal::SCHEMA_PART, SCHEMA_PART])
            .unwrap()
    }

    #[test]
    fn journal_entries_and_events_enter_the_outbox_in_their_transaction_and_leave_on_ack() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        s.conn()
            .execute(
                "INSERT INTO alarm_journal (t, alarm_id, rule_id, name, severity, action, from_state, to_state, vals)
                 VALUES (10, 'hot', 'hot', 'Too hot', 'critical', 'raise', 'normal', 'unack_active', 'log/CH1=77.5')",
                [],
            )
            .unwrap();
        s.record_event(&Event {
            t: 11,
            instrument: Some("log".into()),
            kind: EventKind::Disconnected,
            message: "reset".into(),
            count: 1,
            first_t: 0,
            text: Some(meterdeck_wire::i18n::Text::new("driver.closed").arg("target", "10.0.0.5:5025")),
        })
        .unwrap();
        let recs = next(&s, 10).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].seq, recs[0].t, recs[1].t), (1, 10, 11));
        match &recs[0].body {
            RecordBody::Journal(j) => {
                assert_eq!((j.action.as_str(), j.to_state.as_str()), ("raise", "unack_active"));
                assert_eq!(j.values.as_deref(), Some("log/CH1=77.5"));
                assert_eq!(j.user, None);
            }
            other => panic!("{other:?}"),
        }
        match &recs[1].body {
            RecordBody::Event(e) => {
                assert_eq!((e.event.as_str(), e.message.as_str()), ("disconnected", "reset"));
                // The text travels for the portal to show in its reader's language.
                let text = e.text.as_ref().expect("the event's text");
                assert_eq!(text.render("de"), "10.0.0.5:5025: Verbindung vom Messgerät geschlossen");
            }
            other => panic!("{other:?}"),
        }
        records::check(&recs).unwrap();
        ack(&s, recs[0].seq).unwrap();
        assert_eq!(waiting(&s).unwrap(), 1);
        ack(&s, recs[1].seq).unwrap();
        // Ids keep growing after every row left (AUTOINCREMENT): the cloud's key stays unique.
        s.record_event(&Event {
            t: 12,
            instrument: None,
            kind: EventKind::Error,
            message: "x".into(),
            count: 1,
            first_t: 0,
            text: None,
        })
        .unwrap();
        assert_eq!(next(&s, 10).unwrap()[0].seq, 3);
        drop(s);
        // Reopening applies nothing twice.
        let s = store(dir.path());
        assert_eq!(waiting(&s).unwrap(), 1);
        assert_eq!((key(3), record_id(key(3)), record_id(5)), (-3, Some(3), None));
    }
}
