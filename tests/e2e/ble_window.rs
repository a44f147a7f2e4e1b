//! The Bluetooth LE part of the discovery panel in the real window (Xvfb +
//! WebKitWebDriver), against the BlueZ stand-in (tests/peers/bluez_peer.py)
//! as the app's system bus: a scan lists the sensor with its name,
//! address, RSSI (as the stand-in advertises it), services and fitting family, and one click on "Add" opens
//! the form filled in (family, BLE transport, device name); saved, it is an
//! instrument. Screenshot: docs/screenshots/ble-discovery.png.
//!
//! Needs the app built: `cd ui && npm run build`, then `cargo build -p meterdeck --bins`.

use std::time::Duration;

use anyhow::{Result, ensure};
use meterdeck_e2e::bin;
use meterdeck_e2e::bluez::BluezPeer;
use meterdeck_e2e::webdriver::{Desktop, testid};
use serde_json::json;

#[test]
fn a_ble_scan_lists_the_sensor_and_one_click_adds_it() {
    let mut peer = BluezPeer::start();
    peer.call(json!({
        "cmd": "add_ess", "name": "ENV-1", "address": "C0:FF:EE:00:00:01",
        "temperature": 21.5, "humidity": 45.25, "battery": 87, "notify": ["temperature"],
    }));
    peer.call(json!({"cmd": "add_uart", "name": "BT-METER", "address": "C0:FF:EE:00:00:02", "rssi": -74}));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("agent.toml"), "[agent]\nname = \"ble-window\"\n").unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let xdg = |d: &str| home.join(d).to_string_lossy().into_owned();
    let (cfg, share, cache) = (xdg(".config"), xdg(".local/share"), xdg(".cache"));
    let env = [
        ("XDG_CONFIG_HOME", cfg.as_str()),
        ("XDG_DATA_HOME", share.as_str()),
        ("XDG_CACHE_HOME", cache.as_str()),
        ("LANG", "en_US.UTF-8"),
        ("DBUS_SYSTEM_BUS_ADDRESS", peer.bus.as_str()),
    ];
    let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch(&bin("meterdeck"), &args, &env).expect("start the app under Xvfb + WebKitWebDriver");
    let _ = desk.set_window_rect(1280, 800);
    let run = |name: &str, f: &dyn Fn(&Desktop) -> Result<()>| {
        if let Err(e) = f(&desk) {
            let _ = desk.save_screenshot(&std::env::temp_dir().join(format!("ble-window-{name}.png")));
            panic!("step {name}: {e:#}");
        }
    };
    run("ready", &|d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ()));
    run("scan", &|d| {
        d.nav("instruments")?;
        d.click(&d.by_testid("ble-scan")?)?;
        let row = d.wait_for(
            &format!("{}[data-address=\"C0:FF:EE:00:00:01\"]", testid("ble-result")),
            Duration::from_secs(20),
        )?;
        let text = d.text(&row)?;
        for want in ["ENV-1", "C0:FF:EE:00:00:01", "Bluetooth LE environmental sensor", "0x181A", "0x180F"] {
            ensure!(text.contains(want), "the row shows {want:?}: {text:?}");
        }
        // The signal strength the stand-in advertises (its RSSI property), as the CLI shows it,
        // and visible (WebDriver's text is what is rendered: a squeezed item reads empty).
        let rssi = |address: &str| -> Result<String> {
            let sel = format!("{}[data-address=\"{address}\"] [data-testid=ble-rssi]", testid("ble-result"));
            d.text(&d.find(&sel)?)
        };
        ensure!(rssi("C0:FF:EE:00:00:01")? == "-60 dBm", "ENV-1's RSSI: {:?}", rssi("C0:FF:EE:00:00:01")?);
        let meter = d.find(&format!("{}[data-address=\"C0:FF:EE:00:00:02\"]", testid("ble-result")))?;
        let text = d.text(&meter)?;
        ensure!(text.contains("BT-METER") && text.contains("Nordic UART"), "the UART bridge row: {text:?}");
        ensure!(rssi("C0:FF:EE:00:00:02")? == "-74 dBm", "BT-METER's RSSI: {:?}", rssi("C0:FF:EE:00:00:02")?);
        d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![row.to_json()])?;
        d.screenshot_doc("ble-discovery")
    });
    run("add", &|d| {
        let add =
            d.find(&format!("{}[data-address=\"C0:FF:EE:00:00:01\"] [data-testid=ble-add]", testid("ble-result")))?;
        d.click(&add)?;
        let family = d.wait_for(&testid("inst-family"), Duration::from_secs(5))?;
        ensure!(d.property(&family, "value")? == json!("ble-ess"), "family preset");
        ensure!(d.property(&d.by_testid("inst-transport")?, "value")? == json!("ble"), "transport preset");
        ensure!(d.property(&d.by_testid("inst-ble-device")?, "value")? == json!("ENV-1"), "device preset");
        d.fill(&d.by_testid("inst-id")?, "env")?;
        d.click(&d.by_testid("inst-save")?)?;
        d.wait_for("[data-testid=instrument-row][data-id=\"env\"]", Duration::from_secs(15)).map(|_| ())
    });
    let saved = std::fs::read_to_string(data.join("agent.toml")).unwrap();
    assert!(saved.contains("family = \"ble-ess\"") && saved.contains("device = \"ENV-1\""), "{saved}");
}
