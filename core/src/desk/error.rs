//! Errors of the desktop service. Each Display is a sentence a person can
//! act on; the window shows it where the user acted.

use std::path::PathBuf;

use crate::agent::AgentError;
use crate::config::ConfigError;
use crate::export::ExportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A value the user entered is not acceptable; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("no instrument `{0}` is configured")]
    UnknownInstrument(String),
    #[error("no channel with id {0} is stored")]
    UnknownChannel(i64),
    /// The console of an instrument is held by another operator.
    #[error("held by {operator} since {since}")]
    ConsoleHeld { operator: String, since: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot start the simulator: {0}")]
    Simulator(String),
    #[error("{0}")]
    Device(String),
    /// A refused rule, calculation or destination: the field and why (the
    /// window shows it beside the field).
    #[error(transparent)]
    Field(#[from] crate::config::SectionError),
    /// Refused by a plan limit: names the plan, the limit, the count and
    /// how to lift it (the window shows it in the form).
    #[error(transparent)]
    Limit(#[from] crate::licence::LimitError),
    /// A refused dashboard edit or board file (the message names what is wrong).
    #[error(transparent)]
    Dashboard(#[from] crate::dashboard::DashboardError),
}

pub type DeskResult<T> = Result<T, DeskError>;

impl DeskError {
    /// The message in `lang` (locales/*/core.ftl) for the errors the window
    /// meets most; the rest, and the causes they quote (OS and network
    /// errors), stay as the code words them. English is the Display text.
    pub fn text_in(&self, lang: &str) -> String {
        let tr = |key: &str, args: &[(&str, &str)]| meterdeck_wire::i18n::tr(lang, key, args);
        match self {
            _ if meterdeck_wire::i18n::language(lang) == "en" => self.to_string(),
            DeskError::UnknownInstrument(id) => tr("err-unknown-instrument", &[("id", id)]),
            DeskError::UnknownChannel(id) => tr("err-unknown-channel", &[("id", &id.to_string())]),
            DeskError::ConsoleHeld { operator, since } => {
                tr("err-console-held", &[("operator", operator), ("since", since)])
            }
            DeskError::Write { path, source } => {
                tr("err-write", &[("path", &path.display().to_string()), ("reason", &source.to_string())])
            }
            DeskError::Simulator(reason) => tr("err-simulator", &[("reason", reason)]),
            DeskError::Agent(e) => agent_text(e, lang),
            DeskError::Config(e) => e.text_in(lang),
            DeskError::Field(e) => e.text_in(lang),
            e => e.to_string(),
        }
    }
}

/// The agent's refusals the window meets: an instrument's state or its
/// driver's error, and the alarm actions an operator takes.
fn agent_text(e: &AgentError, lang: &str) -> String {
    use crate::alarm::lifecycle::AlarmError;
    use crate::alarm::stage::CommandError;
    let tr = |key: &str, args: &[(&str, &str)]| meterdeck_wire::i18n::tr(lang, key, args);
    let q = |id: &str| format!("{id:?}");
    match e {
        AgentError::UnknownInstrument(id) => tr("err-agent-unknown-instrument", &[("id", id)]),
        AgentError::NotConnected { id } => tr("err-agent-not-connected", &[("id", id)]),
        AgentError::Driver { id, source } => {
            tr("err-agent-instrument", &[("id", id), ("reason", &source.text().render(lang))])
        }
        AgentError::Stopped => tr("err-agent-stopped", &[]),
        AgentError::Alarm(CommandError::NoNotification(id)) => tr("err-no-notification", &[("id", id)]),
        AgentError::Alarm(CommandError::Alarm(a)) => match a {
            AlarmError::UnknownAlarm(id) => tr("err-alarm-unknown", &[("id", &q(id))]),
            AlarmError::NotUnacknowledged { alarm_id, state } => {
                tr("err-alarm-not-unacked", &[("id", &q(alarm_id)), ("state", state)])
            }
            AlarmError::NotShelved(id) => tr("err-alarm-not-shelved", &[("id", &q(id))]),
            AlarmError::ShelveInPast { alarm_id, until, now } => tr(
                "err-alarm-shelve-past",
                &[("id", &q(alarm_id)), ("until", &until.to_string()), ("now", &now.to_string())],
            ),
            AlarmError::AlreadyOutOfService(id) => tr("err-alarm-out-of-service", &[("id", &q(id))]),
            AlarmError::AlreadyInService(id) => tr("err-alarm-in-service", &[("id", &q(id))]),
            AlarmError::NoUser(action) => tr("err-alarm-no-user", &[("action", action)]),
        },
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_the_display_text_and_german_is_translated() {
        let errors = [
            DeskError::UnknownInstrument("dmm".into()),
            DeskError::UnknownChannel(7),
            DeskError::ConsoleHeld { operator: "ana".into(), since: "12:00".into() },
            DeskError::Write { path: "/x/y.csv".into(), source: std::io::Error::other("disk full") },
            DeskError::Simulator("port in use".into()),
        ];
        let keys = ["err-unknown-instrument", "err-unknown-channel", "err-console-held", "err-write", "err-simulator"];
        let args: [&[(&str, &str)]; 5] = [
            &[("id", "dmm")],
            &[("id", "7")],
            &[("operator", "ana"), ("since", "12:00")],
            &[("path", "/x/y.csv"), ("reason", "disk full")],
            &[("reason", "port in use")],
        ];
        for ((e, key), args) in errors.iter().zip(keys).zip(args) {
            // The English file reads exactly as the code.
            assert_eq!(meterdeck_wire::i18n::tr("en", key, args), e.to_string());
            assert_eq!(e.text_in("en"), e.to_string());
            assert_ne!(e.text_in("de"), e.to_string(), "{key} in German");
        }
        assert_eq!(errors[0].text_in("de"), "kein Messgerät `dmm` ist eingerichtet");
        assert_eq!(DeskError::Invalid("x".into()).text_in("de"), "x");
    }

    #[test]
    fn agent_and_alarm_refusals_read_as_the_code_in_english_and_translated_in_german() {
        use crate::alarm::lifecycle::AlarmError;
        use crate::alarm::stage::CommandError;
        let alarm = |a: AlarmError| DeskError::Agent(AgentError::Alarm(CommandError::Alarm(a)));
        let errors = [
            DeskError::Agent(AgentError::UnknownInstrument("dmm".into())),
            DeskError::Agent(AgentError::NotConnected { id: "dmm".into() }),
            DeskError::Agent(AgentError::Stopped),
            DeskError::Agent(AgentError::Alarm(CommandError::NoNotification("n1".into()))),
            alarm(AlarmError::UnknownAlarm("hot".into())),
            alarm(AlarmError::NotUnacknowledged { alarm_id: "hot".into(), state: "ACKED".into() }),
            alarm(AlarmError::NotShelved("hot".into())),
            alarm(AlarmError::ShelveInPast { alarm_id: "hot".into(), until: 1, now: 2 }),
            alarm(AlarmError::AlreadyOutOfService("hot".into())),
            alarm(AlarmError::AlreadyInService("hot".into())),
            alarm(AlarmError::NoUser("acknowledge")),
            DeskError::Agent(AgentError::Driver {
                id: "dmm".into(),
                source: meterdeck_drivers::DriverError::Timeout {
                    target: "10.0.0.5:5025".into(),
                    timeout: std::time::Duration::from_secs(2),
                },
            }),
        ];
        for e in &errors {
            let DeskError::Agent(a) = e else { unreachable!() };
            assert_eq!(agent_text(a, "en"), e.to_string(), "the English file reads as the code");
            let de = e.text_in("de");
            assert_ne!(de, e.to_string(), "{e} in German");
            assert!(!de.contains('{') && !de.contains('$'), "a placeholder left in {de:?}");
        }
        assert_eq!(errors[5].text_in("de"), "Alarm \"hot\" ist nicht unquittiert (Zustand ACKED)");
    }

    #[test]
    fn config_and_field_refusals_are_translated() {
        let config = crate::config::AgentConfig::parse("[agent]\nblock_samples = 1\n", "a.toml").unwrap_err();
        let rule = serde_json::json!({"id": "hot", "kind": "threshold", "channel": "a/b", "op": ">"});
        let rule = crate::alarm::AlarmRule::from_json(&rule).unwrap().validate().unwrap_err();
        let errors = [DeskError::Config(config), DeskError::Field(rule.into())];
        for e in &errors {
            assert_eq!(e.text_in("en"), e.to_string());
            assert_ne!(e.text_in("de"), e.to_string(), "{e} in German");
        }
        assert_eq!(errors[0].text_in("de"), "a.toml:2:1: `agent.block_samples` muss 16..65536 sein, angegeben: 1");
        assert_eq!(errors[1].text_in("de"), "alarm[hot].value: Operator \">\" braucht `value`");
        assert_eq!(errors[1].text_in("ja"), "alarm[hot].value: 演算子 \">\" には `value` が必要です");
    }
}
