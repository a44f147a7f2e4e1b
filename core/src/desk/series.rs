//! Viewer data: raw points when the range holds few enough, else M4
//! buckets sized to the plot width; and the list (table) view.

use std::collections::BTreeMap;

use super::error::{DeskError, DeskResult};
use super::views::{SeriesView, TableView, split_value};
use crate::export::format_value;
use crate::model::{ChannelId, ChannelRecord, Text, TimeMs};
use crate::store::Store;

/// Channels the viewer shows at once.
pub const MAX_VIEW_CHANNELS: usize = 32;
pub const MAX_WIDTH: u32 = 16_384;
pub const MAX_TABLE_ROWS: u32 = 100_000;

fn check_range(from: TimeMs, to: TimeMs) -> DeskResult<()> {
    if from >= to {
        return Err(DeskError::Invalid(
            Text::new("err-empty-range").arg("from", from.to_string()).arg("to", to.to_string()),
        ));
    }
    Ok(())
}

fn check_channels(ids: &[ChannelId]) -> DeskResult<()> {
    if ids.len() > MAX_VIEW_CHANNELS {
        return Err(DeskError::Invalid(
            Text::new("err-desk-too-many-shown")
                .arg("max", MAX_VIEW_CHANNELS.to_string())
                .arg("n", ids.len().to_string()),
        ));
    }
    Ok(())
}

/// Per channel: raw when `[from, to)` holds at most `2 * width` samples.
pub fn series(store: &Store, ids: &[ChannelId], from: TimeMs, to: TimeMs, width: u32) -> DeskResult<Vec<SeriesView>> {
    check_channels(ids)?;
    check_range(from, to)?;
    if width == 0 || width > MAX_WIDTH {
        return Err(DeskError::Invalid(
            Text::new("err-desk-plot-width").arg("max", MAX_WIDTH.to_string()).arg("got", width.to_string()),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if !store.count_exceeds(id, from, to, 2 * u64::from(width))? {
            let mut samples = store.range(id, from, to)?;
            samples.sort_by_key(|s| s.t);
            let mut v = SeriesView {
                channel_id: id,
                raw: true,
                t: Vec::with_capacity(samples.len()),
                min: Vec::with_capacity(samples.len()),
                max: Vec::with_capacity(samples.len()),
            };
            for s in samples {
                let (x, _) = split_value(s.value);
                v.t.push(s.t);
                v.min.push(x);
                v.max.push(x);
            }
            out.push(v);
        } else {
            let buckets = store.minmax(id, from, to, width as usize)?;
            out.push(SeriesView {
                channel_id: id,
                raw: false,
                t: buckets.iter().map(|b| b.t_start).collect(),
                min: buckets.iter().map(|b| b.min.map(|m| m.1)).collect(),
                max: buckets.iter().map(|b| b.max.map(|m| m.1)).collect(),
            });
        }
    }
    Ok(out)
}

/// The end of a window starting at `from` that holds a little more than
/// `limit` samples of `ch` (narrowed with M4 counts, so a year-long range
/// does not decode a year of samples for the first page).
fn cut_for(store: &Store, ch: ChannelId, from: TimeMs, to: TimeMs, limit: u64) -> DeskResult<TimeMs> {
    let mut cut = to;
    for _ in 0..6 {
        if store.count_in_range(ch, from, cut)? <= limit.saturating_mul(4).max(1024) {
            break;
        }
        let buckets = store.m4(ch, from, cut, 256)?;
        let mut total = 0u64;
        let mut next = cut;
        for b in &buckets {
            total += b.count;
            if total > limit {
                next = b.t_end;
                break;
            }
        }
        if next >= cut {
            break;
        }
        cut = next;
    }
    Ok(cut)
}

/// Rows by timestamp (ascending), one column per channel; at most `limit`.
pub fn table(store: &Store, channels: &[ChannelRecord], from: TimeMs, to: TimeMs, limit: u32) -> DeskResult<TableView> {
    check_range(from, to)?;
    if channels.len() > MAX_VIEW_CHANNELS {
        return Err(DeskError::Invalid(
            Text::new("err-desk-too-many-listed").arg("max", MAX_VIEW_CHANNELS.to_string()),
        ));
    }
    if limit == 0 || limit > MAX_TABLE_ROWS {
        return Err(DeskError::Invalid(
            Text::new("err-desk-row-limit").arg("max", MAX_TABLE_ROWS.to_string()).arg("got", limit.to_string()),
        ));
    }
    let mut cut = to;
    for ch in channels {
        cut = cut.min(cut_for(store, ch.id, from, cut, u64::from(limit))?);
    }
    let mut rows: BTreeMap<TimeMs, Vec<Option<String>>> = BTreeMap::new();
    for (k, ch) in channels.iter().enumerate() {
        store.for_each_in_range(ch.id, from, cut, |s| {
            let row = rows.entry(s.t).or_insert_with(|| vec![None; channels.len()]);
            row[k] = Some(format_value(s.value));
        })?;
    }
    let truncated = rows.len() > limit as usize || cut < to;
    Ok(TableView {
        columns: channels.iter().map(ChannelRecord::path).collect(),
        rows: rows.into_iter().take(limit as usize).collect(),
        truncated,
    })
}
