//! Starting and stopping the agent: the store, the writer thread, one
//! poller task per enabled instrument, and the handle the binaries and the
//! desktop app hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use meterdeck_drivers::{DriverError, InstrumentConfig};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::live::LiveUpdate;
use super::writer::{self, HandleMsg, WriterConfig, WriterMsg};
use crate::alarm::{AlarmCommand, AlarmMsg, AlarmReply, AlarmStage, CommandError};
use crate::calc::CalcStage;
use crate::config::{AgentConfig, STORE_FILE};
use crate::control::{ControlAction, ControlOutcome};
use crate::model::{ConnState, Event, EventKind, Text, now_ms};
use crate::notify::{
    DeliveryError, DeliveryOutcome, DispatchOptions, Dispatcher, DispatcherHandle, KeyringSecrets, SecretStore,
};
use crate::poll::fast_monitor::FastMonitor;
use crate::poll::{ActionReply, BackoffPolicy, Connector, Control, Poller, RawError, default_connector};
use crate::store::{RetentionPolicy, Store, StoreError, StoreOptions};
use crate::sync::client::SyncTask;
use crate::sync::status::{Persisted, STATUS_KEY};
use crate::sync::{SyncOptions, TrafficCap};

#[derive(Clone)]
pub struct AgentOptions {
    /// Print `ACK <instrument>/<channel> <t_ms> <value>` per stored sample.
    pub print_acks: bool,
    pub backoff: BackoffPolicy,
    pub retention_every: Duration,
    /// How often the store's settings are checked for CLI requests.
    pub settings_every: Duration,
    /// How often `last_poll` of healthy instruments is written.
    pub state_flush_every: Duration,
    /// Messages the writer channel holds before pollers wait.
    pub queue_capacity: usize,
    /// Group commit: after a message, wait this long for more before
    /// committing (polls on one tick then share one transaction)...
    pub commit_linger: Duration,
    /// ...but commit no later than this after the first one.
    pub commit_linger_max: Duration,
    pub connector: Connector,
    /// Where destinations' passwords and webhook URLs are read from.
    pub secrets: Arc<dyn SecretStore>,
    /// Burst window, retries and timeouts of notification delivery.
    pub dispatch: DispatchOptions,
    /// Timing of the cloud sync drain (used when the config has `[cloud]`).
    pub sync: SyncOptions,
    /// How often the licence is fetched (with `[cloud] api`) and the kept
    /// one verified again offline: daily (SPEC 7.5).
    pub licence_every: Duration,
    /// Check the configuration against the plan limits at start. Off only
    /// for the simulator demo, which is an evaluation, not a site.
    pub enforce_limits: bool,
    /// Demo only (`Desk` in demo mode): the simulated history a fresh demo
    /// cache starts with ([`crate::demo::HISTORY`]; tests shorten it).
    pub demo_history: Duration,
    /// The report schedule task's clock and timing.
    pub reports: crate::report::runner::ScheduleOptions,
    /// The owner of the configuration file (the window's `Desk`,
    /// `meterdeck-agent run`): remote instrument settings go there. None:
    /// they are answered `unsupported`.
    pub config_edits: Option<crate::remote::ConfigEdits>,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            print_acks: false,
            backoff: BackoffPolicy::default(),
            retention_every: Duration::from_secs(3600),
            settings_every: Duration::from_secs(1),
            state_flush_every: Duration::from_secs(5),
            queue_capacity: 1024,
            commit_linger: Duration::from_millis(20),
            commit_linger_max: Duration::from_millis(250),
            connector: default_connector(),
            secrets: Arc::new(KeyringSecrets::new()),
            dispatch: DispatchOptions::default(),
            sync: SyncOptions::default(),
            licence_every: Duration::from_secs(86_400),
            enforce_limits: true,
            demo_history: crate::demo::HISTORY,
            reports: Default::default(),
            config_edits: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the agent must be started inside a tokio runtime")]
    NoRuntime,
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the writer thread: {0}")]
    Thread(std::io::Error),
    #[error("unknown or disabled instrument `{0}`")]
    UnknownInstrument(String),
    #[error("instrument `{id}` is not connected")]
    NotConnected { id: String },
    #[error("instrument `{id}`: {source}")]
    Driver { id: String, source: DriverError },
    #[error("the agent has stopped")]
    Stopped,
    #[error(transparent)]
    Alarm(#[from] CommandError),
    #[error("destination `{id}`: {source}")]
    Destination { id: String, source: DeliveryError },
    #[error("[cloud]: {0}")]
    Cloud(#[from] crate::sync::CloudFieldError),
    /// The configuration asks for more than the licence allows.
    #[error(transparent)]
    Limit(#[from] crate::licence::LimitError),
    #[error("another agent is already using the data directory {} (lock file {})", dir.display(), lock.display())]
    AlreadyRunning { dir: PathBuf, lock: PathBuf },
}

pub struct Agent;

impl Agent {
    /// Opens (or creates) the store in `data_dir` and starts polling every
    /// enabled instrument. Must be called inside a tokio runtime.
    pub fn start(cfg: AgentConfig, data_dir: &Path, opts: AgentOptions) -> Result<AgentHandle, AgentError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| AgentError::NoRuntime)?;
        if let Some(c) = &cfg.cloud {
            c.validate()?;
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|source| AgentError::DataDir { path: data_dir.to_path_buf(), source })?;
        let lock = lock_data_dir(data_dir)?;
        let store_path = data_dir.join(STORE_FILE);
        let mut store = Store::open_with(
            &store_path,
            StoreOptions { durability: cfg.agent.durability, block_samples: cfg.agent.block_samples },
            super::STORE_PARTS,
        )?;
        let (licence, cap) = check_licence(&mut store, &cfg, opts.enforce_limits)?;
        // The cloud's key that signs remote commands is the licence key.
        let cloud_key = crate::licence::trust_for(
            &store,
            cfg.cloud.as_ref().and_then(|c| c.licence_key.as_deref()),
            cfg.cloud.as_ref().and_then(|c| c.account.as_deref()),
        )
        .map(|t| t.key);
        let (cap_tx, cap_rx) = watch::channel(cap);
        for inst in &cfg.instruments {
            store.upsert_instrument(&inst.id, inst.display_name(), inst.family.name(), &inst.target())?;
            if !inst.enabled {
                store.set_instrument_state(&inst.id, ConnState::Stopped, Some(&Text::new("evt.disabled")), None)?;
            }
        }
        // The sync's identity and last state are read before the writer
        // thread takes the store.
        let sync_start = match &cfg.cloud {
            Some(c) => {
                let store_id = crate::sync::store_id(&mut store)?;
                let persisted = Persisted::parse(store.setting(STATUS_KEY)?.as_deref());
                Some((c.clone(), store_id, persisted))
            }
            None => {
                // Status readers must not show a link of an earlier config.
                let mut p = Persisted::parse(store.setting(STATUS_KEY)?.as_deref());
                if p.enabled || p.connected {
                    p.enabled = false;
                    p.connected = false;
                    store.set_setting(STATUS_KEY, &p.to_json())?;
                }
                None
            }
        };
        let enabled: Vec<&InstrumentConfig> = cfg.enabled_instruments().collect();
        store.record_event(&Event::said(
            now_ms(),
            None,
            EventKind::AgentStarted,
            Text::new("evt.agentStarted")
                .arg("name", &cfg.agent.name)
                .arg("pid", std::process::id().to_string())
                .arg("enabled", enabled.len().to_string())
                .arg("total", cfg.instruments.len().to_string()),
        ))?;

        let (live, _) = broadcast::channel(1024);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (writer_tx, writer_rx) = mpsc::channel(opts.queue_capacity.max(16));
        let mut controls = HashMap::new();
        let mut control_rxs = Vec::new();
        for inst in &enabled {
            let (tx, rx) = mpsc::channel(64);
            controls.insert(inst.id.clone(), tx);
            control_rxs.push(rx);
        }
        let writer_cfg = WriterConfig {
            print_acks: opts.print_acks,
            retention: RetentionPolicy {
                quota_bytes: cfg.agent.disk_quota_bytes,
                keep_unsynced: cfg.agent.keep_unsynced,
                keep_max: None,
            },
            retention_every: opts.retention_every,
            settings_every: opts.settings_every,
            state_flush_every: opts.state_flush_every,
            linger_idle: opts.commit_linger,
            linger_max: opts.commit_linger_max,
            controls: controls.clone(),
        };
        let dispatcher = Dispatcher::spawn(cfg.destinations.clone(), opts.secrets.clone(), opts.dispatch.clone());
        // Linked to a cloud: alarm messages carry a view-only link from it.
        if let Some(api) =
            cfg.cloud.as_ref().and_then(|c| crate::files::upload::Uploader::for_agent(c, opts.secrets.as_ref()).ok())
        {
            dispatcher.set_view_links(Some(Arc::new(super::view_links::CloudViewLinks::new(api))));
        }
        let calc = CalcStage::new(&mut store, &cfg.calcs)?;
        let alarms = AlarmStage::new(
            &store,
            cfg.alarms.clone(),
            Some(dispatcher.clone()),
            live.clone(),
            data_dir.to_path_buf(),
        )?;
        let writer = writer::spawn(store, calc, alarms, writer_rx, writer_cfg).map_err(AgentError::Thread)?;

        let mut tasks = Vec::new();
        for (inst, control) in enabled.into_iter().zip(control_rxs) {
            let poller = Poller {
                normal: cfg.poll_interval_of(inst),
                cfg: inst.clone(),
                writer: writer_tx.clone(),
                live: live.clone(),
                control,
                shutdown: shutdown_rx.clone(),
                connector: opts.connector.clone(),
                backoff: opts.backoff,
                fast: FastMonitor::default(),
                control_open: true,
                repeats: Default::default(),
            };
            tasks.push(rt.spawn(poller.run()));
        }
        tasks.push(rt.spawn(forward_outcomes(dispatcher.outcomes(), writer_tx.clone(), shutdown_rx.clone())));
        tasks.extend(super::files::spawn(&rt, &cfg, data_dir, &store_path, &opts, writer_tx.clone(), &shutdown_rx));
        if let Some((cloud, store_id, persisted)) = sync_start {
            let remote = crate::remote::RemoteExec::new(
                cloud.agent.clone(),
                cloud_key,
                controls.clone(),
                opts.config_edits.clone(),
            );
            let task = SyncTask {
                remote,
                cloud,
                store_id,
                persisted,
                writer: writer_tx.clone(),
                shutdown: shutdown_rx.clone(),
                secrets: opts.secrets.clone(),
                opts: opts.sync.clone(),
                cap: cap_rx,
            };
            tasks.push(rt.spawn(task.run()));
        }
        if let Some(task) = licence {
            let run =
                task.run(store_path.clone(), opts.secrets.clone(), opts.licence_every, cap_tx, shutdown_rx.clone());
            tasks.push(rt.spawn(run));
        }
        tasks.push(rt.spawn(crate::report::runner::run_schedules(
            store_path.clone(),
            data_dir.to_path_buf(),
            cfg.destinations.clone(),
            opts.secrets.clone(),
            opts.reports.clone(),
            shutdown_rx.clone(),
        )));
        tasks.push(rt.spawn(ticker(writer_tx.clone(), shutdown_rx, opts.settings_every.min(Duration::from_secs(1)))));
        info!("agent {} started, store {}", cfg.agent.name, store_path.display());
        Ok(AgentHandle {
            controls,
            live,
            shutdown: shutdown_tx,
            tasks,
            writer_tx,
            writer: Some(writer),
            store_path,
            dispatcher,
            _lock: lock,
        })
    }
}

/// Verifies the kept licence (offline, at every start) and checks the
/// configuration against its limits: what the last accepted configuration
/// held stays, growing past a limit is refused before anything is written.
/// The licence fetch task, when `[cloud]` names the Web API and the key.
fn check_licence(
    store: &mut Store,
    cfg: &AgentConfig,
    enforce: bool,
) -> Result<(Option<LicenceTask>, TrafficCap), AgentError> {
    use crate::licence::{Counts, Source, limits::ACCEPTED_KEY};
    let now = now_ms();
    let cloud = cfg.cloud.as_ref();
    let trust = crate::licence::trust_for(
        store,
        cloud.and_then(|c| c.licence_key.as_deref()),
        cloud.and_then(|c| c.account.as_deref()),
    );
    let in_force = crate::licence::reverify(store, trust.as_ref(), now, Source::Start)?;
    let limits = in_force.agent_limits(cloud.map(|c| c.agent.as_str()), now);
    let counts = cfg.counts();
    let before: Option<Counts> = match store.setting(ACCEPTED_KEY)? {
        Some(json) => serde_json::from_str(&json).ok(),
        // A store from before limits were enforced: its configuration is
        // what exists (a refusal never takes away what is there).
        None if !store.instrument_states()?.is_empty() => Some(counts.clone()),
        None => None,
    };
    if enforce {
        limits.check(&counts, before.as_ref())?;
    }
    store.set_setting(ACCEPTED_KEY, &serde_json::to_string(&counts).unwrap_or_default())?;
    let cap = traffic_cap(&in_force, cloud.map(|c| c.agent.as_str()));
    let task = match (cloud, trust) {
        (Some(c), Some(trust)) => {
            Some(LicenceTask { api: c.api.clone(), agent: c.agent.clone(), ca_file: c.ca_file.clone(), trust })
        }
        _ => None,
    };
    Ok((task, cap))
}

/// The sync's allowance from the licence in force: a gateway's Remote plan.
fn traffic_cap(in_force: &crate::licence::InForce, agent: Option<&str>) -> TrafficCap {
    match in_force.gateway(agent, now_ms()) {
        Some(g) => TrafficCap { plan: Some(g.plan.name().to_string()), bytes: g.limits.traffic_bytes_per_month },
        None => TrafficCap::default(),
    }
}

/// Fetches the licence at start and daily, and verifies the kept one
/// again offline each day.
struct LicenceTask {
    /// Without the Web API, only the offline checks.
    api: Option<String>,
    agent: String,
    ca_file: Option<PathBuf>,
    trust: crate::licence::Trust,
}

impl LicenceTask {
    async fn run(
        self,
        store_path: PathBuf,
        secrets: Arc<dyn SecretStore>,
        every: Duration,
        cap: watch::Sender<TrafficCap>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        use crate::licence::fetch::{self, Auth};
        let http = match fetch::client(self.ca_file.as_deref()) {
            Ok(h) => h,
            Err(e) => {
                warn!("licence fetch disabled: {e}");
                return;
            }
        };
        let mut interval = tokio::time::interval(every.max(Duration::from_millis(100)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = interval.tick() => {}
            }
            if !first {
                let (path, trust) = (store_path.clone(), self.trust.clone());
                let checked = tokio::task::spawn_blocking(move || {
                    let mut store = Store::open_with(&path, StoreOptions::default(), &[crate::licence::SCHEMA_PART])?;
                    crate::licence::reverify(&mut store, Some(&trust), now_ms(), crate::licence::Source::Daily)
                })
                .await;
                if let Ok(Ok(in_force)) = checked {
                    cap.send_if_modified(|c| replace(c, traffic_cap(&in_force, Some(&self.agent))));
                }
            }
            first = false;
            let Some(api) = &self.api else { continue };
            let entry = crate::sync::secret_entry(&self.agent);
            let secrets = secrets.clone();
            let secret = tokio::task::spawn_blocking(move || secrets.get(&entry)).await;
            let Ok(Ok(Some(secret))) = secret else {
                warn!("licence not fetched: no secret of agent {} in the keychain", self.agent);
                continue;
            };
            let auth = Auth::Agent { id: self.agent.clone(), secret };
            match fetch::refresh(&http, api, &auth, &store_path, &self.trust).await {
                Ok(doc) => {
                    info!("licence {} ({} plan) fetched and verified", doc.serial, doc.plan);
                    // The kept one is the newest; take its allowance.
                    let in_force = crate::licence::InForce { doc: Some(doc), problem: None };
                    cap.send_if_modified(|c| replace(c, traffic_cap(&in_force, Some(&self.agent))));
                }
                Err(e) => warn!("licence: {e}; the licence in force stays"),
            }
        }
    }
}

/// Sets `slot` to `new`; true if that changed it.
fn replace(slot: &mut TrafficCap, new: TrafficCap) -> bool {
    let changed = *slot != new;
    *slot = new;
    changed
}

/// One agent per data directory: two would interleave their writes.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, AgentError> {
    let path = data_dir.join("agent.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| AgentError::DataDir { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(AgentError::AlreadyRunning { dir: data_dir.to_path_buf(), lock: path })
        }
        Err(std::fs::TryLockError::Error(source)) => Err(AgentError::DataDir { path, source }),
    }
}

/// Delivery results go to the writer for the alarm journal.
async fn forward_outcomes(
    mut rx: broadcast::Receiver<DeliveryOutcome>,
    tx: mpsc::Sender<WriterMsg>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            o = rx.recv() => match o {
                Ok(o) => {
                    if tx.send(WriterMsg::Alarm(AlarmMsg::Delivery(o))).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => warn!("{n} delivery results not journalled (too many at once)"),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Wakes the writer for its periodic work even when nothing is polled.
async fn ticker(tx: mpsc::Sender<WriterMsg>, mut shutdown: watch::Receiver<bool>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = interval.tick() => {
                if tx.try_send(WriterMsg::Tick).is_err() && tx.is_closed() {
                    return;
                }
            }
        }
    }
}

impl From<RawError> for AgentError {
    fn from(e: RawError) -> AgentError {
        match e {
            RawError::NotConnected { id } => AgentError::NotConnected { id },
            RawError::Driver { id, source } => AgentError::Driver { id, source },
        }
    }
}

/// Controls a running agent. Dropping it without `shutdown` stops the
/// pollers too, but records no AgentStopped event.
pub struct AgentHandle {
    controls: HashMap<String, mpsc::Sender<Control>>,
    live: broadcast::Sender<LiveUpdate>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    writer_tx: mpsc::Sender<WriterMsg>,
    writer: Option<std::thread::JoinHandle<()>>,
    store_path: PathBuf,
    dispatcher: DispatcherHandle,
    /// Held while the agent runs; the OS releases it even after kill -9.
    _lock: std::fs::File,
}

impl AgentHandle {
    /// Live readings, state changes and events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveUpdate> {
        self.live.subscribe()
    }

    /// Ids of the instruments being polled.
    pub fn instruments(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.controls.keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn store_path(&self) -> &Path {
        &self.store_path
    }

    /// An operator action on alarms or the notification centre, carried out
    /// by the writer (which owns the journal).
    pub async fn alarm(&self, cmd: AlarmCommand) -> Result<AlarmReply, AgentError> {
        let (reply, rx) = oneshot::channel();
        self.writer_tx
            .send(WriterMsg::Alarm(AlarmMsg::Command { cmd, reply }))
            .await
            .map_err(|_| AgentError::Stopped)?;
        Ok(rx.await.map_err(|_| AgentError::Stopped)??)
    }

    /// Sends a test message to one destination now (the "test" button).
    pub async fn test_destination(&self, id: &str) -> Result<(), AgentError> {
        self.dispatcher.test_send(id).await.map_err(|source| AgentError::Destination { id: id.to_string(), source })
    }

    /// Fast monitor (5 s polls for 10 minutes) on or off.
    pub async fn set_fast_monitor(&self, instrument: &str, on: bool) -> Result<(), AgentError> {
        self.control(instrument)?.send(Control::Fast { on, at: now_ms() }).await.map_err(|_| AgentError::Stopped)
    }

    /// Sends a raw command line to an instrument between its polls; returns
    /// the reply if the command is a query.
    pub async fn raw(&self, instrument: &str, command: &str) -> Result<Option<String>, AgentError> {
        let (reply, rx) = oneshot::channel();
        self.control(instrument)?
            .send(Control::Raw { command: command.to_string(), reply })
            .await
            .map_err(|_| AgentError::Stopped)?;
        Ok(rx.await.map_err(|_| AgentError::Stopped)??)
    }

    /// Carries out a control command on an instrument between its polls
    /// (polling goes on); the instrument's answer or why it refused.
    pub async fn control_instrument(
        &self,
        instrument: &str,
        action: ControlAction,
    ) -> Result<ControlOutcome, AgentError> {
        let (reply, rx) = oneshot::channel();
        self.control(instrument)?
            .send(Control::Action { action, reply: ActionReply::Handle(reply) })
            .await
            .map_err(|_| AgentError::Stopped)?;
        Ok(rx.await.map_err(|_| AgentError::Stopped)??)
    }

    /// Waits until everything the pollers handed over so far is stored.
    pub async fn flush(&self) -> Result<(), AgentError> {
        let (done, rx) = oneshot::channel();
        self.writer_tx.send(WriterMsg::Handle(HandleMsg::Flush(done))).await.map_err(|_| AgentError::Stopped)?;
        rx.await.map_err(|_| AgentError::Stopped)
    }

    /// Resolves if the writer thread ends on its own (a store failure it
    /// could not survive); nothing is stored after that.
    pub async fn writer_failed(&self) {
        self.writer_tx.closed().await
    }

    /// Stops the pollers, drains the writer, records AgentStopped.
    pub async fn shutdown(mut self) -> Result<(), AgentError> {
        let _ = self.shutdown.send(true);
        // Pollers answer shutdown between driver calls; a call in progress is
        // bounded by its own timeout, but do not wait for it forever.
        let tasks = std::mem::take(&mut self.tasks);
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        if tokio::time::timeout(Duration::from_secs(3), futures::future::join_all(tasks)).await.is_err() {
            warn!("some instrument tasks did not stop within 3 s; aborting them");
            for a in aborts {
                a.abort();
            }
        }
        let (done, rx) = oneshot::channel();
        let stopped = self
            .writer_tx
            .send(WriterMsg::Handle(HandleMsg::Stop {
                message: Text::new("evt.agentStopped").arg("pid", std::process::id().to_string()),
                done,
            }))
            .await;
        if stopped.is_ok() {
            let _ = rx.await;
        }
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        info!("agent stopped");
        Ok(())
    }

    fn control(&self, instrument: &str) -> Result<&mpsc::Sender<Control>, AgentError> {
        self.controls.get(instrument).ok_or_else(|| AgentError::UnknownInstrument(instrument.to_string()))
    }
}

impl Drop for AgentHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
