//! What a command answers on failure. The window receives it as the text
//! it shows (a field error as JSON `{field, message, position?}`, so the
//! form can put it beside the field): the same wire format as before, but
//! the commands keep the typed error until it is serialized.

use meterdeck_core::cloudlink::CloudError;
use meterdeck_core::desk::DeskError;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The blocking task running the command failed (it panicked).
    #[error("internal error: {0}")]
    Task(#[from] tauri::Error),
}

/// The window's language (the settings'): the common errors are sent in it.
static LANGUAGE: std::sync::RwLock<String> = std::sync::RwLock::new(String::new());

/// Set at start and when the settings are saved.
pub fn set_language(lang: &str) {
    *LANGUAGE.write().unwrap_or_else(|p| p.into_inner()) = lang.to_string();
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lang = LANGUAGE.read().unwrap_or_else(|p| p.into_inner()).clone();
        match self {
            CommandError::Desk(DeskError::Field(f)) => {
                s.serialize_str(&serde_json::to_string(f).unwrap_or_else(|_| f.to_string()))
            }
            CommandError::Desk(e) => s.serialize_str(&e.text_in(&lang)),
            CommandError::Cloud(e) => s.serialize_str(&e.text_in(&lang)),
            e => s.serialize_str(&e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meterdeck_core::config::SectionError;

    #[test]
    fn field_errors_go_as_json_the_rest_as_text() {
        let field =
            SectionError { field: "alarm[hot].value".into(), message: "must be a number".into(), position: None };
        let json = serde_json::to_value(CommandError::from(DeskError::Field(field))).unwrap();
        let inner: serde_json::Value = serde_json::from_str(json.as_str().unwrap()).unwrap();
        assert_eq!(inner["field"], "alarm[hot].value");
        let json = serde_json::to_value(CommandError::from(DeskError::Invalid(meterdeck_wire::i18n::Text::plain(
            "no such thing",
        ))))
        .unwrap();
        assert_eq!(json, serde_json::json!("no such thing"));
    }
}
