//! What a report shows, read from the store: per-channel statistics and
//! the alarms raised in the range.

use rusqlite::OptionalExtension;

use super::template::ReportTemplate;
use super::{ChannelStats, ReportError, ThresholdTime};
use crate::alarm::journal::{self, JournalEntry, JournalFilter, MAX_QUERY_LIMIT};
use crate::alarm::lifecycle::Action;
use crate::model::{ChannelRecord, TimeMs};
use crate::store::Store;

/// The template's channels, looked up; an unknown path is an error naming it.
pub fn channels(store: &Store, t: &ReportTemplate) -> Result<Vec<ChannelRecord>, ReportError> {
    t.channels.iter().map(|p| store.find_channel(p)?.ok_or_else(|| ReportError::UnknownChannel(p.clone()))).collect()
}

pub fn channel_stats(
    store: &Store,
    t: &ReportTemplate,
    ch: &ChannelRecord,
    from: TimeMs,
    to: TimeMs,
) -> Result<ChannelStats, ReportError> {
    let path = ch.path();
    let th = t.stats.thresholds.get(&path).copied().unwrap_or_default();
    let s = store.range_stats(ch.id, from, to, th.above, th.below)?;
    Ok(ChannelStats {
        unit: ch.unit.clone(),
        samples: s.samples,
        specials: s.specials,
        min: s.min,
        max: s.max,
        mean: s.mean(),
        above: th.above.zip(s.above_ms).map(|(threshold, ms)| ThresholdTime { threshold, ms }),
        below: th.below.zip(s.below_ms).map(|(threshold, ms)| ThresholdTime { threshold, ms }),
        path,
    })
}

/// Alarms raised in `[from, to)`, oldest first, and how many there were
/// (at most `MAX_QUERY_LIMIT` are read). A store without the alarm journal
/// (never run by an agent with alarms) has none.
pub fn alarms(store: &Store, from: TimeMs, to: TimeMs) -> Result<Vec<JournalEntry>, ReportError> {
    let conn = store.conn();
    let has_journal = conn
        .query_row("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'alarm_journal'", [], |_| Ok(()))
        .optional()
        .map_err(|e| ReportError::Journal(e.to_string()))?
        .is_some();
    if !has_journal {
        return Ok(Vec::new());
    }
    let filter = JournalFilter {
        from: Some(from),
        to: Some(to - 1),
        alarm_id: None,
        action: Some(Action::Raise),
        limit: Some(MAX_QUERY_LIMIT),
    };
    let mut out = journal::query(conn, &filter).map_err(|e| ReportError::Journal(e.to_string()))?;
    out.reverse();
    Ok(out)
}
