//! Shared by the API tests: the router served over real HTTP on
//! 127.0.0.1, SQLite storage in a tempdir, a manual clock, a stub broker
//! (the broker's own tests are the lead's), and the real aiosmtpd peer.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use meterdeck_cloud::api::{ApiOptions, router_with};
use meterdeck_cloud::auth::ManualClock;
use meterdeck_cloud::auth::cidr::Cidr;
use meterdeck_cloud::state::{AppState, BrokerAdmin, BrokerEndpoint, MailConfig};
use meterdeck_cloud::store::Storage;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Default)]
pub struct StubBroker {
    pub changes: AtomicUsize,
    pub down: AtomicBool,
}

#[async_trait]
impl BrokerAdmin for StubBroker {
    async fn agents_changed(&self) -> anyhow::Result<()> {
        self.changes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn endpoint(&self) -> BrokerEndpoint {
        BrokerEndpoint { host: "broker.test".into(), port: 8883, tls: false }
    }
    fn connected(&self) -> bool {
        !self.down.load(Ordering::SeqCst)
    }
}

/// The signing key of the API under test (fixed: tests verify with its public half).
pub fn test_licence_key() -> ed25519_dalek::SigningKey {
    meterdeck_wire::licence::signing_key(&[42; 32])
}

/// The view-link key of the API under test (fixed: tests sign offline-mail links with it too).
pub fn test_link_key() -> meterdeck_cloud::viewlink::LinkKey {
    meterdeck_cloud::viewlink::LinkKey::from_bytes([43; 32])
}

/// The key sealing alarm destinations in the API under test (fixed: the
/// monitor a test runs opens them with it too).
pub fn test_alarm_key() -> meterdeck_cloud::alarms::SealKey {
    meterdeck_cloud::alarms::SealKey::from_bytes([44; 32])
}

/// The aiosmtpd peer (tests/peers/smtp_peer.py); killed on drop.
pub struct SmtpPeer {
    child: Child,
    pub port: u16,
    mails: mpsc::Receiver<Value>,
}

impl SmtpPeer {
    pub fn start() -> SmtpPeer {
        let python = std::env::var("MD_PYTHON").unwrap_or_else(|_| "/var/tmp/meterdeck-venv/bin/python".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/smtp_peer.py");
        let mut child =
            Command::new(&python).arg(script).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap_or_else(
                |e| panic!("starting {python} {script}: {e} (set MD_PYTHON to a Python with aiosmtpd)"),
            );
        let out = BufReader::new(child.stdout.take().unwrap());
        let (port_tx, port_rx) = mpsc::channel();
        let (mail_tx, mails) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if let Some(p) = line.strip_prefix("READY ") {
                    let _ = port_tx.send(p.trim().parse::<u16>().unwrap());
                } else if let Some(j) = line.strip_prefix("MAIL ") {
                    let _ = mail_tx.send(serde_json::from_str(j).unwrap());
                }
            }
        });
        let port = port_rx.recv_timeout(Duration::from_secs(20)).expect("smtp peer READY");
        SmtpPeer { child, port, mails }
    }

    pub fn next_mail(&self) -> Value {
        self.mails.recv_timeout(Duration::from_secs(20)).expect("a mail within 20 s")
    }

    /// The next mail if one arrives within `wait`.
    pub fn mail_within(&self, wait: Duration) -> Option<Value> {
        self.mails.recv_timeout(wait).ok()
    }

    /// How `serve` would be configured to send through this peer.
    pub fn mail_config(&self) -> MailConfig {
        MailConfig {
            smtp: format!("127.0.0.1:{}", self.port),
            from: "Meterdeck <noreply@meterdeck.test>".into(),
            public_url: "https://cloud.meterdeck.test/".into(),
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database created for one test on the PostgreSQL of `MD_PG_URL`, dropped on drop.
pub use meterdeck_cloud::store::testdb::TestDb as PgDb;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct Env {
    pub base: String,
    /// Storage URL (a second API process opens it again).
    pub url: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub store: Arc<dyn Storage>,
    pub broker: Arc<StubBroker>,
    pub smtp: Option<SmtpPeer>,
    pub dir: tempfile::TempDir,
    servers: Vec<tokio::task::JoinHandle<()>>,
    // Last: dropped after the servers stopped.
    pg: Option<PgDb>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

async fn serve(state: AppState, clock: &ManualClock, trusted: &[Cidr]) -> (String, tokio::task::JoinHandle<()>) {
    serve_opts(
        state,
        ApiOptions {
            clock: Arc::new(clock.clone()),
            trusted_proxies: trusted.to_vec(),
            link_key: test_link_key(),
            alarm_key: test_alarm_key(),
            ..Default::default()
        },
    )
    .await
}

async fn serve_opts(state: AppState, opts: ApiOptions) -> (String, tokio::task::JoinHandle<()>) {
    let app = router_with(state, opts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (format!("http://{addr}/api/v1"), server)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    /// The `error` message of an error reply (panics if there is none).
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {} {}", self.status, self.text))
            .to_string()
    }
}

impl Env {
    pub async fn start(with_mail: bool) -> Env {
        Env::start_on(Db::Sqlite, with_mail, "x").await
    }

    pub async fn start_on(db: Db, with_mail: bool, test: &str) -> Env {
        Env::start_with(db, with_mail, test, &[]).await
    }

    /// As behind proxies at `trusted` (CIDRs): their X-Forwarded-For counts.
    pub async fn start_behind_proxy(trusted: &[&str]) -> Env {
        let trusted: Vec<Cidr> = trusted.iter().map(|c| c.parse().unwrap()).collect();
        Env::start_with(Db::Sqlite, false, "proxy", &trusted).await
    }

    async fn start_with(db: Db, with_mail: bool, test: &str, trusted: &[Cidr]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => PgDb::create(test).await,
        };
        let url = match &pg {
            None => format!("sqlite:{}/c.db", dir.path().display()),
            Some(p) => p.url.clone(),
        };
        let store = meterdeck_cloud::store::open(&url).await.unwrap();
        let broker = Arc::new(StubBroker::default());
        let smtp = with_mail.then(SmtpPeer::start);
        let mail = smtp.as_ref().map(SmtpPeer::mail_config);
        let clock = ManualClock::default();
        let state = AppState {
            store: store.clone(),
            broker: broker.clone(),
            mail,
            data_dir: dir.path().to_path_buf(),
            licence_key: Arc::new(test_licence_key()),
            files_dir: dir.path().join("files"),
        };
        let (base, server) = serve(state, &clock, trusted).await;
        Env { base, url, http: reqwest::Client::new(), clock, store, broker, smtp, dir, servers: vec![server], pg }
    }

    /// With the web portal at `/` (the UI of this build) and, if
    /// `secure_cookies`, Secure session cookies (as under TLS).
    pub async fn start_portal(secure_cookies: bool) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}/c.db", dir.path().display());
        let store = meterdeck_cloud::store::open(&url).await.unwrap();
        let broker = Arc::new(StubBroker::default());
        let clock = ManualClock::default();
        let state = AppState {
            store: store.clone(),
            broker: broker.clone(),
            mail: None,
            data_dir: dir.path().to_path_buf(),
            licence_key: Arc::new(test_licence_key()),
            files_dir: dir.path().join("files"),
        };
        let opts = ApiOptions {
            clock: Arc::new(clock.clone()),
            portal: true,
            secure_cookies,
            link_key: test_link_key(),
            alarm_key: test_alarm_key(),
            ..Default::default()
        };
        let (base, server) = serve_opts(state, opts).await;
        Env {
            base,
            url,
            http: reqwest::Client::new(),
            clock,
            store,
            broker,
            smtp: None,
            dir,
            servers: vec![server],
            pg: None,
        }
    }

    /// A second API process: its own storage handle on the same database,
    /// its own router and port; returns its base URL.
    pub async fn second_api(&mut self) -> String {
        let store = meterdeck_cloud::store::open(&self.url).await.unwrap();
        let state = AppState {
            store,
            broker: self.broker.clone(),
            mail: None,
            data_dir: self.dir.path().to_path_buf(),
            licence_key: Arc::new(test_licence_key()),
            files_dir: self.dir.path().join("files"),
        };
        let (base, server) = serve(state, &self.clock, &[]).await;
        self.servers.push(server);
        base
    }

    pub async fn req(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.req_at(&self.base, method, path, token, body).await
    }

    /// A request to the API at `base` (see `second_api`).
    pub async fn req_at(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut rb = self.http.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        Reply { status: resp.status(), headers: resp.headers().clone(), text: resp.text().await.unwrap() }
    }
    /// A request with extra headers (X-Forwarded-For, a stale Authorization).
    pub async fn req_with(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Reply {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        Reply { status: resp.status(), headers: resp.headers().clone(), text: resp.text().await.unwrap() }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.req(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.req(Method::POST, path, token, Some(body)).await
    }

    /// Logs in; returns (token, pending).
    pub async fn login(&self, account: &str, user: &str, password: &str) -> (String, Value) {
        let r = self.post("/login", None, json!({"account": account, "user": user, "password": password})).await;
        assert_eq!(r.status, 200, "login {account}/{user}: {}", r.text);
        let j = r.json();
        (j["token"].as_str().unwrap().to_string(), j["pending"].clone())
    }

    /// First login with a temporary password: change it to `new`; returns
    /// a full session token.
    pub async fn first_login(&self, account: &str, user: &str, temp: &str, new: &str) -> String {
        let (tok, pending) = self.login(account, user, temp).await;
        assert_eq!(pending, "change_password");
        let r = self.post("/password", Some(&tok), json!({"current": temp, "new": new})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        tok
    }

    /// A new account with its admin logged in (password `Admin-pass1`).
    pub async fn account(&self, id: &str) -> String {
        let temp = meterdeck_cloud::admin::create_account(
            &*self.store,
            id,
            &format!("{id} Ltd"),
            "pro",
            "boss",
            "boss@example.com",
        )
        .await
        .unwrap();
        self.first_login(id, "boss", &temp, "Admin-pass1").await
    }

    /// Creates a user through the API; returns a full session token
    /// (password `User-pass1`).
    pub async fn user(&self, admin: &str, account: &str, id: &str, role: &str, email: &str) -> String {
        let r = self.post("/users", Some(admin), json!({"id": id, "name": id, "email": email, "role": role})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let temp = r.json()["temporary_password"].as_str().unwrap().to_string();
        self.first_login(account, id, &temp, "User-pass1").await
    }

    /// Registers an agent through the API and stores one batch for it:
    /// `n` samples 1 s apart from `t0` on channel `dev/temp`.
    pub async fn agent_with_data(&self, admin: &str, name: &str, t0: i64, n: usize) -> (String, i64) {
        let r = self.post("/agents", Some(admin), json!({"name": name})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json()["id"].as_str().unwrap().to_string();
        let ch = self.ingest_channel(&id, "dev/temp", t0, n).await;
        (id, ch)
    }

    /// `n` samples (one a second from `t0`) of channel `path` of `agent`,
    /// stored as its batch would be; returns the channel's id.
    pub async fn ingest_channel(&self, id: &str, path: &str, t0: i64, n: usize) -> i64 {
        use meterdeck_cloud::store::IngestBatch;
        use meterdeck_wire::Sample;
        use meterdeck_wire::codec::EncodeScratch;
        use meterdeck_wire::sync::{PartIn, encode_batch};
        let samples: Vec<Sample> = (0..n).map(|i| Sample::number(t0 + i as i64 * 1000, i as f64 * 0.5)).collect();
        let parts = [PartIn { path, unit: Some("°C"), seq_from: 1, seq_to: 1 + n as i64, samples: &samples }];
        // One batch per channel: the batch id follows the channels the agent has.
        let seq = self.store.channels(id).await.unwrap().len() as u64 + 1;
        let bytes = encode_batch("store-1", seq, t0, 0, &parts, &mut EncodeScratch::default()).unwrap();
        let batch = IngestBatch::decode(&bytes).unwrap();
        self.store.ingest(id, &batch, bytes.len() as u64, self.clock_now()).await.unwrap();
        self.store.channels(id).await.unwrap().into_iter().find(|c| c.path == path).unwrap().id
    }

    pub fn clock_now(&self) -> i64 {
        use meterdeck_cloud::auth::Clock;
        self.clock.now_ms()
    }
}
