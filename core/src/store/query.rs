//! Reads: raw range, count, latest, M4 downsample.
//!
//! Samples come back in storage (arrival) order: blocks by seq, then the
//! pending (tail) samples. When a channel's samples arrived in time order, that is time order.
//! Only blocks whose `[t_min, t_max]` overlaps the query are read; M4 and
//! count use a block's summary columns whenever the whole block falls in one
//! bucket (or inside the range) and decode only the blocks that straddle.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::codec::{self, Decoded, Summary};
use super::error::{Result, StoreError};
use super::summaries::BlockBounds;
use super::tail::Live;
use super::types::{M4Bucket, MinMaxBucket};
use crate::model::{ChannelId, ChannelRecord, Sample, SpecialKind, TimeMs};

fn corrupt_block(channel: ChannelId, id: i64) -> impl Fn(codec::CodecError) -> StoreError {
    move |e| StoreError::Corrupt { channel, location: format!("block {id}"), detail: e.0 }
}

pub(crate) fn require_channel(conn: &Connection, channel: ChannelId) -> Result<()> {
    let found =
        conn.prepare_cached("SELECT 1 FROM channel WHERE id = ?1")?.query_row([channel], |_| Ok(())).optional()?;
    found.ok_or(StoreError::UnknownChannel(channel))
}

pub(crate) const BLOCKS_IN_RANGE: &str = "SELECT id, count, t_min, t_max, data FROM block
     WHERE channel = ?1 AND t_max >= ?2 AND t_min < ?3 ORDER BY seq_first";
/// Readers that need no arrival order walk the `block_summary` index in its
/// own order and read only its columns: no sort of every row (blobs
/// included, ~9 µs a block) and no row fetch; edge blocks' blobs are read
/// by id (`with_block_data`).
pub(crate) const BLOCK_BOUNDS_IN_RANGE: &str = "SELECT id, count, t_min, t_max FROM block
     WHERE channel = ?1 AND t_max >= ?2 AND t_min < ?3 ORDER BY t_max, seq_first";
const BLOCK_SUMMARIES_IN_RANGE: &str =
    "SELECT id, count, specials, t_min, t_max, first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v
     FROM block WHERE channel = ?1 AND t_max >= ?2 AND t_min < ?3 ORDER BY t_max, seq_first";

/// Runs `f` on the compressed data of block `id`.
fn with_block_data<T>(
    conn: &Connection,
    channel: ChannelId,
    id: i64,
    f: impl FnOnce(&[u8]) -> std::result::Result<T, codec::CodecError>,
) -> Result<T> {
    let mut stmt = conn.prepare_cached("SELECT data FROM block WHERE id = ?1")?;
    let mut rows = stmt.query([id])?;
    let row = rows.next()?.ok_or_else(|| StoreError::Corrupt {
        channel,
        location: format!("block {id}"),
        detail: "removed during the read".into(),
    })?;
    codec::blob(row.get_ref(0)?).and_then(f).map_err(corrupt_block(channel, id))
}
/// `pending` is the channel's tail (see `Live::pending`).
pub(crate) fn for_each_in_range(
    conn: &Connection,
    pending: &[Sample],
    channel: ChannelId,
    from: TimeMs,
    to: TimeMs,
    mut f: impl FnMut(Sample),
) -> Result<()> {
    require_channel(conn, channel)?;
    if to <= from {
        return Ok(());
    }
    let mut d = Decoded::default();
    let mut stmt = conn.prepare_cached(BLOCKS_IN_RANGE)?;
    let mut rows = stmt.query(params![channel, from, to])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let count: i64 = row.get(1)?;
        let (t_min, t_max): (i64, i64) = (row.get(2)?, row.get(3)?);
        codec::blob(row.get_ref(4)?)
            .and_then(|b| codec::decode_block(b, count.max(0) as usize, &mut d))
            .map_err(corrupt_block(channel, id))?;
        if t_min >= from && t_max < to {
            d.for_each(&mut f);
        } else {
            d.for_each(|s| {
                if s.t >= from && s.t < to {
                    f(s)
                }
            });
        }
    }
    pending.iter().filter(|s| s.t >= from && s.t < to).for_each(|s| f(*s));
    Ok(())
}

/// Samples in `[from, to)`; with `cap`, stops once more than `cap` are
/// counted and returns what it has (a value above `cap`): whether a range
/// is few enough to send raw needs no count of a year of blocks.
pub(crate) fn count_in_range(
    conn: &Connection,
    pending: &[Sample],
    channel: ChannelId,
    from: TimeMs,
    to: TimeMs,
    cap: Option<u64>,
) -> Result<u64> {
    require_channel(conn, channel)?;
    if to <= from {
        return Ok(0);
    }
    let mut total = 0u64;
    let mut ts = Vec::new();
    let mut stmt = conn.prepare_cached(BLOCK_BOUNDS_IN_RANGE)?;
    let mut rows = stmt.query(params![channel, from, to])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let count: i64 = row.get(1)?;
        let (t_min, t_max): (i64, i64) = (row.get(2)?, row.get(3)?);
        if t_min >= from && t_max < to {
            total += count.max(0) as u64;
        } else {
            with_block_data(conn, channel, id, |b| codec::decode_block_times(b, count.max(0) as usize, &mut ts))?;
            total += ts.iter().filter(|&&t| t >= from && t < to).count() as u64;
        }
        if cap.is_some_and(|c| total > c) {
            return Ok(total);
        }
    }
    total += pending.iter().filter(|s| s.t >= from && s.t < to).count() as u64;
    Ok(total)
}

/// `[first, last]` sample times of a channel (blocks and tail), if any.
pub(crate) fn extent(conn: &Connection, pending: &[Sample], channel: ChannelId) -> Result<Option<(TimeMs, TimeMs)>> {
    require_channel(conn, channel)?;
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .prepare_cached("SELECT MIN(t_min), MAX(t_max) FROM block WHERE channel = ?1")?
        .query_row([channel], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let lo = pending.iter().map(|s| s.t).chain(lo).min();
    let hi = pending.iter().map(|s| s.t).chain(hi).max();
    Ok(lo.zip(hi))
}

/// Each channel's most recently appended sample.
pub(crate) fn latest(conn: &Connection, live: &Live) -> Result<Vec<(ChannelRecord, Sample)>> {
    let mut stmt = conn.prepare_cached("SELECT id, instrument, name, unit FROM channel ORDER BY instrument, id")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let rec = ChannelRecord { id: row.get(0)?, instrument: row.get(1)?, channel: row.get(2)?, unit: row.get(3)? };
        if let Some(s) = live.channels.get(&rec.id).and_then(|c| c.latest) {
            out.push((rec, s));
        }
    }
    Ok(out)
}

/// `[from, to)` cut into `n` equal buckets with integer edges: sample `t`
/// belongs to bucket `floor((t - from) * n / (to - from))`.
struct Buckets {
    edges: Vec<i64>,
}

impl Buckets {
    fn new(from: TimeMs, to: TimeMs, n: usize) -> Buckets {
        let w = to as i128 - from as i128;
        let n128 = n as i128;
        // edge(i) = from + ceil(i * w / n): the smallest t with bucket >= i.
        let edges = (0..=n as i128).map(|i| (from as i128 + (i * w + n128 - 1) / n128) as i64).collect();
        Buckets { edges }
    }

    /// Bucket of `t`, which must lie in `[from, to)`; `hint` is the bucket
    /// of the previous sample (samples are mostly in time order).
    #[inline]
    fn of(&self, t: i64, hint: usize) -> usize {
        if let (Some(&lo), Some(&hi)) = (self.edges.get(hint), self.edges.get(hint + 1))
            && lo <= t
            && t < hi
        {
            return hint;
        }
        // Last edge <= t.
        self.edges.partition_point(|&e| e <= t).saturating_sub(1).min(self.edges.len().saturating_sub(2))
    }
}

pub(crate) fn summary_of(row: &Row) -> rusqlite::Result<Summary> {
    let pair = |t: usize, v: usize| -> rusqlite::Result<Option<(i64, f64)>> {
        Ok(match (row.get::<_, Option<i64>>(t)?, row.get::<_, Option<f64>>(v)?) {
            (Some(t), Some(v)) => Some((t, v)),
            _ => None,
        })
    };
    Ok(Summary {
        count: row.get::<_, i64>(1)?.max(0) as u64,
        specials: row.get::<_, i64>(2)?.max(0) as u64,
        t_min: row.get(3)?,
        t_max: row.get(4)?,
        first: pair(5, 6)?,
        last: pair(7, 8)?,
        min: pair(9, 10)?,
        max: pair(11, 12)?,
    })
}

pub(crate) fn m4(
    conn: &Connection,
    pending: &[Sample],
    channel: ChannelId,
    from: TimeMs,
    to: TimeMs,
    n: usize,
) -> Result<Vec<M4Bucket>> {
    require_channel(conn, channel)?;
    if n == 0 || to <= from {
        return Ok(Vec::new());
    }
    let buckets = Buckets::new(from, to, n);
    let mut sums = vec![Summary::default(); n];
    let mut d = Decoded::default();
    let mut hint = 0usize;
    let mut stmt = conn.prepare_cached(BLOCK_SUMMARIES_IN_RANGE)?;
    let mut rows = stmt.query(params![channel, from, to])?;
    while let Some(row) = rows.next()? {
        let s = summary_of(row)?;
        if s.t_min >= from && s.t_max < to {
            let b = buckets.of(s.t_min, hint);
            if buckets.of(s.t_max, b) == b {
                // Whole block in one bucket: its summary is enough.
                if let Some(sum) = sums.get_mut(b) {
                    sum.merge(&s);
                }
                hint = b;
                continue;
            }
        }
        let id: i64 = row.get(0)?;
        add_block(conn, (channel, id, s.count), &buckets, &mut sums, &mut hint, (from, to), &mut d)?;
    }
    add_pending(&buckets, &mut sums, hint, pending, from, to);
    Ok(sums
        .into_iter()
        .enumerate()
        .map(|(i, s)| M4Bucket {
            t_start: buckets.edges[i],
            t_end: buckets.edges[i + 1],
            count: s.count,
            specials: s.specials,
            first: s.first,
            last: s.last,
            min: s.min,
            max: s.max,
        })
        .collect())
}

/// Min and max per bucket, exact, for plots: like `m4` but a block that
/// straddles bucket edges is decoded only when its part in some bucket
/// could hold that bucket's extreme. Its own min and max are placed by
/// their timestamps from the summary; a neighbour bucket needs the decoded
/// samples only if the block's extreme beats what the bucket already has.
/// Over a year of 1 s data most edge blocks are then never decoded.
/// `blocks` are the channel's (`SummaryCache`), by (t_max, seq_first).
pub(crate) fn minmax(
    conn: &Connection,
    pending: &[Sample],
    channel: ChannelId,
    (from, to): (TimeMs, TimeMs),
    n: usize,
    blocks: &[BlockBounds],
) -> Result<Vec<MinMaxBucket>> {
    require_channel(conn, channel)?;
    if n == 0 || to <= from {
        return Ok(Vec::new());
    }
    let buckets = Buckets::new(from, to, n);
    let mut sums = vec![Summary::default(); n];
    let mut d = Decoded::default();
    let mut hint = 0usize;
    // (block id, count, first bucket, last bucket, block min, block max)
    type Deferred = (i64, u64, usize, usize, Option<(i64, f64)>, Option<(i64, f64)>);
    let mut deferred: Vec<Deferred> = Vec::new();
    // `blocks` are by t_max: those ending before `from` are skipped at once.
    let start = blocks.partition_point(|b| b.t_max < from);
    for s in blocks[start..].iter().filter(|b| b.t_min < to) {
        let id = s.id;
        if s.t_min >= from && s.t_max < to {
            let b0 = buckets.of(s.t_min, hint);
            let b1 = buckets.of(s.t_max, b0);
            hint = b1;
            let place = |sums: &mut [Summary], m: Option<(i64, f64)>, b: usize| {
                if let Some(sum) = sums.get_mut(b) {
                    sum.merge(&Summary { min: m, max: m, ..Summary::default() });
                }
            };
            if b0 == b1 {
                place(&mut sums, s.min, b0);
                place(&mut sums, s.max, b0);
            } else {
                if let Some(m) = s.min {
                    place(&mut sums, Some(m), buckets.of(m.0, b0));
                }
                if let Some(m) = s.max {
                    place(&mut sums, Some(m), buckets.of(m.0, b0));
                }
                deferred.push((id, s.count, b0, b1, s.min, s.max));
            }
            continue;
        }
        add_block(conn, (channel, id, s.count), &buckets, &mut sums, &mut hint, (from, to), &mut d)?;
    }
    let beats = |sums: &[Summary], &(_, _, b0, b1, min, max): &Deferred| {
        (b0..=b1).any(|b| {
            let cur = &sums[b];
            min.is_some_and(|m| cur.min.is_none_or(|c| m.1 < c.1))
                || max.is_some_and(|m| cur.max.is_none_or(|c| m.1 > c.1))
        })
    };
    let threads = decode_threads();
    if threads > 1 && deferred.len() >= PARALLEL_MIN_DECODE {
        // Dense raw data (1M points over a day, a block or two per pixel):
        // nearly every block straddles and beats a neighbour. Those that
        // may beat one as the summaries stand are decoded on all cores; a
        // block skipped one at a time below could not change a bucket
        // (the comparisons are strict), so the answer is the same.
        deferred.retain(|x| beats(&sums, x));
        let blocks: Vec<(i64, u64)> = deferred.iter().map(|x| (x.0, x.1)).collect();
        decode_parallel(conn, channel, &blocks, &buckets, &mut sums, (from, to), threads)?;
    } else {
        for x in deferred {
            if beats(&sums, &x) {
                let mut h = x.2;
                add_block(conn, (channel, x.0, x.1), &buckets, &mut sums, &mut h, (from, to), &mut d)?;
            }
        }
    }
    add_pending(&buckets, &mut sums, hint, pending, from, to);
    Ok(sums
        .into_iter()
        .enumerate()
        .map(|(i, s)| MinMaxBucket { t_start: buckets.edges[i], t_end: buckets.edges[i + 1], min: s.min, max: s.max })
        .collect())
}

/// Below this many blocks to decode, one thread does it (a thread's start
/// costs about as much as decoding a few blocks).
const PARALLEL_MIN_DECODE: usize = 64;

fn decode_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4))
}

/// Decodes `blocks` (id, count) and adds their samples in `range` to
/// `sums`: the blobs are read on this thread (one connection), decoded on
/// `threads` threads into buckets of their own, merged back in block order
/// (ties keep the first, as one thread would).
fn decode_parallel(
    conn: &Connection,
    channel: ChannelId,
    blocks: &[(i64, u64)],
    buckets: &Buckets,
    sums: &mut [Summary],
    (from, to): (TimeMs, TimeMs),
    threads: usize,
) -> Result<()> {
    let mut blobs = Vec::with_capacity(blocks.len());
    for &(id, count) in blocks {
        blobs.push((id, count, with_block_data(conn, channel, id, |b| Ok(b.to_vec()))?));
    }
    let (per, n) = (blobs.len().div_ceil(threads), sums.len());
    let work = |part: &[(i64, u64, Vec<u8>)]| -> Result<Vec<Summary>> {
        let mut mine = vec![Summary::default(); n];
        let mut d = Decoded::default();
        let mut hint = 0;
        for (id, count, blob) in part {
            codec::decode_block(blob, *count as usize, &mut d).map_err(corrupt_block(channel, *id))?;
            add_samples(buckets, &mut mine, &mut hint, from, to, &d.ts, &d.vals, &d.specials);
        }
        Ok(mine)
    };
    let parts: Vec<Result<Vec<Summary>>> = std::thread::scope(|scope| {
        let mut chunks = blobs.chunks(per);
        let first = chunks.next().unwrap_or(&[]);
        let handles: Vec<_> = chunks.map(|part| scope.spawn(move || work(part))).collect();
        let mut out = vec![work(first)];
        for h in handles {
            out.push(h.join().unwrap_or_else(|_| {
                Err(StoreError::Corrupt { channel, location: "blocks".into(), detail: "decoder thread failed".into() })
            }));
        }
        out
    });
    for part in parts {
        for (sum, p) in sums.iter_mut().zip(part?) {
            sum.merge(&p);
        }
    }
    Ok(())
}

/// The tail's samples in `[from, to)` into their buckets.
fn add_pending(buckets: &Buckets, sums: &mut [Summary], mut hint: usize, pending: &[Sample], from: TimeMs, to: TimeMs) {
    for s in pending.iter().filter(|s| s.t >= from && s.t < to) {
        hint = buckets.of(s.t, hint);
        if let Some(sum) = sums.get_mut(hint) {
            sum.add(*s);
        }
    }
}

/// Decodes block `(channel, id, count)` and adds its samples in `range`.
fn add_block(
    conn: &Connection,
    (channel, id, count): (ChannelId, i64, u64),
    buckets: &Buckets,
    sums: &mut [Summary],
    hint: &mut usize,
    (from, to): (TimeMs, TimeMs),
    d: &mut Decoded,
) -> Result<()> {
    with_block_data(conn, channel, id, |b| codec::decode_block(b, count as usize, d))?;
    add_samples(buckets, sums, hint, from, to, &d.ts, &d.vals, &d.specials);
    Ok(())
}

/// Adds a decoded block's samples in `[from, to)` to their buckets.
#[allow(clippy::too_many_arguments)]
fn add_samples(
    buckets: &Buckets,
    sums: &mut [Summary],
    hint: &mut usize,
    from: TimeMs,
    to: TimeMs,
    ts: &[i64],
    vals: &[f64],
    specials: &[(u32, SpecialKind)],
) {
    let mut next_special = specials.iter().map(|&(i, _)| i as usize).peekable();
    for (i, (&t, &v)) in ts.iter().zip(vals).enumerate() {
        let is_special = next_special.next_if_eq(&i).is_some();
        if t < from || t >= to {
            continue;
        }
        *hint = buckets.of(t, *hint);
        let Some(sum) = sums.get_mut(*hint) else { continue };
        if is_special {
            sum.add_special(t);
        } else {
            sum.add_number(t, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute_bucket(from: i64, to: i64, n: usize, t: i64) -> usize {
        ((t as i128 - from as i128) * n as i128 / (to as i128 - from as i128)) as usize
    }

    proptest! {
        #[test]
        fn bucket_edges_match_the_formula(from in -1_000_000i64..1_000_000, w in 1i64..100_000, n in 1usize..300, ts in prop::collection::vec(0i64..100_000, 1..50)) {
            let to = from + w;
            let b = Buckets::new(from, to, n);
            prop_assert_eq!(b.edges[0], from);
            prop_assert_eq!(b.edges[n], to);
            let mut hint = 0;
            for t in ts {
                let t = from + t % w;
                hint = b.of(t, hint);
                prop_assert_eq!(hint, brute_bucket(from, to, n, t));
                prop_assert!(b.edges[hint] <= t && t < b.edges[hint + 1]);
            }
        }
    }

    #[test]
    fn extreme_range_does_not_overflow() {
        let b = Buckets::new(i64::MIN, i64::MAX, 7);
        assert_eq!(b.edges[0], i64::MIN);
        assert_eq!(b.edges[7], i64::MAX);
        assert_eq!(b.of(0, 0), brute_bucket(i64::MIN, i64::MAX, 7, 0));
    }
}
