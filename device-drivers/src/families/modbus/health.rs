//! What a Modbus driver remembers between polls about channels the device
//! refused, so that one unmapped register costs the good channels nothing:
//! a refused channel is left out of grouped reads and retried alone after
//! 1, 2, 4 ... up to [`MAX_REST`] polls, reporting its last reason in
//! between; channels that read alone but not together stay apart.

use std::collections::{HashMap, HashSet};

/// The most polls a refused channel waits before it is asked again.
pub const MAX_REST: u64 = 16;

#[derive(Debug, Default)]
pub struct Health {
    poll: u64,
    refused: HashMap<String, Refused>,
    alone: HashSet<String>,
}

#[derive(Debug)]
struct Refused {
    reason: String,
    /// The poll at which it is asked again.
    retry_at: u64,
    /// Polls to wait after the next refusal.
    rest: u64,
}

impl Health {
    /// Counts a poll; call once at the start of each.
    pub fn next_poll(&mut self) {
        self.poll += 1;
    }

    /// The last refusal of a channel not due to be asked this poll.
    pub fn resting(&self, channel: &str) -> Option<String> {
        self.refused.get(channel).filter(|r| self.poll < r.retry_at).map(|r| r.reason.clone())
    }

    /// Read in a request of its own (refused before, or only readable alone).
    pub fn is_alone(&self, channel: &str) -> bool {
        self.alone.contains(channel) || self.refused.contains_key(channel)
    }

    pub fn keep_alone(&mut self, channel: &str) {
        self.alone.insert(channel.to_string());
    }

    /// The device refused the channel's registers.
    pub fn failed(&mut self, channel: &str, reason: String) {
        let poll = self.poll;
        let r =
            self.refused.entry(channel.to_string()).or_insert(Refused { reason: String::new(), retry_at: 0, rest: 1 });
        r.reason = reason;
        r.retry_at = poll + r.rest;
        r.rest = (r.rest * 2).min(MAX_REST);
    }

    /// The channel read fine alone.
    pub fn recovered(&mut self, channel: &str) {
        if self.refused.remove(channel).is_some() {
            // It joins grouped reads again; a refusal there splits once more.
            self.alone.remove(channel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_channels_rest_longer_each_time_up_to_the_cap() {
        let mut h = Health::default();
        let mut asked = Vec::new();
        for poll in 1..=80u64 {
            h.next_poll();
            if h.resting("x").is_none() {
                asked.push(poll);
                h.failed("x", "exception 0x02".into());
            }
        }
        assert_eq!(&asked[..6], &[1, 2, 4, 8, 16, 32]);
        assert!(asked.windows(2).skip(5).all(|w| w[1] - w[0] == MAX_REST), "{asked:?}");
        h.next_poll();
        assert!(h.is_alone("x"));
        h.recovered("x");
        assert!(!h.is_alone("x") && h.resting("x").is_none());
    }

    #[test]
    fn kept_apart_channels_stay_apart() {
        let mut h = Health::default();
        h.next_poll();
        h.keep_alone("a");
        assert!(h.is_alone("a") && h.resting("a").is_none());
        h.recovered("a");
        assert!(h.is_alone("a"));
    }
}
