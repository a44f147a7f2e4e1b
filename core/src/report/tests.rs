//! Engine tests against real SQLite stores in temp directories; the PDF
//! read back with poppler is the e2e test's (tests/e2e/report_pdf.rs).

use std::path::Path;

use super::*;
use crate::model::{Sample, SpecialKind};
use crate::store::{Durability, StoreOptions};

const T0: TimeMs = 1_796_000_000_000;

fn template(json: serde_json::Value) -> ReportTemplate {
    let mut base = serde_json::json!({"name": "daily", "title": "Line 1 daily", "channels": ["lr1/CH1", "lr1/CH2"]});
    if let (Some(b), Some(extra)) = (base.as_object_mut(), json.as_object()) {
        b.extend(extra.clone());
    }
    serde_json::from_value(base).unwrap()
}

fn store(dir: &Path, n: usize) -> Store {
    let opts = StoreOptions { durability: Durability::Normal, block_samples: 64 };
    let mut store = Store::open(&dir.join("cache.db"), opts).unwrap();
    store.upsert_instrument("lr1", "Logger", "hioki-logger", "127.0.0.1:1").unwrap();
    let a = store.ensure_channel("lr1", "CH1", Some("V")).unwrap();
    let b = store.ensure_channel("lr1", "CH2", Some("°C")).unwrap();
    let mut samples = Vec::new();
    for i in 0..n {
        let t = T0 + i as i64 * 1000;
        samples.push((a, Sample::number(t, (i as f64 / 100.0).sin() * 5.0)));
        let v = if i % 500 == 7 {
            Sample::special(t, SpecialKind::OverRange)
        } else {
            Sample::number(t, 20.0 + i as f64 / 1000.0)
        };
        samples.push((b, v));
    }
    store.append(&samples).unwrap();
    store
}

fn run(
    store: &Store,
    t: &ReportTemplate,
    from: TimeMs,
    to: TimeMs,
    out: &Path,
) -> Result<GeneratedReport, ReportError> {
    let mut steps = Vec::new();
    let r = generate(store, &ReportRequest { template: t, from, to }, out, &mut |p| steps.push(p));
    if r.is_ok() {
        assert_eq!(steps.last().map(|p| (p.done, p.total)), Some((steps.len() as u32, steps.len() as u32)));
    }
    r
}

#[test]
fn a_report_has_a_pdf_a_csv_and_the_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3_600);
    let t = template(serde_json::json!({"stats": {"thresholds": {"lr1/CH1": {"above": 2.5, "below": -2.5}}}}));
    let out = dir.path().join("out/report.pdf");
    let r = run(&store, &t, T0, T0 + 3_600_000, &out).unwrap();
    let pdf = std::fs::read(&r.pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert_eq!(r.csv, dir.path().join("out/report.csv"));
    let csv = std::fs::read_to_string(&r.csv).unwrap();
    assert!(csv.starts_with("channel,unit,samples,specials,min,"), "{csv}");
    assert!(csv.contains("lr1/CH2,°C,3600,8,"), "{csv}");
    let s = &r.summary;
    assert!(!s.no_data);
    assert_eq!(s.channels[0].samples, 3_600);
    let above = s.channels[0].above.unwrap();
    assert_eq!(above.threshold, 2.5);
    // sin > 0.5 one third of the time.
    assert!((above.ms as f64 / 3_600_000.0 - 1.0 / 3.0).abs() < 0.05, "{above:?}");
    let raw = store.range(1, T0, T0 + 3_600_000).unwrap();
    let want = crate::store::RangeStats::from_samples(&raw, T0, T0 + 3_600_000, Some(2.5), Some(-2.5));
    assert_eq!(above.ms, want.above_ms.unwrap());
    assert_eq!(s.channels[0].below.unwrap().ms, want.below_ms.unwrap());
    assert_eq!(s.channels[1].specials, 8);
}

#[test]
fn japanese_letter_with_a_logo() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 500);
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, tiny_png()).unwrap();
    let t = template(serde_json::json!({"title": "第1ライン 日報", "language": "ja", "paper": "letter",
        "time_zone": "Asia/Tokyo", "logo": logo}));
    let r = run(&store, &t, T0, T0 + 500_000, &dir.path().join("ja.pdf")).unwrap();
    assert!(std::fs::read(&r.pdf).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn no_data_or_only_specials_is_a_report_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 100);
    let t = template(serde_json::json!({}));
    let r = run(&store, &t, T0 - 10_000_000, T0 - 1_000_000, &dir.path().join("empty.pdf")).unwrap();
    assert!(r.summary.no_data);
    assert_eq!(r.summary.channels[0].samples, 0);
    let t = template(serde_json::json!({"channels": ["lr1/CH2"]}));
    let r = run(&store, &t, T0 + 7_000, T0 + 8_000, &dir.path().join("specials.pdf")).unwrap();
    assert!(r.summary.no_data);
    assert_eq!(r.summary.channels[0].specials, 1);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 10);
    let out = dir.path().join("x.pdf");
    let t = template(serde_json::json!({"channels": ["lr1/CH1", "lr1/nope"]}));
    let e = run(&store, &t, T0, T0 + 1000, &out).unwrap_err().to_string();
    assert!(e.contains("lr1/nope"), "{e}");
    let t = template(serde_json::json!({}));
    assert!(matches!(run(&store, &t, T0, T0, &out), Err(ReportError::BadRange)));
    let bad_logo = dir.path().join("logo.txt");
    std::fs::write(&bad_logo, "hello").unwrap();
    let t = template(serde_json::json!({"logo": bad_logo}));
    let e = run(&store, &t, T0, T0 + 1000, &out).unwrap_err().to_string();
    assert!(e.contains("logo") && e.contains("not a PNG or JPEG"), "{e}");
    assert!(!out.exists(), "nothing is written on failure");
    for (json, needle) in [
        (serde_json::json!({"time_zone": "Mars/Base"}), "time_zone"),
        (serde_json::json!({"channels": []}), "channels"),
        (serde_json::json!({"groups": [{"channels": ["lr1/CH9"]}]}), "lr1/CH9"),
        (serde_json::json!({"channels": ["noslash"]}), "noslash"),
    ] {
        let mut v = serde_json::json!({"name": "d", "title": "t", "channels": ["lr1/CH1"]});
        v.as_object_mut().unwrap().extend(json.as_object().unwrap().clone());
        let e = match serde_json::from_value::<ReportTemplate>(v) {
            Ok(t) => t.validate().unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn templates_read_from_toml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("t.toml");
    std::fs::write(
        &toml_path,
        r#"name = "weekly"
title = "Weekly"
channels = ["a/b", "a/c"]
language = "ja"
paper = "letter"
range = { kind = "fixed", from = 0, to = 1000 }
[[groups]]
title = "both"
channels = ["a/b", "a/c"]
[stats.thresholds."a/b"]
above = 3.0
"#,
    )
    .unwrap();
    let t = ReportTemplate::from_file(&toml_path).unwrap();
    assert_eq!(t.range, RangeKind::Fixed { from: 0, to: 1000 });
    assert_eq!(t.stats.thresholds["a/b"].above, Some(3.0));
    let json_path = dir.path().join("t.json");
    std::fs::write(&json_path, serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(ReportTemplate::from_file(&json_path).unwrap(), t);
    std::fs::write(&json_path, "{\"name\": 1}").unwrap();
    let e = ReportTemplate::from_file(&json_path).unwrap_err();
    assert!(e.contains("t.json") && e.contains("name"), "{e}");
    assert_eq!(t.graph_groups().len(), 1);
    let four: Vec<String> = (0..9).map(|i| format!("a/{i}")).collect();
    let t = ReportTemplate { channels: four, groups: Vec::new(), ..t };
    assert_eq!(t.graph_groups().iter().map(|g| g.channels.len()).collect::<Vec<_>>(), vec![4, 4, 1]);
}

/// A 2x2 PNG (red, green, blue, white).
fn tiny_png() -> Vec<u8> {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xFD, 0xD4, 0x9A, 0x73, 0x00, 0x00, 0x00,
        0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xC0, 0x00, 0xC2, 0x0C, 0xFF, 0x81, 0x00,
        0x00, 0x1F, 0xEE, 0x05, 0xFB, 0x0B, 0xD9, 0x68, 0x8B, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
        0x42, 0x60, 0x82,
    ];
    PNG.to_vec()
}
