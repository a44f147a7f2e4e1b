//! The instruments' FTP side, as the file tests use it: pyftpdlib serving a
//! folder (tests/peers/ftp_peer.py) and the agent's FTP password set in the
//! keychain of a private session bus.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::notify_peers::Session;
use crate::{Proc, agent, peer_script, python};

/// pyftpdlib serving `root` on `port` (0: any) with the login's `password`
/// and `extra` arguments (`--checksums`, `--rate N`); returns it and its port.
pub fn start_ftp(root: &Path, port: u16, password: &str, extra: &[&str]) -> (Proc, u16) {
    let mut cmd = Command::new(python());
    cmd.arg(peer_script("ftp_peer.py"))
        .args(["--root", root.to_str().unwrap(), "--port", &port.to_string(), "--password", password, "--quiet"])
        .args(extra);
    let mut p = Proc::spawn("ftp_peer", &mut cmd);
    let line = p.wait_line("READY ", Duration::from_secs(20));
    let port = line.rsplit(':').next().unwrap().trim().parse().unwrap();
    (p, port)
}

/// `meterdeck-agent` on the test's private bus (its keychain).
pub fn agent_on(bus: &Session, args: &[&str]) -> Command {
    let mut c = agent(args);
    c.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    c
}

/// `meterdeck-agent files password <instrument>`, the password on stdin.
pub fn set_ftp_password(bus: &Session, instrument: &str, password: &str) {
    let mut child = agent_on(bus, &["files", "password", instrument])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "files password: {}", String::from_utf8_lossy(&out.stderr));
}
