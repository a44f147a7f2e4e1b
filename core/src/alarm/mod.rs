//! Alarms (SPEC 5): `[[alarm]]` rules (`rule`), their pure evaluation
//! (`condition`, `window`), the ISA-18.2 lifecycle (`lifecycle`), the engine
//! fed with samples, connection changes, free space and clock ticks
//! (`engine`), and persistence of states and the journal (`journal`).
//! Notification delivery is not here: transitions say what to send.

pub mod condition;
pub mod engine;
pub mod journal;
pub mod lifecycle;
pub mod rule;
pub mod window;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod props;

pub use engine::{AlarmEngine, AlarmView, Transition};
pub use journal::{JournalEntry, JournalFilter};
pub use lifecycle::{AckInfo, Action, AlarmError, AlarmState, Notify, Phase};
pub use rule::{AlarmRule, Combine, Op, RuleError, RuleKind, Severity, validate_all};
