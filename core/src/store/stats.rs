//! Statistics of one channel over `[from, to)` for reports: count, special
//! values, min, max, mean and the time spent above / below thresholds.
//!
//! A block lying wholly inside the range is read from its summary columns
//! (count, specials, min, max, `sum`) when that settles every figure: it
//! holds no special value and each threshold has all its numbers on one
//! side. Edge blocks, blocks straddling a threshold, blocks overlapping
//! another in time (out-of-order data) and the tail are decoded. A month
//! of 1 s data thus reads ~2,600 index rows per channel and decodes a few
//! blocks.
//!
//! Time beyond a threshold: samples are taken in time order and each
//! number holds until the next sample of the range (a special value holds
//! for neither side; the last sample holds for no time). A clean block
//! contributes `t_max - t_min` to its side and the gap to the next sample.

use rusqlite::{Connection, params};

use super::codec::{self, Decoded, Summary};
use super::error::{Result, StoreError};
use crate::model::{ChannelId, Sample, TimeMs, Value};

/// What [`Store::range_stats`](super::Store::range_stats) found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RangeStats {
    /// Samples in the range, numbers and special values.
    pub samples: u64,
    pub specials: u64,
    pub min: Option<(TimeMs, f64)>,
    pub max: Option<(TimeMs, f64)>,
    /// Sum of the numbers (mean = sum / (samples - specials)).
    pub sum: f64,
    /// Milliseconds with a number `> above`, when `above` was given.
    pub above_ms: Option<i64>,
    /// Milliseconds with a number `< below`, when `below` was given.
    pub below_ms: Option<i64>,
    /// Blocks read from their summary, blocks decoded (for tests and the bench).
    pub blocks_summarised: u64,
    pub blocks_decoded: u64,
}

impl RangeStats {
    pub fn numbers(&self) -> u64 {
        self.samples - self.specials
    }

    pub fn mean(&self) -> Option<f64> {
        (self.numbers() > 0).then(|| self.sum / self.numbers() as f64)
    }

    /// The same figures from raw samples (any order): the reference the
    /// summary path is tested against.
    pub fn from_samples(samples: &[Sample], from: TimeMs, to: TimeMs, above: Option<f64>, below: Option<f64>) -> Self {
        let mut inside: Vec<Sample> = samples.iter().copied().filter(|s| s.t >= from && s.t < to).collect();
        inside.sort_by_key(|s| s.t);
        let mut acc = Acc::new(above, below);
        inside.iter().for_each(|s| acc.sample(*s));
        acc.finish()
    }
}

/// Which side of the thresholds a sample is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Side {
    above: bool,
    below: bool,
}

struct Acc {
    out: RangeStats,
    above: Option<f64>,
    below: Option<f64>,
    /// The latest sample so far: its time and side hold until the next.
    prev: Option<(TimeMs, Side)>,
}

impl Acc {
    fn new(above: Option<f64>, below: Option<f64>) -> Acc {
        let out = RangeStats { above_ms: above.map(|_| 0), below_ms: below.map(|_| 0), ..RangeStats::default() };
        Acc { out, above, below, prev: None }
    }

    fn side(&self, v: Option<f64>) -> Side {
        Side {
            above: v.zip(self.above).is_some_and(|(v, a)| v > a),
            below: v.zip(self.below).is_some_and(|(v, b)| v < b),
        }
    }

    fn hold(&mut self, side: Side, ms: i64) {
        if side.above
            && let Some(a) = self.out.above_ms.as_mut()
        {
            *a += ms;
        }
        if side.below
            && let Some(b) = self.out.below_ms.as_mut()
        {
            *b += ms;
        }
    }

    /// The previous sample holds until `t`.
    fn gap_to(&mut self, t: TimeMs) {
        if let Some((pt, side)) = self.prev {
            self.hold(side, t - pt);
        }
    }

    fn number(&mut self, t: TimeMs, v: f64) {
        let o = &mut self.out;
        if o.min.is_none_or(|m| v < m.1) {
            o.min = Some((t, v));
        }
        if o.max.is_none_or(|m| v > m.1) {
            o.max = Some((t, v));
        }
        o.sum += v;
    }

    fn sample(&mut self, s: Sample) {
        self.gap_to(s.t);
        self.out.samples += 1;
        let v = match s.value {
            Value::Number(v) if !v.is_nan() => {
                self.number(s.t, v);
                Some(v)
            }
            _ => {
                self.out.specials += 1;
                None
            }
        };
        self.prev = Some((s.t, self.side(v)));
    }

    /// A block whose numbers all lie on `side` (see `clean_side`).
    fn clean_block(&mut self, s: &Summary, sum: f64, side: Side) {
        self.gap_to(s.t_min);
        self.hold(side, s.t_max - s.t_min);
        self.out.samples += s.count;
        if let (Some(min), Some(max)) = (s.min, s.max) {
            self.number(min.0, min.1);
            self.number(max.0, max.1);
            // `number` added both extremes to the sum: replace with the block's.
            self.out.sum += sum - min.1 - max.1;
        }
        self.prev = Some((s.t_max, side));
        self.out.blocks_summarised += 1;
    }

    /// The side every number of the block is on, if the summary settles it.
    fn clean_side(&self, s: &Summary) -> Option<Side> {
        let (min, max) = (s.min?.1, s.max?.1);
        if s.specials > 0 || s.count == 0 {
            return None;
        }
        let above = match self.above {
            Some(a) if min > a => true,
            Some(a) if max <= a => false,
            Some(_) => return None,
            None => false,
        };
        let below = match self.below {
            Some(b) if max < b => true,
            Some(b) if min >= b => false,
            Some(_) => return None,
            None => false,
        };
        Some(Side { above, below })
    }

    fn finish(self) -> RangeStats {
        self.out
    }
}

/// A block overlapping the range, or the tail.
struct Item {
    /// Block id; `None` for the tail.
    id: Option<i64>,
    seq: i64,
    summary: Summary,
    sum: Option<f64>,
}

const BLOCKS_FOR_STATS: &str =
    "SELECT id, count, specials, t_min, t_max, first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v,
        seq_first, sum
     FROM block WHERE channel = ?1 AND t_max >= ?2 AND t_min < ?3 ORDER BY t_max, seq_first";

pub(crate) fn range_stats(
    conn: &Connection,
    pending: &[Sample],
    channel: ChannelId,
    (from, to): (TimeMs, TimeMs),
    above: Option<f64>,
    below: Option<f64>,
) -> Result<RangeStats> {
    super::query::require_channel(conn, channel)?;
    let mut acc = Acc::new(above, below);
    if to <= from {
        return Ok(acc.finish());
    }
    let mut items = Vec::new();
    let mut stmt = conn.prepare_cached(BLOCKS_FOR_STATS)?;
    let mut rows = stmt.query(params![channel, from, to])?;
    while let Some(row) = rows.next()? {
        items.push(Item {
            id: Some(row.get(0)?),
            summary: super::query::summary_of(row)?,
            seq: row.get(13)?,
            sum: row.get(14)?,
        });
    }
    let mut tail = Summary::default();
    pending.iter().filter(|s| s.t >= from && s.t < to).for_each(|s| tail.add(*s));
    if tail.count > 0 {
        items.push(Item { id: None, seq: i64::MAX, summary: tail, sum: None });
    }
    items.sort_by_key(|i| (i.summary.t_min, i.seq));

    // Clusters of items overlapping (or touching) in time: a lone clean block inside the
    // range is read from its summary; anything else is decoded and merged.
    let mut d = Decoded::default();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        let mut reach = items[start].summary.t_max;
        while end < items.len() && items[end].summary.t_min <= reach {
            reach = reach.max(items[end].summary.t_max);
            end += 1;
        }
        let cluster = &mut items[start..end];
        let lone = match cluster {
            [one] if one.id.is_some() && one.summary.t_min >= from && one.summary.t_max < to => {
                one.sum.zip(acc.clean_side(&one.summary))
            }
            _ => None,
        };
        match lone {
            Some((sum, side)) => acc.clean_block(&cluster[0].summary, sum, side),
            None => {
                cluster.sort_by_key(|i| i.seq);
                let mut samples = Vec::new();
                for item in cluster.iter() {
                    match item.id {
                        Some(id) => {
                            decode(conn, channel, id, item.summary.count, &mut d)?;
                            d.for_each(|s| samples.push(s));
                            acc.out.blocks_decoded += 1;
                        }
                        None => samples.extend_from_slice(pending),
                    }
                }
                samples.retain(|s| s.t >= from && s.t < to);
                samples.sort_by_key(|s| s.t);
                samples.into_iter().for_each(|s| acc.sample(s));
            }
        }
        start = end;
    }
    Ok(acc.finish())
}

fn decode(conn: &Connection, channel: ChannelId, id: i64, count: u64, d: &mut Decoded) -> Result<()> {
    let mut stmt = conn.prepare_cached("SELECT data FROM block WHERE id = ?1")?;
    let mut rows = stmt.query([id])?;
    let corrupt = |detail: String| StoreError::Corrupt { channel, location: format!("block {id}"), detail };
    let row = rows.next()?.ok_or_else(|| corrupt("removed during the read".into()))?;
    codec::blob(row.get_ref(0)?).and_then(|b| codec::decode_block(b, count as usize, d)).map_err(|e| corrupt(e.0))
}

/// The sum of a new block's numbers, stored beside its summary.
pub(crate) fn sum_of(samples: impl Iterator<Item = Sample>) -> f64 {
    samples.filter_map(|s| if let Value::Number(v) = s.value { (!v.is_nan()).then_some(v) } else { None }).sum()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::SpecialKind;
    use crate::store::{Durability, Store, StoreOptions};

    fn store(dir: &tempfile::TempDir, block_samples: usize) -> (Store, ChannelId) {
        let opts = StoreOptions { durability: Durability::Normal, block_samples };
        let mut store = Store::open(&dir.path().join("cache.db"), opts).unwrap();
        store.upsert_instrument("lr1", "Logger", "hioki-logger", "127.0.0.1:8802").unwrap();
        let ch = store.ensure_channel("lr1", "CH1_1", Some("V")).unwrap();
        (store, ch)
    }

    fn tagged(ch: ChannelId, s: &[Sample]) -> Vec<(ChannelId, Sample)> {
        s.iter().map(|&x| (ch, x)).collect()
    }

    /// Equal figures; sums in another order may differ in the last bits.
    fn assert_same(got: &RangeStats, want: &RangeStats) {
        assert_eq!(got.samples, want.samples);
        assert_eq!(got.specials, want.specials);
        assert_eq!(got.min.map(|m| m.1), want.min.map(|m| m.1));
        assert_eq!(got.max.map(|m| m.1), want.max.map(|m| m.1));
        assert!((got.sum - want.sum).abs() <= 1e-9 * want.sum.abs().max(1.0), "{} vs {}", got.sum, want.sum);
        assert_eq!(got.above_ms, want.above_ms);
        assert_eq!(got.below_ms, want.below_ms);
    }

    fn wave(n: usize) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                let t = 1_000_000 + i as i64 * 1000;
                Sample::number(t, (i as f64 / 50.0).sin() * 10.0 + 20.0)
            })
            .collect()
    }

    #[test]
    fn whole_blocks_come_from_summaries_and_match_a_raw_scan() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, ch) = store(&dir, 16);
        let mut samples = wave(5_000);
        samples[777] = Sample::special(samples[777].t, SpecialKind::OverRange);
        samples[778].value = Value::Number(f64::NAN);
        store.append(&tagged(ch, &samples[..4_990])).unwrap();
        // The last ten wait in the tail.
        for s in &samples[4_990..] {
            store.append(&[(ch, *s)]).unwrap();
        }
        for (from, to, above, below) in [
            (i64::MIN, i64::MAX, Some(25.0), Some(15.0)),
            (1_234_567, 5_432_100, Some(20.0), None),
            (1_000_500, 5_999_999, None, Some(29.0)),
            (3_000_000, 3_000_001, Some(0.0), Some(100.0)),
        ] {
            let got = store.range_stats(ch, from, to, above, below).unwrap();
            let raw = store.range(ch, i64::MIN, i64::MAX).unwrap();
            assert_same(&got, &RangeStats::from_samples(&raw, from, to, above, below));
            assert_same(&got, &RangeStats::from_samples(&samples, from, to, above, below));
        }
        let all = store.range_stats(ch, i64::MIN, i64::MAX, Some(25.0), Some(15.0)).unwrap();
        assert_eq!(all.specials, 2);
        // Most blocks lie on one side of both thresholds: read from summaries.
        assert!(all.blocks_summarised > 200, "{all:?}");
        assert!(all.blocks_decoded < all.blocks_summarised / 2, "{all:?}");
        // 1 s samples, each holding until the next: above + below + between = span.
        let mean = all.mean().unwrap();
        assert!((mean - 20.0).abs() < 1.0, "{mean}");
    }

    #[test]
    fn blocks_without_a_sum_are_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, ch) = store(&dir, 32);
        let samples = wave(1_000);
        store.append(&tagged(ch, &samples)).unwrap();
        let before = store.range_stats(ch, i64::MIN, i64::MAX, Some(21.0), None).unwrap();
        // As written by a build before schema 5.
        store.conn().execute("UPDATE block SET sum = NULL", []).unwrap();
        let after = store.range_stats(ch, i64::MIN, i64::MAX, Some(21.0), None).unwrap();
        assert_same(&after, &before);
        assert_eq!(after.blocks_summarised, 0);
    }

    #[test]
    fn an_empty_range_and_an_unknown_channel() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ch) = store(&dir, 8);
        let s = store.range_stats(ch, 0, 1000, Some(1.0), None).unwrap();
        assert_eq!((s.samples, s.min, s.mean(), s.above_ms, s.below_ms), (0, None, None, Some(0), None));
        assert!(store.range_stats(ch + 99, 0, 1000, None, None).is_err());
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            8 => (-5i32..5).prop_map(|v| Value::Number(v as f64 / 2.0)),
            1 => Just(Value::Special(SpecialKind::BurnOut)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn summaries_and_edges_equal_a_raw_scan(
            steps in prop::collection::vec((0i64..3, value()), 1..300),
            back in prop::collection::vec(0usize..300, 0..3),
            chunks in 1usize..40,
            bs in 2usize..12,
            from in 0i64..200,
            len in 1i64..400,
            above in prop::option::of(-3i32..3),
            below in prop::option::of(-3i32..3),
        ) {
            // Mostly increasing times with repeats, and a few out of order.
            let mut t = 0;
            let mut samples: Vec<Sample> = steps.iter().map(|(dt, v)| { t += dt; Sample { t, value: *v } }).collect();
            for i in back {
                if let Some(s) = samples.get_mut(i) { s.t -= 50; }
            }
            let dir = tempfile::tempdir().unwrap();
            let (mut store, ch) = store(&dir, bs);
            for part in samples.chunks(chunks) {
                store.append(&tagged(ch, part)).unwrap();
            }
            let (above, below) = (above.map(|a| a as f64 / 2.0), below.map(|b| b as f64 / 2.0));
            let got = store.range_stats(ch, from, from + len, above, below).unwrap();
            let want = RangeStats::from_samples(&samples, from, from + len, above, below);
            prop_assert_eq!(got.samples, want.samples);
            prop_assert_eq!(got.specials, want.specials);
            prop_assert_eq!(got.min.map(|m| m.1), want.min.map(|m| m.1));
            prop_assert_eq!(got.max.map(|m| m.1), want.max.map(|m| m.1));
            prop_assert!((got.sum - want.sum).abs() < 1e-9);
            prop_assert_eq!(got.above_ms, want.above_ms);
            prop_assert_eq!(got.below_ms, want.below_ms);
        }
    }
}
