//! The desktop tests' WebDriver client against WebKitWebDriver and WebKit's
//! own MiniBrowser (shipped with libwebkit2gtk): elements, keys, selects,
//! scripts, a pointer drag, a PNG screenshot, and no process left behind.

use meterdeck_e2e::proctree;
use meterdeck_e2e::webdriver::{Desktop, testid};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

const PAGE: &str = r#"<!doctype html><html><body style="margin:0">
<button data-testid="b" onclick="this.textContent='clicked'">press</button>
<input data-testid="i" value="old">
<select data-testid="s"><option value="a">A</option><option value="z">Z</option></select>
<div data-testid="pad" data-x="1" style="width:400px;height:200px;background:#48c"></div>
<script>
document.querySelector('[data-testid=s]').addEventListener('change', e => document.body.dataset.sel = e.target.value);
const log = [];
const pad = document.querySelector('[data-testid=pad]');
for (const k of ['mousedown', 'mousemove', 'mouseup'])
  pad.addEventListener(k, e => log.push([k, e.offsetX, e.offsetY]));
window.padLog = log;
</script></body></html>"#;

#[test]
fn client_drives_a_real_webkit_window() {
    if !Path::new(MINIBROWSER).exists() {
        panic!("{MINIBROWSER} is missing: install libwebkit2gtk-4.1-0 (and webkit2gtk-driver, xvfb)");
    }
    let desk = Desktop::launch(Path::new(MINIBROWSER), &["--automation".to_string()], &[]).unwrap();
    let url = format!("data:text/html;charset=utf-8,{}", PAGE.replace('%', "%25").replace('#', "%23"));
    desk.goto(&url).unwrap();

    let b = desk.by_testid("b").unwrap();
    desk.click(&b).unwrap();
    assert_eq!(desk.text(&b).unwrap(), "clicked");

    let i = desk.by_testid("i").unwrap();
    desk.fill(&i, "hello 日本").unwrap();
    assert_eq!(desk.property(&i, "value").unwrap(), "hello 日本");

    let s = desk.by_testid("s").unwrap();
    desk.select(&s, "z").unwrap();
    assert!(desk.select(&s, "nope").is_err());
    assert_eq!(desk.execute("return document.body.dataset.sel", vec![]).unwrap(), "z");

    let pad = desk.find(&testid("pad")).unwrap();
    assert_eq!(desk.attribute(&pad, "data-x").unwrap().as_deref(), Some("1"));
    assert_eq!(desk.attribute(&pad, "data-none").unwrap(), None);
    let r = desk.rect(&pad).unwrap();
    assert_eq!((r.width, r.height), (400.0, 200.0));
    desk.drag(&pad, (50.0, 100.0), (250.0, 120.0), 5).unwrap();
    let log = desk.execute("return window.padLog", vec![]).unwrap();
    let log = log.as_array().unwrap();
    let presses: Vec<&Value> = log.iter().filter(|e| e[0] != "mousemove").collect();
    assert_eq!(presses.len(), 2, "{log:?}");
    let at = |e: &Value| (e[0].as_str().unwrap().to_string(), e[1].as_f64().unwrap(), e[2].as_f64().unwrap());
    assert_eq!(at(presses[0]), ("mousedown".into(), 50.0, 100.0), "{log:?}");
    assert_eq!(at(presses[1]), ("mouseup".into(), 250.0, 120.0), "{log:?}");
    let down = log.iter().position(|e| e[0] == "mousedown").unwrap();
    assert!(log[down..].iter().filter(|e| e[0] == "mousemove").count() >= 2, "moves while pressed: {log:?}");

    let slept = desk
        .execute_async(
            "const d = arguments[arguments.length - 1]; setTimeout(() => d(arguments[0] + 1), 50)",
            vec![41.into()],
        )
        .unwrap();
    assert_eq!(slept, 42);
    assert!(desk.execute("throw new Error('boom')", vec![]).is_err());
    assert!(desk.find("[data-testid=missing]").is_err());
    assert!(desk.wait_for("[data-testid=missing]", Duration::from_millis(200)).is_err());

    let png = desk.screenshot_png().unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let pids = desk.app_pids();
    assert!(pids.iter().any(|p| proctree::comm(*p).as_deref() == Some("MiniBrowser")), "{pids:?}");
    drop(desk);
    std::thread::sleep(Duration::from_millis(300));
    let alive: Vec<_> = pids.iter().filter(|p| proctree::rss_kib(**p).is_some()).collect();
    assert!(alive.is_empty(), "processes left after drop: {alive:?}");
}
