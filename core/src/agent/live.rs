//! What `AgentHandle::subscribe` delivers: the stages' live reports joined
//! into one broadcast for the desktop window and the demo's table.

use crate::alarm::{AlarmUpdate, AlarmView};
use crate::model::{ConnState, Event, TimeMs};
use crate::notify::Note;
pub use crate::poll::LiveValue;
use crate::poll::PollUpdate;

/// What `AgentHandle::subscribe` delivers, as it happens.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveUpdate {
    /// One poll of an instrument, stamped with the tick time.
    Readings {
        instrument: String,
        t: TimeMs,
        values: Vec<LiveValue>,
    },
    State {
        instrument: String,
        state: ConnState,
        reason: Option<crate::model::Text>,
    },
    Event(Event),
    /// Fast monitor switched; `until` is `None` when it is off.
    FastMonitor {
        instrument: String,
        until: Option<TimeMs>,
    },
    /// An alarm changed state.
    Alarm(Box<AlarmView>),
    /// A new entry in the notification centre.
    Notification(Box<Note>),
}

impl From<PollUpdate> for LiveUpdate {
    fn from(u: PollUpdate) -> LiveUpdate {
        match u {
            PollUpdate::Readings { instrument, t, values } => LiveUpdate::Readings { instrument, t, values },
            PollUpdate::State { instrument, state, reason } => LiveUpdate::State { instrument, state, reason },
            PollUpdate::Event(e) => LiveUpdate::Event(e),
            PollUpdate::FastMonitor { instrument, until } => LiveUpdate::FastMonitor { instrument, until },
        }
    }
}

impl From<AlarmUpdate> for LiveUpdate {
    fn from(u: AlarmUpdate) -> LiveUpdate {
        match u {
            AlarmUpdate::Alarm(a) => LiveUpdate::Alarm(a),
            AlarmUpdate::Notification(n) => LiveUpdate::Notification(n),
        }
    }
}
