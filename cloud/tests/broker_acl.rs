//! The broker files meterdeck-cloud writes, against a real Mosquitto: agent
//! logins by hash, each agent confined to its own prefix (a publish under
//! another agent's prefix never reaches the cloud, another agent's acks are
//! never delivered), wrong secrets refused, new agents after a reload.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meterdeck_cloud::broker::{BrokerFiles, CLOUD_BROKER_USER, mosquitto_hash};
use meterdeck_wire::sync as wire;
use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(files: &BrokerFiles, port: u16) -> Mosquitto {
    files.write_conf("127.0.0.1", port).unwrap();
    // Owned by the guard at once: a panic below still stops and reaps it.
    let broker = Mosquitto(
        Command::new("mosquitto")
            .arg("-c")
            .arg(files.conf())
            .stdin(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (apt install mosquitto)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return broker;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("mosquitto did not listen on {port}");
}

enum Seen {
    Connected(Result<(), ConnectReturnCode>),
    Message(String, Vec<u8>),
}

/// A client whose event loop runs in a task and reports what it sees.
fn client(port: u16, user: &str, pass: &str) -> (AsyncClient, mpsc::UnboundedReceiver<Seen>) {
    let mut o = MqttOptions::new(format!("t-{user}-{}", rand::random::<u32>()), "127.0.0.1", port);
    o.set_credentials(user, pass).set_keep_alive(Duration::from_secs(5));
    let (c, mut ev) = AsyncClient::new(o, 16);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(a))) => {
                    let r = if a.code == ConnectReturnCode::Success { Ok(()) } else { Err(a.code) };
                    let _ = tx.send(Seen::Connected(r));
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(Seen::Message(p.topic, p.payload.to_vec()));
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                    let _ = tx.send(Seen::Connected(Err(code)));
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    (c, rx)
}

async fn connected(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Result<(), ConnectReturnCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("no CONNACK within 5 s") {
            Some(Seen::Connected(r)) => return r,
            Some(_) => {}
            None => panic!("client stopped"),
        }
    }
}

/// Messages that arrive within `wait`.
async fn drain(rx: &mut mpsc::UnboundedReceiver<Seen>, wait: Duration) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Seen::Message(t, p) = s {
            out.push((t, p));
        }
    }
    out
}

#[tokio::test]
async fn agents_are_confined_to_their_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let files = BrokerFiles { dir: dir.path().to_owned() };
    let cloud_pw = "cloud-secret";
    let agents = vec![("a-1".to_string(), mosquitto_hash("s1")), ("a-2".to_string(), mosquitto_hash("s2"))];
    files.write_acl().unwrap();
    files.write_passwd(&mosquitto_hash(cloud_pw), &agents).unwrap();
    let port = free_port();
    let broker = start(&files, port);

    let (cloud, mut cloud_rx) = client(port, CLOUD_BROKER_USER, cloud_pw);
    connected(&mut cloud_rx).await.expect("the cloud logs in with its hashed password");
    cloud.subscribe(wire::CLOUD_SUBSCRIPTION, QoS::AtLeastOnce).await.unwrap();

    let (a1, mut a1_rx) = client(port, "a-1", "s1");
    connected(&mut a1_rx).await.expect("agent a-1 logs in");
    a1.subscribe("md/v1/a-1/down/#", QoS::AtLeastOnce).await.unwrap();
    let (a2, mut a2_rx) = client(port, "a-2", "s2");
    connected(&mut a2_rx).await.expect("agent a-2 logs in");
    // a-2 tries to listen to a-1's acks and to the whole tree.
    a2.subscribe("md/v1/a-1/down/#", QoS::AtLeastOnce).await.unwrap();
    a2.subscribe("md/v1/#", QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    a1.publish(wire::batch_topic("a-1"), QoS::AtLeastOnce, false, b"from a-1".to_vec()).await.unwrap();
    a2.publish(wire::batch_topic("a-1"), QoS::AtLeastOnce, false, b"a-2 posing as a-1".to_vec()).await.unwrap();
    a2.publish(wire::batch_topic("a-2"), QoS::AtLeastOnce, false, b"from a-2".to_vec()).await.unwrap();
    let got = drain(&mut cloud_rx, Duration::from_secs(1)).await;
    let payloads: Vec<&[u8]> = got.iter().map(|(_, p)| p.as_slice()).collect();
    assert!(payloads.contains(&b"from a-1".as_slice()), "{got:?}");
    assert!(payloads.contains(&b"from a-2".as_slice()), "{got:?}");
    assert!(!payloads.contains(&b"a-2 posing as a-1".as_slice()), "the broker let a-2 write as a-1");
    assert_eq!(wire::agent_of_topic(&got[0].0).map(|a| a == "a-1" || a == "a-2"), Some(true));

    cloud.publish(wire::ack_topic("a-1"), QoS::AtLeastOnce, false, b"ack for a-1".to_vec()).await.unwrap();
    let a1_got = drain(&mut a1_rx, Duration::from_secs(1)).await;
    assert_eq!(a1_got.len(), 1, "a-1 gets its own ack");
    let a2_got = drain(&mut a2_rx, Duration::from_millis(300)).await;
    assert!(a2_got.is_empty(), "a-2 read another agent's messages: {a2_got:?}");

    // A wrong secret and an unknown agent are refused at login.
    let (_bad, mut bad_rx) = client(port, "a-1", "wrong");
    assert!(connected(&mut bad_rx).await.is_err());
    let (_new, mut new_rx) = client(port, "a-3", "s3");
    assert!(connected(&mut new_rx).await.is_err());

    // Registering a-3: rewrite the password file, SIGHUP, and it gets in.
    let mut more = agents.clone();
    more.push(("a-3".into(), mosquitto_hash("s3")));
    files.write_passwd(&mosquitto_hash(cloud_pw), &more).unwrap();
    Command::new("kill").arg("-HUP").arg(broker.0.id().to_string()).status().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_a3, mut a3_rx) = client(port, "a-3", "s3");
    connected(&mut a3_rx).await.expect("a-3 logs in after the reload");
}
