//! Remote instrument settings (add, edit, remove, poll interval): the
//! command is turned into the same [`InstrumentEdit`] the window's
//! Instruments editor makes, and handed to whoever owns the agent's
//! configuration file (the window's `Desk`, or `meterdeck-agent run`),
//! which validates it as a local edit, rewrites the file atomically and
//! restarts the agent with it. A remote change is a local change.

use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_wire::remote::Action;
use tokio::sync::{mpsc, oneshot};

/// One change of the instrument list, as the window's editor and remote
/// commands both make it.
#[derive(Clone, Debug, PartialEq)]
pub enum InstrumentEdit {
    /// Add `config`, or put it in place of `replace_id`.
    Save {
        config: Box<InstrumentConfig>,
        replace_id: Option<String>,
    },
    Remove {
        id: String,
    },
    /// The instrument's own poll interval.
    PollInterval {
        id: String,
        interval: Duration,
    },
}

impl InstrumentEdit {
    /// The instrument the edit is about (the new id when saving).
    pub fn instrument(&self) -> &str {
        match self {
            InstrumentEdit::Save { config, .. } => &config.id,
            InstrumentEdit::Remove { id } | InstrumentEdit::PollInterval { id, .. } => id,
        }
    }
}

/// Why the configuration's owner refused an edit: a reply code
/// (`invalid`, `unknown_instrument`, `limit`, `not_saved`) and the same
/// message the window shows for the same mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditRefused {
    pub code: &'static str,
    pub message: String,
}

/// The owner's answer: refused, or saved. When saved the owner waits (a
/// few seconds at most) for the `Sender` to be dropped, which the command
/// handler does once its reply and journal entry are on their way, and
/// then restarts the agent with the new file.
pub type EditAnswer = Result<oneshot::Sender<()>, EditRefused>;

/// An edit asked of the configuration's owner.
pub struct EditRequest {
    pub edit: InstrumentEdit,
    pub answer: oneshot::Sender<EditAnswer>,
}

/// Where the agent sends edit requests (`AgentOptions::config_edits`).
pub type ConfigEdits = mpsc::Sender<EditRequest>;

/// The edit a settings command asks for; `None` for the other actions.
/// Errors name the field at fault.
pub fn edit_of(action: &Action) -> Option<Result<InstrumentEdit, String>> {
    Some(match action {
        Action::AddInstrument { config } => {
            instrument_config(config, None).map(|config| InstrumentEdit::Save { config, replace_id: None })
        }
        Action::EditInstrument { instrument, config } => instrument_config(config, Some(instrument))
            .map(|config| InstrumentEdit::Save { config, replace_id: Some(instrument.clone()) }),
        Action::RemoveInstrument { instrument } => Ok(InstrumentEdit::Remove { id: instrument.clone() }),
        Action::PollInterval { instrument, seconds } => {
            Ok(InstrumentEdit::PollInterval { id: instrument.clone(), interval: Duration::from_secs(*seconds) })
        }
        _ => return None,
    })
}

/// One `[[instrument]]` entry from its JSON form; an edit without `id`
/// keeps the instrument's.
fn instrument_config(json: &serde_json::Value, keep_id: Option<&str>) -> Result<Box<InstrumentConfig>, String> {
    let mut json = json.clone();
    if let (Some(id), Some(map)) = (keep_id, json.as_object_mut()) {
        map.entry("id").or_insert_with(|| id.into());
    }
    serde_json::from_value(json).map_err(|e| format!("config: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_become_the_editors_edits() {
        let add = Action::AddInstrument {
            config: json!({"id": "dmm", "family": "scpi", "transport": {"kind": "tcp", "host": "127.0.0.1", "port": 5025}}),
        };
        match edit_of(&add).unwrap().unwrap() {
            InstrumentEdit::Save { config, replace_id: None } => assert_eq!(config.id, "dmm"),
            e => panic!("{e:?}"),
        }
        // An edit keeps the id unless it names another.
        let edit = Action::EditInstrument {
            instrument: "dmm".into(),
            config: json!({"family": "scpi", "name": "Bench DMM", "transport": {"kind": "tcp", "host": "10.0.0.2", "port": 5025}}),
        };
        match edit_of(&edit).unwrap().unwrap() {
            InstrumentEdit::Save { config, replace_id: Some(r) } => {
                assert_eq!((config.id.as_str(), r.as_str(), config.name.as_deref()), ("dmm", "dmm", Some("Bench DMM")))
            }
            e => panic!("{e:?}"),
        }
        let poll = Action::PollInterval { instrument: "dmm".into(), seconds: 5 };
        assert_eq!(
            edit_of(&poll).unwrap().unwrap(),
            InstrumentEdit::PollInterval { id: "dmm".into(), interval: Duration::from_secs(5) }
        );
        assert_eq!(
            edit_of(&Action::RemoveInstrument { instrument: "dmm".into() }).unwrap().unwrap(),
            InstrumentEdit::Remove { id: "dmm".into() }
        );
        assert!(edit_of(&Action::Start { instrument: "dmm".into() }).is_none());
        // Bad input names the field.
        let bad = Action::AddInstrument { config: json!({"id": "x", "family": "nope", "transport": {"kind": "tcp"}}) };
        let e = edit_of(&bad).unwrap().unwrap_err();
        assert!(e.starts_with("config: ") && e.contains("nope"), "{e}");
        let bad = Action::AddInstrument { config: json!({"id": "x", "family": "scpi"}) };
        let e = edit_of(&bad).unwrap().unwrap_err();
        assert!(e.contains("transport"), "{e}");
    }
}
