//! The demo's live view: the latest value of every channel, refreshed from
//! the agent's live updates and printed once a second.

use std::collections::BTreeMap;

use meterdeck_core::agent::LiveUpdate;
use meterdeck_core::export::format_value;
use meterdeck_core::fmt::format_age;
use meterdeck_core::model::{TimeMs, Value};

use crate::table::render_table;

#[derive(Default)]
pub struct LiveTable {
    values: BTreeMap<(String, String), (Option<String>, Value, TimeMs)>,
    states: BTreeMap<String, (String, Option<String>)>,
}

impl LiveTable {
    pub fn apply(&mut self, update: &LiveUpdate) {
        match update {
            LiveUpdate::Readings { instrument, t, values } => {
                for v in values {
                    self.values.insert((instrument.clone(), v.channel.clone()), (v.unit.clone(), v.value, *t));
                }
            }
            LiveUpdate::State { instrument, state, reason } => {
                let reason = reason.as_ref().map(|r| r.render("en"));
                self.states.insert(instrument.clone(), (state.as_str().to_string(), reason));
            }
            LiveUpdate::Event(_)
            | LiveUpdate::FastMonitor { .. }
            | LiveUpdate::Alarm(_)
            | LiveUpdate::Notification(_) => {}
        }
    }

    /// Instrument states, then one row per channel: instrument, channel,
    /// value, unit, age.
    pub fn render(&self, now: TimeMs) -> String {
        let states = self
            .states
            .iter()
            .map(|(id, (state, reason))| {
                format!("{id}: {state}{}", reason.as_ref().map_or(String::new(), |r| format!(" ({r})")))
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let rows = self
            .values
            .iter()
            .map(|((inst, ch), (unit, value, t))| {
                vec![
                    inst.clone(),
                    ch.clone(),
                    format_value(*value),
                    unit.clone().unwrap_or_default(),
                    format_age(now - t),
                ]
            })
            .collect();
        format!("{states}\n{}", render_table(&["INSTRUMENT", "CHANNEL", "VALUE", "UNIT", "AGE"], rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meterdeck_core::agent::LiveValue;
    use meterdeck_core::model::{ConnState, SpecialKind};

    #[test]
    fn renders_latest_values() {
        let mut t = LiveTable::default();
        t.apply(&LiveUpdate::State { instrument: "log".into(), state: ConnState::Connected, reason: None });
        t.apply(&LiveUpdate::Readings {
            instrument: "log".into(),
            t: 1000,
            values: vec![
                LiveValue { channel: "CH1_1".into(), unit: Some("V".into()), value: Value::Number(1.25) },
                LiveValue { channel: "CH1_2".into(), unit: None, value: Value::Special(SpecialKind::OverRange) },
            ],
        });
        let text = t.render(3000);
        assert!(text.starts_with("log: connected\n"), "{text}");
        assert!(text.contains("log         CH1_1    1.25        V     2.0s"), "{text}");
        assert!(text.contains("over-range"), "{text}");
    }
}
