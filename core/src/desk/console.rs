//! One operator per instrument console: who holds which console, since
//! when. A console idle for [`CONSOLE_IDLE`] is free again, so a window
//! closed without releasing does not lock others out for good.

use std::collections::HashMap;

use super::error::{DeskError, DeskResult};
use crate::fmt::format_time;
use crate::model::TimeMs;

pub const CONSOLE_IDLE_MS: TimeMs = 15 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Holder {
    operator: String,
    since: TimeMs,
    last_used: TimeMs,
}

#[derive(Debug, Default)]
pub struct ConsoleLocks {
    held: HashMap<String, Holder>,
}

fn check_operator(operator: &str) -> DeskResult<&str> {
    let op = operator.trim();
    if op.is_empty() {
        return Err(DeskError::Invalid("enter an operator name before using the console".into()));
    }
    Ok(op)
}

impl ConsoleLocks {
    /// Takes the console (or renews it for its holder).
    pub fn acquire(&mut self, instrument: &str, operator: &str, now: TimeMs) -> DeskResult<()> {
        let op = check_operator(operator)?;
        match self.held.get_mut(instrument) {
            Some(h) if h.operator != op && now - h.last_used < CONSOLE_IDLE_MS => {
                Err(DeskError::ConsoleHeld { operator: h.operator.clone(), since: format_time(h.since) })
            }
            Some(h) if h.operator == op => {
                h.last_used = now;
                Ok(())
            }
            _ => {
                self.held
                    .insert(instrument.to_string(), Holder { operator: op.to_string(), since: now, last_used: now });
                Ok(())
            }
        }
    }

    /// Before a command: the operator must hold the console; a free one is
    /// taken on the way.
    pub fn use_console(&mut self, instrument: &str, operator: &str, now: TimeMs) -> DeskResult<()> {
        self.acquire(instrument, operator, now)
    }

    /// Gives the console back; releasing one someone else holds is an error
    /// naming the holder.
    pub fn release(&mut self, instrument: &str, operator: &str) -> DeskResult<()> {
        let op = check_operator(operator)?;
        match self.held.get(instrument) {
            Some(h) if h.operator == op => {
                self.held.remove(instrument);
                Ok(())
            }
            Some(h) => Err(DeskError::ConsoleHeld { operator: h.operator.clone(), since: format_time(h.since) }),
            None => Ok(()),
        }
    }

    /// The current holder and since when, if any.
    pub fn holder(&self, instrument: &str, now: TimeMs) -> Option<(String, TimeMs)> {
        self.held.get(instrument).filter(|h| now - h.last_used < CONSOLE_IDLE_MS).map(|h| (h.operator.clone(), h.since))
    }

    /// Forgets the consoles of instruments no longer configured.
    pub fn retain(&mut self, ids: &[String]) {
        self.held.retain(|k, _| ids.contains(k));
    }
}
