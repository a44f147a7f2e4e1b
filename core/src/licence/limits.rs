//! The plan limits on what an agent holds (SPEC 7): instruments per agent,
//! channels per instrument, alarm rules and calculation channels (an
//! agent's configuration is one measurement group). Checked where things
//! are created: the agent's configuration at start, the window's forms.
//!
//! A refusal names the plan, the limit, the count and how to lift it, and
//! changes nothing: what already exists stays, even above a limit (after a
//! downgrade or an expiry); only growing further is refused.

use meterdeck_wire::i18n::Text;
use serde::Serialize;

use super::{Gateway, Limits, Plan};

/// The limits on one agent: its account plan's, with a gateway's Remote
/// plan taking over instruments and channels per instrument.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentLimits {
    pub plan: Plan,
    pub limits: Limits,
    pub gateway: Option<Gateway>,
}

/// The things an agent's configuration holds, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Counts {
    pub instruments: u32,
    /// Channels of each instrument (its configured channels), by id.
    pub channels: Vec<(String, u32)>,
    pub alarm_rules: u32,
    pub calcs: u32,
    /// Dashboard panels on all boards (kept in the store, not the configuration).
    #[serde(default)]
    pub panels: u32,
}

impl Counts {
    fn channels_of(&self, instrument: &str) -> u32 {
        self.channels.iter().find(|(i, _)| i == instrument).map_or(0, |(_, n)| *n)
    }
}

/// Which limit (the field name in [`Limits`], as the cloud's refusals name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Instruments,
    ChannelsPerInstrument,
    AlarmRules,
    Calcs,
    Panels,
}

impl Limit {
    pub const ALL: [Limit; 5] =
        [Limit::Instruments, Limit::ChannelsPerInstrument, Limit::AlarmRules, Limit::Calcs, Limit::Panels];

    /// The count of this limit in `c` (channels: the largest instrument's).
    pub fn used(self, c: &Counts) -> u32 {
        match self {
            Limit::Instruments => c.instruments,
            Limit::ChannelsPerInstrument => c.channels.iter().map(|(_, n)| *n).max().unwrap_or(0),
            Limit::AlarmRules => c.alarm_rules,
            Limit::Calcs => c.calcs,
            Limit::Panels => c.panels,
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Limit::Instruments => "instruments_per_agent",
            Limit::ChannelsPerInstrument => "channels_per_instrument",
            Limit::AlarmRules => "alarms_per_group",
            Limit::Calcs => "calcs_per_group",
            Limit::Panels => "panels_per_group",
        }
    }

    /// What the limit counts, "instruments per agent" (keys `err-limit-noun-*`).
    fn noun(self) -> Text {
        Text::new(match self {
            Limit::Instruments => "err-limit-noun-instruments",
            Limit::ChannelsPerInstrument => "err-limit-noun-channels",
            Limit::AlarmRules => "err-limit-noun-alarms",
            Limit::Calcs => "err-limit-noun-calcs",
            Limit::Panels => "err-limit-noun-panels",
        })
    }
}

/// A creation refused by a plan limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    /// `Free`, `Standard`, `Pro`, `Remote Basic`, `Remote Pro`.
    pub plan: String,
    /// The field name in [`Limits`] (`instruments_per_agent`, ...).
    pub limit: &'static str,
    pub max: u32,
    /// What exists now (the change asked for more).
    pub count: u32,
    /// The instrument, for channels per instrument.
    pub instrument: Option<String>,
    /// The refusal (keys `err-limit-*` in locales/*/core.ftl).
    pub message: Text,
}

impl LimitError {
    /// The refusal as a translatable message; English is the Display.
    pub fn text(&self) -> Text {
        self.message.clone()
    }
}

impl AgentLimits {
    pub fn of(plan: Plan, limits: Limits, gateway: Option<Gateway>) -> AgentLimits {
        AgentLimits { plan, limits, gateway }
    }

    /// The plan that sets `limit` and its maximum.
    pub fn max(&self, limit: Limit) -> (String, u32) {
        match (limit, &self.gateway) {
            (Limit::Instruments, Some(g)) => (g.plan.name().to_string(), g.limits.instruments),
            (Limit::ChannelsPerInstrument, Some(g)) => (g.plan.name().to_string(), g.limits.channels_per_instrument),
            (Limit::Instruments, None) => (self.plan.name().to_string(), self.limits.instruments_per_agent),
            (Limit::ChannelsPerInstrument, None) => (self.plan.name().to_string(), self.limits.channels_per_instrument),
            (Limit::AlarmRules, _) => (self.plan.name().to_string(), self.limits.alarms_per_group),
            (Limit::Calcs, _) => (self.plan.name().to_string(), self.limits.calcs_per_group),
            (Limit::Panels, _) => (self.plan.name().to_string(), self.limits.panels_per_group),
        }
    }

    fn refusal(&self, limit: Limit, count: u32, wanted: u32, instrument: Option<&str>) -> LimitError {
        let (plan, max) = self.max(limit);
        let what = match instrument {
            Some(i) => Text::new("err-limit-instrument-has").arg("instrument", i),
            None => Text::new("err-limit-agent-has"),
        }
        .arg("count", count.to_string())
        .arg("wanted", wanted.to_string());
        let lift = match (limit, &self.gateway, self.plan) {
            (Limit::Instruments | Limit::ChannelsPerInstrument, Some(g), _) if g.plan == super::RemotePlan::Pro => {
                "err-limit-lift-remote-pro"
            }
            (Limit::Instruments | Limit::ChannelsPerInstrument, Some(_), _) => "err-limit-lift-remote-card",
            (Limit::Instruments, None, Plan::Standard | Plan::Pro) => "err-limit-lift-gateway",
            (_, _, Plan::Pro) => "err-limit-lift-pro",
            (_, _, Plan::Standard) => "err-limit-lift-standard",
            (_, _, Plan::Free) => "err-limit-lift-free",
        };
        let message = Text::new("err-limit")
            .arg("plan", &plan)
            .arg("max", max.to_string())
            .text_arg("noun", limit.noun())
            .text_arg("what", what)
            .text_arg("lift", Text::new(lift));
        LimitError { plan, limit: limit.field(), max, count, instrument: instrument.map(str::to_string), message }
    }

    /// Checks `new` (the configuration about to be applied) against the
    /// limits. `before`: what exists now (None: nothing). A count above its
    /// limit is refused only if it grew: what exists stays.
    pub fn check(&self, new: &Counts, before: Option<&Counts>) -> Result<(), LimitError> {
        let base = Counts::default();
        let before = before.unwrap_or(&base);
        let over = |limit: Limit, now: u32, was: u32| now > self.max(limit).1 && now > was;
        if over(Limit::Instruments, new.instruments, before.instruments) {
            return Err(self.refusal(Limit::Instruments, before.instruments, new.instruments, None));
        }
        for (inst, n) in &new.channels {
            let was = before.channels_of(inst);
            if over(Limit::ChannelsPerInstrument, *n, was) {
                return Err(self.refusal(Limit::ChannelsPerInstrument, was, *n, Some(inst)));
            }
        }
        if over(Limit::AlarmRules, new.alarm_rules, before.alarm_rules) {
            return Err(self.refusal(Limit::AlarmRules, before.alarm_rules, new.alarm_rules, None));
        }
        if over(Limit::Calcs, new.calcs, before.calcs) {
            return Err(self.refusal(Limit::Calcs, before.calcs, new.calcs, None));
        }
        if over(Limit::Panels, new.panels, before.panels) {
            return Err(self.refusal(Limit::Panels, before.panels, new.panels, None));
        }
        Ok(())
    }
}

/// Settings key of the counts last accepted on this agent (what exists).
pub const ACCEPTED_KEY: &str = "licence.accepted_counts";
