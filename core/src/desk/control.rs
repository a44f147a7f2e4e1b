//! The Instruments screen's control buttons and settings profiles. A
//! command goes to the instrument's task in the running agent (between two
//! polls); while another operator holds the instrument's console the
//! command is refused naming them, as the console itself is.

use meterdeck_drivers::control::{SettingDiff, diff};

use super::{Desk, DeskError, DeskResult};
use crate::agent::STORE_PARTS;
use crate::config::STORE_FILE;
use crate::control::{ControlAction, ControlOutcome, Profile, ProfileError, load_profile, profiles, save_profile};
use crate::model::now_ms;
use crate::store::{Store, StoreOptions};

fn profile_error(e: ProfileError) -> DeskError {
    match e {
        ProfileError::Store(e) => DeskError::Store(e),
        e => DeskError::Invalid(e.to_string()),
    }
}

impl Desk {
    /// Carries out a control command for `operator`.
    pub async fn control(&self, instrument: &str, operator: &str, action: ControlAction) -> DeskResult<ControlOutcome> {
        self.instrument(instrument)?;
        if let Some((holder, since)) = self.console_holder(instrument)
            && holder != operator.trim()
        {
            return Err(DeskError::ConsoleHeld { operator: holder, since: crate::fmt::format_time(since) });
        }
        let agent = self.agent.read().await;
        let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
        Ok(agent.control_instrument(instrument, action).await?)
    }

    /// The instrument's saved profiles.
    pub fn profiles(&self, instrument: &str) -> DeskResult<Vec<Profile>> {
        self.instrument(instrument)?;
        profiles(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument).map_err(profile_error)
    }

    /// Reads the instrument's settings and saves them as profile `name`.
    pub async fn profile_save(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<Profile> {
        let inst = self.instrument(instrument)?;
        let settings = self.control(instrument, operator, ControlAction::ReadSettings).await?.settings;
        let profile = Profile {
            name: name.trim().to_string(),
            instrument: instrument.to_string(),
            family: inst.family.id().to_string(),
            saved_at: now_ms(),
            settings,
        };
        let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        save_profile(&mut store, &profile).map_err(profile_error)?;
        Ok(profile)
    }

    /// Profile `name` against the instrument's current settings (the diff
    /// shown before a push is confirmed).
    pub async fn profile_diff(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<Vec<SettingDiff>> {
        let profile = load_profile(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument, name)
            .map_err(profile_error)?;
        let current = self.control(instrument, operator, ControlAction::ReadSettings).await?.settings;
        Ok(diff(&current, &profile.settings))
    }

    /// Pushes profile `name` (after the window's confirmation): what
    /// differs is written, read back and verified.
    pub async fn profile_push(&self, instrument: &str, operator: &str, name: &str) -> DeskResult<ControlOutcome> {
        let profile = load_profile(&self.reader.lock().unwrap_or_else(|e| e.into_inner()), instrument, name)
            .map_err(profile_error)?;
        self.control(instrument, operator, ControlAction::PushProfile { settings: profile.settings }).await
    }
}
