//! A throwaway PostgreSQL database per test (the conformance suite, the
//! API tests, the bench), on the server `MD_PG_URL` names (default
//! `postgres://postgres@127.0.0.1:5432`, trust auth); dropped on drop.
//! `scripts/test` sets `MD_PG_URL` when it starts its own server.

/// The server's base URL, without a database.
pub fn server_url() -> String {
    let url = std::env::var("MD_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    url.trim_end_matches('/').to_string()
}

fn admin_url() -> String {
    format!("{}/postgres", server_url())
}

pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    /// `None` only when `MD_SKIP_PG=1` and the server is unreachable.
    pub async fn create(test: &str) -> Option<TestDb> {
        let client = match tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                client
            }
            Err(e) if std::env::var("MD_SKIP_PG").as_deref() == Ok("1") => {
                eprintln!("skipping PostgreSQL test {test}: {e} (MD_SKIP_PG=1)");
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL is not reachable at {} ({e}); start it (scripts/test does), set MD_PG_URL, \
                 or set MD_SKIP_PG=1 to skip",
                server_url()
            ),
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!("md_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, test);
        let name: String = name.chars().take(63).collect();
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("CREATE DATABASE");
        Some(TestDb { url: format!("{}/{name}", server_url()), name })
    }
}

impl Drop for TestDb {
    /// Drops the database even when the test panicked; its own runtime, as
    /// drop may run outside (or at the end of) the test's.
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}
