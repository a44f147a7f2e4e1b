//! The desktop-facing service (no Tauri here): the window's every
//! operation as a method returning `Result<T, DeskError>`.
//!
//! `Desk` owns the agent (restarted whenever the configuration changes), a
//! read-only store connection for queries, the console locks and, in demo
//! mode, the in-process simulator. Configuration edits are validated here,
//! written back to the agent's TOML file atomically, then applied.

mod alarms;
mod config_file;
mod console;
mod control;
mod dashboards;
mod demo;
mod error;
mod files;
mod headless;
mod licence;
mod reports;
mod series;
mod series_frame;
mod settings;
mod sync;
mod views;

#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use meterdeck_drivers::discovery::{self, Found};
use meterdeck_drivers::families::compat::check_compat;
use meterdeck_drivers::families::scpi::protocol::parse_idn;
use meterdeck_drivers::registry::Identification;
use meterdeck_drivers::sim::SimHandle;
use meterdeck_drivers::transport::SerialPortInfo;
use meterdeck_drivers::{FamilyInfo, Identity, InstrumentConfig};
use tokio::sync::broadcast;

use crate::agent::{Agent, AgentHandle, AgentOptions, FAST_DURATION, STORE_PARTS};
use crate::config::{AgentConfig, STORE_FILE};
use crate::export::{ExportFormat, export};
use crate::model::{ChannelId, ChannelRecord, ConnState, Event, EventKind, Text, TimeMs, now_ms};
use crate::poll::identity_key;
use crate::store::{Store, StoreOptions};

pub use alarms::DestinationView;
pub use config_file::{agent_table, apply_edit, edited_list, refusal, render as render_config, write_atomic};
pub use console::{CONSOLE_IDLE_MS, ConsoleLocks};
pub use demo::DEMO_POLL;
pub use error::{DeskError, DeskResult};
pub use files::{FileProgress, LocalFileStatus, LocalFileView, MAX_LOCAL_FILES};
pub use headless::FileEdits;
pub use licence::{LicenceBanner, LicenceScreen, LimitUse};
pub use reports::ReportProgress;
pub use series::{MAX_TABLE_ROWS, MAX_VIEW_CHANNELS, MAX_WIDTH};
pub use series_frame::{FRAME_MAGIC, FRAME_VERSION};
pub use settings::{UI_SETTINGS_KEY, check_timezone, system_timezone};
pub use views::{
    AppState, ExportProgress, ExportView, IdentifyView, InstrumentStateEvent, InstrumentView, LatestView, LiveEvent,
    LiveReading, SeriesView, StartView, TableView, TimeRange, UiSettings, tray_summary, tray_summary_in,
};

pub const MAX_EVENTS: u32 = 10_000;

/// The instrument families the window offers, as the registry declares
/// them (the `families` command): the family list and the instrument
/// form's fields are built from this.
pub fn families() -> Vec<FamilyInfo> {
    meterdeck_drivers::Family::all().iter().map(|f| f.info()).collect()
}

/// `text` with ` · N unread` (in `lang`) at the end of its first line.
fn with_unread(text: String, unread: u64, lang: &str) -> String {
    if unread == 0 {
        return text;
    }
    let (first, rest) = text.split_once('\n').map_or((text.as_str(), None), |(a, b)| (a, Some(b)));
    let count = meterdeck_wire::i18n::tr(lang, "notes.unreadCount", &[("n", &unread.to_string())]);
    let mut out = format!("{first} · {count}");
    if let Some(rest) = rest {
        out.push('\n');
        out.push_str(rest);
    }
    out
}

/// The desktop service. Create with [`Desk::open`] inside a tokio runtime;
/// call [`Desk::shutdown`] before exit so the agent records its stop.
pub struct Desk {
    data_dir: PathBuf,
    config_path: PathBuf,
    demo: bool,
    agent_opts: AgentOptions,
    config: RwLock<Arc<AgentConfig>>,
    agent_toml: Mutex<toml::Table>,
    agent: tokio::sync::RwLock<Option<AgentHandle>>,
    /// Serialises configuration edits (write file, restart agent).
    edit: tokio::sync::Mutex<()>,
    reader: Mutex<Store>,
    consoles: Mutex<ConsoleLocks>,
    fast: Arc<Mutex<HashMap<String, TimeMs>>>,
    live: broadcast::Sender<LiveEvent>,
    sim: tokio::sync::Mutex<Option<SimHandle>>,
    /// Remote instrument settings from the agent, until
    /// [`Desk::serve_remote_edits`] takes them.
    remote_edits: Mutex<Option<tokio::sync::mpsc::Receiver<crate::remote::EditRequest>>>,
    /// The demo's older history, written behind the agent.
    history: demo::HistoryJob,
}

fn poisoned<T>(e: std::sync::PoisonError<T>) -> std::sync::PoisonError<T> {
    e
}

macro_rules! lock {
    ($m:expr) => {
        $m.lock().unwrap_or_else(|e| poisoned(e).into_inner())
    };
}

impl Desk {
    /// Loads (or creates) the configuration at `config_path`, starts the
    /// agent on `data_dir`; with `demo` also the simulator, whose
    /// instruments replace earlier simulator entries in the file.
    pub async fn open(data_dir: &Path, config_path: &Path, demo: bool) -> DeskResult<Desk> {
        Desk::open_with(data_dir, config_path, demo, AgentOptions::default()).await
    }

    /// [`Desk::open`] with agent options (tests shorten intervals).
    pub async fn open_with(
        data_dir: &Path,
        config_path: &Path,
        demo: bool,
        mut agent_opts: AgentOptions,
    ) -> DeskResult<Desk> {
        // The simulator demo is an evaluation, not a site: no plan limits.
        agent_opts.enforce_limits &= !demo;
        // Remote instrument settings come here, to the window's own editing path.
        let (edits_tx, edits_rx) = tokio::sync::mpsc::channel(4);
        agent_opts.config_edits = Some(edits_tx);
        let existing = match std::fs::read_to_string(config_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(DeskError::Invalid(read_error(config_path, &e)));
            }
        };
        let mut sim = None;
        let mut history = None;
        let (table, cfg) = if demo {
            let (handle, sim_insts) = demo::start_simulator().await?;
            history = Some((handle.instruments.clone(), sim_insts.clone()));
            sim = Some(handle);
            // A broken earlier demo file is replaced rather than blocking the demo.
            let previous = existing.as_deref().and_then(|t| config_file::check(t, config_path).ok());
            let mut table = existing.as_deref().map(agent_table).unwrap_or_default();
            if table.is_empty() {
                table.insert("name".into(), toml::Value::String("demo".into()));
                table.insert("poll_interval".into(), toml::Value::String("1s".into()));
            }
            let insts = demo::merge(sim_insts, previous.as_ref().map_or(&[][..], |c| &c.instruments));
            let text = config_file::render(&table, &config_file::with_instruments(insts, previous.as_ref()))?;
            let cfg = config_file::check(&text, config_path)?;
            write_atomic(config_path, &text)?;
            (table, cfg)
        } else if let Some(text) = existing {
            let cfg = config_file::check(&text, config_path)?;
            (agent_table(&text), cfg)
        } else {
            let table = toml::Table::new();
            let text = config_file::render(&table, &config_file::with_instruments(Vec::new(), None))?;
            let cfg = config_file::check(&text, config_path)?;
            write_atomic(config_path, &text)?;
            (table, cfg)
        };
        let (live, _) = broadcast::channel(4096);
        let fast = Arc::new(Mutex::new(HashMap::new()));
        // The last hour of the demo's history before the agent starts, the
        // rest of the week behind it (the first screen waits for no more).
        let backfill = match history {
            Some((sims, configs)) => {
                Some(demo::write_recent_history(data_dir, &cfg, sims, configs, agent_opts.demo_history).await?)
            }
            None => None,
        };
        let handle = Agent::start(cfg.clone(), data_dir, agent_opts.clone())?;
        spawn_forwarder(&handle, live.clone(), fast.clone());
        let history = demo::HistoryJob::start(backfill);
        let reader = Store::open_readonly(&data_dir.join(STORE_FILE))?;
        Ok(Desk {
            data_dir: data_dir.to_path_buf(),
            config_path: config_path.to_path_buf(),
            demo,
            agent_opts,
            config: RwLock::new(Arc::new(cfg)),
            agent_toml: Mutex::new(table),
            agent: tokio::sync::RwLock::new(Some(handle)),
            edit: tokio::sync::Mutex::new(()),
            reader: Mutex::new(reader),
            consoles: Mutex::new(ConsoleLocks::default()),
            fast,
            live,
            sim: tokio::sync::Mutex::new(sim),
            remote_edits: Mutex::new(Some(edits_rx)),
            history,
        })
    }

    /// Waits until the demo's older history is written (at once when there
    /// is none to write); its error, if writing failed.
    pub async fn history_written(&self) -> DeskResult<()> {
        self.history.wait().await
    }

    /// Stops the agent (recording its stop) and the simulator.
    pub async fn shutdown(&self) -> DeskResult<()> {
        // An unfinished history continues when the demo starts again.
        self.history.stop();
        let _ = self.history.wait().await;
        let agent = self.agent.write().await.take();
        let result = match agent {
            Some(a) => a.shutdown().await.map_err(DeskError::from),
            None => Ok(()),
        };
        if let Some(sim) = self.sim.lock().await.take() {
            sim.shutdown().await;
        }
        result
    }

    /// Live updates (readings, states, events, fast monitor) of the agent,
    /// across restarts.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The configuration in effect.
    pub fn config(&self) -> Arc<AgentConfig> {
        self.config.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    // ------------------------------------------------------------ settings

    pub fn app_state(&self) -> DeskResult<AppState> {
        Ok(AppState {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.data_dir.display().to_string(),
            config_path: self.config_path.display().to_string(),
            demo: self.demo,
            settings: self.settings()?,
        })
    }

    /// Everything the window's first screen needs, in one call (issue 17:
    /// each round trip before the first paint is felt at start).
    pub fn start_view(&self) -> DeskResult<StartView> {
        Ok(StartView {
            state: self.app_state()?,
            instruments: self.list_instruments()?,
            has_boards: !self.dashboards()?.boards.is_empty(),
            latest: self.latest()?,
        })
    }

    pub fn settings(&self) -> DeskResult<UiSettings> {
        let stored = lock!(self.reader).setting(UI_SETTINGS_KEY)?;
        Ok(settings::parse_stored(stored.as_deref()))
    }

    pub fn save_settings(&self, s: &UiSettings) -> DeskResult<()> {
        s.validate()?;
        let json = serde_json::to_string(s)
            .map_err(|e| DeskError::Invalid(Text::new("err-desk-settings-json").arg("reason", e.to_string())))?;
        self.write_setting(UI_SETTINGS_KEY, &json)
    }

    /// A short-lived writable connection, as the CLI uses for requests to a
    /// running agent: the agent's writer owns the long-lived one.
    fn write_setting(&self, key: &str, value: &str) -> DeskResult<()> {
        let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        store.set_setting(key, value)?;
        Ok(())
    }

    // --------------------------------------------------------- instruments

    pub fn list_instruments(&self) -> DeskResult<Vec<InstrumentView>> {
        let cfg = self.config();
        let now = now_ms();
        let reader = lock!(self.reader);
        let states = reader.instrument_states()?;
        let fast = lock!(self.fast).clone();
        let mut out = Vec::with_capacity(cfg.instruments.len());
        for inst in &cfg.instruments {
            let row = states.iter().find(|s| s.id == inst.id);
            let identity: Option<Identity> =
                reader.setting(&identity_key(&inst.id))?.and_then(|j| serde_json::from_str(&j).ok());
            let (state, reason_text) = if !inst.enabled {
                (ConnState::Stopped, Some(Text::new("evt.disabled")))
            } else {
                row.map_or((ConnState::Connecting, None), |r| {
                    // Rows from before reasons were kept as texts.
                    let text = r.reason_text.clone().or_else(|| r.reason.clone().map(Text::plain));
                    (r.state, text)
                })
            };
            out.push(InstrumentView {
                config: inst.clone(),
                state,
                reason: reason_text.as_ref().map(|r| r.render("en")),
                reason_text,
                last_poll: row.and_then(|r| r.last_poll),
                compat_warning: identity.as_ref().and_then(check_compat),
                identity,
                fast_until: fast.get(&inst.id).copied().filter(|u| *u > now),
                poll_interval_s: cfg.poll_interval_of(inst).as_secs_f64(),
            });
        }
        Ok(out)
    }

    /// One line for the tray icon's tooltip.
    /// Unread notifications, for the tray (0 when the store cannot say).
    fn unread_for_tray(&self) -> u64 {
        self.unread_count().unwrap_or(0)
    }

    /// The instruments' states with the unread notifications on the first
    /// line (Linux trays show only the menu's status line, not tooltips).
    pub fn tray_tooltip(&self) -> DeskResult<String> {
        let lang = self.settings()?.language;
        Ok(with_unread(tray_summary_in(&self.list_instruments()?, &lang), self.unread_for_tray(), &lang))
    }

    fn instrument(&self, id: &str) -> DeskResult<InstrumentConfig> {
        self.config()
            .instruments
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| DeskError::UnknownInstrument(id.to_string()))
    }

    /// Adds `config`, or puts it in place of `replace_id`; writes the file
    /// and restarts the agent. Returns the instrument as now listed.
    pub async fn save_instrument(
        &self,
        config: InstrumentConfig,
        replace_id: Option<&str>,
    ) -> DeskResult<InstrumentView> {
        let id = config.id.clone();
        let _edit = self.edit.lock().await;
        let list = apply_edit(&self.config().instruments, config, replace_id)?;
        self.apply_instruments(list).await?;
        self.list_instruments()?.into_iter().find(|v| v.config.id == id).ok_or(DeskError::UnknownInstrument(id))
    }

    pub async fn remove_instrument(&self, id: &str) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let list = edited_list(&self.config().instruments, &crate::remote::InstrumentEdit::Remove { id: id.into() })?;
        self.apply_instruments(list).await
    }

    /// Checks, writes and applies a new instrument list (caller holds `edit`).
    async fn apply_instruments(&self, list: Vec<InstrumentConfig>) -> DeskResult<()> {
        let (text, cfg) = self.prepare_instruments(list)?;
        self.commit_instruments(&text, &cfg)?;
        self.restart_agent(cfg).await
    }

    /// The file's text and the config for a new instrument list, checked
    /// as the agent loads it and against the plan's limits.
    fn prepare_instruments(&self, list: Vec<InstrumentConfig>) -> DeskResult<(String, AgentConfig)> {
        let table = lock!(self.agent_toml).clone();
        let text = config_file::render(&table, &config_file::with_instruments(list, Some(&self.config())))?;
        let cfg = config_file::check(&text, &self.config_path)?;
        self.check_limits(&cfg)?;
        Ok((text, cfg))
    }

    /// Writes the file and makes `cfg` the one in effect (the agent still
    /// runs the old one until restarted).
    fn commit_instruments(&self, text: &str, cfg: &AgentConfig) -> DeskResult<()> {
        write_atomic(&self.config_path, text)?;
        let ids: Vec<String> = cfg.instruments.iter().map(|i| i.id.clone()).collect();
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cfg.clone());
        lock!(self.consoles).retain(&ids);
        lock!(self.fast).retain(|k, _| ids.contains(k));
        Ok(())
    }

    /// Carries out the cloud's instrument settings (issue 16) as edits
    /// made in this window, for as long as the desk lives. Call once,
    /// after putting the desk in an `Arc`.
    pub fn serve_remote_edits(self: &Arc<Self>) {
        let Some(mut rx) = lock!(self.remote_edits).take() else { return };
        let desk = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(req) = rx.recv().await {
                let Some(desk) = desk.upgrade() else { return };
                desk.remote_edit(req).await;
            }
        });
    }

    /// One remote edit: refused with the editor's error, or saved; the
    /// agent restarts once the command's reply is on its way.
    async fn remote_edit(&self, req: crate::remote::EditRequest) {
        let _edit = self.edit.lock().await;
        let saved = edited_list(&self.config().instruments, &req.edit)
            .and_then(|list| self.prepare_instruments(list))
            .and_then(|(text, cfg)| self.commit_instruments(&text, &cfg).map(|()| cfg));
        let cfg = match saved {
            Ok(cfg) => cfg,
            Err(e) => {
                let _ = req.answer.send(Err(refusal(&e)));
                return;
            }
        };
        let (after_tx, after_rx) = tokio::sync::oneshot::channel();
        let _ = req.answer.send(Ok(after_tx));
        let _ = tokio::time::timeout(Duration::from_secs(5), after_rx).await;
        if let Err(e) = self.restart_agent(cfg).await {
            tracing::warn!("the agent did not restart after a remote instrument change: {e}");
        }
        let _ = self.live.send(LiveEvent::Instruments);
    }

    async fn restart_agent(&self, cfg: AgentConfig) -> DeskResult<()> {
        let mut slot = self.agent.write().await;
        if let Some(old) = slot.take() {
            old.shutdown().await?;
        }
        let handle = Agent::start(cfg, &self.data_dir, self.agent_opts.clone())?;
        spawn_forwarder(&handle, self.live.clone(), self.fast.clone());
        *slot = Some(handle);
        Ok(())
    }

    async fn raw(&self, id: &str, command: &str) -> DeskResult<Option<String>> {
        let agent = self.agent.read().await;
        let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
        Ok(agent.raw(id, command).await?)
    }

    /// Asks the instrument who it is (`*IDN?`) through its poller and
    /// remembers the answer. Families without an identity query (Modbus):
    /// the last known identity (if any) is returned.
    pub async fn identify(&self, id: &str) -> DeskResult<IdentifyView> {
        let inst = self.instrument(id)?;
        if !inst.enabled {
            return Err(DeskError::Invalid(Text::new("err-desk-identify-disabled").arg("id", id)));
        }
        let identity = if inst.family.identification == Identification::None {
            lock!(self.reader)
                .setting(&identity_key(id))?
                .and_then(|j| serde_json::from_str::<Identity>(&j).ok())
                .ok_or_else(|| {
                    DeskError::Device(Text::new("err-device-no-identity").arg("id", id).arg("family", inst.family.id()))
                })?
        } else {
            let reply = self
                .raw(id, "*IDN?")
                .await?
                .ok_or_else(|| DeskError::Device(Text::new("err-device-no-idn").arg("id", id)))?;
            let identity = parse_idn(&reply).map_err(|e| {
                DeskError::Device(
                    Text::new("err-device-idn-reply")
                        .arg("id", id)
                        .arg("reply", format!("{reply:?}"))
                        .arg("reason", e.to_string()),
                )
            })?;
            if let Ok(json) = serde_json::to_string(&identity) {
                self.write_setting(&identity_key(id), &json)?;
            }
            identity
        };
        Ok(IdentifyView { warning: check_compat(&identity), identity })
    }

    /// Fast monitor on or off; returns when it ends (`None` when off).
    pub async fn set_fast_monitor(&self, id: &str, on: bool) -> DeskResult<Option<TimeMs>> {
        let inst = self.instrument(id)?;
        if !inst.enabled {
            return Err(DeskError::Invalid(Text::new("err-desk-disabled").arg("id", id)));
        }
        {
            let agent = self.agent.read().await;
            let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
            agent.set_fast_monitor(id, on).await?;
        }
        let until = on.then(|| now_ms() + FAST_DURATION.as_millis() as TimeMs);
        let mut fast = lock!(self.fast);
        match until {
            Some(u) => fast.insert(id.to_string(), u),
            None => fast.remove(id),
        };
        Ok(until)
    }

    // ----------------------------------------------------------- discovery

    /// `hosts` like `192.168.1.1-254`, `10.0.0.0/24` or one address; no
    /// ports means every family's discovery ports.
    pub async fn discover_lan(&self, hosts: &str, ports: &[u16], timeout_ms: u64) -> DeskResult<Vec<Found>> {
        let addrs = discovery::parse_host_range(hosts.trim()).map_err(|e| {
            DeskError::Invalid(Text::new("err-desk-hosts").arg("hosts", hosts.trim()).text_arg("reason", e.text()))
        })?;
        if !(1..=60_000).contains(&timeout_ms) {
            return Err(DeskError::Invalid(Text::new("err-desk-sweep-timeout").arg("got", timeout_ms.to_string())));
        }
        if ports.contains(&0) {
            return Err(DeskError::Invalid(Text::new("err-desk-port-zero")));
        }
        let ports = if ports.is_empty() { discovery::default_ports() } else { ports.to_vec() };
        Ok(discovery::sweep_lan(addrs, ports, Duration::from_millis(timeout_ms), 128).await)
    }

    pub fn list_serial_ports(&self) -> DeskResult<Vec<SerialPortInfo>> {
        meterdeck_drivers::transport::list_serial_ports()
            .map_err(|e| DeskError::Device(Text::new("err-device-serial-list").text_arg("reason", e.text())))
    }

    /// Asks `*IDN?` on each serial port at `baud`.
    pub async fn probe_serial(&self, paths: &[String], baud: u32) -> DeskResult<Vec<Found>> {
        if baud == 0 {
            return Err(DeskError::Invalid(Text::new("err-desk-baud")));
        }
        let paths: Vec<String> = paths.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        if paths.is_empty() {
            return Err(DeskError::Invalid(Text::new("err-desk-no-serial-port")));
        }
        Ok(discovery::probe_serial(paths, baud, "\n", Duration::from_secs(1)).await)
    }

    /// A Bluetooth LE scan of `seconds` (1..120): every device heard, with
    /// the family and transport that fit (issue 14).
    pub async fn discover_ble(
        &self,
        seconds: u64,
    ) -> DeskResult<Vec<meterdeck_drivers::transport::ble_scan::BleFound>> {
        if !(1..=120).contains(&seconds) {
            return Err(DeskError::Invalid(Text::new("err-desk-ble-seconds").arg("got", seconds.to_string())));
        }
        meterdeck_drivers::transport::ble_scan::scan(Duration::from_secs(seconds))
            .await
            .map_err(|e| DeskError::Device(Text::new("err-device-ble-scan").text_arg("reason", e.text())))
    }

    // ---------------------------------------------------------------- data

    /// Each channel's newest value, for configured instruments.
    pub fn latest(&self) -> DeskResult<Vec<LatestView>> {
        let cfg = self.config();
        let rows = lock!(self.reader).latest()?;
        Ok(rows
            .into_iter()
            .filter(|(c, _)| {
                cfg.instruments.iter().any(|i| i.id == c.instrument)
                    || (c.instrument == crate::calc::OUTPUT_INSTRUMENT && cfg.calcs.iter().any(|k| k.id == c.channel))
            })
            .map(|(c, s)| {
                let (value, special) = views::split_value(s.value);
                LatestView {
                    channel_id: c.id,
                    path: c.path(),
                    instrument: c.instrument,
                    channel: c.channel,
                    unit: c.unit,
                    t: s.t,
                    value,
                    special,
                }
            })
            .collect())
    }

    /// Every stored channel, including those of removed instruments.
    pub fn channels(&self) -> DeskResult<Vec<ChannelRecord>> {
        Ok(lock!(self.reader).channels()?)
    }

    fn records(&self, ids: &[ChannelId]) -> DeskResult<Vec<ChannelRecord>> {
        let all = self.channels()?;
        ids.iter().map(|id| all.iter().find(|c| c.id == *id).cloned().ok_or(DeskError::UnknownChannel(*id))).collect()
    }

    /// Viewer data sized to `width` pixels: raw points when the range holds
    /// at most `2 * width` samples, else one M4 bucket per pixel.
    pub fn series(&self, ids: &[ChannelId], from: TimeMs, to: TimeMs, width: u32) -> DeskResult<Vec<SeriesView>> {
        self.records(ids)?;
        series::series(&lock!(self.reader), ids, from, to, width)
    }

    /// [`Desk::series`] as one binary frame (see `series_frame.rs`): what
    /// the window's Viewer reads, without JSON.
    pub fn series_frame(&self, ids: &[ChannelId], from: TimeMs, to: TimeMs, width: u32) -> DeskResult<Vec<u8>> {
        Ok(series_frame::encode(&self.series(ids, from, to, width)?))
    }

    /// The span `[first, last + 1)` holding every sample of the channels (the
    /// Viewer's "all" range), `None` when they hold none.
    pub fn extent(&self, ids: &[ChannelId]) -> DeskResult<Option<TimeRange>> {
        self.records(ids)?;
        let reader = lock!(self.reader);
        let mut span: Option<(TimeMs, TimeMs)> = None;
        for &id in ids {
            if let Some((lo, hi)) = reader.extent(id)? {
                span = Some(span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            }
        }
        Ok(span.map(|(from, last)| TimeRange { from, to: last.saturating_add(1) }))
    }

    pub fn table(&self, ids: &[ChannelId], from: TimeMs, to: TimeMs, limit: u32) -> DeskResult<TableView> {
        let records = self.records(ids)?;
        series::table(&lock!(self.reader), &records, from, to, limit)
    }

    /// Writes the channels over `[from, to)` to `path` (`.csv` or `.zip`),
    /// calling `progress(done, total)` as it goes. Uses its own read-only
    /// connection so the window stays responsive.
    pub fn export(
        &self,
        ids: &[ChannelId],
        from: TimeMs,
        to: TimeMs,
        path: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> DeskResult<ExportView> {
        let path = path.trim();
        if path.is_empty() {
            return Err(DeskError::Invalid(Text::new("err-desk-no-export-path")));
        }
        let out = expand_home(path);
        if !out.is_absolute() {
            return Err(DeskError::Invalid(Text::new("err-desk-export-absolute").arg("path", path)));
        }
        let format = ExportFormat::from_path(&out)
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-export-ext").arg("path", path)))?;
        if let Some(dir) = out.parent().filter(|d| !d.is_dir()) {
            return Err(DeskError::Invalid(Text::new("err-desk-no-folder").arg("path", dir.display().to_string())));
        }
        // Right after a demo starts, the range may lie in the history still being written.
        let _ = self.history.wait_blocking();
        let records = self.records(ids)?;
        let store = Store::open_readonly(&self.data_dir.join(STORE_FILE))?;
        let s = export(&store, &records, from, to, &out, format, progress)?;
        Ok(ExportView {
            path: s.path.display().to_string(),
            channels: s.channels,
            samples: s.samples,
            rows: s.rows,
            bytes: s.bytes,
        })
    }

    /// Newest first; `kind` is an event kind such as `error` or `connected`.
    pub fn events(&self, instrument: Option<&str>, kind: Option<&str>, limit: u32) -> DeskResult<Vec<Event>> {
        if limit == 0 || limit > MAX_EVENTS {
            return Err(DeskError::Invalid(
                Text::new("err-desk-event-limit").arg("max", MAX_EVENTS.to_string()).arg("got", limit.to_string()),
            ));
        }
        let instrument = instrument.map(str::trim).filter(|s| !s.is_empty());
        let kind = match kind.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(k) => Some(
                EventKind::parse(k)
                    .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-event-kind").arg("kind", k)))?,
            ),
        };
        let reader = lock!(self.reader);
        let Some(kind) = kind else {
            return Ok(reader.events(None, instrument, limit as usize)?);
        };
        // The store filters by instrument only; read more and filter the kind.
        let mut out: Vec<Event> = reader
            .events(None, instrument, (limit as usize).saturating_mul(20).min(200_000))?
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect();
        out.truncate(limit as usize);
        Ok(out)
    }

    // ------------------------------------------------------------- console

    /// Takes the instrument's console for `operator`; fails with
    /// "held by <operator> since <time>" when someone else has it.
    pub fn console_acquire(&self, instrument: &str, operator: &str) -> DeskResult<()> {
        self.instrument(instrument)?;
        self.refuse_if_remote(instrument)?;
        lock!(self.consoles).acquire(instrument, operator, now_ms())?;
        self.publish_console_holds();
        Ok(())
    }

    /// Sends a raw command line; returns the reply of a query.
    pub async fn console_send(&self, instrument: &str, operator: &str, command: &str) -> DeskResult<Option<String>> {
        self.instrument(instrument)?;
        let command = command.trim();
        if command.is_empty() {
            return Err(DeskError::Invalid(Text::new("err-desk-no-command")));
        }
        self.refuse_if_remote(instrument)?;
        lock!(self.consoles).use_console(instrument, operator, now_ms())?;
        self.publish_console_holds();
        self.raw(instrument, command).await
    }

    pub fn console_release(&self, instrument: &str, operator: &str) -> DeskResult<()> {
        lock!(self.consoles).release(instrument, operator)?;
        self.publish_console_holds();
        Ok(())
    }

    /// Who holds an instrument's console, and since when.
    pub fn console_holder(&self, instrument: &str) -> Option<(String, TimeMs)> {
        lock!(self.consoles).holder(instrument, now_ms())
    }

    /// The cloud user operating `instrument`'s console remotely now (the
    /// window's "operated remotely by ..." banner).
    pub fn remote_console_holder(&self, instrument: &str) -> Option<crate::control::ConsoleHold> {
        let text = lock!(self.reader).setting(crate::remote::REMOTE_HOLDS_KEY).ok().flatten();
        crate::remote::remote_holder(text.as_deref(), instrument, now_ms())
    }

    /// One operator at a time across the window and the cloud.
    fn refuse_if_remote(&self, instrument: &str) -> DeskResult<()> {
        match self.remote_console_holder(instrument) {
            Some(h) => Err(DeskError::ConsoleHeld {
                operator: format!("{} (remotely, from the cloud)", h.operator),
                since: crate::fmt::format_time(h.since),
            }),
            None => Ok(()),
        }
    }

    /// The owner's consent to remote access per instrument (only the local
    /// user changes it: here and `meterdeck-agent consent`).
    pub fn remote_consents(&self) -> DeskResult<Vec<String>> {
        Ok(crate::remote::consent::consents(&lock!(self.reader))?)
    }

    /// `*`: adding instruments remotely (the agent-wide switch).
    pub async fn set_remote_consent(&self, instrument: &str, on: bool) -> DeskResult<()> {
        if instrument != meterdeck_wire::remote::ANY_INSTRUMENT {
            self.instrument(instrument)?;
        }
        let path = self.data_dir.join(STORE_FILE);
        let instrument = instrument.to_string();
        tokio::task::spawn_blocking(move || {
            let mut store = Store::open_with(&path, crate::store::StoreOptions::default(), &[])?;
            crate::remote::set_consent(&mut store, &instrument, on)
        })
        .await
        .map_err(|e| DeskError::Invalid(Text::new("err-desk-internal").arg("reason", e.to_string())))??;
        Ok(())
    }
}

/// "cannot read PATH: REASON" (the OS's words quoted).
fn read_error(path: &Path, e: &std::io::Error) -> Text {
    Text::new("err-desk-read").arg("path", path.display().to_string()).arg("reason", e.to_string())
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Relays one agent's updates to the desk's channel until that agent stops,
/// keeping the fast-monitor deadlines current.
fn spawn_forwarder(
    handle: &AgentHandle,
    live: broadcast::Sender<LiveEvent>,
    fast: Arc<Mutex<HashMap<String, TimeMs>>>,
) {
    let mut rx = handle.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(update) => {
                    let ev = LiveEvent::from(&update);
                    if let LiveEvent::FastMonitor { instrument, until } = &ev {
                        let mut f = lock!(fast);
                        match until {
                            Some(u) => f.insert(instrument.clone(), *u),
                            None => f.remove(instrument),
                        };
                    }
                    let _ = live.send(ev);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}
