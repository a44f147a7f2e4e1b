//! The desktop window against the real cloud, end to end: `meterdeck-cloud
//! serve` (SQLite, its managed Mosquitto), two registered agents ("site-a",
//! "site-b": real `meterdeck-agent` processes on the simulator, their
//! secrets in a real gnome-keyring on a private D-Bus) sending data, and the
//! Tauri app under Xvfb with the same keychain. In the window: sign in with
//! the temporary password, the forced password change, both agents online
//! with backlog and traffic, each site's channels, one channel of each
//! overlaid in the Viewer — whose drawn series equal what the cloud API
//! returns for the plotted range — the storage meter with the API's stored
//! bytes, and sign-out, after which the session
//! token is gone from the keychain.
//!
//! The stopped site-a's cloud "agent offline" alarm, acknowledged in the
//! cloud, shows acknowledged (who, comment) on the window's Cloud screen.
//!
//! Screenshots: docs/screenshots/cloud-signed-in.png (with the storage meter), viewer-overlay.png
//! and cloud-offline-acked.png.
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck -p meterdeck-core -p meterdeck-cloud --bins`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{Api, Cloud, agent_login, check_series, line_after};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::webdriver::{Desktop, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};

const ACCOUNT: &str = "acme";
const USER: &str = "alice";
const NEW_PASSWORD: &str = "Meter1deck-window";

/// One registered agent: its id, a config with the `[cloud]` section (the
/// secret went to the keychain) and a data directory.
struct Site {
    name: &'static str,
    id: String,
    config: PathBuf,
    data: PathBuf,
}

/// Registers `name` in the cloud and logs its agent in (`meterdeck-agent
/// cloud login`, secret on stdin), sending every second.
fn register_site(
    cloud: &Cloud,
    bus: &Session,
    dir: &Path,
    name: &'static str,
    inst: meterdeck_drivers::InstrumentConfig,
) -> Site {
    let out = cloud.cli(&["agent", "register", "--account", ACCOUNT, "--name", name]);
    let id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let secret = line_after(&out, "shown once");
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_agent_config(&dir, &format!("name = \"{name}\"\npoll_interval = \"1s\""), &[inst]);
    let extra = ["--config", config.to_str().unwrap(), "--send-interval", "1s"];
    agent_login(&bus.address, &id, &secret, cloud.mqtt_port, &extra)
        .unwrap_or_else(|e| panic!("cloud login {name}: {e}"));
    Site { name, id, config, data: dir.join("data") }
}

fn run_site(site: &Site, bus: &Session) -> Proc {
    let mut cmd = agent(&["run", "--config", site.config.to_str().unwrap(), "--data-dir", site.data.to_str().unwrap()]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    Proc::spawn(site.name, &mut cmd)
}

/// The session token entry for `url` as the app keeps it, read through the
/// same keychain code (md-notify-send): `Some(token)` or `None`.
fn keychain_token(bus: &Session, url: &str) -> Result<Option<String>> {
    let entry = meterdeck_core::cloudlink::session_entry(url);
    let out = Command::new(env!("CARGO_BIN_EXE_md-notify-send"))
        .args(["secret-get", &entry])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.success(), "md-notify-send secret-get: {text}{}", String::from_utf8_lossy(&out.stderr));
    match text.trim() {
        "SECRET none" => Ok(None),
        t => t
            .strip_prefix("SECRET value ")
            .map(|v| Some(v.to_owned()))
            .ok_or_else(|| anyhow!("md-notify-send printed something else than SECRET value/none")),
    }
}

struct Ctx {
    desk: Desktop,
    bus: Session,
    cloud: Cloud,
    sites: [Site; 2],
    agents: Vec<Proc>,
    _sims: sim::SimHandle,
    _rt: tokio::runtime::Runtime,
    /// The API as the test reads it (signed in after the window changed the password).
    api: Option<Api>,
    /// Cloud channel id and label overlaid per site.
    overlaid: Vec<(String, String)>,
}

impl Ctx {
    fn api(&self) -> &Api {
        self.api.as_ref().expect("the test's API client (after the password step)")
    }
}

fn step(cx: &mut Ctx, name: &str, started: Instant, f: impl FnOnce(&mut Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let report = cx.desk.failure_report(&format!("cloud-window-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn window_signs_in_browses_two_sites_and_overlays_them() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // One private bus with gnome-keyring: the agents' secrets and the app's session token.
    let mut bus = Session::start();
    bus.start_keyring();
    // Checked every second, so the stopped agents' offline alarm comes soon after their silence setting.
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &["--offline-check-every", "1s"]);
    let out = cloud.cli(&[
        "account",
        "create",
        "--id",
        ACCOUNT,
        "--name",
        "Acme",
        "--admin",
        USER,
        "--email",
        "alice@acme.test",
    ]);
    let temp = line_after(&out, "temporary password");

    let rt = runtime();
    let inst = |name: &str, seed| SimInstrument {
        channels: Some(2),
        seed,
        ..SimInstrument::new(name.to_owned(), Personality::HiokiLogger)
    };
    let sims = rt
        .block_on(sim::start(SimConfig { instruments: vec![inst("logger-a", 31), inst("logger-b", 32)] }))
        .expect("simulator");
    let site_a = register_site(&cloud, &bus, tmp.path(), "site-a", sims.instruments[0].instrument_config());
    let site_b = register_site(&cloud, &bus, tmp.path(), "site-b", sims.instruments[1].instrument_config());
    let agents = vec![run_site(&site_a, &bus), run_site(&site_b, &bus)];

    // The window starts while the agents fill the cloud.
    let data = tmp.path().join("desk");
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), Some(&bus.address))
        .expect("start the app under Xvfb + WebKitWebDriver");
    let mut cx = Ctx {
        desk,
        bus,
        cloud,
        sites: [site_a, site_b],
        agents,
        _sims: sims,
        _rt: rt,
        api: None,
        overlaid: Vec::new(),
    };

    step(&mut cx, "ready", started, |cx| {
        cx.desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ())
    });
    step(&mut cx, "sign-in", started, |cx| sign_in(cx, &temp));
    step(&mut cx, "agents", started, agents_listed);
    step(&mut cx, "channels", started, browse_and_add);
    step(&mut cx, "viewer", started, viewer_overlay);
    step(&mut cx, "storage", started, storage_meter);
    step(&mut cx, "offline-alarm", started, offline_alarm_acked_in_the_cloud);
    step(&mut cx, "sign-out", started, sign_out);
    eprintln!("cloud window test took {:.1} s", started.elapsed().as_secs_f64());
    drop(cx);
}

/// Sign-in with the temporary password, the required new password, then signed in.
fn sign_in(cx: &mut Ctx, temp: &str) -> Result<()> {
    let d = &cx.desk;
    d.nav("cloud")?;
    d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
    d.fill(&d.by_testid("cloud-url")?, &cx.cloud.http)?;
    d.fill(&d.by_testid("cloud-account-id")?, ACCOUNT)?;
    d.fill(&d.by_testid("cloud-user-id")?, USER)?;
    d.fill(&d.by_testid("cloud-password")?, temp)?;
    d.click(&d.by_testid("cloud-sign-in")?)?;
    d.wait_for(&testid("cloud-password-form"), Duration::from_secs(15)).context("the forced password change")?;
    ensure!(keychain_token(&cx.bus, &cx.cloud.http)?.is_none(), "a pending token reached the keychain");
    d.fill(&d.by_testid("cloud-current-password")?, temp)?;
    d.fill(&d.by_testid("cloud-new-password")?, NEW_PASSWORD)?;
    d.click(&d.by_testid("cloud-password-submit")?)?;
    let who = d.wait_until(Duration::from_secs(15), "signed in", |s| {
        if let Ok(e) = s.find(&testid("cloud-password-error"))
            && s.is_displayed(&e)?
        {
            bail!("password change refused: {}", s.text(&e)?);
        }
        Ok(s.find(&testid("cloud-who")).and_then(|e| s.text(&e)).ok())
    })?;
    eprintln!("    {who}");
    ensure!(who.contains(USER) && who.contains(ACCOUNT) && who.contains("admin"), "who line: {who:?}");
    if let Ok(e) = d.find(&testid("cloud-status-error")) {
        bail!("signed in with an error: {}", d.text(&e)?);
    }
    let token = keychain_token(&cx.bus, &cx.cloud.http)?.ok_or_else(|| anyhow!("no session token in the keychain"))?;
    ensure!(token.starts_with("mds_"), "the keychain entry is not a session token");
    // The new password is the account's now: the test reads the API with it.
    cx.api = Some(Api::sign_in(&cx.cloud.http, ACCOUNT, USER, NEW_PASSWORD, NEW_PASSWORD));
    Ok(())
}

/// Both agents listed with their state, backlog and traffic once data arrived.
fn agents_listed(cx: &mut Ctx) -> Result<()> {
    const MIN_SAMPLES: u64 = 30;
    let api = cx.api();
    // Each site has some seconds of both channels in the cloud.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let agents = api.get("/api/v1/agents");
        let samples = |id: &str| {
            agents.as_array().and_then(|l| l.iter().find(|a| a["id"] == id)).and_then(|a| a["sync"]["samples"].as_u64())
        };
        if cx.sites.iter().all(|s| samples(&s.id).unwrap_or(0) >= MIN_SAMPLES) {
            break;
        }
        ensure!(Instant::now() < deadline, "the agents' data did not reach the cloud in 60 s: {agents}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let d = &cx.desk;
    d.click(&d.by_testid("cloud-refresh")?)?;
    // The rows after the refresh: at least the samples the API counted.
    let rows = d.wait_until(Duration::from_secs(15), "both agents online with traffic", |s| {
        let v = s.execute(
            "return [...document.querySelectorAll('[data-testid=cloud-agent-row]')].map(r => ({
               id: r.dataset.agent, online: r.dataset.online, text: r.textContent,
               backlog: r.querySelector('[data-testid=cloud-agent-backlog]').textContent.trim(),
               samples: Number(r.querySelector('[data-testid=cloud-agent-samples]').textContent),
               traffic: r.querySelector('[data-testid=cloud-agent-traffic]').textContent.trim()}))",
            vec![],
        )?;
        let rows = v.as_array().cloned().unwrap_or_default();
        let ok = rows.len() == 2
            && rows.iter().all(|r| {
                r["online"] == "true"
                    && r["samples"].as_u64().is_some_and(|n| n >= MIN_SAMPLES)
                    && r["backlog"].as_str().is_some_and(|b| b.parse::<u64>().is_ok())
                    && r["traffic"].as_str().is_some_and(|t| !t.is_empty() && t != "0 B")
            });
        Ok(ok.then_some(rows))
    })?;
    for site in &cx.sites {
        let row = rows.iter().find(|r| r["id"] == site.id.as_str()).ok_or_else(|| anyhow!("no row for {}", site.id))?;
        let text = row["text"].as_str().unwrap_or_default();
        ensure!(text.contains(site.name) && text.contains("online"), "row of {}: {text:?}", site.name);
        eprintln!(
            "    {}: {} samples, backlog {}, traffic {}",
            site.name, row["samples"], row["backlog"], row["traffic"]
        );
    }
    Ok(())
}

/// Each site's channels as the API lists them; "Add to Viewer" on the first of each.
fn browse_and_add(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    for site in &cx.sites {
        let want: Vec<String> = cx
            .api()
            .get(&format!("/api/v1/agents/{}/channels", site.id))
            .as_array()
            .ok_or_else(|| anyhow!("channel list"))?
            .iter()
            .filter_map(|c| c["path"].as_str().map(str::to_owned))
            .collect();
        ensure!(want.len() == 2, "{} has channels {want:?}", site.name);
        let open = d.find(&format!(
            "[data-testid=cloud-agent-row][data-agent=\"{}\"] [data-testid=cloud-agent-open]",
            site.id
        ))?;
        d.click(&open)?;
        let heading = format!("Channels of {}", site.name);
        let shown = d.wait_until(Duration::from_secs(10), &format!("the channels of {}", site.name), |s| {
            let v = s.execute(
                "const box = document.querySelector('[data-testid=cloud-channels]');
                 if (!box) return null;
                 return {heading: box.parentElement.textContent,
                         paths: [...box.querySelectorAll('[data-testid=cloud-channel-row]')].map(r => r.dataset.path)}",
                vec![],
            )?;
            let paths: Vec<String> = serde_json::from_value(v["paths"].clone()).unwrap_or_default();
            Ok((v["heading"].as_str().is_some_and(|h| h.contains(&heading)) && !paths.is_empty()).then_some(paths))
        })?;
        let mut got = shown.clone();
        got.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        ensure!(got == want_sorted, "{} shows {got:?}, the API lists {want:?}", site.name);
        let path = &want_sorted[0];
        let btn = d.find(&format!(
            "[data-testid=cloud-channel-row][data-path=\"{path}\"] [data-testid=cloud-add-to-viewer]"
        ))?;
        let channel = d.attribute(&btn, "data-channel")?.ok_or_else(|| anyhow!("button without data-channel"))?;
        d.click(&btn)?;
        d.wait_until(Duration::from_secs(5), "the button to say it is in the Viewer", |s| {
            Ok(s.text(&btn)?.contains("In Viewer").then_some(()))
        })?;
        cx.overlaid.push((channel, format!("{ACCOUNT}/{} · {path}", site.name)));
    }
    // The screenshot (agents, site-b's channels, the storage meter) is the storage step's.
    Ok(())
}

/// What uPlot holds: the x range, the times, and per series its label and
/// values (`"u"` where the series has no point at that time).
const PLOT_JS: &str = "const host = document.querySelector('[data-testid=viewer-plot] .plot-host');
  const u = host && host.uplot;
  if (!u) return null;
  return {from: u.scales.x.min, to: u.scales.x.max, xs: [...u.data[0]],
          series: u.series.slice(1).map((s, i) => ({label: s.label,
            vals: [...u.data[i + 1]].map(v => v === undefined ? 'u' : v)}))};";

/// The Viewer draws both cloud series, equal to the API's data for the plotted range.
fn viewer_overlay(cx: &mut Ctx) -> Result<()> {
    // No more samples: what the window fetched and what the test asks the API for are the same data.
    for mut a in cx.agents.drain(..) {
        a.terminate(Duration::from_secs(15));
    }
    // ... and the last batch in flight is stored: the counts stand still for a second.
    let count = || {
        cx.api()
            .get("/api/v1/agents")
            .as_array()
            .map(|l| l.iter().map(|a| a["sync"]["samples"].clone()).collect::<Vec<_>>())
    };
    let mut last = count();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = count();
        if now == last {
            break;
        }
        ensure!(Instant::now() < deadline, "the cloud kept storing samples after the agents stopped");
        last = now;
    }
    let d = &cx.desk;
    d.nav("viewer")?;
    for (id, label) in &cx.overlaid {
        let leaf =
            d.wait_for(&format!("[data-testid=viewer-cloud-channel][data-channel=\"{id}\"]"), Duration::from_secs(10))?;
        let title = d.attribute(&leaf, "title")?;
        ensure!(title.as_deref() == Some(label.as_str()), "viewer tree leaf titled {title:?}, want {label}");
    }
    // The last hour (1 h is the default): a few buckets of several samples, drawn as min/max bands.
    let plot = wait_plot(cx, |_| true)?;
    for (id, label) in &cx.overlaid {
        check_series(cx.api(), &plot, id, label, 1, 3)?;
    }
    // "All": the stored span, one sample per pixel at most, drawn as the samples.
    let before = plot["from"].clone();
    d.click(&d.by_testid("range-all")?)?;
    let plot = wait_plot(cx, |p| p["from"] != before)?;
    for (id, label) in &cx.overlaid {
        check_series(cx.api(), &plot, id, label, 1, 3)?;
    }
    d.screenshot_doc("viewer-overlay")
}

/// The plot once both overlaid series are drawn with data (and `also` holds).
fn wait_plot(cx: &Ctx, also: impl Fn(&Value) -> bool) -> Result<Value> {
    let labels: Vec<&str> = cx.overlaid.iter().map(|(_, l)| l.as_str()).collect();
    cx.desk.wait_until(Duration::from_secs(20), "both cloud series drawn", |s| {
        if let Ok(e) = s.find(&testid("viewer-error"))
            && s.is_displayed(&e)?
        {
            bail!("viewer error: {}", s.text(&e)?);
        }
        let p = s.execute(PLOT_JS, vec![])?;
        let drawn = |label: &str| {
            p["series"].as_array().is_some_and(|l| {
                l.iter().any(|x| {
                    x["label"].as_str().is_some_and(|t| t.starts_with(label))
                        && x["vals"].as_array().is_some_and(|v| v.iter().filter(|v| v.is_number()).count() >= 3)
                })
            })
        };
        Ok((labels.iter().all(|l| drawn(l)) && also(&p)).then_some(p))
    })
}

/// Sign-out: the form is back, the overlay cleared, the token gone from the keychain.
/// The Cloud screen's storage meter shows the account's stored bytes as the
/// API counts them (the agents have stopped, so the figure stands still).
fn storage_meter(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    d.nav("cloud")?;
    let api_used = || cx.api().get("/api/v1/licence/status")["usage"]["storage_bytes"].as_u64();
    let want = api_used().ok_or_else(|| anyhow!("no usage.storage_bytes in /licence/status"))?;
    ensure!(want > 0, "the API counts no stored bytes");
    d.click(&d.by_testid("cloud-refresh")?)?;
    let (used, text) = d.wait_until(Duration::from_secs(15), "the storage meter with the API's figure", |s| {
        let v = s.execute(
            "const m = document.querySelector('[data-testid=cloud-storage-meter]');
             return m && {used: Number(m.dataset.used), text: m.textContent};",
            vec![],
        )?;
        Ok(v["used"].as_u64().filter(|&u| u == want).map(|u| (u, v["text"].as_str().unwrap_or_default().to_owned())))
    })?;
    ensure!(api_used() == Some(used), "the API's figure moved while the window showed {used}");
    ensure!(text.contains("Free") || text.contains("Standard") || text.contains("Pro"), "meter text: {text:?}");
    let rows = d.find_all("[data-testid=cloud-storage-channel]")?;
    ensure!(!rows.is_empty(), "no channels listed under the storage meter");
    eprintln!("    storage: {used} bytes ({text}), {} channels listed", rows.len());
    d.screenshot_doc("cloud-signed-in")?;
    // The Licence screen shows the same figure among the cloud's limits.
    d.nav("licence")?;
    let shown = d.wait_until(Duration::from_secs(15), "the Licence screen's cloud storage bar", |s| {
        let v = s.execute(
            "const b = document.querySelector('[data-testid=licence-cloud-storage_bytes]');
             return b && Number(b.dataset.used);",
            vec![],
        )?;
        Ok(v.as_u64())
    })?;
    ensure!(shown == used, "the Licence screen shows {shown} stored bytes, the API {used}");
    Ok(())
}

/// The stopped site-a raises the cloud's "agent offline" alarm; acknowledged
/// in the cloud (the portal's call), the window's Cloud screen shows it
/// acknowledged, by whom and with the comment.
fn offline_alarm_acked_in_the_cloud(cx: &mut Ctx) -> Result<()> {
    let api = cx.api();
    let (status, v) = meterdeck_e2e::cloud::request(
        "PUT",
        &format!("{}/api/v1/account/offline-alarm", cx.cloud.http),
        Some(&api.token),
        Some(&json!({"offline_after_s": 5})),
    );
    ensure!(status == 200, "offline-alarm setting: {status} {v}");
    let site = &cx.sites[0];
    let path = format!("/api/v1/agents/{}/alarms", site.id);
    let deadline = Instant::now() + Duration::from_secs(60);
    let alarm = loop {
        let v = api.get(&path);
        let found = v["site"].as_array().and_then(|l| {
            l.iter().find(|a| a["alarm_id"].as_str().is_some_and(|id| id.starts_with("cloud-")) && a["unacked"] == true)
        });
        if let Some(a) = found {
            break a["alarm_id"].as_str().unwrap_or_default().to_owned();
        }
        ensure!(Instant::now() < deadline, "no cloud offline alarm for the stopped site-a in 60 s: {v}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let (status, v) = meterdeck_e2e::cloud::request(
        "POST",
        &format!("{}{path}/{alarm}/ack", cx.cloud.http),
        Some(&api.token),
        Some(&json!({"comment": "driving there"})),
    );
    ensure!(status == 200, "ack in the cloud: {status} {v}");
    let d = &cx.desk;
    d.nav("cloud")?;
    d.click(&d.by_testid("cloud-refresh")?)?;
    // Site-b is open from the channels step: site-a's "Channels", clicked
    // again as a user would while the refresh repaints the rows.
    let open = format!("[data-testid=cloud-agent-row][data-agent=\"{}\"] [data-testid=cloud-agent-open]", site.id);
    let row = format!(
        "[data-testid=site-alarms][data-agent=\"{}\"] [data-testid=site-alarm][data-alarm=\"{alarm}\"][data-state=ACKED]",
        site.id
    );
    let mut clicked = Instant::now() - Duration::from_secs(10);
    let text = d.wait_until(Duration::from_secs(20), "the window's Cloud screen to show it acknowledged", |s| {
        if let Ok(text) = s.find(&row).and_then(|e| s.text(&e)) {
            return Ok(Some(text));
        }
        if clicked.elapsed() > Duration::from_secs(2) {
            let _ = s.find(&open).and_then(|e| s.click(&e));
            clicked = Instant::now();
        }
        Ok(None)
    })?;
    eprintln!("    {text}");
    // The agents' list agrees with the alarm: the stopped site is offline.
    let online = d.execute(
        &format!(
            "return document.querySelector('[data-testid=cloud-agent-row][data-agent=\"{}\"]').dataset.online",
            site.id
        ),
        vec![],
    )?;
    ensure!(online == "false", "site-a listed with online={online} beside its offline alarm");
    ensure!(
        text.contains("Agent offline") && text.contains(USER) && text.contains("driving there"),
        "the window's row: {text:?}"
    );
    d.screenshot_doc("cloud-offline-acked")
}

fn sign_out(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    d.nav("cloud")?;
    // The screen may still be repainting the last refresh: found again until the click lands.
    d.wait_until(Duration::from_secs(10), "sign-out clicked", |s| {
        Ok(s.find(&testid("cloud-sign-out")).and_then(|e| s.click(&e)).ok())
    })?;
    d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
    let st = d.invoke("cloud_status", json!({}))?;
    ensure!(st["signed_in"] == false, "still signed in: {st}");
    ensure!(st["url"] == cx.cloud.http.as_str() && st["account"] == ACCOUNT, "the sign-in form is prefilled: {st}");
    ensure!(keychain_token(&cx.bus, &cx.cloud.http)?.is_none(), "the session token is still in the keychain");
    ensure!(d.find_all("[data-testid=cloud-agent-row]")?.is_empty(), "agents still listed after sign-out");
    d.nav("viewer")?;
    ensure!(d.find_all("[data-testid=viewer-cloud-channel]")?.is_empty(), "cloud channels still in the Viewer");
    Ok(())
}
