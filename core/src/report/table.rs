//! The CSV of the statistics written beside the PDF: one row per channel,
//! every digit kept, times in RFC 3339 UTC, durations in milliseconds.

use std::path::Path;

use super::{ChannelStats, ReportError};
use crate::fmt::{format_number, format_time};

pub const HEADER: [&str; 13] = [
    "channel",
    "unit",
    "samples",
    "specials",
    "min",
    "min_time",
    "max",
    "max_time",
    "mean",
    "upper_limit",
    "time_above_ms",
    "lower_limit",
    "time_below_ms",
];

pub fn csv_bytes(stats: &[ChannelStats]) -> Result<Vec<u8>, ReportError> {
    let err = |e: csv::Error| ReportError::Render(format!("the statistics CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).map_err(err)?;
    let num = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    for s in stats {
        w.write_record([
            s.path.clone(),
            s.unit.clone().unwrap_or_default(),
            s.samples.to_string(),
            s.specials.to_string(),
            num(s.min.map(|m| m.1)),
            s.min.map(|m| format_time(m.0)).unwrap_or_default(),
            num(s.max.map(|m| m.1)),
            s.max.map(|m| format_time(m.0)).unwrap_or_default(),
            num(s.mean),
            num(s.above.map(|a| a.threshold)),
            s.above.map(|a| a.ms.to_string()).unwrap_or_default(),
            num(s.below.map(|b| b.threshold)),
            s.below.map(|b| b.ms.to_string()).unwrap_or_default(),
        ])
        .map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Render(format!("the statistics CSV: {e}")))
}

/// Writes `bytes` to `path` through a temporary file beside it, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let werr = |source| ReportError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(werr)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(werr)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(e)
    })
}
