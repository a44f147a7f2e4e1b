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
        // Checked: a hostile block's extremes must not overflow (ingest
        // refuses times outside the years 0-9999, but this stays total).
        let step = if ts.len() == 1 {
            Some(0)
        } else {
            ts[1]
                .checked_sub(ts[0])
                .filter(|&step| step > 0 && ts.windows(2).all(|w| w[1].checked_sub(w[0]) == Some(step)))
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

/// The earliest time the cloud stores: 0000-01-01T00:00:00Z.
pub const MIN_TIME_MS: TimeMs = -62_167_219_200_000;
/// The latest: 9999-12-31T23:59:59.999Z. Spans within these stay far from
/// i64 overflow in every bucket and chunk computation.
pub const MAX_TIME_MS: TimeMs = 253_402_300_799_999;

/// What makes a decoded part unfit to store, with the sample it concerns.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BadSample {
    /// Index and time.
    Time(usize, i64),
    /// Index, time and the value (NaN or ±inf).
    NotFinite(usize, i64, f64),
}

/// The first sample of a decoded part the cloud refuses: a time outside
/// the years 0-9999, or a number that is NaN or infinite (agents send
/// those as special values; see docs/protocol.md).
fn first_bad_sample(d: &Decoded) -> Option<BadSample> {
    let mut specials = d.specials.iter().map(|&(i, _)| i as usize).peekable();
    for (i, (&t, &v)) in d.ts.iter().zip(&d.vals).enumerate() {
        if !(MIN_TIME_MS..=MAX_TIME_MS).contains(&t) {
            return Some(BadSample::Time(i, t));
        }
        if specials.peek() == Some(&i) {
            specials.next();
            continue;
        }
        if !v.is_finite() {
            return Some(BadSample::NotFinite(i, t, v));
        }
    }
    None
}

/// The path of part `i` in a payload's header, when the header reads
/// (for naming a refused part when a later part fails the wire checks).
fn part_path(payload: &[u8], i: usize) -> Option<String> {
    let len = u32::from_le_bytes(payload.get(4..8)?.try_into().ok()?) as usize;
    let head = payload.get(8..8usize.checked_add(len)?)?;
    let header: wire::BatchHeader = serde_json::from_slice(head).ok()?;
    header.channels.into_iter().nth(i).map(|c| c.path)
}

impl IngestBatch {
    /// Checks and decodes a payload (CPU work: callers keep it off the
    /// async threads). Besides the wire checks, every sample's time must lie
    /// in the years 0-9999 and every number must be finite.
    pub fn decode(payload: &[u8]) -> Result<IngestBatch, WireError> {
        let mut chunks = Vec::new();
        let mut bad: Option<(usize, BadSample)> = None;
        let decoded = wire::decode_batch_with(payload, |i, d| {
            if bad.is_some() {
                return;
            }
            if let Some(b) = first_bad_sample(d) {
                bad = Some((i, b));
                return;
            }
            chunks.resize(i, Vec::new());
            chunks.push(encode_chunks(&chunks_of(d)));
        });
        // A refused sample comes before any later wire error: name it.
        if let Some((i, b)) = bad {
            let path = part_path(payload, i).unwrap_or_default();
            let what = format!("channel {i} ({})", path.chars().take(40).collect::<String>());
            return Err(WireError(match b {
                BadSample::Time(k, t) => format!(
                    "{what}: sample {k} has the time {t} ms, outside the years 0 to 9999; fix the agent's clock"
                ),
                BadSample::NotFinite(k, t, v) => format!(
                    "{what}: sample {k} (t={t} ms) is {v}, not a finite number; send it as a special value (invalid)"
                ),
            }));
        }
        let batch = decoded?;
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

/// Where a stored sample sits, in export order: time, then storage
/// position (cache file by first arrival, part, index in the part). Unique
/// per sample, so a page ends exactly where the next begins even when
/// samples were stored out of time order or share a millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleKey {
    pub t: TimeMs,
    pub store: i64,
    pub seq: i64,
    pub idx: u32,
}

impl std::fmt::Display for SampleKey {
    /// The `after` cursor of the API: `t_store_seq_idx`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}_{}_{}", self.t, self.store, self.seq, self.idx)
    }
}

impl std::str::FromStr for SampleKey {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        // The time may be negative: split from the right.
        let mut it = s.rsplitn(4, '_');
        let idx = it.next().ok_or(())?.parse().map_err(|_| ())?;
        let seq = it.next().ok_or(())?.parse().map_err(|_| ())?;
        let store = it.next().ok_or(())?.parse().map_err(|_| ())?;
        let t = it.next().ok_or(())?.parse().map_err(|_| ())?;
        Ok(SampleKey { t, store, seq, idx })
    }
}

/// A stored part as the export pager needs it (its summary's time span).
#[derive(Clone, Copy, Debug)]
pub struct PartSpan {
    pub id: i64,
    pub store: i64,
    pub seq: i64,
    pub count: u64,
    pub t_min: TimeMs,
    pub t_max: TimeMs,
}

/// One page of samples with `from <= t < to`, in [`SampleKey`] order,
/// strictly after `after`, at most `limit`. `parts`: the channel's parts
/// that can hold such samples (`t_max >= max(from, after.t)`,
/// `t_min < to`), sorted by `t_min`.
///
/// Works in time windows `[lo, w)`: `w` is chosen so the parts starting
/// before it hold about a page, and every sample before `w` is in those
/// parts, so the window is complete and sorted once. A window short of a
/// page (samples before the cursor, or past `w`) moves on to the next.
/// A backend loops: [`TimePager::window`] names the parts to read,
/// [`TimePager::add`] takes them decoded, [`TimePager::finish`] the page.
pub struct TimePager<'a> {
    parts: &'a [PartSpan],
    to: TimeMs,
    after: Option<SampleKey>,
    limit: usize,
    lo: TimeMs,
    out: Vec<(SampleKey, Point)>,
    d: Decoded,
}

impl<'a> TimePager<'a> {
    pub fn new(parts: &'a [PartSpan], from: TimeMs, to: TimeMs, after: Option<SampleKey>, limit: usize) -> Self {
        let lo = after.map_or(from, |a| a.t.max(from));
        TimePager { parts, to, after, limit, lo, out: Vec::new(), d: Decoded::default() }
    }

    /// The next window's end and the parts it reads; `None` once the page is full or the range done.
    pub fn window(&self) -> Option<(TimeMs, Vec<PartSpan>)> {
        if self.out.len() >= self.limit || self.lo >= self.to {
            return None;
        }
        let need = (self.limit - self.out.len()) as u64;
        let live: Vec<&PartSpan> = self.parts.iter().filter(|p| p.t_max >= self.lo && p.t_min < self.to).collect();
        // Past the part where `need` samples are reached, at the next
        // larger start (so the window is never empty).
        let mut w = self.to;
        let mut acc = 0u64;
        for (i, p) in live.iter().enumerate() {
            acc += p.count;
            if acc >= need {
                let floor = p.t_min.max(self.lo);
                w = live[i + 1..].iter().map(|q| q.t_min).find(|&t| t > floor).map_or(self.to, |t| t.min(self.to));
                break;
            }
        }
        Some((w, live.into_iter().filter(|p| p.t_min < w).copied().collect()))
    }

    /// Adds the window ending at `w` from its `parts`, each decoded by `decode`.
    pub fn add(
        &mut self,
        w: TimeMs,
        parts: &[PartSpan],
        mut decode: impl FnMut(&PartSpan, &mut Decoded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (lo, after) = (self.lo, self.after);
        let mut window: Vec<(SampleKey, Point)> = Vec::new();
        for p in parts {
            decode(p, &mut self.d)?;
            let mut idx = 0u32;
            self.d.for_each(|s| {
                let key = SampleKey { t: s.t, store: p.store, seq: p.seq, idx };
                idx += 1;
                if s.t >= lo && s.t < w && after.is_none_or(|a| key > a) {
                    window.push((key, point(s)));
                }
            });
        }
        window.sort_unstable_by_key(|x| x.0);
        window.truncate(self.limit - self.out.len());
        self.out.extend(window);
        self.lo = w;
        Ok(())
    }

    pub fn finish(self) -> Vec<(SampleKey, Point)> {
        self.out
    }
}

/// [`TimePager`] with a synchronous block reader (SQLite).
pub fn page_in_time_order(
    parts: &[PartSpan],
    from: TimeMs,
    to: TimeMs,
    after: Option<SampleKey>,
    limit: usize,
    mut decode: impl FnMut(&PartSpan, &mut Decoded) -> Result<(), StoreError>,
) -> Result<Vec<(SampleKey, Point)>, StoreError> {
    let mut pager = TimePager::new(parts, from, to, after, limit);
    while let Some((w, window)) = pager.window() {
        pager.add(w, &window, &mut decode)?;
    }
    Ok(pager.finish())
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

    /// A one-part batch of these samples, encoded as an agent would.
    fn batch_of(samples: &[Sample]) -> Vec<u8> {
        let parts =
            [wire::PartIn { path: "dev/x", unit: None, seq_from: 1, seq_to: 1 + samples.len() as i64, samples }];
        wire::encode_batch("s", 1, 0, 0, &parts, &mut EncodeScratch::default()).unwrap()
    }

    #[test]
    fn extreme_timestamps_are_refused_without_overflow() {
        let hostile = [Sample::number(i64::MIN, 1.0), Sample::number(0, 2.0), Sample::number(i64::MAX, 3.0)];
        // The chunk summary itself is total (it used to overflow on the step).
        let mut d = Decoded::default();
        codec::decode_block(&codec::encode_block(&hostile, &mut EncodeScratch::default()).unwrap().0, 3, &mut d)
            .unwrap();
        assert_eq!(chunks_of(&d)[0].step, None);
        let err = IngestBatch::decode(&batch_of(&hostile)).unwrap_err().0;
        assert!(err.contains("channel 0 (dev/x): sample 0") && err.contains("outside the years 0 to 9999"), "{err}");
        // The edges of the range are fine.
        let edges = [Sample::number(MIN_TIME_MS, 1.0), Sample::number(MAX_TIME_MS, 2.0)];
        assert!(IngestBatch::decode(&batch_of(&edges)).is_ok());
        let past = [Sample::number(0, 1.0), Sample::number(MAX_TIME_MS + 1, 2.0)];
        assert!(IngestBatch::decode(&batch_of(&past)).unwrap_err().0.contains("sample 1"));
    }

    #[test]
    fn non_finite_numbers_are_refused_specials_are_not() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let samples = [Sample::number(1_000, 1.0), Sample::number(2_000, v)];
            let err = IngestBatch::decode(&batch_of(&samples)).unwrap_err().0;
            assert!(err.contains("sample 1") && err.contains("not a finite number"), "{v}: {err}");
        }
        let ok = [Sample::number(1_000, 1.0), Sample::special(2_000, SpecialKind::Invalid)];
        assert!(IngestBatch::decode(&batch_of(&ok)).is_ok());
    }

    fn hostile_time() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::prelude::*;
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0i64),
            Just(MIN_TIME_MS - 1),
            Just(MAX_TIME_MS + 1),
            any::<i64>(),
            (MIN_TIME_MS..=MAX_TIME_MS),
        ]
    }

    fn hostile_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Number(f64::NAN)),
            Just(Value::Number(f64::INFINITY)),
            Just(Value::Number(f64::MAX)),
            Just(Value::Number(-0.0)),
            any::<f64>().prop_map(Value::Number),
            Just(Value::Special(SpecialKind::OverRange)),
        ]
    }

    proptest::proptest! {
        /// Hostile blocks (extreme or unordered times, NaN, infinities,
        /// specials) never panic: they are refused with a message, or what
        /// is accepted has every time in range and every number finite, and
        /// its summaries and downsampling work.
        #[test]
        fn hostile_blocks_never_panic(samples in proptest::collection::vec((hostile_time(), hostile_value()), 1..40)) {
            let samples: Vec<Sample> = samples.into_iter().map(|(t, value)| Sample { t, value }).collect();
            let Ok((block, _)) = codec::encode_block(&samples, &mut EncodeScratch::default()) else { return Ok(()) };
            let mut d = Decoded::default();
            codec::decode_block(&block, samples.len(), &mut d).unwrap();
            let chunks = chunks_of(&d);
            decode_chunks(&encode_chunks(&chunks), samples.len() as u64, || "part".into()).unwrap();
            match IngestBatch::decode(&batch_of(&samples)) {
                Err(e) => proptest::prop_assert!(e.0.starts_with("channel 0 (dev/x): sample "), "{}", e.0),
                Ok(b) => {
                    let s = b.batch.parts[0].summary.unwrap();
                    proptest::prop_assert!(s.t_min >= MIN_TIME_MS && s.t_max <= MAX_TIME_MS);
                    let mut m = MinMaxAcc::new(MIN_TIME_MS, MAX_TIME_MS + 1, 7);
                    if !m.add_summary(&s) {
                        m.add_chunks(0, s.count, &chunks);
                        m.add_times(0, &d.ts);
                        m.add_values_from(&[(0, s.count, block.as_slice())]).unwrap();
                    }
                    proptest::prop_assert_eq!(m.finish().iter().map(|b| b.count).sum::<u64>(), s.count);
                }
            }
        }
    }

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_764_547_199_999), "2025-11");
        assert_eq!(month_of(1_764_547_200_000), "2025-12");
    }
}
