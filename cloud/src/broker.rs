//! The broker side: Mosquitto's password file and ACL, written from the
//! registered agents, and (by default) the Mosquitto process itself, so one
//! command starts the whole service. With an external broker the same files
//! are written for it and it is told to reload (SIGHUP to its pid file).
//!
//! The ACL confines every agent to its own topic prefix (docs/protocol.md):
//! the broker, not the cloud, refuses one agent writing as another. The
//! agents' listener binds each session to its login (client id = user
//! name), so no login can take over another's session; the cloud's own
//! ingest connects on a loopback listener only its login can use, and its
//! shared subscription's group is named from its secret, so no agent can
//! join it (Mosquitto's ACL file cannot refuse subscriptions; see
//! docs/broker.md). `broker_check` tests an external broker for the same.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use base64::Engine;
use rand::RngCore;
use tokio::process::Command;
use tokio::sync::Notify;
use tracing::{info, warn};

pub use crate::admin::mosquitto_hash;
use crate::state::{BrokerAdmin, BrokerEndpoint};
use crate::store::Storage;

/// The cloud's own broker login (reads every agent's batches, writes acks).
pub const CLOUD_BROKER_USER: &str = "meterdeck-cloud";

/// A random secret for logins the cloud makes up (URL-safe, 32 bytes).
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The files Mosquitto reads: `passwd`, `acl` and (managed) `mosquitto.conf`.
#[derive(Clone, Debug)]
pub struct BrokerFiles {
    pub dir: PathBuf,
}

impl BrokerFiles {
    /// Agents' logins (and the cloud's, for single-listener setups).
    pub fn passwd(&self) -> PathBuf {
        self.dir.join("passwd")
    }
    /// The cloud's login only: the loopback listener of the ingest.
    pub fn passwd_cloud(&self) -> PathBuf {
        self.dir.join("passwd-cloud")
    }
    pub fn acl(&self) -> PathBuf {
        self.dir.join("acl")
    }
    pub fn conf(&self) -> PathBuf {
        self.dir.join("mosquitto.conf")
    }

    pub fn write_acl(&self) -> anyhow::Result<()> {
        let acl = format!(
            "# Written by meterdeck-cloud: each agent only under md/v1/<its login>/ (docs/protocol.md).\n\
             # Mosquitto checks these on publish and delivery; it never refuses a SUBSCRIBE\n\
             # from an ACL file, so the cloud's shared group has a secret name (docs/broker.md).\n\
             pattern write md/v1/%u/up/#\n\
             pattern read md/v1/%u/down/#\n\n\
             user {CLOUD_BROKER_USER}\n\
             topic readwrite md/v1/#\n"
        );
        write_private(&self.acl(), &acl)
    }

    /// The password file: the cloud's login and every agent's.
    pub fn write_passwd(&self, cloud_hash: &str, agents: &[(String, String)]) -> anyhow::Result<()> {
        let mut s = format!("{CLOUD_BROKER_USER}:{cloud_hash}\n");
        for (id, hash) in agents {
            // Ids are checked at registration; a bad row must not break the file.
            if meterdeck_wire::sync::valid_agent_id(id) && hash.starts_with("$7$") && !hash.contains('\n') {
                s.push_str(&format!("{id}:{hash}\n"));
            } else {
                warn!(agent = %id, "skipping an agent with an unusable broker login");
            }
        }
        write_private(&self.passwd(), &s)?;
        write_private(&self.passwd_cloud(), &format!("{CLOUD_BROKER_USER}:{cloud_hash}\n"))
    }

    /// The config of one listener (agents' rules, see [`write_conf_with`](Self::write_conf_with)).
    pub fn write_conf(&self, bind: &str, port: u16) -> anyhow::Result<()> {
        self.write_conf_with(bind, port, None, None)
    }

    /// As [`write_conf_with`](Self::write_conf_with), the TLS listener's
    /// loopback port being the ingest's.
    pub fn write_conf_tls(&self, bind: &str, port: u16, tls: Option<&BrokerTls>) -> anyhow::Result<()> {
        self.write_conf_with(bind, port, tls, tls.map(|t| t.local_port))
    }

    /// The config of a managed Mosquitto: no anonymous logins, our password
    /// files and ACL, room for a window of 4 MiB batches, no Nagle delay (a
    /// remote command and its reply are small packets each way: with it,
    /// delayed ACKs added about 40 ms per hop). The agents'
    /// listener on `bind:port` (TLS only with `tls`) binds every session to
    /// its login: the client id is replaced by the user name, so one login
    /// cannot close another's session by connecting with its client id.
    /// With `ingest_port`, a plain loopback listener there takes only the
    /// cloud's login (the ingest subscriber in this process): agents cannot
    /// log in on it, and the cloud's sessions keep their own client ids.
    pub fn write_conf_with(
        &self,
        bind: &str,
        port: u16,
        tls: Option<&BrokerTls>,
        ingest_port: Option<u16>,
    ) -> anyhow::Result<()> {
        // Started as root, Mosquitto switches to its own user, which cannot
        // read our private (0600, root-owned) files nor, often, the
        // certificate's key: keep the starting user.
        let user = if rustix::process::geteuid().is_root() { "user root\n" } else { "" };
        let security = |passwd: PathBuf| {
            format!("allow_anonymous false\npassword_file {}\nacl_file {}\n", passwd.display(), self.acl().display())
        };
        let mut listeners = format!("listener {port} {bind}\n");
        if let Some(t) = tls {
            listeners.push_str(&format!("certfile {}\nkeyfile {}\n", t.cert.display(), t.key.display()));
        }
        listeners.push_str("use_username_as_clientid true\n");
        listeners.push_str(&security(self.passwd()));
        if let Some(p) = ingest_port {
            listeners.push_str(&format!("listener {p} 127.0.0.1\n"));
            listeners.push_str(&security(self.passwd_cloud()));
        }
        let conf = format!(
            "# Written by meterdeck-cloud serve.\n\
             {user}\
             per_listener_settings true\n\
             {listeners}\
             persistence false\n\
             max_packet_size 5000000\n\
             max_queued_messages 10000\n\
             max_inflight_messages 64\n\
             set_tcp_nodelay true\n\
             log_dest stderr\n\
             log_type error\n\
             log_type warning\n"
        );
        write_private(&self.conf(), &conf)
    }
}

/// Writes via a temporary file and a rename, so the broker never reads half a file.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // A temporary name of this write's own: another process (a second
    // `serve` on the same directory, an admin command) may write too.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{seq}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
    let done = written
        .with_context(|| format!("writing {}", tmp.display()))
        .and_then(|_| std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display())));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// The TLS listener of a managed Mosquitto: the API's certificate and key
/// (absolute paths: Mosquitto reads them itself), and the loopback port of
/// the plain listener the ingest subscriber uses.
#[derive(Clone, Debug)]
pub struct BrokerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub local_port: u16,
}

/// How the service reaches its broker.
pub enum BrokerMode {
    /// Start Mosquitto (`program`) as a child on `bind:port`, with our files;
    /// with `tls` that listener speaks TLS only (see [`BrokerTls`]).
    Managed { program: PathBuf, bind: String, port: u16, tls: Option<BrokerTls> },
    /// An external broker at `host:port`, logged into as `user`; if `files`
    /// is set the password file and ACL are written there for it and the
    /// process in `pid_file` is sent SIGHUP to reload them.
    External {
        host: String,
        port: u16,
        user: String,
        password: String,
        files: Option<PathBuf>,
        pid_file: Option<PathBuf>,
        /// Where agents connect, when not at `host:port` (shown at
        /// registration; the start-up self-test probes it).
        agents: Option<(String, u16)>,
        /// Agents connect there with TLS; the self-test trusts this CA
        /// (PEM), else the system's roots.
        agents_tls: Option<AgentsTls>,
    },
}

/// TLS of an external broker's agents' listener, as the self-test sees it.
#[derive(Clone, Debug)]
pub struct AgentsTls {
    pub ca_file: Option<PathBuf>,
}

/// The self-test's TLS client: the CA file's certificates, or the
/// platform's verifier (system roots), on the aws-lc-rs provider.
fn probe_tls(t: &AgentsTls) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS setup")?;
    let config = match &t.ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path)
                .with_context(|| format!("--agent-broker-ca: cannot read {}", path.display()))?
            {
                let cert = cert.with_context(|| format!("--agent-broker-ca: {} is not PEM", path.display()))?;
                roots.add(cert).with_context(|| format!("--agent-broker-ca: a certificate in {}", path.display()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder.with_platform_verifier().context("the system's certificate verifier")?.with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The broker as the rest of the service sees it.
pub struct Broker {
    store: Arc<dyn Storage>,
    files: Option<BrokerFiles>,
    pid_file: Option<PathBuf>,
    /// Pid of the managed Mosquitto (0: none running).
    child_pid: Arc<AtomicU32>,
    stopping: Arc<Notify>,
    supervisor: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// One rewrite of the broker's files at a time: two requests (say, two
    /// agent deletions) rewriting them at once raced on the temporary file,
    /// and the one that read the store first could land last.
    rewrite: tokio::sync::Mutex<()>,
    cloud_hash: String,
    /// The cloud's own login.
    pub user: String,
    pub password: String,
    /// Where agents connect (shown at registration).
    pub endpoint: BrokerEndpoint,
    /// Where this process's ingest subscriber connects (plain MQTT): the
    /// endpoint, or the loopback listener when agents get TLS.
    pub ingest_at: (String, u16),
    pub connected: Arc<AtomicBool>,
    /// External brokers: what the start-up self-test probes.
    pub check: Option<crate::broker_check::CheckTarget>,
    /// Remote commands to agents, once `serve` connected them.
    pub remote: std::sync::OnceLock<Arc<crate::remote::RemoteBus>>,
}

impl Broker {
    /// Writes the files and, when managed, starts Mosquitto and waits until it listens.
    pub async fn start(store: Arc<dyn Storage>, mode: BrokerMode, data_dir: &Path) -> anyhow::Result<Arc<Broker>> {
        let broker = match mode {
            BrokerMode::Managed { program, bind, port, tls } => {
                let files = BrokerFiles { dir: data_dir.join("broker") };
                std::fs::create_dir_all(&files.dir).with_context(|| format!("creating {}", files.dir.display()))?;
                // The ingest always has its own loopback listener (see write_conf_with).
                let ingest_port = match &tls {
                    Some(t) => t.local_port,
                    None => free_loopback_port()?,
                };
                files.write_conf_with(&bind, port, tls.as_ref(), Some(ingest_port))?;
                let ingest_at = ("127.0.0.1".to_string(), ingest_port);
                // A fresh password per start: the cloud's broker login never touches the disk in clear.
                let password = random_secret();
                let b = Broker {
                    store,
                    cloud_hash: mosquitto_hash(&password),
                    files: Some(files),
                    pid_file: None,
                    child_pid: Arc::new(AtomicU32::new(0)),
                    stopping: Arc::new(Notify::new()),
                    supervisor: std::sync::Mutex::new(None),
                    rewrite: tokio::sync::Mutex::new(()),
                    user: CLOUD_BROKER_USER.into(),
                    password,
                    endpoint: BrokerEndpoint { host: bind.clone(), port, tls: tls.is_some() },
                    ingest_at: ingest_at.clone(),
                    connected: Arc::new(AtomicBool::new(false)),
                    check: None,
                    remote: Default::default(),
                };
                b.write_files().await?;
                let conf = b.files.as_ref().map(BrokerFiles::conf).unwrap_or_default();
                let mut first = spawn_mosquitto(&program, &conf)?;
                b.child_pid.store(first.id().unwrap_or(0), Ordering::Relaxed);
                // Only the loopback listener is probed: Mosquitto opens the
                // agents' one (first in the file) before it, or exits; and a bare
                // TCP probe of a TLS port would log a handshake error each start.
                if let Err(e) = wait_listening(&ingest_at.0, ingest_at.1).await {
                    // E.g. a certificate Mosquitto cannot load: it exits, we say why.
                    let _ = first.start_kill();
                    let _ = first.wait().await;
                    return Err(e);
                }
                info!(%bind, port, tls = tls.is_some(), "broker (mosquitto) started");
                let task = tokio::spawn(supervise(first, program, conf, b.child_pid.clone(), b.stopping.clone()));
                *b.supervisor.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
                b
            }
            BrokerMode::External { host, port, user, password, files, pid_file, agents, agents_tls } => {
                let (agents_host, agents_port) = agents.unwrap_or_else(|| (host.clone(), port));
                let check = crate::broker_check::CheckTarget {
                    agents_host: agents_host.clone(),
                    agents_port,
                    agents_tls: agents_tls.as_ref().map(probe_tls).transpose()?,
                    cloud_host: host.clone(),
                    cloud_port: port,
                    cloud_user: user.clone(),
                    cloud_password: password.clone(),
                    login_wait: Duration::from_secs(20),
                };
                let b = Broker {
                    store,
                    cloud_hash: mosquitto_hash(&password),
                    files: files.map(|dir| BrokerFiles { dir }),
                    pid_file,
                    child_pid: Arc::new(AtomicU32::new(0)),
                    stopping: Arc::new(Notify::new()),
                    supervisor: std::sync::Mutex::new(None),
                    rewrite: tokio::sync::Mutex::new(()),
                    user,
                    password,
                    ingest_at: (host, port),
                    endpoint: BrokerEndpoint { host: agents_host, port: agents_port, tls: agents_tls.is_some() },
                    connected: Arc::new(AtomicBool::new(false)),
                    check: Some(check),
                    remote: Default::default(),
                };
                b.write_files().await?;
                b
            }
        };
        Ok(Arc::new(broker))
    }

    async fn write_files(&self) -> anyhow::Result<()> {
        let Some(files) = &self.files else { return Ok(()) };
        let _one_at_a_time = self.rewrite.lock().await;
        files.write_acl()?;
        files.write_passwd(&self.cloud_hash, &self.store.broker_logins().await?)
    }

    /// Rewrites the password file and makes the broker reload it.
    pub async fn reload(&self) -> anyhow::Result<()> {
        self.write_files().await?;
        let pid = match (self.child_pid.load(Ordering::Relaxed), &self.pid_file) {
            (pid, _) if pid != 0 => Some(pid),
            (_, Some(pf)) => std::fs::read_to_string(pf)
                .with_context(|| format!("reading the broker's pid file {}", pf.display()))?
                .trim()
                .parse::<u32>()
                .ok(),
            (_, None) => None,
        };
        if let Some(pid) = pid {
            let pid = rustix::process::Pid::from_raw(pid as i32).context("bad broker pid")?;
            rustix::process::kill_process(pid, rustix::process::Signal::HUP)
                .context("signalling the broker to reload")?;
        }
        Ok(())
    }

    /// Stops a managed broker.
    pub async fn stop(&self) {
        let task = self.supervisor.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            self.stopping.notify_one();
            let _ = task.await;
        }
    }
}

fn spawn_mosquitto(program: &Path, conf: &Path) -> anyhow::Result<tokio::process::Child> {
    let mut cmd = Command::new(program);
    cmd.arg("-c").arg(conf).stdin(Stdio::null()).kill_on_drop(true);
    // The broker ends with the service even when the service is killed
    // outright (SIGKILL, OOM): an orphan would keep the port and the old
    // logins, and a restarted `serve` could not start its own.
    // SAFETY: the closure only makes one prctl call, async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
                .map_err(std::io::Error::from)
        });
    }
    cmd.spawn().with_context(|| format!("starting the broker {}", program.display()))
}

/// Keeps the managed broker running: a Mosquitto that dies is started again
/// (agents and ingest reconnect by themselves; nothing is lost, the agents
/// resend what was not acknowledged).
async fn supervise(
    mut child: tokio::process::Child,
    program: PathBuf,
    conf: PathBuf,
    pid: Arc<AtomicU32>,
    stopping: Arc<Notify>,
) {
    loop {
        tokio::select! {
            _ = stopping.notified() => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                pid.store(0, Ordering::Relaxed);
                return;
            }
            status = child.wait() => {
                pid.store(0, Ordering::Relaxed);
                warn!("the broker (mosquitto) exited ({status:?}); starting it again");
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    match spawn_mosquitto(&program, &conf) {
                        Ok(c) => {
                            pid.store(c.id().unwrap_or(0), Ordering::Relaxed);
                            child = c;
                            break;
                        }
                        Err(e) => warn!("{e:#}"),
                    }
                }
            }
        }
    }
}

/// A free loopback port for the ingest's listener.
fn free_loopback_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port for the broker")?;
    Ok(l.local_addr()?.port())
}

async fn wait_listening(host: &str, port: u16) -> anyhow::Result<()> {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect((host, port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    bail!(
        "the broker did not start listening on {host}:{port} within 5 s (is the port taken? with TLS: can \
         Mosquitto read the certificate and key? its own message is above)"
    )
}

#[async_trait]
impl BrokerAdmin for Broker {
    async fn agents_changed(&self) -> anyhow::Result<()> {
        self.reload().await
    }
    fn endpoint(&self) -> BrokerEndpoint {
        self.endpoint.clone()
    }
    fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
    fn remote(&self) -> Option<Arc<crate::remote::RemoteBus>> {
        self.remote.get().cloned()
    }
}

/// For processes that only write the database (the admin CLI, benches): a
/// running `serve` notices agent changes within seconds and reloads its
/// broker itself.
pub struct NoBroker;

#[async_trait]
impl BrokerAdmin for NoBroker {
    async fn agents_changed(&self) -> anyhow::Result<()> {
        Ok(())
    }
    fn endpoint(&self) -> BrokerEndpoint {
        BrokerEndpoint { host: "127.0.0.1".into(), port: 8883, tls: false }
    }
    fn connected(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::write_private;

    /// Found by the API contract test: two agent deletions at once rewrote
    /// the ACL through one temporary file, and one of them failed.
    #[test]
    fn concurrent_rewrites_of_one_file_all_succeed_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acl");
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|k| {
                    let path = path.clone();
                    s.spawn(move || {
                        for n in 0..50 {
                            write_private(&path, &format!("writer {k} pass {n}\n")).unwrap();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("writer ") && text.ends_with(" pass 49\n"), "{text}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("acl")]);
    }
}
