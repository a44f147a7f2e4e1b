//! Test helper for e2e/notify_destinations.rs: the delivering side of the
//! notification tests in a process of its own, so that notify-rust and
//! keyring see the test's private D-Bus session (they read
//! DBUS_SESSION_BUS_ADDRESS from the environment).
//!
//!   md-notify-send secret-set <entry>        value on stdin  -> `SECRET set`
//!   md-notify-send secret-get <entry>                        -> `SECRET value <v>` | `SECRET none`
//!   md-notify-send secret-delete <entry>                     -> `SECRET deleted`
//!   md-notify-send send <dests.toml> <message.json> <id,id..> [--max-attempts N] [--retry-ms N]
//!                                                            -> `OUTCOME <json>` per attempt
//!   md-notify-send test <dests.toml> <id>                    -> `TEST ok` | `TEST error <message>`
//!
//! Errors print `ERROR <message>` and exit 2.

use meterdeck_core::notify::{
    DeliveryResult, DestinationConfig, DispatchOptions, Dispatcher, KeyringSecrets, Message, RetryPolicy, SecretStore,
    validate_all,
};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

fn fail(msg: impl std::fmt::Display) -> ! {
    println!("ERROR {msg}");
    std::process::exit(2)
}

fn destinations(path: &str) -> Vec<DestinationConfig> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        destination: Vec<DestinationConfig>,
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let doc: Doc = toml::from_str(&text).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    validate_all(&doc.destination).unwrap_or_else(|e| fail(e));
    doc.destination
}

fn flag(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).and_then(|v| v.parse().ok())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| fail("missing argument (see the file's doc comment)"));
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringSecrets::new());
    match arg(0).as_str() {
        "secret-set" => {
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value).unwrap_or_else(|e| fail(e));
            secrets.set(&arg(1), value.trim_end_matches('\n')).unwrap_or_else(|e| fail(e));
            println!("SECRET set");
        }
        "secret-get" => match secrets.get(&arg(1)).unwrap_or_else(|e| fail(e)) {
            Some(v) => println!("SECRET value {v}"),
            None => println!("SECRET none"),
        },
        "secret-delete" => {
            secrets.delete(&arg(1)).unwrap_or_else(|e| fail(e));
            println!("SECRET deleted");
        }
        "send" => {
            let dests = destinations(&arg(1));
            let text = std::fs::read_to_string(arg(2)).unwrap_or_else(|e| fail(e));
            let msg: Message = serde_json::from_str(&text).unwrap_or_else(|e| fail(format!("message: {e}")));
            let ids: Vec<String> = arg(3).split(',').map(str::to_string).collect();
            let retry = RetryPolicy {
                initial: Duration::from_millis(flag(&args, "--retry-ms").unwrap_or(2000)),
                max_attempts: flag(&args, "--max-attempts").map(|n| n as u32).or(Some(3)),
                ..RetryPolicy::default()
            };
            let opts = DispatchOptions { retry, send_timeout: Duration::from_secs(15), ..DispatchOptions::default() };
            let handle = Dispatcher::spawn(dests, secrets, opts);
            let mut rx = handle.outcomes();
            handle.send(msg, ids.clone());
            let mut open = ids.len();
            while open > 0 {
                let o = match tokio::time::timeout(Duration::from_secs(90), rx.recv()).await {
                    Ok(Ok(o)) => o,
                    Ok(Err(e)) => fail(format!("outcomes: {e}")),
                    Err(_) => fail("no outcome within 90 s"),
                };
                let (result, error, next_in_ms) = match &o.result {
                    DeliveryResult::Ok => ("ok", None, None),
                    DeliveryResult::Retrying { next_in, error } => ("retrying", Some(error), Some(next_in.as_millis())),
                    DeliveryResult::Failed { error } => ("failed", Some(error), None),
                };
                if result != "retrying" {
                    open -= 1;
                }
                let line = serde_json::json!({
                    "message_id": o.message_id, "destination": o.destination, "attempt": o.attempt,
                    "result": result, "error": error, "next_in_ms": next_in_ms,
                });
                println!("OUTCOME {line}");
            }
        }
        "test" => {
            let handle = Dispatcher::spawn(destinations(&arg(1)), secrets, DispatchOptions::default());
            match handle.test_send(&arg(2)).await {
                Ok(()) => println!("TEST ok"),
                Err(e) => println!("TEST error {e}"),
            }
        }
        other => fail(format!("unknown command {other:?}")),
    }
}
