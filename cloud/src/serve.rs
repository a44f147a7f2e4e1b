//! `meterdeck-cloud serve`: storage, broker, MQTT ingest, Web API and the
//! backup schedule in one process. Several `serve` processes may share one
//! PostgreSQL database and an external broker: they keep no state of their
//! own, and the shared subscription splits the batches between them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use tracing::{info, warn};

use crate::broker::{Broker, BrokerMode};
use crate::ingest::{IngestConfig, IngestStats};
use crate::state::{AppState, MailConfig};
use crate::store::Storage;

pub struct ServeOptions {
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://...`; default `sqlite:<data>/cloud.db`.
    pub db: Option<String>,
    pub http: SocketAddr,
    pub broker: BrokerMode,
    pub mail: Option<MailConfig>,
    pub ingest_workers: usize,
    /// SQLite only: back up this often into `<data>/backups`, keep this many.
    pub backup_every: Option<Duration>,
    pub backups_kept: usize,
    /// PEM certificate (chain) and key: the API serves HTTPS and a managed
    /// Mosquitto a TLS listener with them.
    pub tls: Option<TlsFiles>,
    /// What ingest refuses (channels per agent).
    pub limits: crate::store::IngestLimits,
    /// Proxies whose X-Forwarded-For names the caller (`--trusted-proxy`).
    pub trusted_proxies: Vec<crate::auth::cidr::Cidr>,
    /// The licence signing key file (default `<data>/licence-signing.key`).
    pub licence_key: Option<PathBuf>,
    /// The licence sweep's period (`None`: off).
    pub licence_sweep_every: Option<Duration>,
    /// Where uploaded measurement files are kept (default [`default_files_dir`]).
    pub files_dir: Option<PathBuf>,
    /// The offline monitor's period (`None`: off).
    pub offline_check_every: Option<Duration>,
    /// The view-only link key file (default `<data>/view-link.key`).
    pub link_key: Option<PathBuf>,
    /// The key file sealing alarm destinations (default `<data>/alarm-secrets.key`).
    pub alarm_key: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The API's rustls config from `--tls-cert`/`--tls-key`; errors name the
/// option and the file.
pub fn server_tls(files: &TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use crate::tls;
    let certs = tls::load_certs(&files.cert, "--tls-cert")?;
    let key = tls::load_key(&files.key, "--tls-key")?;
    let mut config = rustls::ServerConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            anyhow::anyhow!(
                "`--tls-key`: {} does not fit the certificate in {} ({e})",
                files.key.display(),
                files.cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub fn default_db(data_dir: &std::path::Path) -> String {
    format!("sqlite:{}", data_dir.join("cloud.db").display())
}

/// Uploaded files go beside the SQLite database (`<its folder>/files`);
/// with PostgreSQL into `<data>/files`, which every API process of the
/// cloud must share (a network file system when they run on several hosts).
pub fn default_files_dir(data_dir: &std::path::Path, db: &str) -> PathBuf {
    match db.strip_prefix("sqlite:").map(|p| p.strip_prefix("//").unwrap_or(p)) {
        Some(path) => match std::path::Path::new(path).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("files"),
            _ => PathBuf::from("files"),
        },
        None => data_dir.join("files"),
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    // Before anything starts: unusable certificate files stop here.
    let tls = opts.tls.as_ref().map(server_tls).transpose()?;
    std::fs::create_dir_all(&opts.data_dir).with_context(|| format!("creating {}", opts.data_dir.display()))?;
    let db = opts.db.clone().unwrap_or_else(|| default_db(&opts.data_dir));
    let _lock = if db.starts_with("sqlite:") { Some(crate::backup::lock_data_dir(&opts.data_dir)?) } else { None };
    let store: Arc<dyn Storage> = crate::store::open(&db).await.with_context(|| format!("opening {db}"))?;
    let key_path = opts.licence_key.clone().unwrap_or_else(|| crate::licence::key::default_path(&opts.data_dir));
    let licence_key = crate::licence::key::load_or_create(&key_path)?;
    let link_key_path = opts.link_key.clone().unwrap_or_else(|| crate::viewlink::default_path(&opts.data_dir));
    let link_key = crate::viewlink::LinkKey::load_or_create(&link_key_path)?;
    let alarm_key_path = opts.alarm_key.clone().unwrap_or_else(|| crate::alarms::seal::default_path(&opts.data_dir));
    let alarm_key = crate::alarms::SealKey::load_or_create(&alarm_key_path)?;

    let broker = Broker::start(store.clone(), opts.broker, &opts.data_dir).await?;
    // An external broker must refuse what a hostile agent would try, before
    // this process takes any batch from it.
    if let Some(target) = &broker.check {
        crate::broker_check::check(&*store, &*broker, target).await?;
    }
    let stats = Arc::new(IngestStats::default());
    let ingest = tokio::spawn(crate::ingest::run(
        IngestConfig {
            host: broker.ingest_at.0.clone(),
            port: broker.ingest_at.1,
            user: broker.user.clone(),
            password: broker.password.clone(),
            workers: opts.ingest_workers,
            mail: opts.mail.clone(),
            seal: Some(alarm_key.clone()),
            limits: opts.limits,
        },
        store.clone(),
        broker.connected.clone(),
        stats.clone(),
    ));
    // Agents registered by another process (the CLI, another API instance)
    // reach the broker's password file within seconds.
    let watcher = tokio::spawn(watch_broker_logins(store.clone(), broker.clone()));
    let backups = match (opts.backup_every, store.kind()) {
        (Some(every), "sqlite") => Some(tokio::spawn(crate::backup::schedule(
            store.clone(),
            opts.data_dir.join("backups"),
            every,
            opts.backups_kept,
        ))),
        _ => None,
    };

    let sweeps = opts.licence_sweep_every.map(|every| {
        tokio::spawn(crate::licence::sweep::schedule_sweeps(
            store.clone(),
            broker.clone(),
            opts.mail.clone(),
            every,
            Some(alarm_key.clone()),
        ))
    });
    let offline = opts.offline_check_every.map(|every| {
        let watch = crate::watch::WatchOptions {
            every,
            mail: opts.mail.clone(),
            link_key: Some(link_key.clone()),
            seal: Some(alarm_key.clone()),
            ..Default::default()
        };
        tokio::spawn(crate::watch::run(store.clone(), Arc::new(crate::auth::SystemClock), watch))
    });
    // Remote commands (issue 16) on their own connection: a slow agent's
    // reply never waits behind the ingest of batches.
    let _ = broker.remote.set(crate::remote::RemoteBus::start(
        &broker.ingest_at.0,
        broker.ingest_at.1,
        &broker.user,
        &broker.password,
    ));
    let state = AppState {
        store: store.clone(),
        broker: broker.clone(),
        mail: opts.mail.clone(),
        data_dir: opts.data_dir.clone(),
        licence_key: Arc::new(licence_key),
        files_dir: opts.files_dir.clone().unwrap_or_else(|| default_files_dir(&opts.data_dir, &db)),
    };
    // The web portal at `/` (issue 15); its session cookies are Secure under TLS.
    let api = crate::api::ApiOptions {
        trusted_proxies: opts.trusted_proxies.clone(),
        portal: true,
        secure_cookies: tls.is_some(),
        link_key,
        alarm_key,
        ..Default::default()
    };
    if !crate::web::ui_built() {
        warn!("this binary was built without ui/dist: the portal at / only says how to build the UI");
    }
    let app = crate::api::router_with(state, api);
    let listener = tokio::net::TcpListener::bind(opts.http).await.with_context(|| format!("binding {}", opts.http))?;
    let http = listener.local_addr()?;
    // Wait briefly for the subscriber so "ready" means batches are taken.
    for _ in 0..100 {
        if broker.connected.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // One line the scripts and tests read.
    let web = if tls.is_some() { "https" } else { "http" };
    let mqtt = if broker.endpoint.tls { "mqtts" } else { "mqtt" };
    println!(
        "meterdeck-cloud ready: {web}://{http} {mqtt}://{}:{} db={} ingest={}",
        broker.endpoint.host,
        broker.endpoint.port,
        store.kind(),
        if broker.connected.load(Ordering::Relaxed) { "connected" } else { "connecting" }
    );
    info!("serving the API on {web}://{http}");
    let result = match tls {
        None => axum::serve(listener, crate::api::into_service(app))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the HTTP server failed"),
        Some(config) => serve_https(listener, config, app.layer(crate::api::hsts())).await,
    };
    ingest.abort();
    watcher.abort();
    if let Some(s) = sweeps {
        s.abort();
    }
    if let Some(o) = offline {
        o.abort();
    }
    if let Some(b) = backups {
        b.abort();
    }
    broker.stop().await;
    info!(
        batches = stats.batches.load(Ordering::Relaxed),
        samples = stats.samples.load(Ordering::Relaxed),
        refused = stats.refused.load(Ordering::Relaxed),
        "stopped"
    );
    result
}

/// The API over rustls (axum-server): a client that does not complete the
/// handshake (plain HTTP, an untrusted certificate) gets no response.
async fn serve_https(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
) -> anyhow::Result<()> {
    let handle = axum_server::Handle::new();
    let stop = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, axum_server::tls_rustls::RustlsConfig::from_config(config))?
        .handle(handle)
        .serve(crate::api::into_service(app))
        .await
        .context("the HTTPS server failed")
}

async fn watch_broker_logins(store: Arc<dyn Storage>, broker: Arc<Broker>) {
    let mut last = None;
    loop {
        match store.broker_logins().await {
            Ok(logins) => {
                if last.as_ref() != Some(&logins) {
                    if last.is_some()
                        && let Err(e) = broker.reload().await
                    {
                        warn!("could not reload the broker's logins: {e:#}");
                    }
                    last = Some(logins);
                }
            }
            Err(e) => warn!("could not read the agents' broker logins: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
