//! `admin::mosquitto_hash` checked by a real Mosquitto: a password file
//! with the hash lets the agent in with its secret and nobody else.
//! Run: `cargo test -p meterdeck-cloud --test api_broker_hash`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meterdeck_cloud::admin::{mosquitto_hash, new_agent_id, new_agent_secret};
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet};

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn connect(port: u16, user: &str, password: &str) -> Result<(), String> {
    let mut opts = MqttOptions::new(format!("t-{}", new_agent_id()), "127.0.0.1", port);
    opts.set_credentials(user, password);
    let (_client, mut events) = AsyncClient::new(opts, 4);
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) if ack.code == rumqttc::ConnectReturnCode::Success => {
                return Ok(());
            }
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => return Err(format!("{:?}", ack.code)),
            Ok(Ok(_)) => continue,
            Ok(Err(ConnectionError::ConnectionRefused(code))) => return Err(format!("{code:?}")),
            Ok(Err(e)) => return Err(format!("{e}")),
            Err(_) => return Err("timeout".into()),
        }
    }
}

#[tokio::test]
async fn mosquitto_accepts_the_hash_of_the_secret_only() {
    let dir = tempfile::tempdir().unwrap();
    let (agent, secret) = (new_agent_id(), new_agent_secret());
    let pw = dir.path().join("passwd");
    std::fs::write(&pw, format!("{agent}:{}\n", mosquitto_hash(&secret))).unwrap();
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n",
            pw.display()
        ),
    )
    .unwrap();
    let _broker = Broker(
        Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    connect(port, &agent, &secret).await.expect("the agent's secret is accepted");
    let wrong = connect(port, &agent, "not-the-secret").await;
    assert!(wrong.is_err(), "a wrong secret must be refused");
    assert!(connect(port, "a-0000000000000000", &secret).await.is_err(), "another login must be refused");
}
