//! The cloud builds without the agent's hardware and desktop stack: its
//! dependency tree (from `cargo tree`, as the workspace resolves it) holds
//! no serial ports, Modbus, desktop notifications, keychain or D-Bus, no
//! meterdeck-core or meterdeck-drivers, and no `-sys` crate that links
//! libudev or libdbus, so `cargo build -p meterdeck-cloud` needs neither
//! libudev-dev nor libdbus-1-dev. What it shares with the agent comes from
//! meterdeck-wire.

use std::path::Path;
use std::process::Command;

/// Crates that must never be in the cloud's normal dependencies.
const FORBIDDEN: [&str; 9] = [
    "serialport",
    "tokio-serial",
    "tokio-modbus",
    "notify-rust",
    "keyring",
    "zbus",
    "libudev",
    "meterdeck-core",
    "meterdeck-drivers",
];

/// The crate names `cargo tree -p meterdeck-cloud -e EDGES --prefix none` lists.
fn tree(edges: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let out = Command::new(cargo)
        .args(["tree", "-p", "meterdeck-cloud", "-e", edges, "--prefix", "none", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("cargo tree prints UTF-8");
    let mut names: Vec<String> = text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_cloud_depends_on_wire_and_not_on_the_agent_stack() {
    let names = tree("normal");
    // The listing is what we think it is (else an empty output would pass).
    for expected in ["meterdeck-cloud", "meterdeck-wire", "tokio", "rumqttc"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from the cloud's tree: {names:?}");
    }
    let found: Vec<&String> = names.iter().filter(|n| FORBIDDEN.contains(&n.as_str())).collect();
    assert!(
        found.is_empty(),
        "the cloud's normal dependencies include {found:?}; it must depend on meterdeck-wire only"
    );
}

#[test]
fn no_sys_crate_links_udev_or_dbus() {
    // Build scripts count too: a -sys crate probes pkg-config at build time.
    let names = tree("normal,build");
    let sys: Vec<&String> = names.iter().filter(|n| n.ends_with("-sys") || n.starts_with("libudev")).collect();
    assert!(!sys.is_empty(), "expected some -sys crates (SQLite, aws-lc): {names:?}");
    let system_libs: Vec<&&String> =
        sys.iter().filter(|n| n.contains("udev") || n.contains("dbus") || n.contains("systemd")).collect();
    assert!(
        system_libs.is_empty(),
        "{system_libs:?} in the cloud's build would need libudev-dev or libdbus-1-dev; all -sys crates: {sys:?}"
    );
}
