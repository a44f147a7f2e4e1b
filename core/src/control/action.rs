//! What can be asked of an instrument, and carrying it out on its driver.

use meterdeck_drivers::control::{PushReport, Setting, SettingDiff, push_profile};
use meterdeck_drivers::{Driver, DriverError};
use serde::{Deserialize, Serialize};

/// One control command for an instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ControlAction {
    Start,
    Stop,
    /// Stop, then start a new measurement.
    Restart,
    /// Set the instrument's clock to the agent's now (UTC).
    SetClock,
    /// Read the settings a profile covers (for saving, or a diff).
    ReadSettings,
    /// Push these settings: what differs is written, read back, verified.
    PushProfile {
        settings: Vec<Setting>,
    },
}

impl ControlAction {
    /// [`ControlAction::label`] as a translatable message (its English is the label).
    pub fn label_text(&self) -> meterdeck_wire::i18n::Text {
        let key = match self {
            ControlAction::Start => "err-action-start",
            ControlAction::Stop => "err-action-stop",
            ControlAction::Restart => "err-action-restart",
            ControlAction::SetClock => "err-action-set-clock",
            ControlAction::ReadSettings => "err-action-read-settings",
            ControlAction::PushProfile { .. } => "err-action-push-profile",
        };
        meterdeck_wire::i18n::Text::new(key)
    }

    /// What the command is called in messages ("start measurement").
    pub fn label(&self) -> &'static str {
        match self {
            ControlAction::Start => "start measurement",
            ControlAction::Stop => "stop measurement",
            ControlAction::Restart => "restart measurement",
            ControlAction::SetClock => "set clock",
            ControlAction::ReadSettings => "read settings",
            ControlAction::PushProfile { .. } => "push profile",
        }
    }

    /// Commands that change the instrument (worth an event).
    pub fn changes_instrument(&self) -> bool {
        !matches!(self, ControlAction::ReadSettings)
    }
}

/// The result of a control command that the instrument carried out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ControlOutcome {
    pub instrument: String,
    /// One line for a person: "measurement started", "clock set to ...".
    pub message: String,
    /// Settings read (read settings) or read back (push profile).
    pub settings: Vec<Setting>,
    /// Settings a push changed, with their old values.
    pub changed: Vec<SettingDiff>,
}

/// Carries out `action` on a connected driver.
pub async fn run_action(
    instrument: &str,
    driver: &mut dyn Driver,
    action: &ControlAction,
) -> Result<ControlOutcome, DriverError> {
    let outcome = |message: String| ControlOutcome {
        instrument: instrument.to_string(),
        message,
        settings: Vec::new(),
        changed: Vec::new(),
    };
    Ok(match action {
        ControlAction::Start => {
            driver.start().await?;
            outcome("measurement started".into())
        }
        ControlAction::Stop => {
            driver.stop().await?;
            outcome("measurement stopped".into())
        }
        ControlAction::Restart => {
            driver.restart().await?;
            outcome("measurement restarted".into())
        }
        ControlAction::SetClock => {
            let now = chrono::Utc::now();
            driver.set_clock(now).await?;
            outcome(format!("clock set to {} UTC", now.format("%Y-%m-%d %H:%M:%S")))
        }
        ControlAction::ReadSettings => {
            let settings = driver.read_settings().await?;
            ControlOutcome { settings, ..outcome(String::new()) }.with_count_message("read")
        }
        ControlAction::PushProfile { settings } => {
            let PushReport { changed, read_back } = push_profile(driver, settings).await?;
            let message = if changed.is_empty() {
                "profile already in place: nothing to change".to_string()
            } else {
                let keys: Vec<&str> = changed.iter().map(|d| d.key.as_str()).collect();
                format!("profile pushed and verified: {} changed ({})", changed.len(), keys.join(", "))
            };
            ControlOutcome { settings: read_back, changed, ..outcome(message) }
        }
    })
}

impl ControlOutcome {
    fn with_count_message(mut self, verb: &str) -> ControlOutcome {
        self.message = format!("{} settings {verb}", self.settings.len());
        self
    }
}
