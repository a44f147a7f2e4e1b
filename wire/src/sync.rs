//! Sync protocol v1 on the wire (docs/protocol.md): the batch an agent
//! publishes and the acknowledgement the cloud answers with. Pure functions
//! over bytes, shared by the agent (encode) and the cloud (decode), so both
//! sides use the same block codec (`crate::codec`) and cannot drift apart.
//!
//! Batch payload: `"MDB1" | header length (u32 LE) | header (JSON) | blocks`,
//! the blocks concatenated in the order of `header.channels`, each
//! `channels[i].bytes` long (0 when the part holds no samples).

use serde::{Deserialize, Serialize};

use crate::codec::{self, Decoded, EncodeScratch, Summary};
use crate::records::{self, RECORDS_VERSION, Record};
use crate::sample::Sample;

pub const PROTOCOL_VERSION: u32 = 1;
const MAGIC: &[u8; 4] = b"MDB1";
/// Largest batch payload the cloud accepts; agents pack below it.
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;
/// Agents close a message once it holds about this many bytes.
pub const TARGET_PAYLOAD_BYTES: usize = 512 * 1024;
const MAX_HEADER_BYTES: usize = 1024 * 1024;
const MAX_PATH_CHARS: usize = 256;
const MAX_UNIT_CHARS: usize = 32;
/// A part holds at most this many samples (the outbox's batch cap).
pub const MAX_PART_SAMPLES: u32 = 10_000;
/// The limits on a part's path and unit, for agents to check before sending.
pub const PATH_MAX_CHARS: usize = MAX_PATH_CHARS;
pub const UNIT_MAX_CHARS: usize = MAX_UNIT_CHARS;

/// Topic prefix of one agent; the broker's ACL confines an agent to it.
pub fn agent_prefix(agent: &str) -> String {
    format!("md/v1/{agent}")
}
/// Where an agent publishes its batches (QoS 1).
pub fn batch_topic(agent: &str) -> String {
    format!("md/v1/{agent}/up/batch")
}
/// Where the cloud answers with acknowledgements (QoS 1).
pub fn ack_topic(agent: &str) -> String {
    format!("md/v1/{agent}/down/ack")
}
/// Where an agent says it is connected (`{"v":1,"online":true}`, retained,
/// on every connection) and where the broker publishes its last will
/// (`{"v":1,"online":false}`, retained) when the connection dies unclosed.
/// The cloud's offline alarms read it (docs/protocol.md, "Presence").
pub fn status_topic(agent: &str) -> String {
    format!("md/v1/{agent}/up/status")
}
/// The cloud's subscription to every agent's presence (not shared: each
/// cloud process keeps it; the store decides who mails).
pub const STATUS_SUBSCRIPTION: &str = "md/v1/+/up/status";

/// An agent's presence message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub v: u32,
    pub online: bool,
}

impl Presence {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn parse(payload: &[u8]) -> Result<Presence, WireError> {
        serde_json::from_slice(payload).map_err(|e| WireError(format!("presence: {e}")))
    }
}

/// The agent id in a status topic, if the topic is one.
pub fn agent_of_status_topic(topic: &str) -> Option<&str> {
    let rest = topic.strip_prefix("md/v1/")?;
    let (agent, tail) = rest.split_once('/')?;
    (tail == "up/status" && valid_agent_id(agent)).then_some(agent)
}

/// The shared subscription protocol v1 first named for the cloud. The cloud
/// no longer joins it: its group is derived from its broker secret (see the
/// cloud's `ingest::share_group`), so an agent cannot join and split the
/// batches. Kept so the broker self-test and the tests can try it as an
/// intruder would.
pub const CLOUD_SUBSCRIPTION: &str = "$share/meterdeck-cloud/md/v1/+/up/batch";

/// The agent id in a batch topic, if the topic is one.
pub fn agent_of_topic(topic: &str) -> Option<&str> {
    let rest = topic.strip_prefix("md/v1/")?;
    let (agent, tail) = rest.split_once('/')?;
    (tail == "up/batch" && valid_agent_id(agent)).then_some(agent)
}

/// Agent ids are what the cloud hands out: 1-64 of `[A-Za-z0-9_-]`
/// (no MQTT wildcards or separators).
pub fn valid_agent_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchHeader {
    pub v: u32,
    /// Random id of the agent's store file: sequence numbers restart with a
    /// new store, so the cloud keys samples by (agent, store, channel, seq).
    pub store: String,
    /// The agent's message id, echoed in the acknowledgement.
    pub batch: u64,
    pub sent_ms: i64,
    /// Samples still waiting in the agent's outbox after this batch.
    #[serde(default)]
    pub backlog: u64,
    pub channels: Vec<PartHeader>,
    /// Alarm journal entries and instrument events (`"v": 2` only; see
    /// `crate::records`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<Record>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartHeader {
    /// `instrument/channel`.
    pub path: String,
    #[serde(default)]
    pub unit: Option<String>,
    /// The store sequence numbers `[seq_from, seq_to)` this part covers.
    pub seq_from: i64,
    pub seq_to: i64,
    /// Samples in the block (may be fewer than the range: retention).
    pub count: u32,
    pub bytes: u32,
}

/// One channel's piece of a batch, as the agent hands it to `encode_batch`.
pub struct PartIn<'a> {
    pub path: &'a str,
    pub unit: Option<&'a str>,
    pub seq_from: i64,
    pub seq_to: i64,
    pub samples: &'a [Sample],
}

/// One channel's piece of a decoded batch: the block as received (stored
/// as is) and its summary, recomputed from the decoded samples.
#[derive(Clone, Debug)]
pub struct Part {
    pub path: String,
    pub unit: Option<String>,
    pub seq_from: i64,
    pub seq_to: i64,
    pub block: Vec<u8>,
    /// `None` for a part with no samples.
    pub summary: Option<Summary>,
}

#[derive(Clone, Debug)]
pub struct Batch {
    pub header: BatchHeader,
    pub parts: Vec<Part>,
}

impl Batch {
    pub fn samples(&self) -> u64 {
        self.parts.iter().map(|p| p.summary.map_or(0, |s| s.count)).sum()
    }
}

/// A payload the cloud refuses; the message goes back in an error ack.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub String);

fn bad<T>(msg: impl Into<String>) -> Result<T, WireError> {
    Err(WireError(msg.into()))
}

pub fn encode_batch(
    store: &str,
    batch: u64,
    sent_ms: i64,
    backlog: u64,
    parts: &[PartIn<'_>],
    scratch: &mut EncodeScratch,
) -> Result<Vec<u8>, WireError> {
    let mut blocks = Vec::with_capacity(parts.len());
    let mut channels = Vec::with_capacity(parts.len());
    for p in parts {
        let block = if p.samples.is_empty() {
            Vec::new()
        } else {
            codec::encode_block(p.samples, scratch).map_err(|e| WireError(format!("{}: {e}", p.path)))?.0
        };
        channels.push(PartHeader {
            path: p.path.to_owned(),
            unit: p.unit.map(str::to_owned),
            seq_from: p.seq_from,
            seq_to: p.seq_to,
            count: u32::try_from(p.samples.len()).map_err(|_| WireError(format!("{}: too many samples", p.path)))?,
            bytes: block.len() as u32,
        });
        blocks.push(block);
    }
    let header = BatchHeader {
        v: PROTOCOL_VERSION,
        store: store.to_owned(),
        batch,
        sent_ms,
        backlog,
        channels,
        records: vec![],
    };
    let head = serde_json::to_vec(&header).map_err(|e| WireError(e.to_string()))?;
    let mut out = Vec::with_capacity(8 + head.len() + blocks.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    blocks.iter().for_each(|b| out.extend_from_slice(b));
    Ok(out)
}

/// A batch of records alone (protocol v2, no channels): the agent's
/// alarm journal entries and events, acknowledged like samples.
pub fn encode_records(
    store: &str,
    batch: u64,
    sent_ms: i64,
    backlog: u64,
    records: Vec<Record>,
) -> Result<Vec<u8>, WireError> {
    records::check(&records)?;
    let header =
        BatchHeader { v: RECORDS_VERSION, store: store.to_owned(), batch, sent_ms, backlog, channels: vec![], records };
    let head = serde_json::to_vec(&header).map_err(|e| WireError(e.to_string()))?;
    if head.len() > MAX_HEADER_BYTES {
        return bad(format!("a header of {} bytes is over the {MAX_HEADER_BYTES}-byte limit", head.len()));
    }
    let mut out = Vec::with_capacity(8 + head.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    Ok(out)
}

/// The batch id of a payload, as far as it can be read: lets the cloud
/// address an error ack even when the rest is malformed.
pub fn peek_batch_id(payload: &[u8]) -> Option<u64> {
    peek_ids(payload).0
}

/// The batch id and store id of a payload too broken to decode, as far as
/// its header can be read (for the error ack).
pub fn peek_ids(payload: &[u8]) -> (Option<u64>, Option<String>) {
    #[derive(Deserialize)]
    struct Ids {
        batch: Option<u64>,
        store: Option<String>,
    }
    let Ok((head, _)) = split(payload) else { return (None, None) };
    match serde_json::from_slice::<Ids>(head) {
        Ok(i) => (i.batch, i.store),
        Err(_) => (None, None),
    }
}

fn split(payload: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return bad(format!("payload of {} bytes is over the {MAX_PAYLOAD_BYTES}-byte limit", payload.len()));
    }
    if payload.len() < 8 || &payload[..4] != MAGIC {
        return bad("not a Meterdeck batch (no MDB1 magic)");
    }
    let n = u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]) as usize;
    if n > MAX_HEADER_BYTES || 8 + n > payload.len() {
        return bad(format!("header length {n} does not fit the {}-byte payload", payload.len()));
    }
    Ok((&payload[8..8 + n], &payload[8 + n..]))
}

/// Checks and decodes a batch payload: every block must decode to the count
/// its header states. Never panics, whatever the bytes.
pub fn decode_batch(payload: &[u8]) -> Result<Batch, WireError> {
    decode_batch_with(payload, |_, _| {})
}

/// [`decode_batch`], handing each part's decoded samples to `each` (part
/// index, samples) while they are at hand, so a caller that derives more
/// from them (the cloud's chunk summaries) does not decode the block again.
/// Parts without samples are not handed over; on an error the parts handed
/// so far are to be dropped.
pub fn decode_batch_with(payload: &[u8], mut each: impl FnMut(usize, &Decoded)) -> Result<Batch, WireError> {
    let (head, mut body) = split(payload)?;
    let header: BatchHeader = serde_json::from_slice(head).map_err(|e| WireError(format!("header: {e}")))?;
    if header.v != PROTOCOL_VERSION && header.v != RECORDS_VERSION {
        return bad(format!(
            "protocol version {} is not supported (this cloud speaks {PROTOCOL_VERSION} and {RECORDS_VERSION})",
            header.v
        ));
    }
    if header.v == PROTOCOL_VERSION && !header.records.is_empty() {
        return bad(format!("records need protocol version {RECORDS_VERSION}; this batch says {PROTOCOL_VERSION}"));
    }
    records::check(&header.records)?;
    if header.store.is_empty() || header.store.len() > 64 {
        return bad("header: store id must be 1-64 characters");
    }
    let mut parts = Vec::with_capacity(header.channels.len());
    let mut d = Decoded::default();
    for (i, c) in header.channels.iter().enumerate() {
        let what = format!("channel {i} ({})", c.path.chars().take(40).collect::<String>());
        if c.path.is_empty() || c.path.chars().count() > MAX_PATH_CHARS || !c.path.contains('/') {
            return bad(format!("{what}: path must be instrument/channel, at most {MAX_PATH_CHARS} characters"));
        }
        if c.unit.as_ref().is_some_and(|u| u.chars().count() > MAX_UNIT_CHARS) {
            return bad(format!("{what}: unit longer than {MAX_UNIT_CHARS} characters"));
        }
        if c.seq_from < 0
            || c.seq_to <= c.seq_from
            || c.count > MAX_PART_SAMPLES
            || i64::from(c.count) > c.seq_to - c.seq_from
        {
            return bad(format!("{what}: bad range [{}, {}) for {} samples", c.seq_from, c.seq_to, c.count));
        }
        let len = c.bytes as usize;
        if len > body.len() {
            return bad(format!("{what}: block of {len} bytes runs past the payload"));
        }
        let (block, rest) = body.split_at(len);
        body = rest;
        let summary = if c.count == 0 {
            if len != 0 {
                return bad(format!("{what}: {len} bytes for 0 samples"));
            }
            None
        } else {
            codec::decode_block(block, c.count as usize, &mut d).map_err(|e| WireError(format!("{what}: {e}")))?;
            let mut s = Summary::default();
            d.for_each(|x| s.add(x));
            each(i, &d);
            Some(s)
        };
        parts.push(Part {
            path: c.path.clone(),
            unit: c.unit.clone(),
            seq_from: c.seq_from,
            seq_to: c.seq_to,
            block: block.to_vec(),
            summary,
        });
    }
    if !body.is_empty() {
        return bad(format!("{} bytes after the last block", body.len()));
    }
    Ok(Batch { header, parts })
}

/// The cloud's answer to one batch, on `ack_topic`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub v: u32,
    /// The batch id, or `None` when the payload was too broken to read it.
    pub batch: Option<u64>,
    /// `true`: durably stored (or already stored before); the agent may
    /// delete it. `false`: refused, see `error`; resending will not help.
    pub ok: bool,
    /// Samples newly stored (0 for a resend).
    #[serde(default)]
    pub stored: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The batch header's store id, when it could be read. Batch ids are
    /// per store, so an agent ignores acks for another store: two
    /// processes run with one agent id must not release each other's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

impl Ack {
    pub fn stored(batch: u64, stored: u64) -> Ack {
        Ack { v: PROTOCOL_VERSION, batch: Some(batch), ok: true, stored, error: None, store: None }
    }
    pub fn refused(batch: Option<u64>, error: impl Into<String>) -> Ack {
        Ack { v: PROTOCOL_VERSION, batch, ok: false, stored: 0, error: Some(error.into()), store: None }
    }
    /// The ack names the store the batch came from.
    pub fn for_store(mut self, store: &str) -> Ack {
        self.store = Some(store.to_owned());
        self
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn parse(payload: &[u8]) -> Result<Ack, WireError> {
        serde_json::from_slice(payload).map_err(|e| WireError(format!("ack: {e}")))
    }
}

/// Decodes a stored block back into samples (the cloud's read path).
pub fn decode_block(block: &[u8], count: usize) -> Result<Vec<Sample>, WireError> {
    let mut d = Decoded::default();
    codec::decode_block(block, count, &mut d).map_err(|e| WireError(e.to_string()))?;
    let mut out = Vec::with_capacity(count);
    d.for_each(|s| out.push(s));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::SpecialKind;
    use proptest::prelude::*;

    fn samples(n: i64) -> Vec<Sample> {
        (0..n).map(|i| Sample::number(1_000 * i, i as f64 * 0.5)).collect()
    }

    #[test]
    fn round_trip_keeps_ranges_blocks_and_summaries() {
        let a = samples(100);
        let b = vec![Sample::number(5, 1.0), Sample::special(6, SpecialKind::OverRange)];
        let parts = [
            PartIn { path: "l1/CH1", unit: Some("V"), seq_from: 0, seq_to: 100, samples: &a },
            PartIn { path: "l1/CH2", unit: None, seq_from: 7, seq_to: 10, samples: &b },
            PartIn { path: "l1/CH3", unit: None, seq_from: 3, seq_to: 4, samples: &[] },
        ];
        let bytes = encode_batch("store-1", 42, 9, 1234, &parts, &mut EncodeScratch::default()).unwrap();
        assert_eq!(peek_batch_id(&bytes), Some(42));
        let batch = decode_batch(&bytes).unwrap();
        assert_eq!(batch.header.batch, 42);
        assert_eq!(batch.header.backlog, 1234);
        assert_eq!(batch.samples(), 102);
        assert_eq!(decode_block(&batch.parts[0].block, 100).unwrap(), a);
        assert_eq!(decode_block(&batch.parts[1].block, 2).unwrap(), b);
        assert_eq!(batch.parts[1].summary.unwrap().specials, 1);
        assert!(batch.parts[2].summary.is_none());
        assert_eq!((batch.parts[1].seq_from, batch.parts[1].seq_to), (7, 10));
    }

    #[test]
    fn decode_with_hands_over_each_part_with_samples() {
        let a = samples(30);
        let parts = [
            PartIn { path: "l1/CH1", unit: None, seq_from: 0, seq_to: 30, samples: &a },
            PartIn { path: "l1/CH2", unit: None, seq_from: 3, seq_to: 4, samples: &[] },
            PartIn { path: "l1/CH3", unit: None, seq_from: 0, seq_to: 5, samples: &a[..5] },
        ];
        let bytes = encode_batch("s", 1, 0, 0, &parts, &mut EncodeScratch::default()).unwrap();
        let mut seen = Vec::new();
        let batch = decode_batch_with(&bytes, |i, d| {
            let mut got = Vec::new();
            d.for_each(|s| got.push(s));
            seen.push((i, got));
        })
        .unwrap();
        assert_eq!(seen, vec![(0, a.clone()), (2, a[..5].to_vec())]);
        assert_eq!(batch.samples(), 35);
    }

    #[test]
    fn malformed_payloads_are_named() {
        let a = samples(10);
        let parts = [PartIn { path: "l1/CH1", unit: None, seq_from: 0, seq_to: 10, samples: &a }];
        let good = encode_batch("s", 1, 0, 0, &parts, &mut EncodeScratch::default()).unwrap();
        let err = |p: &[u8]| decode_batch(p).unwrap_err().0;
        assert!(err(b"hello").contains("magic"));
        assert!(err(&good[..good.len() - 3]).contains("runs past"));
        let mut extra = good.clone();
        extra.push(0);
        assert!(err(&extra).contains("after the last block"));
        let mut corrupt = good.clone();
        let n = corrupt.len();
        corrupt[n - 5..].fill(0xFF);
        assert!(decode_batch(&corrupt).is_err());
        assert!(err(&vec![0u8; MAX_PAYLOAD_BYTES + 1]).contains("limit"));
        let v2 = String::from_utf8(good.clone()).unwrap_or_default();
        assert!(v2.is_empty() || v2.contains("\"v\":1"));
    }

    #[test]
    fn records_travel_in_v2_batches_and_v1_cannot_carry_them() {
        use crate::records::{EventRecord, RecordBody};
        let recs: Vec<Record> = (1..=3)
            .map(|seq| Record {
                seq,
                t: 1000 * seq,
                body: RecordBody::Event(EventRecord {
                    instrument: Some("log".into()),
                    event: "connected".into(),
                    message: format!("up {seq}"),
                    text: None,
                }),
            })
            .collect();
        let bytes = encode_records("s1", 9, 5, 0, recs.clone()).unwrap();
        let b = decode_batch(&bytes).unwrap();
        assert_eq!((b.header.v, b.header.batch, b.parts.len()), (2, 9, 0));
        assert_eq!(b.header.records, recs);
        // The same header claiming v1 is refused, naming the version.
        let text = String::from_utf8_lossy(&bytes[8..]).replace("\"v\":2", "\"v\":1");
        let mut v1 = b"MDB1".to_vec();
        v1.extend_from_slice(&(text.len() as u32).to_le_bytes());
        v1.extend_from_slice(text.as_bytes());
        assert!(decode_batch(&v1).unwrap_err().0.contains("records need protocol version 2"));
        let v3 = String::from_utf8_lossy(&bytes[8..]).replace("\"v\":2", "\"v\":3");
        let mut p3 = b"MDB1".to_vec();
        p3.extend_from_slice(&(v3.len() as u32).to_le_bytes());
        p3.extend_from_slice(v3.as_bytes());
        assert!(decode_batch(&p3).unwrap_err().0.contains("protocol version 3 is not supported"));
        // Sample batches stay v1, readable by clouds that only speak v1.
        let a = samples(3);
        let parts = [PartIn { path: "l1/CH1", unit: None, seq_from: 0, seq_to: 3, samples: &a }];
        let v1 = encode_batch("s", 1, 0, 0, &parts, &mut EncodeScratch::default()).unwrap();
        assert!(!String::from_utf8_lossy(&v1).contains("records"));
        assert_eq!(decode_batch(&v1).unwrap().header.v, 1);
    }

    #[test]
    fn topics_name_their_agent() {
        assert_eq!(agent_of_topic(&batch_topic("a-1")), Some("a-1"));
        assert_eq!(agent_of_topic("md/v1/a-1/down/ack"), None);
        assert_eq!(agent_of_topic("md/v1/+/up/batch"), None);
        assert_eq!(agent_of_status_topic(&status_topic("a-1")), Some("a-1"));
        assert_eq!(agent_of_status_topic(&batch_topic("a-1")), None);
        assert_eq!(agent_of_topic(&status_topic("a-1")), None);
        let p = Presence { v: 1, online: false };
        assert_eq!(Presence::parse(&p.to_json()).unwrap(), p);
        assert!(Presence::parse(b"on").is_err());
        assert!(!valid_agent_id("a/b"));
        assert!(!valid_agent_id(""));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_batch(&bytes);
            let mut framed = b"MDB1".to_vec();
            framed.extend_from_slice(&(bytes.len().min(40) as u32).to_le_bytes());
            framed.extend_from_slice(&bytes);
            let _ = decode_batch(&framed);
        }
    }
}
