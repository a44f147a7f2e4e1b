//! The Instruments screen's control buttons and settings profiles. A
//! command goes to the instrument's task in the running agent (between two
//! polls); while another operator holds the instrument's console the
//! command is refused naming them, as the console itself is. The console
//! holders are also published in the store's settings, so that
//! `meterdeck-agent control` refuses the instruments someone operates here.

use meterdeck_drivers::control::{SettingDiff, diff};

use super::{Desk, DeskError, DeskResult};
use crate::agent::STORE_PARTS;
use crate::config::STORE_FILE;
use crate::control::profile::check_name;
use crate::control::{
    CONSOLE_HOLDS_KEY, ControlAction, ControlOutcome, Profile, ProfileError, load_profile, profiles, save_profile,
};
use crate::model::{Text, now_ms};
use crate::store::{Store, StoreOptions};

fn profile_error(e: ProfileError) -> DeskError {
    match e {
        ProfileError::Store(e) => DeskError::Store(e),
        e => DeskError::Invalid(e.text()),
    }
}

/// The window's control buttons by name (`start`, `stop`, `restart`,
/// `set-clock`); profiles have their own methods.
pub fn button_action(name: &str) -> DeskResult<ControlAction> {
    match name.trim() {
        "start" => Ok(ControlAction::Start),
        "stop" => Ok(ControlAction::Stop),
        "restart" => Ok(ControlAction::Restart),
        "set-clock" => Ok(ControlAction::SetClock),
        other => Err(DeskError::Invalid(Text::new("err-desk-unknown-control").arg("name", other))),
    }
}

impl Desk {
    /// Carries out a control command for `operator` (may be empty while
    /// nobody holds the instrument's console).
    pub async fn control(&self, instrument: &str, operator: &str, action: ControlAction) -> DeskResult<ControlOutcome> {
        self.instrument(instrument)?;
        let label = action.label_text();
        if let Some((holder, since)) = self.console_holder(instrument)
            && holder != operator.trim()
        {
            return Err(DeskError::Invalid(
                Text::new("err-desk-control-held")
                    .text_arg("action", label.clone())
                    .arg("instrument", instrument)
                    .arg("holder", holder)
                    .arg("since", crate::fmt::format_time(since)),
            ));
        }
        let agent = self.agent.read().await;
        let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
        agent.control_instrument(instrument, action).await.map_err(|e| {
            let reason = match &e {
                crate::agent::AgentError::Driver { id, source } => {
                    Text::new("err-agent-instrument").arg("id", id).text_arg("reason", source.text())
                }
                other => Text::plain(other.to_string()),
            };
            DeskError::Device(
                Text::new("err-device-action-failed").text_arg("action", label).text_arg("reason", reason),
            )
        })
    }

    /// A control button (`start`, `stop`, `restart`, `set-clock`).
    pub async fn control_button(&self, instrument: &str, operator: &str, button: &str) -> DeskResult<ControlOutcome> {
        self.control(instrument, operator, button_action(button)?).await
    }

    /// The instrument's saved profiles.
    pub fn profiles(&self, instrument: &str) -> DeskResult<Vec<Profile>> {
        self.instrument(instrument)?;
        profiles(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument).map_err(profile_error)
    }

    /// Reads the instrument's settings and saves them as profile `name`.
    pub async fn profile_save(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<Profile> {
        let inst = self.instrument(instrument)?;
        let name = name.trim();
        check_name(name).map_err(profile_error)?;
        let settings = self.control(instrument, operator, ControlAction::ReadSettings).await?.settings;
        if settings.is_empty() {
            return Err(DeskError::Invalid(Text::new("err-desk-no-settings").arg("instrument", instrument)));
        }
        let profile = Profile {
            name: name.to_string(),
            instrument: instrument.to_string(),
            family: inst.family.id().to_string(),
            saved_at: now_ms(),
            settings,
        };
        let mut store = self.writable_store()?;
        save_profile(&mut store, &profile).map_err(profile_error)?;
        Ok(profile)
    }

    /// Profile `name` against the instrument's current settings (the diff
    /// shown before a push is confirmed).
    pub async fn profile_diff(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<Vec<SettingDiff>> {
        self.instrument(instrument)?;
        let profile = load_profile(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument, name.trim())
            .map_err(profile_error)?;
        let current = self.control(instrument, operator, ControlAction::ReadSettings).await?.settings;
        Ok(diff(&current, &profile.settings))
    }

    /// Pushes profile `name` (after the window's confirmation): what
    /// differs is written, read back and verified.
    pub async fn profile_push(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<ControlOutcome> {
        self.instrument(instrument)?;
        let profile = load_profile(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument, name.trim())
            .map_err(profile_error)?;
        self.control(instrument, operator, ControlAction::PushProfile { settings: profile.settings }).await
    }

    fn writable_store(&self) -> DeskResult<Store> {
        Ok(Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?)
    }

    /// Publishes who holds which console for the command line (see
    /// [`CONSOLE_HOLDS_KEY`]); a failure to write is logged, not the
    /// operator's problem.
    pub(super) fn publish_console_holds(&self) {
        let Some(holds) = self.consoles.lock().unwrap_or_else(|e| e.into_inner()).holds_to_publish(now_ms()) else {
            return;
        };
        let text = serde_json::to_string(&holds).unwrap_or_else(|_| "[]".into());
        if let Err(e) = self.writable_store().and_then(|mut s| Ok(s.set_setting(CONSOLE_HOLDS_KEY, &text)?)) {
            tracing::warn!("cannot publish the console holders for the command line: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::agent::AgentOptions;
    use crate::control::requests::console_hold;

    async fn demo_desk(dir: &std::path::Path) -> Desk {
        let opts = AgentOptions { demo_history: Duration::from_secs(60), ..AgentOptions::default() };
        Desk::open_with(&dir.join("data"), &dir.join("agent.toml"), true, opts).await.expect("demo desk opens")
    }

    /// The logger's run state and start count, as the simulator says.
    async fn logger_state(desk: &Desk) -> String {
        desk.raw(LOGGER, ":STAT?;:SIM:STAR?").await.unwrap().unwrap_or_default()
    }

    const LOGGER: &str = "hioki-logger-1";

    async fn connected(desk: &Desk) {
        for _ in 0..300 {
            if desk.raw(LOGGER, ":STAT?").await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{LOGGER} never connected");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn buttons_profiles_and_the_console_lock() {
        let dir = tempfile::tempdir().unwrap();
        let desk = demo_desk(dir.path()).await;
        connected(&desk).await;

        let out = desk.control_button(LOGGER, "", "stop").await.unwrap();
        assert_eq!(out.message, "measurement stopped");
        assert!(logger_state(&desk).await.starts_with("STOP;"));
        desk.control_button(LOGGER, "", "start").await.unwrap();
        assert!(logger_state(&desk).await.starts_with("RUN;1"));
        let err = desk.control_button(LOGGER, "", "launch").await.unwrap_err().to_string();
        assert!(err.contains("unknown control command `launch`"), "{err}");
        let err = desk.control_button("nope", "", "start").await.unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");

        // Profiles: saved from the instrument, diffed after a change, pushed back.
        let err = desk.profile_save(LOGGER, "", "a b").await.unwrap_err().to_string();
        assert!(err.contains("profile name"), "{err}");
        let p = desk.profile_save(LOGGER, "", "base").await.unwrap();
        assert!(!p.settings.is_empty());
        assert_eq!(desk.profiles(LOGGER).unwrap().len(), 1);
        desk.raw(LOGGER, ":SAMP:RATE 5").await.unwrap();
        let d = desk.profile_diff(LOGGER, "", "base").await.unwrap();
        let rate = d.iter().find(|d| d.key == ":SAMPle:RATE").unwrap();
        assert!(rate.changes && rate.current.as_deref() == Some("5"), "{d:?}");
        let out = desk.profile_push(LOGGER, "", "base").await.unwrap();
        assert!(out.message.contains(":SAMPle:RATE"), "{}", out.message);
        assert_eq!(desk.raw(LOGGER, ":SAMP:RATE?").await.unwrap().as_deref(), Some("1"));
        let err = desk.profile_diff(LOGGER, "", "nope").await.unwrap_err().to_string();
        assert!(err.contains("has no profile `nope` (saved: base)"), "{err}");

        // Someone holds the console: refused naming them; published for the command line.
        desk.console_acquire(LOGGER, "alice").unwrap();
        let err = desk.control_button(LOGGER, "bob", "stop").await.unwrap_err().to_string();
        assert!(err.starts_with("stop measurement refused: the console of `hioki-logger-1` is held by alice"), "{err}");
        assert!(logger_state(&desk).await.starts_with("RUN;"));
        desk.control_button(LOGGER, "alice", "restart").await.unwrap();
        let holds = desk.reader.lock().unwrap().setting(CONSOLE_HOLDS_KEY).unwrap();
        let hold = console_hold(holds.as_deref(), LOGGER, now_ms(), super::super::CONSOLE_IDLE_MS).unwrap();
        assert_eq!(hold.operator, "alice");
        desk.console_release(LOGGER, "alice").unwrap();
        let holds = desk.reader.lock().unwrap().setting(CONSOLE_HOLDS_KEY).unwrap();
        assert!(console_hold(holds.as_deref(), LOGGER, now_ms(), super::super::CONSOLE_IDLE_MS).is_none());
        desk.shutdown().await.unwrap();
    }
}
