//! Errors of the desktop service. Each Display is a sentence a person can
//! act on; the window shows it where the user acted.

use std::path::PathBuf;

use meterdeck_wire::i18n::Text;

use crate::agent::AgentError;
use crate::config::ConfigError;
use crate::export::ExportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A value the user entered is not acceptable; the message names the
    /// field (keys `err-desk-*` and the refusing module's, locales/*/core.ftl).
    #[error("{0}")]
    Invalid(Text),
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
    /// An instrument, port or radio failed: what it said is quoted.
    #[error("{0}")]
    Device(Text),
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
    /// The message in `lang` (locales/*/core.ftl); the causes the errors
    /// quote (OS, store and network errors) stay as they were said. English
    /// is the Display text.
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
            DeskError::Invalid(t) | DeskError::Device(t) => t.render(lang),
            DeskError::Export(e) => e.text().render(lang),
            DeskError::Store(e) => e.text().render(lang),
            DeskError::Limit(e) => e.text().render(lang),
            DeskError::Dashboard(e) => e.text().render(lang),
            DeskError::Agent(e) => agent_text(e, lang),
            DeskError::Config(e) => e.text_in(lang),
            DeskError::Field(e) => e.text_in(lang),
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
        AgentError::Cloud(c) => format!("[cloud]: {}", c.text.render(lang)),
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
        assert_eq!(DeskError::Invalid(Text::plain("x")).text_in("de"), "x");
    }

    /// Refusals of the desktop service and of the modules it passes on
    /// (instrument configuration, reports, dashboards, export, plan limits,
    /// licences): English reads exactly as the code worded them before they
    /// were keyed, German and Japanese are translated.
    #[test]
    fn service_refusals_read_as_before_in_english_and_are_translated() {
        use crate::licence::Plan;
        use crate::licence::limits::{AgentLimits, Counts};
        use meterdeck_drivers::config::InvalidConfig;
        use meterdeck_drivers::registry::FieldError;
        let counts = |instruments: u32| Counts { instruments, ..Counts::default() };
        let limit =
            AgentLimits::of(Plan::Free, Plan::Free.limits(), None).check(&counts(4), Some(&counts(3))).unwrap_err();
        let board_file = crate::dashboard::parse_import("{}", &|_| true).unwrap_err();
        let hosts = meterdeck_drivers::discovery::parse_host_range("10.0.0.1/40").unwrap_err();
        let cases: Vec<(DeskError, &str)> = vec![
            (
                super::super::control::button_action("jump").unwrap_err(),
                "unknown control command `jump` (one of start, stop, restart, set-clock)",
            ),
            (
                super::super::settings::check_timezone("Mars/../Base", std::path::Path::new("/nonexistent"))
                    .unwrap_err(),
                "time zone `Mars/../Base` is not an IANA time zone name (for example `Europe/Berlin`, `Asia/Tokyo`, `UTC`)",
            ),
            (
                DeskError::Invalid(
                    Text::new("err-desk-control-held")
                        .text_arg("action", crate::control::ControlAction::SetClock.label_text())
                        .arg("instrument", "dmm")
                        .arg("holder", "ana")
                        .arg("since", "12:00"),
                ),
                "set clock refused: the console of `dmm` is held by ana since 12:00; enter that operator name, \
                 or release the console first",
            ),
            (
                DeskError::Invalid(Text::new("err-desk-no-upload-cloud")),
                "no cloud to upload to: the config needs a [cloud] section with `api`, and the agent's secret in the \
                 keychain (meterdeck-agent cloud login)",
            ),
            (
                DeskError::Invalid(Text::new("err-desk-no-settings").arg("instrument", "dmm")),
                "`dmm` lists no settings to save (add `settings = [...]` to the instrument)",
            ),
            (
                DeskError::Invalid(
                    Text::new("err-desk-hosts").arg("hosts", "10.0.0.1/40").text_arg("reason", hosts.text()),
                ),
                "hosts `10.0.0.1/40`: `10.0.0.1/40`: the prefix length must be 0..32",
            ),
            (
                DeskError::Invalid(
                    Text::new("err-desk-toml")
                        .text_arg("what", Text::new("err-desk-toml-alarms"))
                        .arg("reason", "unsupported None value"),
                ),
                "cannot write the alarm rules as TOML: unsupported None value",
            ),
            (
                DeskError::Invalid(InvalidConfig::DataBits { id: "dmm".into(), got: 9 }.text()),
                "instrument `dmm`: `transport.data_bits` must be 5..8, got 9",
            ),
            (
                DeskError::Invalid(
                    InvalidConfig::Family {
                        id: "pm".into(),
                        problem: FieldError::Channel {
                            channel: "v1".into(),
                            problem: Box::new(FieldError::Range { key: "unit_id", min: 1, max: 247, got: "0".into() }),
                        },
                    }
                    .text(),
                ),
                "instrument `pm`: channel `v1`: `unit_id` must be 1..247, got 0",
            ),
            (
                DeskError::Invalid(
                    InvalidConfig::Setting {
                        id: "log".into(),
                        key: ":RATE?".into(),
                        problem: "must be one setting header such as `:SAMPle:RATE` (no `?`, `;` or spaces)",
                    }
                    .text(),
                ),
                "instrument `log`: `settings` entry `:RATE?`: must be one setting header such as `:SAMPle:RATE` \
                 (no `?`, `;` or spaces)",
            ),
            (
                DeskError::Limit(limit),
                "the Free plan allows 3 instruments per agent; this agent has 3 and the change asks for 4: remove some, \
                 or apply a Standard or Pro licence card to the account (see `meterdeck-agent licence show` or the \
                 Licence screen)",
            ),
            (
                DeskError::Dashboard(board_file),
                "dashboard file: not a Meterdeck dashboard (no `meterdeck_dashboard` key)",
            ),
            (
                DeskError::Dashboard(crate::dashboard::DashboardError::UnknownPanel { board: 2, panel: 5 }),
                "board 2 has no panel 5",
            ),
            (
                DeskError::Export(ExportError::BadRange { from: 5, to: 5 }),
                "empty time range: from 5 is not before to 5",
            ),
            (DeskError::Export(ExportError::NoChannels), "no channels to export"),
            (crate::report::saved::SavedError::Unknown("weekly".into()).into(), "no report template named \"weekly\""),
            (
                crate::report::runner::RunError::Template {
                    name: "weekly".into(),
                    message: crate::report::range::RangeError::Empty { from: 2, to: 1 }.text(),
                }
                .into(),
                "template \"weekly\": the fixed range must end after it starts (from 2 ms, to 1 ms)",
            ),
            (
                DeskError::Invalid(
                    meterdeck_wire::licence::LicenceError::OtherAccount { licence: "acme".into(), ours: "beta".into() }
                        .text(),
                ),
                "the licence belongs to account \"acme\", not to \"beta\"; fetch this account's licence",
            ),
            (
                DeskError::Invalid(crate::licence::Trust::from_text("nope", None).unwrap_err()),
                "licence key: a licence key starts with `md-ed25519:`",
            ),
            (DeskError::Dashboard(crate::dashboard::check_name("  ").unwrap_err()), "enter a name for the board"),
            (
                DeskError::Store(StoreError::SchemaMismatch { path: "/d/s.db".into(), found: 3, expected: 5 }),
                "store /d/s.db has schema version 3, expected 5; open it once read-write (start the agent) to migrate it",
            ),
        ];
        for (e, english) in &cases {
            assert_eq!(e.to_string(), *english, "the English of {e:?}");
            assert_eq!(e.text_in("en"), *english);
            for lang in ["de", "ja"] {
                let t = e.text_in(lang);
                assert_ne!(t, *english, "{e} in {lang}");
                assert!(!t.contains("{ $") && !t.contains("err-"), "a placeholder or key left in {t:?}");
            }
        }
        assert_eq!(
            cases[0].0.text_in("de"),
            "unbekannter Steuerbefehl `jump` (einer von start, stop, restart, set-clock)"
        );
        assert_eq!(
            cases[10].0.text_in("de"),
            "der Plan Free erlaubt 3 Messgeräte pro Agent; dieser Agent hat 3 und die Änderung verlangt 4: entfernen \
             Sie einige oder wenden Sie eine Standard- oder Pro-Lizenzkarte auf das Konto an (siehe `meterdeck-agent \
             licence show` oder die Lizenzseite)"
        );
        assert_eq!(cases[7].0.text_in("ja"), "計測器 `dmm`: `transport.data_bits` は 5..8 にしてください (指定値 9)");
        assert_eq!(
            cases[11].0.text_in("ja-JP"),
            "ダッシュボードファイル: Meterdeck のダッシュボードではありません (`meterdeck_dashboard` キーがありません)"
        );
        // The Display of the keyed error types is their English text.
        let config = InvalidConfig::StopBits { id: "dmm".into(), got: 3 };
        assert_eq!(config.text().to_string(), config.to_string());
        let profile = crate::control::ProfileError::Name("a b".into());
        assert_eq!(profile.text().to_string(), profile.to_string());
        assert_ne!(profile.text().render("de"), profile.to_string());
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

    #[test]
    fn device_and_cloud_section_refusals_are_translated() {
        use meterdeck_wire::i18n::Text;
        let failed = DeskError::Device(
            Text::new("err-device-action-failed")
                .text_arg("action", crate::control::ControlAction::Start.label_text())
                .text_arg("reason", Text::plain("no answer")),
        );
        assert_eq!(failed.to_string(), "start measurement failed: no answer");
        assert_eq!(failed.text_in("en"), failed.to_string());
        assert_ne!(failed.text_in("de"), failed.to_string());
        let idn = DeskError::Device(Text::new("err-device-no-idn").arg("id", "dmm"));
        assert_eq!(idn.to_string(), "instrument `dmm` did not answer `*IDN?`");
        assert_eq!(idn.text_in("de"), "Messgerät `dmm` hat auf `*IDN?` nicht geantwortet");
        let user = DeskError::Field(crate::config::SectionError::keyed("user", Text::new("err-desk-enter-user"), None));
        assert_eq!(user.to_string(), "user: enter who you are (1-100 characters)");
        assert_eq!(user.text_in("ja"), "user: お名前を入力してください (1～100 文字)");
    }
}
