//! PDF reports: per-channel statistics over a range (from the store's
//! block summaries, decoding only edge blocks), graphs drawn by plotters
//! into SVG, a PDF laid out with krilla, and a CSV of the statistics.
//!
//! The scheduler (templates kept in the store, schedules, delivery) builds
//! on [`generate`]; this module only turns a template and a range into files.

mod collect;
mod fonts;
mod graph;
mod pdf;
mod table;
pub mod template;
mod words;

#[cfg(test)]
mod tests;

// sched: saved templates, schedules, runs and their delivery.
pub mod deliver;
pub mod range;
pub mod runner;
pub mod saved;
pub mod schedule;
pub mod ts;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Text, TimeMs};
use crate::store::{Store, StoreError};

pub use template::{GraphGroup, Language, Paper, RangeKind, ReportTemplate, StatsOptions, Thresholds};

pub struct ReportRequest<'a> {
    pub template: &'a ReportTemplate,
    pub from: TimeMs,
    pub to: TimeMs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneratedReport {
    pub pdf: PathBuf,
    pub csv: PathBuf,
    pub summary: ReportSummary,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub title: String,
    pub from: TimeMs,
    pub to: TimeMs,
    pub channels: Vec<ChannelStats>,
    /// Alarms raised in `[from, to)` (0 when the template leaves them out).
    pub alarms: usize,
    /// No channel had a number in the range: the report says so.
    pub no_data: bool,
}

/// One channel's statistics over `[from, to)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    pub path: String,
    pub unit: Option<String>,
    /// Samples in the range, numbers and special values.
    pub samples: u64,
    pub specials: u64,
    /// `(t, value)` of the smallest and largest number.
    pub min: Option<(TimeMs, f64)>,
    pub max: Option<(TimeMs, f64)>,
    pub mean: Option<f64>,
    pub above: Option<ThresholdTime>,
    pub below: Option<ThresholdTime>,
}

/// Time a channel spent beyond a threshold: each number holds until the
/// next sample (the last one in the range holds for no time).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdTime {
    pub threshold: f64,
    pub ms: i64,
}

/// How far generation is: `done` of `total` steps, `what` names the step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub what: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report template: {0}")]
    Template(Text),
    #[error("the range's start must be before its end")]
    BadRange,
    #[error("channel {0:?} is not in the store")]
    UnknownChannel(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("logo {path}: {reason}")]
    Logo { path: PathBuf, reason: String },
    #[error("time zone {0:?} is not an IANA time zone")]
    TimeZone(String),
    #[error("reading the alarm journal: {0}")]
    Journal(String),
    #[error("drawing the report: {0}")]
    Render(String),
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl ReportError {
    /// The failure as a translatable message (keys `err-report-*` in
    /// locales/*/core.ftl); English is the Display. What the OS, the store
    /// or the drawing library said is quoted as it came.
    pub fn text(&self) -> Text {
        match self {
            ReportError::Template(t) => Text::new("err-report-template-invalid").text_arg("reason", t.clone()),
            ReportError::BadRange => Text::new("err-report-bad-range"),
            ReportError::UnknownChannel(c) => Text::new("err-report-unknown-channel").arg("channel", format!("{c:?}")),
            ReportError::Store(e) => e.text(),
            ReportError::Logo { path, reason } => {
                Text::new("err-report-logo").arg("path", path.display().to_string()).arg("reason", reason)
            }
            ReportError::TimeZone(tz) => Text::new("err-report-time-zone").arg("tz", format!("{tz:?}")),
            ReportError::Journal(e) => Text::new("err-report-journal").arg("reason", e),
            ReportError::Render(e) => Text::new("err-report-render").arg("reason", e),
            ReportError::Write { path, source } => {
                Text::new("err-report-write").arg("path", path.display().to_string()).arg("reason", source.to_string())
            }
        }
    }
}

/// Generates the PDF at `out_pdf` and the CSV of the statistics beside it
/// (same stem, `.csv`), calling `progress` after each step. A range with
/// no data, or only special values, gives a report that says so.
pub fn generate(
    store: &Store,
    req: &ReportRequest,
    out_pdf: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<GeneratedReport, ReportError> {
    let t = req.template;
    t.validate().map_err(ReportError::Template)?;
    if req.from >= req.to {
        return Err(ReportError::BadRange);
    }
    let tz: chrono_tz::Tz = t.time_zone.parse().map_err(|_| ReportError::TimeZone(t.time_zone.clone()))?;
    let words = words::words(t.language);
    let groups = t.graph_groups();
    let total = (t.channels.len() + groups.len() + 3) as u32;
    let mut done = 0u32;
    let mut step = |what: String| {
        done += 1;
        progress(Progress { done, total, what });
    };

    let channels = collect::channels(store, t)?;
    let mut stats = Vec::with_capacity(channels.len());
    for ch in &channels {
        stats.push(collect::channel_stats(store, t, ch, req.from, req.to)?);
        step(format!("statistics of {}", ch.path()));
    }
    let alarms = if t.include_alarms { collect::alarms(store, req.from, req.to)? } else { Vec::new() };
    step("alarms".into());

    let mut graphs = Vec::with_capacity(groups.len());
    for g in &groups {
        let mut lines = Vec::with_capacity(g.channels.len());
        for path in &g.channels {
            let ch =
                channels.iter().find(|c| &c.path() == path).ok_or_else(|| ReportError::UnknownChannel(path.clone()))?;
            let label = match &ch.unit {
                Some(u) if !u.is_empty() => format!("{path} [{u}]"),
                _ => path.clone(),
            };
            lines.push(graph::line(store, ch.id, label, req.from, req.to)?);
        }
        let caption = if g.title.is_empty() { g.channels.join(", ") } else { g.title.clone() };
        graphs.push(graph::svg(&caption, &lines, req.from, req.to, tz, words.no_data_graph)?);
        step(format!("graph {caption}"));
    }

    let numbers: u64 = stats.iter().map(|s| s.samples - s.specials).sum();
    let specials: u64 = stats.iter().map(|s| s.specials).sum();
    let notice = match (numbers, specials) {
        (0, 0) => Some(words.no_data),
        (0, _) => Some(words.only_specials),
        _ => None,
    };
    let summary = ReportSummary {
        title: t.title.clone(),
        from: req.from,
        to: req.to,
        channels: stats,
        alarms: alarms.len(),
        no_data: numbers == 0,
    };
    let content = pdf::Content {
        template: t,
        summary: &summary,
        tz,
        generated: crate::model::now_ms(),
        graphs,
        alarms: &alarms,
        notice,
    };
    let bytes = pdf::render(&content, words)?;
    table::write_atomic(out_pdf, &bytes)?;
    step("PDF".into());
    let csv = out_pdf.with_extension("csv");
    table::write_atomic(&csv, &table::csv_bytes(&summary.channels)?)?;
    step("CSV".into());
    Ok(GeneratedReport { pdf: out_pdf.to_path_buf(), csv, summary })
}
