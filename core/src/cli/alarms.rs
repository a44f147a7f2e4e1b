//! `meterdeck-agent alarms | journal | notifications`: the alarm side of a
//! data directory, read from the store (the list also needs the config's
//! rules), and operator actions handed to the running agent.

use std::time::Duration;

use crate::agent::alarm_requests::{ALARM_REQUESTS_KEY, AlarmRequest, add_alarm_request};
use crate::agent::{now_ms, system_tz};
use crate::alarm::{Action, AlarmEngine, AlarmRule, AlarmView, JournalEntry, JournalFilter, journal};
use crate::export::format_value;
use crate::model::TimeMs;
use crate::notify::{Note, centre};
use crate::store::{Store, StoreError};

/// Every alarm of `rules` in the state the store holds.
pub fn list(store: &Store, rules: Vec<AlarmRule>) -> Result<Vec<AlarmView>, StoreError> {
    let states = journal::load_states(store.conn())?;
    let units: std::collections::HashMap<String, String> =
        store.channels()?.into_iter().filter_map(|c| c.unit.clone().map(|u| (c.path(), u))).collect();
    Ok(AlarmEngine::new(rules, system_tz(), states).views(|path, v| match (v, units.get(path)) {
        (crate::model::Value::Number(_), Some(u)) => format!("{} {u}", format_value(v)),
        _ => format_value(v),
    }))
}

pub fn journal(
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

pub fn notifications(store: &Store, unread_only: bool, limit: usize) -> Result<Vec<Note>, StoreError> {
    Ok(centre::list(store.conn(), unread_only, Some(limit))?)
}

/// Hands `req` to the running agent and waits for the journal to show it.
/// Returns the journal entry, or why it was not applied.
pub fn request(store: &mut Store, mut req: AlarmRequest, wait: Duration) -> Result<JournalEntry, String> {
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
