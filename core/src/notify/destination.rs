//! `[[destination]]` entries: where notifications go. One flat shape for
//! TOML and the UI's JSON; which fields apply depends on `kind`, checked by
//! `validate` so errors name the field instead of a serde enum variant.

#[cfg(feature = "email")]
use lettre::message::Mailbox;
use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Desktop,
    Email,
    Webhook,
}

impl DestinationKind {
    /// What this kind is called and the cargo feature it needs, when this
    /// build of meterdeck-core was made without that feature.
    /// The refusal of a destination of this kind when [`missing_feature`](Self::missing_feature) names one.
    fn not_built_key(self) -> &'static str {
        match self {
            DestinationKind::Email => "form-dest-not-built-email",
            _ => "form-dest-not-built-desktop",
        }
    }

    pub fn missing_feature(self) -> Option<(&'static str, &'static str)> {
        match self {
            DestinationKind::Desktop if !cfg!(feature = "desktop-notify") => {
                Some(("desktop notifications", "desktop-notify"))
            }
            DestinationKind::Email if !cfg!(feature = "email") => Some(("email destinations", "email")),
            _ => None,
        }
    }
}

/// SMTP transport security: implicit TLS (usually port 465), STARTTLS
/// required (usually 587), or none (a local relay only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    Tls,
    Starttls,
    None,
}

/// Slack, Teams or generic JSON: the wire's, which the cloud posts too.
pub use meterdeck_wire::webhook::WebhookFormat;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub id: String,
    pub kind: DestinationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    // email
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Defaults by `security`: 465 (tls), 587 (starttls), 25 (none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Defaults to starttls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SmtpSecurity>,
    /// Its password is the keychain entry `smtp:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    // webhook (its URL is the keychain entry `webhook:<id>`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<WebhookFormat>,
}

/// A refused destination: which field and why (the UI shows it beside the field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DestError {
    pub field: String,
    /// `text` in English.
    pub message: String,
    /// The message in any language (locales/*/forms.ftl).
    #[serde(skip)]
    pub text: Text,
}

impl DestError {
    pub fn new(field: impl Into<String>, text: Text) -> DestError {
        DestError { field: field.into(), message: text.to_string(), text }
    }
}

fn err(field: &str, key: &str) -> DestError {
    DestError::new(field, Text::new(key))
}

pub(crate) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DestinationConfig {
    /// A desktop destination (handy default: "This computer").
    pub fn desktop(id: &str) -> DestinationConfig {
        DestinationConfig {
            id: id.to_string(),
            kind: DestinationKind::Desktop,
            name: None,
            host: None,
            port: None,
            security: None,
            username: None,
            from: None,
            to: Vec::new(),
            format: None,
        }
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn smtp_security(&self) -> SmtpSecurity {
        self.security.unwrap_or(SmtpSecurity::Starttls)
    }

    pub fn smtp_port(&self) -> u16 {
        self.port.unwrap_or(match self.smtp_security() {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::None => 25,
        })
    }

    pub fn validate(&self) -> Result<(), DestError> {
        if !valid_id(&self.id) {
            return Err(err("id", "form-dest-id"));
        }
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.len() > 200)
        {
            return Err(err("name", "form-dest-name"));
        }
        let email = self.kind == DestinationKind::Email;
        let webhook = self.kind == DestinationKind::Webhook;
        let only = |field: &str, set: bool, allowed: bool, key: &str| {
            if set && !allowed { Err(err(field, key)) } else { Ok(()) }
        };
        only("host", self.host.is_some(), email, "form-dest-only-email")?;
        only("port", self.port.is_some(), email, "form-dest-only-email")?;
        only("security", self.security.is_some(), email, "form-dest-only-email")?;
        only("username", self.username.is_some(), email, "form-dest-only-email")?;
        only("from", self.from.is_some(), email, "form-dest-only-email")?;
        only("to", !self.to.is_empty(), email, "form-dest-only-email")?;
        only("format", self.format.is_some(), webhook, "form-dest-only-webhook")?;
        if self.kind.missing_feature().is_some() {
            // English: as `not_in_this_build` words it (a test checks).
            return Err(err("kind", self.kind.not_built_key()));
        }
        match self.kind {
            DestinationKind::Desktop => {}
            #[cfg(feature = "email")]
            DestinationKind::Email => self.validate_email()?,
            #[cfg(not(feature = "email"))]
            DestinationKind::Email => {}
            DestinationKind::Webhook => {
                if self.format.is_none() {
                    return Err(err("format", "form-dest-webhook-format"));
                }
            }
        }
        Ok(())
    }

    #[cfg(feature = "email")]
    fn validate_email(&self) -> Result<(), DestError> {
        let host = self.host.as_deref().unwrap_or("");
        if host.trim().is_empty() {
            return Err(err("host", "form-dest-email-host"));
        }
        let ipv6 = host.parse::<std::net::Ipv6Addr>().is_ok();
        if host.len() > 253 || host.chars().any(|c| c.is_whitespace() || "/@".contains(c) || c == ':' && !ipv6) {
            return Err(DestError::new("host", Text::new("form-dest-bad-host").arg("host", format!("{host:?}"))));
        }
        if self.port == Some(0) {
            return Err(err("port", "form-dest-port"));
        }
        if let Some(u) = &self.username
            && u.trim().is_empty()
        {
            return Err(err("username", "form-dest-username"));
        }
        match &self.from {
            None => {
                return Err(err("from", "form-dest-email-from"));
            }
            Some(f) => {
                f.parse::<Mailbox>().map_err(|e| DestError::new("from", not_an_address(f, &e)))?;
            }
        }
        if self.to.is_empty() {
            return Err(err("to", "form-dest-email-to"));
        }
        for (i, t) in self.to.iter().enumerate() {
            t.parse::<Mailbox>().map_err(|e| DestError::new(format!("to[{i}]"), not_an_address(t, &e)))?;
        }
        Ok(())
    }
}

/// `address` is not one; `why` as the mail library words it.
#[cfg(feature = "email")]
fn not_an_address(address: &str, why: &dyn std::fmt::Display) -> Text {
    Text::new("form-dest-not-an-address").arg("address", format!("{address:?}")).arg("reason", why.to_string())
}

/// Checks every destination and that ids are unique; the field is
/// `destination[<index>].<field>`.
pub fn validate_all(dests: &[DestinationConfig]) -> Result<(), DestError> {
    let mut seen = std::collections::HashSet::new();
    for (i, d) in dests.iter().enumerate() {
        d.validate().map_err(|e| DestError::new(format!("destination[{i}].{}", e.field), e.text))?;
        if !seen.insert(d.id.as_str()) {
            let text = Text::new("form-dest-duplicate-id").arg("id", format!("{:?}", d.id));
            return Err(DestError::new(format!("destination[{i}].id"), text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        destination: Vec<DestinationConfig>,
    }

    const CONTRACT: &str = r#"
[[destination]]
id = "desk"
kind = "desktop"
name = "This computer"
[[destination]]
id = "ops-mail"
kind = "email"
host = "smtp.example.com"
port = 587
security = "starttls"
username = "alarms@example.com"
from = "Meterdeck <alarms@example.com>"
to = ["ops@example.com"]
[[destination]]
id = "ops-slack"
kind = "webhook"
format = "slack"
"#;

    fn parse(text: &str) -> Result<Vec<DestinationConfig>, String> {
        toml::from_str::<Doc>(text).map(|d| d.destination).map_err(|e| e.to_string())
    }

    #[cfg(all(feature = "email", feature = "desktop-notify"))]
    #[test]
    fn contract_example_parses_and_validates() {
        let d = parse(CONTRACT).unwrap();
        assert_eq!(d.len(), 3);
        validate_all(&d).unwrap();
        assert_eq!(d[1].smtp_port(), 587);
        assert_eq!(d[1].smtp_security(), SmtpSecurity::Starttls);
        assert_eq!(d[2].format, Some(WebhookFormat::Slack));
        assert_eq!(d[0].display_name(), "This computer");
    }

    #[test]
    fn json_round_trip_has_the_same_shape() {
        let d = parse(CONTRACT).unwrap();
        let json = serde_json::to_value(&d[1]).unwrap();
        assert_eq!(json["security"], "starttls");
        assert_eq!(json["to"][0], "ops@example.com");
        let back: DestinationConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, d[1]);
        assert!(serde_json::to_value(&d[0]).unwrap().get("to").is_none());
    }

    #[cfg(not(all(feature = "email", feature = "desktop-notify")))]
    #[test]
    fn kinds_this_build_lacks_are_refused_naming_the_feature() {
        for d in parse(CONTRACT).unwrap() {
            match d.kind.missing_feature() {
                Some((_, feature)) => {
                    let e = d.validate().unwrap_err();
                    assert_eq!(e.field, "kind", "{e}");
                    assert!(e.message.contains(&format!("cargo feature `{feature}`")), "{e}");
                }
                None => d.validate().unwrap(),
            }
        }
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let e = parse("[[destination]]\nid = \"a\"\nkind = \"desktop\"\nurl = \"https://x\"\n").unwrap_err();
        assert!(e.contains("unknown field `url`"), "{e}");
        let e = parse("[[destination]]\nid = \"a\"\nkind = \"pager\"\n").unwrap_err();
        assert!(e.contains("unknown variant `pager`"), "{e}");
        let e = parse("[[destination]]\nid = \"a\"\nkind = \"email\"\nsecurity = \"ssl\"\n").unwrap_err();
        assert!(e.contains("unknown variant `ssl`"), "{e}");
    }

    #[cfg(all(feature = "email", feature = "desktop-notify"))]
    #[test]
    fn bad_values_name_the_field() {
        let base = parse(CONTRACT).unwrap();
        let check = |f: &dyn Fn(&mut DestinationConfig), i: usize, field: &str| {
            let mut d = base[i].clone();
            f(&mut d);
            let e = d.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(!e.message.is_empty());
        };
        check(&|d| d.id = "a b".into(), 0, "id");
        check(&|d| d.id = String::new(), 0, "id");
        check(&|d| d.id = "x".repeat(65), 0, "id");
        check(&|d| d.host = Some("h".into()), 0, "host");
        check(&|d| d.format = Some(WebhookFormat::Json), 0, "format");
        check(&|d| d.host = None, 1, "host");
        check(&|d| d.host = Some("smtp.example.com:25".into()), 1, "host");
        check(&|d| d.port = Some(0), 1, "port");
        check(&|d| d.from = None, 1, "from");
        check(&|d| d.from = Some("not an address".into()), 1, "from");
        check(&|d| d.to = vec![], 1, "to");
        check(&|d| d.to = vec!["ops@example.com".into(), "nope".into()], 1, "to[1]");
        check(&|d| d.username = Some(" ".into()), 1, "username");
        check(&|d| d.format = None, 2, "format");
        check(&|d| d.to = vec!["a@b.c".into()], 2, "to");
        check(&|d| d.name = Some("".into()), 2, "name");
    }

    #[cfg(all(feature = "email", feature = "desktop-notify"))]
    #[test]
    fn duplicate_ids_are_refused() {
        let mut d = parse(CONTRACT).unwrap();
        d.push(DestinationConfig::desktop("desk"));
        let e = validate_all(&d).unwrap_err();
        assert_eq!(e.field, "destination[3].id");
        assert!(e.message.contains("duplicate"), "{e}");
        d[3].id = "desk2".into();
        d[2].format = None;
        assert_eq!(validate_all(&d).unwrap_err().field, "destination[2].format");
    }

    #[test]
    fn ports_default_by_security() {
        let mut d = parse(CONTRACT).unwrap().remove(1);
        d.port = None;
        d.security = Some(SmtpSecurity::Tls);
        assert_eq!(d.smtp_port(), 465);
        d.security = Some(SmtpSecurity::None);
        assert_eq!(d.smtp_port(), 25);
        d.security = None;
        assert_eq!(d.smtp_port(), 587);
    }

    #[test]
    fn refusals_read_as_before_in_english_and_are_translated() {
        let desk = DestinationConfig::desktop("desk");
        let with = |f: &dyn Fn(&mut DestinationConfig)| {
            let mut d = desk.clone();
            f(&mut d);
            d
        };
        let mut hook = with(&|d| d.kind = DestinationKind::Webhook);
        let errors = [
            with(&|d| d.id = "a b".into()).validate().unwrap_err(),
            with(&|d| d.name = Some(" ".into())).validate().unwrap_err(),
            with(&|d| d.host = Some("h".into())).validate().unwrap_err(),
            with(&|d| d.format = Some(WebhookFormat::Json)).validate().unwrap_err(),
            hook.validate().unwrap_err(),
            validate_all(&[desk.clone(), desk.clone()]).unwrap_err(),
        ];
        for e in &errors {
            assert_eq!(e.text.to_string(), e.message, "the English file reads as the code");
            let de = e.text.render("de");
            assert_ne!(de, e.message, "{e} in German");
            assert!(!de.contains('{') && !de.contains('$'), "a placeholder left in {de:?}");
        }
        assert_eq!(errors[2].message, "only for email destinations");
        assert_eq!(errors[2].text.render("de"), "nur für E-Mail-Ziele");
        assert_eq!(errors[5].to_string(), "destination[1].id: duplicate destination id \"desk\"");
        assert_eq!(errors[5].text.render("ja"), "通知先 ID \"desk\" が重複しています");
        // A build without a kind refuses it in the words of `not_in_this_build`.
        for (kind, what, feature) in [
            (DestinationKind::Email, "email destinations", "email"),
            (DestinationKind::Desktop, "desktop notifications", "desktop-notify"),
        ] {
            let text = Text::new(kind.not_built_key());
            assert_eq!(text.to_string(), crate::notify::not_in_this_build(what, feature));
            assert_ne!(text.render("de"), text.to_string());
        }
        hook.format = Some(WebhookFormat::Slack);
        hook.validate().unwrap();
    }

    #[cfg(feature = "email")]
    #[test]
    fn email_refusals_are_translated() {
        let mut d = DestinationConfig::desktop("m");
        d.kind = DestinationKind::Email;
        d.host = Some("smtp.example.com".into());
        d.from = Some("not an address".into());
        d.to = vec!["a@b.c".into()];
        let e = d.validate().unwrap_err();
        assert_eq!(e.text.to_string(), e.message);
        assert!(e.message.starts_with("\"not an address\" is not an email address: "), "{e}");
        assert!(e.text.render("de").starts_with("\"not an address\" ist keine E-Mail-Adresse: "), "{e}");
        d.from = None;
        let e = d.validate().unwrap_err();
        assert_eq!(e.text.to_string(), e.message);
        assert_eq!(e.text.render("de"), "für ein E-Mail-Ziel erforderlich, z. B. \"Meterdeck <alarms@example.com>\"");
    }
}
