//! The Files screen in the real window (Xvfb + WebKitWebDriver), issue 14:
//! the app's in-process agent collects a logger's files from a real FTP
//! server (pyftpdlib) and uploads them to a real `meterdeck-cloud serve`;
//! the screen lists them locally as uploaded, a 129 MB file as too large,
//! and the cloud's copies once signed in. A cloud file is downloaded from
//! the window (checked byte for byte), the large one fetched on request
//! with progress. Screenshot `docs/screenshots/files.png`.
//!
//! Needs the app built: `cd ui && npm run build`, then the bins (`/work/wt/bin/wt-bins`).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{ADMIN_PASSWORD, Api, Cloud, agent_login, create_acme, line_after};
use meterdeck_e2e::ftp::start_ftp;
use meterdeck_e2e::notify_peers::Session as Bus;
use meterdeck_e2e::webdriver::{Desktop, Session, testid};
use meterdeck_e2e::*;
use rand::{RngCore, SeedableRng};

const PASSWORD: &str = "logger-pass";
const DAY: &str = "DATA/2026-12-07";

fn step(desk: &Desktop, name: &str, f: impl FnOnce(&Desktop) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name}");
    if let Err(e) = f(desk) {
        let report = desk.failure_report(&format!("files-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

fn random_file(path: &Path, len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// The state badge of the local row of `name`.
fn local_status(d: &Session, name: &str) -> Result<Option<String>> {
    let v = d.execute(
        "const r = [...document.querySelectorAll('[data-testid=file-row]')].find(r => r.dataset.file.endsWith(arguments[0]));
         return r ? r.querySelector('[data-testid=file-status]').className : null;",
        vec![serde_json::json!(name)],
    )?;
    Ok(v.as_str().map(|s| s.trim_start_matches("file-status ").to_string()))
}

#[test]
fn the_files_screen_shows_local_and_cloud_files_downloads_and_fetches() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bus = Bus::start();
    bus.start_keyring();

    // The instrument's FTP server: two logger files and one over 128 MB (sparse).
    let root = tmp.path().join("instrument");
    let w1 = random_file(&root.join(DAY).join("W0001.MEM"), 300_000, 1);
    random_file(&root.join(DAY).join("W0002.MEM"), 1_200_000, 2);
    let big = std::fs::File::create(root.join(DAY).join("BIG.MEM")).unwrap();
    big.set_len(129 * 1024 * 1024).unwrap();
    let (_ftp, ftp_port) = start_ftp(&root, 0, PASSWORD, &[]);

    // The cloud with account acme (its admin's password changed) and the app's agent registered.
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &[]);
    let temp = create_acme(&cloud);
    let api = Api::sign_in(&cloud.http, "acme", "alice", &temp, ADMIN_PASSWORD);
    let out = cloud.cli(&["agent", "register", "--account", "acme", "--name", "desk"]);
    let agent_id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let secret = line_after(&out, "shown once");

    // The app's configuration: one simulated logger whose files are on the FTP server.
    let rt = runtime();
    let sims = rt
        .block_on(sim::start(SimConfig {
            instruments: vec![SimInstrument {
                channels: Some(1),
                ..SimInstrument::new("log", Personality::HiokiLogger)
            }],
        }))
        .expect("simulator starts");
    let mut inst = sims.instruments[0].instrument_config();
    inst.id = "logger1".into();
    let desk_dir = tmp.path().join("desk");
    std::fs::create_dir_all(&desk_dir).unwrap();
    let cfg = write_agent_config(&desk_dir, "name = \"desk\"\npoll_interval = \"1s\"", &[inst]);
    let files = format!(
        "\n[[files]]\ninstrument = \"logger1\"\nhost = \"127.0.0.1\"\nport = {ftp_port}\nuser = \"logger\"\n\
         folder = \"/DATA\"\npattern = \"*.MEM\"\ninterval = \"1s\"\nupload = true\n"
    );
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap() + &files).unwrap();
    let mut pw = agent(&["files", "password", "logger1"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    pw.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(pw.wait().unwrap().success());
    let extra = ["--config", cfg.to_str().unwrap(), "--api", &cloud.http, "--send-interval", "1s"];
    agent_login(&bus.address, &agent_id, &secret, cloud.mqtt_port, &extra).expect("cloud login");

    let args = vec![
        "--data-dir".to_string(),
        desk_dir.to_string_lossy().into_owned(),
        "--config".to_string(),
        cfg.to_string_lossy().into_owned(),
    ];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), Some(&bus.address))
        .expect("start the app under Xvfb + WebKitWebDriver");
    step(&desk, "ready", |d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(60)).map(|_| ()));

    step(&desk, "sign-in", |d| {
        d.nav("cloud")?;
        d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
        d.fill(&d.by_testid("cloud-url")?, &cloud.http)?;
        d.fill(&d.by_testid("cloud-account-id")?, "acme")?;
        d.fill(&d.by_testid("cloud-user-id")?, "alice")?;
        d.fill(&d.by_testid("cloud-password")?, ADMIN_PASSWORD)?;
        d.click(&d.by_testid("cloud-sign-in")?)?;
        d.wait_for(&testid("cloud-who"), Duration::from_secs(15)).map(|_| ())
    });

    step(&desk, "local files uploaded", |d| {
        d.nav("files")?;
        d.wait_until(Duration::from_secs(90), "W0001/W0002 uploaded, BIG too large", |s| {
            s.click(&s.by_testid("files-refresh")?)?;
            std::thread::sleep(Duration::from_millis(500));
            let ok = local_status(s, "W0001.MEM")?.as_deref() == Some("uploaded")
                && local_status(s, "W0002.MEM")?.as_deref() == Some("uploaded")
                && local_status(s, "BIG.MEM")?.as_deref() == Some("too-large");
            Ok(ok.then_some(()))
        })
    });

    step(&desk, "cloud files", |d| {
        let rows = d.wait_until(Duration::from_secs(20), "two cloud files", |s| {
            let rows = s.find_all(&testid("cloud-file-row"))?;
            Ok((rows.len() == 2).then_some(rows))
        })?;
        let listed = api.get("/api/v1/files");
        ensure!(listed.as_array().map(Vec::len) == Some(2), "the API lists {listed}");
        for r in &rows {
            let name = d.attribute(r, "data-file")?.unwrap_or_default();
            ensure!(
                listed.as_array().unwrap().iter().any(|f| f["name"] == name.as_str()),
                "{name} not in the API's list"
            );
        }
        d.screenshot_doc("files")
    });

    step(&desk, "download", |d| {
        let b = d.find(&format!(
            "[data-testid=cloud-file-row][data-file=\"/{DAY}/W0001.MEM\"] [data-testid=cloud-file-download]"
        ))?;
        d.click(&b)?;
        let note = d.wait_until(Duration::from_secs(20), "the download note", |s| {
            let n = s.by_testid("files-note")?;
            Ok(s.is_displayed(&n)?.then(|| s.text(&n)).transpose()?)
        })?;
        let path = desk_dir.join("downloads/W0001.MEM");
        ensure!(note.contains(path.to_str().unwrap()), "note: {note}");
        ensure!(std::fs::read(&path)? == w1, "the downloaded file equals the instrument's");
        Ok(())
    });

    step(&desk, "fetch on request", |d| {
        // The list is redrawn as uploads finish: a row found just before may be
        // replaced before the click lands (a stale element), so find it again.
        d.wait_until(Duration::from_secs(15), "the Fetch button clicked", |s| {
            let clicked = s
                .find("[data-testid=file-row][data-file$=\"BIG.MEM\"] [data-testid=file-fetch]")
                .and_then(|fetch| s.click(&fetch));
            Ok(clicked.is_ok().then_some(()))
        })?;
        d.wait_until(Duration::from_secs(120), "BIG.MEM fetched", |s| {
            Ok(matches!(local_status(s, "BIG.MEM")?.as_deref(), Some("fetched" | "uploaded")).then_some(()))
        })?;
        let progress = d.by_testid("files-progress")?;
        ensure!(d.is_displayed(&progress)?, "the progress bar was shown");
        let text = d.text(&progress)?;
        ensure!(text.contains("BIG.MEM") && text.contains("135"), "progress: {text}");
        let kept = desk_dir.join("files/logger1").join(DAY).join("BIG.MEM");
        ensure!(std::fs::metadata(&kept)?.len() == 129 * 1024 * 1024, "the large file is kept whole");
        Ok(())
    });

    drop(desk);
    drop(sims);
}
