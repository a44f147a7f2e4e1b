//! `meterdeck-cloud serve --tls-cert --tls-key`, the real binary with its
//! real Mosquitto: the API answers only over HTTPS to clients that trust
//! the certificate, agents publish over MQTT with TLS (the ingest
//! subscriber answers through its loopback listener), a plain MQTT client
//! gets nowhere on the TLS port, and bad certificate files stop the
//! service before anything starts.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_wire::sync::{self as wire, Ack};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};

const BIN: &str = env!("CARGO_BIN_EXE_meterdeck-cloud");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost.
struct Pki {
    ca_pem: String,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path, name: &str) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    server.distinguished_name.push(DnType::CommonName, "localhost");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = server.signed_by(&key, &issuer).unwrap();
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Pki { ca_pem: ca_cert.pem(), cert: cert_path, key: key_path }
}

/// `meterdeck-cloud serve`, stopped with SIGTERM (so it stops its Mosquitto) on drop.
struct Serve {
    child: Child,
    ready: String,
    http_port: u16,
    mqtt_port: u16,
}

impl Serve {
    fn start(data: &Path, pki: &Pki) -> Serve {
        let (http_port, mqtt_port) = (free_port(), free_port());
        let mut child = serve_cmd(data, http_port, mqtt_port, &pki.cert, &pki.key)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run meterdeck-cloud");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("meterdeck-cloud ready:") => break l,
                Some(_) => {}
                None => panic!("meterdeck-cloud serve stopped before it was ready: {:?}", child.wait()),
            }
        };
        // Keep reading, so the pipe never fills.
        std::thread::spawn(move || lines.for_each(drop));
        Serve { child, ready, http_port, mqtt_port }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_cmd(data: &Path, http_port: u16, mqtt_port: u16, cert: &Path, key: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data")
        .arg(data)
        .args(["serve", "--http", &format!("127.0.0.1:{http_port}"), "--mqtt-port", &mqtt_port.to_string()])
        .args(["--backup-every", "0"])
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .stdin(Stdio::null());
    cmd
}

/// `meterdeck-cloud --data DATA ARGS`, which must succeed; its stdout.
fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("--data").arg(data).args(args).stdin(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// An account and a registered agent: (agent id, secret).
fn register_agent(data: &Path) -> (String, String) {
    cli(data, &["account", "create", "--id", "acme", "--name", "Acme", "--admin", "boss", "--email", "boss@acme.test"]);
    let out = cli(data, &["agent", "register", "--account", "acme", "--name", "site"]);
    let mut lines = out.lines();
    let id = lines.next().and_then(|l| l.split_whitespace().nth(1)).expect("agent id").to_owned();
    let secret = lines.next().expect("secret").trim().to_owned();
    (id, secret)
}

fn tls_client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(meterdeck_cloud::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

enum Seen {
    Connected,
    Refused(String),
    Message(String, Vec<u8>),
}

/// An MQTT client (TLS when `ca_pem` is given) whose event loop reports what it sees.
fn mqtt(
    port: u16,
    user: &str,
    pass: &str,
    ca_pem: Option<&str>,
) -> (AsyncClient, tokio::sync::mpsc::UnboundedReceiver<Seen>) {
    let mut o = MqttOptions::new(format!("t-{}", rand::random::<u32>()), "127.0.0.1", port);
    o.set_credentials(user, pass).set_keep_alive(Duration::from_secs(5));
    if let Some(ca) = ca_pem {
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls_client_config(ca))));
    }
    let (c, mut ev) = AsyncClient::new(o, 16);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let seen = match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(a))) if a.code == ConnectReturnCode::Success => Seen::Connected,
                Ok(Event::Incoming(Packet::Publish(p))) => Seen::Message(p.topic, p.payload.to_vec()),
                Ok(_) => continue,
                Err(e) => {
                    // A given-up attempt stops: the broker binds sessions to
                    // logins, so a leftover one retrying with the same login
                    // would close the session that got in.
                    if tx.send(Seen::Refused(e.to_string())).is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    continue;
                }
            };
            if tx.send(seen).is_err() {
                return;
            }
        }
    });
    (c, rx)
}

/// The first connection outcome within 5 s.
async fn outcome(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Seen>) -> Result<(), String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(Seen::Connected)) => return Ok(()),
            Ok(Some(Seen::Refused(e))) => return Err(e),
            Ok(Some(Seen::Message(..))) => {}
            Ok(None) | Err(_) => return Err("no answer within 5 s".into()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_tls_answers_over_https_and_mqtts_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki = make_pki(dir.path(), "server");
    let serve = Serve::start(&data, &pki);
    assert!(serve.ready.contains(&format!("https://127.0.0.1:{}", serve.http_port)), "{}", serve.ready);
    assert!(serve.ready.contains(&format!("mqtts://127.0.0.1:{}", serve.mqtt_port)), "{}", serve.ready);
    let url = format!("https://127.0.0.1:{}/api/v1/health", serve.http_port);

    // HTTPS for a client that trusts the CA.
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let mut health = None;
    for _ in 0..50 {
        let r = trusting.get(&url).send().await.expect("HTTPS with the test CA");
        if r.status() == 200 {
            // Over TLS, browsers are told to use HTTPS only (issue 19).
            let hsts = r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(hsts.as_deref(), Some("max-age=31536000"));
            assert_eq!(r.headers()["cache-control"], "no-store");
            health = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let health = health.expect("health ok within 10 s");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["broker"]["connected"], true, "the ingest subscriber is connected: {health}");

    // A client with only the system's roots refuses the certificate.
    let e = reqwest::Client::new().get(&url).send().await.expect_err("an untrusted certificate");
    assert!(format!("{e:?}").to_lowercase().contains("certificate"), "{e:?}");

    // Plain HTTP to the HTTPS port gets no API data.
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", serve.http_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = tcp.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(!reply.contains("\"status\"") && !reply.starts_with("HTTP/1.1 200"), "plain HTTP got: {reply}");

    // An agent over MQTT with TLS: its login is taken (once the running
    // service has reloaded the broker's logins) and its publish reaches the
    // ingest, whose answer comes back (a refusal: the payload is no batch).
    let (agent, secret) = register_agent(&data);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (client, mut rx) = loop {
        let (c, mut rx) = mqtt(serve.mqtt_port, &agent, &secret, Some(&pki.ca_pem));
        match outcome(&mut rx).await {
            Ok(()) => break (c, rx),
            Err(e) => assert!(Instant::now() < deadline, "the agent's TLS login was not accepted: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    client.subscribe(wire::ack_topic(&agent), QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.publish(wire::batch_topic(&agent), QoS::AtLeastOnce, false, b"not a batch".to_vec()).await.unwrap();
    let ack = loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(Seen::Message(topic, payload))) if topic == wire::ack_topic(&agent) => {
                break Ack::parse(&payload).unwrap();
            }
            // Under load a login attempt given up on can still get in late and
            // take the session over (the broker binds sessions to logins); the
            // client then reconnects with a clean session: ask again on it.
            Ok(Some(Seen::Connected)) => {
                client.subscribe(wire::ack_topic(&agent), QoS::AtLeastOnce).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                client
                    .publish(wire::batch_topic(&agent), QoS::AtLeastOnce, false, b"not a batch".to_vec())
                    .await
                    .unwrap();
            }
            Ok(Some(_)) => {}
            other => panic!("no acknowledgement over TLS within 10 s ({})", other.is_ok()),
        }
    };
    assert!(!ack.ok, "{ack:?}");

    // Plain MQTT to the TLS port: no login.
    let (_plain, mut plain_rx) = mqtt(serve.mqtt_port, &agent, &secret, None);
    assert!(outcome(&mut plain_rx).await.is_err(), "a plain MQTT client got in on the TLS port");
    // A TLS client that does not trust the certificate: no login either.
    let other = make_pki(dir.path(), "other");
    let (_untrusting, mut untrusting_rx) = mqtt(serve.mqtt_port, &agent, &secret, Some(&other.ca_pem));
    let e = outcome(&mut untrusting_rx).await.unwrap_err();
    assert!(e.contains("certificate") || e.contains("Certificate"), "{e}");
    drop(serve);
}

/// Runs `serve` with these files; it must exit non-zero within 10 s without
/// listening. Returns its stderr.
fn refused_start(data: &Path, cert: &Path, key: &Path) -> String {
    let (http_port, mqtt_port) = (free_port(), free_port());
    let mut child =
        serve_cmd(data, http_port, mqtt_port, cert, key).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running with bad certificate files");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success(), "{err}");
    for port in [http_port, mqtt_port] {
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "something listens on {port}: {err}");
    }
    err
}

#[test]
fn bad_certificate_files_stop_serve_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki = make_pki(dir.path(), "server");
    let missing = dir.path().join("missing.pem");
    let garbled = dir.path().join("garbled.pem");
    std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n").unwrap();

    let e = refused_start(&data, &missing, &pki.key);
    assert!(e.contains("--tls-cert") && e.contains("missing.pem"), "{e}");
    let e = refused_start(&data, &garbled, &pki.key);
    assert!(e.contains("--tls-cert") && e.contains("garbled.pem"), "{e}");
    // The certificate where the key should be.
    let e = refused_start(&data, &pki.cert, &pki.cert);
    assert!(e.contains("--tls-key") && e.contains("server.pem"), "{e}");
    // A key of another certificate.
    let other = make_pki(dir.path(), "other");
    let e = refused_start(&data, &pki.cert, &other.key);
    assert!(e.contains("--tls-key") && e.contains("other.key"), "{e}");
    assert!(!data.join("broker").exists(), "the broker's files were written before the check");
}

/// The desktop's cloud link over HTTPS: with the agent config's `ca_file`
/// it trusts a cloud on a private CA and signs in; without it the
/// certificate is refused with a message saying so; a bad CA file is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_link_signs_in_over_https_with_the_ca_file() {
    use meterdeck_core::cloudlink::{CloudLink, MemoryPrefs};
    use meterdeck_core::notify::MemorySecrets;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki = make_pki(dir.path(), "server");
    let out = cli(
        &data,
        &["account", "create", "--id", "acme", "--name", "Acme", "--admin", "boss", "--email", "b@acme.test"],
    );
    let temp = out.lines().nth(1).expect("temporary password").trim().to_owned();
    let serve = Serve::start(&data, &pki);
    let base = format!("https://127.0.0.1:{}", serve.http_port);
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let link =
        |ca: Option<&Path>| CloudLink::with_ca(Arc::new(MemorySecrets::new()), Arc::new(MemoryPrefs::default()), ca);

    let trusting = link(Some(&ca)).unwrap();
    let st = trusting.sign_in(&base, "acme", "boss", &temp).await.unwrap();
    assert_eq!((st.error.as_deref(), st.step.as_deref()), (None, Some("password")), "{st:?}");
    let st = trusting.change_password(&temp, "Https-pass1").await.unwrap();
    assert!(st.signed_in && st.error.is_none(), "{st:?}");

    let e = link(None).unwrap().sign_in(&base, "acme", "boss", "Https-pass1").await;
    let text = format!("{e:?}").to_lowercase();
    assert!(text.contains("certificate"), "{text}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let e = link(Some(&garbage)).err().expect("a bad CA file is refused").to_string();
    assert!(e.contains("garbage.pem") && e.contains("no PEM certificate"), "{e}");
    let e = link(Some(&dir.path().join("missing.pem"))).err().expect("a missing CA file is refused").to_string();
    assert!(e.contains("missing.pem") && e.contains("cannot read"), "{e}");
}
