//! The installed desktop package, as a user meets it: the desktop entry and
//! icons are where the menu looks for them, and `meterdeck` from the menu's
//! Exec line opens its window (Xvfb + WebKitWebDriver) on the first screen
//! with the demo's live values.
//!
//! Ignored in a plain `cargo test`: it needs the package installed with apt.
//! `scripts/check-packages` (run by scripts/test) installs it, then runs
//! `cargo test -p meterdeck-e2e --test installed_packages -- --ignored`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use meterdeck_e2e::webdriver::Desktop;

fn desktop_entry() -> Result<String> {
    let path = Path::new("/usr/share/applications/Meterdeck.desktop");
    let entry = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for want in ["Exec=meterdeck", "Icon=meterdeck", "Type=Application", "Categories="] {
        ensure!(entry.lines().any(|l| l.starts_with(want)), "{} has no `{want}` line:\n{entry}", path.display());
    }
    Ok(entry)
}

#[test]
#[ignore = "needs the desktop package installed (scripts/check-packages)"]
fn installed_window_opens_on_its_first_screen() {
    desktop_entry().unwrap();
    for size in ["32x32", "128x128"] {
        let icon = format!("/usr/share/icons/hicolor/{size}/apps/meterdeck.png");
        assert!(Path::new(&icon).is_file(), "{icon} is not installed");
    }
    assert!(Path::new("/usr/bin/meterdeck-agent").is_file(), "the agent's command line is not in the desktop package");

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data").to_string_lossy().into_owned();
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data];
    let desk = Desktop::launch_app(Path::new("/usr/bin/meterdeck"), &args, &tmp.path().join("home"), None)
        .expect("start the installed app under Xvfb + WebKitWebDriver");
    let first = (|| -> Result<()> {
        desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30))?;
        desk.wait_until(Duration::from_secs(20), "live values on the first screen", |s| {
            let rows = s.find_all("[data-testid=monitor-row] [data-testid=monitor-value]")?;
            let mut shown = 0;
            for r in rows {
                if s.text(&r)?.replace([',', ' '], "").parse::<f64>().is_ok() {
                    shown += 1;
                }
            }
            Ok((shown >= 2).then_some(()))
        })?;
        desk.save_screenshot(&std::env::temp_dir().join("meterdeck-installed.png"))?;
        Ok(())
    })();
    if let Err(e) = first {
        panic!("the installed window: {e:#}\n{}", desk.failure_report("installed"));
    }
}
