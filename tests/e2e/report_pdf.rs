//! PDF reports end to end: the simulator's deterministic waveform (a Hioki
//! logger's first four channels, 1 s data over a day and a bit) is written
//! into a real store, `meterdeck-agent report` makes the PDF and CSV, and
//! poppler reads them back: `pdftotext` finds the title and the statistics,
//! which equal what this test computes from the waveform itself;
//! `pdftoppm` renders page 1 and the plot lines' pixels are there
//! (docs/screenshots/report.png is that page). A Japanese report renders
//! its Japanese text; a range without data gives a report that says so;
//! a bad template is one clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use meterdeck_core::agent::STORE_PARTS;
use meterdeck_core::config::STORE_FILE;
use meterdeck_core::model::{Sample, SpecialKind, TimeMs};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_drivers::sim::{Personality, expected_value};
use meterdeck_e2e::*;

const SEED: u64 = 7;
/// 2026-11-30T00:00:00Z
const DAY0: TimeMs = 1_795_996_800_000;
const HOUR: TimeMs = 3_600_000;
const CHANNELS: [&str; 4] = ["CH1_1", "CH1_2", "CH1_3", "CH1_4"];
/// Every this many seconds CH1_4 reads over-range instead of its value.
const SPECIAL_EVERY: i64 = 997;

fn value(ch: usize, t: TimeMs) -> Option<f64> {
    (ch != 3 || (t / 1000) % SPECIAL_EVERY != 0).then(|| expected_value(SEED, Personality::HiokiLogger, ch, t))
}

/// Data from DAY0 - 1 h to DAY0 + 25 h, 1 s apart, in hourly appends
/// (whole blocks with summaries, the last ones in the tail), and the
/// alarm journal with two alarms raised in the day and one before it.
fn write_store(data: &Path) {
    let mut store = Store::open_with(&data.join(STORE_FILE), StoreOptions::default(), STORE_PARTS).unwrap();
    store.upsert_instrument("log1", "Logger", "hioki-logger", "127.0.0.1:8802").unwrap();
    let ids: Vec<_> = CHANNELS.iter().map(|c| store.ensure_channel("log1", c, Some("V")).unwrap()).collect();
    let mut t = DAY0 - HOUR;
    while t < DAY0 + 25 * HOUR {
        let end = t + HOUR;
        let mut batch = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let mut s = t;
            while s < end {
                let v = value(i, s).map_or(Sample::special(s, SpecialKind::OverRange), |v| Sample::number(s, v));
                batch.push((*id, v));
                s += 1000;
            }
        }
        store.append(&batch).unwrap();
        t = end;
    }
    for (at, name) in [(DAY0 - HOUR / 2, "before"), (DAY0 + 2 * HOUR, "Hot oven"), (DAY0 + 20 * HOUR, "Low pressure")] {
        store
            .conn()
            .execute(
                "INSERT INTO alarm_journal (t, alarm_id, rule_id, name, severity, action, from_state, to_state)
                 VALUES (?1, ?2, ?2, ?3, 'high', 'raise', 'NORM', 'UNACK')",
                rusqlite::params![at, name.to_lowercase().replace(' ', "-"), name],
            )
            .unwrap();
    }
}

/// The statistics of one channel over `[from, to)`, from the waveform.
struct Want {
    samples: u64,
    specials: u64,
    min: f64,
    max: f64,
    mean: f64,
    above_ms: i64,
    below_ms: i64,
}

fn want(ch: usize, from: TimeMs, to: TimeMs, above: f64, below: f64) -> Want {
    let mut w = Want { samples: 0, specials: 0, min: f64::MAX, max: f64::MIN, mean: 0.0, above_ms: 0, below_ms: 0 };
    let mut sum = 0.0;
    let first = from.div_euclid(1000) * 1000 + if from % 1000 == 0 { 0 } else { 1000 };
    let mut t = first;
    while t < to {
        w.samples += 1;
        // Each number holds until the next sample; the last one in the range for no time.
        let held = if t + 1000 < to { 1000 } else { 0 };
        match value(ch, t) {
            Some(v) => {
                w.min = w.min.min(v);
                w.max = w.max.max(v);
                sum += v;
                if v > above {
                    w.above_ms += held;
                }
                if v < below {
                    w.below_ms += held;
                }
            }
            None => w.specials += 1,
        }
        t += 1000;
    }
    w.mean = sum / (w.samples - w.specials) as f64;
    w
}

/// As the PDF prints a figure: three decimals.
fn figure(x: f64) -> String {
    format!("{x:.3}")
}

/// As the PDF prints a duration.
fn duration(ms: i64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 { format!("{h}h {m:02}m {s:02}s") } else { format!("{m}m {s:02}s") }
}

fn tool(name: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| panic!("{name} (poppler-utils): {e}"));
    assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn pdftotext(pdf: &Path) -> String {
    String::from_utf8(tool("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"])).unwrap()
}

fn report(data: &Path, template: &Path, from: &str, to: &str, out: &Path) -> (i32, String) {
    let (code, _out, err) = agent_output(&[
        "report",
        "--data-dir",
        data.to_str().unwrap(),
        "--template",
        template.to_str().unwrap(),
        "--from",
        from,
        "--to",
        to,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!err.contains("panicked"), "{err}");
    (code, err)
}

fn template(dir: &Path, name: &str, json: serde_json::Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    path
}

#[test]
fn pdf_statistics_equal_the_waveform_and_the_plot_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_store(&data);
    // Thresholds at 70 % and 30 % of each channel's span, so the times are not trivial.
    let day = [0, 1].map(|ch| want(ch, DAY0, DAY0 + 24 * HOUR, f64::MAX, f64::MIN));
    let thr: Vec<(f64, f64)> =
        day.iter().map(|d| (d.min + 0.7 * (d.max - d.min), d.min + 0.3 * (d.max - d.min))).collect();
    let paths: Vec<String> = CHANNELS.iter().map(|c| format!("log1/{c}")).collect();
    let t = template(
        dir.path(),
        "daily",
        serde_json::json!({
            "name": "daily",
            "title": "Line 1 daily report",
            "channels": paths,
            "groups": [
                {"title": "Voltages 1 and 2", "channels": [paths[0], paths[1]]},
                {"channels": [paths[2], paths[3]]}
            ],
            "stats": {"thresholds": {
                paths[0].clone(): {"above": thr[0].0, "below": thr[0].1},
                paths[1].clone(): {"above": thr[1].0, "below": thr[1].1}
            }},
            "time_zone": "Europe/Berlin"
        }),
    );
    let out = dir.path().join("out/daily.pdf");
    // A day in UTC, edges inside blocks (the data runs from an hour before).
    let (code, err) = report(&data, &t, "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", &out);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("[1/"), "progress on stderr: {err}");
    let text = pdftotext(&out);
    assert!(text.contains("Line 1 daily report"), "{text}");
    assert!(text.contains("2026-11-30 01:00:00 – 2026-12-01 01:00:00 (Europe/Berlin)"), "{text}");
    let csv = std::fs::read_to_string(out.with_extension("csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{csv}");

    for (ch, path) in paths.iter().enumerate() {
        let (above, below) = thr.get(ch).copied().unwrap_or((f64::MAX, f64::MIN));
        let w = want(ch, DAY0, DAY0 + 24 * HOUR, above, below);
        assert_eq!(w.samples, 86_400);
        let line = text.lines().find(|l| l.contains(path.as_str())).unwrap_or_else(|| panic!("{path} row: {text}"));
        let mut expect = vec![figure(w.min), figure(w.max), figure(w.mean), w.specials.to_string(), "86400".into()];
        if ch < 2 {
            expect.extend([figure(above), duration(w.above_ms), figure(below), duration(w.below_ms)]);
        }
        for e in &expect {
            assert!(line.contains(e.as_str()), "{path}: {e:?} missing in {line:?}");
        }
        // The CSV keeps every digit.
        let row = &rows[ch];
        assert_eq!(row[0], path);
        assert_eq!(row[2].parse::<u64>().unwrap(), w.samples);
        assert_eq!(row[3].parse::<u64>().unwrap(), w.specials);
        assert_eq!(row[4].parse::<f64>().unwrap(), w.min);
        assert_eq!(row[6].parse::<f64>().unwrap(), w.max);
        let mean: f64 = row[8].parse().unwrap();
        assert!((mean - w.mean).abs() <= 1e-9 * w.mean.abs().max(1.0), "{path}: mean {mean} vs {}", w.mean);
        if ch < 2 {
            assert_eq!(row[10].parse::<i64>().unwrap(), w.above_ms, "{path} time above");
            assert_eq!(row[12].parse::<i64>().unwrap(), w.below_ms, "{path} time below");
        }
    }
    assert!(text.contains("Hot oven") && text.contains("Low pressure"), "{text}");
    assert!(!text.contains("before"), "an alarm before the range is listed: {text}");

    // Page 1 rendered: the graphs' lines are drawn (the first two colours).
    let prefix = dir.path().join("page");
    tool(
        "pdftoppm",
        &["-r", "110", "-f", "1", "-l", "1", "-singlefile", "-png", out.to_str().unwrap(), prefix.to_str().unwrap()],
    );
    let png = prefix.with_extension("png");
    tool(
        "pdftoppm",
        &["-r", "110", "-f", "1", "-l", "1", "-singlefile", out.to_str().unwrap(), prefix.to_str().unwrap()],
    );
    let (w, h, rgb) = read_ppm(&prefix.with_extension("ppm"));
    let (mut blue, mut red) = (0, 0);
    for px in rgb.chunks_exact(3) {
        let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
        if b > r + 80 && b > g + 30 {
            blue += 1;
        }
        if r > g + 100 && r > b + 100 {
            red += 1;
        }
    }
    assert!(w > 800 && h > 1000, "{w}x{h}");
    assert!(blue > 400 && red > 400, "plot lines: {blue} blue and {red} red pixels");
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/report.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    std::fs::copy(&png, &shot).unwrap();
}

/// Width, height and RGB bytes of a binary PPM (P6, maxval 255).
fn read_ppm(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let rgb = bytes[at + 1..].to_vec();
    assert_eq!(rgb.len(), w * h * 3);
    (w, h, rgb)
}

#[test]
fn a_japanese_report_renders_its_japanese_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_store(&data);
    let t = template(
        dir.path(),
        "ja",
        serde_json::json!({
            "name": "nippou",
            "title": "第1ライン 日報",
            "channels": ["log1/CH1_1"],
            "language": "ja",
            "paper": "letter",
            "time_zone": "Asia/Tokyo"
        }),
    );
    let out = dir.path().join("ja.pdf");
    let (code, err) = report(&data, &t, "2026-11-30T00:00:00Z", "2026-11-30T12:00:00Z", &out);
    assert_eq!(code, 0, "{err}");
    let text = pdftotext(&out);
    for ja in ["第1ライン 日報", "統計", "最小", "最大", "平均", "発生したアラーム", "2026-11-30 09:00:00"]
    {
        assert!(text.contains(ja), "{ja:?} missing: {text}");
    }
    let w = want(0, DAY0, DAY0 + 12 * HOUR, f64::MAX, f64::MIN);
    assert!(text.contains(&figure(w.mean)), "mean {}: {text}", figure(w.mean));
    // Letter paper: 8.5 x 11 in.
    let info = String::from_utf8(tool("pdfinfo", &[out.to_str().unwrap()])).unwrap();
    assert!(info.contains("612 x 792 pts"), "{info}");
}

#[test]
fn no_data_is_a_report_that_says_so_and_bad_templates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_store(&data);
    let t =
        template(dir.path(), "t", serde_json::json!({"name": "t", "title": "Empty week", "channels": ["log1/CH1_2"]}));
    let out = dir.path().join("empty.pdf");
    let (code, err) = report(&data, &t, "2026-11-01", "2026-11-08", &out);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no data"), "{err}");
    let text = pdftotext(&out);
    assert!(text.contains("Empty week") && text.contains("No data in this period."), "{text}");

    let bad = template(dir.path(), "bad", serde_json::json!({"name": "t", "title": "x", "channels": ["log1/nope"]}));
    let (code, err) = report(&data, &bad, "2026-11-30", "2026-12-01", &dir.path().join("bad.pdf"));
    assert_ne!(code, 0);
    assert!(err.contains("log1/nope"), "{err}");
    assert!(!dir.path().join("bad.pdf").exists());
    std::fs::write(&bad, "{\"name\": \"t\", \"title\": \"x\", \"channels\": [\"a/b\"], \"papr\": \"a4\"}").unwrap();
    let (code, err) = report(&data, &bad, "2026-11-30", "2026-12-01", &dir.path().join("bad.pdf"));
    assert_ne!(code, 0);
    assert!(err.contains("bad.json") && err.contains("papr"), "{err}");
}
