//! Instruments, their connection state, and channels.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::{Result, StoreError};
use super::types::InstrumentState;
use crate::model::{ChannelId, ChannelRecord, ConnState, Text, TimeMs};

/// Adds the instrument or updates its configuration; keeps its state.
pub(crate) fn upsert_instrument(
    conn: &Connection,
    id: &str,
    name: &str,
    family: &str,
    target: &str,
    now: TimeMs,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO instrument (id, name, family, target, updated) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = ?2, family = ?3, target = ?4, updated = ?5
         WHERE name IS NOT ?2 OR family IS NOT ?3 OR target IS NOT ?4",
    )?
    .execute(params![id, name, family, target, now])?;
    Ok(())
}

pub(crate) fn set_state(
    conn: &Connection,
    id: &str,
    state: ConnState,
    reason: Option<&Text>,
    last_poll: Option<TimeMs>,
    now: TimeMs,
) -> Result<()> {
    // The English words for readers without translations (the CLI, logs),
    // the key and arguments for the window's language.
    let english = reason.map(|r| r.render("en"));
    let text = reason.and_then(|r| serde_json::to_string(r).ok());
    let n = conn
        .prepare_cached(
            "UPDATE instrument SET state = ?2, reason = ?3, last_poll = coalesce(?4, last_poll), updated = ?5,
             reason_text = ?6 WHERE id = ?1",
        )?
        .execute(params![id, state.as_str(), english, last_poll, now, text])?;
    if n == 0 {
        return Err(StoreError::UnknownInstrument(id.to_string()));
    }
    Ok(())
}

pub(crate) fn states(conn: &Connection) -> Result<Vec<InstrumentState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, family, target, state, reason, last_poll, updated, reason_text FROM instrument ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(4)?;
        let state = ConnState::parse(&state).ok_or(StoreError::BadRow {
            table: "instrument",
            column: "state",
            value: state,
        })?;
        out.push(InstrumentState {
            id: r.get(0)?,
            name: r.get(1)?,
            family: r.get(2)?,
            target: r.get(3)?,
            state,
            reason: r.get(5)?,
            last_poll: r.get(6)?,
            updated: r.get(7)?,
            reason_text: r.get::<_, Option<String>>(8)?.and_then(|j| serde_json::from_str(&j).ok()),
        });
    }
    Ok(out)
}

/// The channel's id, creating it (and updating its unit) as needed.
pub(crate) fn ensure_channel(
    conn: &Connection,
    instrument: &str,
    channel: &str,
    unit: Option<&str>,
) -> Result<ChannelId> {
    let known = conn
        .prepare_cached("SELECT 1 FROM instrument WHERE id = ?1")?
        .query_row([instrument], |_| Ok(()))
        .optional()?;
    if known.is_none() {
        return Err(StoreError::UnknownInstrument(instrument.to_string()));
    }
    let id = conn
        .prepare_cached(
            "INSERT INTO channel (instrument, name, unit) VALUES (?1, ?2, ?3)
             ON CONFLICT (instrument, name) DO UPDATE SET unit = ?3 WHERE unit IS NOT ?3
             RETURNING id",
        )?
        .query_row(params![instrument, channel, unit], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => Ok(id),
        // Unchanged existing row: the upsert returned nothing.
        None => Ok(conn
            .prepare_cached("SELECT id FROM channel WHERE instrument = ?1 AND name = ?2")?
            .query_row(params![instrument, channel], |r| r.get(0))?),
    }
}

fn record(r: &rusqlite::Row) -> rusqlite::Result<ChannelRecord> {
    Ok(ChannelRecord { id: r.get(0)?, instrument: r.get(1)?, channel: r.get(2)?, unit: r.get(3)? })
}

pub(crate) fn channels(conn: &Connection) -> Result<Vec<ChannelRecord>> {
    let mut stmt = conn.prepare_cached("SELECT id, instrument, name, unit FROM channel ORDER BY instrument, id")?;
    let rows = stmt.query_map([], record)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `instrument/channel`; the instrument id is everything before the first '/'.
pub(crate) fn find_channel(conn: &Connection, path: &str) -> Result<Option<ChannelRecord>> {
    let Some((instrument, channel)) = path.split_once('/').filter(|(i, c)| !i.is_empty() && !c.is_empty()) else {
        return Err(StoreError::BadChannelPath(path.to_string()));
    };
    Ok(conn
        .prepare_cached("SELECT id, instrument, name, unit FROM channel WHERE instrument = ?1 AND name = ?2")?
        .query_row(params![instrument, channel], record)
        .optional()?)
}
