//! The cloud's side of remote commands (issue 16, docs/protocol.md
//! "Remote commands"): its own MQTT connection publishes a signed command
//! on `md/v1/<agent>/down/cmd` and waits for the reply with the same id on
//! `md/v1/<agent>/up/reply`. Every process subscribes to all replies (not
//! shared): the one that sent a command is the one waiting for its id.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use meterdeck_wire::remote::{self, Reply};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

/// How long the API waits for an agent's reply by default.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the cloud is not connected to its broker now; try again in a moment")]
    NotConnected,
    #[error("the command could not be queued for the broker: {0}")]
    Publish(String),
    #[error("agent {agent} did not answer within {} s", timeout.as_secs())]
    Timeout { agent: String, timeout: Duration },
}

struct Waiting {
    agent: String,
    tx: oneshot::Sender<Reply>,
}

/// Publishes commands and hands each reply to whoever waits for it.
pub struct RemoteBus {
    client: AsyncClient,
    pending: std::sync::Mutex<HashMap<String, Waiting>>,
    connected: AtomicBool,
}

impl RemoteBus {
    /// Connects (and reconnects by itself) with the cloud's broker login.
    pub fn start(host: &str, port: u16, user: &str, password: &str) -> Arc<RemoteBus> {
        use rand::RngCore;
        let id = format!("meterdeck-cloud-remote-{:016x}", rand::rng().next_u64());
        let mut opts = MqttOptions::new(id, host, port);
        opts.set_credentials(user, password)
            .set_keep_alive(Duration::from_secs(15))
            .set_clean_session(true)
            .set_max_packet_size(remote::MAX_REMOTE_BYTES + 1024, remote::MAX_REMOTE_BYTES + 1024);
        let (client, mut events) = AsyncClient::new(opts, 256);
        // A command and its reply are small packets: no Nagle delay behind
        // the previous PUBACK (about 40 ms each way otherwise).
        let mut net = events.network_options();
        net.set_tcp_nodelay(true);
        events.set_network_options(net);
        let bus = Arc::new(RemoteBus { client, pending: Default::default(), connected: AtomicBool::new(false) });
        let weak = Arc::downgrade(&bus);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            loop {
                let event = events.poll().await;
                let Some(bus) = weak.upgrade() else { return };
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        // Clean session: subscribe on every connection.
                        if let Err(e) = bus.client.subscribe(remote::REPLY_SUBSCRIPTION, QoS::AtLeastOnce).await {
                            warn!("remote commands: cannot subscribe to the replies: {e}");
                        }
                        backoff = Duration::from_millis(200);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        bus.connected.store(true, Ordering::Relaxed);
                        info!("remote commands: connected to the broker");
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => bus.on_reply(&p.topic, &p.payload),
                    Ok(_) => {}
                    Err(e) => {
                        if bus.connected.swap(false, Ordering::Relaxed) {
                            warn!("remote commands lost the broker: {e}");
                        }
                        drop(bus);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        });
        bus
    }

    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    fn on_reply(&self, topic: &str, payload: &[u8]) {
        let Some(agent) = remote::agent_of_reply_topic(topic) else {
            debug!(%topic, "remote commands: ignoring a message outside the reply topics");
            return;
        };
        let reply = match Reply::parse(payload) {
            Ok(r) => r,
            Err(e) => {
                warn!(%agent, "remote commands: unreadable reply ignored: {e}");
                return;
            }
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // Only the agent the command went to may answer it.
        if pending.get(&reply.id).is_some_and(|w| w.agent == agent)
            && let Some(w) = pending.remove(&reply.id)
        {
            let _ = w.tx.send(reply);
        }
    }

    /// Publishes `payload` (a sealed command with id `id`) to `agent` and
    /// waits up to `timeout` for its reply.
    pub async fn send(&self, agent: &str, id: &str, payload: Vec<u8>, timeout: Duration) -> Result<Reply, BusError> {
        if !self.connected() {
            return Err(BusError::NotConnected);
        }
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), Waiting { agent: agent.into(), tx });
        let forget = || self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        if let Err(e) = self.client.publish(remote::command_topic(agent), QoS::AtLeastOnce, false, payload).await {
            forget();
            return Err(BusError::Publish(e.to_string()));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            _ => {
                forget();
                Err(BusError::Timeout { agent: agent.into(), timeout })
            }
        }
    }
}
