//! The notification dispatcher: one tokio task that takes messages from a
//! bounded queue, groups bursts per destination, and hands each delivery to
//! its own task that retries with backoff. Callers never wait: a full queue
//! folds the message into the next summary instead.

use super::DeliveryError;
#[cfg(feature = "desktop-notify")]
use super::desktop;
use super::destination::{DestError, DestinationConfig, DestinationKind, validate_all};
#[cfg(feature = "email")]
use super::email;
use super::locale::Locale;
use super::message::{Message, MessageKind};
#[cfg(feature = "email")]
use super::secrets::smtp_entry;
use super::secrets::{SecretStore, read_secret, webhook_entry};
use super::viewlink::ViewLinks;
use super::webhook;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, broadcast, mpsc};
use tokio::time::Instant;

/// Backoff of failed deliveries: `initial`, doubling, capped at `max_delay`;
/// given up after `max_attempts` attempts or once the next try would start
/// later than `max_age` after the first (whichever comes first).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max_delay: Duration,
    pub max_attempts: Option<u32>,
    pub max_age: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            max_attempts: Some(20),
            max_age: Some(Duration::from_secs(3600)),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.initial.saturating_mul(factor).min(self.max_delay)
    }
}

#[derive(Clone, Debug)]
pub struct DispatchOptions {
    /// Notifications to one destination within this window after the first
    /// go out together as one summary at its end.
    pub burst_window: Duration,
    /// How many go out one by one per window before the rest are collected (at least 1).
    pub burst_threshold: usize,
    pub retry: RetryPolicy,
    /// Messages the queue holds before `send` folds them into summaries.
    pub queue_capacity: usize,
    /// Bounds one delivery attempt (SMTP dialogue, HTTP request, D-Bus call).
    pub send_timeout: Duration,
    /// Attempts to one destination that may run at once; a slow destination
    /// only ever holds up its own deliveries.
    pub per_destination_concurrency: usize,
    /// The longest an alarm message waits for its view-only link; without
    /// one by then it goes without.
    pub link_timeout: Duration,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            burst_window: Duration::from_secs(1),
            burst_threshold: 1,
            retry: RetryPolicy::default(),
            queue_capacity: 1024,
            send_timeout: Duration::from_secs(30),
            per_destination_concurrency: 4,
            link_timeout: Duration::from_secs(3),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryResult {
    Ok,
    Retrying { next_in: Duration, error: String },
    Failed { error: String },
}

/// What happened to one attempt of one delivery (for the alarm journal).
/// `covers` lists the queued messages a summary stood for (for a plain
/// delivery just its own id; messages folded on a full queue are counted in
/// the summary text but not listed).
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryOutcome {
    pub message_id: String,
    pub destination: String,
    pub attempt: u32,
    pub covers: Vec<String>,
    pub result: DeliveryResult,
}

/// Does the actual delivery; the real one talks to D-Bus, SMTP and HTTP,
/// tests put in their own.
#[async_trait::async_trait]
pub trait Deliver: Send + Sync + 'static {
    async fn deliver(&self, dest: &DestinationConfig, msg: &Message) -> Result<(), DeliveryError>;
}

/// Desktop, email and webhook delivery with secrets from `secrets`.
pub struct RealDeliverer {
    secrets: Arc<dyn SecretStore>,
    http: Result<reqwest::Client, webhook::ClientError>,
    /// SMTP's timeout (the webhook client has it built in).
    #[cfg_attr(not(feature = "email"), allow(dead_code))]
    timeout: Duration,
}

impl RealDeliverer {
    pub fn new(secrets: Arc<dyn SecretStore>, timeout: Duration) -> RealDeliverer {
        RealDeliverer { secrets, http: webhook::client(timeout), timeout }
    }
}

#[async_trait::async_trait]
impl Deliver for RealDeliverer {
    async fn deliver(&self, dest: &DestinationConfig, msg: &Message) -> Result<(), DeliveryError> {
        let keychain = |e: super::secrets::SecretError| DeliveryError::transient(e.to_string());
        match dest.kind {
            #[cfg(feature = "desktop-notify")]
            DestinationKind::Desktop => desktop::show(msg).await,
            #[cfg(feature = "email")]
            DestinationKind::Email => {
                let password = match dest.username {
                    Some(_) => read_secret(&self.secrets, smtp_entry(&dest.id)).await.map_err(keychain)?,
                    None => None,
                };
                email::send(dest, password, msg, self.timeout).await
            }
            // Validation refuses these destinations; this covers callers that skip it.
            #[cfg(not(feature = "desktop-notify"))]
            DestinationKind::Desktop => {
                Err(DeliveryError::permanent(super::not_in_this_build("desktop notifications", "desktop-notify")))
            }
            #[cfg(not(feature = "email"))]
            DestinationKind::Email => {
                Err(DeliveryError::permanent(super::not_in_this_build("email destinations", "email")))
            }
            DestinationKind::Webhook => {
                let entry = webhook_entry(&dest.id);
                let Some(url) = read_secret(&self.secrets, entry.clone()).await.map_err(keychain)? else {
                    return Err(DeliveryError::permanent(format!("webhook: no URL in the keychain (entry {entry})")));
                };
                let http = self.http.as_ref().map_err(|e| DeliveryError::permanent(e.to_string()))?;
                let format = dest.format.unwrap_or(super::destination::WebhookFormat::Json);
                webhook::post(http, &url, format, msg).await
            }
        }
    }
}

struct Job {
    msg: Message,
    dests: Vec<String>,
}

/// Messages that did not fit the queue: counted per destination, with the
/// first few titles for the summary.
#[derive(Default)]
struct Folded {
    count: usize,
    alarms: bool,
    titles: Vec<String>,
    severity: Option<(u8, String)>,
}

const SUMMARY_TITLES: usize = 5;
/// Messages whose view link is remembered (for their other destinations).
const LINK_CELLS: usize = 256;

struct Shared {
    dests: RwLock<HashMap<String, DestinationConfig>>,
    deliver: Arc<dyn Deliver>,
    opts: DispatchOptions,
    outcomes: broadcast::Sender<DeliveryOutcome>,
    overflow: Mutex<HashMap<String, Folded>>,
    wake: Notify,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    seq: AtomicU64,
    /// The language and zone of the latest message sent (the window's
    /// settings): summaries and test messages are written in it.
    locale: RwLock<Locale>,
    /// Where view-only links come from (the cloud, when the agent is linked).
    links: RwLock<Option<Arc<dyn ViewLinks>>>,
    /// Each message's link, asked for once whatever the destinations.
    link_cells: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Option<String>>>>>,
}

impl Shared {
    fn dest(&self, id: &str) -> Option<DestinationConfig> {
        self.dests.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    fn limit(&self, id: &str) -> Arc<Semaphore> {
        let mut l = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        let n = self.opts.per_destination_concurrency.max(1);
        Arc::clone(l.entry(id.to_string()).or_insert_with(|| Arc::new(Semaphore::new(n))))
    }

    fn emit(&self, o: DeliveryOutcome) {
        match &o.result {
            DeliveryResult::Ok => {
                tracing::debug!(destination = %o.destination, message = %o.message_id, "notification delivered")
            }
            DeliveryResult::Retrying { next_in, error } => {
                tracing::info!(destination = %o.destination, attempt = o.attempt, ?next_in, %error, "notification delivery failed, retrying")
            }
            DeliveryResult::Failed { error } => {
                tracing::warn!(destination = %o.destination, attempt = o.attempt, %error, "notification delivery failed")
            }
        }
        let _ = self.outcomes.send(o);
    }

    /// `msg` with its view-only link under the body, when it asks for one
    /// and the cloud gives one within the link timeout; else `msg` as it is.
    async fn with_link(&self, mut msg: Message) -> Message {
        let Some(ask) = msg.link.take() else { return msg };
        let Some(links) = self.links.read().unwrap_or_else(|p| p.into_inner()).clone() else { return msg };
        let cell = {
            let mut cells = self.link_cells.lock().unwrap_or_else(|p| p.into_inner());
            // Only the messages of the last moments are looked up again.
            if cells.len() >= LINK_CELLS {
                cells.clear();
            }
            Arc::clone(cells.entry(msg.id.clone()).or_default())
        };
        let timeout = self.opts.link_timeout;
        let url = cell
            .get_or_init(|| async {
                match tokio::time::timeout(timeout, links.link(&ask)).await {
                    Ok(Ok(url)) => Some(url),
                    Ok(Err(e)) => {
                        tracing::info!(alarm = %ask.alarm_id, "alarm message sent without a view link: {e}");
                        None
                    }
                    Err(_) => {
                        tracing::info!(alarm = %ask.alarm_id, ?timeout, "alarm message sent without a view link: the cloud did not answer in time");
                        None
                    }
                }
            })
            .await;
        if let Some(url) = url {
            msg.body.push_str("\n\n");
            msg.body.push_str(&msg.locale.tr("notify-view-link", &[("url", url)]));
        }
        msg
    }

    /// One attempt, bounded by the send timeout.
    async fn attempt(&self, dest: &DestinationConfig, msg: &Message) -> Result<(), DeliveryError> {
        let t = self.opts.send_timeout;
        match tokio::time::timeout(t, self.deliver.deliver(dest, msg)).await {
            Ok(r) => r,
            Err(_) => {
                let what = match dest.kind {
                    DestinationKind::Desktop => "desktop".to_string(),
                    DestinationKind::Email => {
                        format!("SMTP {}:{}", dest.host.as_deref().unwrap_or_default(), dest.smtp_port())
                    }
                    DestinationKind::Webhook => "webhook".to_string(),
                };
                Err(DeliveryError::transient(format!("{what}: timed out after {}", humantime::format_duration(t))))
            }
        }
    }
}

/// Delivers `msg` to `dest_id` until it succeeds or the policy gives up.
async fn run_delivery(shared: Arc<Shared>, dest_id: String, msg: Message, covers: Vec<String>) {
    let started = Instant::now();
    let msg = shared.with_link(msg).await;
    let limit = shared.limit(&dest_id);
    let outcome = |attempt, result| DeliveryOutcome {
        message_id: msg.id.clone(),
        destination: dest_id.clone(),
        attempt,
        covers: covers.clone(),
        result,
    };
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // The current config, so an edited address or secret applies to retries.
        let Some(dest) = shared.dest(&dest_id) else {
            shared.emit(outcome(attempt, DeliveryResult::Failed { error: format!("no destination {dest_id:?}") }));
            return;
        };
        let result = {
            let _permit = limit.acquire().await;
            shared.attempt(&dest, &msg).await
        };
        let e = match result {
            Ok(()) => return shared.emit(outcome(attempt, DeliveryResult::Ok)),
            Err(e) => e,
        };
        let retry = &shared.opts.retry;
        let next_in = retry.delay(attempt);
        let give_up = e.permanent
            || retry.max_attempts.is_some_and(|m| attempt >= m)
            || retry.max_age.is_some_and(|age| started.elapsed() + next_in > age);
        if give_up {
            return shared.emit(outcome(attempt, DeliveryResult::Failed { error: e.message }));
        }
        shared.emit(outcome(attempt, DeliveryResult::Retrying { next_in, error: e.message }));
        tokio::time::sleep(next_in).await;
    }
}

/// A destination's burst: until `until`, further messages are collected.
struct Burst {
    until: Instant,
    sent: usize,
    /// Something went out one by one in this burst (the summary says "more").
    immediate: bool,
    pending: Vec<Message>,
    folded: Folded,
}

struct Loop {
    shared: Arc<Shared>,
    bursts: HashMap<String, Burst>,
}

impl Loop {
    fn start(&self, dest: String, msg: Message) {
        let covers = vec![msg.id.clone()];
        tokio::spawn(run_delivery(Arc::clone(&self.shared), dest, msg, covers));
    }

    fn new_burst(&self, now: Instant) -> Burst {
        Burst {
            until: now + self.shared.opts.burst_window,
            sent: 0,
            immediate: false,
            pending: Vec::new(),
            folded: Folded::default(),
        }
    }

    fn on_job(&mut self, job: Job) {
        let now = Instant::now();
        let threshold = self.shared.opts.burst_threshold.max(1);
        for dest in job.dests {
            if self.shared.dest(&dest).is_none() {
                self.shared.emit(DeliveryOutcome {
                    message_id: job.msg.id.clone(),
                    destination: dest.clone(),
                    attempt: 0,
                    covers: vec![job.msg.id.clone()],
                    result: DeliveryResult::Failed { error: format!("no destination {dest:?}") },
                });
                continue;
            }
            let fresh = self.new_burst(now);
            let b = self.bursts.entry(dest.clone()).or_insert(fresh);
            if b.sent < threshold {
                b.sent += 1;
                b.immediate = true;
                self.start(dest, job.msg.clone());
            } else {
                b.pending.push(job.msg.clone());
            }
        }
    }

    fn on_overflow(&mut self) {
        let folded = std::mem::take(&mut *self.shared.overflow.lock().unwrap_or_else(|p| p.into_inner()));
        let now = Instant::now();
        let threshold = self.shared.opts.burst_threshold.max(1);
        for (dest, f) in folded {
            let mut fresh = self.new_burst(now);
            fresh.sent = threshold;
            let b = self.bursts.entry(dest).or_insert(fresh);
            b.folded.count += f.count;
            b.folded.alarms |= f.alarms;
            for t in f.titles {
                if b.folded.titles.len() < SUMMARY_TITLES {
                    b.folded.titles.push(t);
                }
            }
            if f.severity.as_ref().map(|s| s.0) > b.folded.severity.as_ref().map(|s| s.0) {
                b.folded.severity = f.severity;
            }
        }
    }

    /// Ends the windows that are over: a summary for what was collected
    /// (and a new window behind it), or back to quiet.
    fn on_tick(&mut self, flush_all: bool) {
        let now = Instant::now();
        let due: Vec<String> =
            self.bursts.iter().filter(|(_, b)| flush_all || b.until <= now).map(|(k, _)| k.clone()).collect();
        for dest in due {
            let Some(mut b) = self.bursts.remove(&dest) else { continue };
            if b.pending.is_empty() && b.folded.count == 0 {
                continue;
            }
            let covers = b.pending.iter().map(|m| m.id.clone()).collect();
            let summary = self.summary(&dest, &b);
            tokio::spawn(run_delivery(Arc::clone(&self.shared), dest.clone(), summary, covers));
            b.pending.clear();
            b.folded = Folded::default();
            b.until = now + self.shared.opts.burst_window;
            b.sent = self.shared.opts.burst_threshold.max(1);
            self.bursts.insert(dest, b);
        }
    }

    fn summary(&self, dest: &str, b: &Burst) -> Message {
        let n = b.pending.len() + b.folded.count;
        let alarms = b.folded.alarms || b.pending.iter().any(|m| m.kind == MessageKind::Alarm);
        let locale = self.shared.locale.read().unwrap_or_else(|p| p.into_inner()).clone();
        let noun = match (alarms, n) {
            (true, 1) => "alarm",
            (true, _) => "alarms",
            (false, 1) => "notification",
            (false, _) => "notifications",
        };
        let more = if b.immediate { "more-" } else { "" };
        let count = n.to_string();
        let title = locale.tr(&format!("notify-summary-{more}{noun}"), &[("n", &count)]);
        let titles: Vec<&str> = b
            .pending
            .iter()
            .map(|m| m.title.as_str())
            .chain(b.folded.titles.iter().map(String::as_str))
            .take(SUMMARY_TITLES)
            .collect();
        let mut body = titles.join("\n");
        if n > titles.len() {
            body.push('\n');
            body.push_str(&locale.tr("notify-summary-and-more", &[("n", &(n - titles.len()).to_string())]));
        }
        let top = b.pending.iter().max_by_key(|m| m.severity_rank());
        let severity = match (top, &b.folded.severity) {
            (Some(m), Some((r, s))) if *r > m.severity_rank() => Some(s.clone()),
            (Some(m), _) => m.severity.clone(),
            (None, s) => s.as_ref().map(|s| s.1.clone()),
        };
        let one_alarm = b
            .pending
            .first()
            .and_then(|m| m.alarm_id.clone())
            .filter(|a| b.folded.count == 0 && b.pending.iter().all(|m| m.alarm_id.as_deref() == Some(a.as_str())));
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let t = chrono::Utc::now().timestamp_millis();
        Message {
            id: format!("summary-{dest}-{t}-{seq}"),
            t,
            kind: if alarms { MessageKind::Alarm } else { MessageKind::System },
            severity,
            title,
            body,
            alarm_id: one_alarm,
            locale,
            link: None,
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let shared = Arc::clone(&self.shared);
        loop {
            let next = self.bursts.values().map(|b| b.until).min();
            // Checked here too: under a steady flood the biased select below
            // would never get to the timer.
            if next.is_some_and(|n| n <= Instant::now()) {
                self.on_tick(false);
                continue;
            }
            tokio::select! {
                biased;
                job = rx.recv() => match job {
                    Some(job) => self.on_job(job),
                    None => break,
                },
                _ = shared.wake.notified() => self.on_overflow(),
                _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => self.on_tick(false),
            }
        }
        // Every handle is gone: send what was collected now rather than drop it.
        self.on_overflow();
        self.on_tick(true);
    }
}

/// Starts the dispatcher; it runs until every handle is dropped.
pub struct Dispatcher;

impl Dispatcher {
    /// With the real deliverers (desktop, SMTP, webhooks). Destinations are
    /// expected to be valid (`validate_all`); invalid ones fail at delivery.
    pub fn spawn(
        dests: Vec<DestinationConfig>,
        secrets: Arc<dyn SecretStore>,
        opts: DispatchOptions,
    ) -> DispatcherHandle {
        let deliver = Arc::new(RealDeliverer::new(secrets, opts.send_timeout));
        Dispatcher::spawn_with(dests, deliver, opts)
    }

    /// With a given deliverer (tests, or another transport).
    pub fn spawn_with(
        dests: Vec<DestinationConfig>,
        deliver: Arc<dyn Deliver>,
        opts: DispatchOptions,
    ) -> DispatcherHandle {
        let (tx, rx) = mpsc::channel(opts.queue_capacity.max(1));
        let (outcomes, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            dests: RwLock::new(dests.into_iter().map(|d| (d.id.clone(), d)).collect()),
            locale: RwLock::new(Locale::default()),
            deliver,
            opts,
            outcomes,
            overflow: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            limits: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            links: RwLock::new(None),
            link_cells: Mutex::new(HashMap::new()),
        });
        tokio::spawn(Loop { shared: Arc::clone(&shared), bursts: HashMap::new() }.run(rx));
        DispatcherHandle { tx, shared }
    }
}

#[derive(Clone)]
pub struct DispatcherHandle {
    tx: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl DispatcherHandle {
    /// Queues `msg` for the given destinations; never waits. On a full
    /// queue the message is folded into the destinations' next summary.
    pub fn send<I, S>(&self, msg: Message, dest_ids: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let dests: Vec<String> = dest_ids.into_iter().map(Into::into).collect();
        if dests.is_empty() {
            return;
        }
        self.set_locale(&msg.locale);
        match self.tx.try_send(Job { msg, dests }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job)) => {
                let mut over = self.shared.overflow.lock().unwrap_or_else(|p| p.into_inner());
                for d in job.dests {
                    let f = over.entry(d).or_default();
                    f.count += 1;
                    f.alarms |= job.msg.kind == MessageKind::Alarm;
                    if f.titles.len() < SUMMARY_TITLES {
                        f.titles.push(job.msg.title.clone());
                    }
                    let rank = job.msg.severity_rank();
                    if rank > 0 && f.severity.as_ref().is_none_or(|s| rank > s.0) {
                        f.severity = job.msg.severity.clone().map(|s| (rank, s));
                    }
                }
                drop(over);
                self.shared.wake.notify_one();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!("notification dispatcher has stopped; message dropped");
            }
        }
    }

    /// Every delivery attempt's outcome from now on.
    pub fn outcomes(&self) -> broadcast::Receiver<DeliveryOutcome> {
        self.shared.outcomes.subscribe()
    }

    /// Replaces the destinations (refused as a whole if any is invalid).
    /// Deliveries under way use the new settings from their next attempt.
    pub fn set_destinations(&self, dests: Vec<DestinationConfig>) -> Result<(), DestError> {
        validate_all(&dests)?;
        *self.shared.dests.write().unwrap_or_else(|p| p.into_inner()) =
            dests.into_iter().map(|d| (d.id.clone(), d)).collect();
        Ok(())
    }

    pub fn destinations(&self) -> Vec<DestinationConfig> {
        let mut v: Vec<_> = self.shared.dests.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// One direct attempt of `msg` to `dest_id`, no grouping or retries.
    pub async fn deliver_now(&self, dest_id: &str, msg: &Message) -> Result<(), DeliveryError> {
        let dest =
            self.shared.dest(dest_id).ok_or_else(|| DeliveryError::permanent(format!("no destination {dest_id:?}")))?;
        self.shared.attempt(&dest, msg).await
    }

    /// Where alarm messages get their view-only links from now on (`None`:
    /// they go without).
    pub fn set_view_links(&self, links: Option<Arc<dyn ViewLinks>>) {
        *self.shared.links.write().unwrap_or_else(|p| p.into_inner()) = links;
    }

    /// The language and zone of summaries and test messages from now on.
    pub fn set_locale(&self, locale: &Locale) {
        let mut l = self.shared.locale.write().unwrap_or_else(|p| p.into_inner());
        if *l != *locale {
            *l = locale.clone();
        }
    }

    /// The settings' test button: a short system message to `dest_id` now.
    pub async fn test_send(&self, dest_id: &str) -> Result<(), DeliveryError> {
        let name = self.shared.dest(dest_id).map(|d| d.display_name().to_string()).unwrap_or_default();
        let t = chrono::Utc::now().timestamp_millis();
        let locale = self.shared.locale.read().unwrap_or_else(|p| p.into_inner()).clone();
        let msg = Message {
            id: format!("test-{dest_id}-{t}"),
            t,
            kind: MessageKind::System,
            severity: None,
            title: locale.tr("notify-test-title", &[]),
            body: locale.tr("notify-test-body", &[("name", &name)]),
            alarm_id: None,
            locale,
            link: None,
        };
        self.deliver_now(dest_id, &msg).await
    }
}

#[cfg(test)]
#[path = "dispatcher_tests.rs"]
mod tests;
