//! The BlueZ stand-in (tests/peers/bluez_peer.py): a private D-Bus bus with
//! org.bluez on it (python-dbusmock's bluez5 template + GATT objects), and
//! its JSON-lines control socket. The agent reaches it through
//! `DBUS_SYSTEM_BUS_ADDRESS`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{peer_script, python};

pub struct BluezPeer {
    child: Child,
    /// Held open: the peer (and its dbus-daemon) stops when it closes.
    stdin: Option<ChildStdin>,
    /// The bus address to give the agent as `DBUS_SYSTEM_BUS_ADDRESS`.
    pub bus: String,
    control: BufReader<TcpStream>,
}

impl BluezPeer {
    pub fn start() -> BluezPeer {
        let mut child = Command::new(python())
            .arg(peer_script("bluez_peer.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("MD_TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("start bluez_peer.py");
        let stdin = child.stdin.take();
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut first)
            .expect("bluez_peer.py ready line");
        let ready: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("bluez_peer.py said {first:?}: {e}"));
        let bus = ready["bus"].as_str().expect("bus address").to_string();
        let port = ready["control"].as_u64().expect("control port") as u16;
        let control = BufReader::new(TcpStream::connect(("127.0.0.1", port)).expect("control socket"));
        BluezPeer { child, stdin, bus, control }
    }

    /// One control command; panics on a refusal (the test's own mistake).
    pub fn call(&mut self, request: Value) -> Value {
        let stream = self.control.get_mut();
        writeln!(stream, "{request}").expect("send to bluez_peer.py");
        let mut line = String::new();
        self.control.read_line(&mut line).expect("reply from bluez_peer.py");
        let reply: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("bluez_peer.py replied {line:?}: {e}"));
        assert_eq!(reply["ok"], json!(true), "bluez_peer.py refused {request}: {reply}");
        reply
    }

    /// `cmd` with the agent's view of the bus.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus);
    }
}

impl Drop for BluezPeer {
    fn drop(&mut self) {
        // Closing stdin lets it stop its dbus-daemon; kill it if it does not go.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
