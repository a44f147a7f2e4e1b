//! The local cache: SQLite (bundled, WAL) holding instruments, channels,
//! samples, events, settings and the sync outbox.
//!
//! Samples live in compressed per-channel blocks with summary columns
//! (`codec`, `blocks`), so range reads decode only overlapping blocks and an
//! M4 view reads summaries and decodes only the blocks on bucket edges
//! (`query`). Samples of an unfinished block wait in the durable tail
//! (`tail`: one log row per append, indexed in memory); every sample
//! `append` has returned for survives kill -9 (`Durability::Normal`) or
//! power loss (`Durability::Full`). The outbox is filled in the same
//! transaction (`outbox`); `retention` keeps unsynced data for at least 14
//! days within a disk quota.
//!
//! Order: a channel's samples are kept and returned in arrival order;
//! out-of-order or duplicate timestamps are stored as they came. Older
//! samples written later with `backfill` (the demo's history) take seqs
//! reserved below the first arrival (`start_channel_at`) and are returned
//! before the samples that arrived.
//! `Number(NaN)` is stored as `Special(Invalid)`, `-0.0` as `0.0`.

mod backfill;
mod blocks;
mod catalog;
pub mod codec;
mod error;
mod events;
mod outbox;
mod query;
mod retention;
mod schema;
mod settings;
mod stats;
mod summaries;
mod tail;
mod types;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use meterdeck_wire::now_ms;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use error::{Result, StoreError};
pub use outbox::BATCH_CAP as OUTBOX_BATCH_CAP;
pub use schema::SchemaPart;
pub use stats::RangeStats;
pub use types::{
    Durability, InstrumentState, M4Bucket, MIN_KEEP_UNSYNCED, MinMaxBucket, OutboxBatch, OutboxStats, RetentionPolicy,
    RetentionReport, StoreOptions,
};

pub use blocks::{TAIL_MAX_BYTES, TAIL_MAX_SAMPLES};

use crate::model::{ChannelId, ChannelRecord, ConnState, Event, Sample, TimeMs};
use tail::Live;

/// One SQLite connection to the cache. `Send`; wrap in a mutex to share.
///
/// One writer at a time: the agent. Readers (`open_readonly`) may run in
/// other processes. A store keeps the tail's index in memory and reloads it
/// when another connection has written.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    opts: StoreOptions,
    encoders: blocks::Encoders,
    live: RefCell<Option<Live>>,
    /// Block summaries of recently plotted channels (`minmax`).
    summaries: RefCell<summaries::SummaryCache>,
}

/// Attaches the path and operation to errors leaving the public API.
fn at<T>(path: &Path, op: &'static str, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.at(path, op))
}

impl Store {
    /// Opens (creating and migrating as needed) the store for writing, with
    /// the store's own tables only.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Store> {
        Store::open_with(path, opts, &[])
    }

    /// Opens the store for writing with the tables of `parts` too (the
    /// alarm journal, the notification centre: see `agent::STORE_PARTS`),
    /// created or migrated in the same transaction as the store's own.
    pub fn open_with(path: &Path, opts: StoreOptions, parts: &[SchemaPart]) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::CreateDir { path: path.to_path_buf(), source })?;
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        schema::configure_writer(&mut conn, opts.durability).map_err(open_err)?;
        at(path, "schema migration", schema::migrate(&mut conn, path, parts))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            opts,
            encoders: blocks::Encoders::new(),
            live: RefCell::new(None),
            summaries: RefCell::default(),
        };
        // Load the tail now: a corrupt tail is reported at open.
        store.read("load tail", |_, _| Ok(()))?;
        Ok(store)
    }

    /// Opens an existing store read-only; works while the agent writes.
    pub fn open_readonly(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        schema::configure_reader(&mut conn).map_err(open_err)?;
        at(path, "schema check", schema::check_version(&conn, path))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            opts: StoreOptions::default(),
            encoders: blocks::Encoders::new(),
            live: RefCell::new(None),
            summaries: RefCell::default(),
        })
    }

    /// The connection, for the alarm journal and notification centre,
    /// which keep their SQL beside their code, and their readers outside
    /// core (the `meterdeck-agent` CLI lists them from a read-only store).
    pub fn conn(&self) -> &rusqlite::Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read transaction with its snapshot fixed.
    fn snapshot(&self) -> rusqlite::Result<Transaction<'_>> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?;
        // A first read fixes the snapshot that data_version then names.
        tx.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        Ok(tx)
    }

    /// Runs `f` on one read snapshot with the tail as of that snapshot.
    fn read<T>(&self, op: &'static str, f: impl FnOnce(&Connection, &Live) -> Result<T>) -> Result<T> {
        let r = (|| -> Result<_> {
            let tx = self.snapshot()?;
            let mut slot = self.live.borrow_mut();
            let live = blocks::fresh(&tx, &mut slot)?;
            let out = f(&tx, live)?;
            drop(slot);
            tx.commit()?;
            Ok(out)
        })();
        at(&self.path, op, r)
    }

    pub fn upsert_instrument(&mut self, id: &str, name: &str, family: &str, target: &str) -> Result<()> {
        at(&self.path, "upsert instrument", catalog::upsert_instrument(&self.conn, id, name, family, target, now_ms()))
    }

    /// The channel's id; creates it, or updates its unit. The instrument
    /// must exist (`upsert_instrument`).
    pub fn ensure_channel(&mut self, instrument: &str, channel: &str, unit: Option<&str>) -> Result<ChannelId> {
        let id = at(&self.path, "ensure channel", catalog::ensure_channel(&self.conn, instrument, channel, unit))?;
        if let Some(live) = self.live.get_mut().as_mut() {
            live.channels.entry(id).or_default();
        }
        Ok(id)
    }

    pub fn channels(&self) -> Result<Vec<ChannelRecord>> {
        at(&self.path, "list channels", catalog::channels(&self.conn))
    }

    /// Looks up `instrument/channel`.
    pub fn find_channel(&self, path: &str) -> Result<Option<ChannelRecord>> {
        at(&self.path, "find channel", catalog::find_channel(&self.conn, path))
    }

    /// Stores the samples in one transaction and registers them in the sync
    /// outbox in the same transaction. Durable when it returns.
    pub fn append(&mut self, samples: &[(ChannelId, Sample)]) -> Result<()> {
        let r =
            blocks::append(&mut self.conn, self.live.get_mut(), self.opts.block_samples, &mut self.encoders, samples);
        at(&self.path, "append", r)
    }

    /// Numbers the first sample appended to channel `ch` `seq` instead of 0,
    /// reserving seqs `0..seq` for older samples written later with
    /// [`Store::backfill`]. The channel must hold no samples yet.
    pub fn start_channel_at(&mut self, ch: ChannelId, seq: i64) -> Result<()> {
        let r = (|| -> Result<()> {
            let tx = self.conn.transaction()?;
            let live = blocks::fresh(&tx, self.live.get_mut())?;
            backfill::start_at(&tx, live, ch, seq)?;
            tx.commit()?;
            Ok(())
        })();
        // Reloaded on next use: the channel's numbering changed under it.
        *self.live.get_mut() = None;
        at(&self.path, "start channel", r)
    }

    /// The lowest seq channel `ch` holds, or its next seq when it holds
    /// none: [`Store::backfill`] writes below it.
    pub fn seq_floor(&self, ch: ChannelId) -> Result<i64> {
        self.read("seq floor", |conn, live| backfill::seq_floor(conn, live, ch))
    }

    /// Writes `samples`, older than everything channel `ch` holds, at seqs
    /// `seq0..seq0 + len`, which must lie at or above 0 and below
    /// [`Store::seq_floor`] (reserved with [`Store::start_channel_at`]), in
    /// blocks and the sync outbox, in one transaction. The channel's latest
    /// sample and tail are left alone, so the agent may append on another
    /// connection meanwhile; the blocks are encoded before the write lock
    /// is taken. Durable when it returns.
    pub fn backfill(&mut self, ch: ChannelId, seq0: i64, samples: &[Sample]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let r = (|| -> Result<()> {
            let blocks = backfill::encode(&mut self.encoders, ch, seq0, samples, self.opts.block_samples)?;
            let tx = self.conn.transaction()?;
            let live = blocks::fresh(&tx, self.live.get_mut())?;
            backfill::insert(&tx, live, ch, (seq0, samples.len() as i64), samples, &blocks)?;
            tx.commit()?;
            Ok(())
        })();
        at(&self.path, "backfill", r)
    }

    /// Samples with `from <= t < to`, in arrival order.
    pub fn range(&self, ch: ChannelId, from: TimeMs, to: TimeMs) -> Result<Vec<Sample>> {
        let mut out = Vec::new();
        self.for_each_in_range(ch, from, to, |s| out.push(s))?;
        Ok(out)
    }

    /// Calls `f` for each sample with `from <= t < to`, in arrival order.
    /// `f` must not call back into the store.
    pub fn for_each_in_range(&self, ch: ChannelId, from: TimeMs, to: TimeMs, f: impl FnMut(Sample)) -> Result<()> {
        let r = (|| -> Result<_> {
            let tx = self.snapshot()?;
            // The channel's tail is copied (at most a block's worth) so that
            // `f` runs without the in-memory index borrowed.
            let pending = blocks::fresh(&tx, &mut self.live.borrow_mut())?.pending(ch).1.to_vec();
            query::for_each_in_range(&tx, &pending, ch, from, to, f)?;
            tx.commit()?;
            Ok(())
        })();
        at(&self.path, "range query", r)
    }

    /// Number of samples (numbers and specials) with `from <= t < to`.
    pub fn count_in_range(&self, ch: ChannelId, from: TimeMs, to: TimeMs) -> Result<u64> {
        self.read("count query", |conn, live| query::count_in_range(conn, live.pending(ch).1, ch, from, to, None))
    }

    /// Whether `[from, to)` holds more than `limit` samples; reads blocks
    /// only until it does (a plot's raw-or-buckets choice).
    pub fn count_exceeds(&self, ch: ChannelId, from: TimeMs, to: TimeMs, limit: u64) -> Result<bool> {
        self.read("count query", |conn, live| {
            query::count_in_range(conn, live.pending(ch).1, ch, from, to, Some(limit)).map(|n| n > limit)
        })
    }

    /// Each channel's most recently appended sample.
    pub fn latest(&self) -> Result<Vec<(ChannelRecord, Sample)>> {
        self.read("latest query", query::latest)
    }

    /// `[from, to)` in `buckets` equal buckets (see [`M4Bucket`]); empty
    /// buckets are included with count 0.
    pub fn m4(&self, ch: ChannelId, from: TimeMs, to: TimeMs, buckets: usize) -> Result<Vec<M4Bucket>> {
        self.read("m4 query", |conn, live| query::m4(conn, live.pending(ch).1, ch, from, to, buckets))
    }

    /// Statistics of `[from, to)` (see [`RangeStats`]): whole blocks from
    /// their summaries, only edge blocks and the tail decoded.
    pub fn range_stats(
        &self,
        ch: ChannelId,
        from: TimeMs,
        to: TimeMs,
        above: Option<f64>,
        below: Option<f64>,
    ) -> Result<RangeStats> {
        self.read("stats query", |conn, live| {
            stats::range_stats(conn, live.pending(ch).1, ch, (from, to), above, below)
        })
    }

    /// First and last sample time of a channel, `None` when it has none.
    pub fn extent(&self, ch: ChannelId) -> Result<Option<(TimeMs, TimeMs)>> {
        self.read("extent query", |conn, live| query::extent(conn, live.pending(ch).1, ch))
    }

    /// Min and max of `[from, to)` in `buckets` equal buckets, as `m4` gives
    /// them, with fewer blocks decoded (no counts, first or last).
    pub fn minmax(&self, ch: ChannelId, from: TimeMs, to: TimeMs, buckets: usize) -> Result<Vec<MinMaxBucket>> {
        self.read("min/max query", |conn, live| {
            let mut cache = self.summaries.borrow_mut();
            let blocks = cache.blocks(conn, ch)?;
            query::minmax(conn, live.pending(ch).1, ch, (from, to), buckets, blocks)
        })
    }

    pub fn record_event(&mut self, ev: &Event) -> Result<()> {
        at(&self.path, "record event", events::record(&self.conn, ev))
    }

    /// Newest first.
    pub fn events(&self, since: Option<TimeMs>, instrument: Option<&str>, limit: usize) -> Result<Vec<Event>> {
        at(&self.path, "list events", events::list(&self.conn, since, instrument, limit))
    }

    /// `last_poll: None` keeps the previous value.
    pub fn set_instrument_state(
        &mut self,
        id: &str,
        state: ConnState,
        reason: Option<&crate::model::Text>,
        last_poll: Option<TimeMs>,
    ) -> Result<()> {
        at(&self.path, "set instrument state", catalog::set_state(&self.conn, id, state, reason, last_poll, now_ms()))
    }

    pub fn instrument_states(&self) -> Result<Vec<InstrumentState>> {
        at(&self.path, "list instruments", catalog::states(&self.conn))
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        at(&self.path, "set setting", settings::set(&self.conn, key, value))
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        at(&self.path, "read setting", settings::get(&self.conn, key))
    }

    /// The oldest `limit` outbox batches, with their samples. On a writable
    /// store the returned batches are sealed (no later samples join them),
    /// so `outbox_ack` deletes exactly what was handed out.
    pub fn outbox_next(&self, limit: usize) -> Result<Vec<OutboxBatch>> {
        let r = (|| -> Result<_> {
            // Immediate on the writer (it may close open batches), deferred on a reader.
            let tx = self.conn.unchecked_transaction()?;
            let mut slot = self.live.borrow_mut();
            let live = blocks::fresh(&tx, &mut slot)?;
            let (batches, closed) = outbox::next(&tx, live, limit)?;
            tx.commit()?;
            for ch in closed {
                if let Some(c) = live.channels.get_mut(&ch) {
                    c.outbox_open = None;
                }
            }
            Ok(batches)
        })();
        if r.is_err() {
            *self.live.borrow_mut() = None;
        }
        at(&self.path, "read outbox", r)
    }

    /// Deletes a batch the cloud has stored. Unknown ids are ignored.
    pub fn outbox_ack(&mut self, batch_id: i64) -> Result<()> {
        at(&self.path, "ack outbox batch", outbox::ack(&self.conn, batch_id))
    }

    /// Batches and samples waiting; `oldest` is the earliest timestamp a
    /// batch started with.
    pub fn outbox_stats(&self) -> Result<OutboxStats> {
        self.read("outbox stats", outbox::stats)
    }

    pub fn enforce_retention(&mut self, policy: &RetentionPolicy, now: TimeMs) -> Result<RetentionReport> {
        let r = (|| -> Result<_> {
            let slot = self.live.get_mut();
            {
                let tx = self.conn.unchecked_transaction()?;
                blocks::fresh(&tx, slot)?;
                tx.commit()?;
            }
            let live = slot.take().unwrap_or_default();
            // The tail is reloaded on next use (outbox rows may be gone).
            retention::enforce(&mut self.conn, &live, policy, now)
        })();
        at(&self.path, "retention", r)
    }

    /// Size of the database (pages × page size; the WAL, at most a few MB
    /// between checkpoints, is not counted).
    pub fn size_bytes(&self) -> Result<u64> {
        at(&self.path, "size", retention::file_bytes(&self.conn))
    }

    /// `PRAGMA integrity_check`: "ok" when healthy, else SQLite's findings.
    pub fn integrity_check(&self) -> Result<String> {
        let r = (|| -> Result<_> {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let lines = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(lines.join("\n"))
        })();
        at(&self.path, "integrity check", r)
    }

    /// Moves the WAL into the database file and truncates it (used after
    /// bulk loads and by the bench to measure the file size).
    pub fn checkpoint(&mut self) -> Result<()> {
        let r = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(StoreError::from);
        at(&self.path, "checkpoint", r)
    }
}
