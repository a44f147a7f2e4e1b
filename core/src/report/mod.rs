//! PDF reports: per-channel statistics over a range (from the store's
//! block summaries, decoding only edge blocks), graphs drawn by plotters
//! into SVG, a PDF laid out with krilla, and a CSV of the statistics.
//!
//! The scheduler (templates kept in the store, schedules, delivery) builds
//! on [`generate`]; this module only turns a template and a range into files.

pub mod template;

// sched: saved templates, schedules, runs and their delivery.
pub mod deliver;
pub mod range;
pub mod runner;
pub mod saved;
pub mod schedule;
pub mod ts;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::TimeMs;
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
    Template(String),
    #[error("the range's start must be before its end")]
    BadRange,
    #[error("channel {0:?} is not in the store")]
    UnknownChannel(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("logo {path}: {reason}")]
    Logo { path: PathBuf, reason: String },
    #[error("drawing the report: {0}")]
    Render(String),
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Generates the PDF at `out_pdf` and the CSV of the statistics beside it
/// (same stem, `.csv`), calling `progress` after each step.
pub fn generate(
    store: &Store,
    req: &ReportRequest,
    out_pdf: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<GeneratedReport, ReportError> {
    let _ = (store, out_pdf, &mut *progress);
    req.template.validate().map_err(ReportError::Template)?;
    if req.from >= req.to {
        return Err(ReportError::BadRange);
    }
    Err(ReportError::Render("not implemented yet".into()))
}
