//! Measurement files over FTP against a real FTP server (pyftpdlib, with
//! the XMD5/XCRC/HASH extensions an instrument's server may offer) serving
//! an instrument-like folder tree, and the real agent as a process with its
//! FTP password in a real keychain (gnome-keyring on a private bus):
//! files collected and verified; a transfer cut by stopping the server
//! mid-file resumes (REST) after it restarts and verifies; a 129 MB file
//! is left for a request and the event says why, then fetched on request;
//! a refused login and a missing folder are events with the reason while
//! polling and collecting go on.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use meterdeck_core::files::{FileRecord, FileState, records};
use meterdeck_core::model::{Event, EventKind};
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::ftp::{agent_on, set_ftp_password, start_ftp};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::*;
use rand::{RngCore, SeedableRng};

const PASSWORD: &str = "logger-pass";
const DAY: &str = "DATA/2026-12-07";

/// Random bytes (seeded): a checksum catches any byte out of place.
fn random_file(path: &Path, len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// The instrument's folder tree: two days of logger files, a note that
/// does not match the pattern, and a 129 MB file (sparse: made at once).
fn lay_out(root: &Path) -> (Vec<u8>, Vec<u8>) {
    let small = random_file(&root.join(DAY).join("W0001.MEM"), 100_000, 1);
    let cut = random_file(&root.join(DAY).join("W0002.MEM"), 8_000_000, 2);
    random_file(&root.join("DATA/2026-12-06/W0000.MEM"), 5_000, 3);
    std::fs::write(root.join(DAY).join("NOTES.TXT"), "not a measurement file").unwrap();
    let big = std::fs::File::create(root.join(DAY).join("BIG.MEM")).unwrap();
    big.set_len(129 * 1024 * 1024).unwrap();
    (small, cut)
}

fn files_of(data: &Path, instrument: &str) -> Vec<FileRecord> {
    let path = data.join("meterdeck.db");
    if !path.exists() {
        return Vec::new();
    }
    match Store::open_readonly(&path) {
        Ok(s) => records::list(s.conn(), Some(instrument), 1000).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn file(data: &Path, instrument: &str, name: &str) -> Option<FileRecord> {
    files_of(data, instrument).into_iter().find(|f| f.remote_path.ends_with(name))
}

fn events(data: &Path) -> Vec<Event> {
    Store::open_readonly(&data.join("meterdeck.db")).unwrap().events(None, None, 10_000).unwrap()
}

fn part_len(data: &Path, name: &str) -> u64 {
    let p: PathBuf = data.join("files/logger1").join(DAY).join(format!("{name}.part"));
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn files_are_collected_resumed_after_a_cut_and_refusals_are_events() {
    let mut bus = Session::start();
    bus.start_keyring();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("instrument");
    let (small, cut) = lay_out(&root);
    // 1 MB/s: the 8 MB file takes 8 s, time to stop the server in the middle.
    let (ftp, port) = start_ftp(&root, 0, PASSWORD, &["--checksums", "--rate", "1000000"]);

    let rt = runtime();
    let sims = rt
        .block_on(sim::start(SimConfig {
            instruments: vec![SimInstrument {
                channels: Some(2),
                ..SimInstrument::new("log", Personality::HiokiLogger)
            }],
        }))
        .expect("simulator starts");
    let base = sims.instruments[0].instrument_config();
    let instruments: Vec<_> = ["logger1", "logger2", "logger3"]
        .iter()
        .map(|id| {
            let mut c = base.clone();
            c.id = id.to_string();
            c
        })
        .collect();
    set_ftp_password(&bus, "logger1", PASSWORD);
    set_ftp_password(&bus, "logger2", "not-the-password");
    set_ftp_password(&bus, "logger3", PASSWORD);
    let cfg = write_agent_config(tmp.path(), "name = \"ftp\"\npoll_interval = \"1s\"", &instruments);
    let files = format!(
        r#"
[[files]]
instrument = "logger1"
host = "127.0.0.1"
port = {port}
user = "logger"
folder = "/DATA"
pattern = "*.MEM"
interval = "1s"
timeout = "3s"

[[files]]
instrument = "logger2"
host = "127.0.0.1"
port = {port}
user = "logger"
folder = "/DATA"
interval = "1s"

[[files]]
instrument = "logger3"
host = "127.0.0.1"
port = {port}
user = "logger"
folder = "/NOPE"
interval = "1s"
"#
    );
    let text = std::fs::read_to_string(&cfg).unwrap() + &files;
    std::fs::write(&cfg, text).unwrap();
    let data = tmp.path().join("data");
    let mut agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent_on(
            &bus,
            &["run", "--config", cfg.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--print-acks"],
        ),
    );

    // Collected: the small file, verified by the server's SHA-256 (HASH).
    wait_until(Duration::from_secs(30), "W0001.MEM fetched", || {
        file(&data, "logger1", "W0001.MEM").is_some_and(|f| f.state == FileState::Fetched)
    });
    let w1 = file(&data, "logger1", "W0001.MEM").unwrap();
    assert_eq!(std::fs::read(w1.local_path.as_ref().unwrap()).unwrap(), small);
    assert!(w1.server_checksum.as_deref().is_some_and(|c| c.starts_with("SHA-256 ")), "{w1:?}");
    assert_eq!(
        w1.local_path.as_deref().unwrap(),
        data.join("files/logger1").join(DAY).join("W0001.MEM").to_str().unwrap()
    );
    assert!(file(&data, "logger1", "NOTES.TXT").is_none(), "the name pattern leaves NOTES.TXT alone");

    // Cut: stop the server while W0002.MEM is on its way.
    wait_until(Duration::from_secs(30), "W0002.MEM half-way", || part_len(&data, "W0002.MEM") > 1_500_000);
    ftp.kill9();
    wait_until(Duration::from_secs(20), "W0002.MEM marked partial", || {
        file(&data, "logger1", "W0002.MEM").is_some_and(|f| f.state == FileState::Partial)
    });
    let at = part_len(&data, "W0002.MEM");
    assert!(at > 1_000_000 && at < cut.len() as u64, "a part file of {at} bytes is kept");
    let partial = file(&data, "logger1", "W0002.MEM").unwrap();
    assert!(partial.reason.as_deref().unwrap_or("").contains("cut at"), "{partial:?}");

    // Restart the server on the same port: the transfer resumes and verifies.
    let (_ftp2, again) = start_ftp(&root, port, PASSWORD, &["--checksums"]);
    assert_eq!(again, port);
    wait_until(Duration::from_secs(40), "W0002.MEM fetched after the cut", || {
        file(&data, "logger1", "W0002.MEM").is_some_and(|f| f.state == FileState::Fetched)
    });
    let w2 = file(&data, "logger1", "W0002.MEM").unwrap();
    assert_eq!(std::fs::read(w2.local_path.as_ref().unwrap()).unwrap(), cut, "the resumed file equals the original");
    assert!(w2.reason.as_deref().unwrap_or("").contains("resumed at byte"), "{w2:?}");
    assert!(w2.server_checksum.is_some(), "checked against the server's checksum: {w2:?}");
    assert_eq!(part_len(&data, "W0002.MEM"), 0, "no part file left");

    // The 129 MB file waits for a request, and the event says why.
    wait_until(Duration::from_secs(20), "BIG.MEM left for a request", || {
        file(&data, "logger1", "BIG.MEM").is_some_and(|f| f.state == FileState::TooLarge)
    });
    assert!(!data.join("files/logger1").join(DAY).join("BIG.MEM").exists());
    let evs = events(&data);
    let big: Vec<_> = evs.iter().filter(|e| e.kind == EventKind::File && e.message.contains("BIG.MEM")).collect();
    assert_eq!(big.len(), 1, "one event for the large file: {evs:#?}");
    assert!(
        big[0].message.contains("not fetched automatically") && big[0].message.contains("128 MB automatic limit"),
        "{}",
        big[0].message
    );

    // Refusals: one event each, with the reason; rounds and polling go on.
    wait_until(Duration::from_secs(20), "login and folder events", || {
        let evs = events(&data);
        evs.iter().any(|e| e.instrument.as_deref() == Some("logger2") && e.kind == EventKind::Error)
            && evs.iter().any(|e| e.instrument.as_deref() == Some("logger3") && e.kind == EventKind::Error)
    });
    std::thread::sleep(Duration::from_secs(3));
    let evs = events(&data);
    let of = |inst: &str| -> Vec<&Event> {
        evs.iter().filter(|e| e.instrument.as_deref() == Some(inst) && e.message.starts_with("files: ")).collect()
    };
    // One event when the reason starts (again after the server was away),
    // not one per 1 s round.
    let login: Vec<_> = of("logger2").into_iter().filter(|e| e.message.contains("refused the login")).collect();
    assert!((1..=2).contains(&login.len()), "a refused login is one event, not one per round: {login:#?}");
    assert!(login[0].message.contains("refused the login of user `logger`: 530"), "{}", login[0].message);
    let folder: Vec<_> = of("logger3").into_iter().filter(|e| e.message.contains("not found")).collect();
    assert!((1..=2).contains(&folder.len()), "{folder:#?}");
    assert!(folder[0].message.contains("folder `/NOPE` not found on the FTP server"), "{}", folder[0].message);
    let acks = parse_acks(&agent.drain());
    let t0 = Instant::now();
    let mut later = acks.len();
    while t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(200));
        later += parse_acks(&agent.drain()).iter().filter(|a| a.channel.starts_with("logger2/")).count();
    }
    assert!(later > acks.len(), "the instrument with the refused FTP login is still polled");

    // The large file on request (the CLI, beside the running agent).
    let (code, out, err) = {
        let o = agent_on(
            &bus,
            &[
                "files",
                "fetch",
                "logger1",
                &format!("/{DAY}/BIG.MEM"),
                "--config",
                cfg.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "files fetch: {out}{err}");
    assert!(
        out.contains("FETCHED /DATA/2026-12-07/BIG.MEM 135266304 bytes") && out.contains("server SHA-256"),
        "{out}"
    );
    let big = file(&data, "logger1", "BIG.MEM").unwrap();
    assert_eq!(big.state, FileState::Fetched);
    assert_eq!(std::fs::metadata(big.local_path.unwrap()).unwrap().len(), 129 * 1024 * 1024);

    // `files list` prints them.
    let (code, out, _) = agent_output(&[
        "files",
        "list",
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4, "{out}");

    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    drop(sims);
}
