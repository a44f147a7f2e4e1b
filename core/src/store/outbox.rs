//! The sync outbox. A row references a channel's samples `[seq_from,
//! seq_to)` rather than copying them. Each channel has at most one open row
//! (`seq_to = OPEN`) that grows with every append at no cost; a new row is
//! only written when the open one reaches `BATCH_CAP` samples or was handed
//! out. `outbox_next` closes the rows it hands out (so later samples go to a
//! new row and acknowledging never drops unsent samples) and reads their
//! samples back from blocks and tail. Ids only grow (AUTOINCREMENT); per
//! channel, rows are in sample order.

use std::collections::HashMap;

use rusqlite::{Connection, MAIN_DB, params};

use super::codec::{self, Decoded};
use super::error::{Result, StoreError};
use super::tail::{Live, OPEN};
use super::types::{OutboxBatch, OutboxStats};
use crate::model::{ChannelId, Sample};

/// Most samples one batch holds.
pub const BATCH_CAP: i64 = 10_000;

/// Registers `new`, which got seqs `seq0..`, in the outbox. `open` is the
/// channel's open row (id, seq_from); returns the open row afterwards.
pub(crate) fn record(
    tx: &Connection,
    channel: ChannelId,
    open: Option<(i64, i64)>,
    seq0: i64,
    new: &[(ChannelId, Sample)],
) -> Result<Option<(i64, i64)>> {
    let end = seq0 + new.len() as i64;
    let mut from = match open {
        Some((id, f)) if end - f <= BATCH_CAP => return Ok(Some((id, f))),
        Some((id, f)) => {
            // Full: close it at the cap (never before its last sample).
            let close = (f + BATCH_CAP).max(seq0);
            tx.prepare_cached("UPDATE outbox SET seq_to = ?2 WHERE id = ?1")?.execute([id, close])?;
            close
        }
        None => seq0,
    };
    let mut insert =
        tx.prepare_cached("INSERT INTO outbox (channel, seq_from, seq_to, t_min) VALUES (?1, ?2, ?3, ?4)")?;
    loop {
        let to = (from + BATCH_CAP).min(end);
        let piece = new.get((from - seq0).max(0) as usize..(to - seq0).max(0) as usize).unwrap_or(&[]);
        let t_min = piece.iter().map(|s| s.1.t).min().unwrap_or(0);
        if to >= end {
            insert.execute(params![channel, from, OPEN, t_min])?;
            return Ok(Some((tx.last_insert_rowid(), from)));
        }
        insert.execute(params![channel, from, to, t_min])?;
        from = to;
    }
}

/// The oldest `limit` batches with their samples. On a writable store the
/// open rows among them are closed first; returns the channels whose open
/// row was closed. On a read-only store this is only a look.
pub(crate) fn next(conn: &Connection, live: &Live, limit: usize) -> Result<(Vec<OutboxBatch>, Vec<ChannelId>)> {
    let limit = limit.min(i64::MAX as usize) as i64;
    let writable = !conn.is_readonly(MAIN_DB)?;
    let rows: Vec<(i64, ChannelId, i64, i64)> = conn
        .prepare_cached("SELECT id, channel, seq_from, seq_to FROM outbox ORDER BY id LIMIT ?1")?
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut closed = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut scratch = Decoded::default();
    for (id, channel, from, seq_to) in rows {
        let next_seq = live.channels.get(&channel).map_or(from, |c| c.next_seq);
        let to = seq_to.min(next_seq);
        if writable && seq_to == OPEN {
            conn.prepare_cached("UPDATE outbox SET seq_to = ?2 WHERE id = ?1")?.execute([id, to])?;
            closed.push(channel);
        }
        let samples = samples_by_seq(conn, live, channel, from, to, &mut scratch)?;
        out.push(OutboxBatch { id, channel, seq_from: from, seq_to: to, samples });
    }
    Ok((out, closed))
}

/// The channel's samples with seq in `[from, to)` that still exist
/// (retention may have deleted some), in seq order.
pub(crate) fn samples_by_seq(
    conn: &Connection,
    live: &Live,
    channel: ChannelId,
    from: i64,
    to: i64,
    d: &mut Decoded,
) -> Result<Vec<Sample>> {
    let mut out = Vec::with_capacity((to - from).clamp(0, BATCH_CAP) as usize);
    // Start at the block that contains `from`.
    let start: Option<i64> = conn
        .prepare_cached("SELECT max(seq_first) FROM block WHERE channel = ?1 AND seq_first <= ?2")?
        .query_row(params![channel, from], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, seq_first, count, data FROM block
         WHERE channel = ?1 AND seq_first >= ?2 AND seq_first < ?3 ORDER BY seq_first",
    )?;
    let mut rows = stmt.query(params![channel, start.unwrap_or(from), to])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let seq: i64 = row.get(1)?;
        let count: i64 = row.get(2)?;
        codec::blob(row.get_ref(3)?)
            .and_then(|b| codec::decode_block(b, count.max(0) as usize, d))
            .map_err(|e| StoreError::Corrupt { channel, location: format!("block {id}"), detail: e.0 })?;
        let mut s = seq;
        d.for_each(|sample| {
            if (from..to).contains(&s) {
                out.push(sample);
            }
            s += 1;
        });
    }
    let (first, pending) = live.pending(channel);
    out.extend(pending.iter().zip(first..).filter(|(_, s)| (from..to).contains(s)).map(|(x, _)| *x));
    Ok(out)
}

/// Deletes an acknowledged batch. Unknown or already acknowledged ids do
/// nothing (a resent ack after a crash is harmless); so does an open batch,
/// which `outbox_next` never hands out.
pub(crate) fn ack(conn: &Connection, batch_id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE id = ?1 AND seq_to != ?2")?.execute([batch_id, OPEN])?;
    Ok(())
}

pub(crate) fn stats(conn: &Connection, live: &Live) -> Result<OutboxStats> {
    let mut stmt = conn.prepare_cached("SELECT channel, seq_from, seq_to, t_min FROM outbox")?;
    let mut rows = stmt.query([])?;
    let mut st = OutboxStats::default();
    while let Some(r) = rows.next()? {
        let (channel, from, to, t_min): (ChannelId, i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let next_seq = live.channels.get(&channel).map_or(from, |c| c.next_seq);
        st.batches += 1;
        st.samples += (to.min(next_seq) - from).max(0) as u64;
        st.oldest = Some(st.oldest.map_or(t_min, |o: i64| o.min(t_min)));
    }
    Ok(st)
}

/// Per channel, the first seq still waiting for the cloud: blocks wholly
/// before it are synced.
pub(crate) fn unsynced_from(conn: &Connection) -> Result<HashMap<ChannelId, i64>> {
    let mut stmt = conn.prepare_cached("SELECT channel, min(seq_from) FROM outbox GROUP BY channel")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Drops outbox rows of `channel` whose samples are all gone (retention).
pub(crate) fn drop_orphans(conn: &Connection, live: &Live, channel: ChannelId) -> Result<u64> {
    let rows: Vec<(i64, i64, i64)> = conn
        .prepare_cached("SELECT id, seq_from, seq_to FROM outbox WHERE channel = ?1")?
        .query_map([channel], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let (pending_from, pending) = live.pending(channel);
    let pending_to = pending_from + pending.len() as i64;
    let mut dropped = 0;
    for (id, from, to) in rows {
        let in_tail = !pending.is_empty() && pending_from < to && from < pending_to;
        if to != OPEN && !in_tail && !any_block_in(conn, channel, from, to)? {
            conn.prepare_cached("DELETE FROM outbox WHERE id = ?1")?.execute([id])?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// Whether a block of the channel holds a seq in `[from, to)`.
fn any_block_in(conn: &Connection, channel: ChannelId, from: i64, to: i64) -> Result<bool> {
    // The block starting at or before `from` may reach into the range...
    let covers: Option<bool> = conn
        .prepare_cached(
            "SELECT seq_first + count > ?2 FROM block WHERE channel = ?1 AND seq_first <= ?2
             ORDER BY seq_first DESC LIMIT 1",
        )?
        .query_row(params![channel, from], |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    if covers == Some(true) {
        return Ok(true);
    }
    // ...or one starts inside it.
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM block WHERE channel = ?1 AND seq_first > ?2 AND seq_first < ?3 LIMIT 1")?;
    Ok(stmt.exists(params![channel, from, to])?)
}
