//! Opens the storage a URL names: `sqlite:PATH` (embedded, the default)
//! or `postgres://...` / `postgresql://...`.

use std::sync::Arc;

use anyhow::{Context, bail};

use super::Storage;
use super::sqlite::SqliteStore;

pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            bail!("storage URL {url:?} names no file (expected sqlite:PATH)");
        }
        let store = SqliteStore::open(path).await.with_context(|| format!("opening SQLite storage {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return open_postgres(url).await;
    }
    // Never echo the URL whole: it may hold a password.
    let scheme = url.split(':').next().unwrap_or_default();
    bail!("storage URL scheme {scheme:?} is not supported (use sqlite:PATH or postgres://...)")
}

async fn open_postgres(url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    super::postgres::open(url).await
}
