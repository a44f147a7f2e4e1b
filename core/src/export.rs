//! Export of chosen channels over a time range: one wide CSV (rows merged by
//! timestamp) or a ZIP holding one CSV per channel plus the wide file.
//!
//! The wide file is written window by window: each window reads every
//! channel's samples in it and merges them, so memory is bounded by the
//! window, not by the range. Special values are written as their label
//! (`over-range`), numbers in their shortest round-trip form.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use crate::fmt::{format_number, format_value, parse_value};
use crate::model::{ChannelRecord, Sample, TimeMs, Value};
use crate::store::{Store, StoreError};

/// Samples merged per window of the wide file.
const WINDOW_SAMPLES: u64 = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Zip,
}

impl ExportFormat {
    /// From the output file's extension (`.csv` / `.zip`).
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "zip" => Some(ExportFormat::Zip),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub channels: usize,
    /// Samples written (each counted once, even if written twice in a ZIP).
    pub samples: u64,
    /// Data rows of the wide file.
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}", path.display())]
    Output { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Zip { path: PathBuf, source: zip::result::ZipError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no channels to export")]
    NoChannels,
    #[error("empty time range: from {from} is not before to {to}")]
    BadRange { from: TimeMs, to: TimeMs },
}

impl ExportError {
    /// The failure as a translatable message (keys `err-export-*` in
    /// locales/*/core.ftl); English is the Display. What the OS, the zip
    /// writer or the store said is quoted as it came.
    pub fn text(&self) -> crate::model::Text {
        use crate::model::Text;
        match self {
            ExportError::Output { path, source } => {
                Text::new("err-export-write").arg("path", path.display().to_string()).arg("reason", source.to_string())
            }
            ExportError::Zip { path, source } => {
                Text::new("err-export-write").arg("path", path.display().to_string()).arg("reason", source.to_string())
            }
            ExportError::Store(e) => e.text(),
            ExportError::NoChannels => Text::new("err-export-no-channels"),
            ExportError::BadRange { from, to } => {
                Text::new("err-empty-range").arg("from", from.to_string()).arg("to", to.to_string())
            }
        }
    }
}

/// Writes `channels` over `[from, to)` to `out`. `progress(done, total)` is
/// called as samples are written (total counts the samples once per file
/// they go into).
pub fn export(
    store: &Store,
    channels: &[ChannelRecord],
    from: TimeMs,
    to: TimeMs,
    out: &Path,
    format: ExportFormat,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary, ExportError> {
    if channels.is_empty() {
        return Err(ExportError::NoChannels);
    }
    if from >= to {
        return Err(ExportError::BadRange { from, to });
    }
    let mut counts = Vec::with_capacity(channels.len());
    for ch in channels {
        counts.push(store.count_in_range(ch.id, from, to)?);
    }
    let samples: u64 = counts.iter().sum();
    let io = |source| ExportError::Output { path: out.to_path_buf(), source };
    // Written beside the target and renamed at the end, so a failed export
    // never leaves a half file under the requested name.
    let part = part_path(out);
    let result = (|| {
        let file = File::create(&part).map_err(io)?;
        let rows = match format {
            ExportFormat::Csv => {
                let mut w = BufWriter::with_capacity(1 << 16, file);
                let mut done = 0;
                let rows = write_wide(store, channels, from, to, samples, out, &mut w, &mut |n| {
                    done += n;
                    progress(done, samples)
                })?;
                w.flush().map_err(io)?;
                w.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
                rows
            }
            ExportFormat::Zip => write_zip(store, channels, from, to, samples, file, out, progress)?,
        };
        std::fs::rename(&part, out).map_err(io)?;
        Ok(rows)
    })();
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(ExportSummary { path: out.to_path_buf(), channels: channels.len(), samples, rows, bytes })
}

fn part_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    out.with_file_name(name)
}

#[allow(clippy::too_many_arguments)]
fn write_zip(
    store: &Store,
    channels: &[ChannelRecord],
    from: TimeMs,
    to: TimeMs,
    samples: u64,
    file: File,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ExportError> {
    use zip::write::SimpleFileOptions;
    let zip_err = |source| ExportError::Zip { path: out.to_path_buf(), source };
    let io = |source| ExportError::Output { path: out.to_path_buf(), source };
    let total = samples * 2;
    let mut done = 0u64;
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // Zip64 only when an entry may pass 4 GiB (about 40 bytes a row).
        .large_file(samples.saturating_mul(48) > u32::MAX as u64)
        .last_modified_time(zip_time_now());
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file));
    let mut used = std::collections::HashSet::new();
    for ch in channels {
        let name = unique_name(&mut used, &format!("{}_{}.csv", safe_name(&ch.instrument), safe_name(&ch.channel)));
        zip.start_file(name, opts).map_err(zip_err)?;
        let mut w = BufWriter::with_capacity(1 << 16, &mut zip);
        writeln!(w, "time_utc,epoch_ms,value").map_err(io)?;
        let mut failed = None;
        let mut line = String::with_capacity(64);
        let mut n = 0u64;
        store.for_each_in_range(ch.id, from, to, |s| {
            if failed.is_some() {
                return;
            }
            line.clear();
            push_time(&mut line, s.t);
            line.push(',');
            line.push_str(&format_value(s.value));
            line.push('\n');
            if let Err(e) = w.write_all(line.as_bytes()) {
                failed = Some(e);
            }
            n += 1;
            if n.is_multiple_of(65536) {
                progress(done + n, total);
            }
        })?;
        if let Some(e) = failed {
            return Err(io(e));
        }
        w.flush().map_err(io)?;
        drop(w);
        done += n;
        progress(done, total);
    }
    zip.start_file(unique_name(&mut used, "all_channels.csv"), opts).map_err(zip_err)?;
    let rows = {
        let mut w = BufWriter::with_capacity(1 << 16, &mut zip);
        let rows = write_wide(store, channels, from, to, samples, out, &mut w, &mut |n| {
            done += n;
            progress(done.min(total), total)
        })?;
        w.flush().map_err(io)?;
        rows
    };
    let inner = zip.finish().map_err(zip_err)?;
    inner.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
    Ok(rows)
}

/// The current UTC time for the entries' modification time (zip has no
/// clock of its own without extra features).
fn zip_time_now() -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now();
    let converted = u16::try_from(now.year()).ok().and_then(|y| {
        zip::DateTime::from_date_and_time(
            y,
            now.month() as u8,
            now.day() as u8,
            now.hour() as u8,
            now.minute() as u8,
            now.second() as u8,
        )
        .ok()
    });
    converted.unwrap_or_default()
}

fn unique_name(used: &mut std::collections::HashSet<String>, name: &str) -> String {
    let mut candidate = name.to_string();
    let mut k = 2;
    while !used.insert(candidate.clone()) {
        candidate = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}_{k}.{ext}"),
            None => format!("{name}_{k}"),
        };
        k += 1;
    }
    candidate
}

/// A file-name-safe version of an id (`CH1_1`, `U1`, `temp room 2`).
fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

#[allow(clippy::too_many_arguments)]
/// Writes the wide CSV: `time_utc,epoch_ms,<instrument/channel [unit]>...`,
/// one row per timestamp. Returns the number of data rows.
fn write_wide(
    store: &Store,
    channels: &[ChannelRecord],
    from: TimeMs,
    to: TimeMs,
    total: u64,
    out: &Path,
    w: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ExportError> {
    let io = |source| ExportError::Output { path: out.to_path_buf(), source };
    let mut header = String::from("time_utc,epoch_ms");
    for ch in channels {
        header.push(',');
        let title = match &ch.unit {
            Some(u) if !u.is_empty() => format!("{} [{u}]", ch.path()),
            _ => ch.path(),
        };
        header.push_str(&csv_field(&title));
    }
    header.push('\n');
    w.write_all(header.as_bytes()).map_err(io)?;

    // Window length so that a window holds about WINDOW_SAMPLES samples.
    let windows = total.div_ceil(WINDOW_SAMPLES).max(1) as i128;
    let span = (to as i128 - from as i128).max(1);
    let window_ms = ((span + windows - 1) / windows).clamp(1, i64::MAX as i128) as i64;
    let mut rows = 0u64;
    let mut line = String::with_capacity(32 + 16 * channels.len());
    let mut start = from;
    while start < to {
        let end = start.saturating_add(window_ms).min(to);
        let mut per_channel: Vec<Vec<Sample>> = Vec::with_capacity(channels.len());
        for ch in channels {
            per_channel.push(store.range(ch.id, start, end)?);
        }
        let written = merge_rows(&per_channel, &mut line, &mut |text| w.write_all(text.as_bytes())).map_err(io)?;
        rows += written.rows;
        progress(written.samples);
        start = end;
    }
    Ok(rows)
}

struct Merged {
    rows: u64,
    samples: u64,
}

/// k-way merge of per-channel sorted samples into rows. A channel with two
/// samples at one timestamp gets a second row for it.
fn merge_rows(
    per_channel: &[Vec<Sample>],
    line: &mut String,
    emit: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<Merged> {
    let mut heap: BinaryHeap<Reverse<(TimeMs, usize)>> = BinaryHeap::with_capacity(per_channel.len());
    let mut pos = vec![0usize; per_channel.len()];
    for (c, samples) in per_channel.iter().enumerate() {
        if let Some(s) = samples.first() {
            heap.push(Reverse((s.t, c)));
        }
    }
    let mut cells: Vec<Option<Value>> = vec![None; per_channel.len()];
    let mut merged = Merged { rows: 0, samples: 0 };
    while let Some(Reverse((t, _))) = heap.peek().copied() {
        // Take one sample per channel at time t into this row; a channel's
        // second sample at t waits for the next row.
        let mut deferred = Vec::new();
        while let Some(Reverse((tt, c))) = heap.peek().copied() {
            if tt != t {
                break;
            }
            heap.pop();
            if cells[c].is_some() {
                deferred.push(Reverse((tt, c)));
                continue;
            }
            cells[c] = Some(per_channel[c][pos[c]].value);
            pos[c] += 1;
            if let Some(next) = per_channel[c].get(pos[c]) {
                heap.push(Reverse((next.t, c)));
            }
            merged.samples += 1;
        }
        heap.extend(deferred);
        line.clear();
        push_time(line, t);
        for cell in cells.iter_mut() {
            line.push(',');
            if let Some(v) = cell.take() {
                line.push_str(&format_value(v));
            }
        }
        line.push('\n');
        emit(line)?;
        merged.rows += 1;
    }
    Ok(merged)
}

/// `2026-11-22T12:34:56.789Z,1795437296789`
fn push_time(line: &mut String, t: TimeMs) {
    match chrono::DateTime::from_timestamp_millis(t) {
        Some(d) => line.push_str(&d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        None => line.push_str("out-of-range"),
    }
    line.push(',');
    line.push_str(&t.to_string());
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpecialKind;
    use crate::store::StoreOptions;
    use std::io::Read;

    fn store_with_data(dir: &Path) -> (Store, Vec<ChannelRecord>) {
        let mut store = Store::open(&dir.join("s.db"), StoreOptions::default()).unwrap();
        store.upsert_instrument("log", "Logger", "hioki-logger", "127.0.0.1:8802").unwrap();
        let a = store.ensure_channel("log", "CH1_1", Some("V")).unwrap();
        let b = store.ensure_channel("log", "CH1_2", Some("°C")).unwrap();
        let mut samples = Vec::new();
        for k in 0..10i64 {
            samples.push((a, Sample::number(1_000 * k, k as f64 * 0.1 + 1e-12)));
            if k % 2 == 0 {
                let value = if k == 4 {
                    Value::Special(SpecialKind::OverRange)
                } else {
                    Value::Number(-(k as f64 + 1.0) / 3.0)
                };
                samples.push((b, Sample { t: 1_000 * k, value }));
            }
        }
        samples.push((b, Sample::special(10_500, SpecialKind::BurnOut)));
        store.append(&samples).unwrap();
        let chans = store.channels().unwrap();
        (store, chans)
    }

    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
    }

    #[test]
    fn numbers_round_trip_through_text() {
        for x in [0.1, 1.0 / 3.0, -2.5e-9, 1e300, 123456789.123, f64::MIN_POSITIVE, 0.0, -0.0, 1e16, 9.999e15] {
            let t = format_number(x);
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{x} -> {t}");
        }
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(1e-300), "1e-300");
        for k in SpecialKind::ALL {
            assert_eq!(parse_value(&format_value(Value::Special(k))), Some(Value::Special(k)));
        }
    }

    #[test]
    fn csv_round_trips_values_and_specials() {
        let dir = tempfile::tempdir().unwrap();
        let (store, chans) = store_with_data(dir.path());
        let out = dir.path().join("out.csv");
        let mut calls = 0;
        let mut last = (0, 0);
        let sum = export(&store, &chans, 0, 20_000, &out, ExportFormat::Csv, &mut |d, t| {
            calls += 1;
            last = (d, t);
        })
        .unwrap();
        assert_eq!(sum.samples, 16);
        assert_eq!(sum.rows, 11);
        assert!(calls > 0 && last == (16, 16), "{last:?}");
        let rows = parse_csv(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(rows[0], vec!["time_utc", "epoch_ms", "log/CH1_1 [V]", "log/CH1_2 [°C]"]);
        assert_eq!(rows[1], vec!["1970-01-01T00:00:00.000Z", "0", "1e-12", "-0.3333333333333333"]);
        assert_eq!(rows[5][3], "over-range");
        assert_eq!(rows[2][3], "", "no CH1_2 sample at 1 s");
        assert_eq!(rows[11], vec!["1970-01-01T00:00:10.500Z", "10500", "", "burn-out"]);
        for row in &rows[1..] {
            let t: i64 = row[1].parse().unwrap();
            for (i, ch) in chans.iter().enumerate() {
                let cell = &row[2 + i];
                let stored = store.range(ch.id, t, t + 1).unwrap();
                match stored.first() {
                    Some(s) => assert_eq!(parse_value(cell), Some(s.value)),
                    None => assert!(cell.is_empty()),
                }
            }
        }
        assert!(!dir.path().join("out.csv.part").exists());
    }

    #[test]
    fn zip_holds_one_csv_per_channel_and_the_wide_file() {
        let dir = tempfile::tempdir().unwrap();
        let (store, chans) = store_with_data(dir.path());
        let out = dir.path().join("out.zip");
        let sum = export(&store, &chans, 0, 20_000, &out, ExportFormat::Zip, &mut |_, _| {}).unwrap();
        assert_eq!(sum.samples, 16);
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let mut names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).collect();
        names.sort();
        assert_eq!(names, vec!["all_channels.csv", "log_CH1_1.csv", "log_CH1_2.csv"]);
        let mut text = String::new();
        zip.by_name("log_CH1_2.csv").unwrap().read_to_string(&mut text).unwrap();
        let rows = parse_csv(&text);
        assert_eq!(rows[0], vec!["time_utc", "epoch_ms", "value"]);
        assert_eq!(rows.len(), 1 + 6);
        assert_eq!(rows[3][2], "over-range");
        assert_eq!(parse_value(&rows[2][2]), Some(Value::Number(-3.0 / 3.0)));
    }

    #[test]
    fn empty_range_writes_only_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let (store, chans) = store_with_data(dir.path());
        let out = dir.path().join("empty.csv");
        let sum = export(&store, &chans, 50_000, 60_000, &out, ExportFormat::Csv, &mut |_, _| {}).unwrap();
        assert_eq!((sum.rows, sum.samples), (0, 0));
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1);
        let e = export(&store, &chans, 5, 5, &out, ExportFormat::Csv, &mut |_, _| {}).unwrap_err();
        assert!(e.to_string().contains("empty time range"), "{e}");
    }

    #[test]
    fn bad_output_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (store, chans) = store_with_data(dir.path());
        let out = dir.path().join("no/such/dir/out.csv");
        let e = export(&store, &chans, 0, 20_000, &out, ExportFormat::Csv, &mut |_, _| {}).unwrap_err();
        assert!(e.to_string().contains(&out.display().to_string()), "{e}");
    }

    #[test]
    fn merge_handles_duplicates_and_many_windows() {
        let a = vec![Sample::number(1, 1.0), Sample::number(1, 2.0), Sample::number(3, 3.0)];
        let b = vec![Sample::number(1, 9.0), Sample::number(2, 8.0)];
        let mut line = String::new();
        let mut out = String::new();
        let m = merge_rows(&[a, b], &mut line, &mut |l| {
            out.push_str(l);
            Ok(())
        })
        .unwrap();
        assert_eq!((m.rows, m.samples), (4, 5));
        let cells: Vec<String> = out.lines().map(|l| l.split(',').skip(2).collect::<Vec<_>>().join("|")).collect();
        assert_eq!(cells, vec!["1|9", "2|", "|8", "3|"]);
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(ExportFormat::from_path(Path::new("a.CSV")), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::from_path(Path::new("a.zip")), Some(ExportFormat::Zip));
        assert_eq!(ExportFormat::from_path(Path::new("a.txt")), None);
    }
}
