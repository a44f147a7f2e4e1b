//! The durable tail: samples not yet in a block.
//!
//! On disk it is a log, one `tail_log` row per append holding that append's
//! tail-bound samples of every channel (a directory of per-channel
//! fragments, then raw 16-byte samples). Rows are keyed in insertion order,
//! so an append of one sample for each of 10,000 channels writes one row
//! on a few consecutive pages instead of dirtying one page per channel.
//!
//! In memory, [`Live`] holds each channel's pending samples (those with seq
//! at or after the channel's `block_seq`), rebuilt from the log when the
//! store is opened or another connection has written (`PRAGMA
//! data_version`). Flushing a channel writes its pending samples into blocks
//! and advances `block_seq`. Each channel remembers only the oldest row
//! holding one of its pending samples; rows older than every channel's
//! oldest row (the watermark) are dead and deleted.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;

use super::codec::{self, CodecError};
use super::error::{Result, StoreError};
use crate::model::{ChannelId, Sample, SpecialKind};

const LOG_FORMAT: u8 = 2;
const RAW_SAMPLE_BYTES: usize = 16;

/// `outbox.seq_to` of a channel's open batch: it extends to the newest sample.
pub(crate) const OPEN: i64 = i64::MAX;

/// One channel's part of a log row.
#[cfg(test)]
#[derive(Debug, PartialEq)]
pub(crate) struct Fragment {
    pub channel: ChannelId,
    pub seq_first: i64,
    pub samples: Vec<Sample>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &mut &[u8]) -> std::result::Result<u64, CodecError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = buf.split_first() else {
            return Err(CodecError("truncated varint".into()));
        };
        *buf = rest;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CodecError("varint too long".into()))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encodes a log row: `[format][n][(channel delta, seq, count)...][samples]`.
pub(crate) fn encode_log_row<T: codec::AsSample>(fragments: &[(ChannelId, i64, &[T])]) -> Vec<u8> {
    let n: usize = fragments.iter().map(|f| f.2.len()).sum();
    let mut out = Vec::with_capacity(8 + fragments.len() * 6 + n * RAW_SAMPLE_BYTES);
    out.push(LOG_FORMAT);
    put_varint(&mut out, fragments.len() as u64);
    let mut prev = 0i64;
    for &(ch, seq, samples) in fragments {
        put_varint(&mut out, zigzag(ch.wrapping_sub(prev)));
        put_varint(&mut out, zigzag(seq));
        put_varint(&mut out, samples.len() as u64);
        prev = ch;
    }
    for &(_, _, samples) in fragments {
        for s in samples.iter().map(|x| x.sample()) {
            out.extend_from_slice(&s.t.to_le_bytes());
            out.extend_from_slice(&codec::value_bits(s.value).to_le_bytes());
        }
    }
    out
}

/// Calls `f(channel, seq_first, raw)` for each fragment of a log row, `raw`
/// holding its samples (16 bytes each, see `codec::raw_sample`).
pub(crate) fn for_each_fragment(
    data: &[u8],
    mut f: impl FnMut(ChannelId, i64, &[u8]) -> Result<()>,
) -> std::result::Result<Result<()>, CodecError> {
    let Some((&format, mut buf)) = data.split_first() else {
        return Err(CodecError("empty tail row".into()));
    };
    if format != LOG_FORMAT {
        return Err(CodecError(format!("unknown tail row format {format}")));
    }
    let n = get_varint(&mut buf)? as usize;
    let mut heads = Vec::with_capacity(n.min(buf.len()));
    let mut prev = 0i64;
    let mut total = 0usize;
    for _ in 0..n {
        let ch = prev.wrapping_add(unzigzag(get_varint(&mut buf)?));
        let seq = unzigzag(get_varint(&mut buf)?);
        let count = get_varint(&mut buf)? as usize;
        total = total.checked_add(count).ok_or_else(|| CodecError("sample count overflows".into()))?;
        heads.push((ch, seq, count));
        prev = ch;
    }
    if Some(buf.len()) != total.checked_mul(RAW_SAMPLE_BYTES) {
        return Err(CodecError(format!("{} sample bytes for {total} samples", buf.len())));
    }
    for (channel, seq_first, count) in heads {
        let (raw, rest) = buf.split_at(count * RAW_SAMPLE_BYTES);
        buf = rest;
        if let Err(e) = f(channel, seq_first, raw) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// Appends raw samples to `out`.
pub(crate) fn decode_raw(raw: &[u8], out: &mut Vec<Sample>) -> std::result::Result<(), CodecError> {
    out.reserve(raw.len() / RAW_SAMPLE_BYTES);
    for chunk in raw.chunks_exact(RAW_SAMPLE_BYTES) {
        out.push(codec::raw_sample(chunk)?);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn decode_log_row(data: &[u8]) -> std::result::Result<Vec<Fragment>, CodecError> {
    let mut out = Vec::new();
    let mut bad = None;
    for_each_fragment(data, |channel, seq_first, raw| {
        let mut samples = Vec::new();
        if let Err(e) = decode_raw(raw, &mut samples) {
            bad = Some(e);
        }
        out.push(Fragment { channel, seq_first, samples });
        Ok(())
    })?
    .map_err(|e| CodecError(e.to_string()))?;
    match bad {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Hasher for channel ids (small integers): SipHash was a tenth of the
/// agent's per-append time. Multiply-rotate as in rustc's FxHash.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
}

pub(crate) type IdMap<V> = HashMap<ChannelId, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A channel's ingest state.
#[derive(Debug, Default, Clone)]
pub(crate) struct Chan {
    /// Seq the next appended sample gets.
    pub next_seq: i64,
    /// Seq of the first pending sample; everything before is in blocks.
    pub block_seq: i64,
    /// Samples `block_seq..next_seq`, in arrival order.
    pub pending: Vec<Sample>,
    /// The oldest tail row holding a pending sample.
    pub oldest_row: Option<i64>,
    /// The last sample appended.
    pub latest: Option<Sample>,
    /// The channel's open outbox batch: (id, seq_from).
    pub outbox_open: Option<(i64, i64)>,
}

/// The tail as the store sees it, valid for one `data_version`.
#[derive(Debug, Default)]
pub(crate) struct Live {
    pub data_version: i64,
    pub channels: IdMap<Chan>,
    /// Tail rows in the database: id -> bytes.
    pub rows: BTreeMap<i64, u64>,
    /// Sum of `rows`.
    pub log_bytes: u64,
    /// Pending samples, all channels.
    pub pending_total: usize,
}

pub(crate) fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "data_version", |r| r.get(0))
}

fn latest_of(t: Option<i64>, v: Option<f64>, code: Option<i64>) -> Option<Sample> {
    let t = t?;
    match (v, code) {
        (Some(v), _) => Some(Sample::number(t, v)),
        (None, Some(c)) => u8::try_from(c).ok().and_then(SpecialKind::from_code).map(|k| Sample::special(t, k)),
        (None, None) => None,
    }
}

impl Live {
    /// Reads the tail and channel states; call inside a transaction so the
    /// picture is one snapshot.
    pub(crate) fn load(conn: &Connection) -> Result<Live> {
        // Any read starts the snapshot; data_version then names it.
        let mut live = Live::default();
        {
            let mut stmt =
                conn.prepare_cached("SELECT id, next_seq, block_seq, latest_t, latest_v, latest_code FROM channel")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let chan = Chan {
                    next_seq: r.get(1)?,
                    block_seq: r.get(2)?,
                    latest: latest_of(r.get(3)?, r.get(4)?, r.get(5)?),
                    ..Chan::default()
                };
                live.channels.insert(r.get(0)?, chan);
            }
        }
        live.data_version = data_version(conn)?;
        {
            let mut stmt = conn.prepare_cached("SELECT id, data FROM tail_log ORDER BY id")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let channels = &mut live.channels;
                let pending_total = &mut live.pending_total;
                let corrupt = |detail: String| StoreError::CorruptTail { row: id, detail };
                let data = codec::blob(r.get_ref(1)?).map_err(|e| corrupt(e.0))?;
                for_each_fragment(data, |channel, seq_first, raw| {
                    let Some(c) = channels.get_mut(&channel) else {
                        return Err(corrupt(format!("samples of channel {channel}, which does not exist")));
                    };
                    // Samples already flushed into blocks are skipped.
                    let count = (raw.len() / RAW_SAMPLE_BYTES) as i64;
                    let skip = (c.block_seq - seq_first).clamp(0, count);
                    if skip == count {
                        return Ok(());
                    }
                    let first = seq_first + skip;
                    let expect = c.block_seq + c.pending.len() as i64;
                    if first != expect {
                        return Err(corrupt(format!(
                            "channel {channel}: samples from seq {first}, expected seq {expect}"
                        )));
                    }
                    decode_raw(&raw[skip as usize * RAW_SAMPLE_BYTES..], &mut c.pending)
                        .map_err(|e| corrupt(format!("channel {channel}: {e}")))?;
                    c.oldest_row.get_or_insert(id);
                    *pending_total += (count - skip) as usize;
                    Ok(())
                })
                .map_err(|e| corrupt(e.0))??;
                live.rows.insert(id, data.len() as u64);
                live.log_bytes += data.len() as u64;
            }
        }
        for c in live.channels.values_mut() {
            c.next_seq = c.next_seq.max(c.block_seq + c.pending.len() as i64);
            if let Some(&last) = c.pending.last() {
                c.latest = Some(last);
            }
        }
        {
            let mut stmt = conn.prepare_cached("SELECT id, channel, seq_from FROM outbox WHERE seq_to = ?1")?;
            let mut rows = stmt.query([OPEN])?;
            while let Some(r) = rows.next()? {
                let (id, ch, from): (i64, ChannelId, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                if let Some(c) = live.channels.get_mut(&ch) {
                    c.outbox_open = Some((id, from));
                }
            }
        }
        Ok(live)
    }

    /// The channel's pending samples and the seq of the first.
    pub(crate) fn pending(&self, channel: ChannelId) -> (i64, &[Sample]) {
        match self.channels.get(&channel) {
            Some(c) => (c.block_seq, &c.pending),
            None => (0, &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn log_rows_round_trip(frags in prop::collection::vec((-1000i64..1000, 0i64..1_000_000, prop::collection::vec((any::<i64>(), -1e9f64..1e9), 0..5)), 0..20)) {
            let owned: Vec<(ChannelId, i64, Vec<Sample>)> = frags.into_iter()
                .map(|(c, s, v)| (c, s, v.into_iter().map(|(t, x)| Sample::number(t, x)).collect())).collect();
            let refs: Vec<(ChannelId, i64, &[Sample])> = owned.iter().map(|(c, s, v)| (*c, *s, v.as_slice())).collect();
            let back = decode_log_row(&encode_log_row(&refs)).unwrap();
            prop_assert_eq!(back.len(), owned.len());
            for (f, (c, s, v)) in back.iter().zip(&owned) {
                prop_assert_eq!((f.channel, f.seq_first, &f.samples), (*c, *s, v));
            }
        }

        #[test]
        fn corrupt_log_rows_error_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut d = data;
            if let Some(b) = d.first_mut() { *b = LOG_FORMAT; }
            let _ = decode_log_row(&d);
        }
    }

    #[test]
    fn specials_survive_the_log() {
        let s = [Sample::special(5, SpecialKind::BurnOut), Sample::number(6, -0.5)];
        let back = decode_log_row(&encode_log_row(&[(7, 3, &s)])).unwrap();
        assert_eq!(back, vec![Fragment { channel: 7, seq_first: 3, samples: s.to_vec() }]);
    }
}
