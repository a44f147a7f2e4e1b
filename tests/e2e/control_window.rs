//! Instrument control in the real window (Xvfb + WebKitWebDriver) against a
//! `meterdeck-sim` logger over TCP (issue 14): the Instruments screen's
//! Start, Stop, Restart and Set clock buttons, each checked against the
//! simulator's own state (queried over its socket, not the window's
//! reply); a settings profile saved from the instrument, a setting changed
//! on the simulator, the diff shown in the window, pushed after the
//! confirmation and read back; the console held by another operator
//! refuses the buttons and the command line naming them; a value the
//! instrument refuses is named and nothing changes; "set clock on
//! connect" and "start on connect" in the instrument form take effect at
//! the next connect; an offline instrument is a clear error. The Rules
//! screen makes a "new file" alarm rule (a bad pattern named at its field).
//! Screenshot: docs/screenshots/control.png.
//!
//! Needs the app built: `cd ui && npm run build`, then `/work/wt/bin/wt-bins`
//! (or `cargo build -p meterdeck -p meterdeck-agent-cli -p meterdeck-drivers --bins`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Result, anyhow, ensure};
use meterdeck_e2e::webdriver::{Desktop, LoggerWindow, testid};
use meterdeck_e2e::*;
use serde_json::json;

/// One line to the simulator and its reply (commands get `*OPC?` added).
fn sim(port: u16, line: &str) -> Result<String> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut w = s.try_clone()?;
    let line = if line.contains('?') { line.to_string() } else { format!("{line};*OPC?") };
    w.write_all(format!("{line}\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply)?;
    Ok(reply.trim().to_string())
}

/// Run state, start count and the profile's settings, as the simulator says.
fn logger_state(port: u16) -> Result<String> {
    sim(port, ":STAT?;:SIM:STAR?;:SAMP:RATE?;:TRIG:MODE?;:SYST:BEEP?")
}

fn today() -> String {
    chrono::Utc::now().format("%Y,%-m,%-d").to_string()
}

const ROW: &str = "[data-testid=instrument-row][data-id=\"log\"]";

/// Clicks a control button and waits for the panel's result line to
/// contain `want` (an answer, or the error the backend gave).
fn click_and_wait(d: &Desktop, button: &str, want: &str) -> Result<String> {
    let result = d.by_testid("ctl-result")?;
    d.execute("arguments[0].hidden = true; arguments[0].textContent = ''", vec![result.to_json()])?;
    d.click(&d.by_testid(button)?)?;
    d.wait_until(Duration::from_secs(20), &format!("`{want}` after {button}"), |s| {
        let text = s.text(&result)?;
        Ok(text.contains(want).then_some(text))
    })
}

fn state_is(port: u16, want: &str) -> Result<()> {
    let got = logger_state(port)?;
    ensure!(got == want, "the simulator's state is {got:?}, expected {want:?}");
    Ok(())
}

#[test]
fn control_buttons_and_profiles_change_the_simulator() {
    let w = LoggerWindow::start("control-window");
    let (port, data, d_arg) = (w.port, w.data.clone(), w.data_arg());
    let run = |name: &str, f: &dyn Fn(&Desktop) -> Result<()>| w.step(name, f);
    // Profile files the command line is given.
    let tmp = tempfile::tempdir().unwrap();

    run("ready", &|d| {
        d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30))?;
        d.nav("instruments")?;
        d.wait_for(&format!("{ROW} [data-state=connected]"), Duration::from_secs(30))?;
        state_is(port, "RUN;0;1;SINGLE;ON")
    });

    run("buttons", &|d| {
        d.click(&d.find(&format!("{ROW} [data-testid=inst-control]"))?)?;
        d.wait_for(&format!("{}[data-id=\"log\"]", testid("control-panel")), Duration::from_secs(5))?;
        click_and_wait(d, "ctl-stop", "log: measurement stopped")?;
        state_is(port, "STOP;0;1;SINGLE;ON")?;
        click_and_wait(d, "ctl-start", "log: measurement started")?;
        state_is(port, "RUN;1;1;SINGLE;ON")?;
        click_and_wait(d, "ctl-restart", "log: measurement restarted")?;
        state_is(port, "RUN;2;1;SINGLE;ON")?;
        // The clock: put the instrument years off, then "set clock now".
        sim(port, ":SYST:DATE 2020,1,2;:SYST:TIME 3,4,5")?;
        ensure!(sim(port, ":SYST:DATE?")? == "2020,1,2");
        click_and_wait(d, "ctl-set-clock", "log: clock set to")?;
        ensure!(sim(port, ":SYST:DATE?")? == today(), "the instrument's date after set clock");
        Ok(())
    });

    run("profile", &|d| {
        d.fill(&d.by_testid("ctl-profile-name")?, "base")?;
        click_and_wait(d, "ctl-profile-save", "Profile “base” saved (3 settings)")?;
        let pick = d.by_testid("ctl-profile-pick")?;
        ensure!(d.property(&pick, "value")? == json!("base"), "the saved profile is picked");
        state_is(port, "RUN;2;1;SINGLE;ON")?;
        // Someone changes the instrument; the diff shows it and changes nothing.
        sim(port, ":SAMP:RATE 5;:TRIG:MODE REPEAT")?;
        d.click(&d.by_testid("ctl-diff")?)?;
        d.wait_for(&testid("ctl-diff"), Duration::from_secs(20))?;
        let summary = d.text(&d.by_testid("ctl-diff-summary")?)?;
        ensure!(summary.contains("changes 2 settings"), "{summary:?}");
        let row = |key: &str| -> Result<(String, Option<String>)> {
            let r = d.find(&format!("{}[data-key=\"{key}\"]", testid("ctl-diff-row")))?;
            Ok((d.text(&r)?, d.attribute(&r, "data-changes")?))
        };
        let (text, changes) = row(":SAMPle:RATE")?;
        ensure!(changes.as_deref() == Some("true") && text.contains('5') && text.contains('1'), "{text:?}");
        let (text, changes) = row(":TRIGger:MODE")?;
        ensure!(changes.as_deref() == Some("true") && text.contains("REPEAT") && text.contains("SINGLE"), "{text:?}");
        let (text, changes) = row(":SYSTem:BEEPer")?;
        ensure!(changes.as_deref() == Some("false") && text.contains("ON"), "{text:?}");
        state_is(port, "RUN;2;5;REPEAT;ON")?;
        let panel = d.by_testid("control-panel")?;
        d.execute("arguments[0].scrollIntoView({block: 'start'})", vec![panel.to_json()])?;
        d.screenshot_doc("control")
    });

    run("push", &|d| {
        d.click(&d.by_testid("ctl-push")?)?;
        let confirm = d.wait_for(&testid("ctl-confirm-yes"), Duration::from_secs(5))?;
        let text = d.text(&d.by_testid("ctl-confirm")?)?;
        ensure!(text.contains("Push profile “base” to log? 2 settings will change."), "{text:?}");
        // Asked, not yet pushed.
        state_is(port, "RUN;2;5;REPEAT;ON")?;
        d.click(&confirm)?;
        let result = d.wait_until(Duration::from_secs(20), "the push's result", |s| {
            let t = s.text(&s.by_testid("ctl-result")?)?;
            Ok(t.contains("pushed").then_some(t))
        })?;
        ensure!(result.contains("profile pushed and verified: 2 changed (:SAMPle:RATE, :TRIGger:MODE)"), "{result:?}");
        let rb = d.find(&format!("{}[data-key=\":SAMPle:RATE\"]", testid("ctl-readback-row")))?;
        let rb = d.text(&rb)?;
        ensure!(rb.contains('1') && rb.contains("← 5"), "read back shown with the old value: {rb:?}");
        state_is(port, "RUN;2;1;SINGLE;ON")
    });

    run("refused", &|d| {
        // A profile with a value the instrument refuses (saved from a file on the command line):
        // the window names the refusal and the setting written before it is put back.
        let file = tmp.path().join("refused.toml");
        std::fs::write(
            &file,
            "[[setting]]\nkey = \":TRIGger:MODE\"\nvalue = \"REPEAT\"\n\n[[setting]]\nkey = \":SAMPle:RATE\"\nvalue = \"0\"\n",
        )?;
        let f = file.to_string_lossy().into_owned();
        let (code, out, err) =
            agent_output(&["control", "--data-dir", &d_arg, "log", "profile", "save", "refused", "--file", &f]);
        ensure!(code == 0, "profile save --file: {out}{err}");
        // Opened again, the panel lists it.
        d.click(&d.find(&format!("{ROW} [data-testid=inst-control]"))?)?;
        d.wait_for(&format!("{} option[value=\"refused\"]", testid("ctl-profile-pick")), Duration::from_secs(10))?;
        d.select(&d.by_testid("ctl-profile-pick")?, "refused")?;
        d.click(&d.by_testid("ctl-diff")?)?;
        d.wait_for(
            &format!("{}[data-key=\":SAMPle:RATE\"][data-changes=\"true\"]", testid("ctl-diff-row")),
            Duration::from_secs(20),
        )?;
        d.click(&d.by_testid("ctl-push")?)?;
        d.click(&d.wait_for(&testid("ctl-confirm-yes"), Duration::from_secs(5))?)?;
        let err = d.wait_until(Duration::from_secs(20), "the refusal", |s| {
            let t = s.text(&s.by_testid("ctl-result")?)?;
            Ok(t.contains("failed").then_some(t))
        })?;
        ensure!(
            err.contains("push profile failed") && err.contains(":SAMPle:RATE 0") && err.contains("-224"),
            "{err:?}"
        );
        state_is(port, "RUN;2;1;SINGLE;ON")
    });

    run("console held", &|d| {
        d.invoke("console_acquire", json!({"instrument": "log", "operator": "alice"}))?;
        let err = click_and_wait(d, "ctl-stop", "held by alice")?;
        ensure!(err.contains("stop measurement refused: the console of `log` is held by alice"), "{err:?}");
        state_is(port, "RUN;2;1;SINGLE;ON")?;
        // The command line sees the window's lock too.
        let (code, out, cli_err) = agent_output(&["control", "--data-dir", &d_arg, "log", "stop"]);
        ensure!(code != 0, "the CLI must refuse while alice holds the console: {out}");
        ensure!(cli_err.contains("the console of `log` is held in the window by alice"), "{cli_err}");
        state_is(port, "RUN;2;1;SINGLE;ON")?;
        // As alice it works.
        d.fill(&d.by_testid("ctl-operator")?, "alice")?;
        click_and_wait(d, "ctl-stop", "log: measurement stopped")?;
        state_is(port, "STOP;2;1;SINGLE;ON")?;
        d.invoke("console_release", json!({"instrument": "log", "operator": "alice"}))?;
        let (code, out, cli_err) = agent_output(&["control", "--data-dir", &d_arg, "log", "start"]);
        ensure!(code == 0, "released, the CLI may: {out}{cli_err}");
        state_is(port, "RUN;3;1;SINGLE;ON")
    });

    run("on connect", &|d| {
        // Stopped and years off; the form's two fields make the next connect fix both.
        click_and_wait(d, "ctl-stop", "log: measurement stopped")?;
        sim(port, ":SYST:DATE 2020,1,2")?;
        d.click(&d.find(&format!("{ROW} [data-testid=inst-edit]"))?)?;
        let clock = d.wait_for(&testid("inst-set-clock-on-connect"), Duration::from_secs(5))?;
        let start = d.by_testid("inst-start-on-connect")?;
        ensure!(d.property(&clock, "checked")? == json!(false) && d.property(&start, "checked")? == json!(false));
        d.click(&clock)?;
        d.click(&start)?;
        d.click(&d.by_testid("inst-save")?)?;
        d.wait_until(Duration::from_secs(30), "started and clock set on the new connect", |_| {
            let s = logger_state(port)?;
            Ok((s.starts_with("RUN;") && sim(port, ":SYST:DATE?")? == today()).then_some(()))
        })?;
        // The form closes once the agent runs with the new configuration.
        d.wait_until(Duration::from_secs(30), "the form closed", |s| {
            Ok(s.find_all(&testid("inst-save"))?.is_empty().then_some(()))
        })?;
        let saved = std::fs::read_to_string(data.join("agent.toml"))?;
        ensure!(saved.contains("set_clock_on_connect = true") && saved.contains("start_on_connect = true"), "{saved}");
        Ok(())
    });

    run("offline", &|d| {
        w.stop_sim();
        d.wait_until(Duration::from_secs(30), "the logger offline", |s| {
            let st = s.find(&format!("{ROW} [data-testid=instrument-state]"))?;
            let v = s.attribute(&st, "data-state")?.unwrap_or_default();
            Ok((v != "connected").then_some(()))
        })?;
        d.click(&d.find(&format!("{ROW} [data-testid=inst-control]"))?)?;
        d.wait_for(&testid("control-panel"), Duration::from_secs(5))?;
        let err = click_and_wait(d, "ctl-start", "failed")?;
        ensure!(err.contains("start measurement failed") && err.contains("log"), "{err:?}");
        let result = d.by_testid("ctl-result")?;
        let class = d.attribute(&result, "class")?.ok_or_else(|| anyhow!("no class"))?;
        ensure!(class.contains("error"), "shown as an error: {class}");
        Ok(())
    });

    // File alarms (SPEC 5.2): the Rules screen's "new file" kind, a bad
    // pattern named at its field, the rule written to the configuration.
    run("new-file rule", &|d| {
        d.nav("rules")?;
        d.click(&d.by_testid("rule-add")?)?;
        d.fill(&d.wait_for(&testid("rule-id"), Duration::from_secs(5))?, "new-csv")?;
        d.select(&d.by_testid("rule-kind")?, "new_file")?;
        d.select(&d.by_testid("rule-instrument")?, "log")?;
        let pattern = d.by_testid("rule-pattern")?;
        ensure!(d.is_displayed(&pattern)?, "the pattern field shows for kind new_file");
        ensure!(!d.is_displayed(&d.by_testid("rule-filter")?)?, "no filter for a new-file rule");
        d.fill(&pattern, "[")?;
        let err = d.wait_until(Duration::from_secs(10), "the pattern refused at its field", |s| {
            let e = s.find("[data-testid=field-error][data-field=pattern]")?;
            let t = s.text(&e)?;
            Ok((!t.is_empty()).then_some(t))
        })?;
        ensure!(err.contains("`[` is not a name pattern"), "{err:?}");
        d.fill(&pattern, "*.CSV")?;
        d.click(&d.by_testid("rule-save")?)?;
        let row = d.wait_for("[data-testid=rule-row][data-rule-id=\"new-csv\"]", Duration::from_secs(20))?;
        let text = d.text(&row)?;
        ensure!(text.contains("New file") && text.contains("log: *.CSV"), "{text:?}");
        let saved = std::fs::read_to_string(data.join("agent.toml"))?;
        ensure!(saved.contains("kind = \"new_file\"") && saved.contains("pattern = \"*.CSV\""), "{saved}");
        Ok(())
    });
}
