//! meterdeck-core: the measurement engine without a window.
//!
//! Data flows one way through the stages:
//!
//! ```text
//! poll -> calc -> store -> alarm -> outbox -> sync
//!                   '--> desk (what a window needs), export
//! ```
//!
//! `report` turns a template and a range into a PDF and a CSV (statistics
//! from the store's block summaries, graphs drawn by plotters).
//! `poll` reads the instruments, `calc` adds the calculation channels,
//! `store` keeps samples in compressed per-channel blocks with a durable
//! tail and fills the outbox table in the same transaction, `alarm` runs
//! the rules on what was stored (and `notify` delivers), `outbox` hands the
//! unsent ranges to `sync`, which drains them to the cloud. `agent` wires
//! the stages together; `licence` holds the verified licence and its plan
//! limits; `config` is the whole configuration, `model` and
//! `fmt` the plain data and text every stage shares. Modules import one
//! way only (`tests/module_graph.rs` keeps it so). Nothing here knows of
//! Tauri or HTTP servers.

pub mod agent;
pub mod alarm;
pub mod calc;
#[cfg(feature = "cloudlink")]
pub mod cloudlink;
pub mod config;
pub mod control;
pub mod dashboard;
pub mod demo;
pub mod desk;
pub mod export;
pub mod files;
pub mod fmt;
pub mod licence;
pub mod model;
pub mod notify;
pub mod outbox;
pub mod poll;
pub mod remote;
pub mod report;
pub mod store;
pub mod sync;

pub use meterdeck_drivers as drivers;
