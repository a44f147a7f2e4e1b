//! A small blocking W3C WebDriver client (ureq + serde_json) and the
//! processes behind it: an Xvfb display, `WebKitWebDriver`, and the browser
//! binary it launches (the Tauri app). Everything started here is stopped
//! on drop; the driver runs in its own process group so the app and its
//! WebKit helper processes go with it.
//!
//! Only what the desktop tests need: sessions, elements by CSS selector,
//! click / keys / text / attributes, scripts (sync and async), pointer
//! actions for drags, and PNG screenshots.

use crate::Proc;
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The W3C key naming an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// CSS selector of a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

// ------------------------------------------------------------------ processes

/// An Xvfb server on a display number it picked itself (`-displayfd`).
pub struct Xvfb {
    pub display: String,
    proc: Proc,
}

impl Xvfb {
    pub fn start() -> Result<Xvfb> {
        let mut cmd = Command::new("Xvfb");
        // -displayfd 1: Xvfb chooses a free display and prints its number on stdout.
        cmd.args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
        cmd.process_group(0);
        let mut proc = Proc::spawn("Xvfb", &mut cmd);
        let line = proc.wait_line("", Duration::from_secs(20));
        let n: u32 =
            line.trim().parse().with_context(|| format!("Xvfb printed {line:?} instead of a display number"))?;
        Ok(Xvfb { display: format!(":{n}"), proc })
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; the tiny race with
/// other programs is acceptable on a test machine).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("bind an ephemeral port")?;
    Ok(l.local_addr()?.port())
}

/// `WebKitWebDriver` on a free port, in its own process group.
pub struct Driver {
    pub url: String,
    proc: Proc,
    http: ureq::Agent,
}

impl Driver {
    /// Starts the driver with `DISPLAY` and `TAURI_WEBVIEW_AUTOMATION=true`
    /// (the browser it launches inherits its environment) plus `env`.
    pub fn start(display: &str, env: &[(&str, &str)]) -> Result<Driver> {
        let port = free_port()?;
        let mut cmd = Command::new("WebKitWebDriver");
        cmd.arg(format!("--port={port}"))
            .env("DISPLAY", display)
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            // Screenshots need WebKit's compositing, which the app turns off
            // on machines without a GPU (src-tauri/src/render.rs);
            // `env` may say otherwise (the dashboard CPU figure).
            .env("MD_WEBKIT_COMPOSITING", "on")
            .envs(env.iter().copied())
            .process_group(0);
        let proc = Proc::spawn("WebKitWebDriver", &mut cmd);
        let driver = Driver { url: format!("http://127.0.0.1:{port}"), proc, http: http_agent() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = driver.request("GET", "/status", None)
                && v.get("ready").and_then(Value::as_bool) == Some(true)
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("WebKitWebDriver on port {port} did not become ready within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// One WebDriver request; returns the response's `value` or the
    /// driver's error (`error: message`).
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        request(&self.http, &self.url, method, path, body)
    }

    /// A new session whose browser is `binary` started with `args`.
    pub fn session(&self, binary: &Path, args: &[String]) -> Result<Session> {
        let caps = json!({"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {
            "binary": binary.to_string_lossy(), "args": args }}}});
        let v = self.request("POST", "/session", Some(&caps)).context("new session")?;
        let id = v
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("new session: no sessionId in {v}"))?
            .to_string();
        Ok(Session { base: self.url.clone(), id, http: self.http.clone(), deleted: false })
    }
}

// ---------------------------------------------------- chromium (web portal)

impl Driver {
    /// Debian's `chromedriver` (package chromium-driver) on a free port, in
    /// its own process group: the web portal's browser tests (issue 15).
    pub fn start_chromedriver() -> Result<Driver> {
        let port = free_port()?;
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}")).process_group(0);
        let proc = Proc::spawn("chromedriver", &mut cmd);
        let driver = Driver { url: format!("http://127.0.0.1:{port}"), proc, http: http_agent() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = driver.request("GET", "/status", None)
                && v.get("ready").and_then(Value::as_bool) == Some(true)
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("chromedriver on port {port} did not become ready within 20 s (apt-get install chromium-driver)");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A headless Debian chromium session, 1280x800, its profile in `profile`.
    pub fn chromium_session(&self, profile: &Path) -> Result<Session> {
        self.chromium_session_with(profile, None)
    }

    /// As `chromium_session`, with downloads saved to `downloads` without asking.
    pub fn chromium_session_with(&self, profile: &Path, downloads: Option<&Path>) -> Result<Session> {
        let binary = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or_else(|| anyhow!("no chromium binary: apt-get install chromium"))?;
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--window-size=1280,800".into(),
            "--lang=en-US".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = json!({"binary": binary, "args": args});
        if let Some(dir) = downloads {
            options["prefs"] = json!({"download.default_directory": dir.to_string_lossy(),
                "download.prompt_for_download": false});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}});
        let v = self.request("POST", "/session", Some(&caps)).context("new chromium session")?;
        let id = v
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("new session: no sessionId in {v}"))?
            .to_string();
        Ok(Session { base: self.url.clone(), id, http: self.http.clone(), deleted: false })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The app (started by the driver) and WebKit's helpers share the
        // driver's process group unless they moved; take the tree first.
        let tree = crate::proctree::descendants(self.proc.pid());
        crate::signal_group(self.proc.pid(), "KILL");
        for pid in tree {
            crate::signal(pid, "KILL");
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        crate::signal_group(self.proc.pid(), "KILL");
    }
}

fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn request(http: &ureq::Agent, base: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
    let url = format!("{base}{path}");
    let resp = match method {
        "GET" => http.get(&url).call(),
        "DELETE" => http.delete(&url).call(),
        "POST" => http
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.cloned().unwrap_or_else(|| json!({})).to_string()),
        other => bail!("unsupported method {other}"),
    };
    let mut resp = resp.with_context(|| format!("{method} {url}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(512 * 1024 * 1024)
        .read_to_string()
        .with_context(|| format!("{method} {path}: reading the reply"))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: reply is not JSON: {text:.200}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if status >= 400 || value.get("error").is_some_and(Value::is_string) {
        let err = value.get("error").and_then(Value::as_str).unwrap_or("http error");
        let msg = value.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(WebDriverError { status, error: err.to_string(), message: msg.to_string() })
            .with_context(|| format!("{method} {path}"));
    }
    Ok(value)
}

/// An error the driver answered with (`no such element`, `javascript error`, ...).
#[derive(Debug)]
pub struct WebDriverError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebDriver {} ({}): {}", self.error, self.status, self.message)
    }
}

impl std::error::Error for WebDriverError {}

// ------------------------------------------------------------------ session

pub struct Session {
    base: String,
    pub id: String,
    http: ureq::Agent,
    deleted: bool,
}

/// A reference to an element of the page.
#[derive(Clone, Debug)]
pub struct Element {
    pub id: String,
}

impl Element {
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// The left / top / width / height of an element in CSS pixels.
#[derive(Clone, Copy, Debug)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        request(&self.http, &self.base, method, &format!("/session/{}{path}", self.id), body.as_ref())
    }

    pub fn delete(mut self) -> Result<()> {
        self.deleted = true;
        self.call("DELETE", "", None).map(|_| ())
    }

    pub fn set_timeouts(&self, script_ms: u64) -> Result<()> {
        self.call("POST", "/timeouts", Some(json!({"script": script_ms}))).map(|_| ())
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(json!({"url": url}))).map(|_| ())
    }

    pub fn title(&self) -> Result<String> {
        Ok(self.call("GET", "/title", None)?.as_str().unwrap_or_default().to_string())
    }

    pub fn set_window_rect(&self, width: u32, height: u32) -> Result<()> {
        self.call("POST", "/window/rect", Some(json!({"x": 0, "y": 0, "width": width, "height": height}))).map(|_| ())
    }

    /// The first element matching a CSS selector, now.
    pub fn find(&self, css: &str) -> Result<Element> {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})))?;
        element_of(&v).with_context(|| format!("find {css}"))
    }

    /// Every element matching a CSS selector, now.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let v = self.call("POST", "/elements", Some(json!({"using": "css selector", "value": css})))?;
        v.as_array().ok_or_else(|| anyhow!("find all {css}: not a list: {v}"))?.iter().map(element_of).collect()
    }

    /// The first element matching `css`, waiting up to `timeout` for it.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.find(css) {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("no element {css} within {timeout:?}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The element with `data-testid=id`, waiting up to 10 s for it.
    pub fn by_testid(&self, id: &str) -> Result<Element> {
        self.wait_for(&testid(id), Duration::from_secs(10))
    }

    /// Polls `f` until it returns `Some`, or fails after `timeout` saying `what`.
    pub fn wait_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut f: impl FnMut(&Session) -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut last_err = None;
        loop {
            match f(self) {
                Ok(Some(t)) => return Ok(t),
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
            if Instant::now() > deadline {
                let why = last_err.map(|e| format!(" (last error: {e:#})")).unwrap_or_default();
                bail!("timed out after {timeout:?} waiting for {what}{why}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, e: &Element) -> Result<()> {
        self.call("POST", &format!("/element/{}/click", e.id), None).map(|_| ())
    }

    pub fn clear(&self, e: &Element) -> Result<()> {
        self.call("POST", &format!("/element/{}/clear", e.id), None).map(|_| ())
    }

    /// Types `text` into the element (appends to what it holds).
    pub fn send_keys(&self, e: &Element, text: &str) -> Result<()> {
        self.call("POST", &format!("/element/{}/value", e.id), Some(json!({"text": text}))).map(|_| ())
    }

    /// Clears the field, then types `text`.
    pub fn fill(&self, e: &Element, text: &str) -> Result<()> {
        self.clear(e)?;
        if !text.is_empty() {
            self.send_keys(e, text)?;
        }
        Ok(())
    }

    /// Chooses `value` in a `<select>` and fires `input` + `change` the way a
    /// person's choice does (GTK's popup menu is not reliably drivable).
    pub fn select(&self, e: &Element, value: &str) -> Result<()> {
        let ok = self.execute(
            "const [el, v] = arguments;
             if (![...el.options].some(o => o.value === v)) return false;
             el.value = v;
             el.dispatchEvent(new Event('input', {bubbles: true}));
             el.dispatchEvent(new Event('change', {bubbles: true}));
             return true;",
            vec![e.to_json(), json!(value)],
        )?;
        if ok != Value::Bool(true) {
            bail!("the select has no option {value:?}");
        }
        Ok(())
    }

    pub fn text(&self, e: &Element) -> Result<String> {
        Ok(self.call("GET", &format!("/element/{}/text", e.id), None)?.as_str().unwrap_or_default().to_string())
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Result<Option<String>> {
        Ok(self.call("GET", &format!("/element/{}/attribute/{name}", e.id), None)?.as_str().map(str::to_string))
    }

    pub fn property(&self, e: &Element, name: &str) -> Result<Value> {
        self.call("GET", &format!("/element/{}/property/{name}", e.id), None)
    }

    pub fn is_displayed(&self, e: &Element) -> Result<bool> {
        Ok(self.call("GET", &format!("/element/{}/displayed", e.id), None)?.as_bool().unwrap_or(false))
    }

    pub fn rect(&self, e: &Element) -> Result<Rect> {
        let v = self.call("GET", &format!("/element/{}/rect", e.id), None)?;
        let f = |k: &str| v.get(k).and_then(Value::as_f64).ok_or_else(|| anyhow!("element rect without {k}: {v}"));
        Ok(Rect { x: f("x")?, y: f("y")?, width: f("width")?, height: f("height")? })
    }

    /// Runs `script` as a function body with `arguments` = `args`; returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Runs `script`; it finishes by calling `arguments[arguments.length - 1](result)`.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call("POST", "/execute/async", Some(json!({"script": script, "args": args})))
    }

    /// The text of the open `alert` / `confirm` dialog, if one is open.
    pub fn alert_text(&self) -> Result<Option<String>> {
        match self.call("GET", "/alert/text", None) {
            Ok(v) => Ok(Some(v.as_str().unwrap_or_default().to_string())),
            Err(e) if e.downcast_ref::<WebDriverError>().is_some_and(|w| w.error == "no such alert") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Presses OK on the open dialog.
    pub fn accept_alert(&self) -> Result<()> {
        self.call("POST", "/alert/accept", None).map(|_| ())
    }

    /// Waits until the page has painted two more frames.
    pub fn two_frames(&self) -> Result<()> {
        self.execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .map(|_| ())
    }

    /// A PNG of the window's viewport, after two animation frames.
    pub fn screenshot_png(&self) -> Result<Vec<u8>> {
        self.two_frames()?;
        let v = self.call("GET", "/screenshot", None)?;
        let b64 = v.as_str().ok_or_else(|| anyhow!("screenshot is not a string"))?;
        base64::engine::general_purpose::STANDARD.decode(b64).context("screenshot is not base64")
    }

    /// Writes [`Session::screenshot_png`] to `path` (creating its folder).
    pub fn save_screenshot(&self, path: &Path) -> Result<PathBuf> {
        let png = self.screenshot_png()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        std::fs::write(path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(path.to_path_buf())
    }

    /// Drags with the left button from `from` to `to`, both offsets in CSS
    /// pixels from the element's top-left corner, moving in `steps` steps.
    pub fn drag(&self, e: &Element, from: (f64, f64), to: (f64, f64), steps: u32) -> Result<()> {
        let r = self.rect(e)?;
        // Pointer offsets with an element origin are relative to its centre.
        let rel = |(x, y): (f64, f64)| ((x - r.width / 2.0).round() as i64, (y - r.height / 2.0).round() as i64);
        let (fx, fy) = rel(from);
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": e.to_json(), "x": fx, "y": fy}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        let steps = steps.max(1);
        for k in 1..=steps {
            let t = f64::from(k) / f64::from(steps);
            let p = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            let (x, y) = rel(p);
            actions.push(json!({"type": "pointerMove", "duration": 20, "origin": e.to_json(), "x": x, "y": y}));
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        let body = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                                       "actions": actions}]});
        self.call("POST", "/actions", Some(body))?;
        self.call("DELETE", "/actions", None).map(|_| ())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.deleted {
            let _ = self.call("DELETE", "", None);
        }
    }
}

fn element_of(v: &Value) -> Result<Element> {
    v.get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(|id| Element { id: id.to_string() })
        .ok_or_else(|| anyhow!("not an element reference: {v}"))
}

// ------------------------------------------------------------------ the app

/// The Tauri app in a real window: Xvfb, WebKitWebDriver, a session.
/// Fields drop in order: session first, then the driver's process group
/// (the app and WebKit's helpers), then the display.
pub struct Desktop {
    pub session: Session,
    pub driver: Driver,
    pub xvfb: Xvfb,
}

impl Desktop {
    /// Starts `binary args` under a new Xvfb display through WebKitWebDriver.
    pub fn launch(binary: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Desktop> {
        let xvfb = Xvfb::start()?;
        let driver = Driver::start(&xvfb.display, env)?;
        let session = driver.session(binary, args)?;
        Ok(Desktop { session, driver, xvfb })
    }

    /// The Meterdeck app as a person's desktop session runs it: its and
    /// WebKit's files under `home` (not the user's), LANG en_US.UTF-8
    /// (WebKit turns LANG=C.UTF-8, usual on CI machines, into
    /// navigator.language "C", which Intl rejects), and the session bus
    /// `bus` when given (desktop notifications, the keychain).
    pub fn launch_app(binary: &Path, args: &[String], home: &Path, bus: Option<&str>) -> Result<Desktop> {
        std::fs::create_dir_all(home)?;
        let xdg = |d: &str| home.join(d).to_string_lossy().into_owned();
        let (cfg, share, cache) = (xdg(".config"), xdg(".local/share"), xdg(".cache"));
        let mut env = vec![
            ("XDG_CONFIG_HOME", cfg.as_str()),
            ("XDG_DATA_HOME", share.as_str()),
            ("XDG_CACHE_HOME", cache.as_str()),
            ("LANG", "en_US.UTF-8"),
        ];
        if let Some(bus) = bus {
            env.push(("DBUS_SESSION_BUS_ADDRESS", bus));
        }
        let desk = Desktop::launch(binary, args, &env)?;
        let _ = desk.set_window_rect(1280, 800);
        Ok(desk)
    }

    /// Clicks the nav entry of `screen` and waits until it is shown.
    pub fn nav(&self, screen: &str) -> Result<()> {
        let b = self.by_testid(&format!("nav-{screen}"))?;
        self.click(&b)?;
        let root = self.by_testid(&format!("screen-{screen}"))?;
        self.wait_until(Duration::from_secs(5), &format!("screen-{screen} shown"), |s| {
            Ok(s.is_displayed(&root)?.then_some(()))
        })
    }

    /// Saves the window as `docs/screenshots/<name>.png` (after two
    /// animation frames, see `save_screenshot`).
    pub fn screenshot_doc(&self, name: &str) -> Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots").join(format!("{name}.png"));
        self.save_screenshot(&path)?;
        eprintln!("screenshot {}", path.display());
        Ok(())
    }

    /// Calls a Tauri command from the page (for facts a test checks
    /// against, never for the steps an operator takes).
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value> {
        let v = self.execute_async(
            "const [cmd, args, done] = arguments;
             window.__TAURI_INTERNALS__.invoke(cmd, args)
               .then(v => done({ok: v}), e => done({err: String(e)}));",
            vec![json!(cmd), args],
        )?;
        match (v.get("ok"), v.get("err")) {
            (Some(ok), _) => Ok(ok.clone()),
            (_, Some(err)) => bail!("{cmd}: {err}"),
            _ => bail!("{cmd}: unexpected reply {v}"),
        }
    }

    /// What the window showed when a test step failed: a screenshot in the
    /// temp dir named `meterdeck-<tag>-failed.png` and the page's start.
    pub fn failure_report(&self, tag: &str) -> String {
        let shot = std::env::temp_dir().join(format!("meterdeck-{tag}-failed.png"));
        let saved = self.save_screenshot(&shot).map(|p| p.display().to_string());
        let page = self
            .execute("return location.href + '\\n' + document.documentElement.outerHTML.slice(0, 3000)", vec![])
            .map(|v| v.as_str().unwrap_or_default().to_string());
        format!("screenshot: {saved:?}\npage: {page:?}")
    }

    /// Pids of the driver's descendants: the app and its WebKit processes.
    pub fn app_pids(&self) -> Vec<u32> {
        crate::proctree::descendants(self.driver.pid())
    }
}

impl std::ops::Deref for Desktop {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

/// The app under Xvfb on one simulated Hioki logger (`log`, channel
/// `CH1_1`, polled every second) in a throw-away data directory: the setup
/// of the window tests about one instrument. `name` names the agent and
/// the failure reports.
pub struct LoggerWindow {
    /// The simulator (`stop_sim` takes the logger offline).
    sim: std::cell::RefCell<Option<crate::Proc>>,
    /// The simulator's port.
    pub port: u16,
    /// The app's data directory (agent.toml, the store).
    pub data: PathBuf,
    pub desk: Desktop,
    name: String,
    _tmp: tempfile::TempDir,
}

impl LoggerWindow {
    pub fn start(name: &str) -> LoggerWindow {
        let (sim, ready) = crate::start_sim(&["--personality", "hioki-logger", "--channels", "2"], 1);
        let port = ready[0].port();
        let tmp = tempfile::tempdir().expect("temporary directory");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).expect("data directory");
        let toml = format!(
            "[agent]\nname = \"{name}\"\npoll_interval = \"1s\"\n\n[[instrument]]\nid = \"log\"\nname = \"Logger\"\n\
             family = \"hioki-logger\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port} }}\n\
             channel = [{{ id = \"CH1_1\" }}]\n"
        );
        std::fs::write(data.join("agent.toml"), toml).expect("agent.toml");
        let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
        let desk = Desktop::launch_app(&crate::bin("meterdeck"), &args, &tmp.path().join("home"), None)
            .expect("start the app under Xvfb + WebKitWebDriver");
        LoggerWindow { sim: std::cell::RefCell::new(Some(sim)), port, data, desk, name: name.to_string(), _tmp: tmp }
    }

    /// Stops the simulator: the logger goes offline.
    pub fn stop_sim(&self) {
        drop(self.sim.borrow_mut().take());
    }

    /// The data directory as the CLI's `--data-dir` takes it.
    pub fn data_arg(&self) -> String {
        self.data.to_string_lossy().into_owned()
    }

    /// Runs one step of the test; a failure panics naming the step, with the
    /// window's failure report (screenshot, console, DOM).
    pub fn step(&self, step: &str, f: &dyn Fn(&Desktop) -> Result<()>) {
        if let Err(e) = f(&self.desk) {
            panic!("step {step}: {e:#}\n{}", self.desk.failure_report(&format!("{}-{step}", self.name)));
        }
    }
}
