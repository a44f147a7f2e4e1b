//! The events the window listens to: each name with its payload type, so
//! an emit of the wrong payload does not compile.

use std::marker::PhantomData;

use meterdeck_core::alarm::AlarmView;
use meterdeck_core::desk::{ExportProgress, InstrumentStateEvent, LiveEvent, ReportProgress};
use meterdeck_core::notify::Note;
use serde::Serialize;
use tauri::{Emitter, Runtime};

/// An event name and the type of its payload.
pub struct EventName<P> {
    pub name: &'static str,
    payload: PhantomData<fn(&P)>,
}

impl<P: Serialize> EventName<P> {
    const fn new(name: &'static str) -> Self {
        EventName { name, payload: PhantomData }
    }

    /// Emits to every window; a window that is gone is no error of ours.
    pub fn emit<R: Runtime>(&self, app: &impl Emitter<R>, payload: &P) {
        if let Err(e) = app.emit(self.name, payload) {
            tracing::debug!("event `{}` not delivered: {e}", self.name);
        }
    }
}

macro_rules! events {
    ($( $(#[doc = $doc:literal])* $konst:ident = $name:literal: $payload:ty; )*) => {
        $( $(#[doc = $doc])* pub const $konst: EventName<$payload> = EventName::new($name); )*

        /// Every event of the table, in order.
        #[cfg(test)]
        pub fn visit_events(v: &mut impl super::Visit) {
            $( v.event::<$payload>($name); )*
        }
    };
}

events! {
    /// Readings, state changes, events and fast-monitor changes of the agent,
    /// flushed at most every 200 ms.
    LIVE = "live": LiveEvent;
    /// Each instrument state change (also part of `live`).
    INSTRUMENT_STATE = "instrument-state": InstrumentStateEvent;
    /// Progress of `export`, at most every 100 ms and once at the end.
    EXPORT_PROGRESS = "export-progress": ExportProgress;
    /// An alarm on every change.
    ALARM = "alarm": AlarmView;
    /// Every new notification-centre entry.
    NOTIFICATION = "notification": Note;
    /// Progress of `report_generate`, after each step.
    REPORT_PROGRESS = "report-progress": ReportProgress;
    /// Progress of a fetch, upload or download from the Files screen, at most every 100 ms and the last step.
    FILE_PROGRESS = "file-progress": meterdeck_core::desk::FileProgress;
}
