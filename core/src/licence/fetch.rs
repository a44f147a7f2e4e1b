//! The licence over the cloud's Web API (docs: the licence interface):
//! `GET /api/v1/licence/key` (no auth) for the key pinned at `cloud login`,
//! and `GET /api/v1/licence` for the account's freshly signed document, as
//! an agent (HTTP Basic: agent id and its broker secret) or a signed-in
//! user (bearer session token; the desktop's `cloudlink`).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// A licence file is a few kB; anything much larger is not one.
const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// Who asks.
#[derive(Clone)]
pub enum Auth {
    /// An agent: its id and broker secret (from the OS keychain).
    Agent { id: String, secret: String },
    /// A user's session or API token.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    // Never the secret in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Agent { id, .. } => write!(f, "Agent({id})"),
            Auth::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cloud API `{0}`: must be http(s)://host:port")]
    BadUrl(String),
    #[error("cannot reach the cloud's Web API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the cloud refused the licence request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("unexpected reply from the cloud to {what}: {reason}")]
    BadReply { what: &'static str, reason: String },
    #[error("cloud CA file {path}: {reason}")]
    Ca { path: String, reason: String },
}

/// An HTTP client for the Web API; with `ca_file` (PEM) the service's
/// certificate must chain to it (the `[cloud] ca_file` of MQTT: one
/// organisation's cloud serves both under the same CA).
pub fn client(ca_file: Option<&Path>) -> Result<reqwest::Client, FetchError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Meterdeck/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let bad = |reason: String| FetchError::Ca { path: path.display().to_string(), reason };
        let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(format!("not PEM certificates ({e})")))?;
        b = b.tls_certs_only(certs);
    }
    b.build().map_err(|e| FetchError::Unreachable { url: String::new(), reason: e.without_url().to_string() })
}

fn endpoint(api: &str, path: &str) -> Result<reqwest::Url, FetchError> {
    let base = api.trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}{path}")).map_err(|_| FetchError::BadUrl(api.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::BadUrl(api.to_string()));
    }
    Ok(url)
}

async fn get(
    http: &reqwest::Client,
    url: reqwest::Url,
    auth: Option<&Auth>,
    what: &'static str,
) -> Result<String, FetchError> {
    let origin = url.origin().ascii_serialization();
    let mut req = http.get(url);
    match auth {
        Some(Auth::Agent { id, secret }) => req = req.basic_auth(id, Some(secret)),
        Some(Auth::Bearer(t)) => req = req.bearer_auth(t),
        None => {}
    }
    let unreachable =
        |e: reqwest::Error| FetchError::Unreachable { url: origin.clone(), reason: e.without_url().to_string() };
    let mut resp = req.send().await.map_err(unreachable)?;
    let status = resp.status();
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_REPLY_BYTES {
            return Err(FetchError::BadReply { what, reason: "the reply is larger than 1 MB".into() });
        }
    }
    let text = String::from_utf8(buf).map_err(|_| FetchError::BadReply { what, reason: "not UTF-8 text".into() })?;
    if !status.is_success() {
        #[derive(Deserialize)]
        struct ErrorBody {
            error: String,
        }
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_string());
        return Err(FetchError::Refused { status: status.as_u16(), message });
    }
    Ok(text)
}

/// The signed licence file of the caller's account, as text.
pub async fn licence(http: &reqwest::Client, api: &str, auth: &Auth) -> Result<String, FetchError> {
    get(http, endpoint(api, "/api/v1/licence")?, Some(auth), "the licence request").await
}

/// The licence authority's public key text (`md-ed25519:...`), checked.
pub async fn key(http: &reqwest::Client, api: &str) -> Result<String, FetchError> {
    #[derive(Deserialize)]
    struct KeyReply {
        key: String,
    }
    let what = "the licence key request";
    let text = get(http, endpoint(api, "/api/v1/licence/key")?, None, what).await?;
    let reply: KeyReply =
        serde_json::from_str(&text).map_err(|e| FetchError::BadReply { what, reason: e.to_string() })?;
    super::parse_public_key(&reply.key).map_err(|e| FetchError::BadReply { what, reason: e.to_string() })?;
    Ok(reply.key)
}

/// Fetches the licence and takes it if it verifies (into the store at
/// `store_path`, on a short-lived connection beside the agent's writer).
/// A failed fetch or a refused document is recorded as the last check and
/// leaves the licence in force as it was.
pub async fn refresh(
    http: &reqwest::Client,
    api: &str,
    auth: &Auth,
    store_path: &Path,
    trust: &super::Trust,
) -> Result<super::LicenceDoc, RefreshError> {
    let fetched = licence(http, api, auth).await;
    let (path, trust) = (store_path.to_path_buf(), trust.clone());
    let now = crate::model::now_ms();
    tokio::task::spawn_blocking(move || -> Result<super::LicenceDoc, RefreshError> {
        let mut store =
            crate::store::Store::open_with(&path, crate::store::StoreOptions::default(), &[super::SCHEMA_PART])?;
        match fetched {
            Ok(text) => Ok(super::accept(&mut store, &text, &trust, now, super::Source::Fetched)?),
            Err(e) => {
                super::kept::record(store.conn(), now, super::Source::Fetched, false, &format!("{e}"))?;
                Err(RefreshError::Fetch(e))
            }
        }
    })
    .await
    .unwrap_or_else(|e| Err(RefreshError::Task(e.to_string())))
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Accept(#[from] super::AcceptError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("internal error: {0}")]
    Task(String),
}
