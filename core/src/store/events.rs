//! The event journal: connects, disconnects with reasons, errors.

use rusqlite::{Connection, params};

use super::error::{Result, StoreError};
use crate::model::{Event, EventKind, TimeMs};

/// Records an event; a repeat (`count` > 1) updates the row its first
/// occurrence made (same instrument, kind and first time) instead of adding
/// one, so a failure on every poll stays one row with a count.
pub(crate) fn record(conn: &Connection, ev: &Event) -> Result<()> {
    let first = ev.first();
    let text = ev.text.as_ref().and_then(|t| serde_json::to_string(t).ok());
    if ev.count > 1 {
        let updated = conn
            .prepare_cached(
                "UPDATE event SET t = ?1, message = ?2, count = ?3, text = ?7
                 WHERE instrument IS ?4 AND kind = ?5 AND first_t = ?6",
            )?
            .execute(params![ev.t, ev.message, ev.count, ev.instrument, ev.kind.as_str(), first, text])?;
        if updated > 0 {
            return Ok(());
        }
    }
    conn.prepare_cached(
        "INSERT INTO event (t, instrument, kind, message, count, first_t, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![ev.t, ev.instrument, ev.kind.as_str(), ev.message, ev.count.max(1), first, text])?;
    Ok(())
}

/// Newest first; `since` is inclusive.
pub(crate) fn list(
    conn: &Connection,
    since: Option<TimeMs>,
    instrument: Option<&str>,
    limit: usize,
) -> Result<Vec<Event>> {
    let limit = limit.min(i64::MAX as usize) as i64;
    let mut stmt = conn.prepare_cached(
        "SELECT t, instrument, kind, message, count, coalesce(first_t, t), text FROM event
         WHERE (?1 IS NULL OR t >= ?1) AND (?2 IS NULL OR instrument = ?2)
         ORDER BY t DESC, id DESC LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![since, instrument, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(2)?;
        let kind = EventKind::parse(&kind).ok_or(StoreError::BadRow { table: "event", column: "kind", value: kind })?;
        out.push(Event {
            t: r.get(0)?,
            instrument: r.get(1)?,
            kind,
            message: r.get(3)?,
            count: r.get(4)?,
            first_t: r.get(5)?,
            // A row whose text no longer parses shows its English message.
            text: r.get::<_, Option<String>>(6)?.and_then(|j| serde_json::from_str(&j).ok()),
        });
    }
    Ok(out)
}
