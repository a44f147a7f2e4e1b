//! MQTT ingest: the cloud's subscriber for every agent's batches
//! (docs/protocol.md, "Cloud rules"). One event loop owns the connection;
//! workers decode, store in one transaction and only then publish the ack.
//! A refused payload gets an error ack and is counted; it never stops ingest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use meterdeck_wire::sync::{self as wire, Ack};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::state::MailConfig;
use crate::store::{IngestBatch, IngestLimits, MonthTraffic, Storage, StoreError};

/// Where the ingest subscriber logs in.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// Batches decoded and stored at once (SQLite serialises the commits;
    /// PostgreSQL and decoding run in parallel).
    pub workers: usize,
    /// For the 90 % / 100 % traffic alarms (else logged only).
    pub mail: Option<MailConfig>,
    /// Opens the accounts' alarm destinations (none: the admins by mail).
    pub seal: Option<crate::alarms::SealKey>,
    /// Refused batches get an error ack naming the limit.
    pub limits: IngestLimits,
}

/// Largest packet ingest reads. Above the broker's own limit (the managed
/// Mosquitto's `max_packet_size` is 5,000,000), not at the wire limit: a
/// payload between the two must reach `decode_batch` and get its error ack;
/// a packet over this limit would drop ingest's connection to the broker
/// instead, unanswered, and stall every agent until the reconnect.
const MAX_INCOMING_PACKET: usize = 16 * 1024 * 1024;

/// Counters for health and logs.
#[derive(Debug, Default)]
pub struct IngestStats {
    pub batches: AtomicU64,
    pub samples: AtomicU64,
    pub refused: AtomicU64,
    pub failed: AtomicU64,
}

struct Job {
    agent: String,
    payload: bytes::Bytes,
    /// A presence message (`md/v1/<agent>/up/status`), not a batch.
    presence: bool,
}

/// Runs until the task is aborted; reconnects by itself.
pub async fn run(
    cfg: IngestConfig,
    store: Arc<dyn Storage>,
    connected: Arc<AtomicBool>,
    stats: Arc<IngestStats>,
) -> anyhow::Result<()> {
    let mut opts = MqttOptions::new(client_id(), cfg.host.clone(), cfg.port);
    opts.set_credentials(cfg.user.clone(), cfg.password.clone())
        .set_keep_alive(Duration::from_secs(15))
        .set_clean_session(true)
        .set_max_packet_size(MAX_INCOMING_PACKET, 64 * 1024)
        .set_inflight(64);
    let (client, mut events) = AsyncClient::new(opts, 256);
    let (tx, rx) = mpsc::channel::<Job>(cfg.workers.max(1) * 4);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let allowances = Arc::new(crate::licence::traffic::AllowanceCache::default());
    for _ in 0..cfg.workers.max(1) {
        let (rx, store, client, stats) = (rx.clone(), store.clone(), client.clone(), stats.clone());
        let allowances = allowances.clone();
        let (mail, limits) = (crate::alarms::Notifier::new(cfg.mail.clone(), cfg.seal.clone(), None), cfg.limits);
        tokio::spawn(async move {
            loop {
                let job = { rx.lock().await.recv().await };
                let Some(job) = job else { break };
                handle(job, &store, &client, &stats, &mail, limits, &allowances).await;
            }
        });
    }
    // Acknowledgements made in the cloud go down over this connection.
    let acks = tokio::spawn(crate::acks::run(client.clone(), store.clone()));
    let out = poll(&client, &mut events, &tx, &connected, &subscription(&cfg.password)).await;
    acks.abort();
    out
}

/// The shared group of the cloud's ingest processes, named from their
/// broker secret: every process with the same login finds the same group,
/// and an agent, not knowing the secret, cannot join it (a member that may
/// not read the batches would swallow its share of them, and brokers such
/// as Mosquitto do not refuse the subscription itself).
pub fn share_group(cloud_password: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("meterdeck-cloud shared group\n{cloud_password}").as_bytes());
    format!("md-{}", hex::encode(&digest[..12]))
}

/// The ingest's subscription: every agent's batches, split between the
/// members of [`share_group`].
pub fn subscription(cloud_password: &str) -> String {
    format!("$share/{}/md/v1/+/up/batch", share_group(cloud_password))
}

fn client_id() -> String {
    use rand::RngCore;
    format!("meterdeck-cloud-{:016x}", rand::rng().next_u64())
}

async fn poll(
    client: &AsyncClient,
    events: &mut EventLoop,
    tx: &mpsc::Sender<Job>,
    connected: &AtomicBool,
    subscription: &str,
) -> anyhow::Result<()> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                // Clean session: subscribe on every connection.
                client.subscribe(subscription, QoS::AtLeastOnce).await?;
                // Presence (retained): each process keeps every agent's; the
                // store decides which process mails an offline alarm.
                client.subscribe(wire::STATUS_SUBSCRIPTION, QoS::AtLeastOnce).await?;
                connected.store(true, Ordering::Relaxed);
                backoff = Duration::from_millis(200);
                info!("ingest connected to the broker");
            }
            Ok(Event::Incoming(Packet::Publish(p))) if wire::agent_of_status_topic(&p.topic).is_some() => {
                let agent = wire::agent_of_status_topic(&p.topic).unwrap_or_default().to_owned();
                if tx.send(Job { agent, payload: p.payload, presence: true }).await.is_err() {
                    anyhow::bail!("ingest workers stopped");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let Some(agent) = wire::agent_of_topic(&p.topic) else {
                    debug!(topic = %p.topic, "ignoring a message outside the batch topics");
                    continue;
                };
                let job = Job { agent: agent.to_owned(), payload: p.payload, presence: false };
                if tx.send(job).await.is_err() {
                    anyhow::bail!("ingest workers stopped");
                }
            }
            Ok(_) => {}
            Err(e) => {
                if connected.swap(false, Ordering::Relaxed) {
                    warn!("ingest lost the broker: {e}");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn handle(
    job: Job,
    store: &Arc<dyn Storage>,
    client: &AsyncClient,
    stats: &IngestStats,
    mail: &crate::alarms::Notifier,
    limits: IngestLimits,
    allowances: &crate::licence::traffic::AllowanceCache,
) {
    let now = meterdeck_wire::now_ms();
    if job.presence {
        return presence(store, &job.agent, &job.payload, now).await;
    }
    let size = job.payload.len() as u64;
    let payload = job.payload;
    // Decoding checks every block and derives what storage keeps of the
    // samples (one decode): CPU work, off the async threads. The id is only
    // read apart for an error ack: a good batch carries it.
    let decoded = tokio::task::spawn_blocking(move || {
        let batch = IngestBatch::decode(&payload);
        let ids = if batch.is_err() { wire::peek_ids(&payload) } else { (None, None) };
        (batch, ids)
    })
    .await;
    let (decoded, (id, store_id)) = match decoded {
        Ok(x) => x,
        Err(e) => {
            // A bug, not the agent's fault: the details (panic text) go to
            // the log only, never into the ack.
            tracing::error!(agent = %job.agent, "decoding a batch failed: {e}");
            let msg = "the cloud could not decode this batch (an internal error, logged); report it".to_string();
            (Err(wire::WireError(msg)), (None, None))
        }
    };
    let mut traffic = None;
    let ack = match decoded {
        Err(e) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            warn!(agent = %job.agent, batch = ?id, "refused a batch: {e}");
            match store.ingest_refused(&job.agent, &e.0, size, now).await {
                Ok(t) => traffic = Some(t),
                Err(se) => warn!(agent = %job.agent, "could not count the refusal: {se}"),
            }
            Ack { store: store_id, ..Ack::refused(id, e.0) }
        }
        Ok(batch) => match async {
            store_records(store, &job.agent, &batch).await?;
            store.ingest_limited(&job.agent, &batch, size, now, limits).await
        }
        .await
        {
            Ok(out) => {
                stats.batches.fetch_add(1, Ordering::Relaxed);
                stats.samples.fetch_add(out.stored, Ordering::Relaxed);
                traffic = Some(out.traffic);
                Ack::stored(batch.batch.header.batch, out.stored).for_store(&batch.batch.header.store)
            }
            Err(StoreError::Refused(why)) => {
                // Over a limit: nothing was stored; counted like a malformed batch.
                stats.refused.fetch_add(1, Ordering::Relaxed);
                warn!(agent = %job.agent, batch = batch.batch.header.batch, "refused a batch: {why}");
                match store.ingest_refused(&job.agent, &why, size, now).await {
                    Ok(t) => traffic = Some(t),
                    Err(se) => warn!(agent = %job.agent, "could not count the refusal: {se}"),
                }
                Ack::refused(Some(batch.batch.header.batch), why).for_store(&batch.batch.header.store)
            }
            Err(StoreError::NotFound(what)) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                Ack::refused(Some(batch.batch.header.batch), format!("{what} not found: the agent is not registered"))
                    .for_store(&batch.batch.header.store)
            }
            Err(e) => {
                // Not stored, so no ack: the agent sends it again after its timeout.
                stats.failed.fetch_add(1, Ordering::Relaxed);
                warn!(agent = %job.agent, batch = batch.batch.header.batch, "could not store a batch: {e}");
                return;
            }
        },
    };
    if let Err(e) = client.publish(wire::ack_topic(&job.agent), QoS::AtLeastOnce, false, ack.to_json()).await {
        warn!(agent = %job.agent, "could not queue the ack: {e}");
    }
    // A gateway's allowance is its Remote plan's; other agents have the
    // account's own (set by the operator; 0: none).
    if let Some(t) = traffic.as_mut()
        && let Some(gateway) = allowances.get(&**store, &job.agent, now).await
    {
        t.allowance = gateway;
    }
    let full = traffic.filter(|t| crate::traffic_notice::crossed_full(*t, size));
    if let Some(t) = full.or(traffic.filter(|t| crate::traffic_notice::crossed(*t, size))) {
        notice(store.clone(), mail.clone(), job.agent, t, now);
    }
}

/// A batch's records (protocol v2) go first, in their own transaction:
/// the samples' transaction then counts the payload and the agent's sync
/// state, and only after both committed is the batch acknowledged. A crash
/// between the two only causes a resend, which stores no record twice.
async fn store_records(store: &Arc<dyn Storage>, agent: &str, batch: &IngestBatch) -> Result<u64, StoreError> {
    let h = &batch.batch.header;
    if h.records.is_empty() {
        return Ok(0);
    }
    store.records().store_records(agent, &h.store, &h.records, meterdeck_wire::now_ms()).await
}

/// An agent's presence message: stored for the offline monitor
/// (`crate::watch`). A malformed one is logged and ignored.
async fn presence(store: &Arc<dyn Storage>, agent: &str, payload: &[u8], now: i64) {
    if payload.is_empty() {
        // A cleared retained message: nothing to say.
        return;
    }
    match wire::Presence::parse(payload) {
        Ok(p) => {
            debug!(agent, online = p.online, "agent presence");
            if let Err(e) = store.records().set_presence(agent, p.online, now).await {
                warn!(agent, "could not store the agent's presence: {e}");
            }
        }
        Err(e) => warn!(agent, "ignoring a malformed presence message: {e}"),
    }
}

/// Mailing may take seconds: off the worker, after the ack.
fn notice(store: Arc<dyn Storage>, n: crate::alarms::Notifier, agent: String, t: MonthTraffic, now: i64) {
    tokio::spawn(async move { crate::traffic_notice::notify(&*store, &n, &agent, t, now).await });
}
