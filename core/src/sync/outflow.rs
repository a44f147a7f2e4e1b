//! The drain's bookkeeping, without any I/O (docs/protocol.md, "Agent
//! rules"): outbox rows are packed into messages, at most `window` messages
//! are in flight, an `ok` ack releases exactly the rows of its message, an
//! `ok: false` parks them until restart, and unacknowledged messages are sent
//! again on reconnect and after the resend timeout. The MQTT task
//! (`client.rs`) drives it; unit tests drive it directly.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::wire::{self, Ack, MAX_PAYLOAD_BYTES, PartIn};
use crate::outbox::OutRow;
use crate::outbox::records as outbox_records;
use crate::store::codec::EncodeScratch;
use meterdeck_wire::records::Record;

/// A batch on its way: the outbox rows it holds and its encoded bytes.
#[derive(Clone, Debug)]
pub struct Flight {
    pub batch: u64,
    pub rows: Vec<i64>,
    pub samples: u64,
    pub payload: Vec<u8>,
    /// When it was last published; `None` = not (yet or again) on this connection.
    pub sent_at: Option<Instant>,
    /// How often it was published.
    pub sends: u32,
}

/// What became of an outbox read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fetch {
    /// Rows new to this process (packed or refused here).
    pub fresh: usize,
    /// Rows with an empty range: nothing to send, the caller deletes them.
    pub empty: Vec<i64>,
    /// Rows the cloud would refuse (too long a path, ...): parked like a
    /// refused batch, each named with the reason for the event.
    pub unsendable: Vec<String>,
}

/// What an acknowledgement meant.
#[derive(Clone, Debug, PartialEq)]
pub enum AckOutcome {
    /// Stored by the cloud: delete these outbox rows.
    Stored { rows: Vec<i64>, samples: u64, new: u64 },
    /// Refused: the rows stay in the outbox but are not sent again.
    Refused { batch: Option<u64>, rows: Vec<i64>, error: String },
    /// Not a batch in flight (an earlier process's, or acknowledged twice).
    Unknown,
}

/// Rows that cannot become a message (the cloud would refuse them).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode a batch: {0}")]
struct EncodeError(#[from] wire::WireError);

/// Records per batch: at most 1,000 on the wire, each up to ~9 kB of text;
/// 200 keep a batch's header far below the 1 MiB limit.
const RECORDS_PER_BATCH: usize = 200;

/// Headers hold about 150 bytes per part: stay far below the 1 MiB limit.
const MAX_PARTS: usize = 2000;
/// Parked rows (or samples in them) after which the drain stops reading
/// the outbox: each read would decode them all again on the writer thread.
pub const MAX_PARKED_ROWS: usize = 4096;
pub const MAX_PARKED_SAMPLES: u64 = 500_000;

pub struct Outflow {
    store_id: String,
    window: usize,
    resend_after: Duration,
    target_bytes: usize,
    /// Packed, not yet published.
    queued: VecDeque<Flight>,
    /// Published, waiting for the cloud's word; in batch order.
    inflight: VecDeque<Flight>,
    /// Rows of refused batches: kept, never sent again by this process.
    parked: HashSet<i64>,
    /// Samples in the parked rows: every outbox read decodes them again.
    parked_samples: u64,
    /// Rows acknowledged while a fetch was outstanding: its answer may still
    /// list them.
    acked_during_fetch: HashSet<i64>,
    fetching: bool,
    /// The cloud refused a batch of records (an older cloud speaking only
    /// v1): no more records are packed until restart, samples go on.
    records_off: bool,
    next_batch: u64,
    /// Learnt from the messages packed so far, to aim at `target_bytes`.
    bytes_per_sample: f64,
    scratch: EncodeScratch,
}

impl Outflow {
    /// `first_batch` should differ from any earlier process's ids (the
    /// caller derives it from the clock), so a late ack for an old batch
    /// never matches a new one.
    pub fn new(store_id: String, window: usize, resend_after: Duration, target_bytes: usize, first_batch: u64) -> Self {
        Outflow {
            store_id,
            window: window.max(1),
            resend_after,
            target_bytes: target_bytes.clamp(1024, MAX_PAYLOAD_BYTES / 2),
            queued: VecDeque::new(),
            inflight: VecDeque::new(),
            parked: HashSet::new(),
            parked_samples: 0,
            acked_during_fetch: HashSet::new(),
            fetching: false,
            records_off: false,
            next_batch: first_batch,
            bytes_per_sample: 4.0,
            scratch: EncodeScratch::default(),
        }
    }

    /// Outbox rows this process holds (queued, in flight, parked): the
    /// writer's next answer starts with them.
    pub fn known_rows(&self) -> usize {
        self.queued.iter().chain(&self.inflight).map(|f| f.rows.len()).sum::<usize>() + self.parked.len()
    }

    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    pub fn queued(&self) -> usize {
        self.queued.len()
    }

    pub fn parked_rows(&self) -> usize {
        self.parked.len()
    }

    /// The `limit` for the next outbox read, when one is due: nothing is
    /// queued and the window has room.
    pub fn fetch_limit(&self, fresh_rows: usize) -> Option<usize> {
        (!self.fetching && self.queued.is_empty() && self.inflight.len() < self.window && !self.stalled())
            .then(|| self.known_rows() + fresh_rows)
    }

    /// So many rows were refused that reading past them would cost the
    /// writer more and more (a cloud refusing everything, e.g. another
    /// protocol version): stop until restart.
    pub fn stalled(&self) -> bool {
        self.parked.len() >= MAX_PARKED_ROWS || self.parked_samples >= MAX_PARKED_SAMPLES
    }

    pub fn fetch_started(&mut self) {
        self.fetching = true;
        self.acked_during_fetch.clear();
    }

    /// The writer's answer (the oldest rows, known ones included): packs the
    /// rows this process does not hold yet.
    pub fn fetched(&mut self, rows: Vec<OutRow>, backlog: u64, now_ms: i64) -> Fetch {
        self.fetched_with(rows, Vec::new(), backlog, now_ms)
    }

    /// [`Outflow::fetched`] with the oldest records of the record outbox
    /// (known ones included): the new ones are packed into batches of
    /// their own (protocol v2), after the samples' batches of this read.
    pub fn fetched_with(&mut self, rows: Vec<OutRow>, records: Vec<Record>, backlog: u64, now_ms: i64) -> Fetch {
        self.fetching = false;
        let known: HashSet<i64> = self
            .queued
            .iter()
            .chain(&self.inflight)
            .flat_map(|f| f.rows.iter().copied())
            .chain(self.parked.iter().copied())
            .chain(self.acked_during_fetch.drain())
            .collect();
        let mut out = Fetch::default();
        let mut fresh = Vec::new();
        for mut r in rows.into_iter().filter(|r| !known.contains(&r.id)) {
            if r.seq_to <= r.seq_from {
                out.empty.push(r.id);
                continue;
            }
            // The cloud would refuse the whole batch for it: never send it.
            if r.path.chars().count() > wire::PATH_MAX_CHARS || !r.path.contains('/') {
                self.park(r.id, r.samples.len() as u64);
                out.unsendable.push(format!("{}: path longer than {} characters", r.path, wire::PATH_MAX_CHARS));
                continue;
            }
            if r.samples.len() > wire::MAX_PART_SAMPLES as usize {
                self.park(r.id, r.samples.len() as u64);
                out.unsendable.push(format!("{}: {} samples in one outbox row", r.path, r.samples.len()));
                continue;
            }
            if let Some(u) = &r.unit
                && u.chars().count() > wire::UNIT_MAX_CHARS
            {
                // A unit is a label: the cloud gets its first 32 characters.
                r.unit = Some(u.chars().take(wire::UNIT_MAX_CHARS).collect());
            }
            fresh.push(r);
        }
        out.fresh = fresh.len();
        self.pack(fresh, backlog, now_ms, &mut out.unsendable);
        let mut fresh_records = Vec::new();
        let records = if self.records_off { Vec::new() } else { records };
        for r in records.into_iter().filter(|r| !known.contains(&outbox_records::key(r.seq))) {
            // The cloud would refuse the whole batch for it: never send it.
            if let Err(e) = meterdeck_wire::records::check(std::slice::from_ref(&r)) {
                self.park(outbox_records::key(r.seq), 0);
                out.unsendable.push(format!("{} record {}: {e}", r.body.kind(), r.seq));
                continue;
            }
            fresh_records.push(r);
        }
        out.fresh += fresh_records.len();
        for chunk in fresh_records.chunks(RECORDS_PER_BATCH) {
            let batch = self.next_batch;
            match wire::encode_records(&self.store_id, batch, now_ms, backlog, chunk.to_vec()) {
                Ok(payload) => {
                    self.next_batch += 1;
                    self.queued.push_back(Flight {
                        batch,
                        rows: chunk.iter().map(|r| outbox_records::key(r.seq)).collect(),
                        samples: 0,
                        payload,
                        sent_at: None,
                        sends: 0,
                    });
                }
                Err(e) => {
                    for r in chunk {
                        self.park(outbox_records::key(r.seq), 0);
                    }
                    out.unsendable.push(format!("{} records from seq {}: {e}", chunk.len(), chunk[0].seq));
                }
            }
        }
        out
    }

    /// A failed outbox read: try again later.
    pub fn fetch_failed(&mut self) {
        self.fetching = false;
    }

    /// Rows that cannot be encoded at all are parked and named in `bad`.
    /// `backlog`: samples in the outbox before these messages; each header
    /// carries what is left after it.
    fn pack(&mut self, rows: Vec<OutRow>, backlog: u64, now_ms: i64, bad: &mut Vec<String>) {
        let mut left = backlog;
        let mut start = 0;
        while start < rows.len() {
            // Rows up to the estimated target (at least one).
            let mut end = start;
            let mut estimate = 0.0;
            while end < rows.len() && end - start < MAX_PARTS {
                let add = 200.0 + rows[end].samples.len() as f64 * self.bytes_per_sample;
                if end > start && estimate + add > self.target_bytes as f64 {
                    break;
                }
                estimate += add;
                end += 1;
            }
            // Too big after all (bad estimate): halve until it fits the limit.
            loop {
                let samples: u64 = rows[start..end].iter().map(|r| r.samples.len() as u64).sum();
                let encoded = self.encode(&rows[start..end], left.saturating_sub(samples), now_ms);
                let payload = match encoded {
                    Ok(p) if p.len() <= MAX_PAYLOAD_BYTES => p,
                    _ if end - start > 1 => {
                        end = start + (end - start) / 2;
                        continue;
                    }
                    Ok(p) => {
                        self.park(rows[start].id, rows[start].samples.len() as u64);
                        bad.push(format!(
                            "{}: encodes to {} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit",
                            rows[start].path,
                            p.len()
                        ));
                        break;
                    }
                    Err(e) => {
                        self.park(rows[start].id, rows[start].samples.len() as u64);
                        bad.push(format!("{}: {e}", rows[start].path));
                        break;
                    }
                };
                left = left.saturating_sub(samples);
                if samples > 0 {
                    let observed = payload.len() as f64 / samples as f64;
                    self.bytes_per_sample = (self.bytes_per_sample + observed) / 2.0;
                }
                let batch = self.next_batch;
                self.next_batch += 1;
                self.queued.push_back(Flight {
                    batch,
                    rows: rows[start..end].iter().map(|r| r.id).collect(),
                    samples,
                    payload,
                    sent_at: None,
                    sends: 0,
                });
                break;
            }
            start = end;
        }
    }

    fn park(&mut self, row: i64, samples: u64) {
        self.parked.insert(row);
        self.parked_samples += samples;
    }

    fn encode(&mut self, rows: &[OutRow], backlog: u64, now_ms: i64) -> Result<Vec<u8>, EncodeError> {
        let parts: Vec<PartIn<'_>> = rows
            .iter()
            .map(|r| PartIn {
                path: &r.path,
                unit: r.unit.as_deref(),
                seq_from: r.seq_from,
                seq_to: r.seq_to,
                samples: &r.samples,
            })
            .collect();
        Ok(wire::encode_batch(&self.store_id, self.next_batch, now_ms, backlog, &parts, &mut self.scratch)?)
    }

    /// After a (re)connection: everything in flight goes out again, in order.
    pub fn reconnected(&mut self) {
        for f in &mut self.inflight {
            f.sent_at = None;
        }
    }

    /// What to publish now, in order: unsent or timed-out batches in flight,
    /// then queued ones while the window has room. Marks them sent at `now`.
    pub fn to_send(&mut self, now: Instant) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        for f in &mut self.inflight {
            let due = f.sent_at.is_none_or(|t| now.duration_since(t) >= self.resend_after);
            if due {
                f.sent_at = Some(now);
                f.sends += 1;
                out.push((f.batch, f.payload.clone()));
            }
        }
        while self.inflight.len() < self.window {
            let Some(mut f) = self.queued.pop_front() else { break };
            f.sent_at = Some(now);
            f.sends += 1;
            out.push((f.batch, f.payload.clone()));
            self.inflight.push_back(f);
        }
        out
    }

    /// The oldest batch in flight and how often it went out: sent several
    /// times without an answer means no acknowledgement reaches us.
    pub fn oldest_unanswered(&self) -> Option<(u64, u32)> {
        self.inflight.front().map(|f| (f.batch, f.sends))
    }

    /// A publish that could not even be queued: send it again later.
    pub fn unsent(&mut self, batch: u64) {
        if let Some(f) = self.inflight.iter_mut().find(|f| f.batch == batch) {
            f.sent_at = None;
        }
    }

    pub fn on_ack(&mut self, ack: &Ack) -> AckOutcome {
        let Some(batch) = ack.batch else {
            // Only the cloud's "could not even read the header" has no id;
            // it cannot name rows, so nothing is released or parked.
            return AckOutcome::Unknown;
        };
        let Some(pos) = self.inflight.iter().position(|f| f.batch == batch) else {
            return AckOutcome::Unknown;
        };
        let Some(f) = self.inflight.remove(pos) else { return AckOutcome::Unknown };
        if ack.ok {
            if self.fetching {
                self.acked_during_fetch.extend(f.rows.iter().copied());
            }
            AckOutcome::Stored { rows: f.rows, samples: f.samples, new: ack.stored }
        } else {
            if !f.rows.is_empty() && f.rows.iter().all(|r| outbox_records::record_id(*r).is_some()) {
                // Records refused (e.g. a cloud that only speaks v1): they stay
                // in the outbox for a later run; the samples keep flowing.
                self.records_off = true;
            }
            self.parked.extend(f.rows.iter().copied());
            self.parked_samples += f.samples;
            AckOutcome::Refused {
                batch: Some(batch),
                rows: f.rows,
                error: ack.error.clone().unwrap_or_else(|| "refused without a reason".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;

    fn row(id: i64, path: &str, from: i64, n: usize) -> OutRow {
        OutRow {
            id,
            path: path.into(),
            unit: Some("V".into()),
            seq_from: from,
            seq_to: from + n as i64,
            samples: (0..n)
                .map(|i| Sample::number(1_000 * (from + i as i64), (from + i as i64) as f64 * 0.25))
                .collect(),
        }
    }

    fn flow(window: usize) -> Outflow {
        Outflow::new("store-x".into(), window, Duration::from_secs(15), 4096, 1000)
    }

    #[test]
    fn rows_pack_into_messages_near_the_target_in_order() {
        let mut f = flow(100);
        let rows: Vec<OutRow> = (0..40).map(|i| row(i + 1, &format!("l/c{}", i % 4), i * 500, 500)).collect();
        let r = f.fetched(rows.clone(), 20_000, 5);
        assert_eq!((r.fresh, r.empty.len(), r.unsendable.len()), (40, 0, 0));
        let sent = f.to_send(Instant::now());
        assert!(sent.len() > 1, "{} messages", sent.len());
        let mut ids = Vec::new();
        let mut batches = Vec::new();
        for (b, payload) in &sent {
            assert!(payload.len() <= MAX_PAYLOAD_BYTES);
            let d = wire::decode_batch(payload).unwrap();
            assert_eq!(d.header.batch, *b);
            assert_eq!(d.header.store, "store-x");
            batches.push(*b);
            for p in &d.parts {
                let r = rows.iter().find(|r| r.path == p.path && r.seq_from == p.seq_from).unwrap();
                assert_eq!(wire::decode_block(&p.block, r.samples.len()).unwrap(), r.samples);
                ids.push(r.id);
            }
        }
        assert_eq!(ids, (1..=40).collect::<Vec<_>>(), "rows leave in id order");
        let last = wire::decode_batch(&sent.last().unwrap().1).unwrap();
        assert_eq!(last.header.backlog, 0, "the backlog after the last message");
        let first = wire::decode_batch(&sent[0].1).unwrap();
        assert_eq!(first.header.backlog, 20_000 - first.samples());
        assert!(batches.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(batches[0], 1000);
    }

    #[test]
    fn the_window_limits_what_is_in_flight_and_acks_release_exact_rows() {
        let mut f = flow(2);
        f.fetched((0..30).map(|i| row(i + 1, "l/c", i * 1000, 1000)).collect(), 0, 0);
        let now = Instant::now();
        let first = f.to_send(now);
        assert_eq!(first.len(), 2);
        assert_eq!(f.in_flight(), 2);
        assert!(f.fetch_limit(10).is_none(), "queued messages wait; no fetch");
        assert!(f.to_send(now).is_empty());
        let rows_of_first = f.inflight[0].rows.clone();
        match f.on_ack(&Ack::stored(first[0].0, 7)) {
            AckOutcome::Stored { rows, new, .. } => {
                assert_eq!(rows, rows_of_first);
                assert_eq!(new, 7);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.on_ack(&Ack::stored(first[0].0, 0)), AckOutcome::Unknown, "a second ack releases nothing");
        assert_eq!(f.on_ack(&Ack::stored(999, 0)), AckOutcome::Unknown);
        let next = f.to_send(now);
        assert_eq!(next.len(), 1);
        assert!(next[0].0 > first[1].0);
    }

    #[test]
    fn unacked_batches_go_again_on_reconnect_and_after_the_timeout() {
        let mut f = Outflow::new("s".into(), 3, Duration::from_secs(15), 2048, 1);
        f.fetched((0..12).map(|i| row(i + 1, "l/c", i * 600, 600)).collect(), 0, 0);
        let t0 = Instant::now();
        let sent: Vec<u64> = f.to_send(t0).into_iter().map(|s| s.0).collect();
        assert_eq!(sent.len(), 3);
        assert!(f.to_send(t0 + Duration::from_secs(14)).is_empty());
        let again: Vec<u64> = f.to_send(t0 + Duration::from_secs(15)).into_iter().map(|s| s.0).collect();
        assert_eq!(again, sent, "timed out: all three again, in order");
        assert_eq!(f.oldest_unanswered(), Some((sent[0], 2)));
        f.on_ack(&Ack::stored(sent[1], 1));
        f.reconnected();
        let after: Vec<u64> = f.to_send(t0 + Duration::from_secs(16)).into_iter().map(|s| s.0).collect();
        assert_eq!(after[..2], [sent[0], sent[2]], "unacked ones first, in order");
        assert_eq!(after.len(), 3, "then a new one fills the window");
    }

    #[test]
    fn a_refusal_parks_the_rows_and_they_are_not_packed_again() {
        let mut f = flow(8);
        let rows: Vec<OutRow> = (0..3).map(|i| row(i + 1, "l/c", i * 10, 10)).collect();
        f.fetched(rows.clone(), 0, 0);
        let sent = f.to_send(Instant::now());
        assert_eq!(sent.len(), 1);
        match f.on_ack(&Ack::refused(Some(sent[0].0), "channel 0: truncated")) {
            AckOutcome::Refused { rows, error, .. } => {
                assert_eq!(rows, vec![1, 2, 3]);
                assert!(error.contains("truncated"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.parked_rows(), 3);
        // The writer lists the parked rows again (they stay in the outbox).
        let limit = f.fetch_limit(5).unwrap();
        assert_eq!(limit, 8);
        f.fetch_started();
        let mut again = rows.clone();
        again.push(row(4, "l/c", 30, 10));
        assert_eq!(f.fetched(again, 0, 0).fresh, 1, "only the new row is packed");
        let d = wire::decode_batch(&f.to_send(Instant::now())[0].1).unwrap();
        assert_eq!(d.parts.len(), 1);
        assert_eq!(d.parts[0].seq_from, 30);
        assert_eq!(f.on_ack(&Ack::refused(None, "unreadable")), AckOutcome::Unknown);
        assert!(!f.stalled());
    }

    #[test]
    fn a_cloud_refusing_everything_stops_the_reads() {
        let mut f = Outflow::new("s".into(), 1000, Duration::from_secs(15), 1024, 1);
        let rows: Vec<OutRow> = (0..MAX_PARKED_ROWS as i64).map(|i| row(i + 1, "l/c", i, 1)).collect();
        f.fetched(rows, 0, 0);
        loop {
            let sent = f.to_send(Instant::now());
            if sent.is_empty() {
                break;
            }
            for (b, _) in sent {
                f.on_ack(&Ack::refused(Some(b), "protocol version 1 is not supported"));
            }
        }
        assert!(f.stalled());
        assert_eq!(f.fetch_limit(10), None);
        // Or a few big rows.
        let mut g = Outflow::new("s".into(), 1000, Duration::from_secs(15), 512 * 1024, 1);
        g.fetched((0..50).map(|i| row(i + 1, "l/c", i * 10_000, 10_000)).collect(), 0, 0);
        for (b, _) in g.to_send(Instant::now()) {
            g.on_ack(&Ack::refused(Some(b), "no"));
        }
        assert!(g.stalled());
    }

    #[test]
    fn rows_acked_while_a_fetch_is_out_are_not_sent_again() {
        let mut f = flow(1);
        f.fetched(vec![row(1, "l/c", 0, 10)], 0, 0);
        let sent = f.to_send(Instant::now());
        f.fetch_started();
        assert!(matches!(f.on_ack(&Ack::stored(sent[0].0, 10)), AckOutcome::Stored { .. }));
        // The answer was read before the ack's delete reached the store.
        assert_eq!(f.fetched(vec![row(1, "l/c", 0, 10), row(2, "l/c", 10, 5)], 0, 0).fresh, 1);
    }

    #[test]
    fn rows_the_cloud_would_refuse_are_parked_here_and_long_units_cut() {
        let mut f = flow(8);
        let long_path = format!("l/{}", "x".repeat(300));
        let mut long_unit = row(2, "l/u", 0, 3);
        long_unit.unit = Some("µ".repeat(40));
        let got = f.fetched(vec![row(1, &long_path, 0, 3), long_unit, row(3, "nopath", 0, 3)], 0, 0);
        assert_eq!(got.fresh, 1);
        assert_eq!(got.unsendable.len(), 2, "{:?}", got.unsendable);
        assert_eq!(f.parked_rows(), 2);
        let d = wire::decode_batch(&f.to_send(Instant::now())[0].1).unwrap();
        assert_eq!(d.parts.len(), 1);
        assert_eq!(d.parts[0].unit.as_deref().map(|u| u.chars().count()), Some(32));
    }

    #[test]
    fn empty_ranges_are_returned_not_sent() {
        let mut f = flow(8);
        let mut r = row(5, "l/c", 10, 0);
        r.seq_to = 10;
        let got = f.fetched(vec![r], 0, 0);
        assert_eq!((got.fresh, got.empty), (0, vec![5]));
        assert!(f.to_send(Instant::now()).is_empty());
    }

    #[test]
    fn huge_rows_are_split_below_the_payload_limit() {
        // Random-ish values compress badly: force splitting by a tiny estimate.
        let mut f = Outflow::new("s".into(), 100, Duration::from_secs(1), 4096, 1);
        f.bytes_per_sample = 0.0001;
        let rows: Vec<OutRow> = (0..60)
            .map(|k| {
                let mut r = row(k + 1, "l/c", k * 10_000, 10_000);
                for (i, s) in r.samples.iter_mut().enumerate() {
                    s.value = crate::model::Value::Number(((i as f64 * 12.9898 + k as f64).sin() * 43758.5453).fract());
                }
                r
            })
            .collect();
        f.fetched(rows, 0, 0);
        let sent = f.to_send(Instant::now());
        assert!(sent.len() > 1);
        assert!(sent.iter().all(|(_, p)| p.len() <= MAX_PAYLOAD_BYTES));
        let parts: usize = sent.iter().map(|(_, p)| wire::decode_batch(p).unwrap().parts.len()).sum();
        assert_eq!(parts, 60);
    }

    fn rec(seq: i64) -> Record {
        use meterdeck_wire::records::{JournalRecord, RecordBody};
        Record {
            seq,
            t: 1000 + seq,
            body: RecordBody::Journal(JournalRecord {
                alarm_id: "hot".into(),
                rule_id: "hot".into(),
                name: "Too hot".into(),
                severity: "high".into(),
                action: if seq % 2 == 1 { "raise" } else { "return" }.into(),
                from_state: "normal".into(),
                to_state: "unack_active".into(),
                ..JournalRecord::default()
            }),
        }
    }

    #[test]
    fn records_travel_in_their_own_v2_batches_and_acks_release_exactly_them() {
        let mut f = flow(100);
        let recs: Vec<Record> = (1..=450).map(rec).collect();
        let got = f.fetched_with(vec![row(1, "l/c", 0, 10)], recs.clone(), 10, 7);
        assert_eq!((got.fresh, got.unsendable.len()), (451, 0));
        let sent = f.to_send(Instant::now());
        assert_eq!(sent.len(), 4, "one sample batch, then 200 + 200 + 50 records");
        let first = wire::decode_batch(&sent[0].1).unwrap();
        assert_eq!((first.header.v, first.parts.len(), first.header.records.len()), (1, 1, 0));
        let mut seqs = Vec::new();
        for (_, p) in &sent[1..] {
            let b = wire::decode_batch(p).unwrap();
            assert_eq!((b.header.v, b.parts.len()), (2, 0));
            seqs.extend(b.header.records.iter().map(|r| r.seq));
        }
        assert_eq!(seqs, (1..=450).collect::<Vec<_>>(), "records leave in seq order, once each");
        // Known records are not packed again; only the new one is.
        let again: Vec<Record> = (1..=451).map(rec).collect();
        assert_eq!(f.fetched_with(vec![], again, 0, 8).fresh, 1);
        match f.on_ack(&Ack::stored(sent[2].0, 0)) {
            AckOutcome::Stored { rows, samples, .. } => {
                assert_eq!(samples, 0);
                assert_eq!(rows, (201..=400).map(outbox_records::key).collect::<Vec<_>>());
            }
            other => panic!("{other:?}"),
        }
        // A refused record batch parks its records like rows.
        assert!(matches!(f.on_ack(&Ack::refused(Some(sent[3].0), "no")), AckOutcome::Refused { .. }));
        assert_eq!(f.parked_rows(), 50);
        // ...and no more records are packed this run (an older cloud), samples are.
        let got = f.fetched_with(vec![row(2, "l/c", 10, 5)], (451..=460).map(rec).collect(), 5, 9);
        assert_eq!(got.fresh, 1, "{got:?}");
        // A record the cloud would refuse is never sent.
        let mut bad = rec(900);
        bad.t = i64::MAX;
        let got = flow(10).fetched_with(vec![], vec![bad], 0, 9);
        assert_eq!(got.unsendable.len(), 1, "{got:?}");
    }
}
