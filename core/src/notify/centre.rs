//! The notification centre: every system and alarm notification, kept in
//! the store's SQLite file, with read/unread state.

use super::message::{Message, MessageKind};
use crate::model::TimeMs;
use crate::store::SchemaPart;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// The notification centre's table in the store's file.
pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "notification_centre", ddl: SCHEMA, migrations: &[] };

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notification (
    id       TEXT PRIMARY KEY,
    t        INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('alarm', 'system')),
    severity TEXT,
    title    TEXT NOT NULL,
    body     TEXT NOT NULL,
    alarm_id TEXT,
    read     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notification_by_time ON notification (t DESC);
CREATE INDEX IF NOT EXISTS notification_unread ON notification (t DESC) WHERE read = 0;
";

/// A notification as the UI lists it (the contract's Note).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Note {
    pub id: String,
    pub t: TimeMs,
    pub kind: MessageKind,
    pub severity: Option<String>,
    pub title: String,
    pub body: String,
    pub read: bool,
    pub alarm_id: Option<String>,
}

impl Note {
    pub fn unread(msg: &Message) -> Note {
        Note {
            id: msg.id.clone(),
            t: msg.t,
            kind: msg.kind,
            severity: msg.severity.clone(),
            title: msg.title.clone(),
            body: msg.body.clone(),
            read: false,
            alarm_id: msg.alarm_id.clone(),
        }
    }
}

/// Adds `msg` unread; false if a notification with its id is already there.
pub fn add(conn: &Connection, msg: &Message) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO notification (id, t, kind, severity, title, body, alarm_id, read)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
        params![msg.id, msg.t, msg.kind.as_str(), msg.severity, msg.title, msg.body, msg.alarm_id],
    )?;
    Ok(n == 1)
}

fn note(row: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    let kind: String = row.get(2)?;
    Ok(Note {
        id: row.get(0)?,
        t: row.get(1)?,
        kind: if kind == "alarm" { MessageKind::Alarm } else { MessageKind::System },
        severity: row.get(3)?,
        title: row.get(4)?,
        body: row.get(5)?,
        alarm_id: row.get(6)?,
        read: row.get(7)?,
    })
}

/// Newest first; `limit` None = all.
pub fn list(conn: &Connection, unread_only: bool, limit: Option<usize>) -> rusqlite::Result<Vec<Note>> {
    let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(
        "SELECT id, t, kind, severity, title, body, alarm_id, read FROM notification
         WHERE (?1 = 0 OR read = 0) ORDER BY t DESC, rowid DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![unread_only, limit], note)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Note>> {
    conn.query_row(
        "SELECT id, t, kind, severity, title, body, alarm_id, read FROM notification WHERE id = ?1",
        [id],
        note,
    )
    .optional()
}

pub fn unread_count(conn: &Connection) -> rusqlite::Result<u64> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM notification WHERE read = 0", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// True if `id` was unread and is now read; false if already read or unknown.
pub fn mark_read(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("UPDATE notification SET read = 1 WHERE id = ?1 AND read = 0", [id])? == 1)
}

/// Marks everything read; returns how many were unread.
pub fn mark_all_read(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute("UPDATE notification SET read = 1 WHERE read = 0", [])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c.execute_batch(SCHEMA).unwrap(); // idempotent
        c
    }

    fn msg(id: &str, t: TimeMs, kind: MessageKind) -> Message {
        Message {
            id: id.into(),
            t,
            kind,
            severity: (kind == MessageKind::Alarm).then(|| "high".to_string()),
            title: format!("title {id}"),
            body: "Kessel zu heiß".into(),
            alarm_id: (kind == MessageKind::Alarm).then(|| "boiler-hot".to_string()),
            locale: Default::default(),
            link: None,
        }
    }

    #[test]
    fn add_list_newest_first_and_filter_unread() {
        let c = db();
        assert!(add(&c, &msg("a", 1000, MessageKind::Alarm)).unwrap());
        assert!(add(&c, &msg("b", 3000, MessageKind::System)).unwrap());
        assert!(add(&c, &msg("c", 2000, MessageKind::Alarm)).unwrap());
        assert!(!add(&c, &msg("a", 5000, MessageKind::Alarm)).unwrap());
        let all = list(&c, false, None).unwrap();
        assert_eq!(all.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["b", "c", "a"]);
        assert_eq!(all[1], Note::unread(&msg("c", 2000, MessageKind::Alarm)));
        assert_eq!(list(&c, false, Some(2)).unwrap().len(), 2);
        assert_eq!(unread_count(&c).unwrap(), 3);

        assert!(mark_read(&c, "c").unwrap());
        assert!(!mark_read(&c, "c").unwrap());
        assert!(!mark_read(&c, "nope").unwrap());
        assert_eq!(unread_count(&c).unwrap(), 2);
        let unread = list(&c, true, None).unwrap();
        assert_eq!(unread.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert!(get(&c, "c").unwrap().unwrap().read);

        assert_eq!(mark_all_read(&c).unwrap(), 2);
        assert_eq!(mark_all_read(&c).unwrap(), 0);
        assert_eq!(unread_count(&c).unwrap(), 0);
        assert!(list(&c, true, None).unwrap().is_empty());
    }

    #[test]
    fn note_json_matches_the_contract() {
        let c = db();
        add(&c, &msg("s1", 7, MessageKind::System)).unwrap();
        let v = serde_json::to_value(&list(&c, false, None).unwrap()[0]).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["alarm_id", "body", "id", "kind", "read", "severity", "t", "title"]);
        assert_eq!(v["kind"], "system");
        assert_eq!(v["severity"], serde_json::Value::Null);
        assert_eq!(v["read"], false);
    }
}
