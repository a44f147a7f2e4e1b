//! The drain task: the one owner of the MQTT connection. It reads sealed
//! outbox rows through the writer thread (which owns the store), packs and
//! publishes them at QoS 1, and deletes rows only on the cloud's `ok`
//! acknowledgement (a broker PUBACK deletes nothing). A second task pumps
//! rumqttc's event loop (reconnecting with capped backoff) and hands the
//! drain what happened, so the drain never waits on the network and the
//! network never waits on the store. Ingest is never blocked by either.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration,
    Transport,
};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use super::SyncMsg;
use super::outflow::{AckOutcome, Outflow};
use super::settings::{CloudFieldError, CloudSettings};
use super::status::Persisted;
use super::tls::TlsFileError;
use super::traffic::Traffic;
use super::wire::{self, Ack, MAX_PAYLOAD_BYTES};
use crate::model::now_ms;
use crate::notify::SecretStore;
use crate::notify::secrets::read_secret;
use crate::outbox::{Fetched, OutboxError};
use crate::poll::{Backoff, BackoffPolicy};

/// Timing of the drain; the defaults suit production, tests shorten them.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// How often resend timers and the status are looked at.
    pub tick: Duration,
    /// After a failed outbox read, try again this much later.
    pub retry_fetch: Duration,
    /// How often the live status is written to the store.
    pub status_every: Duration,
    /// New outbox rows asked for per read.
    pub fetch_rows: usize,
    /// A message is closed at about this many bytes.
    pub target_payload_bytes: usize,
    /// Reconnect delays.
    pub backoff: BackoffPolicy,
    pub keep_alive: Duration,
    /// Retry a missing keychain secret this often (`cloud login` may come later).
    pub secret_retry: Duration,
    /// The clock of the traffic month (tests move it to the next month).
    pub clock: Clock,
}

/// Milliseconds since the epoch, UTC; injectable for tests.
#[derive(Clone)]
pub struct Clock(pub Arc<dyn Fn() -> crate::model::TimeMs + Send + Sync>);

impl Clock {
    pub fn now(&self) -> crate::model::TimeMs {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock(Arc::new(now_ms))
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            tick: Duration::from_millis(250),
            retry_fetch: Duration::from_secs(2),
            status_every: Duration::from_secs(2),
            fetch_rows: 512,
            target_payload_bytes: wire::TARGET_PAYLOAD_BYTES,
            backoff: BackoffPolicy { base: Duration::from_secs(1), cap: Duration::from_secs(30), jitter: 0.2 },
            // A black-holed link shows as a missing PINGRESP after about two of these.
            keep_alive: Duration::from_secs(10),
            secret_retry: Duration::from_secs(10),
            clock: Clock::default(),
        }
    }
}

const NO_ACK: &str = "no acknowledgement from the cloud";
const ANOTHER_STORE: &str = "another process syncs";
/// How long after another store's last ack the warning stays up.
const ANOTHER_STORE_QUIET: Duration = Duration::from_secs(300);

/// What the event pump saw.
enum Net {
    Up,
    Down(String),
    Ack(Vec<u8>),
    /// An acknowledgement of one of our alarms made in the cloud.
    CloudAck(Vec<u8>),
    /// The broker refused the subscription to the acknowledgements.
    SubRefused,
    /// A remote command from the cloud (`down/cmd`).
    Cmd(Vec<u8>),
}

/// The drain; `W` is the writer's message type, which the drain's
/// [`SyncMsg`]s are converted into.
pub(crate) struct SyncTask<W> {
    pub cloud: CloudSettings,
    pub store_id: String,
    /// The status as the last run left it (the month's traffic).
    pub persisted: Persisted,
    pub writer: mpsc::Sender<W>,
    pub shutdown: watch::Receiver<bool>,
    pub secrets: Arc<dyn SecretStore>,
    pub opts: SyncOptions,
    /// The monthly allowance a licence sets (a gateway's Remote plan),
    /// updated when a new licence arrives.
    pub cap: watch::Receiver<TrafficCap>,
    /// Carries out the cloud's remote commands (issue 16).
    pub remote: crate::remote::RemoteExec,
}

/// The traffic allowance in force: a gateway's Remote plan stops publishing
/// at 100 % (`plan` names it); without one the `[cloud]` allowance only
/// raises the 90 % notice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrafficCap {
    pub plan: Option<String>,
    pub bytes: u64,
}

struct State {
    p: Persisted,
    traffic: Traffic,
    /// When an ack for another store of this agent id last arrived.
    foreign_ack: Option<tokio::time::Instant>,
}

impl State {
    fn snapshot(&mut self) -> String {
        self.p.month = self.traffic.month.clone();
        self.p.month_bytes = self.traffic.bytes;
        self.p.notice_month = self.traffic.notice_month.clone();
        self.p.updated_ms = now_ms();
        self.p.to_json()
    }
}

impl<W: From<SyncMsg> + From<crate::remote::StoreJob> + Send + 'static> SyncTask<W> {
    pub(crate) async fn run(mut self) {
        let now = now_ms();
        let mut p = self.persisted.clone();
        p.enabled = true;
        p.connected = false;
        p.agent = Some(self.cloud.agent.clone());
        p.broker = Some(self.cloud.broker());
        p.allowance_bytes = self.cloud.allowance_bytes;
        let mut traffic =
            Traffic::new(p.month.clone(), p.month_bytes, self.cloud.allowance_bytes, p.notice_month.clone());
        traffic.roll(now);
        let mut st = State { p, traffic, foreign_ack: None };
        self.apply_cap(&mut st);
        let Some(secret) = self.secret(&mut st).await else {
            self.persist(&mut st).await;
            return;
        };
        let mo = match mqtt_options(&self.cloud, self.cloud.agent.clone()) {
            Ok(mo) => mo,
            Err(e) => {
                // The files were fine when the config was loaded; say so and wait for a restart.
                warn!("cloud sync cannot start: {e}");
                st.p.last_error = Some(format!("cannot set up TLS to the broker: {e}"));
                self.persist(&mut st).await;
                let _ = self.shutdown.changed().await;
                return;
            }
        };
        st.p.last_error = None;
        self.drain(&mut st, mo, secret).await;
        st.p.connected = false;
        self.persist(&mut st).await;
    }

    /// The broker secret from the keychain; waits (retrying) while it is
    /// missing. `None` on shutdown.
    async fn secret(&mut self, st: &mut State) -> Option<String> {
        let entry = super::secret_entry(&self.cloud.agent);
        let mut warned = false;
        loop {
            match read_secret(&self.secrets, entry.clone()).await {
                Ok(Some(s)) if !s.is_empty() => return Some(s),
                Ok(_) => {
                    st.p.last_error = Some(format!(
                        "no secret in the OS keychain (entry {entry}); run `meterdeck-agent cloud login --agent {} --broker {}`",
                        self.cloud.agent,
                        self.cloud.broker()
                    ))
                }
                Err(e) => st.p.last_error = Some(format!("cannot read the cloud secret: {e}")),
            }
            // Said once; the status keeps showing it.
            if !warned {
                warn!("cloud sync waits: {}", st.p.last_error.as_deref().unwrap_or(""));
                warned = true;
            }
            self.persist(st).await;
            tokio::select! {
                _ = self.shutdown.changed() => return None,
                _ = tokio::time::sleep(self.opts.secret_retry) => {}
            }
        }
    }

    /// Takes the allowance of the licence in force (on start and whenever
    /// a new licence changed it).
    fn apply_cap(&mut self, st: &mut State) {
        let cap = self.cap.borrow_and_update().clone();

        let bytes = if cap.plan.is_some() { cap.bytes } else { self.cloud.allowance_bytes };
        st.traffic.allowance = bytes;
        st.p.allowance_bytes = bytes;
        st.p.allowance_plan = cap.plan;
    }

    /// Whether the month's allowance of a Remote plan is used up: then
    /// nothing is published (the outbox keeps buffering) until the month
    /// turns or a licence lifts it. Says so once when it starts and ends.
    async fn over_cap(&mut self, st: &mut State) -> bool {
        if self.cap.has_changed().unwrap_or(false) {
            self.apply_cap(st);
        }
        let now = self.opts.clock.now();
        st.traffic.roll(now);
        let over = st.p.allowance_plan.is_some() && st.traffic.bytes >= st.traffic.allowance;
        match (over, st.p.paused.is_some()) {
            (true, false) => {
                let resume = crate::fmt::format_time(super::traffic::next_month_start(now));
                let message = format!(
                    "cloud sync paused: this gateway has used its {} allowance of {} for {}; samples stay in the outbox                      and are sent from {resume} or when a licence with a larger allowance arrives",
                    st.p.allowance_plan.as_deref().unwrap_or("?"),
                    crate::fmt::format_bytes(st.traffic.allowance),
                    st.traffic.month
                );
                warn!("{message}");
                st.p.paused = Some(message.clone());
                let note_id = Some(format!("sync-paused:{}", st.traffic.month));
                let _ = self.tell(SyncMsg::Notice { message, note_id }).await;
                self.persist(st).await;
            }
            (false, true) => {
                info!(
                    "cloud sync resumed ({} of {} used in {})",
                    st.traffic.bytes, st.traffic.allowance, st.traffic.month
                );
                st.p.paused = None;
                self.persist(st).await;
            }
            _ => {}
        }
        over
    }

    async fn persist(&self, st: &mut State) {
        let _ = self.tell(SyncMsg::Status(st.snapshot())).await;
    }

    /// Err when the writer is gone.
    async fn tell(&self, msg: SyncMsg) -> Result<(), ()> {
        self.writer.send(msg.into()).await.map_err(|_| ())
    }

    async fn drain(&mut self, st: &mut State, mut mo: MqttOptions, secret: String) {
        let agent = self.cloud.agent.clone();
        let batch_topic = wire::batch_topic(&agent);
        let ack_topic = wire::ack_topic(&agent);
        let alarm_ack_topic = meterdeck_wire::alarms::alarm_ack_topic(&agent);
        let cmd_topic = meterdeck_wire::remote::command_topic(&agent);
        let reply_topic = meterdeck_wire::remote::reply_topic(&agent);
        // Presence for the cloud's offline alarms: "online" (retained) on every
        // connection, "offline" by the broker's last will when the connection
        // dies unclosed, and by us when the drain stops.
        let status_topic = wire::status_topic(&agent);
        let presence = |online| wire::Presence { v: 1, online }.to_json();
        mo.set_last_will(rumqttc::LastWill::new(status_topic.clone(), presence(false), QoS::AtLeastOnce, true));
        let window = self.cloud.window;
        mo.set_keep_alive(self.opts.keep_alive)
            // Unacknowledged batches are ours to resend, in order, on every connection.
            .set_clean_session(true)
            .set_credentials(agent.clone(), secret)
            .set_max_packet_size(64 * 1024, MAX_PAYLOAD_BYTES + 64 * 1024)
            .set_inflight(u16::try_from(window * 2 + 8).unwrap_or(u16::MAX))
            .set_request_channel_capacity(window * 4 + 16);
        let (client, mut eventloop) = AsyncClient::new(mo, window * 4 + 16);
        // A remote command's reply follows the PUBACK of the command: no
        // Nagle delay behind it (about 40 ms otherwise).
        let mut net = eventloop.network_options();
        net.set_tcp_nodelay(true);
        eventloop.set_network_options(net);
        let (net_tx, mut net_rx) = mpsc::channel(256);
        let seed =
            agent.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let login = Login { secrets: self.secrets.clone(), entry: super::secret_entry(&agent), user: agent.clone() };
        let pump = tokio::spawn(pump(
            eventloop,
            net_tx,
            ack_topic.clone(),
            alarm_ack_topic.clone(),
            cmd_topic.clone(),
            self.opts.backoff,
            seed,
            self.cloud.broker(),
            login,
        ));
        let mut flow = Outflow::new(
            self.store_id.clone(),
            window,
            self.cloud.resend_timeout,
            self.opts.target_payload_bytes,
            super::first_batch_id(now_ms()),
        );
        info!("cloud sync to {} as {agent} (store {})", self.cloud.broker(), self.store_id);
        let mut connected = false;
        let mut fetch: Option<oneshot::Receiver<Result<Fetched, OutboxError>>> = None;
        let mut next_fetch = Instant::now();
        let mut asked = 0;
        let mut next_status = Instant::now();
        let mut next_presence = Instant::now() + PRESENCE_EVERY;
        let mut tick = tokio::time::interval(self.opts.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let paused = self.over_cap(st).await;
            if connected
                && !paused
                && fetch.is_none()
                && Instant::now() >= next_fetch
                && let Some(limit) = flow.fetch_limit(self.opts.fetch_rows)
            {
                let (reply, rx) = oneshot::channel();
                asked = limit;
                if self.tell(SyncMsg::OutboxNext { limit, reply }).await.is_err() {
                    break;
                }
                flow.fetch_started();
                fetch = Some(rx);
            }
            if flow.stalled() && !st.p.last_error.as_deref().is_some_and(|e| e.contains("paused")) {
                let message = format!(
                    "cloud sync paused until the agent restarts: the cloud refused {} outbox rows (last error: {})",
                    flow.parked_rows(),
                    st.p.last_error.as_deref().unwrap_or("-")
                );
                warn!("{message}");
                st.p.last_error = Some(message.clone());
                let _ = self.tell(SyncMsg::Notice { message, note_id: None }).await;
            }
            tokio::select! {
                _ = self.shutdown.changed() => break,
                net = net_rx.recv() => match net {
                    None => break,
                    Some(Net::Up) => {
                        info!("cloud sync connected to {}", self.cloud.broker());
                        connected = true;
                        st.p.connected = true;
                        st.p.last_error = None;
                        if let Err(e) = client.try_subscribe(ack_topic.clone(), QoS::AtLeastOnce) {
                            st.p.last_error = Some(format!("cannot subscribe to the acknowledgements: {e}"));
                        }
                        // Alarm acknowledgements made in the cloud (resent until our journal shows them).
                        if let Err(e) = client.try_subscribe(alarm_ack_topic.clone(), QoS::AtLeastOnce) {
                            warn!("cannot subscribe to {alarm_ack_topic}: {e}");
                        }
                        if let Err(e) = client.try_subscribe(cmd_topic.clone(), QoS::AtLeastOnce) {
                            warn!("cannot subscribe to the cloud's remote commands: {e}");
                        }
                        if let Err(e) = client.try_publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(true)) {
                            debug!("presence not queued: {e}");
                        }
                        next_presence = Instant::now() + PRESENCE_EVERY;
                        flow.reconnected();
                        next_fetch = Instant::now();
                    }
                    Some(Net::Down(e)) => {
                        if connected {
                            warn!("cloud sync disconnected: {e}");
                        } else {
                            debug!("cloud sync cannot connect: {e}");
                        }
                        connected = false;
                        st.p.connected = false;
                        st.p.last_error = Some(e);
                    }
                    Some(Net::SubRefused) => {
                        let message = format!(
                            "broker {} refused the subscription to {ack_topic}: no acknowledgement can arrive, so nothing leaves the outbox (check the broker's ACL)",
                            self.cloud.broker()
                        );
                        warn!("{message}");
                        st.p.last_error = Some(message);
                    }
                    Some(Net::Cmd(payload)) => {
                        // Carried out beside the drain: an instrument's slow
                        // answer never holds up the outbox.
                        let (remote, writer, client) = (self.remote.clone(), self.writer.clone(), client.clone());
                        let topic = reply_topic.clone();
                        tokio::spawn(async move {
                            let handled = remote.handle(&payload, &writer).await;
                            let reply = handled.reply;
                            if let Err(e) = client.publish(topic, QoS::AtLeastOnce, false, reply.to_json()).await {
                                warn!("remote command {}: reply not sent: {e}", reply.id);
                            }
                            // Queued ahead of the goodbye: a settings change may restart the agent now.
                            drop(handled.after_reply);
                        });
                    }
                    Some(Net::Ack(payload)) => {
                        if self.on_ack(st, &mut flow, &payload).await.is_err() {
                            break;
                        }
                    }
                    Some(Net::CloudAck(payload)) => match meterdeck_wire::alarms::CloudAck::parse(&payload) {
                        // The writer applies it once (by id) through the alarm engine.
                        Ok(ack) => {
                            if self.tell(SyncMsg::CloudAck(ack)).await.is_err() {
                                break;
                            }
                        }
                        Err(e) => warn!("cloud sync: alarm acknowledgement from the cloud ignored: {e}"),
                    },
                },
                r = async { fetch.as_mut().expect("guarded by is_some").await }, if fetch.is_some() => {
                    fetch = None;
                    match r {
                        Ok(Ok(f)) => {
                            // Caught up (the outbox had fewer rows than asked for): let the
                            // live rows grow for `send_interval` rather than sending every
                            // poll's few samples with a header each.
                            let caught_up = f.rows.len() < asked && f.records.len() < asked;
                            let got = cpu_heavy(|| flow.fetched_with(f.rows, f.records, f.backlog, now_ms()));
                            if !got.empty.is_empty() && self.tell(SyncMsg::OutboxAck(got.empty)).await.is_err() {
                                break;
                            }
                            if !got.unsendable.is_empty() {
                                let message = format!(
                                    "cloud sync: {} outbox rows cannot be sent (the cloud would refuse them) and are kept: {}",
                                    got.unsendable.len(),
                                    got.unsendable.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                                );
                                warn!("{message}");
                                st.p.last_error = Some(message.clone());
                                let _ = self.tell(SyncMsg::Notice { message, note_id: None }).await;
                            }
                            if caught_up || got.fresh == 0 {
                                next_fetch = Instant::now() + self.cloud.send_interval;
                            }
                        }
                        Ok(Err(e)) => {
                            flow.fetch_failed();
                            warn!("cloud sync cannot read the outbox: {e}");
                            st.p.last_error = Some(format!("cannot read the outbox: {e}"));
                            next_fetch = Instant::now() + self.opts.retry_fetch;
                        }
                        Err(_) => break,
                    }
                }
                _ = tick.tick() => {}
            }
            if connected && !self.over_cap(st).await {
                let mut capped = false;
                for (batch, payload) in flow.to_send(Instant::now()) {
                    // The allowance is checked per batch: at most one batch
                    // crosses it; the rest wait in flight, unsent.
                    capped = capped || self.over_cap(st).await;
                    if capped {
                        flow.unsent(batch);
                        continue;
                    }
                    let len = payload.len() as u64;
                    match client.try_publish(batch_topic.clone(), QoS::AtLeastOnce, false, payload) {
                        Ok(()) => {
                            if let Some(notice) = st.traffic.add(len, self.opts.clock.now()) {
                                warn!("{notice}");
                                let note_id = Some(format!("sync-traffic:{}", st.traffic.month));
                                let _ = self.tell(SyncMsg::Notice { message: notice, note_id }).await;
                            }
                        }
                        Err(e) => {
                            debug!("batch {batch} not queued ({e}); sent again later");
                            flow.unsent(batch);
                        }
                    }
                }
            }
            if connected && Instant::now() >= next_presence {
                // Again now and then: a last will the broker publishes late
                // (a dead route's session taken over by our new connection)
                // must not stand as our last word.
                next_presence = Instant::now() + PRESENCE_EVERY;
                let _ = client.try_publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(true));
            }
            if Instant::now() >= next_status {
                next_status = Instant::now() + self.opts.status_every;
                if let Some((batch, sends)) = flow.oldest_unanswered().filter(|(_, n)| *n >= 3)
                    && connected
                    && st.p.last_error.as_deref().is_none_or(|e| e.starts_with(NO_ACK))
                {
                    st.p.last_error = Some(format!(
                        "{NO_ACK} for batch {batch} after {sends} sends: is the cloud running, and may this agent read {ack_topic} (broker ACL)?"
                    ));
                }
                st.traffic.roll(self.opts.clock.now());
                self.persist(st).await;
            }
        }
        if connected {
            // Stopped on purpose: tell the cloud before leaving (no last will
            // comes for a closed connection), then let the event loop flush it.
            let _ = client.try_publish(status_topic.clone(), QoS::AtLeastOnce, true, presence(false));
            let _ = client.try_disconnect();
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(n) = net_rx.recv().await {
                    if matches!(n, Net::Down(_)) {
                        break;
                    }
                }
            })
            .await;
        }
        pump.abort();
        let _ = client.try_disconnect();
        info!("cloud sync stopped ({} batches in flight, {} queued)", flow.in_flight(), flow.queued());
    }

    /// Err when the writer is gone.
    async fn on_ack(&self, st: &mut State, flow: &mut Outflow, payload: &[u8]) -> Result<(), ()> {
        let ack = match Ack::parse(payload) {
            Ok(a) => a,
            Err(e) => {
                warn!("cloud sync: unreadable acknowledgement ignored: {e}");
                st.p.last_error = Some(format!("unreadable acknowledgement from the cloud: {e}"));
                return Ok(());
            }
        };
        if let Some(other) = ack.store.as_deref().filter(|s| *s != self.store_id) {
            // Batch ids are per store: this ack is another process's.
            let message = format!(
                "{ANOTHER_STORE} as agent {} (its store {other}, ours {}): run one agent per agent id, \
                 or register another agent for the second machine",
                self.cloud.agent, self.store_id
            );
            if st.p.last_error.as_deref() != Some(message.as_str()) {
                warn!("cloud sync: {message}");
                st.p.last_error = Some(message);
            }
            st.foreign_ack = Some(tokio::time::Instant::now());
            return Ok(());
        }
        match flow.on_ack(&ack) {
            AckOutcome::Stored { rows, samples, new } => {
                debug!("batch {:?} stored: {samples} samples, {new} new", ack.batch);
                st.p.last_ack_ms = Some(now_ms());
                let other_quiet = st.foreign_ack.is_none_or(|t| t.elapsed() > ANOTHER_STORE_QUIET);
                let stale = |e: &str| e.starts_with(NO_ACK) || (e.starts_with(ANOTHER_STORE) && other_quiet);
                if st.p.last_error.as_deref().is_some_and(stale) {
                    st.p.last_error = None;
                }
                self.tell(SyncMsg::OutboxAck(rows)).await?;
            }
            AckOutcome::Refused { batch, rows, error } => {
                let message = format!(
                    "cloud sync: the cloud refused batch {} ({error}); its {} outbox rows are kept and not sent again until the agent restarts",
                    batch.map_or("?".to_string(), |b| b.to_string()),
                    rows.len()
                );
                warn!("{message}");
                st.p.last_error = Some(message.clone());
                self.tell(SyncMsg::Notice { message, note_id: None }).await?;
            }
            AckOutcome::Unknown if !ack.ok => {
                let message = format!(
                    "cloud sync: the cloud refused a batch it could not read ({})",
                    ack.error.as_deref().unwrap_or("no reason given")
                );
                warn!("{message}");
                st.p.last_error = Some(message);
            }
            AckOutcome::Unknown => debug!("acknowledgement for batch {:?} not in flight (ignored)", ack.batch),
        }
        Ok(())
    }
}

/// How often a connected agent repeats its "online" presence.
const PRESENCE_EVERY: Duration = Duration::from_secs(60);

/// Packing encodes up to a few million samples: on the multi-thread
/// runtime other tasks (the pollers) move to other workers meanwhile.
fn cpu_heavy<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Drives rumqttc's event loop: reconnects with capped backoff after any
/// error, reports connections, losses and acknowledgements.
/// Where the pump reads the secret again after the broker refused it.
struct Login {
    secrets: Arc<dyn SecretStore>,
    entry: String,
    user: String,
}

async fn pump(
    mut el: EventLoop,
    tx: mpsc::Sender<Net>,
    ack_topic: String,
    alarm_ack_topic: String,
    cmd_topic: String,
    policy: BackoffPolicy,
    seed: u64,
    broker: String,
    login: Login,
) {
    let mut backoff = Backoff::new(policy, seed);
    loop {
        let net = match el.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                Net::Up
            }
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == ack_topic => Net::Ack(p.payload.to_vec()),
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == alarm_ack_topic => Net::CloudAck(p.payload.to_vec()),
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == cmd_topic => Net::Cmd(p.payload.to_vec()),
            Ok(Event::Incoming(Packet::SubAck(s)))
                if s.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) =>
            {
                Net::SubRefused
            }
            Ok(_) => continue,
            Err(ConnectionError::RequestsDone) => return,
            Err(e) => {
                if tx.send(Net::Down(describe(&broker, &e))).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff.next_delay()).await;
                if matches!(
                    e,
                    ConnectionError::ConnectionRefused(
                        ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
                    )
                ) && let Ok(Some(secret)) = read_secret(&login.secrets, login.entry.clone()).await
                {
                    // A new secret from `cloud login` takes effect without a restart.
                    el.mqtt_options.set_credentials(login.user.clone(), secret);
                }
                continue;
            }
        };
        if tx.send(net).await.is_err() {
            return;
        }
    }
}

fn describe(broker: &str, e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
        ) => format!(
            "broker {broker} refused the login: check the agent id and its secret (`meterdeck-agent cloud login`)"
        ),
        ConnectionError::ConnectionRefused(code) => format!("broker {broker} refused the connection: {code:?}"),
        // rustls says what it disliked (unknown issuer, name mismatch, expired).
        ConnectionError::Tls(e) => {
            format!("broker {broker}: TLS handshake failed: {e} (check `cloud.ca_file` and the broker's certificate)")
        }
        other => format!("broker {broker}: {other}"),
    }
}

/// Why a login check failed: each names the broker (or the setting) and
/// what to check, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Settings(#[from] CloudFieldError),
    #[error(transparent)]
    Tls(#[from] TlsFileError),
    /// What the broker or the link said, worded by [`describe`].
    #[error("{0}")]
    Broker(String),
    #[error("broker {broker} did not answer within {}", humantime::format_duration(*timeout))]
    NoAnswer { broker: String, timeout: Duration },
}

/// Logs in to the broker once with these credentials (`cloud login
/// --check`): Ok when the broker accepts them. The error names the broker,
/// never the secret.
pub async fn check_login(cloud: &CloudSettings, secret: &str, timeout: Duration) -> Result<(), LinkError> {
    cloud.validate()?;
    let broker = cloud.broker();
    // Its own client id, so a running agent with the same id is not kicked off.
    let mut mo = mqtt_options(cloud, format!("{}-login-check", cloud.agent))?;
    mo.set_credentials(cloud.agent.clone(), secret.to_string()).set_clean_session(true);
    let (client, mut el) = AsyncClient::new(mo, 4);
    let result = tokio::time::timeout(timeout, async {
        loop {
            match el.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    let mut m = describe(&broker, &e);
                    // A TLS-only broker drops a plain MQTT CONNECT without a word.
                    if !cloud.tls && matches!(e, ConnectionError::MqttState(_) | ConnectionError::Io(_)) {
                        m.push_str(" (if the broker speaks only TLS, log in with --tls or --ca-file)");
                    }
                    return Err(LinkError::Broker(m));
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(LinkError::NoAnswer { broker: broker.clone(), timeout }));
    let _ = client.try_disconnect();
    result
}

/// The connection both the drain and `cloud login --check` make: plain TCP,
/// or TLS with the CA (and client certificate) of `[cloud]`.
fn mqtt_options(cloud: &CloudSettings, client_id: String) -> Result<MqttOptions, TlsFileError> {
    let mut mo = MqttOptions::new(client_id, cloud.host.clone(), cloud.port);
    if cloud.tls {
        let config = super::tls::client_config(cloud)?;
        mo.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    Ok(mo)
}
