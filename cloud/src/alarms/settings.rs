//! An account's alarm settings (issue 16): where the cloud sends its own
//! alarms (email to the account's admins and/or listed addresses; Slack,
//! Teams or generic JSON webhooks), how often it reminds until someone
//! acknowledges (minutes, 0 = never), and the language and time zone of
//! what is not written for one person (webhooks, listed addresses). Stored
//! sealed (`seal.rs`): a webhook URL is a credential, never returned whole
//! by the API ([`mask`]) and never logged.

use serde::{Deserialize, Serialize};

use super::seal::SealKey;
use crate::store::{Storage, TimeMs};
use meterdeck_wire::webhook::WebhookFormat;

pub const DEFAULT_REMIND_EVERY_MIN: u32 = 60;
pub const MAX_REMIND_EVERY_MIN: u32 = 7 * 24 * 60;
pub const MAX_DESTINATIONS: usize = 10;
pub const MAX_ADDRESSES: usize = 20;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_NAME_CHARS: usize = 80;

/// What a destination is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Email,
    Slack,
    Teams,
    Json,
}

impl DestinationKind {
    pub fn webhook(self) -> Option<WebhookFormat> {
        match self {
            DestinationKind::Email => None,
            DestinationKind::Slack => Some(WebhookFormat::Slack),
            DestinationKind::Teams => Some(WebhookFormat::Teams),
            DestinationKind::Json => Some(WebhookFormat::Json),
        }
    }
    fn parse(s: &str) -> Option<DestinationKind> {
        match s {
            "email" => Some(DestinationKind::Email),
            _ => WebhookFormat::parse(s).map(|f| match f {
                WebhookFormat::Slack => DestinationKind::Slack,
                WebhookFormat::Teams => DestinationKind::Teams,
                WebhookFormat::Json => DestinationKind::Json,
            }),
        }
    }
}

/// One destination as stored (the URL in clear only inside the sealed text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub id: String,
    pub kind: DestinationKind,
    #[serde(default)]
    pub name: Option<String>,
    /// Email: also every admin of the account (each in their language and zone).
    #[serde(default)]
    pub admins: bool,
    /// Email: these addresses (in the account's language and zone).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Webhooks: where to post.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub remind_every_min: u32,
    pub language: String,
    pub zone: String,
    pub destinations: Vec<Destination>,
}

impl Default for Settings {
    /// Mail to the admins (what the cloud always did), hourly reminders, English, UTC.
    fn default() -> Settings {
        Settings {
            remind_every_min: DEFAULT_REMIND_EVERY_MIN,
            language: "en".into(),
            zone: "UTC".into(),
            destinations: vec![Destination {
                id: "admins".into(),
                kind: DestinationKind::Email,
                name: None,
                admins: true,
                addresses: Vec::new(),
                url: None,
            }],
        }
    }
}

impl Settings {
    pub fn remind_every_ms(&self) -> Option<TimeMs> {
        (self.remind_every_min > 0).then(|| i64::from(self.remind_every_min) * 60_000)
    }
    pub fn lang(&self) -> &'static str {
        meterdeck_wire::i18n::language(&self.language)
    }
    pub fn tz(&self) -> chrono_tz::Tz {
        self.zone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }
}

/// The account's settings: the defaults when it set none, or when they
/// cannot be opened (logged: the admins still hear of alarms).
pub async fn load(store: &dyn Storage, key: Option<&SealKey>, account: &str) -> crate::store::Result<Settings> {
    let Some(sealed) = store.alarms().alarm_settings(account).await? else { return Ok(Settings::default()) };
    let opened = key
        .ok_or_else(|| "this process has no alarm secrets key".to_string())
        .and_then(|k| k.open(account, &sealed))
        .and_then(|b| serde_json::from_slice::<Settings>(&b).map_err(|e| format!("not alarm settings: {e}")));
    Ok(opened.unwrap_or_else(|e| {
        tracing::warn!(account, "alarm settings cannot be read ({e}); alarms go to the admins by mail");
        Settings::default()
    }))
}

pub async fn save(
    store: &dyn Storage,
    key: &SealKey,
    account: &str,
    s: &Settings,
    now: TimeMs,
) -> crate::store::Result<()> {
    let plain = serde_json::to_vec(s).unwrap_or_default();
    store.alarms().set_alarm_settings(account, &key.seal(account, &plain), now).await
}

/// A webhook URL as the API shows it: its scheme and host, never its path
/// or query (where the token is): `https://hooks.slack.com/…`.
pub fn mask(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "…".into(),
    }
}

/// A destination as the caller sends it (`PUT`): a webhook given without
/// `url` but with the `id` of a stored one of the same kind keeps its URL.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationInput {
    pub id: Option<String>,
    /// email | slack | teams | json
    pub kind: String,
    pub name: Option<String>,
    /// Email: also every admin of the account.
    #[serde(default)]
    pub admins: bool,
    /// Email: these addresses.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Webhooks: http(s) URL; left out to keep the stored one (same id).
    pub url: Option<String>,
}

/// The settings as the caller sends them.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Minutes between reminders until acknowledged (0: none; at most 10080).
    pub remind_every_min: u32,
    /// en | ja | de: the language of webhooks and listed addresses.
    pub language: String,
    /// IANA time zone of their times (e.g. Europe/Berlin).
    pub zone: String,
    #[schema(max_items = 10)]
    pub destinations: Vec<DestinationInput>,
}

/// A refused input: the field at fault and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

fn bad(field: &str, why: impl std::fmt::Display) -> Invalid {
    Invalid(format!("{field}: {why}"))
}

fn email_ok(a: &str) -> bool {
    a.parse::<lettre::Address>().is_ok()
}

/// Checks `input` against what is stored (`old`, for kept URLs); the error names the field.
pub fn validate(input: SettingsInput, old: &Settings) -> Result<Settings, Invalid> {
    if input.remind_every_min > MAX_REMIND_EVERY_MIN {
        return Err(bad(
            "remind_every_min",
            format!("0 to {MAX_REMIND_EVERY_MIN} minutes, not {}", input.remind_every_min),
        ));
    }
    if !meterdeck_wire::i18n::LANGUAGES.contains(&input.language.as_str()) {
        return Err(bad(
            "language",
            format!(
                "{:?} is not a language Meterdeck has ({})",
                input.language,
                meterdeck_wire::i18n::LANGUAGES.join(", ")
            ),
        ));
    }
    if input.zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(bad("zone", format!("{:?} is not an IANA time zone like Europe/Berlin", input.zone)));
    }
    if input.destinations.len() > MAX_DESTINATIONS {
        return Err(bad("destinations", format!("at most {MAX_DESTINATIONS}, not {}", input.destinations.len())));
    }
    let mut out = Vec::new();
    for (n, d) in input.destinations.into_iter().enumerate() {
        let f = |x: &str| format!("destinations[{n}].{x}");
        let kind = DestinationKind::parse(d.kind.trim())
            .ok_or_else(|| bad(&f("kind"), format!("{:?} is not one of email, slack, teams, json", d.kind)))?;
        let id = match d.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) if id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
                id.to_owned()
            }
            Some(_) => return Err(bad(&f("id"), "1 to 64 letters, digits, - or _")),
            None => format!("{:016x}", rand::random::<u64>()),
        };
        if out.iter().any(|o: &Destination| o.id == id) {
            return Err(bad(&f("id"), format!("{id:?} is named twice")));
        }
        let name = d.name.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if name.as_ref().is_some_and(|s| s.chars().count() > MAX_NAME_CHARS) {
            return Err(bad(&f("name"), format!("at most {MAX_NAME_CHARS} characters")));
        }
        let mut dest = Destination { id, kind, name, admins: false, addresses: Vec::new(), url: None };
        if kind == DestinationKind::Email {
            if d.url.is_some() {
                return Err(bad(&f("url"), "an email destination has addresses, not a URL"));
            }
            if d.addresses.len() > MAX_ADDRESSES {
                return Err(bad(&f("addresses"), format!("at most {MAX_ADDRESSES}")));
            }
            for (i, a) in d.addresses.iter().enumerate() {
                let a = a.trim();
                if !email_ok(a) {
                    return Err(bad(&f(&format!("addresses[{i}]")), format!("{a:?} is not an email address")));
                }
                if !dest.addresses.iter().any(|x| x == a) {
                    dest.addresses.push(a.to_owned());
                }
            }
            if !d.admins && dest.addresses.is_empty() {
                return Err(bad(&f("addresses"), "name addresses or set admins: true"));
            }
            dest.admins = d.admins;
        } else {
            if d.admins || !d.addresses.is_empty() {
                return Err(bad(&f("addresses"), "a webhook has a url, not addresses or admins"));
            }
            dest.url = Some(match d.url.as_deref().map(str::trim) {
                Some(u) => check_url(u).map_err(|why| bad(&f("url"), why))?,
                None => old
                    .destinations
                    .iter()
                    .find(|o| o.id == dest.id && o.kind == kind)
                    .and_then(|o| o.url.clone())
                    .ok_or_else(|| bad(&f("url"), "required for a new webhook (http or https)"))?,
            });
        }
        out.push(dest);
    }
    Ok(Settings {
        remind_every_min: input.remind_every_min,
        language: input.language,
        zone: input.zone,
        destinations: out,
    })
}

/// An http(s) URL with a host; the error never repeats the URL (it is a secret).
fn check_url(u: &str) -> Result<String, String> {
    if u.chars().count() > MAX_URL_CHARS {
        return Err(format!("at most {MAX_URL_CHARS} characters"));
    }
    let parsed = reqwest::Url::parse(u).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("must be http or https, not {}", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dests: serde_json::Value) -> SettingsInput {
        serde_json::from_value(serde_json::json!({
            "remind_every_min": 30, "language": "de", "zone": "Europe/Berlin", "destinations": dests
        }))
        .unwrap()
    }

    #[test]
    fn bad_input_names_the_field_and_never_the_url() {
        let old = Settings::default();
        let e = |d: serde_json::Value| validate(input(d), &old).unwrap_err().0;
        assert!(e(serde_json::json!([{"kind": "fax"}])).starts_with("destinations[0].kind:"));
        let s = e(serde_json::json!([{"kind": "slack", "url": "ftp://h/secret-token"}]));
        assert!(s.starts_with("destinations[0].url: must be http or https") && !s.contains("secret-token"), "{s}");
        assert!(e(serde_json::json!([{"kind": "slack"}])).contains("required for a new webhook"));
        assert!(
            e(serde_json::json!([{"kind": "email", "addresses": ["nope"]}]))
                .starts_with("destinations[0].addresses[0]:")
        );
        assert!(e(serde_json::json!([{"kind": "email"}])).contains("set admins"));
        let many: Vec<_> = (0..11).map(|_| serde_json::json!({"kind": "email", "admins": true})).collect();
        assert!(e(serde_json::Value::Array(many)).starts_with("destinations: at most 10"));
        let mut i = input(serde_json::json!([]));
        i.zone = "Mars/Base".into();
        assert!(validate(i, &old).unwrap_err().0.starts_with("zone:"));
        let mut i = input(serde_json::json!([]));
        i.remind_every_min = 99_999;
        assert!(validate(i, &old).unwrap_err().0.starts_with("remind_every_min:"));
    }

    #[test]
    fn a_webhook_sent_back_without_its_url_keeps_it() {
        let first = validate(
            input(serde_json::json!([{"id": "ops", "kind": "teams", "url": "https://x.example/hook/tok"}])),
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(mask(first.destinations[0].url.as_deref().unwrap()), "https://x.example/…");
        let again = validate(input(serde_json::json!([{"id": "ops", "kind": "teams"}])), &first).unwrap();
        assert_eq!(again.destinations[0].url.as_deref(), Some("https://x.example/hook/tok"));
        // Another kind under the same id does not inherit it.
        assert!(validate(input(serde_json::json!([{"id": "ops", "kind": "slack"}])), &first).is_err());
    }
}
