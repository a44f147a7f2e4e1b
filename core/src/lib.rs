//! meterdeck-core: the measurement engine without a window.
//!
//! Data flows one way: `agent` polls drivers and hands samples to `store`
//! (SQLite cache with compressed per-channel blocks and a durable tail),
//! which fills the sync `outbox` in the same transaction. `export` and the
//! queries read from `store`. Nothing here knows of Tauri or HTTP servers.

pub mod agent;
pub mod alarm;
pub mod calc;
#[cfg(feature = "cloudlink")]
pub mod cloudlink;
pub mod config;
pub mod desk;
pub mod export;
pub mod fmt;
pub mod model;
pub mod notify;
pub mod store;
pub mod sync;

pub use meterdeck_drivers as drivers;
