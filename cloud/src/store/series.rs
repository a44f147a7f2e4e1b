//! Pure time-series logic shared by both storage backends: bucket edges,
//! min/max downsampling from part summaries (decoding only the parts a
//! bucket edge cuts), and the raw read of decoded parts. No SQL here.

use meterdeck_core::model::Value;
use meterdeck_core::store::codec::{self, Decoded, Summary};

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

/// A part cut by a bucket edge whose values were not read yet.
#[derive(Clone, Copy, Debug)]
struct Deferred {
    id: i64,
    count: u64,
    /// Buckets its in-range samples span.
    b0: usize,
    b1: usize,
    min: Option<(i64, f64)>,
    max: Option<(i64, f64)>,
    /// Where its own extremes were placed (they are exact there).
    b_min: Option<usize>,
    b_max: Option<usize>,
}

/// Min/max downsampling of `[from, to)`, exact, reading as little as it can:
///
/// 1. every part overlapping the range goes to [`MinMaxAcc::add_summary`];
///    a part wholly inside one bucket is merged from its summary;
/// 2. the parts it refuses (cut by a bucket edge or a range end) go with
///    their decoded timestamps to [`MinMaxAcc::add_times`]: exact counts per
///    bucket, and the part's own min and max placed in their buckets;
/// 3. [`MinMaxAcc::values_needed`] then names the cut parts whose values
///    could still beat a bucket's extreme (their min is below what that
///    bucket has, or their max above); only those are decoded in full and
///    go to [`MinMaxAcc::add_values`].
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

    /// Whether [`MinMaxAcc::add_summary`] will refuse this part (it must be
    /// decoded): lets a backend fetch those blocks up front.
    pub fn needs_decode(&self, s: &Summary) -> bool {
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

    /// Counts a cut part from its timestamps (in storage order) and places
    /// its own extremes; its values may be asked for later.
    pub fn add_times(&mut self, id: i64, s: &Summary, ts: &[i64]) {
        let (mut b0, mut b1) = (usize::MAX, 0);
        if ts.is_sorted() {
            let start = ts.partition_point(|&t| t < self.buckets.from());
            let end = ts.partition_point(|&t| t < self.buckets.to());
            let mut i = start;
            while i < end {
                let b = self.buckets.of(ts[i], self.hint).unwrap_or(0);
                self.hint = b;
                let hi = self.buckets.edges[b + 1];
                let j = i + ts[i..end].partition_point(|&t| t < hi);
                self.acc[b].count += (j - i) as u64;
                (b0, b1) = (b0.min(b), b1.max(b));
                i = j;
            }
        } else {
            for &t in ts {
                if let Some(b) = self.buckets.of(t, self.hint) {
                    self.hint = b;
                    self.acc[b].count += 1;
                    (b0, b1) = (b0.min(b), b1.max(b));
                }
            }
        }
        if b0 > b1 {
            return; // nothing in range
        }
        let b_min = s.min.and_then(|m| self.buckets.of(m.0, b0));
        let b_max = s.max.and_then(|m| self.buckets.of(m.0, b0));
        if let (Some(b), Some(m)) = (b_min, s.min) {
            self.acc[b].min(m);
        }
        if let (Some(b), Some(m)) = (b_max, s.max) {
            self.acc[b].max(m);
        }
        if b0 != b1 || b_min.is_none() || b_max.is_none() {
            self.deferred.push(Deferred { id, count: s.count, b0, b1, min: s.min, max: s.max, b_min, b_max });
        }
    }

    /// `(part id, count)` of the cut parts whose values must be read: in
    /// some bucket other than where its extreme lies, the part's extreme
    /// would win, so its samples there might.
    pub fn values_needed(&self) -> Vec<(i64, u64)> {
        self.deferred
            .iter()
            .filter(|d| {
                (d.b0..=d.b1).any(|b| {
                    let a = &self.acc[b];
                    let min = d.b_min != Some(b) && d.min.is_some_and(|m| a.min.is_none_or(|c| m.1 <= c.1));
                    let max = d.b_max != Some(b) && d.max.is_some_and(|m| a.max.is_none_or(|c| m.1 >= c.1));
                    min || max
                })
            })
            .map(|d| (d.id, d.count))
            .collect()
    }

    /// Min and max per bucket of a decoded cut part (counted already).
    pub fn add_values(&mut self, d: &Decoded) {
        self.add(d, false);
    }

    /// Counts, min and max of a decoded part, whatever its extent.
    pub fn add_decoded(&mut self, d: &Decoded) {
        self.add(d, true);
    }

    fn add(&mut self, d: &Decoded, count: bool) {
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

pub fn point(s: meterdeck_core::model::Sample) -> Point {
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
    use meterdeck_core::model::{Sample, SpecialKind};
    use meterdeck_core::store::codec::EncodeScratch;

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
            let samples: Vec<Sample> = (0..(50 + p * 7))
                .map(|i| {
                    t += 1 + (i % 3);
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
        for (from, to, n) in [(0, t + 1, 1), (0, t + 1, 37), (100, 900, 13), (5, 6, 3), (-50, t * 2, 1000)] {
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
            // Timestamps first, values where needed.
            let mut m = MinMaxAcc::new(from, to, n);
            let mut ts = Vec::new();
            for (id, (block, s)) in parts.iter().enumerate() {
                if !m.add_summary(s) {
                    decode_times(block, s.count, || "part".into(), &mut ts).unwrap();
                    m.add_times(id as i64, s, &ts);
                }
            }
            for (id, count) in m.values_needed() {
                decode(&parts[id as usize].0, count, || "part".into(), &mut d).unwrap();
                m.add_values(&d);
            }
            assert_eq!(m.finish(), want, "{from}..{to} / {n} (deferred)");
        }
    }

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_764_547_199_999), "2025-11");
        assert_eq!(month_of(1_764_547_200_000), "2025-12");
    }
}
