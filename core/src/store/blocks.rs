//! The write path: one transaction per `append`.
//!
//! Per channel, new samples join the durable tail (`tail.rs`) until the
//! channel has a block's worth (`block_samples`); then its pending samples
//! and the new ones are cut into compressed blocks in the same transaction.
//! Small appends (the agent's polls) thus fill `block_samples`-sized
//! blocks, and a bulk append goes straight into blocks without a raw copy:
//! it is split evenly into blocks of between half and all of
//! `block_samples` rather than leaving a remainder in the tail.
//!
//! The tail is bounded: above `TAIL_MAX_SAMPLES` pending samples or
//! `TAIL_MAX_BYTES` of tail rows, the channels holding the oldest tail rows
//! are flushed into smaller blocks (a slowly polled channel among fast ones
//! would otherwise pin every row written since its oldest pending sample).
//!
//! Samples keep their arrival order within a channel (each gets the next
//! `seq`); timestamps need not be increasing or unique.

use std::borrow::Cow;

use rusqlite::{Connection, params};

use super::codec::{self, AsSample, CodecError, EncodeScratch, Summary};
use super::error::{Result, StoreError};
use super::outbox;
use super::tail::{self, IdMap, Live};
use crate::model::{ChannelId, Sample, Value};

/// Most pending samples the tail holds before old ones are forced into
/// blocks (~32 MB on disk, ~48 MB in memory).
#[cfg(not(test))]
pub const TAIL_MAX_SAMPLES: usize = 1 << 21;
#[cfg(test)]
pub const TAIL_MAX_SAMPLES: usize = 1 << 14;
/// Most bytes of tail rows (live or pinned by a live one).
#[cfg(not(test))]
pub const TAIL_MAX_BYTES: u64 = 64 << 20;
#[cfg(test)]
pub const TAIL_MAX_BYTES: u64 = 256 << 10;
/// A forced flush brings the tail down to these, so it does not recur on
/// every append.
const SHRINK_TO_SAMPLES: usize = TAIL_MAX_SAMPLES / 4 * 3;
const SHRINK_TO_BYTES: u64 = TAIL_MAX_BYTES / 4 * 3;

/// The live tail state, loaded or reloaded when another connection wrote.
pub(crate) fn fresh<'a>(conn: &Connection, slot: &'a mut Option<Live>) -> Result<&'a mut Live> {
    let stale = match slot {
        Some(live) => tail::data_version(conn)? != live.data_version,
        None => true,
    };
    if stale {
        *slot = None;
    }
    match slot {
        Some(live) => Ok(live),
        None => Ok(slot.insert(Live::load(conn)?)),
    }
}

pub(crate) fn append(
    conn: &mut Connection,
    slot: &mut Option<Live>,
    block_samples: usize,
    encoders: &mut Encoders,
    samples: &[(ChannelId, Sample)],
) -> Result<()> {
    if samples.is_empty() {
        return Ok(());
    }
    let bs = block_samples.max(1);
    let grouped = group_by_channel(samples, std::mem::take(&mut encoders.grouped));
    let tagged: &[(ChannelId, Sample)] = &grouped.samples;
    let result = (|| -> Result<()> {
        let tx = conn.transaction()?;
        let live = fresh(&tx, slot)?;
        let mut plans = Vec::with_capacity(grouped.channels.len());
        for (channel, range) in &grouped.channels {
            let chan = live.channels.get(channel).ok_or(StoreError::UnknownChannel(*channel))?;
            let new = &tagged[range.clone()];
            let flush = chan.pending.len() + new.len() >= bs;
            plans.push(Plan { channel: *channel, new, flush });
        }
        let done = write(&tx, live, &plans, bs, encoders)?;
        tx.commit()?;
        apply(live, &plans, done);
        Ok(())
    })();
    if result.is_err() {
        // The transaction rolled back; the in-memory tail may be ahead.
        *slot = None;
    }
    if let Cow::Owned(buf) = grouped.samples {
        encoders.grouped = buf;
    }
    result?;
    if slot.as_ref().is_some_and(|l| l.pending_total > TAIL_MAX_SAMPLES || l.log_bytes > TAIL_MAX_BYTES) {
        shrink(conn, slot, bs, encoders)?;
    }
    Ok(())
}

/// Flushes the channels holding the oldest tail rows into blocks until the
/// tail is back under `SHRINK_TO_SAMPLES` and `SHRINK_TO_BYTES`.
fn shrink(conn: &mut Connection, slot: &mut Option<Live>, bs: usize, encoders: &mut Encoders) -> Result<()> {
    let result = (|| -> Result<()> {
        let tx = conn.transaction()?;
        let live = fresh(&tx, slot)?;
        let mut oldest: Vec<(i64, ChannelId)> =
            live.channels.iter().filter_map(|(id, c)| c.oldest_row.map(|r| (r, *id))).collect();
        oldest.sort_unstable();
        // Flush channels oldest row first; after flushing a prefix, the
        // watermark is the next channel's oldest row.
        let mut pending = live.pending_total;
        let mut bytes = live.log_bytes;
        let mut rows = live.rows.iter().peekable();
        let mut plans = Vec::new();
        let mut at = 0;
        while let Some(&(row, _)) = oldest.get(at) {
            while let Some((_, b)) = rows.next_if(|(id, _)| **id < row) {
                bytes = bytes.saturating_sub(*b);
            }
            if pending <= SHRINK_TO_SAMPLES && bytes <= SHRINK_TO_BYTES {
                break;
            }
            while let Some(&(_, channel)) = oldest.get(at).filter(|(r, _)| *r == row) {
                pending = pending.saturating_sub(live.channels.get(&channel).map_or(0, |c| c.pending.len()));
                plans.push(Plan { channel, new: &[], flush: true });
                at += 1;
            }
        }
        let done = write(&tx, live, &plans, bs, encoders)?;
        tx.commit()?;
        apply(live, &plans, done);
        Ok(())
    })();
    if result.is_err() {
        *slot = None;
    }
    result
}

/// What to do with one channel in this transaction.
struct Plan<'a> {
    channel: ChannelId,
    /// As appended (tagged, not yet normalised).
    new: &'a [(ChannelId, Sample)],
    /// Pending + new samples become blocks now; else `new` joins the tail.
    flush: bool,
}

/// What `write` did, for `apply` after the commit.
struct Done {
    /// The tail row written for this append: (id, bytes).
    log_row: Option<(i64, u64)>,
    /// Tail rows below this were deleted.
    watermark: i64,
    outbox_open: IdMap<Option<(i64, i64)>>,
}

/// Writes blocks, the tail row, the outbox and the flushed channels' rows,
/// and deletes tail rows nothing pending is left in. Reads `live` but does
/// not change it.
fn write(tx: &Connection, live: &Live, plans: &[Plan], bs: usize, encoders: &mut Encoders) -> Result<Done> {
    let chan_of = |p: &Plan| live.channels.get(&p.channel).ok_or(StoreError::UnknownChannel(p.channel));

    // Blocks: pending + new samples of flushing channels.
    let mut runs: Vec<(usize, i64, Vec<Sample>)> = Vec::new();
    for (i, p) in plans.iter().enumerate().filter(|(_, p)| p.flush) {
        let chan = chan_of(p)?;
        if !chan.pending.is_empty() {
            let mut all = Vec::with_capacity(chan.pending.len() + p.new.len());
            all.extend_from_slice(&chan.pending);
            all.extend(p.new.iter().map(|x| x.sample()));
            runs.push((i, chan.block_seq, all));
        }
    }
    let mut jobs: Vec<Job> = Vec::new();
    let mut owned = runs.iter().peekable();
    for (i, p) in plans.iter().enumerate().filter(|(_, p)| p.flush) {
        let chan = chan_of(p)?;
        match owned.next_if(|r| r.0 == i) {
            Some((_, seq0, all)) => {
                let mut seq = *seq0;
                for chunk in even_chunks(all, bs).filter(|c| !c.is_empty()) {
                    jobs.push(Job { plan: i, seq, samples: Run::Kept(chunk) });
                    seq += chunk.len() as i64;
                }
            }
            None => {
                let mut seq = chan.next_seq;
                for chunk in even_chunks(p.new, bs).filter(|c| !c.is_empty()) {
                    jobs.push(Job { plan: i, seq, samples: Run::New(chunk) });
                    seq += chunk.len() as i64;
                }
            }
        }
    }
    let encoded = encoders.encode(&jobs);
    for (job, block) in jobs.iter().zip(encoded) {
        let channel = plans[job.plan].channel;
        let (blob, summary) = block.map_err(|e| StoreError::Corrupt {
            channel,
            location: format!("new block at seq {}", job.seq),
            detail: e.0,
        })?;
        let sum = match job.samples {
            Run::Kept(x) => super::stats::sum_of(x.iter().copied()),
            Run::New(x) => super::stats::sum_of(x.iter().map(|x| x.1)),
        };
        insert_block(tx, channel, job.seq, &blob, &summary, sum)?;
    }

    // The tail row: this append's samples of channels that do not flush.
    let mut fragments = Vec::new();
    for p in plans.iter().filter(|p| !p.flush && !p.new.is_empty()) {
        fragments.push((p.channel, chan_of(p)?.next_seq, p.new));
    }
    let log_row = if fragments.is_empty() {
        None
    } else {
        let data = tail::encode_log_row(&fragments);
        tx.prepare_cached("INSERT INTO tail_log (data) VALUES (?1)")?.execute([&data])?;
        Some((tx.last_insert_rowid(), data.len() as u64))
    };

    // Flushed channels record how far their blocks reach.
    for p in plans.iter().filter(|p| p.flush) {
        let chan = chan_of(p)?;
        let latest = p.new.last().map(|x| x.sample()).or(chan.latest);
        update_channel(tx, p.channel, chan.next_seq + p.new.len() as i64, latest)?;
    }

    // Tail rows older than every channel's oldest pending row are dead.
    let mut after: IdMap<Option<i64>> = IdMap::default();
    for p in plans {
        let chan = chan_of(p)?;
        let oldest = if p.flush {
            None
        } else if p.new.is_empty() {
            chan.oldest_row
        } else {
            chan.oldest_row.or(log_row.map(|r| r.0))
        };
        after.insert(p.channel, oldest);
    }
    let watermark = live
        .channels
        .iter()
        .filter_map(|(id, c)| after.get(id).copied().unwrap_or(c.oldest_row))
        .min()
        .unwrap_or(i64::MAX);
    if live.rows.first_key_value().is_some_and(|(id, _)| *id < watermark) {
        tx.prepare_cached("DELETE FROM tail_log WHERE id < ?1")?.execute([watermark])?;
    }

    let mut outbox_open = IdMap::default();
    for p in plans.iter().filter(|p| !p.new.is_empty()) {
        let chan = chan_of(p)?;
        let open = outbox::record(tx, p.channel, chan.outbox_open, chan.next_seq, p.new)?;
        outbox_open.insert(p.channel, open);
    }
    Ok(Done { log_row, watermark, outbox_open })
}

/// Brings the in-memory tail in line with what `write` committed.
fn apply(live: &mut Live, plans: &[Plan], done: Done) {
    let kept = live.rows.split_off(&done.watermark);
    live.log_bytes = live.log_bytes.saturating_sub(live.rows.values().sum::<u64>());
    live.rows = kept;
    if let Some((row, bytes)) = done.log_row {
        live.rows.insert(row, bytes);
        live.log_bytes += bytes;
    }
    for p in plans {
        let Some(chan) = live.channels.get_mut(&p.channel) else { continue };
        let n = p.new.len() as i64;
        if p.flush {
            live.pending_total = live.pending_total.saturating_sub(chan.pending.len());
            chan.pending.clear();
            chan.oldest_row = None;
            chan.block_seq = chan.next_seq + n;
        } else if let Some((row, _)) = done.log_row
            && n > 0
        {
            chan.pending.extend(p.new.iter().map(|x| x.sample()));
            chan.oldest_row.get_or_insert(row);
            live.pending_total += n as usize;
        }
        chan.next_seq += n;
        if let Some(last) = p.new.last() {
            chan.latest = Some(last.sample());
        }
        if let Some(open) = done.outbox_open.get(&p.channel) {
            chan.outbox_open = *open;
        }
    }
}

/// Samples grouped per channel (first-appearance order), arrival order kept
/// inside each channel. Borrowed when each channel's samples are already
/// contiguous (bulk appends), so they are read once, by the encoders.
struct Grouped<'a> {
    channels: Vec<(ChannelId, std::ops::Range<usize>)>,
    samples: Cow<'a, [(ChannelId, Sample)]>,
}

fn group_by_channel(input: &[(ChannelId, Sample)], mut buf: Vec<(ChannelId, Sample)>) -> Grouped<'_> {
    // Runs of one channel: a bulk append is a few long runs, a poll is many
    // runs of one sample. Hash per run, copy per sample.
    let mut runs: Vec<(ChannelId, usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=input.len() {
        if i == input.len() || input[i].0 != input[start].0 {
            runs.push((input[start].0, start, i));
            start = i;
        }
    }
    let mut slot_of: IdMap<usize> = IdMap::default();
    // (channel, samples, runs as index ranges)
    type Runs = Vec<(usize, usize)>;
    let mut per_channel: Vec<(ChannelId, usize, Runs)> = Vec::new();
    for &(ch, a, b) in &runs {
        let slot = *slot_of.entry(ch).or_insert_with(|| {
            per_channel.push((ch, 0, Vec::new()));
            per_channel.len() - 1
        });
        per_channel[slot].1 += b - a;
        per_channel[slot].2.push((a, b));
    }
    if per_channel.len() == runs.len() {
        let channels = runs.into_iter().map(|(ch, a, b)| (ch, a..b)).collect();
        return Grouped { channels, samples: Cow::Borrowed(input) };
    }
    buf.clear();
    buf.reserve(input.len());
    let mut channels = Vec::with_capacity(per_channel.len());
    for (ch, n, parts) in per_channel {
        let at = buf.len();
        for (a, b) in parts {
            buf.extend_from_slice(&input[a..b]);
        }
        channels.push((ch, at..at + n));
    }
    Grouped { channels, samples: Cow::Owned(buf) }
}

/// Splits `all` into the fewest chunks of at most `max` samples, sizes
/// differing by at most one.
pub(super) fn even_chunks<T>(all: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let k = all.len().div_ceil(max).max(1);
    let (base, extra) = (all.len() / k, all.len() % k);
    let mut start = 0;
    (0..k).map(move |i| {
        let len = base + usize::from(i < extra);
        let chunk = &all[start..start + len];
        start += len;
        chunk
    })
}

/// One block to compress.
pub(super) struct Job<'a> {
    pub(super) plan: usize,
    pub(super) seq: i64,
    pub(super) samples: Run<'a>,
}

/// A block's samples: kept ones (tail + new) or straight from the caller.
#[derive(Clone, Copy)]
pub(super) enum Run<'a> {
    Kept(&'a [Sample]),
    New(&'a [(ChannelId, Sample)]),
}

impl Run<'_> {
    fn encode(self, s: &mut EncodeScratch) -> std::result::Result<(Vec<u8>, Summary), CodecError> {
        match self {
            Run::Kept(x) => codec::encode_block(x, s),
            Run::New(x) => codec::encode_block(x, s),
        }
    }
}

/// Block encoders, one scratch per worker thread, and the regrouping buffer.
pub(crate) struct Encoders {
    scratch: Vec<EncodeScratch>,
    grouped: Vec<(ChannelId, Sample)>,
}

/// Below this many blocks an append is encoded on the calling thread.
const PARALLEL_MIN_BLOCKS: usize = 8;

impl Encoders {
    pub(crate) fn new() -> Encoders {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        Encoders { scratch: (0..threads).map(|_| EncodeScratch::default()).collect(), grouped: Vec::new() }
    }

    pub(super) fn encode(&mut self, jobs: &[Job]) -> Vec<std::result::Result<(Vec<u8>, Summary), CodecError>> {
        let threads = if jobs.len() < PARALLEL_MIN_BLOCKS { 1 } else { self.scratch.len() };
        let mut scratch = self.scratch.iter_mut();
        if threads <= 1 {
            let Some(s) = scratch.next() else { return Vec::new() };
            return jobs.iter().map(|j| j.samples.encode(s)).collect();
        }
        let per = jobs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = jobs.chunks(per).zip(scratch);
            let Some((mine, my_scratch)) = parts.next() else { return Vec::new() };
            let handles: Vec<_> = parts
                .map(|(part, s)| {
                    let handle = scope.spawn(move || part.iter().map(|j| j.samples.encode(s)).collect::<Vec<_>>());
                    (part.len(), handle)
                })
                .collect();
            let mut out: Vec<_> = mine.iter().map(|j| j.samples.encode(my_scratch)).collect();
            for (len, handle) in handles {
                match handle.join() {
                    Ok(part) => out.extend(part),
                    Err(_) => out.extend((0..len).map(|_| Err(CodecError("encoder thread failed".into())))),
                }
            }
            out
        })
    }
}

/// Records how far the channel's blocks reach and its latest sample.
fn update_channel(tx: &Connection, channel: ChannelId, end: i64, latest: Option<Sample>) -> Result<()> {
    let (lt, lv, lc) = match latest {
        Some(Sample { t, value: Value::Number(v) }) => (Some(t), Some(v), None),
        Some(Sample { t, value: Value::Special(k) }) => (Some(t), None, Some(k.code() as i64)),
        None => (None, None, None),
    };
    tx.prepare_cached(
        "UPDATE channel SET next_seq = ?2, block_seq = ?2, latest_t = ?3, latest_v = ?4, latest_code = ?5
         WHERE id = ?1",
    )?
    .execute(params![channel, end, lt, lv, lc])?;
    Ok(())
}

pub(super) fn insert_block(
    tx: &Connection,
    channel: ChannelId,
    seq: i64,
    blob: &[u8],
    s: &Summary,
    sum: f64,
) -> Result<()> {
    let Summary { count, specials, t_min, t_max, first, last, min, max } = *s;
    tx.prepare_cached(
        "INSERT INTO block (channel, seq_first, count, specials, t_min, t_max,
            first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v, data, sum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        channel,
        seq,
        count as i64,
        specials as i64,
        t_min,
        t_max,
        first.map(|x| x.0),
        first.map(|x| x.1),
        last.map(|x| x.0),
        last.map(|x| x.1),
        min.map(|x| x.0),
        min.map(|x| x.1),
        max.map(|x| x.0),
        max.map(|x| x.1),
        blob,
        sum
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_arrival_order_per_channel() {
        let input: Vec<(ChannelId, Sample)> =
            vec![(2, Sample::number(1, 1.0)), (1, Sample::number(2, 2.0)), (2, Sample::number(0, 3.0))];
        let g = group_by_channel(&input, Vec::new());
        assert_eq!(g.channels, vec![(2, 0..2), (1, 2..3)]);
        assert_eq!(g.samples[0].1.t, 1);
        assert_eq!(g.samples[1].1.t, 0);
        assert_eq!(g.samples[2].1.t, 2);
        // Already grouped: borrowed, not copied.
        let g = group_by_channel(&input[1..], Vec::new());
        assert!(matches!(g.samples, Cow::Borrowed(_)));
        assert_eq!(g.channels, vec![(1, 0..1), (2, 1..2)]);
    }

    #[test]
    fn even_chunks_are_at_most_max_and_at_least_half() {
        let s = vec![Sample::number(0, 0.0); 100];
        for len in 1..100 {
            for max in 1..40 {
                let sizes: Vec<usize> = even_chunks(&s[..len], max).map(|c| c.len()).collect();
                assert_eq!(sizes.iter().sum::<usize>(), len);
                assert_eq!(sizes.len(), len.div_ceil(max));
                assert!(sizes.iter().all(|&n| n <= max && (len < max || n >= max / 2)), "{len} {max} {sizes:?}");
            }
        }
    }
}
