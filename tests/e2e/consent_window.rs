//! The owner's consent to remote control, in the real window (Xvfb +
//! WebKitWebDriver, issue 16): the Instruments screen's "Remote control
//! from the cloud" switch is off by default; turned on in the window, the
//! agent's store holds the consent (what the agent checks before any
//! remote command); turned off with `meterdeck-agent consent`, the window
//! shows it off. The agent-wide "Allow adding instruments from the cloud"
//! switch likewise writes `*` (and shows `meterdeck-agent consent '*' off`).
//! The Console screen shows "Operated remotely by <user>
//! since <time>" while the store names a remote operator (the hold the
//! agent takes for a cloud user, written here directly: remote_console.rs
//! covers the cloud -> agent path that writes it), and the window's own
//! console is refused meanwhile. Screenshot: docs/screenshots/consent.png.
//!
//! Needs the app built: `cd ui && npx vite build`, then `scripts/bin-snapshot`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, ensure};
use meterdeck_e2e::webdriver::{Desktop, LoggerWindow, testid};
use meterdeck_e2e::*;

const ROW: &str = "[data-testid=instrument-row][data-id=\"log\"]";

fn store(data: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(data.join("meterdeck.db")).expect("agent store");
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db
}

/// The consent list as the agent reads it (`remote.consent`).
fn consents(data: &Path) -> Option<String> {
    store(data).query_row("SELECT value FROM setting WHERE key = 'remote.consent'", [], |r| r.get(0)).ok()
}

/// The switch's state once it is settled (not disabled while saving).
fn switch_is(d: &Desktop, want: bool) -> Result<()> {
    checkbox_is(d, &format!("{ROW} [data-testid=inst-remote-consent]"), want)
}

fn checkbox_is(d: &Desktop, sel: &str, want: bool) -> Result<()> {
    d.wait_until(Duration::from_secs(10), &format!("the switch {}", if want { "on" } else { "off" }), |s| {
        let e = s.find(sel)?;
        let on = s.property(&e, "checked")?.as_bool() == Some(true);
        let busy = s.property(&e, "disabled")?.as_bool() == Some(true);
        Ok((on == want && !busy).then_some(()))
    })
}

#[test]
fn the_consent_switch_is_the_owners_and_the_window_shows_who_operates() {
    let w = LoggerWindow::start("consent-window");
    let (data, d_arg) = (w.data.clone(), w.data_arg());
    let run = |name: &str, f: &dyn Fn(&Desktop) -> Result<()>| w.step(name, f);

    run("off by default", &|d| {
        d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30))?;
        d.nav("instruments")?;
        d.wait_for(&format!("{ROW} [data-state=connected]"), Duration::from_secs(30))?;
        switch_is(d, false)?;
        let hint = d.text(&d.by_testid("inst-remote-hint")?)?;
        ensure!(hint.contains("only this computer can change it"), "{hint:?}");
        let cell = d.text(&d.find(&format!("{ROW} td.remote"))?)?;
        ensure!(cell.contains("Remote control from the cloud"), "{cell:?}");
        ensure!(consents(&data).is_none_or(|c| c == "[]"), "no consent in the store yet: {:?}", consents(&data));
        Ok(())
    });

    run("on in the window", &|d| {
        d.click(&d.find(&format!("{ROW} [data-testid=inst-remote-consent]"))?)?;
        switch_is(d, true)?;
        d.wait_until(Duration::from_secs(10), "the consent in the agent's store", |_| {
            Ok((consents(&data).as_deref() == Some(r#"["log"]"#)).then_some(()))
        })?;
        d.screenshot_doc("consent")
    });

    run("off at the command line", &|d| {
        let (code, out, err) = agent_output(&["consent", "--data-dir", &d_arg, "log", "off"]);
        ensure!(code == 0 && out.contains("remote access to log refused"), "consent off: {out}{err}");
        ensure!(consents(&data).as_deref() == Some("[]"), "{:?}", consents(&data));
        d.nav("console")?;
        d.nav("instruments")?;
        switch_is(d, false)
    });

    // The agent-wide consent to adding instruments from the cloud (`*`).
    run("adding instruments: the agent-wide switch", &|d| {
        let add = testid("inst-remote-add-consent");
        checkbox_is(d, &add, false)?;
        d.click(&d.find(&add)?)?;
        checkbox_is(d, &add, true)?;
        d.wait_until(Duration::from_secs(10), "`*` in the agent's store", |_| {
            Ok((consents(&data).as_deref() == Some(r#"["*"]"#)).then_some(()))
        })?;
        let (code, out, err) = agent_output(&["consent", "--data-dir", &d_arg, "*", "off"]);
        ensure!(code == 0 && out.contains("adding instruments from the cloud refused"), "consent off: {out}{err}");
        d.nav("console")?;
        d.nav("instruments")?;
        checkbox_is(d, &add, false)
    });

    run("operated remotely", &|d| {
        let now = chrono::Utc::now().timestamp_millis();
        let hold = format!(
            r#"[{{"instrument":"log","operator":"ann@example.com","since":{},"last_used":{now}}}]"#,
            now - 60_000
        );
        store(&data).execute(
            "INSERT INTO setting (key, value) VALUES ('remote.console_holds', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&hold],
        )?;
        d.nav("console")?;
        d.select(&d.by_testid("console-instrument")?, "log")?;
        let banner = d.wait_until(Duration::from_secs(10), "the remote operator's banner", |s| {
            let b = s.by_testid("console-remote")?;
            s.is_displayed(&b)?.then(|| s.text(&b)).transpose()
        })?;
        ensure!(banner.starts_with("Operated remotely by ann@example.com since "), "{banner:?}");
        // One operator at a time: the window's console is refused meanwhile.
        d.fill(&d.by_testid("console-operator")?, "carl")?;
        d.click(&d.by_testid("console-acquire")?)?;
        let refused = d.wait_until(Duration::from_secs(10), "the refusal", |s| {
            let t = s.text(&s.by_testid("console-holder")?)?;
            Ok((!t.is_empty()).then_some(t))
        })?;
        ensure!(refused.contains("ann@example.com (remotely, from the cloud)"), "{refused:?}");
        // The hold released: the banner goes.
        store(&data).execute("UPDATE setting SET value = '[]' WHERE key = 'remote.console_holds'", [])?;
        d.wait_for(&format!("{}[hidden]", testid("console-remote")), Duration::from_secs(10))?;
        Ok(())
    });
}
