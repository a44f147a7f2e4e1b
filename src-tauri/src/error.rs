//! What a command answers on failure. The window receives it as the text
//! it shows (a field error as JSON `{field, message, position?}`, so the
//! form can put it beside the field): the same wire format as before, but
//! the commands keep the typed error until it is serialized.

use meterdeck_core::cloudlink::CloudError;
use meterdeck_core::config::SectionError;
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

fn window_language() -> String {
    LANGUAGE.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// A field refusal with its message in the window's language (the field
/// path as it is): what the forms' live checks answer.
pub fn in_window_language(f: SectionError) -> SectionError {
    SectionError { message: f.message_in(&window_language()), ..f }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lang = window_language();
        match self {
            CommandError::Desk(DeskError::Field(f)) => {
                let f = in_window_language(f.clone());
                s.serialize_str(&serde_json::to_string(&f).unwrap_or_else(|_| f.to_string()))
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

    /// The tests that set the process-wide language take turns.
    static LANGUAGE_SET: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn field_json(e: DeskError) -> serde_json::Value {
        let json = serde_json::to_value(CommandError::from(e)).unwrap();
        serde_json::from_str(json.as_str().unwrap()).unwrap()
    }

    #[test]
    fn field_errors_go_as_json_the_rest_as_text() {
        let _turn = LANGUAGE_SET.lock().unwrap_or_else(|p| p.into_inner());
        let field = SectionError::new("alarm[hot].value", "must be a number");
        let json = serde_json::to_value(CommandError::from(DeskError::Field(field))).unwrap();
        let inner: serde_json::Value = serde_json::from_str(json.as_str().unwrap()).unwrap();
        assert_eq!(inner["field"], "alarm[hot].value");
        let json = serde_json::to_value(CommandError::from(DeskError::Invalid(meterdeck_wire::i18n::Text::plain(
            "no such thing",
        ))))
        .unwrap();
        assert_eq!(json, serde_json::json!("no such thing"));
    }

    #[test]
    fn field_errors_go_in_the_windows_language() {
        let _turn = LANGUAGE_SET.lock().unwrap_or_else(|p| p.into_inner());
        let rule = serde_json::json!({"id": "hot", "kind": "threshold", "channel": "a/b", "op": ">"});
        let rule = meterdeck_core::alarm::AlarmRule::from_json(&rule).unwrap();
        let e = || DeskError::Field(rule.validate().unwrap_err().into());
        let calc = serde_json::json!({"id": "p", "expr": "A +", "inputs": {"A": "a/b"}});
        let calc: meterdeck_core::calc::CalcConfig = serde_json::from_value(calc).unwrap();
        let c = || DeskError::Field(calc.validate().unwrap_err().into());
        set_language("de");
        let (de, calc_de) = (field_json(e()), field_json(c()));
        let plain_de = field_json(DeskError::Field(SectionError::new("x", "as worded")));
        set_language("ja");
        let ja = field_json(e());
        set_language("");
        let en = field_json(e());
        assert_eq!(de["field"], "alarm[hot].value");
        assert_eq!(de["message"], "Operator \">\" braucht `value`");
        assert_eq!(ja["message"], "演算子 \">\" には `value` が必要です");
        assert_eq!(en["message"], "op \">\" needs `value`");
        assert_eq!(en["message"], e().to_string().trim_start_matches("alarm[hot].value: "));
        assert_eq!((calc_de["field"].as_str(), calc_de["position"].as_u64()), (Some("calc[p].expr"), Some(4)));
        assert_eq!(
            calc_de["message"],
            "Spalte 4: Zahl, Variable, `(` oder `-` nach `A +` erwartet, gefunden: das Ende"
        );
        assert_eq!(plain_de["message"], "as worded");
    }
}
