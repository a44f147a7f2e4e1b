//! The portal's dashboard boards over the real API (HTTP on loopback, both
//! storage backends): admins create, change, reorder, export, import and
//! delete; members read, and see which channels their groups do not grant;
//! another account's boards do not exist; bad documents answer 400 naming
//! the field; a board file exported by the desktop (meterdeck-core) imports;
//! the plan's panels per agent hold.
//! Run: `cargo test -p meterdeck-cloud --test boards_api`.

mod api_support;

use api_support::{Db, Env};
use reqwest::Method;
use serde_json::{Value, json};

fn value_panel(x: u32, y: u32, channels: &[&str]) -> Value {
    json!({"kind": "value", "title": "", "x": x, "y": y, "w": 1, "h": 1, "channels": channels})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_sqlite() {
    boards(Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_postgres() {
    boards(Env::start_on(Db::Postgres, false, "boards").await).await;
}

async fn boards(env: Env) {
    let admin = env.account("acme").await;
    let t0 = 1_800_000_000_000;
    let (ag1, _) = env.agent_with_data(&admin, "Site 1", t0, 20).await;
    let (ag2, _) = env.agent_with_data(&admin, "Site 2", t0, 20).await;
    let (c1, c2) = (format!("{ag1}/dev/temp"), format!("{ag2}/dev/temp"));
    let member = env.user(&admin, "acme", "mem", "member", "").await;
    let viewer = env.user(&admin, "acme", "vie", "viewer", "").await;
    let r =
        env.post("/groups", Some(&admin), json!({"id": "g1", "name": "G1", "agents": [ag1], "users": ["mem"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let other = env.account("other").await;

    // Create: a value panel and a graph over both sites; ids given.
    let plant = json!({"name": "  Plant  ", "panels": [
        {"kind": "value", "title": "Temp", "x": 0, "y": 0, "w": 4, "h": 2, "channels": [c1]},
        {"kind": "graph", "x": 4, "y": 0, "w": 6, "h": 4, "channels": [c1, c2], "window": "day"},
    ]});
    let r = env.post("/boards", Some(&admin), plant).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let b = r.json();
    let id = b["id"].as_i64().unwrap();
    assert_eq!(b["name"], "Plant");
    assert_eq!(b["editable"], true);
    assert_eq!(b["panels"][0]["id"], 1);
    assert_eq!(b["panels"][1]["id"], 2);
    assert_eq!(b["panels"][1]["window"], "day");
    assert_eq!(b["no_access"], json!([]));

    // Bad documents: 400 naming the field or the panel, nothing stored.
    let bad = [
        (json!({"name": "X", "panels": [{"kind": "gauge", "x": 0, "y": 0, "w": 1, "h": 1}]}), "`panels[0].kind`"),
        (json!({"panels": []}), "name"),
        (json!({"name": "X", "panels": [{"kind": "value", "x": "left", "y": 0, "w": 1, "h": 1}]}), "`panels[0].x`"),
        (json!({"name": "X", "colour": "red"}), "colour"),
        (json!({"name": "", "panels": []}), "name: enter a name"),
        (json!({"name": "X", "panels": [value_panel(0, 0, &["a-00/dev/temp"])]}), "has no agent a-00"),
        (
            json!({"name": "X", "panels": [value_panel(0, 0, &[&format!("{ag1}/dev/nothing")])]}),
            "has no channel dev/nothing",
        ),
        (json!({"name": "X", "panels": [value_panel(0, 0, &["dev/temp"])]}), "agent/instrument/channel"),
        (json!({"name": "X", "panels": [value_panel(0, 0, &[]) ]}), "choose at least one channel"),
        (
            json!({"name": "X", "panels": [value_panel(11, 0, &[&c1]), {"kind": "value", "x": 11, "y": 47, "w": 2, "h": 1, "channels": [c1]}]}),
            "leaves the 12x48 grid",
        ),
        (
            json!({"name": "X", "panels": [value_panel(0, 0, &[&c1]), value_panel(0, 0, &[&c2])]}),
            "panels[1] (value) overlaps panels[0]",
        ),
        (
            json!({"name": "X", "panels": [{"kind": "image", "x": 0, "y": 0, "w": 2, "h": 2, "image": "img-01.png"}]}),
            "image panels stay on the desktop",
        ),
        (json!({"name": "X", "panels": [{"kind": "alarm-list", "x": 0, "y": 0, "w": 2, "h": 2}]}), "alarm lists"),
    ];
    for (body, says) in bad {
        let r = env.post("/boards", Some(&admin), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.error().contains(says), "{body}: {} does not say {says}", r.error());
    }
    let r = env
        .http
        .post(format!("{}/boards", env.base))
        .bearer_auth(&admin)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(env.get("/boards", &admin).await.json().as_array().unwrap().len(), 1);

    // Another account: nothing listed, the id does not exist for it.
    assert_eq!(env.get("/boards", &other).await.json(), json!([]));
    for (m, path, body) in [
        (Method::GET, format!("/boards/{id}"), None),
        (Method::GET, format!("/boards/{id}/export"), None),
        (Method::PUT, format!("/boards/{id}"), Some(json!({"name": "Mine", "panels": []}))),
        (Method::DELETE, format!("/boards/{id}"), None),
    ] {
        let r = env.req(m.clone(), &path, Some(&other), body).await;
        assert_eq!(r.status, 404, "{m} {path} by another account: {}", r.text);
    }
    // ...nor may it put acme's channels on its own boards.
    let r = env.post("/boards", Some(&other), json!({"name": "Spy", "panels": [value_panel(0, 0, &[&c1])]})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error().contains("account other has no agent"), "{}", r.error());

    // A member reads, sees which channels are not granted, changes nothing.
    let seen = env.get("/boards", &member).await.json();
    assert_eq!(seen[0]["editable"], false);
    assert_eq!(seen[0]["no_access"], json!([c2]));
    assert_eq!(env.get(&format!("/boards/{id}"), &viewer).await.json()["no_access"], json!([c1, c2]));
    for (m, path, body) in [
        (Method::POST, "/boards".to_string(), Some(json!({"name": "Mine"}))),
        (Method::PUT, format!("/boards/{id}"), Some(json!({"name": "Mine", "panels": []}))),
        (Method::PUT, "/boards/order".to_string(), Some(json!({"ids": [id]}))),
        (Method::DELETE, format!("/boards/{id}"), None),
        (
            Method::POST,
            "/boards/import".to_string(),
            Some(json!({"meterdeck_dashboard": 1, "name": "M", "panels": []})),
        ),
    ] {
        let r = env.req(m.clone(), &path, Some(&member), body).await;
        assert_eq!(r.status, 403, "{m} {path} by a member: {}", r.text);
        assert!(r.error().contains("only an admin"), "{}", r.error());
    }
    assert_eq!(env.get(&format!("/boards/{id}"), &admin).await.json()["name"], "Plant");

    // Rename and change panels; reorder.
    let mut panels = b["panels"].clone();
    panels[0]["x"] = json!(0);
    panels[0]["y"] = json!(4);
    let r = env
        .req(
            Method::PUT,
            &format!("/boards/{id}"),
            Some(&admin),
            Some(json!({"name": "Boiler house", "panels": panels})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["name"], "Boiler house");
    assert_eq!(r.json()["panels"][0]["y"], 4);
    let second = env.post("/boards", Some(&admin), json!({"name": "Second"})).await.json()["id"].as_i64().unwrap();
    let r = env.req(Method::PUT, "/boards/order", Some(&admin), Some(json!({"ids": [second, id]}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<Value> =
        env.get("/boards", &admin).await.json().as_array().unwrap().iter().map(|b| b["name"].clone()).collect();
    assert_eq!(names, [json!("Second"), json!("Boiler house")]);
    let r = env.req(Method::PUT, "/boards/order", Some(&admin), Some(json!({"ids": [id]}))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains(&format!("board {second} is missing")), "{}", r.error());

    // Export, and the file imports again as a new board.
    let r = env.get(&format!("/boards/{id}/export"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("board-Boiler_house.json"));
    let file = r.json();
    assert_eq!(file["meterdeck_dashboard"], 1);
    assert_eq!(file["panels"][1]["channels"], json!([c1, c2]));
    let r = env.post("/boards/import", Some(&admin), file).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let copy = r.json()["id"].as_i64().unwrap();

    // A board file the desktop app wrote (meterdeck-core's own export).
    let desk = {
        use meterdeck_core::dashboard::{Board, GraphWindow, Panel, PanelKind, export_json};
        let p = |id, kind, x, channels: &[&str]| Panel {
            id,
            kind,
            title: String::new(),
            x,
            y: 0,
            w: 4,
            h: 3,
            channels: channels.iter().map(|c| c.to_string()).collect(),
            window: GraphWindow::Hour,
            image: None,
            placements: vec![],
            rules: vec![],
        };
        let board = Board {
            id: 7,
            name: "From the desk".into(),
            panels: vec![p(1, PanelKind::GraphValue, 0, &["dev/temp"]), p(2, PanelKind::Value, 4, &["dev/temp"])],
        };
        let dir = tempfile::tempdir().unwrap();
        serde_json::from_str::<Value>(&export_json(dir.path(), &board).unwrap()).unwrap()
    };
    let r = env.post("/boards/import", Some(&admin), desk.clone()).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("names no agent") && r.error().contains("?agent="), "{}", r.error());
    let r = env.post(&format!("/boards/import?agent={ag2}"), Some(&admin), desk.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["name"], "From the desk");
    assert_eq!(r.json()["panels"][0]["kind"], "graph-value");
    assert_eq!(r.json()["panels"][0]["channels"], json!([c2]));
    let r = env.post(&format!("/boards/import?agent={ag1}"), Some(&other), desk.clone()).await;
    assert_eq!(r.status, 404, "another account's agent: {}", r.text);
    let mut wrong = desk.clone();
    wrong["meterdeck_dashboard"] = json!(2);
    let r = env.post(&format!("/boards/import?agent={ag1}"), Some(&admin), wrong).await;
    assert!(r.status == 400 && r.error().contains("version 2"), "{}", r.text);
    let mut typo = desk.clone();
    typo["panels"][1]["knd"] = json!("value");
    let r = env.post(&format!("/boards/import?agent={ag1}"), Some(&admin), typo).await;
    assert!(r.status == 400 && r.error().contains("`panels[1]"), "{}", r.text);

    // The plan's dashboard panels per agent (Pro: 10). Site 1 shows on 4
    // panels now (2 boards x 2): 6 more fit, the 7th is refused.
    let six: Vec<Value> = (0..6).map(|k| value_panel(k, 10, &[&c1])).collect();
    let r = env.post("/boards", Some(&admin), json!({"name": "Full", "panels": six})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = env.post("/boards", Some(&admin), json!({"name": "One more", "panels": [value_panel(0, 0, &[&c1])]})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json()["code"], "plan_limit");
    assert_eq!(r.json()["limit"], "panels_per_group");
    assert!(r.error().contains("the Pro plan allows 10 dashboard panels per agent"), "{}", r.error());
    // What exists stays; moving a panel of a board at the limit is fine.
    let full = env
        .get("/boards", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "Full")
        .cloned()
        .unwrap();
    let mut moved = full["panels"].clone();
    moved[0]["y"] = json!(20);
    let r = env
        .req(
            Method::PUT,
            &format!("/boards/{}", full["id"]),
            Some(&admin),
            Some(json!({"name": "Full", "panels": moved})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Delete.
    let r = env.req(Method::DELETE, &format!("/boards/{copy}"), Some(&admin), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(env.get(&format!("/boards/{copy}"), &admin).await.status, 404);
    assert_eq!(env.req(Method::DELETE, &format!("/boards/{copy}"), Some(&admin), None).await.status, 404);
}
