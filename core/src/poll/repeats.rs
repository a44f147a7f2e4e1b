//! Event collapsing: a failure that repeats on every poll (an instrument
//! whose replies are never numbers) is one event with a count and its
//! first and last time, not one event per poll. Repeats are recognised by a
//! signature that leaves out the quoted reply, which differs every time
//! while the failure is the same.

use crate::model::{Event, EventKind};

#[derive(Debug, Default)]
pub struct Repeats {
    last: Option<Last>,
}

#[derive(Debug)]
struct Last {
    signature: String,
    first_t: i64,
    count: u32,
}

impl Repeats {
    /// Stamps an instrument's event with its count and first time when it
    /// repeats the previous failure. A (re)connect starts afresh.
    pub fn stamp(&mut self, ev: &mut Event) {
        match ev.kind {
            EventKind::Error => {}
            EventKind::Connected => {
                self.last = None;
                return;
            }
            _ => return,
        }
        let signature = signature(&ev.message);
        match &mut self.last {
            Some(last) if last.signature == signature => {
                last.count = last.count.saturating_add(1);
                ev.count = last.count;
                ev.first_t = last.first_t;
            }
            _ => {
                ev.count = 1;
                ev.first_t = ev.t;
                self.last = Some(Last { signature, first_t: ev.t, count: 1 });
            }
        }
    }
}

/// The message without the reply it quotes: the `(reply: "...")` suffix
/// goes, and so does any `backticked` part of the rest that is that reply
/// (a reason quoting it), so that garbage differing on every poll still
/// reads as the same failure while the command it answered stays.
pub fn signature(message: &str) -> String {
    let Some(at) = message.find(" (reply: ") else {
        return message.to_string();
    };
    let reply = message[at + " (reply: ".len()..].trim_end_matches(')').trim_matches('"');
    let mut out = String::with_capacity(at);
    for (i, part) in message[..at].split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside backticks.
        if i % 2 == 1 && !part.is_empty() && reply.contains(part) {
            out.push_str("...");
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(t: i64, m: &str) -> Event {
        Event::new(t, Some("dmm".into()), EventKind::Error, m.into())
    }

    #[test]
    fn a_failure_on_every_poll_is_one_event_with_a_count() {
        let mut r = Repeats::default();
        for t in 0..40 {
            let mut ev =
                error(1000 + t * 1000, &format!("poll failed: bad reply to `READ?`: not a number (reply: \"#{t}x\")"));
            r.stamp(&mut ev);
            assert_eq!((ev.count, ev.first_t, ev.t), (t as u32 + 1, 1000, 1000 + t * 1000));
        }
        // The command stays part of the failure.
        assert_eq!(
            signature("bad reply to `READ?`: `x#1` is not a number (reply: \"x#1\")"),
            "bad reply to `READ?`: `...` is not a number"
        );
        assert_ne!(signature("bad reply to `A?` (reply: \"1\")"), signature("bad reply to `B?` (reply: \"1\")"));
        // Another failure starts its own count; a reconnect starts afresh.
        let mut other = error(50_000, "poll failed: timeout");
        r.stamp(&mut other);
        assert_eq!((other.count, other.first_t), (1, 50_000));
        let mut again = error(51_000, "poll failed: timeout");
        r.stamp(&mut again);
        assert_eq!(again.count, 2);
        let mut connected = Event::new(52_000, Some("dmm".into()), EventKind::Connected, "connected".into());
        r.stamp(&mut connected);
        assert_eq!(connected.count, 1);
        let mut after = error(53_000, "poll failed: timeout");
        r.stamp(&mut after);
        assert_eq!((after.count, after.first_t), (1, 53_000));
    }
}
