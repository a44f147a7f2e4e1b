//! The instrument simulator behind `meterdeck-sim`: Hioki-style logger and
//! power meter, a generic SCPI multimeter (TCP or a pty) and a Modbus TCP
//! device, with deterministic waveforms ([`expected_value`]), sentinels and
//! injected faults. It has its own small command matcher and shares no
//! parser with the drivers, so a parser bug cannot hide itself.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
//! let handle = sim::start(SimConfig { instruments: vec![SimInstrument::new("log", Personality::HiokiLogger)] }).await?;
//! let cfg = handle.instruments[0].instrument_config(); // ready for `meterdeck_drivers::open`
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

mod channels;
mod config;
mod dmm;
mod faults;
mod logger;
mod matcher;
mod modbus_server;
mod number;
mod power;
mod pty;
mod scpi_server;
mod session;
mod settings;
mod state;
mod waveform;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{Faults, Personality, SimConfig, SimInstrument};
pub use waveform::{History, expected_value, expected_value_with_step};

use crate::config::{
    ChannelConfig, DataType, InstrumentConfig, ModbusRegister, Parity, RegisterKind, TransportConfig, WordOrder,
};
use state::InstrumentState;

/// Where a simulated instrument can be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimAddress {
    Tcp(SocketAddr),
    /// The slave side of the pty the simulator serves.
    Serial(PathBuf),
}

impl fmt::Display for SimAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimAddress::Tcp(a) => write!(f, "{a}"),
            SimAddress::Serial(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One instrument that is listening.
#[derive(Clone)]
pub struct RunningSim {
    pub name: String,
    pub personality: Personality,
    pub address: SimAddress,
    state: Arc<InstrumentState>,
}

impl RunningSim {
    /// What channel `index` serves at `t_ms` by its waveform alone (no
    /// forced values, sentinels or faults): the demo's history continues
    /// into the live values with it.
    pub fn waveform_value(&self, index: usize, t_ms: i64) -> f64 {
        waveform::value_at(self.state.seed, self.personality, index, waveform::quantise_time(t_ms, self.state.step_ms))
    }

    /// [`Self::waveform_value`] for many consecutive times of channel
    /// `index` (a history): the same values, computed far more cheaply.
    pub fn waveform_history(&self, index: usize) -> History {
        History::new(self.state.seed, self.personality, index, self.state.step_ms)
    }
}

impl fmt::Debug for RunningSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSim")
            .field("name", &self.name)
            .field("personality", &self.personality)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Serial line settings the simulator's pty is described with.
pub const SIM_SERIAL_BAUD: u32 = 115_200;

impl RunningSim {
    pub fn seed(&self) -> u64 {
        self.state.seed
    }

    pub fn step(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.state.step_ms).unwrap_or(1000))
    }

    /// Channel ids in channel-index order (the index [`expected_value`] takes).
    pub fn channel_ids(&self) -> Vec<String> {
        self.state.specs.iter().map(|s| s.id.clone()).collect()
    }

    /// The measurement state, clock and settings control commands change
    /// (tests check them after every command).
    pub fn control_state(&self) -> SimControlState {
        let settings = match self.personality {
            Personality::Modbus => (0..settings::MODBUS_DEFAULTS.len())
                .filter_map(|i| self.state.modbus_setting(i))
                .map(|v| v.to_string())
                .collect(),
            p => (0..settings::table(p).len()).filter_map(|i| self.state.setting(i)).collect(),
        };
        SimControlState {
            running: self.state.running(),
            starts: self.state.starts(),
            clock: self.state.clock(),
            settings,
        }
    }

    /// The setting keys a profile of this instrument covers, in the order
    /// of [`SimControlState::settings`] (long-form SCPI headers, or Modbus
    /// holding register addresses).
    pub fn setting_keys(&self) -> Vec<String> {
        match self.personality {
            Personality::Modbus => {
                (0..settings::MODBUS_DEFAULTS.len()).map(|i| (settings::MODBUS_BASE + i as u16).to_string()).collect()
            }
            p => settings::table(p).iter().map(|s| s.header.to_string()).collect(),
        }
    }

    /// Closes every open connection now (as `:SIMulate:DROP` does).
    pub fn drop_connections(&self) {
        self.state.drops.drop_all();
    }

    /// A configuration the drivers can poll as is: the right family and
    /// transport, and every channel with its unit (SCPI channels with their
    /// query; Modbus channels at their `registers` entry, else as
    /// holding-register f32 pairs at 2k).
    pub fn instrument_config(&self) -> InstrumentConfig {
        let timeout = Duration::from_secs(2);
        let transport = match &self.address {
            SimAddress::Tcp(a) => {
                let host = if a.ip().is_unspecified() { "127.0.0.1".to_string() } else { a.ip().to_string() };
                TransportConfig::Tcp { host, port: Some(a.port()), timeout }
            }
            SimAddress::Serial(p) => TransportConfig::Serial {
                path: p.display().to_string(),
                baud: SIM_SERIAL_BAUD,
                data_bits: 8,
                parity: Parity::None,
                stop_bits: 1,
                timeout,
            },
        };
        let channels = self
            .state
            .specs
            .iter()
            .enumerate()
            .map(|(k, spec)| {
                let mut c = ChannelConfig::new(spec.id.clone());
                c.unit = spec.unit.map(str::to_string);
                match self.personality {
                    Personality::Scpi => c.query = channels::DMM_CHANNELS.get(k).map(|d| d.query.to_string()),
                    Personality::Modbus => {
                        let mapped = self.state.registers.as_ref().and_then(|r| r.get(k)).cloned();
                        c.modbus = Some(mapped.unwrap_or(ModbusRegister::new(
                            u16::try_from(2 * k).unwrap_or(u16::MAX),
                            RegisterKind::Holding,
                            DataType::F32,
                            WordOrder::Big,
                        )));
                    }
                    Personality::HiokiLogger | Personality::PowerMeter => {}
                }
                c
            })
            .collect();
        InstrumentConfig {
            id: self.name.clone(),
            name: Some(self.name.clone()),
            family: self.personality.family(),
            transport,
            terminator: "\n".to_string(),
            unit_id: 1,
            error_query: None,
            error_format: None,
            select: None,
            select_reply: None,
            sentinels: Vec::new(),
            poll_interval: None,
            enabled: true,
            set_clock_on_connect: false,
            start_on_connect: false,
            // The DMM and the Modbus device have no family list of settings.
            settings: match self.personality {
                Personality::Scpi | Personality::Modbus => self.setting_keys(),
                Personality::HiokiLogger | Personality::PowerMeter => Vec::new(),
            },
            channels,
        }
    }
}

/// What [`RunningSim::control_state`] reports.
#[derive(Clone, Debug, PartialEq)]
pub struct SimControlState {
    pub running: bool,
    /// Measurements started since the simulator started.
    pub starts: u32,
    /// The instrument's clock, as `:SYSTem:DATE`/`:SYSTem:TIME` left it.
    pub clock: chrono::DateTime<chrono::Utc>,
    /// Setting values in the order of [`RunningSim::setting_keys`].
    pub settings: Vec<String>,
}

/// Every running instrument. Dropping the handle stops them all; prefer
/// [`SimHandle::shutdown`] in async code, which also waits for the tasks.
pub struct SimHandle {
    pub instruments: Vec<RunningSim>,
    root: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle").field("instruments", &self.instruments).finish_non_exhaustive()
    }
}

impl SimHandle {
    pub fn get(&self, name: &str) -> Option<&RunningSim> {
        self.instruments.iter().find(|i| i.name == name)
    }

    /// Stops every instrument and closes every connection, then waits for
    /// the tasks to end.
    pub async fn shutdown(mut self) {
        self.root.cancel();
        for t in std::mem::take(&mut self.tasks) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.root.cancel();
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts every instrument; returns once all are listening. Errors name the
/// instrument (and the address it could not listen on).
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    cfg.validate().map_err(|e| anyhow::anyhow!("simulator configuration: {e}"))?;
    let mut handle = SimHandle { instruments: Vec::new(), root: CancellationToken::new(), tasks: Vec::new() };
    for inst in &cfg.instruments {
        // On error the partly built handle is dropped, which stops the others.
        let running = start_one(inst, &mut handle).await.with_context(|| format!("instrument `{}`", inst.name))?;
        tracing::info!(instrument = %running.name, personality = %running.personality, address = %running.address, "listening");
        handle.instruments.push(running);
    }
    Ok(handle)
}

async fn start_one(inst: &SimInstrument, handle: &mut SimHandle) -> anyhow::Result<RunningSim> {
    let state = Arc::new(InstrumentState::new(inst, handle.root.clone()));
    let address = if inst.serial {
        let pty = pty::open()?;
        let path = pty.path.clone();
        let scpi = Arc::new(scpi_server::ScpiInstrument::new(Arc::clone(&state)));
        handle.tasks.push(tokio::spawn(pty::serve(pty, scpi)));
        SimAddress::Serial(path)
    } else {
        let listen = inst.listen.as_deref().unwrap_or("127.0.0.1:0");
        let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr().with_context(|| format!("no local address for {listen}"))?;
        let task = if inst.personality == Personality::Modbus {
            tokio::spawn(modbus_server::serve(listener, Arc::clone(&state)))
        } else {
            let scpi = Arc::new(scpi_server::ScpiInstrument::new(Arc::clone(&state)));
            tokio::spawn(scpi_server::serve_tcp(listener, scpi))
        };
        handle.tasks.push(task);
        SimAddress::Tcp(addr)
    };
    if let Some(period) = inst.faults.drop_every {
        handle.tasks.push(tokio::spawn(drop_periodically(Arc::clone(&state), period)));
    }
    Ok(RunningSim { name: inst.name.clone(), personality: inst.personality, address, state })
}

/// Serves the Modbus personality as RTU on a serial stream, for the RTU
/// driver's tests (the simulator itself offers Modbus TCP only).
#[cfg(test)]
pub(crate) async fn serve_modbus_rtu_for_tests(serial: tokio_serial::SerialStream, inst: SimInstrument) {
    let state = Arc::new(InstrumentState::new(&inst, CancellationToken::new()));
    let server = tokio_modbus::server::rtu::Server::new(serial);
    if let Err(e) = server.serve_forever(modbus_server::ModbusService::new(state)).await {
        tracing::debug!("rtu test server ended: {e}");
    }
}

async fn drop_periodically(state: Arc<InstrumentState>, period: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                tracing::info!(instrument = %state.name, "dropping every connection (drop_every)");
                state.drops.drop_all();
            }
            () = state.drops.shutdown_requested() => return,
        }
    }
}
