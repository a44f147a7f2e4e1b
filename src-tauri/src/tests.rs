//! The commands through Tauri's IPC on the mock runtime (no display): the
//! argument names (camelCase in JS), the JSON shapes and the error strings.

use meterdeck_core::agent::AgentOptions;
use std::sync::Arc;

use meterdeck_core::cloudlink::{CloudLink, MemoryPrefs};
use meterdeck_core::desk::Desk;
use meterdeck_core::notify::MemorySecrets;
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _dir: tempfile::TempDir,
    desk: Arc<Desk>,
    _app: App<tauri::test::MockRuntime>,
    webview: WebviewWindow<tauri::test::MockRuntime>,
}

impl Harness {
    fn demo() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let cfg = dir.path().join("agent.toml");
        // An hour of demo history: a week takes seconds in a debug build.
        let opts = AgentOptions { demo_history: std::time::Duration::from_secs(3600), ..AgentOptions::default() };
        let desk = Arc::new(tauri::async_runtime::block_on(Desk::open_with(&data, &cfg, true, opts)).unwrap());
        let link = CloudLink::new(Arc::new(MemorySecrets::new()), Arc::new(MemoryPrefs::default())).unwrap();
        let app = crate::contract::register(mock_builder())
            .manage(desk.clone())
            .manage(Arc::new(link))
            .manage(crate::startup::DeskReady::open())
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        Harness { _dir: dir, desk, _app: app, webview }
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, String> {
        let res = get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        );
        match res {
            Ok(body) => Ok(body.deserialize::<Value>().unwrap()),
            Err(e) => Err(e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string())),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = tauri::async_runtime::block_on(self.desk.shutdown());
    }
}

#[test]
fn app_state_and_settings_round_trip() {
    let h = Harness::demo();
    let s = h.call("app_state", json!({})).unwrap();
    assert_eq!(s["demo"], true);
    assert!(s["dataDir"].as_str().unwrap().ends_with("data"));
    assert!(s["configPath"].as_str().unwrap().ends_with("agent.toml"));
    assert_eq!(s["settings"]["language"], "en");
    let new = json!({"language": "ja", "timezone": "Asia/Tokyo", "theme": "dark"});
    h.call("save_settings", json!({ "settings": new })).unwrap();
    assert_eq!(h.call("app_state", json!({})).unwrap()["settings"], new);
    let err = h
        .call("save_settings", json!({"settings": {"language": "fr", "timezone": "UTC", "theme": "dark"}}))
        .unwrap_err();
    assert!(err.contains("language"), "{err}");
}

#[test]
fn instruments_are_listed_saved_and_rejected_with_reasons() {
    let h = Harness::demo();
    let list = h.call("list_instruments", json!({})).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    for key in ["config", "state", "reason", "lastPoll", "identity", "compatWarning", "fastUntil", "pollIntervalS"] {
        assert!(list[0].get(key).is_some(), "missing {key}");
    }
    let mut cfg = list.iter().find(|v| v["config"]["id"] == "scpi-1").unwrap()["config"].clone();
    cfg["id"] = json!("dmm2");
    let saved = h.call("save_instrument", json!({"config": cfg.clone(), "replaceId": null})).unwrap();
    assert_eq!(saved["config"]["id"], "dmm2");
    cfg["poll_interval"] = json!("50ms");
    let err = h.call("save_instrument", json!({"config": cfg, "replaceId": "dmm2"})).unwrap_err();
    assert!(err.contains("poll_interval"), "{err}");
    h.call("remove_instrument", json!({"id": "dmm2"})).unwrap();
    let err = h.call("remove_instrument", json!({"id": "dmm2"})).unwrap_err();
    assert!(err.contains("no instrument `dmm2`"), "{err}");
    let err = h.call("identify", json!({"id": "ghost"})).unwrap_err();
    assert!(err.contains("ghost"), "{err}");
}

#[test]
fn console_tells_the_second_operator_who_holds_it() {
    let h = Harness::demo();
    h.call("console_acquire", json!({"instrument": "scpi-1", "operator": "alice"})).unwrap();
    let err = h.call("console_acquire", json!({"instrument": "scpi-1", "operator": "bob"})).unwrap_err();
    assert!(err.starts_with("held by alice since"), "{err}");
    h.call("console_release", json!({"instrument": "scpi-1", "operator": "alice"})).unwrap();
    h.call("console_acquire", json!({"instrument": "scpi-1", "operator": "bob"})).unwrap();
}

#[test]
fn data_queries_take_camel_case_arguments() {
    let h = Harness::demo();
    assert!(h.call("channels", json!({})).unwrap().is_array());
    assert!(h.call("latest", json!({})).unwrap().is_array());
    let series = h.call("series", json!({"channelIds": [], "from": 0, "to": 1000, "width": 100})).unwrap();
    assert_eq!(series, json!([]));
    let err = h.call("series", json!({"channelIds": [], "from": 10, "to": 10, "width": 100})).unwrap_err();
    assert!(err.contains("empty time range"), "{err}");
    let err = h.call("table", json!({"channelIds": [999999], "from": 0, "to": 10, "limit": 10})).unwrap_err();
    assert!(err.contains("999999"), "{err}");
    let ev = h.call("events", json!({"instrument": null, "kind": "agent-started", "limit": 5})).unwrap();
    assert!(!ev.as_array().unwrap().is_empty());
    let err = h.call("export", json!({"channelIds": [], "from": 0, "to": 10, "path": "x.txt"})).unwrap_err();
    assert!(err.contains("absolute"), "{err}");
    let err = h.call("discover_lan", json!({"hosts": "not a host", "ports": [], "timeoutMs": 100})).unwrap_err();
    assert!(err.contains("not a host"), "{err}");
    let err = h.call("probe_serial", json!({"paths": [], "baud": 9600})).unwrap_err();
    assert!(err.contains("serial port"), "{err}");
    assert!(h.call("list_serial_ports", json!({})).is_ok());
}

#[test]
fn cloud_commands_answer_before_sign_in_and_name_bad_input() {
    let h = Harness::demo();
    let st = h.call("cloud_status", json!({})).unwrap();
    assert_eq!(st["signed_in"], false);
    assert_eq!(st["step"], Value::Null);
    let err = h.call("cloud_agents", json!({})).unwrap_err();
    assert!(err.contains("sign in first"), "{err}");
    let err =
        h.call("cloud_sign_in", json!({"url": "ftp://x", "account": "a", "user": "u", "password": "p"})).unwrap_err();
    assert!(err.contains("https://"), "{err}");
    let err = h.call("cloud_code", json!({"code": "123456"})).unwrap_err();
    assert!(err.contains("no sign-in is waiting"), "{err}");
    let err = h.call("cloud_series", json!({"channel": "7", "from": 10, "to": 10, "buckets": 100})).unwrap_err();
    assert!(err.contains("empty time range"), "{err}");
    let sync = h.call("sync_status", json!({})).unwrap();
    for key in [
        "enabled",
        "connected",
        "backlog_samples",
        "backlog_batches",
        "last_ack_ms",
        "month",
        "month_bytes",
        "allowance_bytes",
        "traffic_warning",
    ] {
        assert!(sync.get(key).is_some(), "missing {key}");
    }
}

/// Every command of the contract table answers under its own name with its
/// own argument struct (a payload that is no object stops before the body).
#[test]
fn every_contract_command_is_wired_to_its_own_arguments() {
    struct Names(Vec<&'static str>);
    impl crate::contract::Visit for Names {
        fn command<C: crate::contract::Command>(&mut self) {
            self.0.push(C::NAME);
        }
        fn event<P: serde::Serialize + ts_rs::TS + 'static>(&mut self, _: &'static str) {}
    }
    let mut names = Names(Vec::new());
    crate::contract::visit_commands(&mut names);
    assert!(names.0.len() >= 50, "{:?}", names.0);
    let h = Harness::demo();
    for name in names.0 {
        let err = h.call(name, json!(42)).unwrap_err();
        assert!(
            err.starts_with(&format!("invalid args for command `{name}`: invalid type: integer `42`")),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_bad_argument_is_named() {
    let h = Harness::demo();
    let err =
        h.call("alarm_shelve", json!({"alarmId": "a", "minutes": "ten", "user": "ann", "comment": null})).unwrap_err();
    assert!(err.starts_with("invalid args `minutes` for command `alarm_shelve`: invalid type: string"), "{err}");
    let err = h.call("identify", json!({})).unwrap_err();
    assert!(err.contains("missing field `id`"), "{err}");
}

/// The checks the alarm screens ask while the user types are the engine's
/// (the browser mock keeps no copy): each refusal names its field.
#[test]
fn rule_calc_and_destination_checks_name_the_field() {
    let h = Harness::demo();
    let ok = json!({"id": "hot", "kind": "threshold", "channel": "scpi-1/VDC", "op": ">", "value": 5});
    assert_eq!(h.call("rule_check", json!({ "rule": ok })).unwrap(), Value::Null);
    let bad = json!({"id": "hot", "kind": "threshold", "channel": "scpi-1/VDC", "op": ">", "value": "five"});
    let e = h.call("rule_check", json!({ "rule": bad })).unwrap();
    assert_eq!(e["field"], "alarm[hot].value", "{e}");
    let range =
        json!({"id": "band", "kind": "threshold", "channel": "scpi-1/VDC", "op": "outside_incl", "low": 5, "high": 1});
    assert_eq!(h.call("rule_check", json!({ "rule": range })).unwrap()["field"], "alarm[band].high");
    let window = json!({"id": "w", "kind": "connection", "window": {"days": ["mon"], "from": "25:00"}});
    assert_eq!(h.call("rule_check", json!({ "rule": window })).unwrap()["field"], "alarm[w].window.from");

    let calc = json!({"id": "c", "expr": "A + * 2", "inputs": {"A": "scpi-1/VDC"}});
    let e = h.call("calc_check", json!({ "calc": calc })).unwrap();
    assert!(e["field"].as_str().unwrap().ends_with("expr"), "{e}");
    assert_eq!(e["position"], 5, "{e}");

    let dest = json!({"id": "m", "kind": "email", "to": ["ops@example.com"]});
    let err = h.call("destination_save", json!({ "destination": dest })).unwrap_err();
    let e: Value = serde_json::from_str(&err).unwrap();
    assert!(e["field"].as_str().unwrap().contains("host"), "{err}");
}

/// The families the window offers (the `families` command, which the
/// Instruments screen builds its family list and form from) are the
/// registry's, in its order and with its fields; and the browser mock's
/// fixture (`ui/src/fixtures/families.json`) is this very answer, so the UI
/// tests check its translation keys. `MD_UPDATE_FIXTURES=1` rewrites it.
#[test]
fn the_window_offers_the_registrys_families() {
    let h = Harness::demo();
    let got = h.call("families", json!({})).unwrap();
    let offered = got.as_array().expect("a list of families");
    let registry = meterdeck_drivers::Family::all();
    assert_eq!(offered.len(), registry.len());
    for (o, f) in offered.iter().zip(registry) {
        assert_eq!(o["id"], f.id());
        assert_eq!(o["nameKey"], f.name_key);
        assert_eq!(o["defaultPort"], json!(f.default_port()));
        let transports: Vec<&str> = f.transports.iter().map(|t| t.name()).collect();
        assert_eq!(o["transports"], json!(transports), "{}", f.id());
        assert_eq!(o["discoveryPorts"], json!(f.discovery.ports), "{}", f.id());
        for (list, fields) in [("channelFields", f.channel_fields), ("instrumentFields", f.instrument_fields)] {
            let keys: Vec<&str> = fields.iter().map(|s| s.key).collect();
            let shown: Vec<&str> = o[list].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
            assert_eq!(shown, keys, "{} {list}", f.id());
            for (s, spec) in o[list].as_array().unwrap().iter().zip(fields) {
                assert_eq!(s["labelKey"], spec.label_key);
                assert_eq!(s["required"], spec.required);
                assert!(s["kind"]["type"].is_string(), "{s}");
            }
        }
    }
    // Every saved instrument's family is one the window offers.
    let list = h.call("list_instruments", json!({})).unwrap();
    for v in list.as_array().unwrap() {
        assert!(offered.iter().any(|o| o["id"] == v["config"]["family"]), "{}", v["config"]["family"]);
    }

    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/fixtures/families.json");
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("MD_UPDATE_FIXTURES").is_some_and(|v| v == "1") {
        std::fs::write(&fixture, &text).unwrap();
    }
    let stored = std::fs::read_to_string(&fixture).unwrap_or_default();
    assert!(stored == text, "{} is not the `families` answer; regenerate it: scripts/gen-bindings", fixture.display());
}

impl Harness {
    /// The reply's body as sent, for binary commands.
    fn call_body(&self, cmd: &str, args: Value) -> Result<tauri::ipc::InvokeResponseBody, String> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map_err(|e| e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string()))
    }
}

/// The Viewer's frame goes out as raw bytes (an `ArrayBuffer` in the web
/// view), holding the same numbers as the JSON `series`; bad arguments are
/// refused with core's message.
#[test]
fn series_frame_is_raw_bytes_with_the_series_numbers() {
    let h = Harness::demo();
    let channels = h.call("channels", json!({})).unwrap();
    let id = channels[0]["id"].as_i64().unwrap();
    let to = meterdeck_core::model::now_ms();
    let args = json!({"channelIds": [id], "from": to - 3_600_000, "to": to, "width": 300});
    let json_series = h.call("series", args.clone()).unwrap();
    let tauri::ipc::InvokeResponseBody::Raw(b) = h.call_body("series_frame", args).unwrap() else {
        panic!("series_frame answered JSON");
    };
    assert_eq!(&b[..4], b"MDSF");
    assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 1);
    assert_eq!(i64::from_le_bytes(b[16..24].try_into().unwrap()), id);
    let n = u32::from_le_bytes(b[28..32].try_into().unwrap()) as usize;
    let t = json_series[0]["t"].as_array().unwrap();
    assert_eq!(n, t.len());
    assert!(n > 100, "an hour of demo history has samples: {n}");
    let f = |at: usize| f64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    assert_eq!(f(32 + 8 * (n - 1)), t[n - 1].as_f64().unwrap());
    let (want, got) = (json_series[0]["min"][0].as_f64(), f(32 + 8 * n));
    assert!(want.map_or(got.is_nan(), |w| w == got), "first min: {want:?} vs {got}");
    let err = h.call("series_frame", json!({"channelIds": [id], "from": 10, "to": 10, "width": 100})).unwrap_err();
    assert!(err.contains("empty time range"), "{err}");
    let err = h.call("series_frame", json!({"channelIds": [id], "from": 0, "to": 10})).unwrap_err();
    assert!(err.contains("width"), "{err}");
}

#[test]
fn start_view_holds_the_first_screen() {
    let h = Harness::demo();
    let v = h.call("start_view", json!({})).unwrap();
    assert_eq!(v["state"]["demo"], true);
    assert!(!v["instruments"].as_array().unwrap().is_empty());
    assert_eq!(v["hasBoards"], false);
    assert!(!v["latest"].as_array().unwrap().is_empty(), "the demo's history gives latest values at once");
}
