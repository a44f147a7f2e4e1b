//! Shared plumbing for the end-to-end tests: find the workspace binaries,
//! run child processes that are always stopped (kill on drop), wait for
//! their `READY` lines, socat pty pairs, and the Python peers' venv.

pub mod bluez;
pub mod cloud;
pub mod ftp;
pub mod licence;
pub mod link;
pub mod notify_peers;
pub mod portal;
pub mod proctree;
pub mod site;
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Path of a binary built from this workspace (`cargo build --workspace --bins`
/// puts them beside the test executables' `deps/` folder). `MD_BIN_DIR`
/// points elsewhere: a copy of the binaries of one checkout, for several
/// checkouts that share a target dir (the last build there wins).
pub fn bin(name: &str) -> PathBuf {
    let dir = match std::env::var_os("MD_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let exe = std::env::current_exe().expect("test executable path");
            exe.parent().and_then(Path::parent).expect("target profile dir").to_path_buf()
        }
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (scripts/test does: cargo build --workspace --bins)",
        path.display()
    );
    path
}

/// The Python interpreter of the test peers' venv (set by scripts/test).
pub fn python() -> PathBuf {
    let p = std::env::var_os("MD_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/meterdeck-venv/bin/python"));
    assert!(p.exists(), "no Python venv for the test peers at {} (run scripts/test, or set MD_PYTHON)", p.display());
    p
}

pub fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers").join(name)
}

/// A child process that is killed (and reaped) when dropped, whose stdout
/// lines are collected on a thread so the child never blocks on a full pipe.
pub struct Proc {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
        cmd.stdout(Stdio::piped()).stdin(Stdio::null());
        if std::env::var_os("MD_TEST_VERBOSE").is_none() {
            cmd.stderr(Stdio::piped());
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let (tx, rx) = mpsc::channel();
        let stdout: ChildStdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        if let Some(stderr) = child.stderr.take() {
            let tag = name.to_string();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("panicked") {
                        eprintln!("[{tag}] PANIC: {line}");
                    } else if std::env::var_os("MD_TEST_LOG").is_some() {
                        eprintln!("[{tag}] {line}");
                    }
                }
            });
        }
        Proc { child, lines: rx, seen: Vec::new(), name: name.to_string() }
    }

    /// Waits for a stdout line starting with `prefix`; returns it.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{}: no line starting with {prefix:?} within {timeout:?}; exit: {:?}; last lines: {:?}",
                    self.name,
                    self.child.try_wait().ok().flatten(),
                    self.seen.iter().rev().take(5).collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Every stdout line received so far (non-blocking).
    pub fn drain(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line.clone());
            out.push(line);
        }
        out
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, reap, and return the lines printed before death.
    pub fn kill9(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread ends at EOF; give it a moment to hand over the rest.
        let mut out = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            out.push(line);
        }
        out
    }

    /// SIGTERM and wait up to `timeout` for a clean exit; returns the status code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
}

/// Sends `sig` to every process of the process group `pgid` (a child this
/// crate started with `process_group(0)`, so its pid is the group id).
pub fn signal_group(pgid: u32, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg("--").arg(format!("-{pgid}")).status();
}

/// `meterdeck-sim` with the given arguments; returns it and its READY lines
/// (`READY <name> <personality> <address>`), one per instrument expected.
pub fn start_sim(args: &[&str], instruments: usize) -> (Proc, Vec<SimReady>) {
    let mut sim = Proc::spawn("meterdeck-sim", Command::new(bin("meterdeck-sim")).args(args));
    let mut ready = Vec::new();
    for _ in 0..instruments {
        let line = sim.wait_line("READY ", Duration::from_secs(20));
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert!(parts.len() >= 4, "bad READY line: {line}");
        ready.push(SimReady { name: parts[1].into(), personality: parts[2].into(), address: parts[3].into() });
    }
    (sim, ready)
}

#[derive(Clone, Debug)]
pub struct SimReady {
    pub name: String,
    pub personality: String,
    pub address: String,
}

impl SimReady {
    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().and_then(|p| p.parse().ok()).expect("tcp address")
    }
}

/// A pair of connected pseudo-terminals made by socat: `a` and `b` are
/// symlinks in a temp dir. Stopped on drop.
pub struct PtyPair {
    pub a: PathBuf,
    pub b: PathBuf,
    _proc: Proc,
}

pub fn socat_pty_pair(dir: &Path) -> PtyPair {
    let a = dir.join("ttyA");
    let b = dir.join("ttyB");
    let p = Proc::spawn(
        "socat",
        Command::new("socat")
            .args([format!("pty,raw,echo=0,link={}", a.display()), format!("pty,raw,echo=0,link={}", b.display())]),
    );
    wait_path(&a);
    wait_path(&b);
    PtyPair { a, b, _proc: p }
}

/// A pty at `link` whose other side is the TCP server at `addr` (socat).
pub struct PtyBridge {
    pub path: PathBuf,
    _proc: Proc,
}

pub fn socat_pty_to_tcp(link: &Path, addr: &str) -> PtyBridge {
    let p = Proc::spawn(
        "socat",
        Command::new("socat").args([format!("pty,raw,echo=0,link={}", link.display()), format!("TCP:{addr}")]),
    );
    wait_path(link);
    PtyBridge { path: link.to_path_buf(), _proc: p }
}

fn wait_path(p: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.exists() {
        assert!(Instant::now() < deadline, "socat did not create {}", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `meterdeck-agent` with arguments.
pub fn agent(args: &[&str]) -> Command {
    let mut c = Command::new(bin("meterdeck-agent"));
    c.args(args).env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
    c
}

/// `meterdeck-agent run --print-acks` on `config_text` (written to
/// `dir/agent.toml`) with its store in `dir/data`; returns the running agent
/// and the data directory.
pub fn run_agent_on(dir: &Path, config_text: &str) -> (Proc, PathBuf) {
    let config = dir.join("agent.toml");
    std::fs::write(&config, config_text).unwrap();
    let data = dir.join("data");
    let args = ["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--print-acks"];
    (Proc::spawn("meterdeck-agent", &mut agent(&args)), data)
}

/// Runs `meterdeck-agent` to completion and returns (exit code, stdout, stderr).
pub fn agent_output(args: &[&str]) -> (i32, String, String) {
    let out = agent(args).stdin(Stdio::null()).output().expect("run meterdeck-agent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One `ACK <instrument>/<channel> <t_ms> <value>` line from `--print-acks`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ack {
    pub channel: String,
    pub t: i64,
    pub value: String,
}

pub fn parse_acks(lines: &[String]) -> Vec<Ack> {
    lines
        .iter()
        .filter_map(|l| {
            let mut it = l.strip_prefix("ACK ")?.split_whitespace();
            let channel = it.next()?.to_string();
            let t = it.next()?.parse().ok()?;
            let value = it.next()?.to_string();
            Some(Ack { channel, t, value })
        })
        .collect()
}

/// Writes an agent config for the given instruments (as the simulator
/// describes them) with extra `[agent]` lines, and returns its path.
pub fn write_agent_config(
    dir: &Path,
    agent_lines: &str,
    instruments: &[meterdeck_drivers::InstrumentConfig],
) -> PathBuf {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        instrument: &'a [meterdeck_drivers::InstrumentConfig],
    }
    let body = toml::to_string(&Doc { instrument: instruments }).expect("instrument configs serialise");
    let path = dir.join("agent.toml");
    std::fs::write(&path, format!("[agent]\n{agent_lines}\n\n{body}")).expect("write agent config");
    path
}

/// A tokio runtime for tests that host the simulator in-process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// Formats a stored value the way `--print-acks` does.
pub fn value_label(v: &meterdeck_drivers::Value) -> String {
    match v {
        meterdeck_drivers::Value::Number(n) => format!("{n}"),
        meterdeck_drivers::Value::Special(k) => k.label().to_string(),
    }
}
