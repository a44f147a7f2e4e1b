//! The agent runtime (tokio): one poller task per instrument on absolute
//! ticks, a writer thread that owns the store, reconnects with capped
//! backoff, fast monitor mode, live updates for the desktop app.
//!
//! ```text
//! poller (per instrument) --bounded mpsc--> writer thread --append--> Store
//!        \--broadcast--> subscribers (desktop, demo table)
//! writer: calc channels before the commit, alarm rules after it
//!         (alarms.rs) --> journal, notification centre, dispatcher
//! ```

pub mod alarm_requests;
mod alarms;
pub mod backoff;
pub mod fast_monitor;
mod poller;
mod runtime;
pub mod schedule;
pub(crate) mod writer;

pub use alarms::{AlarmCommand, AlarmReply, system_tz};
pub use backoff::{Backoff, BackoffPolicy};
pub use fast_monitor::{FAST_DURATION, FAST_INTERVAL, FAST_REQUESTS_KEY, FastRequest};
pub use runtime::{
    Agent, AgentError, AgentHandle, AgentOptions, ConnectFuture, Connector, LiveUpdate, LiveValue, default_connector,
};
pub use schedule::Schedule;

use crate::store::SchemaPart;

/// The tables other modules keep in the store's file, registered whenever
/// the agent, the desk or the CLI open it for writing.
pub const STORE_PARTS: &[SchemaPart] = &[crate::alarm::journal::SCHEMA_PART, crate::notify::centre::SCHEMA_PART];
// The engine's clock, where the binaries and tests have always found it.
pub use crate::model::now_ms;

#[cfg(test)]
mod alarm_tests;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
