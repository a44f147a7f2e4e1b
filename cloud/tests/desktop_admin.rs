//! The desktop's administration calls (`meterdeck_core::cloudlink::admin`,
//! the Cloud screen's admin sections) against this crate's real API router
//! over HTTP: users (invite with a temporary password, role, temporary
//! password again, delete), teams, measurement groups with grants, the
//! authenticator set-up and confirm, API tokens shown once, the IP
//! allow-list, the access log filtered and paged, and deleting the account
//! behind the typed account ID; a member refused the admin calls.
//! Each assertion names the call, so a drift on either side points at it.
//! Run: `cargo test -p meterdeck-cloud --test desktop_admin`.

mod api_support;

use std::sync::Arc;

use api_support::Env;
use meterdeck_cloud::auth::totp;
use meterdeck_core::cloudlink::{AccessLogQuery, AdminGroup, CloudError, CloudLink, MemoryPrefs, UserPatch};
use meterdeck_core::notify::MemorySecrets;

fn link() -> CloudLink {
    CloudLink::new(Arc::new(MemorySecrets::new()), Arc::new(MemoryPrefs::default())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_admin_calls_speak_the_api() {
    let env = Env::start(false).await;
    let base = env.base.strip_suffix("/api/v1").expect("the API under /api/v1").to_string();
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "acme", "Acme", "pro", "boss", "boss@example.com")
        .await
        .unwrap();
    let admin = link();
    admin.sign_in(&base, "acme", "boss", &temp).await.unwrap();
    assert!(admin.change_password(&temp, "Desk-pass1").await.unwrap().signed_in);

    // GET /me
    let me = admin.admin_me().await.expect("admin_me");
    assert_eq!(
        (me.account.as_str(), me.user.as_str(), me.role.as_str(), me.two_factor.as_str()),
        ("acme", "boss", "admin", "none")
    );

    // POST /users: the temporary password signs the new user in.
    let made = admin.user_create("mia", "Mia", "mia@example.com", "viewer", false).await.expect("user_create");
    assert_eq!((made.user.id.as_str(), made.user.role.as_str(), made.user.must_change), ("mia", "viewer", true));
    let mia = link();
    let st = mia.sign_in(&base, "acme", "mia", &made.temporary_password).await.expect("temporary password works");
    assert_eq!(st.step.as_deref(), Some("password"), "user_create: must change at first sign-in");
    assert!(
        matches!(admin.user_create("bad id!", "", "", "member", false).await, Err(CloudError::Refused(_))),
        "user_create refuses a bad id"
    );
    assert!(
        matches!(admin.user_create("x", "", "", "owner", false).await, Err(CloudError::Invalid(_))),
        "user_create checks the role"
    );

    // PATCH /users/{id}
    let patch = UserPatch { role: Some("member".into()), ..UserPatch::default() };
    let u = admin.user_update("mia", &patch).await.expect("user_update");
    assert_eq!(u.role, "member", "user_update");
    let users = admin.users().await.expect("users");
    assert_eq!(
        users.iter().map(|u| (u.id.as_str(), u.role.as_str())).collect::<Vec<_>>(),
        [("boss", "admin"), ("mia", "member")]
    );

    // POST /users/{id}/temporary-password
    let again = admin.user_temporary_password("mia").await.expect("user_temporary_password");
    assert_ne!(again.temporary_password, made.temporary_password);
    let st = mia.sign_in(&base, "acme", "mia", &again.temporary_password).await.expect("new temporary password");
    assert_eq!(st.step.as_deref(), Some("password"));
    assert!(mia.change_password(&again.temporary_password, "Mia-pass12").await.unwrap().signed_in);

    // Teams: create, replace, list.
    let team = admin.team_save(true, "ops", "Operators", &["mia".into()]).await.expect("team_save create");
    assert_eq!(team.members, ["mia"], "team_save");
    admin.team_save(false, "ops", "Ops crew", &["mia".into(), "boss".into()]).await.expect("team_save put");
    let teams = admin.teams().await.expect("teams");
    assert_eq!((teams.len(), teams[0].name.as_str(), teams[0].members.len()), (1, "Ops crew", 2), "teams");
    assert!(
        matches!(admin.team_save(true, "ops", "Again", &[]).await, Err(CloudError::Refused(_))),
        "team_save: exists"
    );

    // Groups with an agent and grants.
    let t0 = env.clock_now() - 100_000;
    let (agent, _) = env.agent_with_data(&env.login("acme", "boss", "Desk-pass1").await.0, "site-a", t0, 10).await;
    let g = AdminGroup {
        id: "plant".into(),
        name: "Plant".into(),
        agents: vec![agent.clone()],
        users: vec!["mia".into()],
        teams: vec!["ops".into()],
    };
    let saved = admin.group_save(true, &g).await.expect("group_save create");
    assert_eq!(saved, g, "group_save");
    let g2 = AdminGroup { users: vec![], ..g.clone() };
    admin.group_save(false, &g2).await.expect("group_save put");
    assert_eq!(admin.groups().await.expect("groups"), std::slice::from_ref(&g2), "groups");
    // The member sees the group through the team's grant.
    assert_eq!(mia.groups().await.expect("member groups").len(), 1, "groups as member");

    // A member is refused every admin call (the screens hide them too).
    for (what, r) in [
        ("users", mia.users().await.map(|_| ())),
        ("user_create", mia.user_create("zed", "", "", "viewer", false).await.map(|_| ())),
        ("team_delete", mia.team_delete("ops").await),
        ("group_delete", mia.group_delete("plant").await),
        ("ip_allow_set", mia.ip_allow_set(&[]).await.map(|_| ())),
        ("access_log", mia.access_log(&AccessLogQuery { limit: 5, ..Default::default() }).await.map(|_| ())),
    ] {
        assert!(matches!(r, Err(CloudError::Refused(_))), "{what} as member: {r:?}");
    }

    // Tokens: the member makes one, shown once; the list never has it.
    let tok = mia.token_create("script").await.expect("token_create");
    assert!(tok.token.starts_with("mdt_"), "token_create");
    let list = mia.tokens().await.expect("tokens");
    assert_eq!(
        list.iter().map(|t| (t.id.as_str(), t.name.as_str(), t.user.as_str())).collect::<Vec<_>>(),
        [(tok.id.as_str(), "script", "mia")]
    );
    assert_eq!(admin.tokens().await.unwrap().len(), 1, "tokens as admin: the account's");
    let r = env.get("/me", &tok.token).await;
    assert_eq!(r.status, 200, "the token works: {}", r.text);
    mia.token_delete(&tok.id).await.expect("token_delete");
    assert!(mia.tokens().await.unwrap().is_empty(), "token_delete");

    // Authenticator: setup, a wrong code refused, the current one taken.
    let setup = mia.totp_setup().await.expect("totp_setup");
    assert!(
        setup.otpauth_url.starts_with("otpauth://totp/") && setup.otpauth_url.contains(&setup.secret),
        "totp_setup: {setup:?}"
    );
    assert!(matches!(mia.totp_confirm("12ab56").await, Err(CloudError::Invalid(_))), "totp_confirm: six digits");
    let code = totp::code_at(&setup.secret, env.clock_now()).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(matches!(mia.totp_confirm(wrong).await, Err(CloudError::Refused(_))), "totp_confirm: wrong code");
    assert_eq!(mia.totp_confirm(&code).await.expect("totp_confirm"), "totp");
    assert_eq!(mia.admin_me().await.unwrap().two_factor, "totp", "admin_me after totp");

    // IP allow-list: stored normalised; one that locks the caller out refused.
    let stored =
        admin.ip_allow_set(&[" 127.0.0.0/8 ".into(), "".into(), "2001:db8::/32".into()]).await.expect("ip_allow_set");
    assert_eq!(stored, ["127.0.0.0/8", "2001:db8::/32"], "ip_allow_set");
    assert_eq!(admin.account_view().await.expect("account_view").ip_allow, stored, "account_view");
    assert!(
        matches!(admin.ip_allow_set(&["10.0.0.0/8".into()]).await, Err(CloudError::Refused(_))),
        "ip_allow_set: lock-out"
    );
    assert!(
        matches!(admin.ip_allow_set(&["10.0.0.300/8".into()]).await, Err(CloudError::Refused(_))),
        "ip_allow_set: bad CIDR"
    );
    assert!(admin.ip_allow_set(&[]).await.unwrap().is_empty());

    // Access log: filtered by user and action, paged.
    let page = admin
        .access_log(&AccessLogQuery { user: Some("mia".into()), limit: 3, ..Default::default() })
        .await
        .expect("access_log");
    assert_eq!(page.entries.len(), 3, "access_log: {page:?}");
    assert!(page.more, "access_log: more of mia's entries");
    assert!(page.entries.iter().all(|e| e.user.as_deref() == Some("mia")), "access_log user filter: {page:?}");
    let next = admin
        .access_log(&AccessLogQuery { user: Some("mia".into()), limit: 3, offset: 3, ..Default::default() })
        .await
        .unwrap();
    assert!(
        next.entries.iter().all(|e| e.user.as_deref() == Some("mia"))
            && next.entries.first().map(|e| e.t_ms) <= page.entries.last().map(|e| e.t_ms),
        "access_log paging"
    );
    let deletes = admin
        .access_log(&AccessLogQuery { action: Some("delete /api/v1/tokens".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(deletes.entries.len(), 1, "access_log action filter: {deletes:?}");
    assert_eq!((deletes.entries[0].method.as_str(), deletes.entries[0].status), ("DELETE", 204));
    let future = env.clock_now() + 3_600_000;
    let none = admin.access_log(&AccessLogQuery { from: Some(future), limit: 5, ..Default::default() }).await.unwrap();
    assert!(none.entries.is_empty() && !none.more, "access_log from the future: {none:?}");
    assert!(matches!(
        admin.access_log(&AccessLogQuery { limit: 0, ..Default::default() }).await,
        Err(CloudError::Invalid(_))
    ));

    // Users and groups deleted.
    admin.group_delete("plant").await.expect("group_delete");
    admin.team_delete("ops").await.expect("team_delete");
    assert!(admin.groups().await.unwrap().is_empty() && admin.teams().await.unwrap().is_empty());
    admin.user_delete("mia").await.expect("user_delete");
    assert!(matches!(mia.users().await, Err(CloudError::SignedOut)), "the deleted user's session ends");

    // Account deletion: the typed ID must match, then the password.
    assert!(
        matches!(admin.account_delete("acm", "Desk-pass1").await, Err(CloudError::Invalid(_))),
        "account_delete: typed ID"
    );
    assert!(
        matches!(admin.account_delete("acme", "wrong-Pass1").await, Err(CloudError::Refused(_))),
        "account_delete: password"
    );
    assert!(env.store.account("acme").await.unwrap().is_some(), "nothing deleted yet");
    admin.account_delete("acme", "Desk-pass1").await.expect("account_delete");
    assert!(env.store.account("acme").await.unwrap().is_none(), "account_delete");
    assert!(!admin.status().await.unwrap().signed_in, "the session ends with the account");
}
