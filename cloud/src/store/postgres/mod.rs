//! PostgreSQL storage (in progress).

use std::sync::Arc;

use super::Storage;

pub async fn open(_url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    anyhow::bail!("PostgreSQL storage is not built yet")
}
