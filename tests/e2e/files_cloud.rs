//! Measurement files from the instrument to the cloud (issue 14): a real
//! FTP server (pyftpdlib) serves a logger's file, the real agent fetches it
//! and uploads it to a real `meterdeck-cloud serve` over the Web API. The
//! cloud is killed (SIGKILL) in the middle of the upload and started again
//! on the same address: the agent resumes at the offset the cloud held (not
//! from 0), the cloud confirms the SHA-256, the download through the API
//! equals the original byte for byte, and only then is the file deleted on
//! the FTP server (it is still there while the cloud is away).
//! Run: `cargo test -p meterdeck-e2e --test files_cloud` (binaries from
//! `/work/wt/bin/wt-bins`, `MD_BIN_DIR`).

use std::path::Path;
use std::time::{Duration, Instant};

use meterdeck_core::files::{FileRecord, records};
use meterdeck_core::model::EventKind;
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{Api, Cloud, agent_login, create_acme, free_port, line_after};
use meterdeck_e2e::ftp::{agent_on, set_ftp_password, start_ftp};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::*;
use rand::{RngCore, SeedableRng};

fn sha256(bytes: &[u8]) -> String {
    let mut d = meterdeck_drivers::files::Digests::new(None);
    d.update(bytes);
    d.sha256_hex()
}

const PASSWORD: &str = "logger-pass";
const REMOTE: &str = "/DATA/2026-12-07/W0001.MEM";
/// 15 chunks of 4 MiB: long enough to cut in the middle.
const SIZE: usize = 60 * 1024 * 1024;
const CHUNK: u64 = 4 * 1024 * 1024;

fn record(data: &Path) -> Option<FileRecord> {
    let s = Store::open_readonly(&data.join("meterdeck.db")).ok()?;
    records::list(s.conn(), Some("logger1"), 10).ok()?.into_iter().find(|f| f.remote_path == REMOTE)
}

fn file_events(data: &Path) -> Vec<(i64, EventKind, String)> {
    let Ok(s) = Store::open_readonly(&data.join("meterdeck.db")) else { return Vec::new() };
    s.events(None, None, 10_000)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.message.contains("W0001.MEM"))
        .map(|e| (e.t, e.kind, e.message))
        .collect()
}

/// The upload's bytes in the cloud's files directory, if one started.
fn cloud_upload(cloud_data: &Path) -> Option<(String, u64)> {
    let dir = cloud_data.join("files/acme");
    let entry = std::fs::read_dir(dir).ok()?.flatten().next()?;
    Some((entry.file_name().to_string_lossy().into_owned(), entry.metadata().ok()?.len()))
}

#[test]
fn a_file_goes_to_the_cloud_resumes_after_the_cloud_was_killed_and_is_deleted_only_after_confirmation() {
    let mut bus = Session::start();
    bus.start_keyring();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("instrument");
    let mut original = vec![0u8; SIZE];
    rand_chacha::ChaCha8Rng::seed_from_u64(14).fill_bytes(&mut original);
    let on_server = root.join(REMOTE.trim_start_matches('/'));
    std::fs::create_dir_all(on_server.parent().unwrap()).unwrap();
    std::fs::write(&on_server, &original).unwrap();
    let digest = sha256(&original);
    let (_ftp, ftp_port) = start_ftp(&root, 0, PASSWORD, &[]);

    // The cloud, with account acme and a registered agent.
    let cloud_data = tmp.path().join("cloud");
    let (http_port, mqtt_port) = (free_port(), free_port());
    let mut cloud = Cloud::start_at(&cloud_data, http_port, Some(mqtt_port), None, &[]);
    let temp = create_acme(&cloud);
    let out = cloud.cli(&["agent", "register", "--account", "acme", "--name", "site-a"]);
    let agent_id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let secret = line_after(&out, "shown once");
    let api = Api::sign_in(&cloud.http, "acme", "alice", &temp, meterdeck_e2e::cloud::ADMIN_PASSWORD);

    // The agent: one logger whose FTP server holds the file.
    let rt = runtime();
    let sims = rt
        .block_on(sim::start(SimConfig {
            instruments: vec![SimInstrument {
                channels: Some(1),
                ..SimInstrument::new("log", Personality::HiokiLogger)
            }],
        }))
        .expect("simulator starts");
    let mut inst = sims.instruments[0].instrument_config();
    inst.id = "logger1".into();
    let cfg = write_agent_config(tmp.path(), "name = \"site-a\"\npoll_interval = \"1s\"", &[inst]);
    let files = format!(
        r#"
[[files]]
instrument = "logger1"
host = "127.0.0.1"
port = {ftp_port}
user = "logger"
folder = "/DATA"
pattern = "*.MEM"
interval = "1s"
timeout = "5s"
upload = true
delete_after_upload = true
"#
    );
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap() + &files).unwrap();
    set_ftp_password(&bus, "logger1", PASSWORD);
    let extra = ["--config", cfg.to_str().unwrap(), "--api", &cloud.http, "--send-interval", "1s"];
    agent_login(&bus.address, &agent_id, &secret, mqtt_port, &extra).expect("cloud login");
    let data = tmp.path().join("data");
    let mut agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent_on(&bus, &["run", "--config", cfg.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]),
    );

    // Fetched, then on its way up: kill the cloud in the middle, once it
    // holds more than a chunk (a second chunk arriving means the first is
    // recorded: the agent sends the next only after the cloud's answer).
    let deadline = Instant::now() + Duration::from_secs(90);
    let (upload_id, held) = loop {
        if let Some((id, len)) = cloud_upload(&cloud_data)
            && len > CHUNK
            && len < SIZE as u64
        {
            break (id, len);
        }
        assert!(Instant::now() < deadline, "no upload under way in the cloud; events: {:#?}", file_events(&data));
        std::thread::sleep(Duration::from_millis(2));
    };
    cloud.proc.child.kill().unwrap();
    let _ = cloud.proc.child.wait();
    assert!(held < SIZE as u64, "cut at {held} of {SIZE} bytes");

    // While the cloud is away: not confirmed, so still on the instrument.
    wait_until(Duration::from_secs(30), "the agent notices the cloud is away", || {
        file_events(&data).iter().any(|(_, k, m)| *k == EventKind::Error && m.contains("upload"))
    });
    let rec = record(&data).expect("the file is recorded");
    assert!(rec.cloud_id.is_none() && !rec.remote_deleted, "{rec:?}");
    assert!(on_server.exists(), "not deleted before the cloud confirmed it");
    std::thread::sleep(Duration::from_secs(2));
    assert!(on_server.exists(), "still not deleted while the cloud is away");

    // The cloud again, on the same address: the agent resumes and completes.
    wait_until(Duration::from_secs(20), "the killed cloud's ports are free", || {
        std::net::TcpListener::bind(("127.0.0.1", http_port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", mqtt_port)).is_ok()
    });
    drop(cloud);
    let cloud = Cloud::start_at(&cloud_data, http_port, Some(mqtt_port), None, &[]);
    let api = Api { base: cloud.http.clone(), token: api.token.clone() };
    wait_until(Duration::from_secs(90), "the file deleted on the instrument", || {
        record(&data).is_some_and(|r| r.remote_deleted)
    });
    let rec = record(&data).unwrap();
    assert_eq!(rec.cloud_id.as_deref(), Some(upload_id.as_str()), "the same upload went on: {rec:?}");
    assert!(!on_server.exists(), "deleted on the FTP server");

    // Resumed, not sent again from the start; confirmed before the deletion.
    // (The record is updated first; its events reach the store through the writer.)
    wait_until(Duration::from_secs(10), "the deletion's event", || {
        file_events(&data).iter().any(|(_, _, m)| m.contains("deleted on the instrument after the cloud confirmed"))
    });
    let evs = file_events(&data);
    let uploaded = evs
        .iter()
        .find(|(_, k, m)| *k == EventKind::File && m.contains("uploaded to the cloud"))
        .unwrap_or_else(|| panic!("{evs:#?}"));
    let resumed_at: u64 = uploaded
        .2
        .split("resumed at byte ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the upload resumed: {}", uploaded.2));
    assert!(resumed_at >= CHUNK && resumed_at < SIZE as u64 && resumed_at % CHUNK == 0, "{}", uploaded.2);
    // `held` is the partial file's length on disk; the chunk that was being
    // written when the cloud was killed may be on disk but not yet recorded
    // (the offset moves only after the bytes are synced), so the cloud
    // resumes at most one chunk before the end of what it held.
    assert!(
        resumed_at + CHUNK >= held.div_ceil(CHUNK) * CHUNK,
        "resumed at {resumed_at}, the cloud held {held} bytes on disk when killed"
    );
    let deleted = evs
        .iter()
        .find(|(_, k, m)| *k == EventKind::File && m.contains("deleted on the instrument after the cloud confirmed"))
        .unwrap_or_else(|| panic!("{evs:#?}"));
    assert!(deleted.0 >= uploaded.0, "deleted after the confirmation: {evs:#?}");

    // The cloud's copy: listed with the SHA-256, downloaded byte for byte.
    let list = api.get("/api/v1/files");
    let f = &list.as_array().unwrap()[0];
    assert_eq!((f["id"].as_str(), f["sha256"].as_str()), (Some(upload_id.as_str()), Some(digest.as_str())));
    assert_eq!(
        (f["agent"].as_str(), f["instrument"].as_str(), f["name"].as_str()),
        (Some(agent_id.as_str()), Some("logger1"), Some(REMOTE))
    );
    let resp = ureq::get(&format!("{}/api/v1/files/{upload_id}/content", api.base))
        .header("Authorization", &format!("Bearer {}", api.token))
        .call()
        .unwrap();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_body().into_reader(), &mut body).unwrap();
    assert_eq!(body.len(), SIZE);
    assert_eq!(sha256(&body), digest, "the download equals the original");

    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    drop(cloud);
    drop(sims);
}
