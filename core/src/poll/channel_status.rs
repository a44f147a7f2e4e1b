//! Which of a connected instrument's channels fail and why, from the
//! `problem` its driver gives each failed reading: the instrument's status
//! reason names them while they fail, and one event says when a channel
//! starts failing (not one per poll).

use std::collections::BTreeMap;

use meterdeck_drivers::Reading;
use meterdeck_wire::i18n::Text;

/// Channels named in the status reason at most; the rest are counted.
const NAMED: usize = 3;

/// The failing channels of the current session, with their reasons.
#[derive(Debug, Default)]
pub(crate) struct ChannelStatus {
    failing: BTreeMap<String, String>,
}

/// What one poll changed.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ChannelChange {
    /// The new status reason (`Some(None)`: no channel fails any more).
    pub reason: Option<Option<Text>>,
    /// One message per channel that started failing.
    pub started: Vec<Text>,
    /// Channels that answer again.
    pub recovered: Vec<String>,
}

impl ChannelStatus {
    /// Notes one poll's readings; says what changed since the last poll.
    pub fn update(&mut self, readings: &[Reading]) -> ChannelChange {
        let now: BTreeMap<String, String> =
            readings.iter().filter_map(|r| Some((r.channel.clone(), r.problem.clone()?))).collect();
        if now == self.failing {
            return ChannelChange::default();
        }
        let started = now
            .iter()
            .filter(|(channel, _)| !self.failing.contains_key(*channel))
            .map(|(channel, problem)| Text::new("evt.channelFails").arg("channel", channel).arg("problem", problem))
            .collect();
        let recovered = self.failing.keys().filter(|c| !now.contains_key(*c)).cloned().collect();
        self.failing = now;
        ChannelChange { reason: Some(self.reason()), started, recovered }
    }

    /// `channel `x` fails: why`, or `2 channels fail: `x`: why; `y`: why`.
    pub fn reason(&self) -> Option<Text> {
        match self.failing.len() {
            0 => None,
            1 => self
                .failing
                .iter()
                .next()
                .map(|(c, p)| Text::new("evt.channelFails").arg("channel", c).arg("problem", p)),
            n => {
                // The instruments' own words are quoted as they came.
                let named: Vec<String> = self.failing.iter().take(NAMED).map(|(c, p)| format!("`{c}`: {p}")).collect();
                let mut text = Text::new("evt.channelsFail").arg("n", n.to_string()).arg("list", named.join("; "));
                if n > NAMED {
                    text = Text::new("evt.andMore").text_arg("text", text).arg("n", (n - NAMED).to_string());
                }
                Some(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meterdeck_drivers::Value;

    /// The reason change as the English status shows it.
    fn en(c: &ChannelChange) -> Option<Option<String>> {
        c.reason.as_ref().map(|r| r.as_ref().map(|t| t.render("en")))
    }

    fn ok(c: &str) -> Reading {
        Reading::new(c, Value::Number(1.0))
    }

    #[test]
    fn a_failing_channel_is_reported_once_and_its_recovery_clears_the_reason() {
        let mut s = ChannelStatus::default();
        assert_eq!(s.update(&[ok("a"), ok("b")]), ChannelChange::default());
        let c = s.update(&[Reading::failed("a", "refused"), ok("b")]);
        assert_eq!(en(&c), Some(Some("channel `a` fails: refused".into())));
        assert_eq!(c.started.iter().map(|t| t.render("en")).collect::<Vec<_>>(), ["channel `a` fails: refused"]);
        // The same failure on the next polls changes nothing.
        for _ in 0..5 {
            assert_eq!(s.update(&[Reading::failed("a", "refused"), ok("b")]), ChannelChange::default());
        }
        // A new reason updates the status but is no new start.
        let c = s.update(&[Reading::failed("a", "no reply"), ok("b")]);
        assert_eq!(en(&c), Some(Some("channel `a` fails: no reply".into())));
        assert!(c.started.is_empty());
        let c = s.update(&[ok("a"), ok("b")]);
        assert_eq!(c.reason, Some(None));
        assert_eq!(c.recovered, vec!["a".to_string()]);
    }

    #[test]
    fn many_failing_channels_are_counted() {
        let mut s = ChannelStatus::default();
        let readings: Vec<Reading> = ["a", "b", "c", "d", "e"].iter().map(|c| Reading::failed(*c, "x")).collect();
        let c = s.update(&readings);
        assert_eq!(en(&c), Some(Some("5 channels fail: `a`: x; `b`: x; `c`: x; and 2 more".into())));
        let de = c.reason.unwrap().unwrap().render("de");
        assert_eq!(de, "5 Kanäle fallen aus: `a`: x; `b`: x; `c`: x; und 2 weitere");
        assert_eq!(c.started.len(), 5);
    }
}
