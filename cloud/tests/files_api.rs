//! Measurement files over the Web API (issue 14), on SQLite and on
//! PostgreSQL: an agent uploads a file in chunks with its own credentials,
//! the upload is cut and resumed at the offset the cloud holds, the cloud
//! checks the SHA-256 (a mismatch is refused and the partial discarded),
//! signed-in users list and download the file with the grants of the
//! measurement data (another account, or a member without the grant, sees
//! nothing), an upload over the plan's storage is refused, and bad input
//! (offset, chunk size, ids, fields) answers a clear error and changes
//! nothing. Run: `cargo test -p meterdeck-cloud --test files_api`.

mod api_support;

use api_support::{Db, Env};
use rand::RngCore;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn random(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    rand::rng().fill_bytes(&mut b);
    b
}

struct Agent {
    id: String,
    secret: String,
}

struct Reply {
    status: u16,
    body: Value,
    text: String,
}

impl Reply {
    fn error(&self) -> String {
        self.body["error"].as_str().unwrap_or_else(|| panic!("no error in {} {}", self.status, self.text)).to_string()
    }
}

async fn send(rb: reqwest::RequestBuilder) -> Reply {
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

async fn register(env: &Env, admin: &str, name: &str) -> Agent {
    let r = env.post("/agents", Some(admin), json!({"name": name})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let j = r.json();
    Agent { id: j["id"].as_str().unwrap().into(), secret: j["secret"].as_str().unwrap().into() }
}

async fn announce(env: &Env, a: &Agent, name: &str, size: u64, sha256: &str) -> Reply {
    let body = json!({"instrument": "logger1", "name": name, "size": size, "sha256": sha256});
    send(env.http.post(format!("{}/files/uploads", env.base)).basic_auth(&a.id, Some(&a.secret)).json(&body)).await
}

async fn put(env: &Env, a: &Agent, id: &str, offset: &str, bytes: Vec<u8>) -> Reply {
    send(
        env.http
            .put(format!("{}/files/uploads/{id}?offset={offset}", env.base))
            .basic_auth(&a.id, Some(&a.secret))
            .header("content-type", "application/octet-stream")
            // A chunk the server refuses is left unread and the server then
            // closes the connection; a pooled reuse of it raced that close
            // (IncompleteMessage on the next request). One connection a chunk.
            .header("connection", "close")
            .body(bytes),
    )
    .await
}

async fn complete(env: &Env, a: &Agent, id: &str) -> Reply {
    send(env.http.post(format!("{}/files/uploads/{id}/complete", env.base)).basic_auth(&a.id, Some(&a.secret))).await
}

async fn download(env: &Env, token: &str, id: &str) -> (u16, Vec<u8>, Option<String>) {
    let r = env.http.get(format!("{}/files/{id}/content", env.base)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let sha = r.headers().get("x-sha256").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, r.bytes().await.unwrap().to_vec(), sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_upload_resume_check_and_grants_sqlite() {
    files_api(&Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_upload_resume_check_and_grants_postgres() {
    files_api(&Env::start_on(Db::Postgres, false, "files").await).await;
}

async fn files_api(env: &Env) {
    let admin = env.account("acme").await;
    let agent = register(env, &admin, "Site 1").await;
    let other_agent = register(env, &admin, "Site 2").await;
    let data = random(10 * MIB + 123);
    let digest = sha(&data);
    let name = "/DATA/2026-12-07/W0001.MEM";

    // Who may upload: agents with their own secret, nobody else.
    let r = send(env.http.post(format!("{}/files/uploads", env.base)).json(&json!({}))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let wrong = Agent { id: agent.id.clone(), secret: "not-the-secret".into() };
    let r = announce(env, &wrong, name, data.len() as u64, &digest).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.error().contains("agent id or secret is wrong"), "{}", r.text);
    let r = send(
        env.http
            .post(format!("{}/files/uploads", env.base))
            .bearer_auth(&admin)
            .json(&json!({"instrument": "logger1", "name": name, "size": 1, "sha256": digest})),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.error().contains("made by agents"), "{}", r.text);

    // Bad fields: refused naming the field.
    let r = announce(env, &agent, name, data.len() as u64, "XYZ").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error().contains("`sha256`"), "{}", r.text);
    let r = announce(env, &agent, name, 0, &digest).await;
    assert!(r.status == 400 && r.error().contains("`size`"), "{}", r.text);
    let r = announce(env, &agent, "", 10, &digest).await;
    assert!(r.status == 400 && r.error().contains("`name`"), "{}", r.text);
    let r = announce(env, &agent, name, 2 * 1024 * 1024 * 1024, &digest).await;
    assert!(r.status == 400 && r.error().contains("1 GB"), "{}", r.text);

    // A new upload starts at 0; the first chunk is taken.
    let r = announce(env, &agent, name, data.len() as u64, &digest).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["offset"].as_u64(), r.body["complete"].as_bool()), (Some(0), Some(false)));
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = put(env, &agent, &id, "0", data[..4 * MIB].to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["offset"].as_u64(), Some(4 * MIB as u64));

    // Cut: the agent asks again and resumes where the cloud stands.
    let r = announce(env, &agent, name, data.len() as u64, &digest).await;
    assert_eq!((r.body["id"].as_str(), r.body["offset"].as_u64()), (Some(id.as_str()), Some(4 * MIB as u64)));

    // Bad chunks change nothing.
    let r = put(env, &agent, &id, "0", data[..MIB].to_vec()).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.error().contains("starts at offset=4194304"), "{}", r.text);
    let r = put(env, &agent, &id, "abc", data[..10].to_vec()).await;
    assert!(r.status == 400 && r.error().contains("bad query"), "{}", r.text);
    let r = put(env, &agent, &id, &(4 * MIB).to_string(), vec![0u8; 4 * MIB + 1]).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(r.error().contains("at most 4194304 bytes"), "{}", r.text);
    let r = put(env, &agent, &id, &(4 * MIB).to_string(), Vec::new()).await;
    assert!(r.status == 400 && r.error().contains("empty"), "{}", r.text);
    let r = put(env, &agent, "fnope", "0", data[..10].to_vec()).await;
    assert!(r.status == 404 && r.error().contains("upload fnope not found"), "{}", r.text);
    let r = put(env, &other_agent, &id, &(4 * MIB).to_string(), data[4 * MIB..5 * MIB].to_vec()).await;
    assert_eq!(r.status, 404, "another agent cannot write into it: {}", r.text);
    let r = complete(env, &agent, &id).await;
    assert!(r.status == 409 && r.error().contains("send the rest from offset=4194304"), "{}", r.text);
    let r = announce(env, &agent, name, data.len() as u64, &digest).await;
    assert_eq!(r.body["offset"].as_u64(), Some(4 * MIB as u64), "nothing moved: {}", r.text);

    // The rest, then the check.
    let r = put(env, &agent, &id, &(4 * MIB).to_string(), data[4 * MIB..8 * MIB].to_vec()).await;
    assert_eq!(r.body["offset"].as_u64(), Some(8 * MIB as u64), "{}", r.text);
    let r = put(env, &agent, &id, &(8 * MIB).to_string(), data[8 * MIB..].to_vec()).await;
    assert_eq!(r.body["offset"].as_u64(), Some(data.len() as u64), "{}", r.text);
    assert_eq!(env.get("/files", &admin).await.json(), json!([]), "not listed before the check");
    let r = complete(env, &agent, &id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["complete"], true);
    // Announced again: complete, nothing is sent twice.
    let r = announce(env, &agent, name, data.len() as u64, &digest).await;
    assert_eq!((r.body["id"].as_str(), r.body["complete"].as_bool()), (Some(id.as_str()), Some(true)));

    // Listed and downloaded whole by a signed-in user.
    let list = env.get("/files", &admin).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let f = &list[0];
    assert_eq!(
        (f["id"].as_str(), f["agent"].as_str(), f["name"].as_str()),
        (Some(id.as_str()), Some(agent.id.as_str()), Some(name))
    );
    assert_eq!((f["size"].as_u64(), f["sha256"].as_str()), (Some(data.len() as u64), Some(digest.as_str())));
    assert_eq!(env.get(&format!("/files/{id}"), &admin).await.json(), *f);
    let (status, bytes, header) = download(env, &admin, &id).await;
    assert_eq!(status, 200);
    assert!(bytes == data, "the download equals the upload");
    assert_eq!(header.as_deref(), Some(digest.as_str()));
    let filtered = env.get(&format!("/files?agent={}&instrument=logger1&limit=5&offset=0", agent.id), &admin).await;
    assert_eq!(filtered.json().as_array().unwrap().len(), 1);
    assert_eq!(env.get("/files?instrument=other", &admin).await.json(), json!([]));
    let r = env.get("/files?limit=0", &admin).await;
    assert!(r.status == 400 && r.error().contains("limit"), "{}", r.text);
    assert_eq!(env.get("/files/fnope", &admin).await.status, 404);
    // Counted in the account's storage.
    let st = env.get("/licence/status", &admin).await.json();
    assert!(st["usage"]["storage_bytes"].as_u64().unwrap() >= data.len() as u64, "{st}");

    // A wrong SHA-256: refused on completion, the partial discarded.
    let bad = random(MIB + 7);
    let r = announce(env, &agent, "/DATA/BAD.MEM", bad.len() as u64, &sha(b"something else")).await;
    let bad_id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(put(env, &agent, &bad_id, "0", bad.clone()).await.status, 200);
    let part = env.dir.path().join("files/acme").join(&bad_id);
    assert_eq!(std::fs::metadata(&part).unwrap().len(), bad.len() as u64);
    let r = complete(env, &agent, &bad_id).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["code"], "checksum_mismatch");
    assert!(r.error().contains(&format!("is {}", sha(&bad))) && r.error().contains("discarded"), "{}", r.text);
    assert!(!part.exists(), "the partial bytes are gone");
    let r = complete(env, &agent, &bad_id).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = announce(env, &agent, "/DATA/BAD.MEM", bad.len() as u64, &sha(b"something else")).await;
    assert_eq!(r.body["offset"], 0, "announced again it starts over: {}", r.text);
    assert_ne!(r.body["id"].as_str(), Some(bad_id.as_str()));
    assert_eq!(env.get("/files", &admin).await.json().as_array().unwrap().len(), 1);

    // Another account sees nothing of it, and cannot download it.
    let other = env.account("other").await;
    assert_eq!(env.get("/files", &other).await.json(), json!([]));
    let r = env.get(&format!("/files/{id}"), &other).await;
    assert!(r.status == 404 && r.error().contains("not found"), "{}", r.text);
    assert_eq!(download(env, &other, &id).await.0, 404);
    let r = env.get(&format!("/files?agent={}", agent.id), &other).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Nor can its agents write into acme's uploads.
    let stranger = register(env, &other, "Elsewhere").await;
    let r = complete(env, &stranger, &id).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // A member without a group granting the agent: as if it did not exist.
    let member = env.user(&admin, "acme", "mem", "member", "").await;
    assert_eq!(env.get("/files", &member).await.json(), json!([]));
    assert_eq!(env.get(&format!("/files/{id}"), &member).await.status, 404);
    assert_eq!(download(env, &member, &id).await.0, 404);
    // Granted through a group: listed and downloadable.
    let r = env
        .post(
            "/groups",
            Some(&admin),
            json!({"id": "g1", "name": "G", "agents": [agent.id], "users": ["mem"], "teams": []}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(env.get("/files", &member).await.json().as_array().unwrap().len(), 1);
    assert_eq!(download(env, &member, &id).await.1.len(), data.len());

    // Over the plan's storage: refused when announced, nothing reserved.
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "small", "Small", "free", "boss", "b@example.com")
        .await
        .unwrap();
    let small = env.first_login("small", "boss", &temp, "Admin-pass1").await;
    let small_agent = register(env, &small, "Box").await;
    let gib = 1024 * 1024 * 1024u64;
    for n in 0..4 {
        let r = announce(env, &small_agent, &format!("/BIG{n}.MEM"), gib, &sha(&[n])).await;
        assert_eq!(r.status, 200, "{n}: {}", r.text);
    }
    let r = announce(env, &small_agent, "/BIG4.MEM", gib, &sha(&[4])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!((r.body["code"].as_str(), r.body["limit"].as_str()), (Some("plan_limit"), Some("storage_bytes")));
    assert!(
        r.error().contains("the Free plan allows 5000000000 bytes of storage and account small uses 4294967296"),
        "{}",
        r.text
    );
    let st = env.get("/licence/status", &small).await.json();
    assert_eq!(st["usage"]["storage_bytes"], 4 * gib, "{st}");
    // Nothing is listed before it is complete.
    let r = env.req(Method::GET, "/files", Some(&small), None).await;
    assert_eq!(r.json(), json!([]));
}
