//! The desktop's cloud link (`meterdeck_core::cloudlink`) against this
//! crate's real API router over HTTP: the JSON shapes both sides must agree
//! on, from the first sign-in with a temporary password to the Viewer's
//! series and sign-out. (The window test tests/e2e/cloud_window.rs runs the
//! same path through the app; this one is quick and names the broken call.)
//! Run: `cargo test -p meterdeck-cloud --test desktop_link`.

mod api_support;

use std::sync::Arc;

use api_support::Env;
use meterdeck_core::cloudlink::{CloudLink, MemoryPrefs, session_entry};
use meterdeck_core::notify::{MemorySecrets, SecretStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_link_speaks_the_api() {
    let env = Env::start(false).await;
    let base = env.base.strip_suffix("/api/v1").expect("the API under /api/v1").to_string();
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "acme", "Acme", "pro", "boss", "boss@example.com")
        .await
        .unwrap();
    let secrets = Arc::new(MemorySecrets::new());
    let link = CloudLink::new(secrets.clone(), Arc::new(MemoryPrefs::default())).unwrap();

    // The temporary password: a password step, then a full session.
    let st = link.sign_in(&base, "acme", "boss", &temp).await.unwrap();
    assert_eq!((st.signed_in, st.step.as_deref()), (false, Some("password")), "{st:?}");
    assert_eq!(secrets.get(&session_entry(&base)).unwrap(), None);
    let e = link.change_password("wrong", "Desk-pass1").await.unwrap_err().to_string();
    assert_eq!(e, "password change refused: the current password is wrong");
    let st = link.change_password(&temp, "Desk-pass1").await.unwrap();
    assert!(st.signed_in && st.step.is_none() && st.error.is_none(), "{st:?}");
    let me = st.me.expect("who is signed in");
    assert_eq!((me.account.as_str(), me.user.as_str(), me.role.as_str()), ("acme", "boss", "admin"));
    assert!(secrets.get(&session_entry(&base)).unwrap().is_some_and(|t| t.starts_with("mds_")));

    // Two sites with data.
    let (admin, _) = env.login("acme", "boss", "Desk-pass1").await;
    let t0 = env.clock_now() - 200_000;
    let (a, ch_a) = env.agent_with_data(&admin, "site-a", t0, 100).await;
    let (b, _) = env.agent_with_data(&admin, "site-b", t0, 50).await;
    let agents = link.agents().await.unwrap();
    assert_eq!(
        agents.iter().map(|x| (x.id.as_str(), x.name.as_str())).collect::<Vec<_>>(),
        [(a.as_str(), "site-a"), (b.as_str(), "site-b")]
    );
    for x in &agents {
        assert!(x.online, "{x:?}");
        assert_eq!(x.sync.backlog, Some(0), "{x:?}");
        assert!(x.traffic_month_bytes > 0 && x.traffic_allowance.is_none(), "{x:?}");
    }
    assert_eq!(agents[0].sync.samples, 100);

    let chans = link.channels(&a).await.unwrap();
    assert_eq!(chans.len(), 1);
    let c = &chans[0];
    assert_eq!((c.id.clone(), c.label.as_str()), (ch_a.to_string(), "acme/site-a · dev/temp"));
    assert_eq!((c.unit.as_deref(), c.samples, c.t_first, c.t_last), (Some("°C"), 100, Some(t0), Some(t0 + 99_000)));

    // Ten samples a bucket: min/max bands at the bucket starts.
    let s = link.series(&c.id, t0, t0 + 100_000, 10).await.unwrap();
    assert!(!s.raw);
    assert_eq!(s.t, (0..10).map(|k| t0 + k * 10_000).collect::<Vec<_>>());
    assert_eq!((s.min[0], s.max[0], s.min[9], s.max[9]), (Some(0.0), Some(4.5), Some(45.0), Some(49.5)));
    // At most one sample a bucket: the samples themselves.
    let s = link.series(&c.id, t0, t0 + 100_000, 1000).await.unwrap();
    assert!(s.raw);
    assert_eq!(s.t, (0..100).map(|k| t0 + k * 1000).collect::<Vec<_>>());
    assert_eq!(s.min[3], Some(1.5));

    let e = link.channels("a-nosuchagent00000").await.unwrap_err().to_string();
    assert!(e.contains("a-nosuchagent00000") || e.contains("not found") || e.contains("no such"), "{e}");

    let st = link.sign_out().await.unwrap();
    assert!(!st.signed_in && st.me.is_none());
    assert_eq!(secrets.get(&session_entry(&base)).unwrap(), None);
}
