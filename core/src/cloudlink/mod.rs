//! The desktop's link to a Meterdeck cloud account (the `/api/v1` Web API):
//! sign-in with its code and change-password steps, the account's agents
//! and channels, and min/max series for the Viewer's multi-site overlay.
//!
//! The session token lives only in the OS keychain (entry
//! `cloud-session:<base url>`); a pending token (between password and code
//! step) only in memory. The service URL, account and user are remembered in
//! the Desk store's settings. Errors are sentences the window shows as is.

pub mod admin;
mod alarms;
pub mod api;
mod files;
mod licence;
mod prefs;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

pub use admin::{
    AccessEntry, AccessLogPage, AccessLogQuery, AccountView, AdminGroup, AdminMe, AdminTeam, AdminUser, ApiTokenView,
    CreatedToken, TotpSetup, UserPatch, UserWithPassword,
};
pub use alarms::{MAX_COMMENT_CHARS, SiteAlarms};
pub use api::{AgentSync, Me};
pub use files::MAX_CLOUD_FILES;
pub use licence::{
    CloudLicenceStatus, CloudLimitUse, CloudUsage, CloudUsageView, LicenceHistoryEntry, STORAGE_TOP, StorageChannel,
    StorageMeter,
};
pub use meterdeck_wire::files::CloudFile;
pub use prefs::{CLOUD_PREFS_KEY, CloudPrefs, MemoryPrefs, PrefStore, PrefsError, StorePrefs};

use crate::config::STORE_FILE;
use crate::model::now_ms;
use crate::notify::{KeyringSecrets, SecretError, SecretStore};
use crate::sync::status::SyncStatus;

/// Keychain entry prefix of a cloud session token.
pub const SESSION_PREFIX: &str = "cloud-session:";
/// Buckets one series request may ask for (the Viewer's widest plot).
pub const MAX_BUCKETS: u32 = 16_384;
/// Share of the monthly traffic allowance from which an agent is flagged.
pub const TRAFFIC_WARN_PERCENT: f64 = 90.0;
/// Prefixes of a 401 answer to the sign-in calls (the service's reason follows).
const SIGN_IN_REFUSED: &str = "sign-in refused";
const PASSWORD_REFUSED: &str = "password change refused";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Replies larger than this are refused (a series of MAX_BUCKETS is ~2 MB).
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// The keychain entry holding the session token for `base_url`.
pub fn session_entry(base_url: &str) -> String {
    format!("{SESSION_PREFIX}{base_url}")
}

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// Something the user entered; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("not signed in to a cloud account: sign in first")]
    NotSignedIn,
    /// The service refused the session token (expired, logged out elsewhere).
    #[error("signed out: sign in again")]
    SignedOut,
    #[error("cannot reach the cloud service at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// A 4xx answer (403 forbidden, 429 throttled, wrong password …) with the service's message.
    #[error("{0}")]
    Refused(String),
    #[error("the cloud service failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("unexpected reply from the cloud service to {what}: {reason}")]
    BadReply { what: String, reason: String },
    #[error(transparent)]
    Keychain(#[from] SecretError),
    #[error("{0}")]
    Settings(String),
    #[error(transparent)]
    Prefs(#[from] PrefsError),
}

impl CloudError {
    /// The message in `lang` for the errors the window meets most (see
    /// `DeskError::text_in`); English is the Display text.
    pub fn text_in(&self, lang: &str) -> String {
        let tr = |key: &str, args: &[(&str, &str)]| meterdeck_wire::i18n::tr(lang, key, args);
        match self {
            _ if meterdeck_wire::i18n::language(lang) == "en" => self.to_string(),
            CloudError::NotSignedIn => tr("err-cloud-not-signed-in", &[]),
            CloudError::SignedOut => tr("err-cloud-signed-out", &[]),
            CloudError::Unreachable { url, reason } => tr("err-cloud-unreachable", &[("url", url), ("reason", reason)]),
            CloudError::Server { status, message } => {
                tr("err-cloud-server", &[("status", &status.to_string()), ("message", message)])
            }
            e => e.to_string(),
        }
    }
}

pub type CloudResult<T> = Result<T, CloudError>;

/// `https://cloud.example.com/` → `https://cloud.example.com`: http(s) only,
/// no credentials, query or fragment; a path prefix is kept.
pub fn normalize_url(text: &str) -> CloudResult<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(CloudError::Invalid(
            "service URL: enter the cloud service's address, for example https://cloud.example.com".into(),
        ));
    }
    let url =
        reqwest::Url::parse(t).map_err(|e| CloudError::Invalid(format!("service URL `{t}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CloudError::Invalid(format!("service URL `{t}` must start with https:// or http://")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(CloudError::Invalid(format!("service URL `{t}` has no host name")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CloudError::Invalid("service URL must not contain a user name or password".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CloudError::Invalid(format!("service URL `{t}` must not have a query (?…) or fragment (#…)")));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn check_id(field: &str, value: &str) -> CloudResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CloudError::Invalid(format!("{field}: must not be empty")));
    }
    if v.len() > 128 || v.chars().any(char::is_control) {
        return Err(CloudError::Invalid(format!("{field}: at most 128 printable characters")));
    }
    Ok(v.to_string())
}

/// What the window shows of the cloud sign-in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct CloudStatus {
    pub url: Option<String>,
    pub account: Option<String>,
    pub user: Option<String>,
    pub signed_in: bool,
    /// The sign-in step still to do: `code` or `password`.
    pub step: Option<String>,
    /// With step `code`: where the code comes from (`email` or `totp`).
    pub second_factor: Option<String>,
    pub me: Option<Me>,
    /// Signed in, but the service could not be asked (e.g. unreachable).
    pub error: Option<String>,
}

/// One agent of the account, with what the window derives from it.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub online: bool,
    pub sync: AgentSync,
    /// Now minus the last batch's time (None: never synced).
    pub last_batch_age_ms: Option<i64>,
    pub traffic_month_bytes: u64,
    /// None or 0 from the service: no allowance.
    pub traffic_allowance: Option<u64>,
    pub traffic_percent: Option<f64>,
    /// At or above [`TRAFFIC_WARN_PERCENT`] of the allowance.
    pub traffic_warning: bool,
}

/// One channel of an agent, labelled for the Viewer (`account/agent · path`).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CloudChannelView {
    pub id: String,
    pub agent: String,
    pub agent_name: String,
    pub path: String,
    pub unit: Option<String>,
    pub samples: u64,
    pub t_first: Option<i64>,
    pub t_last: Option<i64>,
    /// `account/agent · path`: one line naming the channel of the account.
    pub label: String,
    /// `account/agent`: the site, shown above the path where space is short.
    pub site: String,
}

/// A cloud channel's series in the Viewer's shape: raw points when every
/// bucket holds at most one sample, else min/max bands at bucket starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct CloudSeries {
    pub raw: bool,
    pub t: Vec<i64>,
    pub min: Vec<Option<f64>>,
    pub max: Vec<Option<f64>>,
}

#[derive(Clone, Debug)]
enum Step {
    Code(String),
    Password,
}

/// A sign-in that still needs a code or a new password (token in memory only).
#[derive(Clone)]
struct Pending {
    url: String,
    token: String,
    step: Step,
}

#[derive(Default)]
struct Inner {
    pending: Option<Pending>,
    /// Agent id → name from the last agent list (for channel labels).
    agent_names: HashMap<String, String>,
}

/// The cloud link. Cheap to share (`Arc`); calls are async.
pub struct CloudLink {
    secrets: Arc<dyn SecretStore>,
    prefs: Arc<dyn PrefStore>,
    http: reqwest::Client,
    inner: Mutex<Inner>,
    /// The window's language, sent as `Accept-Language`: the cloud writes
    /// the mails a request causes (login codes, reset links, invitations) in it.
    language: std::sync::RwLock<String>,
    /// The window's time zone: with the language, the user's preferences in
    /// the cloud (the mails it sends on its own are written in them).
    zone: std::sync::RwLock<String>,
}

/// The certificates of a PEM file; the error names the file.
fn ca_certificates(path: &Path) -> CloudResult<Vec<reqwest::Certificate>> {
    let bad = |why: String| CloudError::Settings(format!("cloud CA file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(format!("not PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CloudResult<T> + Send + 'static) -> CloudResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(CloudError::Settings(format!("internal error: {e}"))))
}

impl CloudLink {
    pub fn new(secrets: Arc<dyn SecretStore>, prefs: Arc<dyn PrefStore>) -> CloudResult<CloudLink> {
        CloudLink::with_ca(secrets, prefs, None)
    }

    /// With `ca_file` (PEM, one or more certificates) the service's HTTPS
    /// certificate is checked against those only: a cloud on a private CA.
    /// Without it, against the system's trusted roots.
    pub fn with_ca(
        secrets: Arc<dyn SecretStore>,
        prefs: Arc<dyn PrefStore>,
        ca_file: Option<&Path>,
    ) -> CloudResult<CloudLink> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("Meterdeck/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_file {
            builder = builder.tls_certs_only(ca_certificates(path)?);
        }
        let http = builder
            .build()
            .map_err(|e| CloudError::Settings(format!("cannot set up the HTTP client: {}", e.without_url())))?;
        let language = std::sync::RwLock::new("en".to_string());
        let zone = std::sync::RwLock::new("UTC".to_string());
        Ok(CloudLink { secrets, prefs, http, inner: Mutex::new(Inner::default()), language, zone })
    }

    /// The OS keychain and the store in `data_dir` (the desktop's setup);
    /// `ca_file`: the agent config's `[cloud] ca_file`, since one
    /// organisation's cloud serves MQTT and HTTPS under the same CA.
    pub fn for_data_dir(data_dir: &Path, ca_file: Option<&Path>) -> CloudResult<CloudLink> {
        CloudLink::with_ca(
            Arc::new(KeyringSecrets::new()),
            Arc::new(StorePrefs::new(data_dir.join(STORE_FILE))),
            ca_file,
        )
    }

    /// The language requests ask the cloud to answer and mail in (`en`, `ja`, `de`).
    pub fn set_language(&self, lang: &str) {
        *self.language.write().unwrap_or_else(|p| p.into_inner()) = meterdeck_wire::i18n::language(lang).to_string();
    }

    /// The time zone the cloud's own mails to this user are written in.
    pub fn set_zone(&self, zone: &str) {
        *self.zone.write().unwrap_or_else(|p| p.into_inner()) = zone.to_string();
    }

    /// Tells the cloud this window's language and zone (`PUT
    /// /me/preferences`) when signed in: alarms, notices and reminders the
    /// cloud mails on its own follow the settings of the user's last window.
    /// Best effort: an older cloud without preferences, or none reachable,
    /// changes nothing here.
    pub async fn share_locale(&self) {
        let Ok((_, url, token)) = self.session().await else { return };
        let body = serde_json::json!({
            "language": self.language.read().unwrap_or_else(|p| p.into_inner()).clone(),
            "zone": self.zone.read().unwrap_or_else(|p| p.into_inner()).clone(),
        });
        let Ok(endpoint) = Self::endpoint(&url, &["me", "preferences"], &[]) else { return };
        let r: CloudResult<serde_json::Value> =
            self.call(reqwest::Method::PUT, endpoint, Some(&token), Some(body), "preferences", None).await;
        if let Err(e) = r {
            tracing::debug!("the cloud did not take this window's language and zone: {e}");
        }
    }

    // ------------------------------------------------------------ storage

    async fn load_prefs(&self) -> CloudResult<CloudPrefs> {
        let p = self.prefs.clone();
        blocking(move || Ok(p.load()?)).await
    }

    async fn save_prefs(&self, prefs: CloudPrefs) -> CloudResult<()> {
        let p = self.prefs.clone();
        blocking(move || Ok(p.save(&prefs)?)).await
    }

    async fn token(&self, url: &str) -> CloudResult<Option<String>> {
        let s = self.secrets.clone();
        let name = session_entry(url);
        blocking(move || Ok(s.get(&name)?)).await
    }

    async fn set_token(&self, url: &str, token: &str) -> CloudResult<()> {
        let s = self.secrets.clone();
        let (name, token) = (session_entry(url), token.to_string());
        blocking(move || Ok(s.set(&name, &token)?)).await
    }

    async fn drop_token(&self, url: &str) -> CloudResult<()> {
        let s = self.secrets.clone();
        let name = session_entry(url);
        blocking(move || Ok(s.delete(&name)?)).await
    }

    /// The remembered URL and its session token, or NotSignedIn.
    async fn session(&self) -> CloudResult<(CloudPrefs, String, String)> {
        let prefs = self.load_prefs().await?;
        let url = prefs.url.clone().ok_or(CloudError::NotSignedIn)?;
        let token = self.token(&url).await?.ok_or(CloudError::NotSignedIn)?;
        Ok((prefs, url, token))
    }

    // --------------------------------------------------------------- HTTP

    fn endpoint(base: &str, segments: &[&str], query: &[(&str, String)]) -> CloudResult<reqwest::Url> {
        let mut url = reqwest::Url::parse(base)
            .map_err(|e| CloudError::Invalid(format!("service URL `{base}` is not a URL ({e})")))?;
        url.path_segments_mut()
            .map_err(|_| CloudError::Invalid(format!("service URL `{base}` cannot take a path")))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// One request. `what` names it in errors. `refused` is set for calls
    /// whose 401 or 403 means "wrong password or code" (then the service's
    /// message follows that prefix) rather than an expired session.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        what: &str,
        refused: Option<&str>,
    ) -> CloudResult<T> {
        let origin = url.origin().ascii_serialization();
        let lang = self.language.read().unwrap_or_else(|p| p.into_inner()).clone();
        let mut req = self.http.request(method, url).header(reqwest::header::ACCEPT_LANGUAGE, lang);
        if let Some(tok) = token {
            req = req.bearer_auth(tok);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let mut resp = req.send().await.map_err(|e| unreachable_error(&origin, e))?;
        let status = resp.status();
        let mut buf = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    buf.extend_from_slice(&c);
                    if buf.len() > MAX_REPLY_BYTES {
                        return Err(CloudError::BadReply {
                            what: what.into(),
                            reason: format!("the reply is larger than {} MB", MAX_REPLY_BYTES >> 20),
                        });
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(unreachable_error(&origin, e)),
            }
        }
        if !status.is_success() {
            let message = error_message(&buf, status);
            return Err(match (status.as_u16(), refused) {
                // The service answers a wrong current password with 403.
                (401 | 403, Some(prefix)) => CloudError::Refused(format!("{prefix}: {message}")),
                (401, None) => CloudError::SignedOut,
                (400..=499, _) => CloudError::Refused(message),
                (s, _) => CloudError::Server { status: s, message },
            });
        }
        let text = if buf.iter().all(u8::is_ascii_whitespace) { &b"null"[..] } else { &buf[..] };
        serde_json::from_slice(text).map_err(|e| CloudError::BadReply { what: what.into(), reason: e.to_string() })
    }

    /// An authenticated call; a refused session token is removed from the keychain.
    async fn authed<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        what: &str,
    ) -> CloudResult<T> {
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, segments, query)?;
        match self.call(reqwest::Method::GET, endpoint, Some(&token), None, what, None).await {
            Err(CloudError::SignedOut) => {
                self.drop_token(&url).await?;
                Err(CloudError::SignedOut)
            }
            other => other,
        }
    }

    // ------------------------------------------------------------ sign-in

    /// Signs in with account ID, user ID and password. The status says
    /// whether a code or a new password is asked for next.
    pub async fn sign_in(&self, url: &str, account: &str, user: &str, password: &str) -> CloudResult<CloudStatus> {
        let url = normalize_url(url)?;
        let account = check_id("account ID", account)?;
        let user = check_id("user ID", user)?;
        if password.is_empty() {
            return Err(CloudError::Invalid("password: enter your password".into()));
        }
        let endpoint = Self::endpoint(&url, &["login"], &[])?;
        let body = serde_json::to_value(api::LoginBody { account: &account, user: &user, password })
            .map_err(|e| CloudError::Invalid(e.to_string()))?;
        let reply: api::LoginReply =
            self.call(reqwest::Method::POST, endpoint, None, Some(body), "sign-in", Some(SIGN_IN_REFUSED)).await?;
        // A new sign-in replaces whatever session this desktop had.
        let old = self.load_prefs().await?;
        if let Some(old_url) = old.url.as_deref() {
            self.drop_token(old_url).await?;
        }
        self.save_prefs(CloudPrefs { url: Some(url.clone()), account: Some(account), user: Some(user) }).await?;
        self.take_reply(&url, reply).await?;
        self.status().await
    }

    /// Keeps a full token in the keychain, a pending one in memory.
    async fn take_reply(&self, url: &str, reply: api::LoginReply) -> CloudResult<()> {
        if reply.token.is_empty() {
            return Err(CloudError::BadReply { what: "sign-in".into(), reason: "the token is empty".into() });
        }
        let step = match reply.second_factor.as_str() {
            "none" | "" if !reply.must_change_password => None,
            "none" | "" => Some(Step::Password),
            f @ ("email" | "totp") => Some(Step::Code(f.to_string())),
            other => {
                return Err(CloudError::BadReply {
                    what: "sign-in".into(),
                    reason: format!("unknown second factor `{other}`"),
                });
            }
        };
        let mut inner = self.inner.lock().await;
        inner.agent_names.clear();
        match step {
            None => {
                inner.pending = None;
                drop(inner);
                self.set_token(url, &reply.token).await?;
                self.share_locale().await;
                Ok(())
            }
            Some(step) => {
                inner.pending = Some(Pending { url: url.to_string(), token: reply.token, step });
                Ok(())
            }
        }
    }

    /// The second factor: the code from the email or the authenticator app.
    pub async fn submit_code(&self, code: &str) -> CloudResult<CloudStatus> {
        let pending = self.inner.lock().await.pending.clone();
        let Some(p) = pending.filter(|p| matches!(p.step, Step::Code(_))) else {
            return Err(CloudError::Invalid("no sign-in is waiting for a code: sign in first".into()));
        };
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() || code.len() > 32 {
            return Err(CloudError::Invalid("code: enter the code you received (at most 32 characters)".into()));
        }
        let endpoint = Self::endpoint(&p.url, &["login", "code"], &[])?;
        let mut reply: api::LoginReply = self
            .call(
                reqwest::Method::POST,
                endpoint,
                Some(&p.token),
                Some(serde_json::json!({ "code": code })),
                "the code",
                Some(SIGN_IN_REFUSED),
            )
            .await?;
        // The service completes the same session: its token stays the one we hold.
        if reply.token.is_empty() {
            reply.token = p.token.clone();
        }
        self.take_reply(&p.url, reply).await?;
        self.status().await
    }

    /// Changes the password: the required change at first sign-in (whose
    /// session is then complete) or a voluntary one while signed in.
    pub async fn change_password(&self, current: &str, new: &str) -> CloudResult<CloudStatus> {
        if current.is_empty() {
            return Err(CloudError::Invalid("current password: enter your current password".into()));
        }
        if new.is_empty() {
            return Err(CloudError::Invalid("new password: enter a new password".into()));
        }
        let pending = self.inner.lock().await.pending.clone();
        let body = serde_json::json!({ "current": current, "new": new });
        if let Some(p) = pending.filter(|p| matches!(p.step, Step::Password)) {
            let endpoint = Self::endpoint(&p.url, &["password"], &[])?;
            let _: serde_json::Value = self
                .call(
                    reqwest::Method::POST,
                    endpoint,
                    Some(&p.token),
                    Some(body),
                    "the password change",
                    Some(PASSWORD_REFUSED),
                )
                .await?;
            // The service turns the pending session into a full one: keep
            // it (signing in again would leave this one open at the service).
            self.inner.lock().await.pending = None;
            self.set_token(&p.url, &p.token).await?;
            return self.status().await;
        }
        // A 401 here may be a mistyped current password: the session is kept
        // (an expired one shows on the next call).
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, &["password"], &[])?;
        let _: serde_json::Value = self
            .call(
                reqwest::Method::POST,
                endpoint,
                Some(&token),
                Some(body),
                "the password change",
                Some(PASSWORD_REFUSED),
            )
            .await?;
        self.status().await
    }

    /// Ends the session at the service (best effort) and forgets the token;
    /// the URL, account and user stay for the next sign-in.
    pub async fn sign_out(&self) -> CloudResult<CloudStatus> {
        let pending = self.inner.lock().await.pending.take();
        let prefs = self.load_prefs().await?;
        let session = match (&pending, prefs.url.as_deref()) {
            (Some(p), _) => Some((p.url.clone(), Some(p.token.clone()))),
            (None, Some(url)) => Some((url.to_string(), self.token(url).await?)),
            (None, None) => None,
        };
        if let Some((url, token)) = session {
            if let Some(token) = token
                && let Ok(endpoint) = Self::endpoint(&url, &["logout"], &[])
            {
                // The token is dropped here whatever the service answers.
                let _ = self
                    .call::<serde_json::Value>(reqwest::Method::POST, endpoint, Some(&token), None, "sign-out", None)
                    .await;
            }
            self.drop_token(&url).await?;
        }
        self.inner.lock().await.agent_names.clear();
        self.status().await
    }

    /// The sign-in state; asks the service who is signed in (`/me`).
    pub async fn status(&self) -> CloudResult<CloudStatus> {
        let prefs = self.load_prefs().await?;
        let mut st = CloudStatus {
            url: prefs.url.clone(),
            account: prefs.account.clone(),
            user: prefs.user.clone(),
            ..CloudStatus::default()
        };
        if let Some(p) = self.inner.lock().await.pending.clone() {
            match p.step {
                Step::Code(f) => {
                    st.step = Some("code".into());
                    st.second_factor = Some(f);
                }
                Step::Password => st.step = Some("password".into()),
            }
            return Ok(st);
        }
        let Some(url) = prefs.url.as_deref() else { return Ok(st) };
        if self.token(url).await?.is_none() {
            return Ok(st);
        }
        match self.authed::<api::MeReply>(&["me"], &[], "who is signed in").await {
            Ok(me) => {
                st.signed_in = true;
                st.me = Some(me.into());
            }
            Err(CloudError::SignedOut) => st.error = Some(CloudError::SignedOut.to_string()),
            Err(e) => {
                st.signed_in = true;
                st.error = Some(e.to_string());
            }
        }
        Ok(st)
    }

    // --------------------------------------------------------------- data

    /// Every agent of the account, by name (the service lists them by id,
    /// which is random).
    pub async fn agents(&self) -> CloudResult<Vec<AgentView>> {
        let list: Vec<api::AgentReply> = self.authed(&["agents"], &[], "the agent list").await?;
        let now = now_ms();
        let mut views: Vec<AgentView> = list.into_iter().map(|a| agent_view(a, now)).collect();
        views.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        self.inner.lock().await.agent_names = views.iter().map(|a| (a.id.clone(), a.name.clone())).collect();
        Ok(views)
    }

    /// The channels one agent sent, labelled `account/agent · path`.
    pub async fn channels(&self, agent: &str) -> CloudResult<Vec<CloudChannelView>> {
        let agent = check_id("agent", agent)?;
        let list: Vec<api::ChannelReply> =
            self.authed(&["agents", &agent, "channels"], &[], "the channel list").await?;
        let account = self.load_prefs().await?.account.unwrap_or_default();
        let names = self.inner.lock().await.agent_names.clone();
        Ok(list
            .into_iter()
            .map(|c| {
                let agent_name = names.get(&c.agent).cloned().unwrap_or_else(|| c.agent.clone());
                let site = format!("{account}/{agent_name}");
                CloudChannelView {
                    label: format!("{site} · {}", c.path),
                    site,
                    id: c.id,
                    agent: c.agent,
                    agent_name,
                    path: c.path,
                    unit: c.unit,
                    samples: c.samples,
                    t_first: c.t_first,
                    t_last: c.t_last,
                }
            })
            .collect())
    }

    /// Min/max of a channel over `[from, to)` in `buckets` buckets (the plot's width).
    pub async fn series(&self, channel: &str, from: i64, to: i64, buckets: u32) -> CloudResult<CloudSeries> {
        let channel = check_id("channel", channel)?;
        if from >= to {
            return Err(CloudError::Invalid(format!("empty time range: from {from} is not before to {to}")));
        }
        if buckets == 0 || buckets > MAX_BUCKETS {
            return Err(CloudError::Invalid(format!("plot width must be 1..{MAX_BUCKETS} pixels, got {buckets}")));
        }
        let query = [("from", from.to_string()), ("to", to.to_string()), ("buckets", buckets.to_string())];
        let reply: api::MinMaxReply = self.authed(&["channels", &channel, "minmax"], &query, "the series").await?;
        let list = reply.buckets;
        Ok(to_series(list))
    }
}

/// Share of the monthly allowance used, and whether it is at the warning
/// level. An allowance of 0 means none.
pub fn traffic_share(used: u64, allowance: u64) -> (Option<f64>, bool) {
    if allowance == 0 {
        return (None, false);
    }
    let p = used as f64 * 100.0 / allowance as f64;
    (Some(p), p >= TRAFFIC_WARN_PERCENT)
}

/// This agent's own sync state with the traffic share the window shows.
/// Only `Serialize` is asked of [`SyncStatus`] (it comes from the sync side).
#[derive(Serialize, ts_rs::TS)]
pub struct LocalSyncView {
    #[serde(flatten)]
    pub status: SyncStatus,
    pub traffic_percent: Option<f64>,
    pub traffic_warning: bool,
}

impl From<SyncStatus> for LocalSyncView {
    fn from(status: SyncStatus) -> Self {
        let (traffic_percent, traffic_warning) = traffic_share(status.month_bytes, status.allowance_bytes);
        LocalSyncView { status, traffic_percent, traffic_warning }
    }
}

fn agent_view(a: api::AgentReply, now: i64) -> AgentView {
    let allowance = a.traffic_allowance.filter(|&x| x > 0);
    let (percent, warning) = traffic_share(a.traffic_month_bytes, allowance.unwrap_or(0));
    AgentView {
        last_batch_age_ms: a.sync.last_batch_ms.map(|t| now.saturating_sub(t).max(0)),
        id: a.id,
        name: a.name,
        online: a.online,
        sync: a.sync,
        traffic_month_bytes: a.traffic_month_bytes,
        traffic_allowance: allowance,
        traffic_percent: percent,
        traffic_warning: warning,
    }
}

fn to_series(mut buckets: Vec<api::Bucket>) -> CloudSeries {
    buckets.sort_by_key(|b| b.t_start);
    let mut s = CloudSeries::default();
    if buckets.iter().all(|b| b.count <= 1) {
        s.raw = true;
        for p in buckets.iter().filter_map(|b| b.min.or(b.max)) {
            s.t.push(p.t);
            s.min.push(p.v);
            s.max.push(p.v);
        }
        return s;
    }
    for b in buckets {
        s.t.push(b.t_start);
        s.min.push(b.min.and_then(|p| p.v));
        s.max.push(b.max.and_then(|p| p.v));
    }
    s
}

/// The service's `{"error": "..."}` message, else the start of the body, else the status.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    if let Ok(e) = serde_json::from_slice::<api::ErrorReply>(body)
        && !e.error.trim().is_empty()
    {
        return e.error;
    }
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return format!("HTTP {status}");
    }
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    format!("HTTP {}: {out}", status.as_u16())
}

fn unreachable_error(origin: &str, e: reqwest::Error) -> CloudError {
    use std::error::Error as _;
    let e = e.without_url();
    let reason = if e.is_timeout() {
        "no answer in time".to_string()
    } else {
        let mut io_reason = None;
        let mut src = e.source();
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                io_reason = Some(match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                    std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
                    _ => io.to_string(),
                });
                break;
            }
            src = s.source();
        }
        io_reason.unwrap_or_else(|| {
            let mut text = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                text.push_str(&format!(": {s}"));
                src = s.source();
            }
            text
        })
    };
    CloudError::Unreachable { url: origin.to_string(), reason }
}
