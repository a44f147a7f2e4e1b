//! What the Web API shares with the rest of the service. The API (api/,
//! auth/) only sees these handles; `serve` builds them.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::store::Storage;

/// The broker side of agent registration: the broker must learn a new
/// agent's login (password file + reload) and forget a deleted one.
#[async_trait]
pub trait BrokerAdmin: Send + Sync + 'static {
    /// Called after an agent was inserted or deleted in storage.
    async fn agents_changed(&self) -> anyhow::Result<()>;
    /// Where agents connect, as shown to the admin at registration.
    fn endpoint(&self) -> BrokerEndpoint;
    /// Whether the ingest subscriber is connected to the broker now.
    fn connected(&self) -> bool;
    /// Where remote commands to agents are published (none: this process
    /// cannot send them, e.g. the admin CLI).
    fn remote(&self) -> Option<Arc<crate::remote::RemoteBus>> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BrokerEndpoint {
    pub host: String,
    pub port: u16,
    /// Agents must connect with TLS (`[cloud] tls = true`).
    pub tls: bool,
}

/// How mail leaves the service (reset links, email login codes).
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// `host:port` of an SMTP server (plain; STARTTLS when offered).
    pub smtp: String,
    pub from: String,
    /// Public base URL of the service, for links in mail.
    pub public_url: String,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Storage>,
    pub broker: Arc<dyn BrokerAdmin>,
    pub mail: Option<MailConfig>,
    /// The data directory (health reports its free space).
    pub data_dir: PathBuf,
    /// The licence authority's signing key (`licence::key`).
    pub licence_key: Arc<ed25519_dalek::SigningKey>,
    /// Uploaded measurement files, `<files_dir>/<account>/<id>` (default
    /// beside the SQLite database; `serve --files-dir`).
    pub files_dir: PathBuf,
}
