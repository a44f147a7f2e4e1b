//! The first stage: one task per instrument connects, identifies, polls on
//! absolute ticks (`schedule`), reconnects with capped backoff (`backoff`)
//! and polls every 5 s on request (`fast_monitor`); a poll slower than its
//! interval is said once when it starts and once when it ends (`overrun`),
//! and a failure repeating every poll is one event with a count (`repeats`).
//!
//! ```text
//! driver --read--> Poller --PollMsg (bounded mpsc)--> writer thread (agent)
//!                    |  \--PollUpdate (broadcast)---> live subscribers
//!                    '<--Control (fast monitor, raw console commands)-- agent handle
//! ```
//!
//! A poller knows neither the writer's message type nor the live one: it
//! sends its own [`PollMsg`] and [`PollUpdate`] into channels of any type
//! made `From` them, so nothing here imports the agent that wires it.

pub mod backoff;
mod channel_status;
pub mod fast_monitor;
pub mod overrun;
mod poller;
pub mod repeats;
pub mod schedule;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use meterdeck_drivers::{Driver, DriverError, InstrumentConfig};
use tokio::sync::oneshot;

pub use backoff::{Backoff, BackoffPolicy};
pub use fast_monitor::{FAST_DURATION, FAST_INTERVAL, FAST_REQUESTS_KEY, FastRequest};
pub(crate) use poller::{ActionReply, Control, Poller};
pub use schedule::Schedule;

use crate::model::{ChannelId, ConnState, Event, Text, TimeMs, Value};
use crate::store::StoreError;

pub type ConnectFuture = Pin<Box<dyn Future<Output = Result<Box<dyn Driver>, DriverError>> + Send>>;
/// Opens a driver for a configuration. The default is `meterdeck_drivers::open`;
/// tests and embedders may supply their own.
pub type Connector = Arc<dyn Fn(InstrumentConfig) -> ConnectFuture + Send + Sync>;

pub fn default_connector() -> Connector {
    Arc::new(|cfg: InstrumentConfig| Box::pin(async move { meterdeck_drivers::open(&cfg).await }) as ConnectFuture)
}

/// Settings key of an instrument's identity (JSON), as its last connection
/// reported it.
pub fn identity_key(instrument: &str) -> String {
    format!("instrument.{instrument}.identity")
}

/// What a poller hands the writer, which stores it in order.
pub enum PollMsg {
    /// Ids for `(channel, unit)` of an instrument, in the order given.
    RegisterChannels {
        instrument: String,
        channels: Vec<(String, Option<String>)>,
        reply: oneshot::Sender<Result<Vec<ChannelId>, RegisterError>>,
    },
    /// One poll's values, all stamped with the tick time `t`.
    Samples {
        instrument: String,
        t: TimeMs,
        values: Vec<(ChannelId, Value)>,
    },
    Event(Event),
    State {
        instrument: String,
        state: ConnState,
        /// Why (translatable; the store and logs keep its English).
        reason: Option<Text>,
    },
    /// The identity the instrument gave (JSON), kept under [`identity_key`].
    Identity {
        instrument: String,
        json: String,
    },
    /// The result of a control command the command line asked for
    /// (`control::requests`), to be recorded under its request id.
    ControlDone {
        request: String,
        result: Result<crate::control::ControlOutcome, String>,
    },
}

/// The store refused a channel a poller is about to poll.
#[derive(Debug, thiserror::Error)]
#[error("cannot register channel {path}: {source}")]
pub struct RegisterError {
    pub path: String,
    #[source]
    pub source: StoreError,
}

/// One channel's value in a live update.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveValue {
    pub channel: String,
    pub unit: Option<String>,
    pub value: Value,
}

/// What a poller tells live subscribers, as it happens.
#[derive(Clone, Debug, PartialEq)]
pub enum PollUpdate {
    /// One poll of an instrument, stamped with the tick time.
    Readings {
        instrument: String,
        t: TimeMs,
        values: Vec<LiveValue>,
    },
    State {
        instrument: String,
        state: ConnState,
        /// Why (translatable; the store and logs keep its English).
        reason: Option<Text>,
    },
    Event(Event),
    /// Fast monitor switched; `until` is `None` when it is off.
    FastMonitor {
        instrument: String,
        until: Option<TimeMs>,
    },
}

/// Why a raw console command got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("instrument `{id}` is not connected")]
    NotConnected { id: String },
    #[error("instrument `{id}`: {source}")]
    Driver { id: String, source: DriverError },
}
