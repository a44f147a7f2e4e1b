//! The receiving side of notifications, as real parts: a private D-Bus
//! session bus (dbus-daemon) with python-dbusmock's notification_daemon,
//! gnome-keyring as the OS keychain, and the Python peers (aiosmtpd SMTP
//! server, HTTP webhook server) printing what they received. Shared by
//! notify_destinations (the dispatcher alone) and alarms_window (the app).

use crate::{Proc, peer_script, python, wait_until};
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child that is killed and reaped on drop (for ones that need stdin).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private session bus; nothing on it is started by activation, so every
/// process on it is one the test started.
pub struct Session {
    dir: tempfile::TempDir,
    pub address: String,
    // Dropped in reverse order of start: clients first, the bus last.
    procs: Vec<Proc>,
    keyring: Option<Killed>,
    bus: Option<Proc>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.keyring.take();
        self.procs.clear();
        self.bus.take();
    }
}

impl Session {
    pub fn start() -> Session {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"]),
        );
        let address = bus.wait_line("unix:", Duration::from_secs(10)).trim().to_string();
        Session { dir, address, procs: Vec::new(), keyring: None, bus: Some(bus) }
    }

    /// A file name in the session's own temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to [`Session::path`]`(name)`; returns the path as text.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    pub fn wait_name(&self, name: &str) {
        wait_until(Duration::from_secs(15), &format!("{name} on the session bus"), || {
            let out = Command::new("dbus-send")
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .output()
                .expect("dbus-send (Debian package dbus-bin)");
            String::from_utf8_lossy(&out.stdout).contains("boolean true")
        });
    }

    /// python-dbusmock's notification_daemon template.
    pub fn start_notification_daemon(&mut self) {
        let p = Proc::spawn(
            "dbusmock",
            Command::new(python())
                .args(["-m", "dbusmock", "--template", "notification_daemon"])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address),
        );
        self.procs.push(p);
        self.wait_name("org.freedesktop.Notifications");
    }

    /// The `Notify` calls the notification daemon received so far:
    /// `[{app_name, replaces_id, icon, summary, body, actions, hints, timeout}]`.
    pub fn notify_calls(&self) -> anyhow::Result<Vec<Value>> {
        let out = Command::new(python())
            .arg(peer_script("dbusmock_calls.py"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()?;
        let calls: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| anyhow::anyhow!("dbusmock_calls.py: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
        match calls {
            Value::Array(a) => Ok(a),
            other => anyhow::bail!("dbusmock_calls.py printed {other} instead of a list"),
        }
    }

    /// gnome-keyring's Secret Service, its login keyring unlocked with a
    /// password on stdin, kept under this session's temp dir.
    pub fn start_keyring(&mut self) {
        let home = self.path("home");
        let runtime = self.path("run");
        std::fs::create_dir_all(home.join(".local/share")).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut child = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring; scripts/test installs it)");
        {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"test-keyring-password").unwrap();
        }
        self.keyring = Some(Killed(child));
        self.wait_name("org.freedesktop.secrets");
    }

    /// A Python peer printing `READY <port>`; returns (its index, port).
    pub fn start_peer(&mut self, script: &str, args: &[&str]) -> (usize, u16) {
        let mut p = Proc::spawn(script, Command::new(python()).arg(peer_script(script)).args(args));
        let port = p.wait_line("READY ", Duration::from_secs(20))[6..].trim().parse().unwrap();
        self.procs.push(p);
        (self.procs.len() - 1, port)
    }

    /// Lines starting with `tag ` the peer printed so far, parsed as JSON
    /// (does not wait).
    pub fn peer_json_now(&mut self, peer: usize, tag: &str) -> anyhow::Result<Vec<Value>> {
        let prefix = format!("{tag} ");
        let p = &mut self.procs[peer];
        p.drain();
        p.seen
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|j| serde_json::from_str(j).map_err(|e| anyhow::anyhow!("{}: bad {tag} line {j:?}: {e}", p.name)))
            .collect()
    }

    /// Lines starting with `tag ` a peer printed until `n` arrived (20 s at
    /// most), parsed as JSON.
    pub fn peer_json(&mut self, peer: usize, tag: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.peer_json_now(peer, tag).unwrap();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "{}: {n} {tag} lines expected, got {got:?}", self.procs[peer].name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A test CA and a server certificate for 127.0.0.1/localhost signed by
    /// it; a client trusts the CA through SSL_CERT_FILE = path("cert.pem")
    /// (read by rustls' platform verifier on Linux). Returns (server cert,
    /// server key).
    pub fn make_cert(&self) -> (String, String) {
        let p = |n: &str| self.path(n).display().to_string();
        let leaf_ext = self.write("leaf.ext", "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
        let steps: [Vec<String>; 3] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Meterdeck test CA"]
                .iter()
                .map(|s| s.to_string())
                .chain(["-keyout".into(), p("ca.key"), "-out".into(), p("cert.pem")])
                .collect(),
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"]
                .iter()
                .map(|s| s.to_string())
                .chain(["-keyout".into(), p("server.key"), "-out".into(), p("server.csr")])
                .collect(),
            ["x509", "-req", "-days", "2", "-CAcreateserial"]
                .iter()
                .map(|s| s.to_string())
                .chain(["-in".into(), p("server.csr"), "-CA".into(), p("cert.pem"), "-CAkey".into(), p("ca.key")])
                .chain(["-extfile".into(), leaf_ext, "-out".into(), p("server.pem")])
                .collect(),
        ];
        for args in steps {
            let out = Command::new("openssl").args(&args).stdin(Stdio::null()).output().expect("openssl");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        (p("server.pem"), p("server.key"))
    }
}
