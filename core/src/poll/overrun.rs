//! Overrun detection: a poll that takes longer than the interval makes the
//! schedule skip ticks, so the instrument is sampled less often than
//! configured. That is said once when it starts (an event and the status
//! reason: "replies take 1.5 s; interval 1 s; sampling every 2 s") and once
//! when polls keep up again, never per poll.

use std::time::Duration;

use meterdeck_wire::i18n::Text;

/// Polls in a row that must fit the interval before an overrun is over, so
/// replies hovering around the interval do not flap.
pub const RECOVER_AFTER: u32 = 3;

#[derive(Clone, Debug, Default)]
pub struct OverrunWatch {
    active: bool,
    fitting: u32,
}

/// A change worth an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrunChange {
    /// The status reason (the event says "polls overrun: " before it).
    Started(Text),
    /// The event message.
    Ended(Text),
}

impl OverrunWatch {
    pub fn active(&self) -> bool {
        self.active
    }

    /// Notes how long one poll took at `interval`; returns a change once
    /// when overruns start and once when they end.
    pub fn observe(&mut self, took: Duration, interval: Duration) -> Option<OverrunChange> {
        if took > interval {
            self.fitting = 0;
            if self.active {
                return None;
            }
            self.active = true;
            return Some(OverrunChange::Started(describe(took, interval)));
        }
        if !self.active {
            return None;
        }
        self.fitting += 1;
        if self.fitting < RECOVER_AFTER {
            return None;
        }
        self.active = false;
        self.fitting = 0;
        Some(OverrunChange::Ended(
            Text::new("evt.overrunEnded").arg("took", human(took)).arg("interval", human(interval)),
        ))
    }
}

/// "replies take 1.5 s; interval 1 s; sampling every 2 s": ticks are
/// absolute, so a poll that overruns waits for the next whole tick.
pub fn describe(took: Duration, interval: Duration) -> Text {
    let step = interval.as_millis().max(1);
    let ticks = took.as_millis().div_ceil(step).max(1);
    let every = Duration::from_millis((ticks * step) as u64);
    Text::new("evt.overrunWhy").arg("took", human(took)).arg("interval", human(interval)).arg("every", human(every))
}

/// "1.5 s", "2 s", "250 ms".
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{} ms", d.as_millis());
    }
    let tenths = (d.as_millis() + 50) / 100;
    if tenths.is_multiple_of(10) { format!("{} s", tenths / 10) } else { format!("{}.{} s", tenths / 10, tenths % 10) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_reason_says_what_sampling_becomes() {
        assert_eq!(describe(ms(1500), S).render("en"), "replies take 1.5 s; interval 1 s; sampling every 2 s");
        assert_eq!(describe(ms(2100), S).render("en"), "replies take 2.1 s; interval 1 s; sampling every 3 s");
        assert_eq!(
            describe(ms(180), ms(100)).render("en"),
            "replies take 180 ms; interval 100 ms; sampling every 200 ms"
        );
    }

    #[test]
    fn one_change_when_it_starts_and_one_when_it_ends() {
        let mut w = OverrunWatch::default();
        assert_eq!(w.observe(ms(200), S), None);
        let started = w.observe(ms(1500), S);
        assert_eq!(
            started,
            Some(OverrunChange::Started(describe(Duration::from_millis(1500), Duration::from_secs(1))))
        );
        for _ in 0..20 {
            assert_eq!(w.observe(ms(1500), S), None);
        }
        // A good poll or two among slow ones is not a recovery.
        assert_eq!(w.observe(ms(200), S), None);
        assert_eq!(w.observe(ms(1500), S), None);
        assert!(w.active());
        assert_eq!(w.observe(ms(200), S), None);
        assert_eq!(w.observe(ms(200), S), None);
        let ended = w.observe(ms(200), S).unwrap();
        let OverrunChange::Ended(ended) = ended else { panic!("{ended:?}") };
        assert_eq!(ended.render("en"), "polls keep up again: replies take 200 ms; interval 1 s");
        assert_eq!(ended.render("de"), "Abfragen halten wieder Schritt: Antworten dauern 200 ms; Intervall 1 s");
        assert!(!w.active());
        assert_eq!(w.observe(ms(200), S), None);
    }
}
