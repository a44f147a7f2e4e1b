//! Older samples written below a channel's lowest seq (issue 17: the demo's
//! week of history behind a started agent).
//!
//! A channel normally numbers its samples in arrival order from 0. A caller
//! that knows it will have `n` older samples reserves their numbers first
//! (`start_at`: the channel's first appended sample gets seq `n`) and later
//! writes them, in any order of chunks, with `backfill` at seqs below
//! everything the channel holds. Reads in seq order then return time order
//! once the older samples are in, and the sync outbox gets each sample once:
//! a backfilled chunk adds closed outbox rows for exactly its seqs.
//!
//! A backfill does not touch the channel's row or tail, so another
//! connection (the agent's) may keep appending meanwhile; blocks are
//! encoded before the write lock is taken, so the agent waits only for the
//! inserts.

use rusqlite::{Connection, params};

use super::blocks::{Encoders, Job, Run, even_chunks, insert_block};
use super::error::{Result, StoreError};
use super::outbox::BATCH_CAP;
use super::tail::Live;
use crate::model::{ChannelId, Sample};

/// The lowest seq the channel holds (blocks or tail), or its next seq when
/// it holds none: a backfill must end at or below it.
pub(crate) fn seq_floor(conn: &Connection, live: &Live, channel: ChannelId) -> Result<i64> {
    let chan = live.channels.get(&channel).ok_or(StoreError::UnknownChannel(channel))?;
    let lowest: Option<i64> = conn
        .prepare_cached("SELECT min(seq_first) FROM block WHERE channel = ?1")?
        .query_row([channel], |r| r.get(0))?;
    Ok(lowest.map_or(chan.block_seq, |l| l.min(chan.block_seq)))
}

/// Numbers the first sample appended to `channel` `seq`; the channel must
/// hold no samples yet.
pub(crate) fn start_at(conn: &Connection, live: &Live, channel: ChannelId, seq: i64) -> Result<()> {
    let chan = live.channels.get(&channel).ok_or(StoreError::UnknownChannel(channel))?;
    let any_block = conn.prepare_cached("SELECT 1 FROM block WHERE channel = ?1 LIMIT 1")?.exists([channel])?;
    if seq < 0 || chan.next_seq != 0 || any_block || !chan.pending.is_empty() {
        return Err(StoreError::Backfill {
            channel,
            detail: format!("cannot number from seq {seq}: the channel already holds samples (or seq is negative)"),
        });
    }
    conn.prepare_cached("UPDATE channel SET next_seq = ?2, block_seq = ?2 WHERE id = ?1")?
        .execute(params![channel, seq])?;
    Ok(())
}

/// Encoded blocks of one backfill chunk: (seq_first, blob, summary, sum).
pub(crate) type Encoded = Vec<(i64, Vec<u8>, super::codec::Summary, f64)>;

/// Encodes `samples` (seqs `seq0..`) into blocks of at most `block_samples`,
/// without touching the database.
pub(crate) fn encode(
    encoders: &mut Encoders,
    channel: ChannelId,
    seq0: i64,
    samples: &[Sample],
    block_samples: usize,
) -> Result<Encoded> {
    let mut jobs = Vec::new();
    let mut seq = seq0;
    for chunk in even_chunks(samples, block_samples.max(1)).filter(|c| !c.is_empty()) {
        jobs.push(Job { plan: 0, seq, samples: Run::Kept(chunk) });
        seq += chunk.len() as i64;
    }
    let mut out = Vec::with_capacity(jobs.len());
    for (job, block) in jobs.iter().zip(encoders.encode(&jobs)) {
        let (blob, summary) = block.map_err(|e| StoreError::Corrupt {
            channel,
            location: format!("new block at seq {}", job.seq),
            detail: e.0,
        })?;
        let Run::Kept(x) = job.samples else { unreachable!("backfill jobs hold kept samples") };
        out.push((job.seq, blob, summary, super::stats::sum_of(x.iter().copied())));
    }
    Ok(out)
}

/// Inserts the encoded blocks of seqs `[seq0, seq0 + n)` and their closed
/// outbox rows, after checking they lie below everything the channel holds.
pub(crate) fn insert(
    tx: &Connection,
    live: &Live,
    channel: ChannelId,
    (seq0, n): (i64, i64),
    samples: &[Sample],
    blocks: &Encoded,
) -> Result<()> {
    let floor = seq_floor(tx, live, channel)?;
    if seq0 < 0 || seq0 + n > floor {
        return Err(StoreError::Backfill {
            channel,
            detail: format!(
                "seqs {seq0}..{} do not lie below the channel's lowest seq {floor} (and at or above 0)",
                seq0 + n
            ),
        });
    }
    for (seq, blob, summary, sum) in blocks {
        insert_block(tx, channel, *seq, blob, summary, *sum)?;
    }
    let mut insert =
        tx.prepare_cached("INSERT INTO outbox (channel, seq_from, seq_to, t_min) VALUES (?1, ?2, ?3, ?4)")?;
    let mut from = seq0;
    while from < seq0 + n {
        let to = (from + BATCH_CAP).min(seq0 + n);
        let piece = &samples[(from - seq0) as usize..(to - seq0) as usize];
        let t_min = piece.iter().map(|s| s.t).min().unwrap_or(0);
        insert.execute(params![channel, from, to, t_min])?;
        from = to;
    }
    Ok(())
}
