//! scripts/figures-portal's helper: the web portal's first paint of the
//! Agents screen with 100 agents (registered through the API), in headless
//! Debian chromium on loopback, from navigation start to the painted list;
//! and the size of what the portal serves, gzip (and br).
//!
//! Prints one JSON line: `portal_first_paint_ms` (median of `--runs`), with
//! the baselines measured in the same run: the sign-in page's paint (the
//! same bundle, no data) and the page's own fetch of `/api/v1/agents`.
//!
//!   figures_portal --cloud PATH/meterdeck-cloud [--runs 7] [--agents 100]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};
use meterdeck_e2e::Proc;
use meterdeck_e2e::cloud::{Api, line_after, request};
use meterdeck_e2e::webdriver::{Driver, Session, testid};
use serde_json::{Value, json};

const PASSWORD: &str = "Figures-portal1";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Navigates to `url` and returns ms from navigation start until `ready`
/// (a JS expression) holds and two frames were painted after it.
fn paint_ms(s: &Session, url: &str, ready: &str) -> Result<f64> {
    // A blank page first: each run is a full navigation (no bfcache).
    s.goto("about:blank")?;
    s.goto(url)?;
    let v = s.execute_async(
        &format!(
            "const done = arguments[0];
             const check = () => {{
               if ({ready}) requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));
               else requestAnimationFrame(check);
             }};
             check();"
        ),
        vec![],
    )?;
    v.as_f64().ok_or_else(|| anyhow!("paint time: {v}"))
}

/// Bytes of `url`'s body as served with `Accept-Encoding: enc` (ureq here
/// does not decompress: the count is what travels).
fn served_bytes(url: &str, enc: &str) -> Result<(usize, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(true).build().into();
    let mut r = agent.get(url).header("Accept-Encoding", enc).call().with_context(|| format!("GET {url}"))?;
    let got = r.headers().get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or("identity").to_string();
    let body = r.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec()?;
    Ok((body.len(), got))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let cloud_bin = PathBuf::from(arg(&args, "--cloud").context("--cloud PATH/meterdeck-cloud")?);
    let runs: usize = arg(&args, "--runs").map(|r| r.parse()).transpose()?.unwrap_or(7).max(1);
    let agents: usize = arg(&args, "--agents").map(|r| r.parse()).transpose()?.unwrap_or(100);
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("cloud");

    let port = meterdeck_e2e::cloud::free_port();
    let mqtt = meterdeck_e2e::cloud::free_port();
    let mut cmd = Command::new(&cloud_bin);
    cmd.arg("--data").arg(&data).args(["serve", "--http", &format!("127.0.0.1:{port}")]);
    cmd.args(["--mqtt-port", &mqtt.to_string(), "--backup-every", "0"]);
    let mut cloud = Proc::spawn("meterdeck-cloud", &mut cmd);
    cloud.wait_line("meterdeck-cloud ready:", Duration::from_secs(60));
    let base = format!("http://127.0.0.1:{port}");
    let cli = |a: &[&str]| -> Result<String> {
        let out = Command::new(&cloud_bin).arg("--data").arg(&data).args(a).output()?;
        ensure!(out.status.success(), "meterdeck-cloud {a:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // Pro: room for 100 agents.
    let out = cli(&[
        "account",
        "create",
        "--id",
        "figs",
        "--name",
        "Figures",
        "--plan",
        "pro",
        "--admin",
        "ann",
        "--email",
        "ann@figs.test",
    ])?;
    let temp = line_after(&out, "temporary password");
    let api = Api::sign_in(&base, "figs", "ann", &temp, PASSWORD);
    for i in 0..agents {
        let (s, r) = request(
            "POST",
            &format!("{base}/api/v1/agents"),
            Some(&api.token),
            Some(&json!({"name": format!("site-{i:03}")})),
        );
        ensure!(s == 201, "register agent {i}: {r}");
    }

    let driver = Driver::start_chromedriver()?;
    let s = driver.chromium_session(&tmp.path().join("chromium"))?;
    s.set_timeouts(60_000)?;

    // Baseline: the sign-in page (the same bundle, no data).
    let signin_ready = "document.querySelector('[data-testid=portal-signin-form]')";
    let mut signin = Vec::new();
    for _ in 0..runs {
        signin.push(paint_ms(&s, &format!("{base}/"), signin_ready)?);
    }
    // Sign in once: the session cookie stays for the runs.
    s.goto(&format!("{base}/"))?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(20))?;
    for (id, v) in [("portal-account", "figs"), ("portal-user", "ann"), ("portal-password", PASSWORD)] {
        let e = s.by_testid(id)?;
        s.fill(&e, v)?;
    }
    s.click(&s.by_testid("portal-sign-in")?)?;
    s.wait_for(&testid("cloud-agent-row"), Duration::from_secs(30))?;

    let ready = format!("document.querySelectorAll('[data-testid=cloud-agent-row]').length >= {agents}");
    let mut paint = Vec::new();
    let mut fetch = Vec::new();
    for _ in 0..runs {
        paint.push(paint_ms(&s, &format!("{base}/#agents"), &ready)?);
        let v = s.execute_async(
            "const done = arguments[0]; const t = performance.now();
             fetch('/api/v1/agents', {credentials: 'same-origin'}).then(r => r.json())
               .then(j => done({ms: performance.now() - t, n: j.length}), e => done({err: String(e)}));",
            vec![],
        )?;
        ensure!(v["n"].as_u64() == Some(agents as u64), "agents fetched: {v}");
        fetch.push(v["ms"].as_f64().unwrap_or(f64::NAN));
    }

    // What the page loaded from the portal (document, scripts, style sheets).
    let v: Value = s.execute(
        "return [location.href, ...performance.getEntriesByType('resource')
           .filter(e => e.name.startsWith(location.origin + '/assets/')).map(e => e.name)]",
        vec![],
    )?;
    let mut urls: Vec<String> = v.as_array().unwrap().iter().filter_map(|x| x.as_str().map(str::to_owned)).collect();
    urls[0] = format!("{base}/");
    urls.sort();
    urls.dedup();
    let (mut gzip, mut br, mut raw) = (0, 0, 0);
    for u in &urls {
        let (g, ge) = served_bytes(u, "gzip")?;
        let (b, be) = served_bytes(u, "br")?;
        let (r, _) = served_bytes(u, "identity")?;
        eprintln!("{u}: {r} B, {ge} {g} B, {be} {b} B");
        gzip += g;
        br += b;
        raw += r;
    }
    let _ = s.delete();
    drop(driver);
    cloud.terminate(Duration::from_secs(10));

    println!(
        "{}",
        json!({
            "figure": "portal_first_paint",
            "agents": agents,
            "runs": runs,
            "portal_first_paint_ms": (median(paint.clone()) * 10.0).round() / 10.0,
            "portal_first_paint_max_ms": (paint.iter().cloned().fold(0.0, f64::max) * 10.0).round() / 10.0,
            "target_ms": 1000,
            "baseline_signin_paint_ms": (median(signin) * 10.0).round() / 10.0,
            "baseline_api_agents_fetch_ms": (median(fetch) * 10.0).round() / 10.0,
            "bundle_files": urls.len(),
            "bundle_bytes": raw,
            "bundle_gzip_bytes": gzip,
            "bundle_br_bytes": br,
            "cloud": cloud_bin.display().to_string(),
        })
    );
    Ok(())
}
