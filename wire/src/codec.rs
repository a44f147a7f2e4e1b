//! Sample encodings, pure functions over bytes (no SQL here):
//!
//! - compressed blocks: timestamps as i64 (pco, first-order delta) and values
//!   either as exact decimal integers `round(v * 10^k)` (pco, delta) when
//!   every value of the block round-trips exactly, else as f64 (pco). Special
//!   values are a sparse `(index, code)` list; their slots in the value
//!   column hold the previous number so the deltas stay small.
//! - raw samples for the agent store's tail log (core's `store/tail.rs`):
//!   16 bytes per sample, cheap to write on every append; specials are
//!   NaN-boxed with their code.
//!
//! Block layout (little endian):
//! `[format=1][values: 0 decimal | 1 f64][k][n: u32][ts_len: u32][ts][vals_len: u32][vals]
//!  [n_specials: u32][(index: u32, code: u8)...]`

use std::panic::{AssertUnwindSafe, catch_unwind};

use pco::standalone::{simple_compress, simple_decompress_into};
use pco::{ChunkConfig, DeltaSpec, ModeSpec};

use crate::sample::{Sample, SpecialKind, Value};

const BLOCK_FORMAT: u8 = 1;
const VALUES_DECIMAL: u8 = 0;
const VALUES_F64: u8 = 1;
/// Finest decimal resolution tried: 1e-15.
const MAX_DECIMALS: usize = 15;
const POW10: [f64; MAX_DECIMALS + 1] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/// Integers beyond this are not exact in f64.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
/// pco levels. With the delta order and mode fixed (first order, classic;
/// pco's automatic choice costs more than it saves on 1024-sample blocks),
/// level 0 compresses the bench's logger waveforms to 0.94 bytes/sample
/// (level 8: 0.73) several times faster; the ingest target needs the speed.
const VALUE_LEVEL: usize = 0;
const TIME_LEVEL: usize = 0;
/// Blocks that are not decimals (e.g. f32 Modbus registers) are rarer and
/// slower; pco's automatic mode finds their float structure.
const FLOAT_LEVEL: usize = 3;
/// Quiet-NaN box of a special value in a raw fragment; the low byte is the code.
const SPECIAL_BOX: u64 = 0x7FF8_5350_0000_0000;
const SPECIAL_BOX_MASK: u64 = 0xFFFF_FFFF_FFFF_FF00;

/// A blob that does not decode; the caller adds channel and block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError(msg.into()))
}

/// A sample as the store receives it (tagged with its channel, not yet
/// normalised) or as it keeps it; lets blocks be encoded straight from the
/// caller's slice.
pub trait AsSample: Copy + Send + Sync {
    fn sample(self) -> Sample;
}

impl AsSample for Sample {
    #[inline]
    fn sample(self) -> Sample {
        self
    }
}

/// A sample tagged with the store's numeric channel id (core's `ChannelId`).
impl AsSample for (i64, Sample) {
    #[inline]
    fn sample(self) -> Sample {
        normalise(self.1)
    }
}

/// NaN is not a measurement: it is stored as `Special(Invalid)`; -0.0 is
/// stored as 0.0 (the decimal encoding has no negative zero).
pub fn normalise(s: Sample) -> Sample {
    match s.value {
        Value::Number(v) if v.is_nan() => Sample::special(s.t, SpecialKind::Invalid),
        Value::Number(v) if v == 0.0 && v.is_sign_negative() => Sample::number(s.t, 0.0),
        _ => s,
    }
}

/// Count, time span and numeric extremes of a run of samples, in storage
/// order. Merging summaries in storage order gives the same result as adding
/// their samples one by one (see `M4Bucket` for the tie rules).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub specials: u64,
    pub t_min: i64,
    pub t_max: i64,
    pub first: Option<(i64, f64)>,
    pub last: Option<(i64, f64)>,
    pub min: Option<(i64, f64)>,
    pub max: Option<(i64, f64)>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            count: 0,
            specials: 0,
            t_min: i64::MAX,
            t_max: i64::MIN,
            first: None,
            last: None,
            min: None,
            max: None,
        }
    }
}

impl Summary {
    #[inline]
    pub fn add(&mut self, s: Sample) {
        match s.value {
            Value::Number(v) => self.add_number(s.t, v),
            Value::Special(_) => self.add_special(s.t),
        }
    }

    #[inline]
    pub fn add_special(&mut self, t: i64) {
        self.count += 1;
        self.specials += 1;
        self.t_min = self.t_min.min(t);
        self.t_max = self.t_max.max(t);
    }

    #[inline]
    pub fn add_number(&mut self, t: i64, v: f64) {
        self.count += 1;
        self.t_min = self.t_min.min(t);
        self.t_max = self.t_max.max(t);
        self.merge_numeric(Some((t, v)), Some((t, v)), Some((t, v)), Some((t, v)));
    }

    /// Adds a later run (in storage order).
    pub fn merge(&mut self, later: &Summary) {
        self.count += later.count;
        self.specials += later.specials;
        self.t_min = self.t_min.min(later.t_min);
        self.t_max = self.t_max.max(later.t_max);
        self.merge_numeric(later.first, later.last, later.min, later.max);
    }

    #[inline]
    fn merge_numeric(
        &mut self,
        first: Option<(i64, f64)>,
        last: Option<(i64, f64)>,
        min: Option<(i64, f64)>,
        max: Option<(i64, f64)>,
    ) {
        if let Some(f) = first
            && self.first.is_none_or(|c| f.0 < c.0)
        {
            self.first = Some(f);
        }
        if let Some(l) = last
            && self.last.is_none_or(|c| l.0 >= c.0)
        {
            self.last = Some(l);
        }
        if let Some(m) = min
            && self.min.is_none_or(|c| m.1 < c.1)
        {
            self.min = Some(m);
        }
        if let Some(m) = max
            && self.max.is_none_or(|c| m.1 > c.1)
        {
            self.max = Some(m);
        }
    }
}

/// Reusable buffers for encoding blocks.
#[derive(Default)]
pub struct EncodeScratch {
    ts: Vec<i64>,
    vals: Vec<f64>,
    ints: Vec<i64>,
    specials: Vec<(u32, u8)>,
}

/// Encodes a non-empty run of (normalised) samples into a block blob.
pub fn encode_block<T: AsSample>(samples: &[T], s: &mut EncodeScratch) -> Result<(Vec<u8>, Summary), CodecError> {
    if samples.is_empty() {
        return err("cannot encode an empty block");
    }
    let n = u32::try_from(samples.len()).map_err(|_| CodecError("block too large".into()))?;
    s.ts.clear();
    s.vals.clear();
    s.specials.clear();
    let mut prev = 0.0;
    for (i, sample) in samples.iter().map(|x| x.sample()).enumerate() {
        s.ts.push(sample.t);
        match sample.value {
            Value::Number(v) => {
                s.vals.push(v);
                prev = v;
            }
            Value::Special(kind) => {
                s.specials.push((i as u32, kind.code()));
                s.vals.push(prev);
            }
        }
    }
    let summary = if s.specials.is_empty() && s.ts.is_sorted() {
        sorted_numeric_summary(&s.ts, &s.vals)
    } else {
        let mut sum = Summary::default();
        samples.iter().for_each(|x| sum.add(x.sample()));
        sum
    };

    let pco_err = |what: &str, e: pco::errors::PcoError| CodecError(format!("compressing {what}: {e}"));
    let time_cfg = ChunkConfig::default()
        .with_compression_level(TIME_LEVEL)
        .with_delta_spec(DeltaSpec::TryConsecutive(1))
        .with_mode_spec(ModeSpec::Classic);
    let ts = simple_compress(&s.ts, &time_cfg).map_err(|e| pco_err("timestamps", e))?;

    let (kind, k, vals) = match to_decimal_ints(&s.vals, &mut s.ints) {
        Some(k) => {
            let cfg = ChunkConfig::default()
                .with_compression_level(VALUE_LEVEL)
                .with_delta_spec(DeltaSpec::TryConsecutive(1))
                .with_mode_spec(ModeSpec::Classic);
            (VALUES_DECIMAL, k, simple_compress(&s.ints, &cfg).map_err(|e| pco_err("values", e))?)
        }
        None => {
            let cfg = ChunkConfig::default().with_compression_level(FLOAT_LEVEL);
            (VALUES_F64, 0, simple_compress(&s.vals, &cfg).map_err(|e| pco_err("values", e))?)
        }
    };

    let mut out = Vec::with_capacity(20 + ts.len() + vals.len() + 5 * s.specials.len());
    out.extend_from_slice(&[BLOCK_FORMAT, kind, k]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(ts.len() as u32).to_le_bytes());
    out.extend_from_slice(&ts);
    out.extend_from_slice(&(vals.len() as u32).to_le_bytes());
    out.extend_from_slice(&vals);
    out.extend_from_slice(&(s.specials.len() as u32).to_le_bytes());
    for &(i, code) in &s.specials {
        out.extend_from_slice(&i.to_le_bytes());
        out.push(code);
    }
    Ok((out, summary))
}

/// Summary of time-ordered numbers (the common block): first and last are
/// the ends, min/max the first occurrence of the extreme.
fn sorted_numeric_summary(ts: &[i64], vals: &[f64]) -> Summary {
    let (Some(&t0), Some(&t1), Some(&v0), Some(&v1)) = (ts.first(), ts.last(), vals.first(), vals.last()) else {
        return Summary::default();
    };
    let (mut lo, mut hi) = (0usize, 0usize);
    for (i, &v) in vals.iter().enumerate() {
        if v < vals[lo] {
            lo = i;
        }
        if v > vals[hi] {
            hi = i;
        }
    }
    Summary {
        count: ts.len() as u64,
        specials: 0,
        t_min: t0,
        t_max: t1,
        first: Some((t0, v0)),
        last: Some((t1, v1)),
        min: Some((ts[lo], vals[lo])),
        max: Some((ts[hi], vals[hi])),
    }
}

/// Finds the coarsest decimal resolution 10^-k at which every value is an
/// exact integer, and fills `ints` with `round(v * 10^k)`. `None` when no
/// k <= 15 fits (the block is then stored as f64). One pass in the common
/// case; a value needing a finer k restarts the conversion at that k.
fn to_decimal_ints(vals: &[f64], ints: &mut Vec<i64>) -> Option<u8> {
    let mut k = 0usize;
    'restart: loop {
        let p = POW10[k];
        ints.clear();
        ints.reserve(vals.len());
        for &v in vals {
            match nearest_int(v * p) {
                Some(i) if i as f64 / p == v => ints.push(i),
                _ => {
                    // Find the k this value needs; values exact at a coarser
                    // k are exact at a finer one unless they overflow, which
                    // the restarted pass checks.
                    k = (k + 1..=MAX_DECIMALS)
                        .find(|&k2| nearest_int(v * POW10[k2]).is_some_and(|i| i as f64 / POW10[k2] == v))?;
                    continue 'restart;
                }
            }
        }
        return Some(k as u8);
    }
}

/// `x` rounded to an integer, if within the exactly representable range.
/// Plain casts, no libm call: `f64::round` is a function call on baseline
/// x86-64 and dominated the encoder. Ties may round either way; the caller
/// checks the result exactly.
#[inline]
fn nearest_int(x: f64) -> Option<i64> {
    (x.abs() <= MAX_EXACT).then(|| (x + 0.5f64.copysign(x)) as i64)
}

/// A decoded block, reusable across blocks.
#[derive(Default)]
pub struct Decoded {
    pub ts: Vec<i64>,
    pub vals: Vec<f64>,
    /// Sorted by index.
    pub specials: Vec<(u32, SpecialKind)>,
    ints: Vec<i64>,
}

impl Decoded {
    /// Calls `f` with every sample in storage order.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(Sample)) {
        let mut next_special = self.specials.iter().peekable();
        for (i, (&t, &v)) in self.ts.iter().zip(&self.vals).enumerate() {
            match next_special.peek() {
                Some(&&(si, kind)) if si as usize == i => {
                    next_special.next();
                    f(Sample::special(t, kind));
                }
                _ => f(Sample::number(t, v)),
            }
        }
    }
}

/// Little cursor over a blob; every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return err(format!("truncated at {what} (need {n} bytes, {} left)", self.buf.len()));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &str) -> Result<u8, CodecError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, CodecError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

struct Header<'a> {
    kind: u8,
    k: u8,
    ts: &'a [u8],
    vals: &'a [u8],
    rest: Reader<'a>,
}

fn parse_header(data: &[u8], expect_n: usize) -> Result<Header<'_>, CodecError> {
    let mut r = Reader { buf: data };
    let format = r.u8("format")?;
    if format != BLOCK_FORMAT {
        return err(format!("unknown block format {format}"));
    }
    let kind = r.u8("value encoding")?;
    let k = r.u8("decimal exponent")?;
    if kind > VALUES_F64 || k as usize > MAX_DECIMALS {
        return err(format!("bad value encoding {kind}/{k}"));
    }
    let n = r.u32("sample count")? as usize;
    if n != expect_n {
        return err(format!("holds {n} samples, its summary says {expect_n}"));
    }
    let ts_len = r.u32("timestamp length")? as usize;
    let ts = r.take(ts_len, "timestamps")?;
    let vals_len = r.u32("value length")? as usize;
    let vals = r.take(vals_len, "values")?;
    Ok(Header { kind, k, ts, vals, rest: r })
}

/// pco reports corruption as errors; the unwind guard is a second fence so a
/// corrupt blob can never take the process down.
fn pco_into<T: pco::data_types::Number + Default>(
    src: &[u8],
    dst: &mut Vec<T>,
    n: usize,
    what: &str,
) -> Result<(), CodecError> {
    dst.clear();
    dst.resize(n, T::default());
    let res = catch_unwind(AssertUnwindSafe(|| simple_decompress_into(src, dst)));
    match res {
        Ok(Ok(p)) if p.finished && p.n_processed == n => Ok(()),
        Ok(Ok(p)) => err(format!("{what}: decoded {} of {n} numbers", p.n_processed)),
        Ok(Err(e)) => err(format!("{what}: {e}")),
        Err(_) => err(format!("{what}: decoder failed")),
    }
}

/// Decodes a whole block holding `expect_n` samples.
pub fn decode_block(data: &[u8], expect_n: usize, out: &mut Decoded) -> Result<(), CodecError> {
    let mut h = parse_header(data, expect_n)?;
    pco_into(h.ts, &mut out.ts, expect_n, "timestamps")?;
    if h.kind == VALUES_DECIMAL {
        pco_into(h.vals, &mut out.ints, expect_n, "values")?;
        let p = POW10[h.k as usize];
        out.vals.clear();
        out.vals.extend(out.ints.iter().map(|&i| i as f64 / p));
    } else {
        pco_into(h.vals, &mut out.vals, expect_n, "values")?;
    }
    let n_specials = h.rest.u32("special count")? as usize;
    if n_specials > expect_n {
        return err(format!("{n_specials} specials in a block of {expect_n}"));
    }
    out.specials.clear();
    let mut prev: Option<u32> = None;
    for _ in 0..n_specials {
        let i = h.rest.u32("special index")?;
        let code = h.rest.u8("special code")?;
        let kind = SpecialKind::from_code(code).ok_or_else(|| CodecError(format!("unknown special code {code}")))?;
        if i as usize >= expect_n || prev.is_some_and(|p| p >= i) {
            return err(format!("special index {i} out of order or range"));
        }
        prev = Some(i);
        out.specials.push((i, kind));
    }
    if !h.rest.buf.is_empty() {
        return err(format!("{} trailing bytes", h.rest.buf.len()));
    }
    Ok(())
}

/// Decodes only the timestamps of a block (for counting).
pub fn decode_block_times(data: &[u8], expect_n: usize, ts: &mut Vec<i64>) -> Result<(), CodecError> {
    let h = parse_header(data, expect_n)?;
    pco_into(h.ts, ts, expect_n, "timestamps")
}

/// A value as 64 bits for the raw tail: the f64 bits of a number, or a
/// NaN box holding a special's code (numbers are never NaN, see `normalise`).
pub fn value_bits(v: Value) -> u64 {
    match v {
        Value::Number(x) => x.to_bits(),
        Value::Special(kind) => SPECIAL_BOX | kind.code() as u64,
    }
}

/// One raw 16-byte sample: timestamp, then `value_bits`.
pub fn raw_sample(chunk: &[u8]) -> Result<Sample, CodecError> {
    let (Some(t), Some(v)) = (chunk.get(..8), chunk.get(8..16)) else {
        return err("short raw sample");
    };
    let t = i64::from_le_bytes(t.try_into().map_err(|_| CodecError("short timestamp".into()))?);
    let bits = u64::from_le_bytes(v.try_into().map_err(|_| CodecError("short value".into()))?);
    let v = f64::from_bits(bits);
    if !v.is_nan() {
        return Ok(Sample::number(t, v));
    }
    match SpecialKind::from_code((bits & 0xFF) as u8) {
        Some(kind) if bits & SPECIAL_BOX_MASK == SPECIAL_BOX => Ok(Sample::special(t, kind)),
        _ => err(format!("bad special value bits {bits:#x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn special() -> impl Strategy<Value = SpecialKind> {
        prop::sample::select(SpecialKind::ALL.to_vec())
    }

    /// Samples as drivers produce them: decimals at a resolution, raw
    /// finite floats, and specials.
    fn samples(max: usize) -> impl Strategy<Value = Vec<Sample>> {
        let value = prop_oneof![
            4 => (-1_000_000i64..1_000_000, 0usize..6).prop_map(|(i, k)| Value::Number(i as f64 / POW10[k])),
            2 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(Value::Number),
            1 => special().prop_map(Value::Special),
        ];
        prop::collection::vec((-5_000i64..5_000, value), 1..max).prop_map(|v| {
            let mut t = 1_700_000_000_000i64;
            v.into_iter()
                .map(|(dt, value)| {
                    t += dt;
                    normalise(Sample { t, value })
                })
                .collect()
        })
    }

    fn round_trip(samples: &[Sample]) -> Vec<Sample> {
        let (blob, _) = encode_block(samples, &mut EncodeScratch::default()).unwrap();
        let mut d = Decoded::default();
        decode_block(&blob, samples.len(), &mut d).unwrap();
        let mut out = Vec::new();
        d.for_each(|s| out.push(s));
        out
    }

    fn brute_summary(samples: &[Sample]) -> Summary {
        let mut s = Summary::default();
        for x in samples {
            s.add(*x);
        }
        s
    }

    proptest! {
        #[test]
        fn block_round_trip(samples in samples(300)) {
            prop_assert_eq!(round_trip(&samples), samples);
        }

        #[test]
        fn quantised_block_round_trip(ints in prop::collection::vec(-20_000i64..20_000, 1..600), k in 0usize..4) {
            let samples: Vec<Sample> = ints.iter().enumerate()
                .map(|(i, &v)| normalise(Sample::number(i as i64 * 1000, v as f64 / POW10[k]))).collect();
            let (blob, _) = encode_block(&samples, &mut EncodeScratch::default()).unwrap();
            prop_assert_eq!(blob[1], VALUES_DECIMAL);
            prop_assert_eq!(round_trip(&samples), samples);
        }

        #[test]
        fn raw_round_trip(samples in samples(100)) {
            for s in samples {
                let mut raw = s.t.to_le_bytes().to_vec();
                raw.extend_from_slice(&value_bits(s.value).to_le_bytes());
                prop_assert_eq!(raw_sample(&raw).unwrap(), s);
            }
        }

        #[test]
        fn block_summary_equals_adding(samples in samples(300), sorted in any::<bool>()) {
            let mut samples = samples;
            if sorted {
                samples.retain(|s| matches!(s.value, Value::Number(_)));
                samples.sort_by_key(|s| s.t);
                prop_assume!(!samples.is_empty());
            }
            let (_, sum) = encode_block(&samples, &mut EncodeScratch::default()).unwrap();
            prop_assert_eq!(sum, brute_summary(&samples));
        }

        #[test]
        fn summary_merge_equals_adding(samples in samples(200), cut in 0usize..200) {
            let cut = cut.min(samples.len());
            let mut a = brute_summary(&samples[..cut]);
            a.merge(&brute_summary(&samples[cut..]));
            prop_assert_eq!(a, brute_summary(&samples));
        }

        #[test]
        fn corrupt_blocks_error_never_panic(samples in samples(200), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
            let (mut blob, _) = encode_block(&samples, &mut EncodeScratch::default()).unwrap();
            for (i, b) in flips {
                let i = i % blob.len();
                blob[i] ^= b | 1;
            }
            let mut d = Decoded::default();
            let _ = decode_block(&blob, samples.len(), &mut d);
            blob.truncate(cut % (blob.len() + 1));
            let _ = decode_block(&blob, samples.len(), &mut d);
            let _ = decode_block_times(&blob, samples.len(), &mut Vec::new());
        }
    }

    #[test]
    fn decimal_detection_picks_coarsest_resolution() {
        let mut ints = Vec::new();
        assert_eq!(to_decimal_ints(&[1.5, 2.25, -3.0], &mut ints), Some(2));
        assert_eq!(ints, vec![150, 225, -300]);
        assert_eq!(to_decimal_ints(&[20.0, 21.0], &mut ints), Some(0));
        assert_eq!(to_decimal_ints(&[1.0 / 3.0], &mut ints), None);
        assert_eq!(to_decimal_ints(&[1e300], &mut ints), None);
    }

    #[test]
    fn nan_and_negative_zero_are_normalised() {
        assert_eq!(normalise(Sample::number(1, f64::NAN)), Sample::special(1, SpecialKind::Invalid));
        assert!(normalise(Sample::number(1, -0.0)).value.as_number().unwrap().is_sign_positive());
    }

    #[test]
    fn wrong_count_and_garbage_are_errors() {
        let samples: Vec<Sample> = (0..10).map(|i| Sample::number(i, i as f64)).collect();
        let (blob, _) = encode_block(&samples, &mut EncodeScratch::default()).unwrap();
        let mut d = Decoded::default();
        assert!(decode_block(&blob, 11, &mut d).is_err());
        assert!(decode_block(b"garbage", 10, &mut d).is_err());
        assert!(decode_block(&[], 10, &mut d).is_err());
        assert!(raw_sample(&[1, 2, 3]).is_err());
        let mut nan = [0u8; 16];
        nan[8..].copy_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert!(raw_sample(&nan).is_err());
    }

    #[test]
    fn all_special_block() {
        let samples: Vec<Sample> = (0..5).map(|i| Sample::special(i, SpecialKind::OverRange)).collect();
        assert_eq!(round_trip(&samples), samples);
        let (_, s) = encode_block(&samples, &mut EncodeScratch::default()).unwrap();
        assert_eq!((s.count, s.specials, s.min), (5, 5, None));
    }
}
