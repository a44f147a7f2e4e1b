//! One operator per instrument console: who holds which console, since
//! when. A console idle for [`CONSOLE_IDLE`] is free again, so a window
//! closed without releasing does not lock others out for good.

use std::collections::HashMap;

use super::error::{DeskError, DeskResult};
use crate::control::ConsoleHold;
use crate::fmt::format_time;
use crate::model::{Text, TimeMs};

pub use crate::control::requests::CONSOLE_IDLE_MS;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Holder {
    operator: String,
    since: TimeMs,
    last_used: TimeMs,
}

#[derive(Debug, Default)]
pub struct ConsoleLocks {
    held: HashMap<String, Holder>,
    /// What was last published for the command line, and when.
    published: Option<(Vec<(String, String, TimeMs)>, TimeMs)>,
}

/// While a console is in use its hold is published again this often (its
/// `last_used` keeps it from counting as idle on the command line).
const REPUBLISH_MS: TimeMs = 60_000;

fn check_operator(operator: &str) -> DeskResult<&str> {
    let op = operator.trim();
    if op.is_empty() {
        return Err(DeskError::Invalid(Text::new("err-desk-no-operator")));
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

    /// The consoles held now, when they differ from what was last
    /// published (or that is a minute old); `None`: nothing to publish.
    pub fn holds_to_publish(&mut self, now: TimeMs) -> Option<Vec<ConsoleHold>> {
        let mut holds: Vec<ConsoleHold> = self
            .held
            .iter()
            .filter(|(_, h)| now - h.last_used < CONSOLE_IDLE_MS)
            .map(|(i, h)| ConsoleHold {
                instrument: i.clone(),
                operator: h.operator.clone(),
                since: h.since,
                last_used: h.last_used,
            })
            .collect();
        holds.sort_by(|a, b| a.instrument.cmp(&b.instrument));
        let who: Vec<_> = holds.iter().map(|h| (h.instrument.clone(), h.operator.clone(), h.since)).collect();
        let fresh = matches!(&self.published, Some((w, at)) if *w == who && now - at < REPUBLISH_MS);
        if fresh {
            return None;
        }
        self.published = Some((who, now));
        Some(holds)
    }

    /// Forgets the consoles of instruments no longer configured.
    pub fn retain(&mut self, ids: &[String]) {
        self.held.retain(|k, _| ids.contains(k));
    }
}
