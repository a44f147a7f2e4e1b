//! ISA-18.2 alarm states: NORM, UNACK (active, unacknowledged), ACKED
//! (active, acknowledged), RTNUN (returned, unacknowledged), with shelved
//! and out-of-service overlays. The overlays silence notifications only: the
//! process condition is still tracked, so unshelving shows the truth.

use serde::{Deserialize, Serialize};

use crate::model::{TimeMs, Value};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    #[default]
    #[serde(rename = "NORM")]
    Normal,
    #[serde(rename = "UNACK")]
    Unack,
    #[serde(rename = "ACKED")]
    Acked,
    #[serde(rename = "RTNUN")]
    RtnUn,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Normal => "NORM",
            Phase::Unack => "UNACK",
            Phase::Acked => "ACKED",
            Phase::RtnUn => "RTNUN",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        [Phase::Normal, Phase::Unack, Phase::Acked, Phase::RtnUn].into_iter().find(|p| p.as_str() == s)
    }

    /// The (filtered) process condition holds.
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Unack | Phase::Acked)
    }

    pub fn is_unacked(self) -> bool {
        matches!(self, Phase::Unack | Phase::RtnUn)
    }
}

/// Journal actions; a [`Transition`](super::Transition) uses the first eight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Raise,
    Return,
    Ack,
    Shelve,
    Unshelve,
    OutOfService,
    InService,
    Reminder,
    NotifyOk,
    NotifyFailed,
    NotifyRetry,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Raise,
        Action::Return,
        Action::Ack,
        Action::Shelve,
        Action::Unshelve,
        Action::OutOfService,
        Action::InService,
        Action::Reminder,
        Action::NotifyOk,
        Action::NotifyFailed,
        Action::NotifyRetry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Raise => "raise",
            Action::Return => "return",
            Action::Ack => "ack",
            Action::Shelve => "shelve",
            Action::Unshelve => "unshelve",
            Action::OutOfService => "out_of_service",
            Action::InService => "in_service",
            Action::Reminder => "reminder",
            Action::NotifyOk => "notify_ok",
            Action::NotifyFailed => "notify_failed",
            Action::NotifyRetry => "notify_retry",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a transition asks the notifier to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    Raise,
    Return,
    Reminder,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AckInfo {
    pub user: String,
    pub comment: Option<String>,
    pub t: TimeMs,
}

/// One alarm's persistent state (what survives a restart).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    pub alarm_id: String,
    pub rule_id: String,
    /// Hash of the rule's condition when this state was made; a different
    /// rule on restore resets the state (see `engine`).
    pub fingerprint: u64,
    pub phase: Phase,
    /// Last change of phase or overlay.
    pub since: TimeMs,
    pub raised_at: Option<TimeMs>,
    /// Channel values at the last raise (threshold, special).
    pub raised_values: Vec<(String, Value)>,
    /// Text at the last raise (connection reason, storage free space).
    pub raised_text: Option<String>,
    pub ack: Option<AckInfo>,
    pub shelved_until: Option<TimeMs>,
    pub out_of_service: bool,
    /// Last notification (raise, reminder, re-announce): reminders count from here.
    pub last_notified: Option<TimeMs>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlarmError {
    #[error("unknown alarm {0:?}")]
    UnknownAlarm(String),
    #[error("alarm {alarm_id:?} is not unacknowledged (state {state})")]
    NotUnacknowledged { alarm_id: String, state: String },
    #[error("alarm {0:?} is not shelved")]
    NotShelved(String),
    #[error("alarm {alarm_id:?}: shelve until {until} is not after now ({now})")]
    ShelveInPast { alarm_id: String, until: TimeMs, now: TimeMs },
    #[error("alarm {0:?} is already out of service")]
    AlreadyOutOfService(String),
    #[error("alarm {0:?} is already in service")]
    AlreadyInService(String),
    #[error("a user name is required to {0}")]
    NoUser(&'static str),
}

/// A state change before the engine adds the rule's details.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: Action,
    pub t: TimeMs,
    pub from: String,
    pub to: String,
    pub user: Option<String>,
    pub comment: Option<String>,
    pub notify: Option<Notify>,
}

fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn user(u: &str, what: &'static str) -> Result<String, AlarmError> {
    text(u).ok_or(AlarmError::NoUser(what))
}

impl AlarmState {
    pub fn new(alarm_id: String, rule_id: String, fingerprint: u64, t: TimeMs) -> AlarmState {
        AlarmState {
            alarm_id,
            rule_id,
            fingerprint,
            phase: Phase::Normal,
            since: t,
            raised_at: None,
            raised_values: Vec::new(),
            raised_text: None,
            ack: None,
            shelved_until: None,
            out_of_service: false,
            last_notified: None,
        }
    }

    pub fn is_shelved(&self) -> bool {
        self.shelved_until.is_some()
    }

    /// Shelved or out of service: no notifications.
    pub fn is_suppressed(&self) -> bool {
        self.shelved_until.is_some() || self.out_of_service
    }

    /// `UNACK`, `UNACK/SHLVD`, `NORM/OOS`, ...
    pub fn label(&self) -> String {
        let mut s = self.phase.as_str().to_string();
        if self.is_shelved() {
            s.push_str("/SHLVD");
        }
        if self.out_of_service {
            s.push_str("/OOS");
        }
        s
    }

    fn change(
        &mut self,
        action: Action,
        t: TimeMs,
        user: Option<String>,
        comment: Option<String>,
        f: impl FnOnce(&mut AlarmState) -> Option<Notify>,
    ) -> Change {
        let from = self.label();
        let notify = f(self);
        if action != Action::Reminder {
            self.since = t;
        }
        Change { action, t, from, to: self.label(), user, comment, notify }
    }

    /// The filtered condition began: to UNACK (a new occurrence needs a new ack).
    pub fn raise(&mut self, t: TimeMs, values: Vec<(String, Value)>, text: Option<String>) -> Change {
        self.change(Action::Raise, t, None, None, |s| {
            s.phase = Phase::Unack;
            s.raised_at = Some(t);
            s.raised_values = values;
            s.raised_text = text;
            s.ack = None;
            s.last_notified = Some(t);
            (!s.is_suppressed()).then_some(Notify::Raise)
        })
    }

    /// The filtered condition ended: UNACK -> RTNUN, ACKED -> NORM.
    pub fn clear(&mut self, t: TimeMs, notify_on_return: bool) -> Change {
        self.change(Action::Return, t, None, None, |s| {
            s.phase = if s.phase == Phase::Acked { Phase::Normal } else { Phase::RtnUn };
            (notify_on_return && !s.is_suppressed()).then_some(Notify::Return)
        })
    }

    /// UNACK -> ACKED, RTNUN -> NORM.
    pub fn ack(&mut self, who: &str, comment: &str, t: TimeMs) -> Result<Change, AlarmError> {
        if !self.phase.is_unacked() {
            return Err(AlarmError::NotUnacknowledged { alarm_id: self.alarm_id.clone(), state: self.label() });
        }
        let who = user(who, "acknowledge")?;
        let comment = text(comment);
        let ack = AckInfo { user: who.clone(), comment: comment.clone(), t };
        Ok(self.change(Action::Ack, t, Some(who), comment, |s| {
            s.phase = if s.phase == Phase::Unack { Phase::Acked } else { Phase::Normal };
            s.ack = Some(ack);
            None
        }))
    }

    /// Shelve (or re-shelve to a new time) until `until`.
    pub fn shelve(&mut self, until: TimeMs, who: &str, comment: &str, now: TimeMs) -> Result<Change, AlarmError> {
        if until <= now {
            return Err(AlarmError::ShelveInPast { alarm_id: self.alarm_id.clone(), until, now });
        }
        let who = user(who, "shelve")?;
        Ok(self.change(Action::Shelve, now, Some(who), text(comment), |s| {
            s.shelved_until = Some(until);
            None
        }))
    }

    /// Manual (`who` given) or automatic unshelve. A still unacknowledged
    /// active alarm is announced again.
    pub fn unshelve(&mut self, who: Option<&str>, comment: &str, t: TimeMs) -> Result<Change, AlarmError> {
        if !self.is_shelved() {
            return Err(AlarmError::NotShelved(self.alarm_id.clone()));
        }
        let who = who.map(|u| user(u, "unshelve")).transpose()?;
        Ok(self.change(Action::Unshelve, t, who, text(comment), |s| {
            s.shelved_until = None;
            s.reannounce(t)
        }))
    }

    pub fn set_out_of_service(&mut self, on: bool, who: &str, comment: &str, t: TimeMs) -> Result<Change, AlarmError> {
        match (on, self.out_of_service) {
            (true, true) => return Err(AlarmError::AlreadyOutOfService(self.alarm_id.clone())),
            (false, false) => return Err(AlarmError::AlreadyInService(self.alarm_id.clone())),
            _ => {}
        }
        let who = user(who, if on { "take an alarm out of service" } else { "return an alarm to service" })?;
        let action = if on { Action::OutOfService } else { Action::InService };
        Ok(self.change(action, t, Some(who), text(comment), |s| {
            s.out_of_service = on;
            if on { None } else { s.reannounce(t) }
        }))
    }

    fn reannounce(&mut self, t: TimeMs) -> Option<Notify> {
        if self.phase == Phase::Unack && !self.is_suppressed() {
            self.last_notified = Some(t);
            Some(Notify::Raise)
        } else {
            None
        }
    }

    /// A reminder is due: unacknowledged, not silenced, `every` since the last notification.
    pub fn reminder_due(&self, every: Option<i64>, now: TimeMs) -> bool {
        match (every, self.last_notified) {
            (Some(every), Some(last)) => {
                self.phase.is_unacked() && !self.is_suppressed() && now.saturating_sub(last) >= every
            }
            _ => false,
        }
    }

    pub fn remind(&mut self, now: TimeMs) -> Change {
        self.change(Action::Reminder, now, None, None, |s| {
            s.last_notified = Some(now);
            Some(Notify::Reminder)
        })
    }

    /// Back to NORM after the rule changed; overlays (an operator's choice) stay.
    pub fn reset(&mut self, t: TimeMs, why: &str) -> Option<Change> {
        if self.phase == Phase::Normal {
            return None;
        }
        Some(self.change(Action::Return, t, None, Some(why.to_string()), |s| {
            s.phase = Phase::Normal;
            None
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st() -> AlarmState {
        AlarmState::new("a".into(), "a".into(), 0, 0)
    }

    #[test]
    fn isa_cycle_ack_then_return() {
        let mut s = st();
        let c = s.raise(10, vec![], None);
        assert_eq!((c.from.as_str(), c.to.as_str(), c.notify), ("NORM", "UNACK", Some(Notify::Raise)));
        let c = s.ack("ann", " seen ", 20).unwrap();
        assert_eq!((c.to.as_str(), c.comment.as_deref(), c.user.as_deref()), ("ACKED", Some("seen"), Some("ann")));
        assert_eq!(
            s.ack("ann", "", 21).unwrap_err(),
            AlarmError::NotUnacknowledged { alarm_id: "a".into(), state: "ACKED".into() }
        );
        let c = s.clear(30, false);
        assert_eq!((c.to.as_str(), c.notify), ("NORM", None));
        assert_eq!(s.since, 30);
    }

    #[test]
    fn isa_cycle_return_then_ack() {
        let mut s = st();
        s.raise(10, vec![], None);
        let c = s.clear(20, true);
        assert_eq!((c.to.as_str(), c.notify), ("RTNUN", Some(Notify::Return)));
        assert!(s.reminder_due(Some(5), 25));
        let c = s.raise(30, vec![], None);
        assert_eq!(c.from, "RTNUN");
        s.clear(40, true);
        assert_eq!(s.ack("", "", 50).unwrap_err(), AlarmError::NoUser("acknowledge"));
        assert_eq!(s.ack("bob", "", 50).unwrap().to, "NORM");
        assert!(!s.reminder_due(Some(5), 100));
    }

    #[test]
    fn shelve_and_out_of_service_silence_but_track() {
        let mut s = st();
        s.shelve(100, "ann", "noisy", 0).unwrap();
        assert!(s.shelve(0, "ann", "", 0).is_err());
        let c = s.raise(10, vec![], None);
        assert_eq!((c.to.as_str(), c.notify), ("UNACK/SHLVD", None));
        assert!(!s.reminder_due(Some(1), 50));
        let c = s.unshelve(None, "shelve time ended", 100).unwrap();
        assert_eq!((c.to.as_str(), c.notify, c.user), ("UNACK", Some(Notify::Raise), None));
        assert!(s.unshelve(Some("ann"), "", 101).is_err());
        s.set_out_of_service(true, "ann", "maintenance", 110).unwrap();
        assert!(s.set_out_of_service(true, "ann", "", 111).is_err());
        assert_eq!(s.clear(120, true).notify, None);
        assert_eq!(s.label(), "RTNUN/OOS");
        let c = s.set_out_of_service(false, "ann", "", 130).unwrap();
        assert_eq!((c.action, c.notify), (Action::InService, None));
    }

    #[test]
    fn reminders_count_from_the_last_notification() {
        let mut s = st();
        s.raise(0, vec![], None);
        assert!(!s.reminder_due(Some(60_000), 59_999));
        assert!(s.reminder_due(Some(60_000), 60_000));
        let c = s.remind(60_000);
        assert_eq!((c.action, c.notify, s.since), (Action::Reminder, Some(Notify::Reminder), 0));
        assert!(!s.reminder_due(Some(60_000), 119_999));
        assert!(!s.reminder_due(None, 1_000_000));
    }

    #[test]
    fn reset_keeps_overlays() {
        let mut s = st();
        s.raise(0, vec![], None);
        s.set_out_of_service(true, "ann", "", 1).unwrap();
        let c = s.reset(2, "rule changed").unwrap();
        assert_eq!((c.from.as_str(), c.to.as_str()), ("UNACK/OOS", "NORM/OOS"));
        assert!(s.reset(3, "again").is_none());
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
