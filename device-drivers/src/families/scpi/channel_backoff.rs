//! Per-channel retry pacing: a query the instrument refused costs a whole
//! reply timeout, so it is retried after a pause that doubles on each new
//! refusal (up to a cap) instead of on every poll, and the instrument's
//! other channels keep their rate. A channel that answers again is reset.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Pause after the first refusal.
pub const FIRST_PAUSE: Duration = Duration::from_secs(5);
/// Longest pause between two tries of a refused query.
pub const MAX_PAUSE: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Refused {
    /// Why the last try failed (what the skipped polls report).
    problem: String,
    pause: Duration,
    next_try: Instant,
}

#[derive(Debug, Default)]
pub struct ChannelBackoff {
    refused: HashMap<String, Refused>,
}

impl ChannelBackoff {
    /// `Some(problem)` while `channel` waits out its pause: do not query it.
    pub fn waiting(&self, channel: &str, now: Instant) -> Option<&str> {
        self.refused.get(channel).filter(|r| now < r.next_try).map(|r| r.problem.as_str())
    }

    /// The instrument refused `channel`'s query at `now`.
    pub fn refused(&mut self, channel: &str, problem: String, now: Instant) -> Duration {
        let pause = match self.refused.get(channel) {
            Some(r) => (r.pause * 2).min(MAX_PAUSE),
            None => FIRST_PAUSE,
        };
        self.refused.insert(channel.to_string(), Refused { problem, pause, next_try: now + pause });
        pause
    }

    /// `channel` answered: query it on every poll again.
    pub fn answered(&mut self, channel: &str) {
        self.refused.remove(channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_and_reset_on_an_answer() {
        let mut b = ChannelBackoff::default();
        let t0 = Instant::now();
        assert_eq!(b.waiting("x", t0), None);
        assert_eq!(b.refused("x", "refused".into(), t0), FIRST_PAUSE);
        assert_eq!(b.waiting("x", t0 + Duration::from_secs(1)), Some("refused"));
        assert_eq!(b.waiting("y", t0), None);
        assert_eq!(b.waiting("x", t0 + FIRST_PAUSE), None);
        assert_eq!(b.refused("x", "again".into(), t0 + FIRST_PAUSE), FIRST_PAUSE * 2);
        let mut pause = FIRST_PAUSE * 2;
        for _ in 0..20 {
            pause = b.refused("x", "again".into(), t0);
        }
        assert_eq!(pause, MAX_PAUSE);
        b.answered("x");
        assert_eq!(b.waiting("x", t0), None);
        assert_eq!(b.refused("x", "new".into(), t0), FIRST_PAUSE);
    }
}
