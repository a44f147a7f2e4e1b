//! Alarms (SPEC 5): `[[alarm]]` rules (`rule`), their pure evaluation
//! (`condition`, `window`), the ISA-18.2 lifecycle (`lifecycle`), the engine
//! fed with samples, connection changes, free space and clock ticks
//! (`engine`), persistence of states and the journal (`journal`), and the
//! pipeline stage after the store that runs them (`stage`), with the
//! command line's requests (`requests`). Delivery is `notify`'s: the stage
//! puts notifications in the centre and hands them to the dispatcher.

pub mod cloud_acks;
pub mod condition;
pub mod engine;
pub mod journal;
pub mod lifecycle;
pub mod requests;
pub mod rule;
pub mod stage;
pub mod window;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod props;

pub use engine::{AlarmEngine, AlarmView, Transition};
pub use journal::{JournalEntry, JournalFilter};
pub use lifecycle::{AckInfo, Action, AlarmError, AlarmState, Notify, Phase};
pub use rule::{AlarmRule, Combine, Op, RuleError, RuleKind, Severity, validate_all};
pub use stage::{AlarmCommand, AlarmMsg, AlarmReply, AlarmStage, AlarmUpdate, CommandError, system_tz};
