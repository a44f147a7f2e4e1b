//! The one storage test suite: every function runs against both backends
//! (`sqlite_backend::*`, `postgres_backend::*` at the end). PostgreSQL tests
//! need a server at 127.0.0.1:5432 (user postgres, trust auth): each test
//! creates its own database and drops it. Without a server they fail,
//! unless `MD_SKIP_PG=1`.

use std::sync::Arc;

use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{PartIn, encode_batch};
use meterdeck_wire::{Sample, SpecialKind, Value};

use super::*;

// ---- fixtures ---------------------------------------------------------------

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        name: format!("Account {id}"),
        plan: "standard".into(),
        ip_allow: vec!["10.0.0.0/8".into()],
        traffic_allowance: 1 << 30,
        created_ms: 1_000,
    }
}

fn user(account: &str, id: &str, role: Role) -> User {
    User {
        account: account.into(),
        id: id.into(),
        name: format!("User {id}"),
        email: format!("{id}@example.com"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        must_change: true,
        two_factor: TwoFactor::None,
        totp_secret: None,
        created_ms: 2_000,
    }
}

fn agent(account: &str, id: &str) -> Agent {
    Agent {
        id: id.into(),
        account: account.into(),
        name: format!("Agent {id}"),
        secret_hash: "$argon2id$secret".into(),
        broker_hash: format!("$7$101$salt${id}"),
        created_ms: 3_000,
        sync: AgentSync::default(),
    }
}

async fn setup_account(s: &dyn Storage, id: &str) {
    s.create_account(&account(id), &user(id, "admin", Role::Admin)).await.unwrap();
}

struct P<'a> {
    path: &'a str,
    unit: Option<&'a str>,
    seq_from: i64,
    samples: &'a [Sample],
}

/// A batch as the cloud gets it: encoded by the agent's codec, decoded.
fn batch(store: &str, id: u64, backlog: u64, parts: &[P<'_>]) -> (IngestBatch, u64) {
    let ins: Vec<PartIn<'_>> = parts
        .iter()
        .map(|p| PartIn {
            path: p.path,
            unit: p.unit,
            seq_from: p.seq_from,
            seq_to: p.seq_from + (p.samples.len() as i64).max(1),
            samples: p.samples,
        })
        .collect();
    let bytes = encode_batch(store, id, 0, backlog, &ins, &mut EncodeScratch::default()).unwrap();
    (IngestBatch::decode(&bytes).unwrap(), bytes.len() as u64)
}

/// Deterministic pseudo-random numbers (no ties in practice).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
}

/// `n` samples from `t0`, about 1 s apart, every 13th a special value.
fn series(rng: &mut Lcg, t0: i64, n: usize) -> Vec<Sample> {
    let mut t = t0;
    (0..n)
        .map(|i| {
            t += 900 + (rng.next() % 200) as i64;
            if i % 13 == 7 {
                Sample::special(t, SpecialKind::ALL[i % 5])
            } else {
                Sample::number(t, (rng.next() % 2_000_000) as f64 / 1000.0 - 1000.0)
            }
        })
        .collect()
}

fn pt(s: &Sample) -> Point {
    match s.value {
        Value::Number(v) => Point { t: s.t, v: Some(v) },
        Value::Special(_) => Point { t: s.t, v: None },
    }
}

fn brute_minmax(all: &[Sample], from: i64, to: i64, n: usize) -> Vec<MinMax> {
    let b = series::Buckets::new(from, to, n);
    let mut out: Vec<MinMax> =
        (0..n).map(|i| MinMax { t_start: b.edges[i], t_end: b.edges[i + 1], count: 0, min: None, max: None }).collect();
    for s in all.iter().filter(|s| s.t >= from && s.t < to) {
        let i = (((s.t - from) as i128 * n as i128) / (to - from) as i128) as usize;
        let m = &mut out[i];
        m.count += 1;
        if let Value::Number(v) = s.value {
            if m.min.is_none_or(|c| v < c.v.unwrap()) {
                m.min = Some(Point { t: s.t, v: Some(v) });
            }
            if m.max.is_none_or(|c| v > c.v.unwrap()) {
                m.max = Some(Point { t: s.t, v: Some(v) });
            }
        }
    }
    out
}

// ---- the suite ----------------------------------------------------------------

pub async fn accounts(s: &dyn Storage) {
    s.ping().await.unwrap();
    assert!(s.account("acme").await.unwrap().is_none());
    setup_account(s, "acme").await;
    let mut a = s.account("acme").await.unwrap().unwrap();
    assert_eq!(a, account("acme"));
    assert!(matches!(
        s.create_account(&account("acme"), &user("acme", "x", Role::Admin)).await,
        Err(StoreError::Exists(_))
    ));
    a.name = "Acme Ltd".into();
    a.ip_allow = vec![];
    a.traffic_allowance = 5;
    s.update_account(&a).await.unwrap();
    assert_eq!(s.account("acme").await.unwrap().unwrap(), a);
    assert!(matches!(s.update_account(&account("nope")).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_account("nope").await, Err(StoreError::NotFound(_))));
    assert_eq!(s.users("acme").await.unwrap(), vec![user("acme", "admin", Role::Admin)]);
}

pub async fn users_teams_groups(s: &dyn Storage) {
    setup_account(s, "acme").await;
    let mut bob = user("acme", "bob", Role::Member);
    s.insert_user(&bob).await.unwrap();
    assert!(matches!(s.insert_user(&bob).await, Err(StoreError::Exists(_))));
    assert!(matches!(s.insert_user(&user("ghost", "x", Role::Viewer)).await, Err(StoreError::NotFound(_))));
    bob.two_factor = TwoFactor::Totp;
    bob.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
    bob.must_change = false;
    bob.role = Role::Viewer;
    s.update_user(&bob).await.unwrap();
    assert_eq!(s.user("acme", "bob").await.unwrap().unwrap(), bob);
    assert!(s.user("other", "bob").await.unwrap().is_none());
    assert!(matches!(s.update_user(&user("acme", "nobody", Role::Viewer)).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.users("acme").await.unwrap().iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["admin", "bob"]);

    let team = Team {
        account: "acme".into(),
        id: "ops".into(),
        name: "Ops".into(),
        members: vec!["bob".into(), "admin".into()],
    };
    s.put_team(&team).await.unwrap();
    let mut team2 = team.clone();
    team2.name = "Operations".into();
    s.put_team(&team2).await.unwrap();
    assert_eq!(s.teams("acme").await.unwrap(), vec![team2.clone()]);
    let group = Group {
        account: "acme".into(),
        id: "site-a".into(),
        name: "Site A".into(),
        agents: vec!["ag1".into()],
        users: vec!["bob".into()],
        teams: vec!["ops".into()],
    };
    s.put_group(&group).await.unwrap();
    assert_eq!(s.groups("acme").await.unwrap(), vec![group.clone()]);
    assert!(matches!(
        s.put_group(&Group { account: "ghost".into(), ..group.clone() }).await,
        Err(StoreError::NotFound(_))
    ));

    // Deleting a user ends its sessions and tokens and drops its grants.
    s.insert_session(&session("acme", "bob", "h-bob")).await.unwrap();
    s.insert_token(&token("acme", "bob", "t1", "th-bob")).await.unwrap();
    s.delete_user("acme", "bob").await.unwrap();
    assert!(s.user("acme", "bob").await.unwrap().is_none());
    assert!(s.session("h-bob").await.unwrap().is_none());
    assert!(s.token("th-bob").await.unwrap().is_none());
    assert_eq!(s.teams("acme").await.unwrap()[0].members, vec!["admin".to_string()]);
    assert!(s.groups("acme").await.unwrap()[0].users.is_empty());
    assert!(matches!(s.delete_user("acme", "bob").await, Err(StoreError::NotFound(_))));

    s.delete_team("acme", "ops").await.unwrap();
    assert!(s.teams("acme").await.unwrap().is_empty());
    assert!(s.groups("acme").await.unwrap()[0].teams.is_empty());
    s.delete_group("acme", "site-a").await.unwrap();
    assert!(s.groups("acme").await.unwrap().is_empty());
    assert!(matches!(s.delete_group("acme", "site-a").await, Err(StoreError::NotFound(_))));
}

fn session(account: &str, user: &str, hash: &str) -> Session {
    Session {
        token_hash: hash.into(),
        account: account.into(),
        user: user.into(),
        created_ms: 10,
        last_seen_ms: 10,
        pending: Some("totp".into()),
    }
}

fn token(account: &str, user: &str, id: &str, hash: &str) -> ApiToken {
    ApiToken {
        id: id.into(),
        token_hash: hash.into(),
        account: account.into(),
        user: user.into(),
        name: format!("token {id}"),
        created_ms: 20,
        last_used_ms: None,
    }
}

pub async fn sessions_tokens_codes(s: &dyn Storage) {
    setup_account(s, "acme").await;
    let mut sess = session("acme", "admin", "h1");
    s.insert_session(&sess).await.unwrap();
    assert!(matches!(s.insert_session(&sess).await, Err(StoreError::Exists(_))));
    assert!(matches!(s.insert_session(&session("acme", "ghost", "h2")).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.session("h1").await.unwrap().unwrap(), sess);
    sess.last_seen_ms = 99;
    sess.pending = None;
    s.update_session(&sess).await.unwrap();
    assert_eq!(s.session("h1").await.unwrap().unwrap(), sess);
    s.delete_session("h1").await.unwrap();
    assert!(s.session("h1").await.unwrap().is_none());
    assert!(matches!(s.update_session(&sess).await, Err(StoreError::NotFound(_))));

    // Ending a user's other sessions: only theirs, all but the one kept;
    // deleting the user ends the rest (and their tokens).
    s.insert_user(&user("acme", "bob", Role::Member)).await.unwrap();
    setup_account(s, "beta").await;
    for (acc, u, h) in [
        ("acme", "admin", "a1"),
        ("acme", "admin", "a2"),
        ("acme", "admin", "a3"),
        ("acme", "bob", "b1"),
        ("beta", "admin", "x1"),
    ] {
        s.insert_session(&session(acc, u, h)).await.unwrap();
    }
    assert_eq!(s.delete_sessions_of("acme", "admin", Some("a2")).await.unwrap(), 2);
    assert!(s.session("a1").await.unwrap().is_none() && s.session("a3").await.unwrap().is_none());
    assert!(s.session("a2").await.unwrap().is_some(), "the kept session stays");
    assert!(s.session("b1").await.unwrap().is_some() && s.session("x1").await.unwrap().is_some());
    assert_eq!(s.delete_sessions_of("acme", "admin", None).await.unwrap(), 1);
    assert!(s.session("a2").await.unwrap().is_none());
    assert_eq!(s.delete_sessions_of("acme", "ghost", None).await.unwrap(), 0);
    s.insert_token(&token("acme", "bob", "tb", "thb")).await.unwrap();
    s.delete_user("acme", "bob").await.unwrap();
    assert!(s.session("b1").await.unwrap().is_none(), "a deleted user's sessions end");
    assert!(s.token("thb").await.unwrap().is_none(), "a deleted user's tokens end");
    assert!(s.session("x1").await.unwrap().is_some());

    let t = token("acme", "admin", "t1", "th1");
    s.insert_token(&t).await.unwrap();
    s.insert_token(&token("acme", "admin", "t2", "th2")).await.unwrap();
    assert!(matches!(s.insert_token(&t).await, Err(StoreError::Exists(_))));
    s.touch_token("th1", 777).await.unwrap();
    assert_eq!(s.token("th1").await.unwrap().unwrap().last_used_ms, Some(777));
    assert_eq!(s.tokens("acme").await.unwrap().len(), 2);
    s.delete_token("acme", "t1").await.unwrap();
    assert!(s.token("th1").await.unwrap().is_none());
    assert!(matches!(s.delete_token("acme", "t1").await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_token("other", "t2").await, Err(StoreError::NotFound(_))));

    let code = |h: &str| OneTimeCode {
        account: "acme".into(),
        user: "admin".into(),
        purpose: "login".into(),
        code_hash: h.into(),
        expires_ms: 5_000,
    };
    s.put_code(&code("c1")).await.unwrap();
    s.put_code(&code("c2")).await.unwrap();
    assert_eq!(s.take_code("acme", "admin", "login").await.unwrap(), Some(code("c2")));
    assert_eq!(s.take_code("acme", "admin", "login").await.unwrap(), None);
    assert_eq!(s.take_code("acme", "admin", "reset").await.unwrap(), None);
}

pub async fn login_failures_and_access_log(s: &dyn Storage) {
    assert_eq!(s.login_failures("acme/bob", 0).await.unwrap(), 0);
    assert_eq!(s.login_failed("acme/bob", 100, 0).await.unwrap(), 1);
    assert_eq!(s.login_failed("acme/bob", 200, 0).await.unwrap(), 2);
    assert_eq!(s.login_failed("acme/eve", 200, 0).await.unwrap(), 1);
    // The window moves: the failure at 100 no longer counts from 150.
    assert_eq!(s.login_failed("acme/bob", 300, 150).await.unwrap(), 2);
    assert_eq!(s.login_failures("acme/bob", 150).await.unwrap(), 2);
    assert_eq!(s.login_failures("acme/bob", 250).await.unwrap(), 1);
    s.clear_login_failures("acme/bob").await.unwrap();
    assert_eq!(s.login_failures("acme/bob", 0).await.unwrap(), 0);
    assert_eq!(s.login_failures("acme/eve", 150).await.unwrap(), 1);
    // One key's short window does not prune another key's failures.
    assert_eq!(s.login_failed("ip/10.0.0.1", 1_000, 0).await.unwrap(), 1);
    assert_eq!(s.login_failed("acme/x", 900_000, 800_000).await.unwrap(), 1);
    assert_eq!(s.login_failures("ip/10.0.0.1", 0).await.unwrap(), 1);
    // A prefix clears its keys only, taken literally ('_' is no wildcard).
    for k in ["u:a_b@1", "u:a_b@2", "u:axb@1", "u:a_bc"] {
        s.login_failed(k, 1_000, 0).await.unwrap();
    }
    s.clear_login_failures_prefix("u:a_b@").await.unwrap();
    let left: Vec<u32> =
        futures::future::join_all(["u:a_b@1", "u:a_b@2", "u:axb@1", "u:a_bc"].map(|k| s.login_failures(k, 0)))
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
    assert_eq!(left, [0, 0, 1, 1]);

    setup_account(s, "acme").await;
    let entry = |t: i64, account: Option<&str>, path: &str| AccessEntry {
        t_ms: t,
        account: account.map(Into::into),
        user: Some("admin".into()),
        ip: "127.0.0.1".into(),
        method: "GET".into(),
        path: path.into(),
        status: 200,
    };
    s.log_access(&entry(1, Some("acme"), "/a")).await.unwrap();
    s.log_access(&entry(3, Some("acme"), "/c")).await.unwrap();
    s.log_access(&entry(2, Some("acme"), "/b")).await.unwrap();
    s.log_access(&entry(3, Some("acme"), "/d")).await.unwrap();
    s.log_access(&entry(4, Some("other"), "/x")).await.unwrap();
    s.log_access(&entry(5, None, "/login")).await.unwrap();
    let log = s.access_log("acme", 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/d", "/c", "/b", "/a"]);
    assert_eq!(log[0], entry(3, Some("acme"), "/d"));
    assert_eq!(s.access_log("acme", 2).await.unwrap().len(), 2);
}

pub async fn agents_and_broker_logins(s: &dyn Storage) {
    setup_account(s, "acme").await;
    setup_account(s, "beta").await;
    s.insert_agent(&agent("acme", "ag-2")).await.unwrap();
    s.insert_agent(&agent("acme", "ag-1")).await.unwrap();
    s.insert_agent(&agent("beta", "bg-1")).await.unwrap();
    assert!(matches!(s.insert_agent(&agent("beta", "ag-1")).await, Err(StoreError::Exists(_))));
    assert!(matches!(s.insert_agent(&agent("ghost", "gg")).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.agent("ag-1").await.unwrap().unwrap(), agent("acme", "ag-1"));
    assert_eq!(s.agents("acme").await.unwrap().len(), 2);
    assert_eq!(
        s.broker_logins().await.unwrap(),
        vec![
            ("ag-1".to_string(), "$7$101$salt$ag-1".to_string()),
            ("ag-2".to_string(), "$7$101$salt$ag-2".to_string()),
            ("bg-1".to_string(), "$7$101$salt$bg-1".to_string()),
        ]
    );
    // A new secret: only that agent's hashes change; another account's agent is out of reach.
    assert!(matches!(s.set_agent_secret("beta", "ag-2", "h", "$7$x").await, Err(StoreError::NotFound(_))));
    s.set_agent_secret("acme", "ag-2", "new-secret-hash", "$7$101$salt$new").await.unwrap();
    let rotated = s.agent("ag-2").await.unwrap().unwrap();
    assert_eq!((rotated.secret_hash.as_str(), rotated.broker_hash.as_str()), ("new-secret-hash", "$7$101$salt$new"));
    assert_eq!(s.agent("ag-1").await.unwrap().unwrap(), agent("acme", "ag-1"));
    assert!(matches!(s.delete_agent("beta", "ag-1").await, Err(StoreError::NotFound(_))));
    s.delete_agent("acme", "ag-1").await.unwrap();
    assert_eq!(s.broker_logins().await.unwrap().len(), 2);
}

pub async fn ingest_is_idempotent_and_keeps_order(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let mut rng = Lcg(7);
    let a = series(&mut rng, 1_000_000, 300);
    let b = series(&mut rng, 10_000_000, 50);
    let (b1, n1) = batch(
        "store-1",
        1,
        500,
        &[
            P { path: "l1/CH1", unit: Some("V"), seq_from: 0, samples: &a[..100] },
            P { path: "l1/CH2", unit: None, seq_from: 0, samples: &b },
            P { path: "l1/CH3", unit: None, seq_from: 0, samples: &[] },
        ],
    );
    let now = 1_764_547_200_000; // 2025-12-01T00:00Z
    let o = s.ingest("ag", &b1, n1, now).await.unwrap();
    assert_eq!((o.stored, o.duplicate_parts), (150, 0));
    // A resend stores nothing.
    let o = s.ingest("ag", &b1, n1, now + 1).await.unwrap();
    assert_eq!((o.stored, o.duplicate_parts), (0, 3));

    // Out of order: seq 200.. arrives before 100.., and overlaps a resend of 0...
    let (b3, n3) = batch("store-1", 3, 0, &[P { path: "l1/CH1", unit: Some("mV"), seq_from: 200, samples: &a[200..] }]);
    let (b2, n2) = batch(
        "store-1",
        2,
        100,
        &[
            P { path: "l1/CH1", unit: Some("mV"), seq_from: 0, samples: &a[..100] },
            P { path: "l1/CH1", unit: Some("mV"), seq_from: 100, samples: &a[100..200] },
        ],
    );
    let o = s.ingest("ag", &b3, n3, now + 2).await.unwrap();
    assert_eq!((o.stored, o.duplicate_parts), (100, 0));
    let o = s.ingest("ag", &b2, n2, now + 3).await.unwrap();
    assert_eq!((o.stored, o.duplicate_parts), (100, 1));

    // A new cache file restarts the sequence: same seq_from, new data.
    let c = series(&mut rng, 20_000_000, 40);
    let (b4, n4) = batch("store-2", 1, 0, &[P { path: "l1/CH1", unit: Some("mV"), seq_from: 0, samples: &c }]);
    let o = s.ingest("ag", &b4, n4, now + 4).await.unwrap();
    assert_eq!((o.stored, o.duplicate_parts), (40, 0));

    let chans = s.channels("ag").await.unwrap();
    assert_eq!(chans.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["l1/CH1", "l1/CH2", "l1/CH3"]);
    let ch1 = &chans[0];
    assert_eq!(ch1.unit.as_deref(), Some("mV"));
    assert_eq!(ch1.samples, 340);
    assert_eq!(ch1.t_first, Some(a[0].t));
    assert_eq!(ch1.t_last, Some(c[39].t));
    assert_eq!(chans[2].samples, 0);
    assert_eq!(chans[2].t_last, None);
    assert_eq!(s.channel(ch1.id).await.unwrap().as_ref(), Some(ch1));
    assert!(s.channel(ch1.id + 1000).await.unwrap().is_none());

    let want: Vec<Point> = a.iter().chain(&c).map(pt).collect();
    assert_eq!(s.raw(ch1.id, i64::MIN, i64::MAX, usize::MAX).await.unwrap(), want);
    assert_eq!(s.raw(ch1.id, i64::MIN, i64::MAX, 120).await.unwrap(), want[..120]);
    assert_eq!(s.raw(chans[1].id, i64::MIN, i64::MAX, 1000).await.unwrap(), b.iter().map(pt).collect::<Vec<_>>());

    let ag = s.agent("ag").await.unwrap().unwrap();
    assert_eq!(ag.sync.samples, 390);
    assert_eq!(ag.sync.batches, 5);
    assert_eq!(ag.sync.backlog, 0);
    assert_eq!(ag.sync.last_batch_ms, Some(now + 4));
    assert_eq!(s.traffic("ag", "2025-12").await.unwrap(), 2 * n1 + n2 + n3 + n4);
    assert!(matches!(s.ingest("ghost", &b1, n1, now).await, Err(StoreError::NotFound(_))));
}

pub async fn reads_match_brute_force(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let mut rng = Lcg(42);
    let jittered = series(&mut rng, 1_700_000_000_000, 5_000);
    check_reads(s, "dev/T", &jittered, &mut rng).await;
    // Evenly spaced samples: cut chunks are counted from their step.
    let regular: Vec<Sample> = series(&mut rng, 0, 5_000)
        .into_iter()
        .enumerate()
        .map(|(i, x)| Sample { t: 1_600_000_000_000 + i as i64 * 1000, ..x })
        .collect();
    check_reads(s, "dev/R", &regular, &mut rng).await;
}

async fn check_reads(s: &dyn Storage, path: &str, all: &[Sample], rng: &mut Lcg) {
    // Parts of uneven size, sent in shuffled order.
    let mut cuts = vec![0usize];
    while *cuts.last().unwrap() < all.len() {
        let next = (*cuts.last().unwrap() + 50 + (rng.next() % 2500) as usize).min(all.len());
        cuts.push(next);
    }
    let mut order: Vec<usize> = (0..cuts.len() - 1).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    for (k, &i) in order.iter().enumerate() {
        let (b, n) = batch(
            "st",
            k as u64,
            0,
            &[P { path, unit: Some("°C"), seq_from: cuts[i] as i64, samples: &all[cuts[i]..cuts[i + 1]] }],
        );
        s.ingest("ag", &b, n, 0).await.unwrap();
    }
    let ch = s.channels("ag").await.unwrap().into_iter().find(|c| c.path == path).unwrap().id;
    let (t0, t1) = (all[0].t, all[all.len() - 1].t);

    let raw = |from: i64, to: i64| all.iter().filter(|s| s.t >= from && s.t < to).map(pt).collect::<Vec<_>>();
    for (from, to) in [(t0, t1 + 1), (t0, t1), (all[777].t, all[3210].t), (t0 - 10, t0), (t1 + 1, t1 + 100)] {
        assert_eq!(s.raw(ch, from, to, usize::MAX).await.unwrap(), raw(from, to), "raw {from}..{to}");
    }
    let latest = s.latest(ch).await.unwrap().unwrap();
    assert_eq!(latest, pt(&all[all.len() - 1]));

    // Whole range, edges on sample times, more buckets than samples, one bucket.
    for (from, to, n) in [
        (t0, t1 + 1, 100),
        (t0, t1 + 1, 1),
        (all[100].t, all[4000].t, 37),
        (all[1000].t, all[1010].t, 50),
        (t0 + 500, t1 - 333, 333),
        (t0 + 1, t1 - 1, 4999),
        (t0 - 1_000_000, t1 + 1_000_000, 2000),
        (t0, t1 + 1, 7),
    ] {
        let got = s.minmax(ch, from, to, n).await.unwrap();
        assert_eq!(got, brute_minmax(all, from, to, n), "minmax {path} {from}..{to} / {n}");
    }
    assert!(s.minmax(ch, t1, t0, 10).await.unwrap().is_empty());
    assert!(s.minmax(ch, t0, t1, 0).await.unwrap().is_empty());
    assert!(s.minmax(ch, t0, t1, 100_000_000).await.is_err());
    assert!(matches!(s.raw(ch + 99, t0, t1, 10).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.minmax(ch + 99, t0, t1, 10).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.latest(ch + 99).await, Err(StoreError::NotFound(_))));
}

/// Export pages (issue 19): samples stored out of time order (a clock that
/// stepped back inside a part and between parts, a second cache file whose
/// samples interleave the first's, repeated milliseconds) come in time
/// order, each exactly once, whatever the page size; the cursor of the
/// last sample continues where the page ended.
pub async fn pages_in_time_order_hold_every_sample_once(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let mut rng = Lcg(19);
    let t0 = 1_700_000_000_000i64;
    // (store arrival, seq_from, index) of every sample, as storage keeps it.
    let mut all: Vec<((usize, i64, u32), Sample)> = Vec::new();
    let mut k = 0u64;
    for (store_no, store) in ["st-a", "st-b"].iter().enumerate() {
        for part in 0..12i64 {
            // Each part starts earlier than the last ended: out of order.
            let start = t0 + (part % 4) * 30_000 - part * 7_000 + store_no as i64 * 3_500;
            let samples: Vec<Sample> = (0..(40 + (rng.next() % 300) as i64))
                .map(|i| {
                    // Steps back now and then, and repeats milliseconds.
                    let t = start + i * 250 - if i % 17 == 5 { 5_000 } else { 0 } - (i % 3 == 0) as i64 * 250;
                    if i % 11 == 3 {
                        Sample::special(t, SpecialKind::Invalid)
                    } else {
                        Sample::number(t, (rng.next() % 10_000) as f64 / 10.0)
                    }
                })
                .collect();
            let seq = part * 1_000;
            for (i, x) in samples.iter().enumerate() {
                all.push(((store_no, seq, i as u32), *x));
            }
            let (b, n) = batch(store, k, 0, &[P { path: "dev/ooo", unit: None, seq_from: seq, samples: &samples }]);
            s.ingest("ag", &b, n, 0).await.unwrap();
            k += 1;
        }
    }
    all.sort_by_key(|(pos, x)| (x.t, *pos));
    let ch = s.channels("ag").await.unwrap()[0].id;
    let (lo, hi) = (all[0].1.t, all[all.len() - 1].1.t);
    for (from, to) in [(lo, hi + 1), (lo + 20_000, hi - 20_000), (t0, t0 + 30_000)] {
        let want: Vec<Point> = all.iter().map(|x| x.1).filter(|x| x.t >= from && x.t < to).map(|x| pt(&x)).collect();
        for page in [1usize, 7, 64, 1_000, 100_000] {
            let mut got: Vec<Point> = Vec::new();
            let mut after = None;
            loop {
                let p = s.raw_page(ch, from, to, after, page).await.unwrap();
                assert!(p.len() <= page);
                assert!(p.windows(2).all(|w| w[0].0 < w[1].0), "keys ascend within a page");
                if let (Some(a), Some(first)) = (after, p.first()) {
                    assert!(first.0 > a, "a page starts after the cursor");
                }
                got.extend(p.iter().map(|x| x.1));
                match p.last() {
                    Some(last) => after = Some(last.0),
                    None => break,
                }
            }
            assert_eq!(got.len(), want.len(), "{from}..{to} in pages of {page}: each sample once");
            assert_eq!(got, want, "{from}..{to} in pages of {page}: time order, ties in storage order");
        }
    }
    // The cursor names a sample: written and read back.
    let first = s.raw_page(ch, lo, hi + 1, None, 3).await.unwrap();
    let key: SampleKey = first[2].0.to_string().parse().unwrap();
    assert_eq!(key, first[2].0);
    let neg = SampleKey { t: -5, store: 1, seq: 2, idx: 3 };
    assert_eq!(neg.to_string().parse::<SampleKey>(), Ok(neg));
    assert!("1_2_3".parse::<SampleKey>().is_err());
    assert!(matches!(s.raw_page(ch + 99, lo, hi, None, 10).await, Err(StoreError::NotFound(_))));
}

pub async fn latest_of_a_special_and_of_an_empty_channel(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let samples = [Sample::number(10, 1.5), Sample::special(20, SpecialKind::BurnOut)];
    let (b, n) = batch(
        "st",
        1,
        0,
        &[
            P { path: "d/A", unit: None, seq_from: 0, samples: &samples },
            P { path: "d/B", unit: None, seq_from: 0, samples: &[] },
        ],
    );
    s.ingest("ag", &b, n, 0).await.unwrap();
    let chans = s.channels("ag").await.unwrap();
    assert_eq!(s.latest(chans[0].id).await.unwrap(), Some(Point { t: 20, v: None }));
    assert_eq!(s.latest(chans[1].id).await.unwrap(), None);
    let mm = s.minmax(chans[0].id, 0, 30, 3).await.unwrap();
    assert_eq!(mm[1].count, 1);
    assert_eq!(mm[1].min, Some(Point { t: 10, v: Some(1.5) }));
    assert_eq!(mm[2].count, 1);
    assert_eq!(mm[2].min, None);
}

pub async fn traffic_and_refusals(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let nov = 1_764_460_800_000; // 2025-11-30T00:00Z
    let dec = 1_764_547_200_000; // 2025-12-01T00:00Z
    let allowance = account("acme").traffic_allowance;
    // Each payload reports its month's total with it counted, and the allowance.
    let t = s.ingest_refused("ag", "channel 0 (l1/CH1): truncated", 1000, nov).await.unwrap();
    assert_eq!(t, MonthTraffic { bytes: 1000, allowance });
    let t = s.ingest_refused("ag", "not a Meterdeck batch", 24, dec).await.unwrap();
    assert_eq!(t, MonthTraffic { bytes: 24, allowance });
    let (b, n) =
        batch("st", 1, 0, &[P { path: "l1/CH1", unit: None, seq_from: 0, samples: &[Sample::number(1, 1.0)] }]);
    let o = s.ingest("ag", &b, n, dec).await.unwrap();
    assert_eq!(o.traffic, MonthTraffic { bytes: 24 + n, allowance });
    assert_eq!(s.traffic("ag", "2025-11").await.unwrap(), 1000);
    assert_eq!(s.traffic("ag", "2025-12").await.unwrap(), 24 + n);
    assert_eq!(s.traffic("ag", "2026-01").await.unwrap(), 0);
    let a = s.agent("ag").await.unwrap().unwrap();
    assert_eq!(a.sync.rejected, 2);
    assert_eq!(a.sync.last_error.as_deref(), Some("not a Meterdeck batch"));
    assert_eq!(a.sync.batches, 1);
    assert!(matches!(s.ingest_refused("ghost", "x", 1, dec).await, Err(StoreError::NotFound(_))));
    let o = s.ingest("ag", &b, n, dec + 1).await.unwrap();
    assert_eq!((o.duplicate_parts, o.traffic.bytes), (1, 24 + 2 * n), "a resend is traffic too");
}

/// A batch that would take its agent past the channel cap is refused whole
/// (nothing stored, no channel made); within the cap, and on channels the
/// agent already has, batches go through.
pub async fn channel_cap_refuses_the_whole_batch(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let limits = IngestLimits { max_channels_per_agent: 3 };
    let one = [Sample::number(1, 1.0)];
    let paths = ["l1/a", "l1/b", "l1/c", "l1/d"];
    let parts = |names: &[&'static str], seq: i64| -> Vec<P<'static>> {
        names.iter().map(|&path| P { path, unit: None, seq_from: seq, samples: &[] }).collect()
    };
    let (b, n) = batch("st", 1, 0, &parts(&paths[..2], 0));
    s.ingest_limited("ag", &b, n, 0, limits).await.unwrap();
    // Two known and two new: four, over three.
    let (b, n) = batch("st", 2, 0, &parts(&paths, 10));
    let err = s.ingest_limited("ag", &b, n, 0, limits).await.unwrap_err();
    match &err {
        StoreError::Refused(m) => assert!(m.contains("4 channels") && m.contains("at most 3"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(s.channels("ag").await.unwrap().len(), 2, "a refused batch makes no channel");
    assert_eq!(s.agent("ag").await.unwrap().unwrap().sync.batches, 1, "nor counts as stored");
    // Known channels take samples; one more channel fits.
    let (b, n) = batch("st", 3, 0, &[P { path: "l1/a", unit: None, seq_from: 20, samples: &one }]);
    assert_eq!(s.ingest_limited("ag", &b, n, 0, limits).await.unwrap().stored, 1);
    let (b, n) = batch("st", 4, 0, &parts(&paths[..3], 30));
    s.ingest_limited("ag", &b, n, 0, limits).await.unwrap();
    assert_eq!(s.channels("ag").await.unwrap().len(), 3);
    // The default cap is generous: the same batch goes through unlimited.
    let (b, n) = batch("st", 5, 0, &parts(&paths, 40));
    assert!(matches!(s.ingest_limited("ag", &b, n, 0, limits).await, Err(StoreError::Refused(_))));
    s.ingest("ag", &b, n, 0).await.unwrap();
    assert_eq!(s.channels("ag").await.unwrap().len(), 4);
}

pub async fn deletes_cascade(s: &dyn Storage) {
    setup_account(s, "acme").await;
    setup_account(s, "beta").await;
    for (acc, ag) in [("acme", "a1"), ("acme", "a2"), ("beta", "b1")] {
        s.insert_agent(&agent(acc, ag)).await.unwrap();
        let (b, n) =
            batch("st", 1, 0, &[P { path: "l/C", unit: None, seq_from: 0, samples: &[Sample::number(5, 2.0)] }]);
        s.ingest(ag, &b, n, 0).await.unwrap();
    }
    s.put_group(&Group {
        account: "acme".into(),
        id: "g".into(),
        name: "G".into(),
        agents: vec!["a1".into(), "a2".into()],
        users: vec![],
        teams: vec![],
    })
    .await
    .unwrap();
    let a1_ch = s.channels("a1").await.unwrap()[0].id;
    s.delete_agent("acme", "a1").await.unwrap();
    assert!(s.agent("a1").await.unwrap().is_none());
    assert!(s.channels("a1").await.unwrap().is_empty());
    assert!(s.channel(a1_ch).await.unwrap().is_none());
    assert_eq!(s.traffic("a1", &series::month_of(0)).await.unwrap(), 0);
    assert_eq!(s.groups("acme").await.unwrap()[0].agents, vec!["a2".to_string()]);
    // Its id can be registered again and starts empty.
    s.insert_agent(&agent("acme", "a1")).await.unwrap();
    assert!(s.channels("a1").await.unwrap().is_empty());

    s.insert_session(&session("acme", "admin", "hs")).await.unwrap();
    s.insert_token(&token("acme", "admin", "t", "ht")).await.unwrap();
    s.put_team(&Team { account: "acme".into(), id: "t".into(), name: "T".into(), members: vec![] }).await.unwrap();
    s.log_access(&AccessEntry {
        t_ms: 1,
        account: Some("acme".into()),
        user: None,
        ip: "::1".into(),
        method: "GET".into(),
        path: "/".into(),
        status: 200,
    })
    .await
    .unwrap();
    let a2_ch = s.channels("a2").await.unwrap()[0].id;
    s.delete_account("acme").await.unwrap();
    assert!(s.account("acme").await.unwrap().is_none());
    assert!(s.users("acme").await.unwrap().is_empty());
    assert!(s.teams("acme").await.unwrap().is_empty());
    assert!(s.groups("acme").await.unwrap().is_empty());
    assert!(s.agents("acme").await.unwrap().is_empty());
    assert!(s.session("hs").await.unwrap().is_none());
    assert!(s.token("ht").await.unwrap().is_none());
    assert!(s.tokens("acme").await.unwrap().is_empty());
    assert!(s.access_log("acme", 10).await.unwrap().is_empty());
    assert!(s.channel(a2_ch).await.unwrap().is_none());
    // The other account is untouched.
    assert_eq!(s.agents("beta").await.unwrap().len(), 1);
    assert_eq!(s.channels("b1").await.unwrap()[0].samples, 1);
    assert_eq!(s.broker_logins().await.unwrap().len(), 1);
}

/// Two handles on one database (two cloud processes) ingest the same
/// batches at once, in opposite orders: every sample is stored once.
pub async fn concurrent_ingest_stores_once(a: &dyn Storage, b: &dyn Storage) {
    setup_account(a, "acme").await;
    a.insert_agent(&agent("acme", "ag")).await.unwrap();
    let mut rng = Lcg(99);
    let data: Vec<Vec<Sample>> = (0..3).map(|k| series(&mut rng, 1_000_000 * (k + 1), 2_000)).collect();
    let paths = ["x/A", "x/B", "x/C"];
    let batches: Vec<(IngestBatch, u64)> = (0..20)
        .map(|i| {
            let parts: Vec<P<'_>> = (0..3)
                .map(|k| P {
                    path: paths[k],
                    unit: None,
                    seq_from: i as i64 * 100,
                    samples: &data[k][i * 100..(i + 1) * 100],
                })
                .collect();
            batch("st", i as u64, 0, &parts)
        })
        .collect();
    async fn run(h: &dyn Storage, batches: &[(IngestBatch, u64)], order: impl Iterator<Item = usize>) -> u64 {
        let mut stored = 0;
        for i in order {
            stored += h.ingest("ag", &batches[i].0, batches[i].1, 0).await.unwrap().stored;
        }
        stored
    }
    let (x, y) = futures::join!(run(a, &batches, 0..20), run(b, &batches, (0..20).rev()));
    assert_eq!(x + y, 6_000);
    let chans = a.channels("ag").await.unwrap();
    for (k, c) in chans.iter().enumerate() {
        assert_eq!(c.samples, 2_000);
        let want: Vec<Point> = data[k].iter().map(pt).collect();
        assert_eq!(b.raw(c.id, i64::MIN, i64::MAX, usize::MAX).await.unwrap(), want);
    }
    assert_eq!(a.agent("ag").await.unwrap().unwrap().sync.samples, 6_000);
    assert_eq!(a.agent("ag").await.unwrap().unwrap().sync.batches, 40);
}

pub async fn licences_cards_and_reminders(s: &dyn Storage) {
    setup_account(s, "acme").await;
    setup_account(s, "globex").await;
    assert_eq!(s.licence("acme").await.unwrap(), None);
    let st = LicenceState {
        account: "acme".into(),
        plan: Plan::Pro,
        expires: Some(5_000),
        plan_changed: None,
        gateways: vec![GatewayTerm {
            agent: "a-1".into(),
            plan: RemotePlan::Basic,
            expires: 9_000,
            plan_changed: None,
            removed: None,
        }],
        over_capacity_since: None,
        time_zone: None,
    };
    let ev = |at: i64, what: &str| LicenceEvent {
        account: "acme".into(),
        at,
        what: what.into(),
        by: "ann".into(),
        detail: format!("{what} at {at}"),
    };
    let card = Card {
        code_hash: "h1".into(),
        account: "acme".into(),
        product: CardProduct::Remote { plan: RemotePlan::Pro, agent: "a-1".into() },
        months: 3,
        issued_ms: 100,
        used_ms: None,
        used_by: None,
    };
    s.insert_card(&card).await.unwrap();
    assert!(matches!(s.insert_card(&card).await, Err(StoreError::Exists(_))));
    assert!(matches!(
        s.insert_card(&Card { account: "nobody".into(), code_hash: "h9".into(), ..card.clone() }).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.card("h1").await.unwrap(), Some(card.clone()));
    assert_eq!(s.card("h2").await.unwrap(), None);
    // First write (version 0), with the card.
    s.save_licence(&st, 0, Some("h1"), &ev(200, "card-applied")).await.unwrap();
    assert_eq!(s.licence("acme").await.unwrap(), Some((st.clone(), 1)));
    let used = s.card("h1").await.unwrap().unwrap();
    assert_eq!((used.used_ms, used.used_by.as_deref()), (Some(200), Some("ann")));
    // A stale version or a used card change nothing.
    let mut st2 = st.clone();
    st2.plan = Plan::Standard;
    assert!(matches!(s.save_licence(&st2, 0, None, &ev(300, "x")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.save_licence(&st2, 5, None, &ev(300, "x")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.save_licence(&st2, 1, Some("h1"), &ev(300, "x")).await, Err(StoreError::Refused(_))));
    // Another account's card does not apply here.
    s.insert_card(&Card { account: "globex".into(), code_hash: "g1".into(), ..card.clone() }).await.unwrap();
    assert!(matches!(s.save_licence(&st2, 1, Some("g1"), &ev(300, "x")).await, Err(StoreError::Refused(_))));
    assert_eq!(s.licence("acme").await.unwrap(), Some((st.clone(), 1)));
    s.save_licence(&st2, 1, None, &ev(400, "plan-changed")).await.unwrap();
    assert_eq!(s.licence("acme").await.unwrap(), Some((st2.clone(), 2)));
    s.licence_event(&ev(500, "reminder")).await.unwrap();
    let h = s.licence_history("acme", 10).await.unwrap();
    assert_eq!(h.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(), ["reminder", "plan-changed", "card-applied"]);
    assert_eq!(s.licence_history("acme", 1).await.unwrap().len(), 1);
    assert!(s.licence_history("globex", 10).await.unwrap().is_empty());
    assert_eq!(s.account_ids().await.unwrap(), ["acme", "globex"]);
    // Storage per channel: what the account's parts take, largest first.
    assert!(s.storage_used("acme").await.unwrap().is_empty());
    s.insert_agent(&agent("acme", "ag1")).await.unwrap();
    let samples: Vec<Sample> = (0..500).map(|i| Sample::number(i * 1000, (i as f64).sin())).collect();
    let (b, n) = batch(
        "st",
        1,
        0,
        &[
            P { path: "dev/big", unit: None, seq_from: 0, samples: &samples },
            P { path: "dev/small", unit: None, seq_from: 0, samples: &samples[..5] },
        ],
    );
    s.ingest("ag1", &b, n, 0).await.unwrap();
    let used = s.storage_used("acme").await.unwrap();
    assert_eq!(used.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["dev/big", "dev/small"]);
    assert!(used[0].bytes > used[1].bytes && used[1].bytes > 0, "{used:?}");
    assert!(s.storage_used("globex").await.unwrap().is_empty());
    // Pruning, oldest first: by age, then by bytes.
    let old: Vec<Sample> = (0..100).map(|i| Sample::number(i * 1000, 1.0)).collect();
    let new: Vec<Sample> = (0..100).map(|i| Sample::number(1_000_000 + i * 1000, 2.0)).collect();
    let (b1, n1) = batch("st2", 2, 0, &[P { path: "dev/age", unit: None, seq_from: 0, samples: &old }]);
    let (b2, n2) = batch("st2", 3, 0, &[P { path: "dev/age", unit: None, seq_from: 100, samples: &new }]);
    s.ingest("ag1", &b1, n1, 0).await.unwrap();
    s.ingest("ag1", &b2, n2, 0).await.unwrap();
    let age = s.channels("ag1").await.unwrap().into_iter().find(|c| c.path == "dev/age").unwrap();
    assert_eq!((age.samples, age.t_first), (200, Some(0)));
    let none = s.prune("acme", Prune::OlderThan(0)).await.unwrap();
    assert_eq!(none, Pruned::default());
    let p = s.prune("acme", Prune::OlderThan(500_000)).await.unwrap();
    // The "dev/big" and "dev/small" parts (t up to 499 s) and the old half of dev/age.
    assert_eq!((p.parts, p.samples, p.t_from, p.t_to), (3, 605, Some(0), Some(499_000)), "{p:?}");
    assert_eq!(p.channels.len(), 3, "{p:?}");
    let age = s.channels("ag1").await.unwrap().into_iter().find(|c| c.path == "dev/age").unwrap();
    assert_eq!((age.samples, age.t_first, age.t_last), (100, Some(1_000_000), Some(1_099_000)));
    assert_eq!(s.raw(age.id, 0, i64::MAX, 1000).await.unwrap().len(), 100);
    let left: u64 = s.storage_used("acme").await.unwrap().iter().map(|c| c.bytes).sum();
    assert_eq!(s.prune("acme", Prune::DownTo(left)).await.unwrap(), Pruned::default(), "already within");
    let p = s.prune("acme", Prune::DownTo(left - 1)).await.unwrap();
    assert_eq!((p.parts, p.samples), (1, 100));
    assert!(s.storage_used("acme").await.unwrap().iter().all(|c| c.bytes == 0));
    let age = s.channels("ag1").await.unwrap().into_iter().find(|c| c.path == "dev/age").unwrap();
    assert_eq!((age.samples, age.t_first, age.t_last), (0, None, None));
    // Reminders: once each, per account.
    assert!(s.record_reminder("acme", "2027-01-04/monthly", 1).await.unwrap());
    assert!(!s.record_reminder("acme", "2027-01-04/monthly", 2).await.unwrap());
    assert!(s.record_reminder("globex", "2027-01-04/monthly", 2).await.unwrap());
    s.forget_reminder("acme", "2027-01-04/monthly").await.unwrap();
    assert!(s.record_reminder("acme", "2027-01-04/monthly", 3).await.unwrap());
    // Deleting the account takes its licence, history, cards and reminders.
    s.delete_account("acme").await.unwrap();
    assert_eq!(s.licence("acme").await.unwrap(), None);
    assert!(s.licence_history("acme", 10).await.unwrap().is_empty());
    assert_eq!(s.card("h1").await.unwrap(), None);
    assert!(matches!(s.record_reminder("acme", "k", 1).await, Err(StoreError::NotFound(_))));
}

pub async fn boards_in_order_per_account(s: &dyn Storage) {
    setup_account(s, "acme").await;
    setup_account(s, "other").await;
    let b = s.boards();
    let one = b.board_insert("acme", "One", "[]", 10).await.unwrap();
    let two = b.board_insert("acme", "Two", "[{\"kind\":\"value\"}]", 11).await.unwrap();
    let theirs = b.board_insert("other", "Theirs", "[]", 12).await.unwrap();
    assert_eq!((one.position, two.position, theirs.position), (1, 2, 1));
    assert_eq!(two.panels, "[{\"kind\":\"value\"}]");
    let names = |v: Vec<BoardRow>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(b.boards("acme").await.unwrap()), ["One", "Two"]);
    // Another account's board is not found by id.
    assert_eq!(b.board("acme", theirs.id).await.unwrap(), None);
    assert!(matches!(b.board_update("acme", theirs.id, "x", "[]", 1).await, Err(StoreError::NotFound(_))));
    assert!(matches!(b.board_delete("acme", theirs.id).await, Err(StoreError::NotFound(_))));
    b.board_update("acme", one.id, "Uno", "[1]", 20).await.unwrap();
    let got = b.board("acme", one.id).await.unwrap().unwrap();
    assert_eq!((got.name.as_str(), got.panels.as_str(), got.updated_ms), ("Uno", "[1]", 20));
    b.board_reorder("acme", &[two.id, one.id]).await.unwrap();
    assert_eq!(names(b.boards("acme").await.unwrap()), ["Two", "Uno"]);
    // A reorder must list every board once, and nothing of another account.
    for bad in [vec![two.id], vec![two.id, one.id, theirs.id], vec![two.id, two.id, one.id]] {
        assert!(matches!(b.board_reorder("acme", &bad).await, Err(StoreError::Refused(_))), "{bad:?}");
    }
    assert_eq!(names(b.boards("acme").await.unwrap()), ["Two", "Uno"]);
    // A new board goes last.
    b.board_insert("acme", "Three", "[]", 30).await.unwrap();
    assert_eq!(names(b.boards("acme").await.unwrap()), ["Two", "Uno", "Three"]);
    b.board_delete("acme", two.id).await.unwrap();
    assert_eq!(names(b.boards("acme").await.unwrap()), ["Uno", "Three"]);
    assert!(matches!(b.board_insert("nobody", "x", "[]", 1).await, Err(StoreError::NotFound(_))));
    // Deleting the account takes its boards.
    s.delete_account("acme").await.unwrap();
    assert!(b.boards("acme").await.unwrap().is_empty());
    assert_eq!(names(b.boards("other").await.unwrap()), ["Theirs"]);
}

// ---- site records (issue 16) --------------------------------------------------

fn journal(seq: i64, t: i64, alarm: &str, action: &str, to: &str) -> meterdeck_wire::records::Record {
    use meterdeck_wire::records::{JournalRecord, Record, RecordBody};
    Record {
        seq,
        t,
        body: RecordBody::Journal(JournalRecord {
            alarm_id: alarm.into(),
            rule_id: alarm.into(),
            name: format!("Alarm {alarm}"),
            severity: "high".into(),
            action: action.into(),
            from_state: "normal".into(),
            to_state: to.into(),
            comment: Some("c".into()),
            ..JournalRecord::default()
        }),
    }
}

fn event(seq: i64, t: i64) -> meterdeck_wire::records::Record {
    use meterdeck_wire::records::{EventRecord, Record, RecordBody};
    Record {
        seq,
        t,
        body: RecordBody::Event(EventRecord {
            instrument: Some("log".into()),
            event: "disconnected".into(),
            message: format!("drop {seq}"),
            text: None,
        }),
    }
}

async fn site_records_are_idempotent_ordered_and_paged(s: &dyn Storage) {
    use records::{RecordCursor, RecordQuery};
    setup_account(s, "acme").await;
    setup_account(s, "globex").await;
    s.insert_agent(&agent("acme", "a1")).await.unwrap();
    s.insert_agent(&agent("globex", "g1")).await.unwrap();
    let r = s.records();
    let first = vec![
        journal(1, 100, "hot", "raise", "unack_active"),
        event(2, 100),
        journal(3, 90, "cold", "raise", "unack_active"),
    ];
    assert_eq!(r.store_records("a1", "st1", &first, 5).await.unwrap(), 3);
    // A resend (and an overlapping one) stores nothing twice.
    assert_eq!(r.store_records("a1", "st1", &first, 6).await.unwrap(), 0);
    let more = vec![
        event(2, 100),
        journal(4, 200, "hot", "notify_ok", "unack_active"),
        journal(5, 150, "hot", "ack", "ack_active"),
    ];
    assert_eq!(r.store_records("a1", "st1", &more, 7).await.unwrap(), 2);
    // Another store of the same agent has its own seqs.
    assert_eq!(r.store_records("a1", "st2", &[event(1, 300)], 8).await.unwrap(), 1);
    assert!(matches!(r.store_records("nobody", "st1", &first, 5).await, Err(StoreError::NotFound(_))));
    assert_eq!(r.store_records("g1", "st1", &[event(1, 1)], 5).await.unwrap(), 1);

    let all = |q: RecordQuery| async move { r.records("a1", &q).await.unwrap() };
    let q = |limit| RecordQuery { limit, ..RecordQuery::default() };
    let got = all(q(100)).await;
    let keys: Vec<(String, i64)> = got.iter().map(|x| (x.store.clone(), x.seq)).collect();
    let want: Vec<(String, i64)> = [("st1", 3), ("st1", 1), ("st1", 2), ("st1", 5), ("st1", 4), ("st2", 1)]
        .iter()
        .map(|(a, b)| (a.to_string(), *b))
        .collect();
    assert_eq!(keys, want, "time, then seq");
    assert_eq!(got[1].kind, "journal");
    assert_eq!(got[1].body["to_state"], "unack_active");
    assert_eq!(got[1].body["comment"], "c");
    assert!(got[1].body.get("kind").is_none() && got[1].body.get("seq").is_none());
    assert_eq!(got[2].body["message"], "drop 2");
    // Pages of 2 hold every record once.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = all(RecordQuery { after, ..q(2) }).await;
        paged.extend(page.iter().map(|x| x.id));
        if page.len() < 2 {
            break;
        }
        after = Some(RecordCursor::of(page.last().unwrap()));
    }
    assert_eq!(paged, got.iter().map(|x| x.id).collect::<Vec<_>>());
    // Time range [from, to) and kinds.
    let ranged = all(RecordQuery { from: Some(100), to: Some(200), ..q(100) }).await;
    assert_eq!(ranged.iter().map(|x| x.seq).collect::<Vec<_>>(), vec![1, 2, 5]);
    let events = all(RecordQuery { kinds: vec!["event".into()], ..q(100) }).await;
    assert_eq!(events.len(), 2);
    let both = all(RecordQuery { kinds: vec!["event".into(), "journal".into()], ..q(100) }).await;
    assert_eq!(both.len(), 6);
    // Each alarm's latest state change, notifications left out.
    let states = r.alarm_states("a1").await.unwrap();
    let st: Vec<(String, String)> = states
        .iter()
        .map(|x| (x.body["alarm_id"].as_str().unwrap().to_owned(), x.body["to_state"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(st, vec![("cold".into(), "unack_active".into()), ("hot".into(), "ack_active".into())]);
    // Another account's agent is apart.
    assert_eq!(r.records("g1", &q(100)).await.unwrap().len(), 1);
}

async fn presence_and_offline_alarms_change_once(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "a1")).await.unwrap();
    s.insert_agent(&agent("acme", "a2")).await.unwrap();
    let r = s.records();
    assert_eq!(r.offline_after("acme").await.unwrap(), None);
    r.set_offline_after("acme", 60).await.unwrap();
    r.set_offline_after("acme", 30).await.unwrap();
    assert_eq!(r.offline_after("acme").await.unwrap(), Some(30));
    assert!(matches!(r.set_offline_after("nobody", 30).await, Err(StoreError::NotFound(_))));
    r.set_presence("a1", true, 1_000).await.unwrap();
    r.set_presence("a1", false, 2_000).await.unwrap();
    r.set_presence("unknown-agent", true, 1_000).await.unwrap();
    let p = r.presences().await.unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].agent.as_str(), p[0].online, p[0].status_ms, p[0].offline_alarm),
        ("a1", Some(false), Some(2_000), false)
    );
    assert_eq!((p[1].online, p[1].offline_after_s), (None, Some(30)));
    // Clearing what never stood is no transition.
    let body = serde_json::json!({"alarm": "agent_online"});
    assert!(!r.set_offline_alarm("a1", false, 2_500, &body).await.unwrap());
    let body = serde_json::json!({"alarm": "agent_offline", "message": "silent"});
    assert!(r.set_offline_alarm("a1", true, 3_000, &body).await.unwrap());
    assert!(!r.set_offline_alarm("a1", true, 3_001, &body).await.unwrap(), "raised once");
    // Concurrent raisers: exactly one wins.
    let wins = futures::future::join_all((0..4).map(|k| r.set_offline_alarm("a2", true, 3_100 + k, &body))).await;
    assert_eq!(wins.into_iter().filter(|w| *w.as_ref().unwrap()).count(), 1);
    let p = r.presences().await.unwrap();
    assert!(p[0].offline_alarm && p[0].alarm_ms == Some(3_000));
    assert!(r.set_offline_alarm("a1", false, 4_000, &serde_json::json!({"alarm": "agent_online"})).await.unwrap());
    assert!(!r.set_offline_alarm("a1", false, 4_001, &serde_json::json!({})).await.unwrap());
    let recs = r.records("a1", &records::RecordQuery { limit: 10, ..Default::default() }).await.unwrap();
    let alarms: Vec<(&str, i64, &str)> =
        recs.iter().map(|x| (x.kind.as_str(), x.t, x.body["alarm"].as_str().unwrap_or_default())).collect();
    assert_eq!(alarms, vec![("cloud_alarm", 3_000, "agent_offline"), ("cloud_alarm", 4_000, "agent_online")]);
    assert!(matches!(r.set_offline_alarm("nobody", true, 1, &body).await, Err(StoreError::NotFound(_))));
    // Deleting the agent takes its records and presence along.
    s.delete_agent("acme", "a1").await.unwrap();
    assert_eq!(r.presences().await.unwrap().len(), 1);
    assert!(r.records("a1", &records::RecordQuery { limit: 10, ..Default::default() }).await.unwrap().is_empty());
}

async fn remote_commands_are_journaled_in_order(s: &dyn Storage) {
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "a1")).await.unwrap();
    let r = s.records();
    // Two in the same millisecond (and concurrent ones) are all kept.
    r.add_remote_record("a1", 5_000, &serde_json::json!({"code": "no_consent"})).await.unwrap();
    r.add_remote_record("a1", 5_000, &serde_json::json!({"code": "ok"})).await.unwrap();
    let ok = serde_json::json!({"code": "ok"});
    let many = futures::future::join_all((0..4).map(|k| r.add_remote_record("a1", 6_000 + k, &ok))).await;
    assert!(many.iter().all(Result::is_ok), "{many:?}");
    let q = records::RecordQuery { kinds: vec![records::REMOTE_COMMAND.into()], limit: 100, ..Default::default() };
    let recs = r.records("a1", &q).await.unwrap();
    assert_eq!(recs.len(), 6);
    assert_eq!((recs[0].body["code"].as_str(), recs[1].body["code"].as_str()), (Some("no_consent"), Some("ok")));
    assert!(recs.iter().all(|x| x.store == records::REMOTE_STORE && x.kind == records::REMOTE_COMMAND));
    // Four kinds in one query.
    let all4 = records::RecordQuery {
        kinds: vec!["journal".into(), "event".into(), records::CLOUD_ALARM.into(), records::REMOTE_COMMAND.into()],
        limit: 100,
        ..Default::default()
    };
    assert_eq!(r.records("a1", &all4).await.unwrap().len(), 6);
    assert!(matches!(r.add_remote_record("nobody", 1, &serde_json::json!({})).await, Err(StoreError::NotFound(_))));
}

// ---- backends ---------------------------------------------------------------

/// Each alarm's latest raise and ack; acknowledgements made in the cloud
/// kept open until closed, counted when sent, gone with their agent.
async fn alarm_marks_and_cloud_acks(s: &dyn Storage) {
    use meterdeck_wire::alarms::PendingAck;
    setup_account(s, "acme").await;
    s.insert_agent(&agent("acme", "a1")).await.unwrap();
    s.insert_agent(&agent("acme", "a2")).await.unwrap();
    let r = s.records();
    let recs = vec![
        journal(1, 100, "hot", "raise", "UNACK"),
        journal(2, 110, "hot", "ack", "ACKED"),
        journal(3, 120, "hot", "return", "NORM"),
        journal(4, 130, "hot", "raise", "UNACK"),
        journal(5, 135, "hot", "notify_ok", "UNACK"),
        journal(6, 140, "cold", "raise", "UNACK"),
    ];
    r.store_records("a1", "st1", &recs, 5).await.unwrap();
    let marks: Vec<(String, String, i64)> = r
        .alarm_marks("a1")
        .await
        .unwrap()
        .iter()
        .map(|m| (m.body["alarm_id"].as_str().unwrap().into(), m.body["action"].as_str().unwrap().into(), m.t))
        .collect();
    let want = [("hot", "ack", 110), ("hot", "raise", 130), ("cold", "raise", 140)];
    assert_eq!(
        marks,
        want.map(|(a, b, t)| (a.to_string(), b.to_string(), t)).to_vec(),
        "latest raise and ack, in time order"
    );
    assert!(r.alarm_marks("a2").await.unwrap().is_empty());

    let ack = |id: &str, alarm: &str| PendingAck {
        id: id.into(),
        alarm_id: alarm.into(),
        user: "ann".into(),
        comment: Some("seen".into()),
        created_ms: 10,
        sends: 0,
        expired_ms: None,
    };
    r.add_cloud_ack("a1", &ack("k1", "hot")).await.unwrap();
    r.add_cloud_ack("a2", &ack("k2", "x")).await.unwrap();
    assert!(matches!(r.add_cloud_ack("nobody", &ack("k3", "x")).await, Err(StoreError::NotFound(_))));
    assert!(r.add_cloud_ack("a1", &ack("k1", "hot")).await.is_err(), "an id once");
    r.cloud_ack_sent("k1", 20).await.unwrap();
    r.cloud_ack_sent("k1", 25).await.unwrap();
    let open = r.open_cloud_acks(Some("a1")).await.unwrap();
    assert_eq!(open, vec![("a1".to_string(), PendingAck { sends: 2, ..ack("k1", "hot") })]);
    assert_eq!(r.open_cloud_acks(None).await.unwrap().len(), 2);
    r.close_cloud_ack("k1", 30).await.unwrap();
    r.close_cloud_ack("k1", 31).await.unwrap();
    assert!(r.open_cloud_acks(Some("a1")).await.unwrap().is_empty());
    s.delete_agent("acme", "a2").await.unwrap();
    assert!(r.open_cloud_acks(None).await.unwrap().is_empty(), "gone with the agent");
}

async fn sqlite_store() -> (Arc<dyn Storage>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cloud.db").display());
    (open(&url).await.unwrap(), dir)
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (s, _dir) = super::sqlite_store().await;
                    super::$name(&*s).await;
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::pg::TestDb::create(stringify!($name)).await else { return };
                    let s = super::open(&db.url).await.unwrap();
                    super::$name(&*s).await;
                    drop(s);
                }
            )*
        }
    };
}

suite!(
    accounts,
    users_teams_groups,
    sessions_tokens_codes,
    login_failures_and_access_log,
    agents_and_broker_logins,
    ingest_is_idempotent_and_keeps_order,
    reads_match_brute_force,
    pages_in_time_order_hold_every_sample_once,
    latest_of_a_special_and_of_an_empty_channel,
    traffic_and_refusals,
    channel_cap_refuses_the_whole_batch,
    deletes_cascade,
    licences_cards_and_reminders,
    boards_in_order_per_account,
    site_records_are_idempotent_ordered_and_paged,
    presence_and_offline_alarms_change_once,
    alarm_marks_and_cloud_acks,
    remote_commands_are_journaled_in_order,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_ingest_stores_once() {
    let (a, dir) = sqlite_store().await;
    let b = open(&format!("sqlite:{}", dir.path().join("cloud.db").display())).await.unwrap();
    concurrent_ingest_stores_once(&*a, &*b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_ingest_stores_once() {
    let Some(db) = pg::TestDb::create("concurrent_ingest").await else { return };
    let (a, b) = (open(&db.url).await.unwrap(), open(&db.url).await.unwrap());
    concurrent_ingest_stores_once(&*a, &*b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_is_a_working_copy() {
    let (s, dir) = sqlite_store().await;
    setup_account(&*s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let (b, n) = batch("st", 1, 0, &[P { path: "l/C", unit: None, seq_from: 0, samples: &[Sample::number(5, 2.0)] }]);
    s.ingest("ag", &b, n, 0).await.unwrap();
    let dest = dir.path().join("backup.db");
    // Ingest keeps going during the backup: neither blocks the other.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 1..40 {
                let x = [Sample::number(5 + i, 2.0)];
                let (b, n) = batch("st", i as u64, 0, &[P { path: "l/C", unit: None, seq_from: i, samples: &x }]);
                s.ingest("ag", &b, n, 0).await.unwrap();
            }
        })
    };
    s.backup_to(&dest).await.unwrap();
    writer.await.unwrap();
    assert!(!dir.path().join("backup.db.partial").exists());
    assert!(matches!(s.backup_to(&dest).await, Err(StoreError::Exists(_))));
    let copy = open(&format!("sqlite:{}", dest.display())).await.unwrap();
    let ch = copy.channels("ag").await.unwrap();
    // A consistent snapshot: the samples it holds are a prefix of the ingest.
    let got = copy.raw(ch[0].id, 0, 100, 100).await.unwrap();
    assert!(!got.is_empty());
    assert_eq!(got, (0..got.len() as i64).map(|i| Point { t: 5 + i, v: Some(2.0) }).collect::<Vec<_>>());
    assert_eq!(ch[0].samples, got.len() as u64);
}

#[tokio::test]
async fn open_names_bad_urls() {
    let err = |u: &str| {
        let u = u.to_owned();
        async move { open(&u).await.err().map(|e| format!("{e:#}")).unwrap_or_default() }
    };
    assert!(err("mysql://root:secret@db/x").await.contains("\"mysql\""));
    assert!(!err("mysql://root:secret@db/x").await.contains("secret"));
    assert!(err("sqlite:").await.contains("names no file"));
    // A directory that cannot be created (a file is in the way).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let bad = dir.path().join("file/cloud.db");
    assert!(err(&format!("sqlite:{}", bad.display())).await.contains(&bad.display().to_string()));
    // A missing directory is created.
    let fresh = dir.path().join("new/sub/cloud.db");
    open(&format!("sqlite:{}", fresh.display())).await.unwrap();
    assert!(fresh.exists());
}

use super::testdb as pg;

/// A year of 1 s samples (3154 parts of 10,000) downsampled to 2000
/// buckets; prints the timings. Debug builds are far slower than release:
/// `cargo test -p meterdeck-cloud --lib -- --ignored one_year --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing, slow in debug builds"]
async fn sqlite_one_year_minmax_timing() {
    let (s, _dir) = sqlite_store().await;
    setup_account(&*s, "acme").await;
    s.insert_agent(&agent("acme", "ag")).await.unwrap();
    let t0 = 1_735_689_600_000i64; // 2025-01-01
    let year = 365 * 86_400;
    let started = std::time::Instant::now();
    let mut scratch = EncodeScratch::default();
    let mut samples = Vec::with_capacity(10_000);
    let mut rng = Lcg(1);
    for (b, from) in (0..year).step_by(10_000).enumerate() {
        samples.clear();
        for i in from..(from + 10_000).min(year) {
            let x = i as f64 * std::f64::consts::TAU / 86_400.0;
            let v = (20.0 + 5.0 * x.sin() + (rng.next() % 1000) as f64 / 1000.0) * 100.0;
            samples.push(Sample::number(t0 + i * 1000, v.round() / 100.0));
        }
        let part = PartIn {
            path: "site/T",
            unit: Some("°C"),
            seq_from: from,
            seq_to: from + samples.len() as i64,
            samples: &samples,
        };
        let bytes = encode_batch("st", b as u64, 0, 0, &[part], &mut scratch).unwrap();
        let batch = IngestBatch::decode(&bytes).unwrap();
        s.ingest("ag", &batch, bytes.len() as u64, 0).await.unwrap();
    }
    let ingested = started.elapsed();
    let ch = s.channels("ag").await.unwrap()[0].clone();
    assert_eq!(ch.samples, year as u64);
    let mut best = std::time::Duration::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let mm = s.minmax(ch.id, t0, t0 + year * 1000, 2000).await.unwrap();
        best = best.min(t.elapsed());
        assert_eq!(mm.iter().map(|m| m.count).sum::<u64>(), year as u64);
    }
    println!("one year of 1 s: ingest {ingested:?}, minmax 2000 buckets {best:?} (best of 3)");
}
