//! Capped exponential backoff with a little jitter, so a lost instrument is
//! retried quickly at first and then once a minute, and many instruments
//! that dropped together do not all reconnect in the same millisecond.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// Fraction of each delay that may be shaved off at random (0..1).
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy { base: Duration::from_secs(1), cap: Duration::from_secs(60), jitter: 0.1 }
    }
}

#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    current: Duration,
    rng: u64,
}

impl Backoff {
    /// `seed` only varies the jitter (e.g. a hash of the instrument id).
    pub fn new(policy: BackoffPolicy, seed: u64) -> Backoff {
        Backoff { policy, current: policy.base.min(policy.cap), rng: seed | 1 }
    }

    /// The delay before the next attempt; doubles the one after, up to the cap.
    /// Jitter only shortens a delay, so the cap is never exceeded.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.current;
        self.current = self.current.saturating_mul(2).min(self.policy.cap);
        let jitter = self.policy.jitter.clamp(0.0, 1.0) * self.unit_random();
        delay.mul_f64(1.0 - jitter)
    }

    /// After a successful poll: start from the base delay again.
    pub fn reset(&mut self) {
        self.current = self.policy.base.min(self.policy.cap);
    }

    /// xorshift64*: enough randomness for jitter, no dependency.
    fn unit_random(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> BackoffPolicy {
        BackoffPolicy { jitter: 0.0, ..BackoffPolicy::default() }
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(no_jitter(), 7);
        let secs: Vec<u64> = (0..9).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(no_jitter(), 7);
        for _ in 0..5 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
        assert_eq!(b.next_delay(), Duration::from_secs(2));
    }

    #[test]
    fn jitter_stays_small_and_under_the_cap() {
        let mut b = Backoff::new(BackoffPolicy::default(), 42);
        let mut nominal = 1.0f64;
        let mut varied = false;
        for _ in 0..200 {
            let d = b.next_delay().as_secs_f64();
            assert!(d <= nominal + 1e-9 && d >= nominal * 0.9 - 1e-9, "{d} vs {nominal}");
            varied |= d < nominal;
            nominal = (nominal * 2.0).min(60.0);
        }
        assert!(varied);
    }
}
