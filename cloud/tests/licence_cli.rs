//! `meterdeck-cloud licence ...` and the agent limit through the real
//! binary on its SQLite database: the key created 0600 and printed, a card
//! issued and applied (once), the 4th agent of a Free account refused with
//! the named limit and registered after the card, a plan change and the
//! second one refused, the history, and a signed document that verifies.
//! Run: `cargo test -p meterdeck-cloud --test licence_cli`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use meterdeck_wire::licence::{Plan, parse_public_key, verify};

/// Runs the CLI on `data`; (success, stdout, stderr).
fn cli(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meterdeck-cloud")).arg("--data").arg(data).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(data: &Path, args: &[&str]) -> String {
    let (good, out, err) = cli(data, args);
    assert!(good, "{args:?} failed: {err}");
    out
}

fn refused(data: &Path, args: &[&str]) -> String {
    let (good, out, err) = cli(data, args);
    assert!(!good, "{args:?} should fail: {out}");
    err
}

#[test]
fn the_authority_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["account", "create", "--id", "acme", "--name", "Acme", "--admin", "boss", "--email", "boss@example.com"]);
    let key_out = ok(d, &["licence", "key"]);
    let key = parse_public_key(key_out.lines().next().unwrap()).unwrap();
    let key_file = d.join("licence-signing.key");
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(ok(d, &["licence", "key"]), key_out, "the same key on every use");

    // Free: three agents, the fourth refused with the named limit; nothing created.
    for n in ["a1", "a2", "a3"] {
        ok(d, &["agent", "register", "--account", "acme", "--name", n]);
    }
    let e = refused(d, &["agent", "register", "--account", "acme", "--name", "a4"]);
    assert!(e.contains("the Free plan allows 3 agents and account acme has 3"), "{e}");
    assert!(e.contains("apply a Standard licence card (it allows 10)"), "{e}");
    assert_eq!(ok(d, &["agent", "list", "--account", "acme"]).lines().count(), 3);

    // A card, applied once.
    let e = refused(d, &["licence", "issue-card", "--account", "acme", "--plan", "standard", "--months", "2"]);
    assert!(e.contains("1, 3 or 12"), "{e}");
    let out = ok(d, &["licence", "issue-card", "--account", "acme", "--plan", "standard", "--months", "1"]);
    let code = out.lines().nth(1).unwrap().trim().to_string();
    assert!(code.starts_with("MDC-") && code.len() == 23, "{code}");
    let e = refused(d, &["licence", "apply", "--account", "acme", "--card", "MDC-0000-0000-0000-0000"]);
    assert!(e.contains("no card with this code"), "{e}");
    let out = ok(d, &["licence", "apply", "--account", "acme", "--card", &code]);
    assert!(out.contains("plan: Standard") && out.contains("days left"), "{out}");
    let e = refused(d, &["licence", "apply", "--account", "acme", "--card", &code]);
    assert!(e.contains("a card works once"), "{e}");
    ok(d, &["agent", "register", "--account", "acme", "--name", "a4"]);

    // Plan change once a month.
    let out = ok(d, &["licence", "plan", "--account", "acme", "--plan", "pro"]);
    assert!(out.contains("plan: Pro"), "{out}");
    let e = refused(d, &["licence", "plan", "--account", "acme", "--plan", "standard"]);
    assert!(e.contains("once a month"), "{e}");
    let e = refused(d, &["licence", "time-zone", "--account", "acme", "--tz", "Mars/Olympus"]);
    assert!(e.contains("not an IANA time zone"), "{e}");
    assert!(ok(d, &["licence", "time-zone", "--account", "acme", "--tz", "Asia/Tokyo"]).contains("09:00 Asia/Tokyo"));
    let h = ok(d, &["licence", "history", "--account", "acme"]);
    for what in ["card-issued", "card-applied", "plan-changed", "time-zone"] {
        assert!(h.contains(what), "{what} missing from {h}");
    }
    assert!(refused(d, &["licence", "show", "--account", "nobody"]).contains("does not exist"));

    // The signed document verifies with the printed key.
    let file = d.join("acme.licence");
    ok(d, &["licence", "document", "--account", "acme", "--out", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    let doc = verify(&text, &key, "acme", meterdeck_wire::now_ms()).unwrap();
    assert_eq!(doc.plan, Plan::Pro);
    assert!(doc.expires.is_some());

    // A key file others may read is refused.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(refused(d, &["licence", "key"]).contains("chmod 600"));
}
