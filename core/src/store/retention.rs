//! Retention: age limit first, then the disk quota, deleting whole blocks
//! (the tail is bounded by `TAIL_MAX_SAMPLES` and stays).
//!
//! Quota order: the oldest synced blocks; then unsynced blocks older than
//! `keep_unsynced`; only then, if still over quota, the oldest unsynced
//! blocks inside the window (reported, so the caller records an Event).
//! "Synced" = every sample of the block is before the channel's first
//! outbox row (an acknowledgement out of order only delays this).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use rusqlite::Connection;

use super::error::Result;
use super::outbox;
use super::tail::Live;
use super::types::{MIN_KEEP_UNSYNCED, RetentionPolicy, RetentionReport};
use crate::model::{ChannelId, TimeMs};

/// Rough bytes a block row costs beyond its blob (summary and 3 index entries).
const ROW_OVERHEAD: i64 = 160;
/// Blocks deleted per transaction, so the writer lock is released between.
const CHUNK: usize = 2048;

/// Bytes in pages that hold data (free pages excluded).
pub(crate) fn used_bytes(conn: &Connection) -> Result<u64> {
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    Ok(((pages - free).max(0) * page_size) as u64)
}

pub(crate) fn file_bytes(conn: &Connection) -> Result<u64> {
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    Ok((pages.max(0) * page_size) as u64)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Synced,
    UnsyncedOld,
    UnsyncedRecent,
}

/// Runs the pass. `live` is the tail as of the start; the caller reloads it
/// afterwards (outbox rows may be gone).
pub(crate) fn enforce(
    conn: &mut Connection,
    live: &Live,
    policy: &RetentionPolicy,
    now: TimeMs,
) -> Result<RetentionReport> {
    let keep_unsynced = policy.keep_unsynced.max(MIN_KEEP_UNSYNCED);
    let unsynced_cutoff = now.saturating_sub(ms(keep_unsynced));
    let mut report = RetentionReport { bytes_before: file_bytes(conn)?, ..Default::default() };
    let mut touched: BTreeSet<ChannelId> = BTreeSet::new();
    let unsynced = outbox::unsynced_from(conn)?;
    let mut pass = Pass { unsynced: &unsynced, report: &mut report, touched: &mut touched };

    if let Some(keep_max) = policy.keep_max {
        let cutoff = now.saturating_sub(ms(keep_max));
        // Synced data past keep_max; unsynced only past both limits.
        pass.delete(conn, Class::Synced, cutoff, None)?;
        pass.delete(conn, Class::UnsyncedOld, cutoff.min(unsynced_cutoff), None)?;
        let tx = conn.transaction()?;
        pass.report.deleted_events += tx.execute("DELETE FROM event WHERE t < ?1", [cutoff])? as u64;
        tx.commit()?;
    }

    for class in [Class::Synced, Class::UnsyncedOld, Class::UnsyncedRecent] {
        let cutoff = if class == Class::UnsyncedOld { unsynced_cutoff } else { i64::MAX };
        loop {
            let used = used_bytes(conn)?;
            if used <= policy.quota_bytes {
                break;
            }
            let excess = (used - policy.quota_bytes).min(i64::MAX as u64) as i64;
            if pass.delete(conn, class, cutoff, Some(excess))? == 0 {
                break;
            }
        }
    }

    if !touched.is_empty() {
        let tx = conn.transaction()?;
        for &ch in &touched {
            outbox::drop_orphans(&tx, live, ch)?;
        }
        tx.commit()?;
    }
    if report.deleted_blocks > 0 || report.deleted_events > 0 {
        // Give the free pages back to the file system (auto_vacuum=INCREMENTAL);
        // the pragma frees one page per step.
        let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
    }
    report.over_quota = used_bytes(conn)? > policy.quota_bytes;
    report.bytes_after = file_bytes(conn)?;
    Ok(report)
}

struct Pass<'a> {
    /// Per channel, the first seq waiting in the outbox.
    unsynced: &'a HashMap<ChannelId, i64>,
    report: &'a mut RetentionReport,
    touched: &'a mut BTreeSet<ChannelId>,
}

impl Pass<'_> {
    /// Deletes the oldest blocks of `class` with `t_max < cutoff`: all of
    /// them, or (with `budget`) about `budget` bytes' worth. Returns the
    /// number of blocks deleted.
    fn delete(&mut self, conn: &mut Connection, class: Class, cutoff: TimeMs, budget: Option<i64>) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let tx = conn.transaction()?;
            let mut victims: Vec<(i64, ChannelId, i64)> = Vec::new();
            let mut freed = 0i64;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, channel, seq_first, count, length(data) FROM block
                     WHERE t_max < ?1 ORDER BY t_max, id",
                )?;
                let mut rows = stmt.query([cutoff])?;
                while let Some(r) = rows.next()? {
                    let (id, channel, seq, count, bytes): (i64, ChannelId, i64, i64, i64) =
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                    let synced = self.unsynced.get(&channel).is_none_or(|&u| seq + count <= u);
                    if synced != (class == Class::Synced) {
                        continue;
                    }
                    victims.push((id, channel, count));
                    freed += bytes + ROW_OVERHEAD;
                    if budget.is_some_and(|b| freed >= b) || victims.len() >= CHUNK {
                        break;
                    }
                }
            }
            if victims.is_empty() {
                return Ok(total);
            }
            {
                let mut del = tx.prepare_cached("DELETE FROM block WHERE id = ?1")?;
                for &(id, channel, count) in &victims {
                    del.execute([id])?;
                    let count = count.max(0) as u64;
                    match class {
                        Class::Synced => self.report.deleted_synced_samples += count,
                        Class::UnsyncedOld => self.report.deleted_unsynced_samples += count,
                        Class::UnsyncedRecent => self.report.deleted_recent_unsynced_samples += count,
                    }
                    if class != Class::Synced {
                        self.touched.insert(channel);
                    }
                }
            }
            tx.commit()?;
            self.report.deleted_blocks += victims.len() as u64;
            total += victims.len() as u64;
            if budget.is_some() || victims.len() < CHUNK {
                return Ok(total);
            }
        }
    }
}
