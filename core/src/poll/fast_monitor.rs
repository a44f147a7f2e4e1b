//! Fast monitor mode (SPEC 1.7): poll every 5 s for 10 minutes, then go back
//! to the normal interval. Requests come from `AgentHandle::set_fast_monitor`
//! or, for the headless CLI, from a settings key in the store that the
//! running agent reads about once a second.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::TimeMs;

pub const FAST_INTERVAL: Duration = Duration::from_secs(5);
pub const FAST_DURATION: Duration = Duration::from_secs(600);
/// Settings key holding [`FastRequests`] as JSON.
pub const FAST_REQUESTS_KEY: &str = "agent.fast_monitor_requests";

/// One request: switch fast monitoring on or off, made at time `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastRequest {
    pub on: bool,
    pub at: TimeMs,
}

/// The latest request per instrument id.
pub type FastRequests = BTreeMap<String, FastRequest>;

/// Reads the settings value; a damaged value counts as no requests.
pub fn parse_requests(text: Option<&str>) -> FastRequests {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// The settings value after adding a request (what the CLI writes).
pub fn add_request(existing: Option<&str>, instrument: &str, request: FastRequest) -> String {
    let mut all = parse_requests(existing);
    all.insert(instrument.to_string(), request);
    serde_json::to_string(&all).unwrap_or_else(|_| "{}".to_string())
}

/// Remembers which requests the agent has already applied.
#[derive(Debug, Default)]
pub struct RequestTracker {
    applied: HashMap<String, TimeMs>,
}

impl RequestTracker {
    /// Requests newer than the last applied one per instrument. An "on"
    /// request whose 10 minutes are already over is dropped.
    pub fn fresh(&mut self, requests: &FastRequests, now: TimeMs) -> Vec<(String, FastRequest)> {
        let mut out = Vec::new();
        for (id, req) in requests {
            if self.applied.get(id).is_some_and(|at| *at >= req.at) {
                continue;
            }
            self.applied.insert(id.clone(), req.at);
            if req.on && req.at + FAST_DURATION.as_millis() as i64 <= now {
                continue;
            }
            out.push((id.clone(), *req));
        }
        out
    }
}

/// Per-instrument fast monitor state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastMonitor {
    until: Option<TimeMs>,
}

impl FastMonitor {
    /// Applies a request made at `at`: on lasts until `at + 10 min`.
    pub fn apply(&mut self, on: bool, at: TimeMs) {
        self.until = on.then(|| at + FAST_DURATION.as_millis() as i64);
    }

    pub fn until(&self, now: TimeMs) -> Option<TimeMs> {
        self.until.filter(|u| *u > now)
    }

    pub fn active(&self, now: TimeMs) -> bool {
        self.until(now).is_some()
    }

    /// The interval to poll at now. Never slower than the normal interval.
    pub fn interval(&self, normal: Duration, now: TimeMs) -> Duration {
        if self.active(now) { normal.min(FAST_INTERVAL) } else { normal }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn fast_mode_lasts_ten_minutes_then_returns() {
        let normal = Duration::from_secs(60);
        let mut f = FastMonitor::default();
        assert_eq!(f.interval(normal, 0), normal);
        f.apply(true, 1_000);
        assert_eq!(f.interval(normal, 1_000), FAST_INTERVAL);
        assert_eq!(f.interval(normal, 1_000 + 10 * MIN - 1), FAST_INTERVAL);
        assert_eq!(f.interval(normal, 1_000 + 10 * MIN), normal);
        f.apply(true, 0);
        f.apply(false, 5);
        assert_eq!(f.interval(normal, 6), normal);
        // A 1 s instrument is not slowed down by fast mode.
        f.apply(true, 0);
        assert_eq!(f.interval(Duration::from_secs(1), 10), Duration::from_secs(1));
    }

    #[test]
    fn tracker_applies_each_request_once() {
        let mut t = RequestTracker::default();
        let text = add_request(None, "a", FastRequest { on: true, at: 100 });
        let text = add_request(Some(&text), "b", FastRequest { on: false, at: 100 });
        let reqs = parse_requests(Some(&text));
        assert_eq!(t.fresh(&reqs, 200).len(), 2);
        assert!(t.fresh(&reqs, 300).is_empty());
        let text = add_request(Some(&text), "a", FastRequest { on: false, at: 400 });
        let fresh = t.fresh(&parse_requests(Some(&text)), 500);
        assert_eq!(fresh, vec![("a".to_string(), FastRequest { on: false, at: 400 })]);
    }

    #[test]
    fn stale_on_requests_are_ignored() {
        let mut t = RequestTracker::default();
        let reqs = parse_requests(Some(&add_request(None, "a", FastRequest { on: true, at: 0 })));
        assert!(t.fresh(&reqs, 11 * MIN).is_empty());
        assert!(parse_requests(Some("not json")).is_empty());
    }
}
