//! `meterdeck-agent control <instrument> ...`: start, stop or restart a
//! measurement, set the instrument's clock, and settings profiles (save,
//! show, diff, push). Everything that talks to the instrument is carried
//! out by the running agent between two polls: the command leaves a request
//! in the store and waits for the agent's answer.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::now_ms;
use meterdeck_core::control::requests::{add_request, console_hold, find_result, held_refusal};
use meterdeck_core::control::{
    CONSOLE_HOLDS_KEY, CONTROL_REQUESTS_KEY, CONTROL_RESULTS_KEY, ControlAction, ControlOutcome, ControlRequest,
    Profile, load_profile, parse_profile_file, profiles, save_profile, to_file_text,
};
use meterdeck_core::desk::CONSOLE_IDLE_MS;
use meterdeck_core::drivers::Family;
use meterdeck_core::drivers::control::{SettingDiff, diff};
use meterdeck_core::store::{Store, StoreOptions};

use super::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// The instrument's id.
    instrument: String,
    #[command(subcommand)]
    command: ControlCommand,
    /// How long to wait for the running agent's answer.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

#[derive(clap::Subcommand)]
enum ControlCommand {
    /// Start a measurement.
    Start,
    /// Stop the measurement.
    Stop,
    /// Stop, then start a new measurement.
    Restart,
    /// Set the instrument's clock to this computer's (UTC).
    SetClock,
    /// Settings profiles: named lists of settings read back from the instrument.
    #[command(subcommand)]
    Profile(ProfileCommand),
}

#[derive(clap::Subcommand)]
enum ProfileCommand {
    /// Save the instrument's current settings as a profile (or a profile file's).
    Save {
        name: String,
        /// Read the settings from this file (as `profile show` prints) instead of the instrument.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// The saved profiles, or one profile as a profile file.
    Show { name: Option<String> },
    /// What pushing the profile would change on the instrument.
    Diff { name: String },
    /// Push the profile after showing the diff and asking; read back and verify.
    Push {
        name: String,
        /// Push without asking.
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(args: Args) -> Result<()> {
    let path = args.store.store_path()?;
    let mut store = Store::open_with(&path, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let family = instrument_family(&store, &args.instrument)?;
    let id = args.instrument.as_str();
    let ask = |store: &mut Store, action| ask_agent(store, id, action, args.timeout);
    match args.command {
        ControlCommand::Start => print_outcome(&ask(&mut store, ControlAction::Start)?),
        ControlCommand::Stop => print_outcome(&ask(&mut store, ControlAction::Stop)?),
        ControlCommand::Restart => print_outcome(&ask(&mut store, ControlAction::Restart)?),
        ControlCommand::SetClock => print_outcome(&ask(&mut store, ControlAction::SetClock)?),
        ControlCommand::Profile(ProfileCommand::Save { name, file }) => {
            let settings = match file {
                Some(file) => parse_profile_file(&file, family)?,
                None => ask(&mut store, ControlAction::ReadSettings)?.settings,
            };
            let profile = Profile {
                name,
                instrument: id.to_string(),
                family: family.id().to_string(),
                saved_at: now_ms(),
                settings,
            };
            save_profile(&mut store, &profile)?;
            println!("{id}: profile `{}` saved ({} settings)", profile.name, profile.settings.len());
            print!("{}", to_file_text(&profile.settings));
        }
        ControlCommand::Profile(ProfileCommand::Show { name: Some(name) }) => {
            print!("{}", to_file_text(&load_profile(&store, id, &name)?.settings));
        }
        ControlCommand::Profile(ProfileCommand::Show { name: None }) => {
            let all = profiles(&store, id)?;
            if all.is_empty() {
                println!("{id}: no saved profiles (save one with `control {id} profile save NAME`)");
            }
            for p in all {
                println!(
                    "{}\t{} settings\tsaved {}",
                    p.name,
                    p.settings.len(),
                    meterdeck_core::fmt::format_time(p.saved_at)
                );
            }
        }
        ControlCommand::Profile(ProfileCommand::Diff { name }) => {
            let profile = load_profile(&store, id, &name)?;
            let current = ask(&mut store, ControlAction::ReadSettings)?.settings;
            print_diff(id, &name, &diff(&current, &profile.settings));
        }
        ControlCommand::Profile(ProfileCommand::Push { name, yes }) => {
            let profile = load_profile(&store, id, &name)?;
            let current = ask(&mut store, ControlAction::ReadSettings)?.settings;
            let plan = diff(&current, &profile.settings);
            print_diff(id, &name, &plan);
            if !plan.iter().any(|d| d.changes) {
                return Ok(());
            }
            if !yes && !confirm(&format!("push profile `{name}` to {id}?"))? {
                bail!("not pushed: not confirmed (answer `y`, or pass --yes)");
            }
            let out = ask(&mut store, ControlAction::PushProfile { settings: profile.settings })?;
            print_outcome(&out);
        }
    }
    Ok(())
}

/// The family of a known instrument, or an error listing the known ones.
fn instrument_family(store: &Store, instrument: &str) -> Result<Family> {
    let known = store.instrument_states()?;
    match known.iter().find(|i| i.id == instrument) {
        Some(i) => {
            Family::lookup(&i.family).ok_or_else(|| anyhow!("instrument `{instrument}`: unknown family `{}`", i.family))
        }
        None => {
            let ids: Vec<&str> = known.iter().map(|i| i.id.as_str()).collect();
            bail!(
                "unknown instrument `{instrument}` (known: {})",
                if ids.is_empty() { "none".into() } else { ids.join(", ") }
            )
        }
    }
}

/// Leaves the request for the running agent and waits for its answer.
fn ask_agent(store: &mut Store, instrument: &str, action: ControlAction, timeout: Duration) -> Result<ControlOutcome> {
    let label = action.label();
    // The window publishes who holds which console: not while someone operates it there.
    let holds = store.setting(CONSOLE_HOLDS_KEY)?;
    if let Some(hold) = console_hold(holds.as_deref(), instrument, now_ms(), CONSOLE_IDLE_MS) {
        bail!("{instrument}: {}", held_refusal(&hold, label));
    }
    let id = format!("{}-{}-{}", std::process::id(), now_ms(), rand_suffix());
    let req = ControlRequest { id: id.clone(), instrument: instrument.to_string(), action, at: now_ms() };
    let existing = store.setting(CONTROL_REQUESTS_KEY)?;
    store.set_setting(CONTROL_REQUESTS_KEY, &add_request(existing.as_deref(), req))?;
    let started = Instant::now();
    loop {
        if let Some(res) = find_result(store.setting(CONTROL_RESULTS_KEY)?.as_deref(), &id) {
            return res.result.map_err(|e| anyhow!("{instrument}: {label} failed: {e}"));
        }
        if started.elapsed() > timeout {
            bail!(
                "{instrument}: {label}: no answer from the running agent within {} (is `meterdeck-agent run` or the window running on this data directory?)",
                humantime::format_duration(timeout)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_ms() as u64);
    h.finish() as u32
}

fn print_outcome(out: &ControlOutcome) {
    println!("{}: {}", out.instrument, out.message);
}

fn print_diff(instrument: &str, name: &str, plan: &[SettingDiff]) {
    let changes = plan.iter().filter(|d| d.changes).count();
    println!("{instrument}: profile `{name}` against the instrument: {changes} to change");
    for d in plan {
        let mark = if d.changes { "*" } else { " " };
        let current = d.current.as_deref().unwrap_or("(not listed)");
        match &d.profile {
            Some(p) if d.changes => println!("{mark} {}: {current} -> {p}", d.key),
            _ => println!("{mark} {}: {current}", d.key),
        }
    }
}

/// Asks for `y` on stdin (a closed stdin is a no).
fn confirm(question: &str) -> Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
