//! `meterdeck-agent`: the headless engine. Polls instruments into the local
//! cache (`run`), shows it (`status`, `query`), exports it (`export`), finds
//! instruments (`discover`), and runs everything on the built-in simulator
//! (`demo`). Logs go to stderr (RUST_LOG respected); every user error ends
//! the process with one line and a non-zero exit code.
//!
//! This file only wires the commands to clap; each command (its arguments
//! and its body) lives in its own file under `commands/`. Terminal output
//! lives in this crate, never in meterdeck-core.

mod commands;
mod live_table;
mod paths;
mod table;
mod time;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{
    alarms, cloud, consent, control, demo, discover, export, fast, files, journal, licence, notifications, query,
    report, run, status,
};

#[derive(Parser)]
#[command(
    name = "meterdeck-agent",
    version,
    about = "Meterdeck's headless agent: polls instruments into the local cache"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Poll the instruments of a config file until SIGINT or SIGTERM.
    Run(run::Args),
    /// Run the built-in simulator and the agent together, printing live values every second.
    Demo(demo::Args),
    /// Find instruments on the LAN or on serial ports.
    Discover(discover::Args),
    /// Instruments with their state, latest values, outbox backlog, store size.
    Status(status::Args),
    /// Ask the running agent to poll an instrument every 5 s for 10 minutes.
    Fast(fast::Args),
    /// Allow or refuse remote access from the cloud to an instrument (off by default)
    Consent(consent::Args),
    /// Instrument control through the running agent: start, stop, restart, set-clock, settings profiles.
    Control(control::Args),
    /// Export channels over a time range to CSV (one wide file) or ZIP (one CSV per channel + the wide file).
    Export(export::Args),
    /// A PDF report (graphs, statistics, alarms) and a CSV of its statistics, from a template file.
    Report(report::Args),
    /// Alarms in their current state (rules from the config), or an operator action on one.
    Alarms(alarms::Args),
    /// The alarm journal: every transition and delivery attempt.
    Journal(journal::Args),
    /// The notification centre.
    Notifications(notifications::Args),
    /// Cloud sync: store the agent's broker login in the OS keychain, remove it, or show the sync state.
    Cloud(cloud::Args),
    /// The licence: the plan in force and its limits, verify a licence file, fetch it from the cloud now.
    Licence(licence::Args),
    /// Print a channel's samples, or an M4 (min/max per bucket) view of them.
    Query(query::Args),
    /// Measurement files from the instruments' FTP servers: list, fetch one now, upload, FTP password.
    Files(files::Args),
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without repeating a cause the
/// message already contains.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text.replace('\n', " ")
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Discover(args) => discover::run(args),
        Command::Status(args) => status::run(args),
        Command::Fast(args) => fast::run(args),
        Command::Consent(args) => consent::run(args),
        Command::Control(args) => control::run(args),
        Command::Export(args) => export::run(args),
        Command::Report(args) => report::run(args),
        Command::Alarms(args) => alarms::run(args),
        Command::Journal(args) => journal::run(args),
        Command::Notifications(args) => notifications::run(args),
        Command::Query(args) => query::run(args),
        Command::Cloud(args) => cloud::run(args),
        Command::Licence(args) => licence::run(args),
        Command::Files(args) => files::run(args),
    }
}
