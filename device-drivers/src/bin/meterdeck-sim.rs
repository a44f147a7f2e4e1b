//! `meterdeck-sim`: serves simulated instruments until Ctrl-C / SIGTERM.
//!
//! ```text
//! meterdeck-sim --config sim.toml
//! meterdeck-sim --personality hioki-logger --count 3 --channels 30 --seed 1
//! meterdeck-sim --personality scpi --serial
//! meterdeck-sim --personality power-meter --listen 127.0.0.1:3390 --slow 200ms --garbage-every 10
//! ```
//! Prints `READY <name> <personality> <address>` on stdout for each
//! instrument once it listens; logs go to stderr (`RUST_LOG` filters them).

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use meterdeck_drivers::sim::{self, Faults, Personality, SimConfig, SimInstrument};

#[derive(Debug, Parser)]
#[command(name = "meterdeck-sim", version, about = "Simulated measuring instruments for Meterdeck")]
struct Args {
    /// TOML file with `[[instrument]]` tables (excludes the per-instrument flags).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["personality", "serial"])]
    config: Option<PathBuf>,
    /// Personality of the instruments to serve.
    #[arg(long, value_enum)]
    personality: Option<Personality>,
    /// Address to listen on; with --count K and a non-zero port, instrument i
    /// listens on port+i. Default 127.0.0.1:0 (ephemeral ports).
    #[arg(long, value_name = "HOST:PORT", requires = "personality", conflicts_with = "serial")]
    listen: Option<String>,
    /// Channels per instrument (personality default if omitted).
    #[arg(long, requires = "personality")]
    channels: Option<usize>,
    /// Waveform seed; instrument i gets seed + i.
    #[arg(long, default_value_t = 0, requires = "personality")]
    seed: u64,
    /// Number of instruments.
    #[arg(long, default_value_t = 1, requires = "personality")]
    count: usize,
    /// Waveform step (values change at most once per step).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s", requires = "personality")]
    step: Duration,
    /// Name prefix (instruments are named PREFIX-1, PREFIX-2, ...; just PREFIX when --count 1).
    #[arg(long, requires = "personality")]
    name: Option<String>,
    /// Serve the scpi personality on a pty instead of TCP.
    #[arg(long)]
    serial: bool,
    /// Close every connection at this period, e.g. 30s.
    #[arg(long, value_parser = humantime::parse_duration, requires = "personality")]
    drop_every: Option<Duration>,
    /// Delay every reply, e.g. 200ms.
    #[arg(long, value_parser = humantime::parse_duration, requires = "personality")]
    slow: Option<Duration>,
    /// Every Nth data reply is garbage.
    #[arg(long, value_name = "N", requires = "personality")]
    garbage_every: Option<u32>,
    /// Every Nth reading of a channel is a sentinel.
    #[arg(long, value_name = "N", requires = "personality")]
    sentinel_every: Option<u32>,
}

/// Builds the instruments the flags describe.
fn from_flags(a: &Args, personality: Personality) -> anyhow::Result<SimConfig> {
    if a.count == 0 {
        bail!("--count must be at least 1");
    }
    let base: Option<SocketAddr> = match &a.listen {
        Some(l) => Some(l.parse().with_context(|| format!("--listen {l}: expected HOST:PORT, e.g. 127.0.0.1:8802"))?),
        None => None,
    };
    let prefix = a.name.clone().unwrap_or_else(|| personality.name().to_string());
    let mut instruments = Vec::with_capacity(a.count);
    for i in 0..a.count {
        let mut inst =
            SimInstrument::new(if a.count == 1 { prefix.clone() } else { format!("{prefix}-{}", i + 1) }, personality);
        inst.listen = match base {
            Some(mut addr) if addr.port() != 0 => {
                let port = u16::try_from(usize::from(addr.port()) + i)
                    .map_err(|_| anyhow::anyhow!("--listen {addr} with --count {}: ports run past 65535", a.count))?;
                addr.set_port(port);
                Some(addr.to_string())
            }
            Some(addr) => Some(addr.to_string()),
            None => None,
        };
        inst.serial = a.serial;
        inst.channels = a.channels;
        inst.seed = a.seed.wrapping_add(i as u64);
        inst.step = a.step;
        inst.faults = Faults {
            drop_every: a.drop_every,
            slow: a.slow,
            garbage_every: a.garbage_every,
            sentinel_every: a.sentinel_every,
        };
        instruments.push(inst);
    }
    Ok(SimConfig { instruments })
}

async fn wait_for_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT").context("cannot handle SIGINT"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("cannot handle Ctrl-C")?;
        Ok("Ctrl-C")
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let cfg = match (&args.config, args.personality) {
        (Some(path), _) => SimConfig::load(path)?,
        (None, Some(p)) => from_flags(&args, p)?,
        (None, None) => bail!("give --config FILE or --personality P (see --help)"),
    };
    let handle = sim::start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        for i in &handle.instruments {
            writeln!(out, "READY {} {} {}", i.name, i.personality, i.address).context("cannot write to stdout")?;
        }
        out.flush().context("cannot write to stdout")?;
    }
    let signal = wait_for_signal().await?;
    tracing::info!("{signal} received, stopping");
    handle.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meterdeck-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}
