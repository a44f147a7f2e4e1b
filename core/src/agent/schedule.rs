//! Absolute poll ticks: tick k is at `k * interval` since the Unix epoch, so
//! every instrument with the same interval polls at the same wall-clock
//! instants, no drift accumulates, and an overrun skips the ticks it missed
//! instead of bursting to catch up.

use std::time::Duration;

use crate::model::TimeMs;

/// The agent's clock: meterdeck-wire's one `now_ms`.
pub use meterdeck_wire::now_ms;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    interval_ms: i64,
    next: TimeMs,
}

impl Schedule {
    /// The first tick is the first multiple of `interval` at or after `now`.
    pub fn new(interval: Duration, now: TimeMs) -> Schedule {
        let interval_ms = interval_ms(interval);
        Schedule { interval_ms, next: align_up(now, interval_ms) }
    }

    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms as u64)
    }

    /// When the next poll is due.
    pub fn next_tick(&self) -> TimeMs {
        self.next
    }

    /// How long to wait from `now` until the next tick (zero if it is due).
    pub fn wait(&self, now: TimeMs) -> Duration {
        Duration::from_millis((self.next - now).max(0) as u64)
    }

    /// Marks the current tick as done at `now` and moves to the next one
    /// that is not yet past. Returns how many ticks were skipped because the
    /// poll overran them.
    pub fn advance(&mut self, now: TimeMs) -> u64 {
        let following = self.next + self.interval_ms;
        let next = following.max(align_up(now, self.interval_ms));
        let skipped = ((next - following) / self.interval_ms) as u64;
        self.next = next;
        skipped
    }

    /// Switches to another interval (fast monitor on/off), re-aligned so the
    /// next tick is the first multiple of the new interval at or after `now`.
    pub fn set_interval(&mut self, interval: Duration, now: TimeMs) {
        *self = Schedule::new(interval, now);
    }
}

fn interval_ms(interval: Duration) -> i64 {
    (interval.as_millis() as i64).clamp(1, i64::MAX / 4)
}

/// The smallest multiple of `step` that is >= `t`.
fn align_up(t: TimeMs, step: i64) -> TimeMs {
    let r = t.rem_euclid(step);
    if r == 0 { t } else { t - r + step }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn first_tick_is_aligned_to_the_interval() {
        let s = Schedule::new(Duration::from_secs(60), 1_700_000_012_345);
        assert_eq!(s.next_tick() % 60_000, 0);
        assert!(s.next_tick() >= 1_700_000_012_345 && s.next_tick() - 1_700_000_012_345 < 60_000);
        // Exactly on a tick: that tick is used.
        assert_eq!(Schedule::new(S, 5_000).next_tick(), 5_000);
        assert_eq!(Schedule::new(S, 5_001).next_tick(), 6_000);
    }

    #[test]
    fn ticks_do_not_drift_with_late_or_slow_polls() {
        let mut s = Schedule::new(S, 10_000);
        let mut ticks = vec![s.next_tick()];
        // Each poll finishes a little late (woken 3 ms late, takes 400 ms).
        for _ in 0..1000 {
            let done = s.next_tick() + 403;
            assert_eq!(s.advance(done), 0);
            ticks.push(s.next_tick());
        }
        for (k, t) in ticks.iter().enumerate() {
            assert_eq!(*t, 10_000 + k as i64 * 1000);
        }
    }

    #[test]
    fn overrun_skips_missed_ticks_instead_of_bursting() {
        let mut s = Schedule::new(S, 10_000);
        assert_eq!(s.next_tick(), 10_000);
        // The poll of tick 10 s took 3.5 s: ticks 11, 12 and 13 s are gone.
        assert_eq!(s.advance(13_500), 3);
        assert_eq!(s.next_tick(), 14_000);
        // Finishing exactly on a tick keeps that tick.
        assert_eq!(s.advance(16_000), 1);
        assert_eq!(s.next_tick(), 16_000);
        assert_eq!(s.wait(15_250), Duration::from_millis(750));
        assert_eq!(s.wait(17_000), Duration::ZERO);
    }

    #[test]
    fn changing_interval_realigns() {
        let mut s = Schedule::new(Duration::from_secs(60), 100_000);
        assert_eq!(s.next_tick(), 120_000);
        s.set_interval(Duration::from_secs(5), 101_000);
        assert_eq!(s.next_tick(), 105_000);
        assert_eq!(s.interval(), Duration::from_secs(5));
    }

    #[test]
    fn negative_times_align_too() {
        assert_eq!(Schedule::new(S, -1500).next_tick(), -1000);
    }
}
