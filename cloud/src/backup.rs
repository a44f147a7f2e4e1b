//! Backups of the embedded SQLite database: a consistent online copy on a
//! schedule (daily by default, the newest 7 kept), and `restore`, which
//! checks a copy before it replaces the database of a stopped service.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tracing::{info, warn};

use crate::store::Storage;

const PREFIX: &str = "cloud-";
const SUFFIX: &str = ".db";

/// Backups in `dir`, oldest first.
pub fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    v.sort(); // names carry a sortable UTC timestamp
    Ok(v)
}

/// Takes one backup now and deletes all but the newest `keep`.
pub async fn run_once(store: &dyn Storage, dir: &Path, keep: usize) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = format!("{PREFIX}{}{SUFFIX}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    let dest = dir.join(name);
    let partial = dest.with_extension("partial");
    store.backup_to(&partial).await.context("backing up the database")?;
    std::fs::rename(&partial, &dest)?;
    let all = list(dir)?;
    for old in all.iter().take(all.len().saturating_sub(keep.max(1))) {
        if let Err(e) = std::fs::remove_file(old) {
            warn!("could not delete the old backup {}: {e}", old.display());
        }
    }
    info!("backup written: {}", dest.display());
    Ok(dest)
}

/// Backs up every `every` (the first one when the newest backup is older
/// than that), for as long as the task runs.
pub async fn schedule(store: std::sync::Arc<dyn Storage>, dir: PathBuf, every: Duration, keep: usize) {
    loop {
        let newest_age = list(&dir)
            .ok()
            .and_then(|v| v.last().cloned())
            .and_then(|p| std::fs::metadata(p).ok()?.modified().ok()?.elapsed().ok());
        let wait = match newest_age {
            Some(age) if age < every => every - age,
            _ => Duration::ZERO,
        };
        tokio::time::sleep(wait).await;
        if let Err(e) = run_once(&*store, &dir, keep).await {
            warn!("scheduled backup failed: {e:#}");
            tokio::time::sleep(Duration::from_secs(300).min(every)).await;
        }
    }
}

/// Replaces the SQLite database at `db` with the backup `from`, after
/// checking that the backup is a sound Meterdeck cloud database. The old
/// database is kept beside it as `*.before-restore`.
pub fn restore(db: &Path, from: &Path) -> anyhow::Result<()> {
    check_backup(from)?;
    if db.exists() {
        let keep = db.with_extension("db.before-restore");
        std::fs::copy(db, &keep).with_context(|| format!("keeping the current database as {}", keep.display()))?;
    }
    let tmp = db.with_extension("db.restoring");
    std::fs::copy(from, &tmp).with_context(|| format!("copying {}", from.display()))?;
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(ext));
    }
    std::fs::rename(&tmp, db).with_context(|| format!("replacing {}", db.display()))?;
    Ok(())
}

fn check_backup(from: &Path) -> anyhow::Result<()> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("{} is not readable", from.display()))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .with_context(|| format!("{} is not an SQLite database", from.display()))?;
    if check != "ok" {
        bail!("{} is damaged: {check}", from.display());
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version <= 0 {
        bail!("{} is not a Meterdeck cloud database (no schema version)", from.display());
    }
    Ok(())
}

/// Holds an exclusive lock on the data directory while `serve` runs, so
/// `restore` cannot pull the database from under it.
pub struct ServeLock(#[allow(dead_code)] std::fs::File);

pub fn lock_data_dir(dir: &Path) -> anyhow::Result<ServeLock> {
    let path = dir.join("serve.lock");
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(|_| {
        anyhow::anyhow!("{} is in use by a running meterdeck-cloud serve; stop it first", dir.display())
    })?;
    Ok(ServeLock(f))
}
