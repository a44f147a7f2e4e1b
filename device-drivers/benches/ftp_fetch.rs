//! FTP fetch figures (`cargo bench -p meterdeck-drivers --bench ftp_fetch
//! [-- --quick]`): a 1 GiB file (`--quick`: 64 MiB) served by pyftpdlib on
//! loopback, fetched by `curl` (the baseline, same run, same file, page
//! cache warm) and by `FtpSession::fetch` (streamed to disk, SHA-256 on the
//! way). Prints one JSON line per figure:
//! - `ftp_fetch_1g_ratio`: our time / curl's time (target <= 1.2);
//! - `ftp_fetch_peak_rss_mb`: this process's peak RSS during our fetch
//!   (VmHWM, reset just before it; target <= 64).
//!
//! The file lives in /var/tmp and is deleted at the end.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meterdeck_drivers::files::{FtpLogin, FtpSession};

const USER: &str = "bench";
const PASSWORD: &str = "bench-pass";

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> PathBuf {
    std::env::var_os("MD_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/meterdeck-venv/bin/python"))
}

fn start_peer(root: &Path) -> (Peer, u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/ftp_peer.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(["--root", root.to_str().unwrap(), "--user", USER, "--password", PASSWORD, "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pyftpdlib peer (tests/peers/requirements.txt in /var/tmp/meterdeck-venv)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("READY host:port");
    (Peer(child), port)
}

/// Writes `len` bytes of pseudo-random data (one random MiB repeated with a
/// counter, so no block is all zeros and nothing compresses to nothing).
fn make_file(path: &Path, len: u64) {
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..len / block.len() as u64 {
        block[..8].copy_from_slice(&i.to_le_bytes());
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn curl(port: u16, out: &Path) -> Duration {
    let t = Instant::now();
    let st = Command::new("curl")
        .args(["-s", "-S", "--fail", "-o", out.to_str().unwrap()])
        .arg(format!("ftp://{USER}:{PASSWORD}@127.0.0.1:{port}/big.bin"))
        .status()
        .expect("curl");
    assert!(st.success(), "curl failed");
    t.elapsed()
}

fn ours(rt: &tokio::runtime::Runtime, port: u16, out: &Path) -> Duration {
    let login = FtpLogin {
        host: "127.0.0.1".into(),
        port,
        user: USER.into(),
        password: PASSWORD.into(),
        passive: true,
        timeout: Duration::from_secs(30),
    };
    rt.block_on(async {
        let t = Instant::now();
        let mut s = FtpSession::connect(&login).await.expect("login");
        s.fetch("/big.bin", out, u64::MAX, &mut |_| {}).await.expect("fetch");
        s.quit().await;
        t.elapsed()
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let len: u64 = if quick { 64 << 20 } else { 1 << 30 };
    let dir = tempfile::Builder::new().prefix("md-ftp-bench-").tempdir_in("/var/tmp").unwrap();
    let root = dir.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    make_file(&root.join("big.bin"), len);
    let (_peer, port) = start_peer(&root);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let curl_out = dir.path().join("curl.bin");
    let our_out = dir.path().join("ours.bin");
    // Warm the page cache of the served file, then alternate: best of 2 each.
    let _ = curl(port, &curl_out);
    let mut curl_best = Duration::MAX;
    let mut ours_best = Duration::MAX;
    let mut peak_mb = 0.0f64;
    let base_mb = rss_kb().unwrap_or(0) as f64 / 1024.0;
    for _ in 0..2 {
        let _ = std::fs::remove_file(&curl_out);
        curl_best = curl_best.min(curl(port, &curl_out));
        let _ = std::fs::remove_file(&our_out);
        // Peak RSS of this fetch alone (Linux: writing 5 resets VmHWM).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        ours_best = ours_best.min(ours(&rt, port, &our_out));
        peak_mb = peak_mb.max(vm_hwm_kb().unwrap_or(0) as f64 / 1024.0);
    }
    assert_eq!(std::fs::metadata(&our_out).unwrap().len(), len, "our copy is whole");
    let ratio = ours_best.as_secs_f64() / curl_best.as_secs_f64();
    let size = if quick { "64MiB" } else { "1GiB" };
    println!(
        "{{\"figure\": \"ftp_fetch_1g_ratio\", \"value\": {ratio:.3}, \"target\": 1.2, \"file\": \"{size}\", \"ours_s\": {:.3}, \"curl_s\": {:.3}}}",
        ours_best.as_secs_f64(),
        curl_best.as_secs_f64()
    );
    println!(
        "{{\"figure\": \"ftp_fetch_peak_rss_mb\", \"value\": {peak_mb:.1}, \"target\": 64, \"file\": \"{size}\", \"rss_before_mb\": {base_mb:.1}}}"
    );
    drop(dir);
}
