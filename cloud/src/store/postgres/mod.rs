//! PostgreSQL storage, for several stateless cloud processes on one
//! database. Ingest locks the agent's row first, so two processes handed
//! the same batch (a resend racing its original) run one after the other
//! and the second stores nothing; deadlocks and serialization failures are
//! retried.

mod alarms;
mod boards;
mod files;
mod records;
mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use meterdeck_wire::codec::Decoded;
use meterdeck_wire::sync::Batch;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{NoTls, Row};

use super::rows;
use super::series::{self, MinMaxAcc, PartSummary};
use super::*;

const POOL_SIZE: usize = 16;
const INGEST_ATTEMPTS: usize = 5;
/// Failed logins older than this (before any window) are pruned.
const STALE_FAILURE_MS: i64 = 30 * 86_400_000;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Db(pg_message(&e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Db(format!("connection pool: {e}"))
    }
}

/// The server's message when there is one (tokio-postgres' Display says
/// only "db error").
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

fn insert_err(e: tokio_postgres::Error, what: impl Into<String>, parent: impl Into<String>) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::Exists(what.into()),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound(parent.into()),
        _ => e.into(),
    }
}

fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// A column, with a type mismatch reported as corrupt data (not a panic).
fn g<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T> {
    r.try_get(i).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub struct PgStore {
    pool: Pool,
}

/// Opens the database at `url` (`postgres://user@host:port/db`), creating
/// or upgrading the schema.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(Arc::new(PgStore::open(url).await?))
}

impl PgStore {
    pub async fn open(url: &str) -> anyhow::Result<PgStore> {
        // The URL may hold a password: errors name host and database only.
        let cfg: tokio_postgres::Config = url.parse().context("PostgreSQL URL does not parse")?;
        let where_ = format!(
            "PostgreSQL database {:?} on {:?}",
            cfg.get_dbname().unwrap_or_default(),
            cfg.get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_default()
        );
        let mgr = Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(mgr)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .with_context(|| format!("connection pool for {where_}"))?;
        let store = PgStore { pool };
        store.migrate().await.with_context(|| format!("opening {where_}"))?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Several processes may start together: one migrates, the others wait.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::MIGRATION_LOCK]).await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS meterdeck_schema (version INTEGER NOT NULL)").await?;
        let v: Option<i32> = match tx.query_opt("SELECT max(version) FROM meterdeck_schema", &[]).await? {
            Some(r) => g(&r, 0)?,
            None => None,
        };
        let v = v.unwrap_or(0);
        if v > schema::VERSION {
            return Err(StoreError::Db(format!(
                "the database has schema version {v}; this meterdeck-cloud knows up to {}",
                schema::VERSION
            )));
        }
        if v < 1 {
            tx.batch_execute(schema::V1).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (1)", &[]).await?;
        }
        if v < 2 {
            tx.batch_execute(schema::V2).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (2)", &[]).await?;
        }
        if v < 3 {
            tx.batch_execute(schema::V3).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (3)", &[]).await?;
        }
        if v < 4 {
            tx.batch_execute(schema::V4).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (4)", &[]).await?;
        }
        if v < 5 {
            tx.batch_execute(schema::V5).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (5)", &[]).await?;
        }
        if v < 6 {
            tx.batch_execute(schema::V6).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (6)", &[]).await?;
        }
        if v < 7 {
            tx.batch_execute(schema::V7).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (7)", &[]).await?;
        }
        if v < 8 {
            tx.batch_execute(schema::V8).await?;
            tx.execute("INSERT INTO meterdeck_schema (version) VALUES (8)", &[]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let c = self.pool.get().await?;
        let stmt = c.prepare_cached(sql).await?;
        Ok(c.execute(&stmt, params).await?)
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let c = self.pool.get().await?;
        let stmt = c.prepare_cached(sql).await?;
        Ok(c.query(&stmt, params).await?)
    }

    async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let c = self.pool.get().await?;
        let stmt = c.prepare_cached(sql).await?;
        Ok(c.query_opt(&stmt, params).await?)
    }

    /// Inserts with `Exists`/`NotFound` for taken keys and missing parents.
    async fn insert(&self, sql: &str, params: &[&(dyn ToSql + Sync)], what: String, parent: String) -> Result<()> {
        let c = self.pool.get().await?;
        let stmt = c.prepare_cached(sql).await?;
        c.execute(&stmt, params).await.map_err(|e| insert_err(e, what, parent))?;
        Ok(())
    }

    async fn delete_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)], what: String) -> Result<()> {
        if self.exec(sql, params).await? == 0 {
            return Err(StoreError::NotFound(what));
        }
        Ok(())
    }

    /// The index range of parts overlapping `[from, ..)`, and the last time.
    async fn span_of<C: GenericClient>(c: &C, channel: i64) -> Result<(i64, Option<i64>)> {
        let stmt = c.prepare_cached("SELECT max_span, t_last FROM channel WHERE id = $1").await?;
        let row =
            c.query_opt(&stmt, &[&channel]).await?.ok_or_else(|| StoreError::NotFound(format!("channel {channel}")))?;
        Ok((g(&row, 0)?, g(&row, 1)?))
    }

    /// The blocks of parts `ids`.
    async fn blocks<C: GenericClient>(c: &C, ids: &[i64]) -> Result<HashMap<i64, Vec<u8>>> {
        Self::blobs(c, "SELECT id, block FROM part WHERE id = ANY($1)", ids).await
    }

    async fn blobs<C: GenericClient>(c: &C, sql: &str, ids: &[i64]) -> Result<HashMap<i64, Vec<u8>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let stmt = c.prepare_cached(sql).await?;
        let rows = c.query(&stmt, &[&ids]).await?;
        rows.iter().map(|r| Ok((g(r, 0)?, g(r, 1)?))).collect()
    }
}

const USER_COLS: &str =
    "account, id, name, email, role, password_hash, must_change, two_factor, totp_secret, created_ms";
const SESSION_COLS: &str = "token_hash, account, app_user, created_ms, last_seen_ms, pending";
const TOKEN_COLS: &str = "id, token_hash, account, app_user, name, created_ms, last_used_ms";
const AGENT_COLS: &str = "id, account, name, secret_hash, broker_hash, created_ms, last_batch_ms, backlog, samples, \
                          batches, rejected, last_error";
const CHANNEL_COLS: &str = "id, agent, path, unit, samples, t_first, t_last";
const SUMMARY_COLS: &str =
    "id, count, specials, t_min, t_max, first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v";

impl rows::Cols for Row {
    fn int(&self, i: usize) -> Result<i64> {
        g(self, i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        g(self, i)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        g(self, i)
    }
    fn text(&self, i: usize) -> Result<String> {
        g(self, i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        g(self, i)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        g(self, i)
    }
    fn list(&self, i: usize, _what: &str) -> Result<Vec<String>> {
        g(self, i)
    }
}

/// Runs CPU work (block decoding) on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Db(format!("decoding task: {e}")))?
}

async fn insert_licence_event<C: GenericClient>(c: &C, ev: &LicenceEvent) -> Result<()> {
    c.execute(
        "INSERT INTO licence_event (account, at_ms, what, by_whom, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&ev.account, &ev.at, &ev.what, &ev.by, &ev.detail],
    )
    .await
    .map_err(|e| insert_err(e, "licence event", format!("account {}", ev.account)))?;
    Ok(())
}

/// An `access_log` row (t_ms, account, app_user, ip, method, path, status).
fn access_entry(r: &Row) -> Result<AccessEntry> {
    let status: i32 = g(r, 6)?;
    Ok(AccessEntry {
        t_ms: g(r, 0)?,
        account: g(r, 1)?,
        user: g(r, 2)?,
        ip: g(r, 3)?,
        method: g(r, 4)?,
        path: g(r, 5)?,
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("access log status {status}")))?,
    })
}

fn all<T>(rows: &[Row], f: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// What one ingest attempt came to, short of a database error.
enum Attempt {
    Stored(IngestOutcome),
    NoAgent,
    /// The batch would take the agent to this many channels (over the cap).
    TooManyChannels(u64),
}

/// One ingest attempt.
async fn ingest_once(
    c: &mut deadpool_postgres::Object,
    agent: &str,
    batch: &Batch,
    chunks: &[Vec<u8>],
    payload_bytes: u64,
    now: TimeMs,
    limits: IngestLimits,
) -> std::result::Result<Attempt, tokio_postgres::Error> {
    let tx = c.transaction().await?;
    // Serialises the ingests of one agent across processes (see the module doc).
    let lock = tx.prepare_cached("SELECT 1 FROM agent WHERE id = $1 FOR UPDATE").await?;
    if tx.query_opt(&lock, &[&agent]).await?.is_none() {
        return Ok(Attempt::NoAgent);
    }
    // Looked up before inserting: an upsert would write a row version per batch.
    let find = tx.prepare_cached("SELECT id FROM agent_store WHERE agent = $1 AND store = $2").await?;
    let store_no: i64 = match tx.query_opt(&find, &[&agent, &batch.header.store]).await? {
        Some(r) => r.try_get(0)?,
        None => {
            let add = tx.prepare_cached("INSERT INTO agent_store (agent, store) VALUES ($1, $2) RETURNING id").await?;
            tx.query_one(&add, &[&agent, &batch.header.store]).await?.try_get(0)?
        }
    };

    // New channels inserted; units (the last one given wins) are set by the
    // one UPDATE below, so a channel row changes at most once per batch.
    let mut units: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for p in &batch.parts {
        units.insert(&p.path, p.unit.as_deref());
    }
    let paths: Vec<&str> = units.keys().copied().collect();
    let unit_list: Vec<Option<&str>> = units.values().copied().collect();
    // The channel cap, before any channel is made (the agent row is locked).
    let count = tx
        .prepare_cached("SELECT count(*), count(*) FILTER (WHERE path = ANY($2)) FROM channel WHERE agent = $1")
        .await?;
    let r = tx.query_one(&count, &[&agent, &paths]).await?;
    let (have, known): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
    let new = paths.len() as u64 - u(known);
    if new > 0 && u(have) + new > limits.max_channels_per_agent {
        return Ok(Attempt::TooManyChannels(u(have) + new));
    }
    let add = tx
        .prepare_cached(
            "INSERT INTO channel (agent, path, unit) SELECT $1, p, u FROM UNNEST($2::text[], $3::text[]) AS x(p, u)
             ON CONFLICT (agent, path) DO NOTHING",
        )
        .await?;
    tx.execute(&add, &[&agent, &paths, &unit_list]).await?;
    let find = tx.prepare_cached("SELECT id, path FROM channel WHERE agent = $1 AND path = ANY($2)").await?;
    let mut ids: HashMap<String, i64> = HashMap::new();
    for r in tx.query(&find, &[&agent, &paths]).await? {
        ids.insert(r.try_get(1)?, r.try_get(0)?);
    }

    // All parts in one statement; RETURNING names the ones new here.
    let n = batch.parts.len();
    // channel, seq_from, seq_to, count, specials
    let mut cols: [Vec<i64>; 5] = Default::default();
    let mut times: [Vec<Option<i64>>; 6] = Default::default();
    let mut vals: [Vec<Option<f64>>; 4] = Default::default();
    let mut blocks: Vec<&[u8]> = Vec::with_capacity(n);
    let chunk_list: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    for p in &batch.parts {
        let s = p.summary;
        cols[0].push(ids.get(&p.path).copied().unwrap_or_default());
        cols[1].push(p.seq_from);
        cols[2].push(p.seq_to);
        cols[3].push(i(s.map_or(0, |s| s.count)));
        cols[4].push(i(s.map_or(0, |s| s.specials)));
        times[0].push(s.map(|s| s.t_min));
        times[1].push(s.map(|s| s.t_max));
        for (k, pair) in [s.and_then(|s| s.first), s.and_then(|s| s.last), s.and_then(|s| s.min), s.and_then(|s| s.max)]
            .into_iter()
            .enumerate()
        {
            times[2 + k].push(pair.map(|x| x.0));
            vals[k].push(pair.map(|x| x.1));
        }
        blocks.push(&p.block);
    }
    let ins = tx
        .prepare_cached(
            "INSERT INTO part (channel, store, seq_from, seq_to, count, specials, t_min, t_max,
                               first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v, chunks, block)
             SELECT ch, $2, sf, st, n, sp, tmin, tmax, ft, fv, lt, lv, mnt, mnv, mxt, mxv, cs, b
             FROM UNNEST($1::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
                         $9::int8[], $10::float8[], $11::int8[], $12::float8[], $13::int8[], $14::float8[],
                         $15::int8[], $16::float8[], $17::bytea[], $18::bytea[])
                  AS x(ch, sf, st, n, sp, tmin, tmax, ft, fv, lt, lv, mnt, mnv, mxt, mxv, cs, b)
             ON CONFLICT (channel, store, seq_from) DO NOTHING
             RETURNING channel, count, t_min, t_max",
        )
        .await?;
    let inserted = tx
        .query(
            &ins,
            &[
                &cols[0],
                &store_no,
                &cols[1],
                &cols[2],
                &cols[3],
                &cols[4],
                &times[0],
                &times[1],
                &times[2],
                &vals[0],
                &times[3],
                &vals[1],
                &times[4],
                &vals[2],
                &times[5],
                &vals[3],
                &chunk_list,
                &blocks,
            ],
        )
        .await?;
    let mut out = IngestOutcome { duplicate_parts: (n - inserted.len()) as u64, ..IngestOutcome::default() };
    // Per channel: (samples, t_min, t_max, widest part).
    let mut gain: HashMap<i64, (i64, i64, i64, i64)> = HashMap::new();
    for r in &inserted {
        let (ch, count, lo, hi): (i64, i64, Option<i64>, Option<i64>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        if let (Some(lo), Some(hi), true) = (lo, hi, count > 0) {
            out.stored += u(count);
            let e = gain.entry(ch).or_insert((0, lo, hi, 0));
            *e = (e.0 + count, e.1.min(lo), e.2.max(hi), e.3.max(hi.saturating_sub(lo)));
        }
    }
    // Every channel of the batch, in path order (the lock order of rows).
    let (mut chs, mut ns, mut los, mut his, mut spans, mut new_units) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (path, unit) in paths.iter().zip(&unit_list) {
        let Some(&ch) = ids.get(*path) else { continue };
        let g = gain.get(&ch);
        chs.push(ch);
        new_units.push(*unit);
        ns.push(g.map_or(0, |g| g.0));
        los.push(g.map(|g| g.1));
        his.push(g.map(|g| g.2));
        spans.push(g.map_or(0, |g| g.3));
    }
    let upd = tx
        .prepare_cached(
            "UPDATE channel c SET samples = c.samples + x.n, t_first = LEAST(c.t_first, x.lo),
                 t_last = GREATEST(c.t_last, x.hi), max_span = GREATEST(c.max_span, x.span), unit = x.unit
             FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[])
                  AS x(id, n, lo, hi, span, unit)
             WHERE c.id = x.id AND (x.n > 0 OR c.unit IS DISTINCT FROM x.unit)",
        )
        .await?;
    tx.execute(&upd, &[&chs, &ns, &los, &his, &spans, &new_units]).await?;
    let ag = tx
        .prepare_cached(
            "UPDATE agent SET last_batch_ms = $2, backlog = $3, samples = samples + $4, batches = batches + 1
             WHERE id = $1",
        )
        .await?;
    tx.execute(&ag, &[&agent, &now, &i(batch.header.backlog), &i(out.stored)]).await?;
    out.traffic = add_traffic(&tx, agent, payload_bytes, now).await?;
    tx.commit().await?;
    Ok(Attempt::Stored(out))
}

/// Counts `bytes` in the agent's month; returns the month's total and allowance.
async fn add_traffic<C: GenericClient>(
    c: &C,
    agent: &str,
    bytes: u64,
    now: TimeMs,
) -> std::result::Result<MonthTraffic, tokio_postgres::Error> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO traffic (agent, month, bytes) VALUES ($1, $2, $3)
             ON CONFLICT (agent, month) DO UPDATE SET bytes = traffic.bytes + excluded.bytes RETURNING bytes",
        )
        .await?;
    let total: i64 = c.query_one(&stmt, &[&agent, &series::month_of(now), &i(bytes)]).await?.get(0);
    let stmt = c
        .prepare_cached("SELECT a.traffic_allowance FROM account a JOIN agent g ON g.account = a.id WHERE g.id = $1")
        .await?;
    let allowance: i64 = c.query_one(&stmt, &[&agent]).await?.get(0);
    Ok(MonthTraffic { bytes: u(total), allowance: u(allowance) })
}

#[async_trait]
impl Storage for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        self.query("SELECT 1", &[]).await.map(|_| ())
    }

    // ---- accounts -------------------------------------------------------

    async fn create_account(&self, a: &Account, admin: &User) -> Result<()> {
        if admin.account != a.id {
            return Err(StoreError::Db(format!("first admin {} is not of account {}", admin.id, a.id)));
        }
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "INSERT INTO account (id, name, plan, ip_allow, traffic_allowance, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&a.id, &a.name, &a.plan, &a.ip_allow, &i(a.traffic_allowance), &a.created_ms],
        )
        .await
        .map_err(|e| insert_err(e, format!("account {}", a.id), "account"))?;
        insert_user(&tx, admin).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.query_opt(
            "SELECT id, name, plan, ip_allow, traffic_allowance, created_ms FROM account WHERE id = $1",
            &[&id],
        )
        .await?
        .as_ref()
        .map(rows::account)
        .transpose()
    }

    async fn update_account(&self, a: &Account) -> Result<()> {
        let n = self
            .exec(
                "UPDATE account SET name = $2, plan = $3, ip_allow = $4, traffic_allowance = $5 WHERE id = $1",
                &[&a.id, &a.name, &a.plan, &a.ip_allow, &i(a.traffic_allowance)],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {}", a.id)));
        }
        Ok(())
    }

    async fn delete_account(&self, id: &str) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Foreign keys cascade to everything but the access log.
        if tx.execute("DELETE FROM account WHERE id = $1", &[&id]).await? == 0 {
            return Err(StoreError::NotFound(format!("account {id}")));
        }
        tx.execute("DELETE FROM access_log WHERE account = $1", &[&id]).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- users, teams, groups ------------------------------------------

    async fn insert_user(&self, user: &User) -> Result<()> {
        let c = self.pool.get().await?;
        insert_user(&c, user).await
    }

    async fn update_user(&self, x: &User) -> Result<()> {
        let n = self
            .exec(
                "UPDATE app_user SET name = $3, email = $4, role = $5, password_hash = $6, must_change = $7,
                     two_factor = $8, totp_secret = $9 WHERE account = $1 AND id = $2",
                &[
                    &x.account,
                    &x.id,
                    &x.name,
                    &x.email,
                    &x.role.as_str(),
                    &x.password_hash,
                    &x.must_change,
                    &x.two_factor.as_str(),
                    &x.totp_secret,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {}", x.id)));
        }
        Ok(())
    }

    async fn user(&self, account: &str, id: &str) -> Result<Option<User>> {
        self.query_opt(&format!("SELECT {USER_COLS} FROM app_user WHERE account = $1 AND id = $2"), &[&account, &id])
            .await?
            .as_ref()
            .map(rows::user)
            .transpose()
    }

    async fn users(&self, account: &str) -> Result<Vec<User>> {
        let rows = self
            .query(&format!("SELECT {USER_COLS} FROM app_user WHERE account = $1 ORDER BY id"), &[&account])
            .await?;
        all(&rows, rows::user)
    }

    async fn user_prefs(&self, account: &str, id: &str) -> Result<Option<UserPrefs>> {
        let rows =
            self.query("SELECT language, zone FROM user_pref WHERE account = $1 AND id = $2", &[&account, &id]).await?;
        match rows.first() {
            Some(r) => Ok(Some(UserPrefs { language: g(r, 0)?, zone: g(r, 1)? })),
            None => Ok(None),
        }
    }

    async fn set_user_prefs(&self, account: &str, id: &str, prefs: &UserPrefs) -> Result<()> {
        let n = self
            .exec(
                "INSERT INTO user_pref (account, id, language, zone)
                 SELECT account, id, $3, $4 FROM app_user WHERE account = $1 AND id = $2
                 ON CONFLICT (account, id) DO UPDATE SET language = excluded.language, zone = excluded.zone",
                &[&account, &id, &prefs.language, &prefs.zone],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    async fn delete_user(&self, account: &str, id: &str) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Sessions, tokens and codes cascade; grants are array entries.
        if tx.execute("DELETE FROM app_user WHERE account = $1 AND id = $2", &[&account, &id]).await? == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        tx.execute(
            "UPDATE team SET members = array_remove(members, $2) WHERE account = $1 AND $2 = ANY(members)",
            &[&account, &id],
        )
        .await?;
        tx.execute(
            "UPDATE grp SET users = array_remove(users, $2) WHERE account = $1 AND $2 = ANY(users)",
            &[&account, &id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_team(&self, t: &Team) -> Result<()> {
        self.insert(
            "INSERT INTO team (account, id, name, members) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account, id) DO UPDATE SET name = excluded.name, members = excluded.members",
            &[&t.account, &t.id, &t.name, &t.members],
            format!("team {}", t.id),
            format!("account {}", t.account),
        )
        .await
    }

    async fn teams(&self, account: &str) -> Result<Vec<Team>> {
        let rows = self
            .query("SELECT account, id, name, members FROM team WHERE account = $1 ORDER BY id", &[&account])
            .await?;
        all(&rows, rows::team)
    }

    async fn delete_team(&self, account: &str, id: &str) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        if tx.execute("DELETE FROM team WHERE account = $1 AND id = $2", &[&account, &id]).await? == 0 {
            return Err(StoreError::NotFound(format!("team {id}")));
        }
        tx.execute(
            "UPDATE grp SET teams = array_remove(teams, $2) WHERE account = $1 AND $2 = ANY(teams)",
            &[&account, &id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_group(&self, x: &Group) -> Result<()> {
        self.insert(
            "INSERT INTO grp (account, id, name, agents, users, teams) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account, id) DO UPDATE SET name = excluded.name, agents = excluded.agents,
                 users = excluded.users, teams = excluded.teams",
            &[&x.account, &x.id, &x.name, &x.agents, &x.users, &x.teams],
            format!("group {}", x.id),
            format!("account {}", x.account),
        )
        .await
    }

    async fn groups(&self, account: &str) -> Result<Vec<Group>> {
        let rows = self
            .query(
                "SELECT account, id, name, agents, users, teams FROM grp WHERE account = $1 ORDER BY id",
                &[&account],
            )
            .await?;
        all(&rows, rows::group)
    }

    async fn delete_group(&self, account: &str, id: &str) -> Result<()> {
        self.delete_one("DELETE FROM grp WHERE account = $1 AND id = $2", &[&account, &id], format!("group {id}")).await
    }

    // ---- sessions, tokens, one-time codes -------------------------------

    async fn insert_session(&self, s: &Session) -> Result<()> {
        self.insert(
            &format!("INSERT INTO session ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[&s.token_hash, &s.account, &s.user, &s.created_ms, &s.last_seen_ms, &s.pending],
            "session".into(),
            format!("user {}", s.user),
        )
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        self.query_opt(&format!("SELECT {SESSION_COLS} FROM session WHERE token_hash = $1"), &[&token_hash])
            .await?
            .as_ref()
            .map(rows::session)
            .transpose()
    }

    async fn update_session(&self, s: &Session) -> Result<()> {
        let n = self
            .exec(
                "UPDATE session SET last_seen_ms = $2, pending = $3 WHERE token_hash = $1",
                &[&s.token_hash, &s.last_seen_ms, &s.pending],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound("session".into()));
        }
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.exec("DELETE FROM session WHERE token_hash = $1", &[&token_hash]).await.map(|_| ())
    }

    async fn delete_sessions_of(&self, account: &str, user: &str, keep: Option<&str>) -> Result<u64> {
        self.exec(
            "DELETE FROM session WHERE account = $1 AND app_user = $2 AND token_hash IS DISTINCT FROM $3",
            &[&account, &user, &keep],
        )
        .await
    }

    async fn insert_token(&self, t: &ApiToken) -> Result<()> {
        self.insert(
            &format!("INSERT INTO api_token ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[&t.id, &t.token_hash, &t.account, &t.user, &t.name, &t.created_ms, &t.last_used_ms],
            format!("token {}", t.id),
            format!("user {}", t.user),
        )
        .await
    }

    async fn token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.query_opt(&format!("SELECT {TOKEN_COLS} FROM api_token WHERE token_hash = $1"), &[&token_hash])
            .await?
            .as_ref()
            .map(rows::token)
            .transpose()
    }

    async fn tokens(&self, account: &str) -> Result<Vec<ApiToken>> {
        let rows = self
            .query(
                &format!("SELECT {TOKEN_COLS} FROM api_token WHERE account = $1 ORDER BY created_ms, id"),
                &[&account],
            )
            .await?;
        all(&rows, rows::token)
    }

    async fn touch_token(&self, token_hash: &str, now: TimeMs) -> Result<()> {
        self.exec("UPDATE api_token SET last_used_ms = $2 WHERE token_hash = $1", &[&token_hash, &now])
            .await
            .map(|_| ())
    }

    async fn delete_token(&self, account: &str, id: &str) -> Result<()> {
        self.delete_one("DELETE FROM api_token WHERE account = $1 AND id = $2", &[&account, &id], format!("token {id}"))
            .await
    }

    async fn put_code(&self, x: &OneTimeCode) -> Result<()> {
        self.insert(
            "INSERT INTO one_time_code (account, app_user, purpose, code_hash, expires_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (account, app_user, purpose) DO UPDATE SET code_hash = excluded.code_hash,
                 expires_ms = excluded.expires_ms",
            &[&x.account, &x.user, &x.purpose, &x.code_hash, &x.expires_ms],
            "code".into(),
            format!("user {}", x.user),
        )
        .await
    }

    async fn take_code(&self, account: &str, user: &str, purpose: &str) -> Result<Option<OneTimeCode>> {
        // One statement: two racing takes cannot both get the code.
        self.query_opt(
            "DELETE FROM one_time_code WHERE account = $1 AND app_user = $2 AND purpose = $3
             RETURNING account, app_user, purpose, code_hash, expires_ms",
            &[&account, &user, &purpose],
        )
        .await?
        .as_ref()
        .map(rows::code)
        .transpose()
    }

    // ---- login throttling and the access log ----------------------------

    async fn login_failed(&self, key: &str, now: TimeMs, since: TimeMs) -> Result<u32> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Failures older than this key's window no longer count; other keys
        // may use longer windows, so those go only after 30 days.
        let prune = tx.prepare_cached("DELETE FROM login_failure WHERE (key = $1 AND t_ms < $2) OR t_ms < $3").await?;
        tx.execute(&prune, &[&key, &since, &since.saturating_sub(STALE_FAILURE_MS)]).await?;
        let ins = tx.prepare_cached("INSERT INTO login_failure (key, t_ms) VALUES ($1, $2)").await?;
        tx.execute(&ins, &[&key, &now]).await?;
        let count = tx.prepare_cached("SELECT count(*) FROM login_failure WHERE key = $1 AND t_ms >= $2").await?;
        let n: i64 = g(&tx.query_one(&count, &[&key, &since]).await?, 0)?;
        tx.commit().await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn login_failures(&self, key: &str, since: TimeMs) -> Result<u32> {
        let rows =
            self.query("SELECT count(*) FROM login_failure WHERE key = $1 AND t_ms >= $2", &[&key, &since]).await?;
        let n: i64 = rows.first().map(|r| g(r, 0)).transpose()?.unwrap_or(0);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.exec("DELETE FROM login_failure WHERE key = $1", &[&key]).await.map(|_| ())
    }

    async fn clear_login_failures_prefix(&self, prefix: &str) -> Result<()> {
        self.exec("DELETE FROM login_failure WHERE starts_with(key, $1)", &[&prefix]).await.map(|_| ())
    }

    async fn log_access(&self, e: &AccessEntry) -> Result<()> {
        self.exec(
            "INSERT INTO access_log (t_ms, account, app_user, ip, method, path, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&e.t_ms, &e.account, &e.user, &e.ip, &e.method, &e.path, &i32::from(e.status)],
        )
        .await
        .map(|_| ())
    }

    async fn access_log(&self, account: &str, limit: usize) -> Result<Vec<AccessEntry>> {
        let rows = self
            .query(
                "SELECT t_ms, account, app_user, ip, method, path, status FROM access_log
                 WHERE account = $1 ORDER BY t_ms DESC, id DESC LIMIT $2",
                &[&account, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        all(&rows, access_entry)
    }

    async fn access_log_query(&self, account: &str, q: &AccessQuery) -> Result<Vec<AccessEntry>> {
        let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        let action = q.action_needle();
        // strpos, not LIKE: '%' and '_' in the text are taken literally.
        let rows = self
            .query(
                "SELECT t_ms, account, app_user, ip, method, path, status FROM access_log
                 WHERE account = $1
                   AND ($2::text IS NULL OR app_user = $2)
                   AND ($3::text IS NULL OR strpos(lower(method || ' ' || path), $3) > 0)
                   AND ($4::bigint IS NULL OR t_ms >= $4)
                   AND ($5::bigint IS NULL OR t_ms < $5)
                 ORDER BY t_ms DESC, id DESC LIMIT $6 OFFSET $7",
                &[&account, &q.user, &action, &q.from, &q.to, &n(q.limit), &n(q.offset)],
            )
            .await?;
        all(&rows, access_entry)
    }

    // ---- agents -----------------------------------------------------------

    async fn insert_agent(&self, a: &Agent) -> Result<()> {
        self.insert(
            "INSERT INTO agent (id, account, name, secret_hash, broker_hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&a.id, &a.account, &a.name, &a.secret_hash, &a.broker_hash, &a.created_ms],
            format!("agent {}", a.id),
            format!("account {}", a.account),
        )
        .await
    }

    async fn agent(&self, id: &str) -> Result<Option<Agent>> {
        self.query_opt(&format!("SELECT {AGENT_COLS} FROM agent WHERE id = $1"), &[&id])
            .await?
            .as_ref()
            .map(rows::agent)
            .transpose()
    }

    async fn agents(&self, account: &str) -> Result<Vec<Agent>> {
        let rows = self
            .query(&format!("SELECT {AGENT_COLS} FROM agent WHERE account = $1 ORDER BY created_ms, id"), &[&account])
            .await?;
        all(&rows, rows::agent)
    }

    async fn delete_agent(&self, account: &str, id: &str) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Channels, parts, stores and traffic cascade.
        if tx.execute("DELETE FROM agent WHERE account = $1 AND id = $2", &[&account, &id]).await? == 0 {
            return Err(StoreError::NotFound(format!("agent {id}")));
        }
        tx.execute(
            "UPDATE grp SET agents = array_remove(agents, $2) WHERE account = $1 AND $2 = ANY(agents)",
            &[&account, &id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_agent_secret(&self, account: &str, id: &str, secret_hash: &str, broker_hash: &str) -> Result<()> {
        let sql = "UPDATE agent SET secret_hash = $3, broker_hash = $4 WHERE account = $1 AND id = $2";
        if self.exec(sql, &[&account, &id, &secret_hash, &broker_hash]).await? == 0 {
            return Err(StoreError::NotFound(format!("agent {id}")));
        }
        Ok(())
    }

    async fn broker_logins(&self) -> Result<Vec<(String, String)>> {
        let rows =
            self.query("SELECT id, broker_hash FROM agent WHERE broker_hash NOT LIKE '!%' ORDER BY id", &[]).await?;
        all(&rows, |r| Ok((g(r, 0)?, g(r, 1)?)))
    }

    // ---- time series --------------------------------------------------

    async fn ingest_limited(
        &self,
        agent: &str,
        batch: &IngestBatch,
        payload_bytes: u64,
        now: TimeMs,
        limits: IngestLimits,
    ) -> Result<IngestOutcome> {
        let mut c = self.pool.get().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match ingest_once(&mut c, agent, &batch.batch, &batch.chunks, payload_bytes, now, limits).await {
                Ok(Attempt::Stored(o)) => return Ok(o),
                Ok(Attempt::NoAgent) => return Err(StoreError::NotFound(format!("agent {agent}"))),
                Ok(Attempt::TooManyChannels(would)) => {
                    return Err(too_many_channels(agent, would, limits.max_channels_per_agent));
                }
                Err(e) if retryable(&e) && attempt < INGEST_ATTEMPTS => {
                    tracing::debug!(agent, attempt, "ingest retried: {}", pg_message(&e));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn ingest_refused(&self, agent: &str, error: &str, payload_bytes: u64, now: TimeMs) -> Result<MonthTraffic> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute("UPDATE agent SET rejected = rejected + 1, last_error = $2 WHERE id = $1", &[&agent, &error])
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("agent {agent}")));
        }
        let traffic = add_traffic(&tx, agent, payload_bytes, now).await?;
        tx.commit().await?;
        Ok(traffic)
    }

    async fn traffic(&self, agent: &str, month: &str) -> Result<u64> {
        let row =
            self.query_opt("SELECT bytes FROM traffic WHERE agent = $1 AND month = $2", &[&agent, &month]).await?;
        Ok(row.map(|r| g::<i64>(&r, 0)).transpose()?.map_or(0, u))
    }

    async fn channels(&self, agent: &str) -> Result<Vec<CloudChannel>> {
        let rows = self
            .query(&format!("SELECT {CHANNEL_COLS} FROM channel WHERE agent = $1 ORDER BY path"), &[&agent])
            .await?;
        all(&rows, rows::channel)
    }

    async fn channel(&self, id: i64) -> Result<Option<CloudChannel>> {
        self.query_opt(&format!("SELECT {CHANNEL_COLS} FROM channel WHERE id = $1"), &[&id])
            .await?
            .as_ref()
            .map(rows::channel)
            .transpose()
    }

    async fn raw(&self, channel: i64, from: TimeMs, to: TimeMs, limit: usize) -> Result<Vec<Point>> {
        let c = self.pool.get().await?;
        let (span, _) = Self::span_of(&c, channel).await?;
        if to <= from || limit == 0 {
            return Ok(Vec::new());
        }
        // Storage order: cache file (first arrival), then sequence.
        let stmt = c
            .prepare_cached(
                "SELECT id, count FROM part WHERE channel = $1 AND t_min >= $2 AND t_min < $3 AND t_max >= $4
                 AND count > 0 ORDER BY store, seq_from",
            )
            .await?;
        let rows = c.query(&stmt, &[&channel, &from.saturating_sub(span), &to, &from]).await?;
        let parts: Vec<(i64, i64)> = rows.iter().map(|r| Ok((g(r, 0)?, g(r, 1)?))).collect::<Result<_>>()?;
        let mut out = Vec::new();
        let mut d = Decoded::default();
        // Blocks a few at a time: a small limit reads few of them.
        for chunk in parts.chunks(16) {
            let ids: Vec<i64> = chunk.iter().map(|p| p.0).collect();
            let blocks = Self::blocks(&c, &ids).await?;
            for &(id, count) in chunk {
                let block = blocks.get(&id).ok_or_else(|| StoreError::NotFound(format!("part {id}")))?;
                series::decode(block, u(count), || format!("part {id}"), &mut d)?;
                if !series::push_raw(&d, from, to, limit, &mut out) {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    async fn raw_page(
        &self,
        channel: i64,
        from: TimeMs,
        to: TimeMs,
        after: Option<SampleKey>,
        limit: usize,
    ) -> Result<Vec<(SampleKey, Point)>> {
        let c = self.pool.get().await?;
        let (span, _) = Self::span_of(&c, channel).await?;
        let lo = after.map_or(from, |a| a.t.max(from));
        if to <= lo || limit == 0 {
            return Ok(Vec::new());
        }
        let stmt = c
            .prepare_cached(
                "SELECT id, store, seq_from, count, t_min, t_max FROM part WHERE channel = $1 AND t_min >= $2
                 AND t_min < $3 AND t_max >= $4 AND count > 0 ORDER BY t_min",
            )
            .await?;
        let rows = c.query(&stmt, &[&channel, &lo.saturating_sub(span), &to, &lo]).await?;
        let parts: Vec<series::PartSpan> = rows
            .iter()
            .map(|r| {
                Ok(series::PartSpan {
                    id: g(r, 0)?,
                    store: g(r, 1)?,
                    seq: g(r, 2)?,
                    count: u(g(r, 3)?),
                    t_min: g(r, 4)?,
                    t_max: g(r, 5)?,
                })
            })
            .collect::<Result<_>>()?;
        let mut pager = series::TimePager::new(&parts, from, to, after, limit);
        while let Some((w, window)) = pager.window() {
            let ids: Vec<i64> = window.iter().map(|p| p.id).collect();
            let blocks = Self::blocks(&c, &ids).await?;
            pager.add(w, &window, |p, d| {
                let block = blocks.get(&p.id).ok_or_else(|| StoreError::NotFound(format!("part {}", p.id)))?;
                series::decode(block, p.count, || format!("part {}", p.id), d)
            })?;
        }
        Ok(pager.finish())
    }

    async fn minmax(&self, channel: i64, from: TimeMs, to: TimeMs, buckets: usize) -> Result<Vec<MinMax>> {
        let c = self.pool.get().await?;
        let (span, _) = Self::span_of(&c, channel).await?;
        if !series::check_range(from, to, buckets)? {
            return Ok(Vec::new());
        }
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLS} FROM part WHERE channel = $1 AND t_min >= $2 AND t_min < $3
                 AND t_max >= $4 AND count > 0 ORDER BY t_min"
            ))
            .await?;
        let rows = c.query(&stmt, &[&channel, &from.saturating_sub(span), &to, &from]).await?;
        let parts = all(&rows, rows::summary)?;
        let mut acc = MinMaxAcc::new(from, to, buckets);
        let cut: Vec<&PartSummary> = parts.iter().filter(|p| !acc.add_summary(&p.summary)).collect();
        let ids: Vec<i64> = cut.iter().map(|p| p.id).collect();
        let chunks = Self::blobs(&c, "SELECT id, chunks FROM part WHERE id = ANY($1)", &ids).await?;
        for p in cut {
            let bytes = chunks.get(&p.id).ok_or_else(|| StoreError::NotFound(format!("part {}", p.id)))?;
            let chunks = series::decode_chunks(bytes, p.summary.count, || format!("part {}", p.id))?;
            acc.add_chunks(p.id, p.summary.count, &chunks);
        }
        // Decoding is CPU work: done off the async threads.
        let times = acc.times_needed();
        let blocks = Self::blocks(&c, &times.iter().map(|x| x.0).collect::<Vec<_>>()).await?;
        let mut acc = blocking(move || {
            let mut ts = Vec::new();
            for (id, count) in times {
                let block = blocks.get(&id).ok_or_else(|| StoreError::NotFound(format!("part {id}")))?;
                series::decode_times(block, count, || format!("part {id}"), &mut ts)?;
                acc.add_times(id, &ts);
            }
            Ok(acc)
        })
        .await?;
        let values = acc.values_needed();
        let blocks = Self::blocks(&c, &values.iter().map(|x| x.0).collect::<Vec<_>>()).await?;
        blocking(move || {
            let list: Vec<(i64, u64, &[u8])> = values
                .iter()
                .map(|&(id, count)| {
                    let block = blocks.get(&id).ok_or_else(|| StoreError::NotFound(format!("part {id}")))?;
                    Ok((id, count, block.as_slice()))
                })
                .collect::<Result<_>>()?;
            acc.add_values_from(&list)?;
            Ok(acc.finish())
        })
        .await
    }

    async fn latest(&self, channel: i64) -> Result<Option<Point>> {
        let c = self.pool.get().await?;
        let (span, t_last) = Self::span_of(&c, channel).await?;
        let Some(t_last) = t_last else { return Ok(None) };
        let stmt = c
            .prepare_cached(
                "SELECT id, count, block FROM part WHERE channel = $1 AND t_min >= $2 AND t_min <= $3 AND t_max = $3
                 AND count > 0 ORDER BY store DESC, seq_from DESC LIMIT 1",
            )
            .await?;
        let Some(row) = c.query_opt(&stmt, &[&channel, &t_last.saturating_sub(span), &t_last]).await? else {
            return Ok(None);
        };
        let (id, count, block): (i64, i64, Vec<u8>) = (g(&row, 0)?, g(&row, 1)?, g(&row, 2)?);
        let mut d = Decoded::default();
        series::decode(&block, u(count), || format!("part {id}"), &mut d)?;
        Ok(series::last_at(&d, t_last))
    }

    // ---- operations ---------------------------------------------------------

    // ---- licences ------------------------------------------------------------

    async fn licence(&self, account: &str) -> Result<Option<(LicenceState, i64)>> {
        let Some(r) = self.query_opt("SELECT state, version FROM licence WHERE account = $1", &[&account]).await?
        else {
            return Ok(None);
        };
        let text: String = g(&r, 0)?;
        let state =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("licence of {account}: {e}")))?;
        Ok(Some((state, g(&r, 1)?)))
    }

    async fn save_licence(&self, st: &LicenceState, version: i64, card: Option<&str>, ev: &LicenceEvent) -> Result<()> {
        let text = serde_json::to_string(st).map_err(|e| StoreError::Db(e.to_string()))?;
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let n = if version == 0 {
            tx.execute(
                "INSERT INTO licence (account, state, version) VALUES ($1, $2, 1) ON CONFLICT (account) DO NOTHING",
                &[&st.account, &text],
            )
            .await
            .map_err(|e| insert_err(e, format!("licence of {}", st.account), format!("account {}", st.account)))?
        } else {
            tx.execute(
                "UPDATE licence SET state = $2, version = version + 1 WHERE account = $1 AND version = $3",
                &[&st.account, &text, &version],
            )
            .await?
        };
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "the licence of {} changed meanwhile; nothing was changed, try again",
                st.account
            )));
        }
        if let Some(hash) = card {
            let n = tx
                .execute(
                    "UPDATE card SET used_ms = $2, used_by = $3 WHERE code_hash = $1 AND account = $4 AND used_ms IS NULL",
                    &[&hash, &ev.at, &ev.by, &st.account],
                )
                .await?;
            if n == 0 {
                return Err(StoreError::Refused("this card was applied already; nothing was changed".into()));
            }
        }
        insert_licence_event(&tx, ev).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn licence_event(&self, ev: &LicenceEvent) -> Result<()> {
        let c = self.pool.get().await?;
        insert_licence_event(&c, ev).await
    }

    async fn licence_history(&self, account: &str, limit: usize) -> Result<Vec<LicenceEvent>> {
        let rows = self
            .query(
                "SELECT account, at_ms, what, by_whom, detail FROM licence_event WHERE account = $1
                 ORDER BY at_ms DESC, id DESC LIMIT $2",
                &[&account, &i(limit as u64)],
            )
            .await?;
        all(&rows, |r| {
            Ok(LicenceEvent { account: g(r, 0)?, at: g(r, 1)?, what: g(r, 2)?, by: g(r, 3)?, detail: g(r, 4)? })
        })
    }

    async fn storage_used(&self, account: &str) -> Result<Vec<ChannelBytes>> {
        let rows = self
            .query(
                "SELECT c.id, c.agent, c.path,
                        COALESCE(SUM(octet_length(p.block) + octet_length(p.chunks)), 0)::BIGINT AS b
                 FROM channel c JOIN agent a ON a.id = c.agent LEFT JOIN part p ON p.channel = c.id
                 WHERE a.account = $1 GROUP BY c.id ORDER BY b DESC, c.id",
                &[&account],
            )
            .await?;
        all(&rows, |r| Ok(ChannelBytes { channel: g(r, 0)?, agent: g(r, 1)?, path: g(r, 2)?, bytes: u(g(r, 3)?) }))
    }

    async fn prune(&self, account: &str, prune: Prune) -> Result<Pruned> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // One pruner per account at a time (several processes may sweep).
        tx.execute("SELECT 1 FROM account WHERE id = $1 FOR UPDATE", &[&account]).await?;
        let rows = tx
            .query(
                "SELECT p.id, p.channel, (octet_length(p.block) + octet_length(p.chunks))::BIGINT, p.count,
                        p.t_min, p.t_max, c.agent || '/' || c.path
                 FROM part p JOIN channel c ON c.id = p.channel JOIN agent a ON a.id = c.agent
                 WHERE a.account = $1 ORDER BY COALESCE(p.t_max, p.t_min), p.id",
                &[&account],
            )
            .await?;
        let rows: Vec<PruneRow> =
            all(&rows, |r| Ok((g(r, 0)?, g(r, 1)?, u(g(r, 2)?), u(g(r, 3)?), g(r, 4)?, g(r, 5)?, g(r, 6)?)))?;
        let (ids, channels, out) = select_prune(&rows, prune);
        tx.execute("DELETE FROM part WHERE id = ANY($1)", &[&ids]).await?;
        tx.execute(
            "UPDATE channel c SET samples = COALESCE(x.n, 0), t_first = x.lo, t_last = x.hi
             FROM (SELECT ch.id, SUM(p.count)::BIGINT AS n, MIN(p.t_min) AS lo, MAX(p.t_max) AS hi
                   FROM unnest($1::BIGINT[]) AS ch(id) LEFT JOIN part p ON p.channel = ch.id GROUP BY ch.id) x
             WHERE c.id = x.id",
            &[&channels],
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn account_ids(&self) -> Result<Vec<String>> {
        let rows = self.query("SELECT id FROM account ORDER BY id", &[]).await?;
        all(&rows, |r| g(r, 0))
    }

    async fn insert_card(&self, k: &Card) -> Result<()> {
        let product = serde_json::to_string(&k.product).map_err(|e| StoreError::Db(e.to_string()))?;
        self.insert(
            "INSERT INTO card (code_hash, account, product, months, issued_ms, used_ms, used_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&k.code_hash, &k.account, &product, &i64::from(k.months), &k.issued_ms, &k.used_ms, &k.used_by],
            "card".into(),
            format!("account {}", k.account),
        )
        .await
    }

    async fn card(&self, code_hash: &str) -> Result<Option<Card>> {
        let Some(r) = self
            .query_opt(
                "SELECT code_hash, account, product, months, issued_ms, used_ms, used_by FROM card WHERE code_hash = $1",
                &[&code_hash],
            )
            .await?
        else {
            return Ok(None);
        };
        let product: String = g(&r, 2)?;
        let months: i64 = g(&r, 3)?;
        Ok(Some(Card {
            code_hash: g(&r, 0)?,
            account: g(&r, 1)?,
            product: serde_json::from_str(&product).map_err(|e| StoreError::Corrupt(format!("card product: {e}")))?,
            months: u32::try_from(months).map_err(|_| StoreError::Corrupt(format!("card months {months}")))?,
            issued_ms: g(&r, 4)?,
            used_ms: g(&r, 5)?,
            used_by: g(&r, 6)?,
        }))
    }

    async fn record_reminder(&self, account: &str, key: &str, at: TimeMs) -> Result<bool> {
        let c = self.pool.get().await?;
        let n = c
            .execute(
                "INSERT INTO reminder_sent (account, key, at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&account, &key, &at],
            )
            .await
            .map_err(|e| insert_err(e, "reminder", format!("account {account}")))?;
        Ok(n == 1)
    }

    async fn forget_reminder(&self, account: &str, key: &str) -> Result<()> {
        self.exec("DELETE FROM reminder_sent WHERE account = $1 AND key = $2", &[&account, &key]).await?;
        Ok(())
    }

    async fn backup_to(&self, _dest: &Path) -> Result<()> {
        Err(StoreError::Db(
            "PostgreSQL storage is backed up with PostgreSQL's own tools (pg_dump, or pg_basebackup with WAL archiving), \
             not by meterdeck-cloud"
                .into(),
        ))
    }

    fn records(&self) -> &dyn crate::store::records::RecordStore {
        self
    }

    fn alarms(&self) -> &dyn crate::store::alarms::AlarmStore {
        self
    }

    fn files(&self) -> &dyn FileStore {
        self
    }

    fn boards(&self) -> &dyn BoardStore {
        self
    }
}

async fn insert_user<C: GenericClient>(c: &C, x: &User) -> Result<()> {
    c.execute(
        &format!("INSERT INTO app_user ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
        &[
            &x.account,
            &x.id,
            &x.name,
            &x.email,
            &x.role.as_str(),
            &x.password_hash,
            &x.must_change,
            &x.two_factor.as_str(),
            &x.totp_secret,
            &x.created_ms,
        ],
    )
    .await
    .map_err(|e| insert_err(e, format!("user {}", x.id), format!("account {}", x.account)))?;
    Ok(())
}
