//! `meterdeck-agent journal`: the alarm journal, every transition and
//! delivery attempt, filtered by alarm, action and time.

use anyhow::{Result, anyhow};
use meterdeck_core::agent::now_ms;
use meterdeck_core::alarm::{Action, JournalEntry, JournalFilter, journal};
use meterdeck_core::fmt::format_time;
use meterdeck_core::model::TimeMs;
use meterdeck_core::store::Store;

use super::StoreArgs;
use crate::table::render_table;
use crate::time::parse_time;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long, value_name = "ID")]
    alarm: Option<String>,
    /// raise, return, ack, shelve, unshelve, out_of_service, in_service, reminder, notify_ok, notify_failed, notify_retry
    #[arg(long)]
    action: Option<String>,
    #[arg(long, value_name = "TIME", default_value = "-7d", allow_hyphen_values = true)]
    from: String,
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    journal_cmd(&a.store, a.alarm, a.action.as_deref(), &a.from, a.limit, a.json)
}

fn journal_cmd(
    args: &StoreArgs,
    alarm: Option<String>,
    action: Option<&str>,
    from: &str,
    limit: usize,
    json: bool,
) -> Result<()> {
    let from = parse_time(from, now_ms()).map_err(|e| anyhow!("--from: {e}"))?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let entries = read_journal(&store, alarm, Some(from), action, limit).map_err(|e| anyhow!(e))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                format_time(e.t),
                e.alarm_id.clone(),
                e.action.as_str().to_string(),
                format!("{} -> {}", e.from_state, e.to_state),
                e.user.clone().unwrap_or_default(),
                e.comment.clone().unwrap_or_default(),
                e.values.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", render_table(&["time", "alarm", "action", "state", "user", "comment", "values"], rows));
    Ok(())
}

fn read_journal(
    store: &Store,
    alarm_id: Option<String>,
    from: Option<TimeMs>,
    action: Option<&str>,
    limit: usize,
) -> Result<Vec<JournalEntry>, String> {
    let action = match action {
        Some(a) => Some(Action::ALL.into_iter().find(|x| x.as_str() == a).ok_or_else(|| {
            let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            format!("unknown action `{a}` (one of: {})", all.join(", "))
        })?),
        None => None,
    };
    let f = JournalFilter { from, to: None, alarm_id, action, limit: Some(limit) };
    journal::query(store.conn(), &f).map_err(|e| e.to_string())
}
