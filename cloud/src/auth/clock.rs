//! Time for sessions, codes and throttling, behind a trait so tests can
//! move it (session idle expiry, link expiry) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::store::TimeMs;

pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> TimeMs;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimeMs {
        meterdeck_wire::now_ms()
    }
}

/// A clock that starts at the real time and moves only when told.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock(Arc::new(AtomicI64::new(SystemClock.now_ms())))
    }
}

impl ManualClock {
    pub fn at(ms: TimeMs) -> Self {
        ManualClock(Arc::new(AtomicI64::new(ms)))
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, ms: TimeMs) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> TimeMs {
        self.0.load(Ordering::SeqCst)
    }
}
