//! Pure time-series logic shared by both storage backends: bucket edges,
//! min/max downsampling from part summaries (decoding only the parts a
//! bucket edge cuts), and the raw read of decoded parts. No SQL here.

use std::collections::HashMap;

use meterdeck_wire::Value;
use meterdeck_wire::codec::{self, Decoded, Summary};
use meterdeck_wire::sync::{self as wire, Batch, WireError};

use super::{MinMax, Point, StoreError, TimeMs};

/// The summary columns of one stored part, as both backends read them.
#[derive(Clone, Copy, Debug)]
pub struct PartSummary {
    /// Backend row id, to fetch the block when it must be decoded.
    pub id: i64,
    pub summary: Summary,
}

/// Builds a summary from its stored columns; a half-null pair is no pair.
#[allow(clippy::too_many_arguments)]
pub fn summary_from_columns(
    count: i64,
    specials: i64,
    t_min: i64,
    t_max: i64,
    first: (Option<i64>, Option<f64>),
    last: (Option<i64>, Option<f64>),
    min: (Option<i64>, Option<f64>),
    max: (Option<i64>, Option<f64>),
) -> Summary {
    let pair = |p: (Option<i64>, Option<f64>)| p.0.zip(p.1);
    Summary {
        count: count.max(0) as u64,
        specials: specials.max(0) as u64,
        t_min,
        t_max,
        first: pair(first),
        last: pair(last),
        min: pair(min),
        max: pair(max),
    }
}

/// `[from, to)` cut into `n` equal buckets with integer edges: sample `t`
/// belongs to bucket `floor((t - from) * n / (to - from))`.
#[derive(Clone, Debug)]
pub struct Buckets {
    pub edges: Vec<i64>,
}

impl Buckets {
    /// `n >= 1` and `to > from`; callers check.
    pub fn new(from: TimeMs, to: TimeMs, n: usize) -> Buckets {
        let w = to as i128 - from as i128;
        let n128 = n as i128;
        // edge(i) = from + ceil(i * w / n): the smallest t with bucket >= i.
        let edges = (0..=n128).map(|i| (from as i128 + (i * w + n128 - 1) / n128) as i64).collect();
        Buckets { edges }
    }

    pub fn len(&self) -> usize {
        self.edges.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn from(&self) -> i64 {
        self.edges[0]
    }

    pub fn to(&self) -> i64 {
        self.edges[self.edges.len() - 1]
    }

    /// Bucket of `t`, or `None` outside `[from, to)`. `hint`: the bucket of
    /// the previous sample (samples are mostly in time order).
    #[inline]
    pub fn of(&self, t: i64, hint: usize) -> Option<usize> {
        if t < self.from() || t >= self.to() {
            return None;
        }
        if let (Some(&lo), Some(&hi)) = (self.edges.get(hint), self.edges.get(hint + 1))
            && lo <= t
            && t < hi
        {
            return Some(hint);
        }
        // Last edge <= t (empty buckets share an edge with the next one).
        Some(self.edges.partition_point(|&e| e <= t) - 1)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    count: u64,
    min: Option<(i64, f64)>,
    max: Option<(i64, f64)>,
}

impl Acc {
    /// The smaller value wins; of equal values the earlier time, so the
    /// result does not depend on the order parts are fed in.
    #[inline]
    fn min(&mut self, m: (i64, f64)) {
        if self.min.is_none_or(|c| m.1 < c.1 || (m.1 == c.1 && m.0 < c.0)) {
            self.min = Some(m);
        }
    }
    #[inline]
    fn max(&mut self, m: (i64, f64)) {
        if self.max.is_none_or(|c| m.1 > c.1 || (m.1 == c.1 && m.0 < c.0)) {
            self.max = Some(m);
        }
    }
}

/// Samples per chunk: a part's chunk summaries let a bucket edge cut a
/// chunk of this size instead of a whole part. 61 bytes per 1024 samples
/// (about 6% of a typical block); smaller chunks barely save decoding when
/// buckets are narrow (edge chunks hold the extremes of monotonic stretches
/// anyway) and cost storage.
pub const CHUNK: usize = 1024;
const CHUNK_BYTES: usize = 4 + 1 + 8 * 7;

/// Summary of one run of [`CHUNK`] samples (the last may be shorter) of a
/// part, in storage order: stored beside the block, so a bucket edge
/// through a part costs reading a few kilobytes, not decoding the block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chunk {
    pub n: u32,
    pub t_min: i64,
    pub t_max: i64,
    /// `Some(step)` when sample `i` is at exactly `t_min + i * step`
    /// (step > 0, or a single sample): counts per bucket need no decoding.
    pub step: Option<i64>,
    /// Numeric extremes (ties: the earlier sample).
    pub min: Option<(i64, f64)>,
    pub max: Option<(i64, f64)>,
}

/// The chunk summaries of a decoded part.
pub fn chunks_of(d: &Decoded) -> Vec<Chunk> {
    let n = d.ts.len();
    let mut out = Vec::with_capacity(n.div_ceil(CHUNK));
    let mut specials = d.specials.iter().peekable();
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let ts = &d.ts[start..end];
        let mut acc = Acc::default();
        let (mut t_min, mut t_max) = (i64::MAX, i64::MIN);
        for (i, &t) in ts.iter().enumerate() {
            t_min = t_min.min(t);
            t_max = t_max.max(t);
            if specials.peek().is_some_and(|&&(si, _)| si as usize == start + i) {
                specials.next();
                continue;
            }
            acc.min((t, d.vals[start + i]));
            acc.max((t, d.vals[start + i]));
        }
        let step = if ts.len() == 1 {
            Some(0)
        } else {
            let step = ts[1] - ts[0];
            (step > 0 && ts.windows(2).all(|w| w[1] - w[0] == step)).then_some(step)
        };
        out.push(Chunk { n: ts.len() as u32, t_min, t_max, step, min: acc.min, max: acc.max });
    }
    out
}

pub fn encode_chunks(chunks: &[Chunk]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunks.len() * CHUNK_BYTES);
    for c in chunks {
        let flags = u8::from(c.min.is_some()) | (u8::from(c.max.is_some()) << 1) | (u8::from(c.step.is_some()) << 2);
        out.extend_from_slice(&c.n.to_le_bytes());
        out.push(flags);
        for x in [c.t_min, c.t_max, c.step.unwrap_or(0), c.min.map_or(0, |m| m.0), c.max.map_or(0, |m| m.0)] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for x in [c.min.map_or(0.0, |m| m.1), c.max.map_or(0.0, |m| m.1)] {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// Reads chunk summaries back; they must cover exactly `count` samples.
pub fn decode_chunks(bytes: &[u8], count: u64, what: impl Fn() -> String) -> Result<Vec<Chunk>, StoreError> {
    if !bytes.len().is_multiple_of(CHUNK_BYTES) {
        return Err(StoreError::Corrupt(format!("{}: chunk summaries of {} bytes", what(), bytes.len())));
    }
    let i64_at = |b: &[u8], o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
    let mut out = Vec::with_capacity(bytes.len() / CHUNK_BYTES);
    for b in bytes.chunks_exact(CHUNK_BYTES) {
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let flags = b[4];
        let f = |o: usize| f64::from_bits(i64_at(b, o) as u64);
        out.push(Chunk {
            n,
            t_min: i64_at(b, 5),
            t_max: i64_at(b, 13),
            step: (flags & 4 != 0).then(|| i64_at(b, 21)),
            min: (flags & 1 != 0).then(|| (i64_at(b, 29), f(45))),
            max: (flags & 2 != 0).then(|| (i64_at(b, 37), f(53))),
        });
    }
    if out.iter().map(|c| u64::from(c.n)).sum::<u64>() != count || out.iter().any(|c| c.n == 0 || c.t_min > c.t_max) {
        return Err(StoreError::Corrupt(format!("{}: chunk summaries do not match the part", what())));
    }
    Ok(out)
}

/// A chunk cut by a bucket edge whose values were not read.
#[derive(Clone, Copy, Debug)]
struct Deferred {
    part: i64,
    count: u64,
    /// Sample indexes `[i0, i1)` in the part.
    i0: usize,
    i1: usize,
    /// Buckets its samples may fall in.
    b0: usize,
    b1: usize,
    min: Option<(i64, f64)>,
    max: Option<(i64, f64)>,
    /// Where its own extremes were placed (they are exact there).
    b_min: Option<usize>,
    b_max: Option<usize>,
    /// Not counted yet: its timestamps are irregular.
    needs_times: bool,
}

/// Min/max downsampling of `[from, to)`, exact, reading as little as it can:
///
/// 1. every part overlapping the range goes to [`MinMaxAcc::add_summary`];
///    a part wholly inside one bucket is merged from its summary;
/// 2. the parts it refuses (cut by a bucket edge or a range end) go with
///    their chunk summaries to [`MinMaxAcc::add_chunks`]: chunks inside one
///    bucket merge; a cut chunk is counted from its step when its samples
///    are evenly spaced, and its own min and max are placed in their buckets;
/// 3. [`MinMaxAcc::times_needed`] names the parts with cut irregular chunks,
///    whose timestamps go to [`MinMaxAcc::add_times`] (exact counts);
/// 4. [`MinMaxAcc::values_needed`] names the parts with a cut chunk whose
///    values could still beat a bucket's extreme; only those are decoded
///    in full, for [`MinMaxAcc::add_values`].
///
/// Counts include special values; min and max are numeric only, ties go to
/// the earlier sample.
pub struct MinMaxAcc {
    buckets: Buckets,
    acc: Vec<Acc>,
    hint: usize,
    deferred: Vec<Deferred>,
}

impl MinMaxAcc {
    pub fn new(from: TimeMs, to: TimeMs, n: usize) -> MinMaxAcc {
        let buckets = Buckets::new(from, to, n);
        MinMaxAcc { acc: vec![Acc::default(); buckets.len()], buckets, hint: 0, deferred: Vec::new() }
    }

    /// Whether [`MinMaxAcc::add_summary`] will refuse this part (its chunk
    /// summaries are needed): lets a backend fetch them up front.
    pub fn needs_chunks(&self, s: &Summary) -> bool {
        if s.count == 0 {
            return false;
        }
        match (self.buckets.of(s.t_min, 0), self.buckets.of(s.t_max, 0)) {
            (Some(b0), Some(b1)) => b0 != b1,
            _ => true,
        }
    }

    /// Merges a part lying wholly inside one bucket; `false` when its
    /// timestamps are needed ([`MinMaxAcc::add_times`]).
    pub fn add_summary(&mut self, s: &Summary) -> bool {
        if s.count == 0 {
            return true;
        }
        let Some(b0) = self.buckets.of(s.t_min, self.hint) else { return false };
        let Some(b1) = self.buckets.of(s.t_max, b0) else { return false };
        if b0 != b1 {
            return false;
        }
        self.hint = b0;
        let a = &mut self.acc[b0];
        a.count += s.count;
        if let Some(m) = s.min {
            a.min(m);
        }
        if let Some(m) = s.max {
            a.max(m);
        }
        true
    }

    /// Adds a cut part by its chunk summaries (see the type's doc).
    pub fn add_chunks(&mut self, part: i64, count: u64, chunks: &[Chunk]) {
        let (from, to) = (self.buckets.from(), self.buckets.to());
        let mut i0 = 0usize;
        for c in chunks {
            let i1 = i0 + c.n as usize;
            if c.t_max < from || c.t_min >= to {
                i0 = i1;
                continue; // wholly outside the range
            }
            let b0 = self.buckets.of(c.t_min.max(from), self.hint).unwrap_or(0);
            let b1 = self.buckets.of(c.t_max.min(to - 1), b0).unwrap_or(b0);
            self.hint = b1;
            if b0 == b1 && c.t_min >= from && c.t_max < to {
                let a = &mut self.acc[b0];
                a.count += u64::from(c.n);
                if let Some(m) = c.min {
                    a.min(m);
                }
                if let Some(m) = c.max {
                    a.max(m);
                }
                i0 = i1;
                continue;
            }
            let needs_times = match c.step {
                Some(step) => {
                    self.count_regular(c.t_min, step, c.n, b0, b1);
                    false
                }
                None => true,
            };
            let b_min = c.min.and_then(|m| self.buckets.of(m.0, b0));
            let b_max = c.max.and_then(|m| self.buckets.of(m.0, b0));
            if let (Some(b), Some(m)) = (b_min, c.min) {
                self.acc[b].min(m);
            }
            if let (Some(b), Some(m)) = (b_max, c.max) {
                self.acc[b].max(m);
            }
            let (min, max) = (c.min, c.max);
            self.deferred.push(Deferred { part, count, i0, i1, b0, b1, min, max, b_min, b_max, needs_times });
            i0 = i1;
        }
    }

    /// Counts `n` samples at `t0 + i * step` into buckets `b0..=b1`.
    fn count_regular(&mut self, t0: i64, step: i64, n: u32, b0: usize, b1: usize) {
        // Samples before time t: i < ceil((t - t0) / step), within [0, n].
        let before = |t: i64| -> u64 {
            if t <= t0 {
                0
            } else if step == 0 {
                u64::from(n)
            } else {
                let k = (t as i128 - t0 as i128 + step as i128 - 1) / step as i128;
                (k.min(i128::from(n))) as u64
            }
        };
        for b in b0..=b1 {
            let (lo, hi) = (self.buckets.edges[b], self.buckets.edges[b + 1]);
            self.acc[b].count += before(hi) - before(lo);
        }
    }

    /// `(part id, count)` of the parts whose timestamps are needed.
    pub fn times_needed(&self) -> Vec<(i64, u64)> {
        let mut out: Vec<(i64, u64)> =
            self.deferred.iter().filter(|d| d.needs_times).map(|d| (d.part, d.count)).collect();
        out.dedup();
        out
    }

    /// Counts the irregular cut chunks of `part` from its timestamps.
    pub fn add_times(&mut self, part: i64, ts: &[i64]) {
        let (buckets, acc, hint) = (&self.buckets, &mut self.acc, &mut self.hint);
        for d in self.deferred.iter_mut().filter(|d| d.part == part && d.needs_times) {
            d.needs_times = false;
            for &t in ts.get(d.i0..d.i1).unwrap_or_default() {
                if let Some(b) = buckets.of(t, *hint) {
                    *hint = b;
                    acc[b].count += 1;
                }
            }
        }
    }

    /// `(part id, count)` of the parts whose values must be read: in some
    /// bucket other than where a cut chunk's extreme lies, that extreme
    /// would win, so the chunk's samples there might.
    pub fn values_needed(&self) -> Vec<(i64, u64)> {
        let mut out: Vec<(i64, u64)> = self
            .deferred
            .iter()
            .filter(|d| {
                (d.b0..=d.b1).any(|b| {
                    let a = &self.acc[b];
                    let min = d.b_min != Some(b) && d.min.is_some_and(|m| a.min.is_none_or(|c| m.1 <= c.1));
                    let max = d.b_max != Some(b) && d.max.is_some_and(|m| a.max.is_none_or(|c| m.1 >= c.1));
                    min || max
                })
            })
            .map(|d| (d.part, d.count))
            .collect();
        out.dedup();
        out
    }

    /// Decodes the blocks [`MinMaxAcc::values_needed`] named, given as
    /// `(part id, count, block)`, and adds the extremes of their cut chunks.
    /// Blocks decode independently: large sets are split over the cores.
    pub fn add_values_from(&mut self, blocks: &[(i64, u64, &[u8])]) -> Result<(), StoreError> {
        let mut ranges: HashMap<i64, Vec<(usize, usize)>> = HashMap::new();
        for x in &self.deferred {
            ranges.entry(x.part).or_default().push((x.i0, x.i1));
        }
        let threads =
            if blocks.len() < 16 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()).min(4) };
        let per = blocks.len().div_ceil(threads).max(1);
        let (buckets, ranges) = (&self.buckets, &ranges);
        let found: Vec<Result<Vec<(usize, Acc)>, StoreError>> = if threads == 1 {
            vec![chunk_extremes(buckets, ranges, blocks)]
        } else {
            std::thread::scope(|sc| {
                let handles: Vec<_> =
                    blocks.chunks(per).map(|part| sc.spawn(move || chunk_extremes(buckets, ranges, part))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err(StoreError::Db("a block decoder thread failed".into()))))
                    .collect()
            })
        };
        for r in found {
            for (b, a) in r? {
                if let Some(m) = a.min {
                    self.acc[b].min(m);
                }
                if let Some(m) = a.max {
                    self.acc[b].max(m);
                }
            }
        }
        Ok(())
    }

    /// Counts, min and max of a decoded part, whatever its extent (the
    /// simple path: decode every part `add_summary` refuses).
    pub fn add_decoded(&mut self, d: &Decoded) {
        let count = true;
        let ts = &d.ts;
        if d.specials.is_empty() && ts.is_sorted() {
            // The common part: numbers in time order. Slice per bucket.
            let start = ts.partition_point(|&t| t < self.buckets.from());
            let end = ts.partition_point(|&t| t < self.buckets.to());
            let mut i = start;
            while i < end {
                let b = self.buckets.of(ts[i], self.hint).unwrap_or(0);
                self.hint = b;
                let hi = self.buckets.edges[b + 1];
                let j = i + ts[i..end].partition_point(|&t| t < hi);
                let a = &mut self.acc[b];
                if count {
                    a.count += (j - i) as u64;
                }
                let (mut lo_i, mut hi_i) = (i, i);
                for k in i + 1..j {
                    if d.vals[k] < d.vals[lo_i] {
                        lo_i = k;
                    }
                    if d.vals[k] > d.vals[hi_i] {
                        hi_i = k;
                    }
                }
                a.min((ts[lo_i], d.vals[lo_i]));
                a.max((ts[hi_i], d.vals[hi_i]));
                i = j;
            }
            return;
        }
        let (buckets, acc, hint) = (&self.buckets, &mut self.acc, &mut self.hint);
        d.for_each(|s| {
            if let Some(b) = buckets.of(s.t, *hint) {
                *hint = b;
                let a = &mut acc[b];
                if count {
                    a.count += 1;
                }
                if let Value::Number(v) = s.value {
                    a.min((s.t, v));
                    a.max((s.t, v));
                }
            }
        });
    }

    pub fn finish(self) -> Vec<MinMax> {
        let edges = self.buckets.edges;
        self.acc
            .into_iter()
            .enumerate()
            .map(|(i, a)| MinMax {
                t_start: edges[i],
                t_end: edges[i + 1],
                count: a.count,
                min: a.min.map(|(t, v)| Point { t, v: Some(v) }),
                max: a.max.map(|(t, v)| Point { t, v: Some(v) }),
            })
            .collect()
    }
}

/// A checked batch with the chunk summaries of its parts, both from the
/// one decode of every block that checks the payload: what
/// [`Storage::ingest`](super::Storage::ingest) stores.
#[derive(Clone, Debug)]
pub struct IngestBatch {
    pub batch: Batch,
    /// Encoded chunk summaries, in part order; empty for a part without samples.
    pub chunks: Vec<Vec<u8>>,
}

impl IngestBatch {
    /// Checks and decodes a payload (CPU work: callers keep it off the
    /// async threads).
    pub fn decode(payload: &[u8]) -> Result<IngestBatch, WireError> {
        let mut chunks = Vec::new();
        let batch = wire::decode_batch_with(payload, |i, d| {
            chunks.resize(i, Vec::new());
            chunks.push(encode_chunks(&chunks_of(d)));
        })?;
        chunks.resize(batch.parts.len(), Vec::new());
        Ok(IngestBatch { batch, chunks })
    }
}

/// Per bucket, the numeric extremes of the sample ranges `ranges[part]`
/// of each block.
fn chunk_extremes(
    buckets: &Buckets,
    ranges: &HashMap<i64, Vec<(usize, usize)>>,
    blocks: &[(i64, u64, &[u8])],
) -> Result<Vec<(usize, Acc)>, StoreError> {
    let mut d = Decoded::default();
    let mut out: Vec<(usize, Acc)> = Vec::new();
    let mut hint = 0;
    for &(id, count, block) in blocks {
        decode(block, count, || format!("part {id}"), &mut d)?;
        for &(i0, i1) in ranges.get(&id).map(Vec::as_slice).unwrap_or_default() {
            let i1 = i1.min(d.ts.len());
            // Specials inside the range (sorted by index): skipped.
            let sp0 = d.specials.partition_point(|&(i, _)| (i as usize) < i0);
            let mut specials = d.specials[sp0..].iter().map(|&(i, _)| i as usize).peekable();
            let mut cur: Option<(usize, Acc)> = None;
            for i in i0..i1 {
                if specials.peek() == Some(&i) {
                    specials.next();
                    continue;
                }
                let t = d.ts[i];
                let Some(b) = buckets.of(t, hint) else { continue };
                hint = b;
                if cur.as_ref().is_some_and(|c| c.0 != b) {
                    out.extend(cur.take());
                }
                let a = &mut cur.get_or_insert((b, Acc::default())).1;
                a.min((t, d.vals[i]));
                a.max((t, d.vals[i]));
            }
            out.extend(cur);
        }
    }
    Ok(out)
}

/// Decodes only the timestamps of a stored block.
pub fn decode_times(
    block: &[u8],
    count: u64,
    what: impl FnOnce() -> String,
    ts: &mut Vec<i64>,
) -> Result<(), StoreError> {
    codec::decode_block_times(block, count as usize, ts).map_err(|e| StoreError::Corrupt(format!("{}: {e}", what())))
}

/// Decodes a stored block, naming the part when it does not.
pub fn decode(block: &[u8], count: u64, what: impl FnOnce() -> String, d: &mut Decoded) -> Result<(), StoreError> {
    codec::decode_block(block, count as usize, d).map_err(|e| StoreError::Corrupt(format!("{}: {e}", what())))
}

/// Appends the samples of a decoded part with `from <= t < to` to `out`,
/// up to `limit` in all; `false` once the limit is reached.
pub fn push_raw(d: &Decoded, from: TimeMs, to: TimeMs, limit: usize, out: &mut Vec<Point>) -> bool {
    let mut full = out.len() >= limit;
    if full {
        return false;
    }
    d.for_each(|s| {
        if full || s.t < from || s.t >= to {
            return;
        }
        out.push(point(s));
        full = out.len() >= limit;
    });
    !full
}

pub fn point(s: meterdeck_wire::Sample) -> Point {
    match s.value {
        Value::Number(v) => Point { t: s.t, v: Some(v) },
        Value::Special(_) => Point { t: s.t, v: None },
    }
}

/// The last sample at `t` in a decoded part (storage order), if any.
pub fn last_at(d: &Decoded, t: TimeMs) -> Option<Point> {
    let mut found = None;
    d.for_each(|s| {
        if s.t == t {
            found = Some(point(s));
        }
    });
    found
}

/// `YYYY-MM` (UTC) of a time in ms, the traffic month.
pub fn month_of(t_ms: TimeMs) -> String {
    chrono::DateTime::from_timestamp_millis(t_ms).unwrap_or_default().format("%Y-%m").to_string()
}

/// Checks a downsampling request; `None` when it is empty.
pub fn check_range(from: TimeMs, to: TimeMs, buckets: usize) -> Result<bool, StoreError> {
    // Guards the allocation against absurd requests from the API.
    const MAX_BUCKETS: usize = 100_000;
    if buckets > MAX_BUCKETS {
        return Err(StoreError::Db(format!("{buckets} buckets requested, at most {MAX_BUCKETS}")));
    }
    Ok(buckets > 0 && to > from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meterdeck_wire::codec::EncodeScratch;
    use meterdeck_wire::{Sample, SpecialKind};

    fn brute(samples: &[Sample], from: i64, to: i64, n: usize) -> Vec<MinMax> {
        let b = Buckets::new(from, to, n);
        let mut acc = vec![Acc::default(); n];
        for s in samples {
            if let Some(i) = b.of(s.t, 0) {
                acc[i].count += 1;
                if let Value::Number(v) = s.value {
                    acc[i].min((s.t, v));
                    acc[i].max((s.t, v));
                }
            }
        }
        let mut m = MinMaxAcc::new(from, to, n);
        m.acc = acc;
        m.finish()
    }

    #[test]
    fn buckets_cover_the_range_exactly() {
        let b = Buckets::new(0, 10, 3);
        assert_eq!(b.edges, vec![0, 4, 7, 10]);
        assert_eq!(b.of(-1, 0), None);
        assert_eq!(b.of(10, 0), None);
        assert_eq!((0..10).map(|t| b.of(t, 0).unwrap()).collect::<Vec<_>>(), vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
        // More buckets than milliseconds: empty buckets, every t still placed.
        let b = Buckets::new(0, 3, 7);
        for t in 0..3 {
            let i = b.of(t, 5).unwrap();
            assert!(b.edges[i] <= t && t < b.edges[i + 1]);
        }
    }

    #[test]
    fn summaries_and_decoded_parts_match_brute_force() {
        let mut all = Vec::new();
        let mut parts = Vec::new();
        let mut t = 0;
        for p in 0..20 {
            let samples: Vec<Sample> = (0..(50 + p * 7) * if p % 4 == 0 { 20 } else { 1 })
                .map(|i| {
                    t += if p % 3 == 0 { 1 + (i % 3) } else { 2 };
                    if i % 17 == 5 {
                        Sample::special(t, SpecialKind::OverRange)
                    } else {
                        Sample::number(t, ((i * 7919 + p * 31) % 1000) as f64 - 500.0)
                    }
                })
                .collect();
            all.extend_from_slice(&samples);
            parts.push(codec::encode_block(&samples, &mut EncodeScratch::default()).unwrap());
        }
        let mut paths = (0, 0, 0, 0);
        for (from, to, n) in [
            (0, t + 1, 1),
            (0, t + 1, 37),
            (100, 900, 13),
            (5, 6, 3),
            (-50, t * 2, 1000),
            (t / 3, 2 * t / 3, 77),
            (0, t, 5000),
        ] {
            let want = brute(&all, from, to, n);
            // All cut parts decoded whole.
            let mut m = MinMaxAcc::new(from, to, n);
            let mut d = Decoded::default();
            for (block, s) in &parts {
                if !m.add_summary(s) {
                    decode(block, s.count, || "part".into(), &mut d).unwrap();
                    m.add_decoded(&d);
                }
            }
            assert_eq!(m.finish(), want, "{from}..{to} / {n}");
            // Chunk summaries, timestamps and values only where needed.
            let mut m = MinMaxAcc::new(from, to, n);
            for (id, (block, s)) in parts.iter().enumerate() {
                if !m.add_summary(s) {
                    decode(block, s.count, || "part".into(), &mut d).unwrap();
                    let bytes = encode_chunks(&chunks_of(&d));
                    m.add_chunks(id as i64, s.count, &decode_chunks(&bytes, s.count, || "part".into()).unwrap());
                }
            }
            // (cut chunks, counted from their step, parts needing times)
            paths.0 += m.deferred.len();
            paths.1 += m.deferred.iter().filter(|x| !x.needs_times).count();
            paths.2 += m.times_needed().len();
            let mut ts = Vec::new();
            for (id, count) in m.times_needed() {
                decode_times(&parts[id as usize].0, count, || "part".into(), &mut ts).unwrap();
                m.add_times(id, &ts);
            }
            let needed = m.values_needed();
            let blocks: Vec<(i64, u64, &[u8])> =
                needed.iter().map(|&(id, count)| (id, count, parts[id as usize].0.as_slice())).collect();
            paths.3 += blocks.len();
            m.add_values_from(&blocks).unwrap();
            assert_eq!(m.finish(), want, "{from}..{to} / {n} (chunks)");
        }
        // Every path was taken: regular and irregular cut chunks, values read.
        assert!(paths.1 > 0 && paths.1 < paths.0 && paths.2 > 0 && paths.3 > 0, "{paths:?}");
    }

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_764_547_199_999), "2025-11");
        assert_eq!(month_of(1_764_547_200_000), "2025-12");
    }
}
