//! meterdeck-wire: the vocabulary both ends of Meterdeck speak.
//!
//! - `sample`: a sample (time, number or special value) and the one clock
//!   reading `now_ms`;
//! - `codec`: the compressed block encoding of samples, shared by the
//!   agent's store and the cloud's;
//! - `sync`: sync protocol v1 (docs/protocol.md): batches, acknowledgements,
//!   agent ids and MQTT topics, and the checks a received batch must pass;
//! - `licence`: the licence document the cloud signs and agents verify
//!   offline, and the plan limits of SPEC 7;
//! - `alarms`: a site's alarms as the cloud shows them, and the cloud's
//!   acknowledgement on its way down to the agent;
//! - `boards`: the dashboard board document (panels on the grid, the board
//!   file) the desktop and the portal share, and its context-free checks.
//!
//! Pure functions over bytes and plain data: no I/O, no async runtime, no
//! database, no MQTT client. The drivers, the engine (meterdeck-core) and
//! the cloud all depend on this crate; it depends on none of them.

pub mod alarms;
pub mod boards;
pub mod codec;
pub mod licence;
pub mod records;
pub mod remote;
pub mod sample;
pub mod sync;
pub mod webhook;

pub use sample::{Sample, SpecialKind, TimeMs, Value, now_ms};
pub mod files;
pub mod i18n;
