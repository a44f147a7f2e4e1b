//! The event journal: connects, disconnects with reasons, errors.

use rusqlite::{Connection, params};

use super::error::{Result, StoreError};
use crate::model::{Event, EventKind, TimeMs};

pub(crate) fn record(conn: &Connection, ev: &Event) -> Result<()> {
    conn.prepare_cached("INSERT INTO event (t, instrument, kind, message) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![ev.t, ev.instrument, ev.kind.as_str(), ev.message])?;
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
        "SELECT t, instrument, kind, message FROM event
         WHERE (?1 IS NULL OR t >= ?1) AND (?2 IS NULL OR instrument = ?2)
         ORDER BY t DESC, id DESC LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![since, instrument, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(2)?;
        let kind = EventKind::parse(&kind).ok_or(StoreError::BadRow { table: "event", column: "kind", value: kind })?;
        out.push(Event { t: r.get(0)?, instrument: r.get(1)?, kind, message: r.get(3)? });
    }
    Ok(out)
}
