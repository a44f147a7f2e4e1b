//! `meterdeck-agent alarms`: every alarm of the config's rules in the state
//! the store holds, or an operator action on one (ack, shelve, unshelve,
//! out of service, in service) handed to the running agent, which owns the
//! journal, and confirmed from the journal.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::alarm_requests::{ALARM_REQUESTS_KEY, AlarmRequest, add_alarm_request};
use meterdeck_core::agent::{now_ms, system_tz};
use meterdeck_core::alarm::{AlarmEngine, AlarmRule, AlarmView, JournalEntry, JournalFilter, journal};
use meterdeck_core::config::AgentConfig;
use meterdeck_core::export::format_value;
use meterdeck_core::fmt::format_time;
use meterdeck_core::model::Value;
use meterdeck_core::store::{Store, StoreError, StoreOptions};

use super::StoreArgs;
use crate::table::render_table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: Option<AlarmAction>,
    #[arg(long)]
    json: bool,
}

/// Carried out by the running agent (it owns the journal) within a second.
#[derive(clap::Subcommand)]
enum AlarmAction {
    /// Acknowledge an unacknowledged alarm.
    Ack {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Suppress an alarm's notifications for a while.
    Shelve {
        alarm: String,
        #[arg(long)]
        minutes: u32,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    Unshelve {
        alarm: String,
        #[arg(long)]
        user: String,
    },
    /// Take an alarm out of service (maintenance).
    OutOfService {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
    InService {
        alarm: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        None => alarms_cmd(&args.store, args.json),
        Some(action) => alarm_action_cmd(&args.store, action),
    }
}

/// The rules: from `--config`, else the data directory's `agent.toml`
/// (where the desktop app keeps its configuration).
fn alarm_rules(args: &StoreArgs, store_path: &Path) -> Result<Vec<AlarmRule>> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None => store_path.with_file_name("agent.toml"),
    };
    if !path.exists() {
        bail!("the alarm rules live in the config file: give --config FILE ({} does not exist)", path.display());
    }
    Ok(AgentConfig::load(&path)?.alarms)
}

fn alarms_cmd(args: &StoreArgs, json: bool) -> Result<()> {
    let path = args.store_path()?;
    let rules = alarm_rules(args, &path)?;
    let store = Store::open_readonly(&path)?;
    let views = list(&store, rules)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    let rows = views
        .iter()
        .map(|a| {
            let mut state =
                vec![if a.active { "ACTIVE" } else { "returned" }, if a.acked { "acked" } else { "UNACKED" }];
            if a.shelved_until.is_some() {
                state.push("shelved");
            }
            if a.out_of_service {
                state.push("out of service");
            }
            vec![
                a.alarm_id.clone(),
                a.severity.as_str().to_string(),
                state.join(", "),
                a.value.clone().unwrap_or_default(),
                if a.since > 0 { format_time(a.since) } else { "-".into() },
                a.ack
                    .as_ref()
                    .map(|k| format!("{} {}", k.user, k.comment.clone().unwrap_or_default()))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", render_table(&["alarm", "severity", "state", "value", "since", "acknowledged"], rows));
    Ok(())
}

fn alarm_action_cmd(args: &StoreArgs, action: AlarmAction) -> Result<()> {
    let req = |alarm: String, action: &str, user: String, comment: Option<String>, minutes: Option<u32>| AlarmRequest {
        at: 0,
        alarm_id: alarm,
        action: action.to_string(),
        user,
        comment,
        minutes,
    };
    let r = match action {
        AlarmAction::Ack { alarm, user, comment } => req(alarm, "ack", user, comment, None),
        AlarmAction::Shelve { alarm, minutes, user, comment } => req(alarm, "shelve", user, comment, Some(minutes)),
        AlarmAction::Unshelve { alarm, user } => req(alarm, "unshelve", user, None, None),
        AlarmAction::OutOfService { alarm, user, comment } => req(alarm, "out_of_service", user, comment, None),
        AlarmAction::InService { alarm, user, comment } => req(alarm, "in_service", user, comment, None),
    };
    if r.user.trim().is_empty() {
        bail!("--user must name who acts");
    }
    let mut store = Store::open_with(&args.store_path()?, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let entry = request(&mut store, r, Duration::from_secs(5)).map_err(|e| anyhow!(e))?;
    println!(
        "{} {}: {} -> {} ({})",
        entry.alarm_id,
        entry.action.as_str(),
        entry.from_state,
        entry.to_state,
        format_time(entry.t)
    );
    Ok(())
}

/// Every alarm of `rules` in the state the store holds.
fn list(store: &Store, rules: Vec<AlarmRule>) -> Result<Vec<AlarmView>, StoreError> {
    let states = journal::load_states(store.conn())?;
    let units: std::collections::HashMap<String, String> =
        store.channels()?.into_iter().filter_map(|c| c.unit.clone().map(|u| (c.path(), u))).collect();
    Ok(AlarmEngine::new(rules, system_tz(), states).views(|path, v| match (v, units.get(path)) {
        (Value::Number(_), Some(u)) => format!("{} {u}", format_value(v)),
        _ => format_value(v),
    }))
}

/// Hands `req` to the running agent and waits for the journal to show it.
/// Returns the journal entry, or why it was not applied.
fn request(store: &mut Store, mut req: AlarmRequest, wait: Duration) -> Result<JournalEntry, String> {
    req.command().map_err(|e| e.to_string())?;
    req.at = now_ms();
    let current = store.setting(ALARM_REQUESTS_KEY).map_err(|e| e.to_string())?;
    store
        .set_setting(ALARM_REQUESTS_KEY, &add_alarm_request(current.as_deref(), req.clone()))
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        let f = JournalFilter {
            from: Some(req.at),
            to: None,
            alarm_id: Some(req.alarm_id.clone()),
            action: None,
            limit: Some(20),
        };
        let entries = journal::query(store.conn(), &f).map_err(|e| e.to_string())?;
        if let Some(e) = entries.into_iter().find(|e| e.user.as_deref() == Some(req.user.as_str())) {
            return Ok(e);
        }
        let refused = store
            .events(Some(req.at), None, 50)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|e| e.message.contains(&format!("alarm {} {}", req.alarm_id, req.action)));
        if let Some(ev) = refused {
            return Err(ev.message);
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!(
                "no running agent applied it within {} s; is `meterdeck-agent run` running on this data directory?",
                wait.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
