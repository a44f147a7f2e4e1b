//! The agent: the thin wiring of the pipeline (tokio). It opens the store,
//! starts one poller per instrument, the writer thread that runs the stages
//! next to the store, the notification dispatcher and the sync drain, and
//! hands out the handle the binaries and the desktop app hold.
//!
//! ```text
//! poll (per instrument) --PollMsg--> writer thread: calc -> store.append -> alarm stage
//!        |                               ^   |               (journal, centre, dispatcher)
//!        |                       SyncMsg |   '-- outbox rows --> sync drain --MQTT--> cloud
//!        '--PollUpdate--> LiveUpdate broadcast <-- AlarmUpdate
//! ```
//!
//! Each stage owns its state and sends its own message type; only here are
//! they joined (`writer::WriterMsg`, [`LiveUpdate`]).

mod files;
mod live;
mod runtime;
mod view_links;
pub(crate) mod writer;

pub use live::{LiveUpdate, LiveValue};
pub use runtime::{Agent, AgentError, AgentHandle, AgentOptions};

use crate::store::SchemaPart;

/// The tables other modules keep in the store's file, registered whenever
/// the agent, the desk or the CLI open it for writing.
pub const STORE_PARTS: &[SchemaPart] = &[
    crate::alarm::journal::SCHEMA_PART,
    // After the journal: its triggers copy journal entries and events.
    crate::outbox::records::SCHEMA_PART,
    crate::notify::centre::SCHEMA_PART,
    crate::licence::SCHEMA_PART,
    crate::files::SCHEMA_PART,
    crate::dashboard::SCHEMA_PART,
    crate::report::saved::SCHEMA_PART,
];

// Where the binaries, the app and the tests have found these; they live in
// their stages now.
pub use crate::alarm::requests as alarm_requests;
pub use crate::alarm::{AlarmCommand, AlarmReply, system_tz};
pub use crate::model::now_ms;
pub use crate::poll::{
    Backoff, BackoffPolicy, ConnectFuture, Connector, FAST_DURATION, FAST_INTERVAL, FAST_REQUESTS_KEY, FastRequest,
    Schedule, backoff, default_connector, fast_monitor, schedule,
};

#[cfg(test)]
mod alarm_tests;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
