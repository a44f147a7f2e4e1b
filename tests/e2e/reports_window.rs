//! The Reports screen in the real window (Xvfb + WebKitWebDriver) on the
//! demo, whose cache starts with two days of the simulator's history: a
//! template made in the form (two channels, the previous day in UTC), then
//! "generate now": the run appears as done, its PDF holds the title and the
//! channels (pdftotext), and the CSV the statistics. Screenshot
//! `docs/screenshots/reports.png`.
//!
//! Needs the app built: `cd ui && npm run build`, then `cargo build -p meterdeck --bins`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use meterdeck_e2e::bin;
use meterdeck_e2e::webdriver::Desktop;
use serde_json::json;

const CHANNELS: [&str; 2] = ["hioki-logger-1/CH1_1", "power-meter-1/U1"];

fn step(desk: &Desktop, name: &str, f: impl FnOnce(&Desktop) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name}");
    if let Err(e) = f(desk) {
        let report = desk.failure_report(&format!("reports-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn a_report_made_and_generated_from_the_reports_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let args = vec![
        "--demo".to_string(),
        "--demo-history".to_string(),
        "2d".to_string(),
        "--data-dir".to_string(),
        data.to_string_lossy().into_owned(),
    ];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), None)
        .expect("start the app under Xvfb + WebKitWebDriver");
    step(&desk, "ready", |d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(60)).map(|_| ()));

    step(&desk, "template", |d| {
        d.nav("reports")?;
        d.click(&d.by_testid("report-add")?)?;
        d.wait_for("[data-testid=report-form]", Duration::from_secs(5))?;
        d.fill(&d.by_testid("report-name")?, "line-daily")?;
        d.fill(&d.by_testid("report-title")?, "Line 1 daily report")?;
        d.select(&d.by_testid("report-range")?, "previous_day")?;
        d.fill(&d.by_testid("report-zone")?, "Etc/UTC")?;
        for c in CHANNELS {
            d.click(&d.find(&format!("[data-testid=report-channels] input[value=\"{c}\"]"))?)?;
        }
        d.click(&d.by_testid("report-save")?)?;
        d.wait_for("[data-testid=report-row][data-name=\"line-daily\"]", Duration::from_secs(10)).map(|_| ())
    });

    step(&desk, "generate", |d| {
        d.click(&d.find("[data-testid=report-row][data-name=\"line-daily\"] [data-testid=report-generate]")?)?;
        d.wait_for(
            "[data-testid=run-row][data-template=\"line-daily\"][data-status=\"done\"]",
            Duration::from_secs(120),
        )?;
        d.screenshot_doc("reports")
    });

    step(&desk, "the PDF", |d| {
        let runs = d.invoke("report_runs", json!({}))?;
        let run = runs
            .as_array()
            .and_then(|r| r.iter().find(|r| r["template"] == "line-daily"))
            .context("no run of line-daily in report_runs")?;
        let pdf = run["pdf"].as_str().context("the run has no PDF")?;
        let bytes = std::fs::read(pdf).with_context(|| format!("reading {pdf}"))?;
        ensure!(bytes.starts_with(b"%PDF"), "{pdf} is not a PDF");
        let out = Command::new("pdftotext").args(["-layout", pdf, "-"]).output().context("pdftotext")?;
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(text.contains("Line 1 daily report"), "the title is not in the PDF:\n{text}");
        for c in CHANNELS {
            ensure!(text.contains(c), "{c} is not in the PDF:\n{text}");
        }
        // A whole day of 1 s history: 86400 samples per channel.
        ensure!(text.contains("86400"), "a day's sample count is not in the PDF:\n{text}");
        let csv = run["csv"].as_str().context("the run has no CSV")?;
        let csv = std::fs::read_to_string(csv).with_context(|| format!("reading {csv}"))?;
        ensure!(CHANNELS.iter().all(|c| csv.contains(c)), "the CSV lacks a channel:\n{csv}");
        Ok(())
    });
}
