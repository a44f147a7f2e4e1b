//! The outbox stage, between the store and sync: the store records which
//! sample ranges the cloud has not confirmed (`store::outbox`, filled in the
//! append's transaction); this stage hands them out sealed, with their
//! channel's path and unit ([`OutRow`]), and deletes the rows the cloud
//! acknowledged. It runs in the writer thread (the store's one writer); the
//! sync drain asks for rows through `sync::SyncMsg`.
//!
//! What happens to rows on the way (packing, the window of batches in
//! flight, resends, refused batches) is the sync protocol's and lives in
//! `sync::outflow`: it is meaningless without the link.

pub mod records;

use std::collections::HashMap;

use meterdeck_wire::records::Record;

use tracing::warn;

use crate::model::{ChannelId, Sample};
use crate::store::{Store, StoreError};

/// One outbox row as the writer hands it out: sealed, with its samples.
#[derive(Clone, Debug, PartialEq)]
pub struct OutRow {
    pub id: i64,
    pub path: String,
    pub unit: Option<String>,
    pub seq_from: i64,
    pub seq_to: i64,
    pub samples: Vec<Sample>,
}

/// The answer to an outbox read.
#[derive(Debug)]
pub struct Fetched {
    pub rows: Vec<OutRow>,
    /// Samples in the outbox (for the batch header).
    pub backlog: u64,
    /// The oldest records (alarm journal entries, events), in seq order
    /// (`records`): they travel in batches of their own.
    pub records: Vec<Record>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("outbox row {row} names channel {channel} which the store does not have")]
    UnknownChannel { row: i64, channel: ChannelId },
}

/// The reading side of the outbox, with the path and unit of every channel.
#[derive(Default)]
pub struct Outbox {
    /// Path and unit per channel; channels no instrument registered in this
    /// run are looked up in the store when a row names them.
    channels: HashMap<ChannelId, (String, Option<String>)>,
    /// The store holds the record outbox (`records::SCHEMA_PART` registered).
    records: bool,
}

impl Outbox {
    /// An outbox that also hands out the record outbox's rows; the store
    /// must have been opened with [`records::SCHEMA_PART`].
    pub fn with_records() -> Self {
        Outbox { records: true, ..Outbox::default() }
    }

    /// A channel as registered now: sync sends its current unit.
    pub fn note_channel(&mut self, id: ChannelId, path: String, unit: Option<String>) {
        self.channels.insert(id, (path, unit));
    }

    /// The oldest `limit` rows, sealed (only the store's writer may seal).
    pub fn next(&mut self, store: &mut Store, limit: usize) -> Result<Fetched, OutboxError> {
        let batches = store.outbox_next(limit)?;
        if batches.iter().any(|b| !self.channels.contains_key(&b.channel)) {
            for ch in store.channels()? {
                self.channels.insert(ch.id, (ch.path(), ch.unit.clone()));
            }
        }
        let mut rows = Vec::with_capacity(batches.len());
        for b in batches {
            let (path, unit) = self
                .channels
                .get(&b.channel)
                .cloned()
                .ok_or(OutboxError::UnknownChannel { row: b.id, channel: b.channel })?;
            rows.push(OutRow { id: b.id, path, unit, seq_from: b.seq_from, seq_to: b.seq_to, samples: b.samples });
        }
        let backlog = store.outbox_stats()?.samples;
        let records = if self.records { records::next(store, limit)? } else { Vec::new() };
        Ok(Fetched { rows, backlog, records })
    }

    /// The cloud stored these rows (record rows by their negative
    /// [`records::key`]): they leave the outbox.
    pub fn ack(&self, store: &mut Store, ids: Vec<i64>) {
        for id in ids {
            if let Some(rec) = records::record_id(id) {
                if let Err(e) = records::ack(store, rec) {
                    warn!("cannot delete acknowledged record outbox row {rec}: {e}");
                }
                continue;
            }
            if let Err(e) = store.outbox_ack(id) {
                // Kept: the row is sent again, which is harmless.
                warn!("cannot delete acknowledged outbox row {id}: {e}");
            }
        }
    }
}
