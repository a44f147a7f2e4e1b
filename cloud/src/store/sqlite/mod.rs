//! Embedded SQLite storage: one writer connection (SQLite has one writer
//! anyway) and a few reader connections, WAL so readers never wait for the
//! writer, `synchronous = FULL` so an acknowledged batch survives a power
//! cut. All blocking work runs in `spawn_blocking`.

mod alarms;
mod boards;
mod files;
mod records;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use meterdeck_wire::codec::Decoded;
use meterdeck_wire::sync::Batch;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

use super::rows;
use super::series::{self, MinMaxAcc, PartSummary};
use super::*;

/// Failed logins older than this (before any window) are pruned.
const STALE_FAILURE_MS: i64 = 30 * 86_400_000;
/// Readers kept open between calls; more are opened under load.
const READERS_KEPT: usize = 4;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

/// Maps a failed insert: a taken key is `Exists(what)`, a missing parent
/// row (foreign key) is `NotFound(parent)`.
fn insert_err(e: rusqlite::Error, what: impl Into<String>, parent: impl Into<String>) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.code == ErrorCode::ConstraintViolation
    {
        return match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::NotFound(parent.into()),
            _ => StoreError::Exists(what.into()),
        };
    }
    e.into()
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(s: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

pub struct SqliteStore {
    inner: Arc<Inner>,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -32768;")?;
    Ok(())
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&conn)?;
    // Range reads touch a page per part and the overflow pages of blocks:
    // mapped, they are read without a system call per page.
    conn.execute_batch("PRAGMA mmap_size = 1073741824;")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let ctx = |e: rusqlite::Error| StoreError::Db(format!("opening {}: {e}", path.display()));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Db(format!("creating the directory of {}: {e}", path.display())))?;
            }
            let mut conn = Connection::open(&path).map_err(ctx)?;
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(ctx)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Db(format!("{}: cannot use WAL (journal mode {mode})", path.display())));
            }
            configure(&conn).map_err(ctx)?;
            schema::migrate(&mut conn).map_err(|e| match e {
                schema::SchemaError::Sqlite(e) => ctx(e),
                too_new => StoreError::Db(too_new.to_string()),
            })?;
            let reader = open_reader(&path).map_err(ctx)?;
            Ok(SqliteStore {
                inner: Arc::new(Inner { path, writer: Mutex::new(conn), readers: Mutex::new(vec![reader]) }),
            })
        })
        .await
        .map_err(|e| StoreError::Db(format!("open task: {e}")))?
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Db(format!("database task: {e}")))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let taken = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match taken {
                Some(c) => c,
                None => open_reader(&inner.path)?,
            };
            let out = f(&conn);
            let mut pool = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < READERS_KEPT {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Db(format!("database task: {e}")))?
    }
}

// ---- row mapping ----------------------------------------------------------

const ACCOUNT_COLS: &str = "id, name, plan, ip_allow, traffic_allowance, created_ms";
const USER_COLS: &str =
    "account, id, name, email, role, password_hash, must_change, two_factor, totp_secret, created_ms";
const SESSION_COLS: &str = "token_hash, account, user, created_ms, last_seen_ms, pending";
const TOKEN_COLS: &str = "id, token_hash, account, user, name, created_ms, last_used_ms";
const AGENT_COLS: &str = "id, account, name, secret_hash, broker_hash, created_ms, last_batch_ms, backlog, samples, \
                          batches, rejected, last_error";
const CHANNEL_COLS: &str = "id, agent, path, unit, samples, t_first, t_last";
const SUMMARY_COLS: &str =
    "id, count, specials, t_min, t_max, first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v";

impl rows::Cols for Row<'_> {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.get(i)?)
    }
    fn list(&self, i: usize, what: &str) -> Result<Vec<String>> {
        parse_list(&self.get::<_, String>(i)?, what)
    }
}

/// Every row of `sql` (a cached statement), mapped by `f`.
fn all<T>(c: &Connection, sql: &str, p: impl rusqlite::Params, f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// The first row of `sql`, mapped by `f`.
fn one<T>(c: &Connection, sql: &str, p: impl rusqlite::Params, f: impl Fn(&Row) -> Result<T>) -> Result<Option<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    rows.next()?.map(f).transpose()
}

fn insert_licence_event(c: &Connection, ev: &LicenceEvent) -> Result<()> {
    c.execute(
        "INSERT INTO licence_event (account, at_ms, what, by_whom, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ev.account, ev.at, ev.what, ev.by, ev.detail],
    )
    .map_err(|e| insert_err(e, "licence event", format!("account {}", ev.account)))?;
    Ok(())
}

/// Removes `id` from one JSON-list column of every row of `account`.
fn drop_from_lists(conn: &Connection, table: &str, column: &str, account: &str, id: &str) -> Result<()> {
    let rows: Vec<(String, String)> = conn
        .prepare(&format!("SELECT id, {column} FROM {table} WHERE account = ?1"))?
        .query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (row_id, list) in rows {
        let mut v = parse_list(&list, &format!("{table} {row_id}"))?;
        let before = v.len();
        v.retain(|x| x != id);
        if v.len() != before {
            conn.execute(
                &format!("UPDATE {table} SET {column} = ?3 WHERE account = ?1 AND id = ?2"),
                params![account, row_id, json_list(&v)],
            )?;
        }
    }
    Ok(())
}

/// The range of parts that can overlap `[from, to)`: `t_min` is indexed,
/// and no part is wider than the channel's `max_span`.
fn span_of(conn: &Connection, channel: i64) -> Result<(i64, Option<i64>)> {
    conn.prepare_cached("SELECT max_span, t_last FROM channel WHERE id = ?1")?
        .query_row([channel], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("channel {channel}")))
}

/// Runs `f` on the block of part `id`, read in place (no copy).
fn with_block<T>(conn: &Connection, id: i64, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
    with_blob(conn, "SELECT block FROM part WHERE id = ?1", id, f)
}

fn with_blob<T>(conn: &Connection, sql: &str, id: i64, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([id])?;
    let row = rows.next()?.ok_or_else(|| StoreError::NotFound(format!("part {id}")))?;
    f(row.get_ref(0)?.as_blob().map_err(|e| StoreError::Corrupt(format!("part {id}: {e}")))?)
}

fn block_of(conn: &Connection, id: i64, count: u64, d: &mut Decoded) -> Result<()> {
    with_block(conn, id, |b| series::decode(b, count, || format!("part {id}"), d))
}

#[derive(Default)]
struct ChannelGain {
    samples: u64,
    t_min: Option<i64>,
    t_max: Option<i64>,
    span: i64,
}

fn ingest_tx(
    conn: &mut Connection,
    agent: &str,
    batch: &Batch,
    chunks: &[Vec<u8>],
    payload_bytes: u64,
    now: TimeMs,
    limits: IngestLimits,
) -> Result<IngestOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !tx.prepare_cached("SELECT 1 FROM agent WHERE id = ?1")?.exists([agent])? {
        return Err(StoreError::NotFound(format!("agent {agent}")));
    }
    tx.prepare_cached("INSERT INTO agent_store (agent, store) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
        .execute([agent, &batch.header.store])?;
    let store_no: i64 = tx
        .prepare_cached("SELECT id FROM agent_store WHERE agent = ?1 AND store = ?2")?
        .query_row([agent, &batch.header.store], |r| r.get(0))?;

    // One upsert per channel (the last unit given wins), in path order.
    let mut units: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for p in &batch.parts {
        units.insert(&p.path, p.unit.as_deref());
    }
    // The channel cap, before any channel is made (the writer serialises ingests).
    let have: i64 =
        tx.prepare_cached("SELECT count(*) FROM channel WHERE agent = ?1")?.query_row([agent], |r| r.get(0))?;
    let mut known = tx.prepare_cached("SELECT 1 FROM channel WHERE agent = ?1 AND path = ?2")?;
    let mut new = 0u64;
    for path in units.keys() {
        if !known.exists(params![agent, path])? {
            new += 1;
        }
    }
    drop(known);
    if new > 0 && u(have) + new > limits.max_channels_per_agent {
        return Err(too_many_channels(agent, u(have) + new, limits.max_channels_per_agent));
    }
    let mut ids: BTreeMap<&str, (i64, ChannelGain)> = BTreeMap::new();
    {
        let mut up = tx.prepare_cached(
            "INSERT INTO channel (agent, path, unit) VALUES (?1, ?2, ?3)
             ON CONFLICT (agent, path) DO UPDATE SET unit = excluded.unit RETURNING id",
        )?;
        for (path, unit) in units {
            let id: i64 = up.query_row(params![agent, path, unit], |r| r.get(0))?;
            ids.insert(path, (id, ChannelGain::default()));
        }
    }

    let mut out = IngestOutcome::default();
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO part (channel, store, seq_from, seq_to, count, specials, t_min, t_max,
                               first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v, chunks, block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT (channel, store, seq_from) DO NOTHING",
        )?;
        for (p, chunks) in batch.parts.iter().zip(chunks) {
            let Some((ch, gain)) = ids.get_mut(p.path.as_str()) else { continue };
            let s = p.summary;
            let (count, specials) = s.map_or((0, 0), |s| (s.count, s.specials));
            let t = |x: Option<(i64, f64)>| x.map(|x| x.0);
            let v = |x: Option<(i64, f64)>| x.map(|x| x.1);
            let n = ins.execute(params![
                *ch,
                store_no,
                p.seq_from,
                p.seq_to,
                i(count),
                i(specials),
                s.map(|s| s.t_min),
                s.map(|s| s.t_max),
                t(s.and_then(|s| s.first)),
                v(s.and_then(|s| s.first)),
                t(s.and_then(|s| s.last)),
                v(s.and_then(|s| s.last)),
                t(s.and_then(|s| s.min)),
                v(s.and_then(|s| s.min)),
                t(s.and_then(|s| s.max)),
                v(s.and_then(|s| s.max)),
                chunks,
                p.block,
            ])?;
            if n == 0 {
                out.duplicate_parts += 1;
                continue;
            }
            if let Some(s) = s.filter(|s| s.count > 0) {
                out.stored += s.count;
                gain.samples += s.count;
                gain.t_min = Some(gain.t_min.map_or(s.t_min, |m| m.min(s.t_min)));
                gain.t_max = Some(gain.t_max.map_or(s.t_max, |m| m.max(s.t_max)));
                gain.span = gain.span.max(s.t_max.saturating_sub(s.t_min));
            }
        }
    }
    {
        let mut upd = tx.prepare_cached(
            "UPDATE channel SET samples = samples + ?2,
                 t_first = min(coalesce(t_first, ?3), ?3), t_last = max(coalesce(t_last, ?4), ?4),
                 max_span = max(max_span, ?5)
             WHERE id = ?1",
        )?;
        for (id, g) in ids.values() {
            if let (Some(lo), Some(hi)) = (g.t_min, g.t_max) {
                upd.execute(params![id, i(g.samples), lo, hi, g.span])?;
            }
        }
    }
    tx.prepare_cached(
        "UPDATE agent SET last_batch_ms = ?2, backlog = ?3, samples = samples + ?4, batches = batches + 1 WHERE id = ?1",
    )?
    .execute(params![agent, now, i(batch.header.backlog), i(out.stored)])?;
    out.traffic = add_traffic(&tx, agent, payload_bytes, now)?;
    tx.commit()?;
    Ok(out)
}

/// Counts `bytes` in the agent's month; returns the month's total and allowance.
fn add_traffic(conn: &Connection, agent: &str, bytes: u64, now: TimeMs) -> Result<MonthTraffic> {
    let total: i64 = conn
        .prepare_cached(
            "INSERT INTO traffic (agent, month, bytes) VALUES (?1, ?2, ?3)
             ON CONFLICT (agent, month) DO UPDATE SET bytes = bytes + excluded.bytes RETURNING bytes",
        )?
        .query_row(params![agent, series::month_of(now), i(bytes)], |r| r.get(0))?;
    let allowance: i64 = conn
        .prepare_cached("SELECT a.traffic_allowance FROM account a JOIN agent g ON g.account = a.id WHERE g.id = ?1")?
        .query_row([agent], |r| r.get(0))?;
    Ok(MonthTraffic { bytes: u(total), allowance: u(allowance) })
}

#[async_trait]
impl Storage for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }

    // ---- accounts -------------------------------------------------------

    async fn create_account(&self, account: &Account, first_admin: &User) -> Result<()> {
        let (a, admin) = (account.clone(), first_admin.clone());
        self.write(move |c| {
            if admin.account != a.id {
                return Err(StoreError::Db(format!("first admin {} is not of account {}", admin.id, a.id)));
            }
            let tx = c.transaction()?;
            tx.execute(
                &format!("INSERT INTO account ({ACCOUNT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![a.id, a.name, a.plan, json_list(&a.ip_allow), i(a.traffic_allowance), a.created_ms],
            )
            .map_err(|e| insert_err(e, format!("account {}", a.id), "account"))?;
            insert_user_row(&tx, &admin)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        let id = id.to_owned();
        self.read(move |c| {
            one(c, &format!("SELECT {ACCOUNT_COLS} FROM account WHERE id = ?1"), [&id], |r| rows::account(r))
        })
        .await
    }

    async fn update_account(&self, account: &Account) -> Result<()> {
        let a = account.clone();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE account SET name = ?2, plan = ?3, ip_allow = ?4, traffic_allowance = ?5 WHERE id = ?1",
                params![a.id, a.name, a.plan, json_list(&a.ip_allow), i(a.traffic_allowance)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {}", a.id)));
            }
            Ok(())
        })
        .await
    }

    async fn delete_account(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let tx = c.transaction()?;
            // Foreign keys cascade to users, sessions, tokens, codes, teams,
            // groups, agents, channels, parts and traffic.
            let n = tx.execute("DELETE FROM account WHERE id = ?1", [&id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {id}")));
            }
            tx.execute("DELETE FROM access_log WHERE account = ?1", [&id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    // ---- users, teams, groups ------------------------------------------

    async fn insert_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.write(move |c| insert_user_row(c, &user)).await
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let x = user.clone();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE user SET name = ?3, email = ?4, role = ?5, password_hash = ?6, must_change = ?7,
                     two_factor = ?8, totp_secret = ?9 WHERE account = ?1 AND id = ?2",
                params![
                    x.account,
                    x.id,
                    x.name,
                    x.email,
                    x.role.as_str(),
                    x.password_hash,
                    x.must_change,
                    x.two_factor.as_str(),
                    x.totp_secret
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {}", x.id)));
            }
            Ok(())
        })
        .await
    }

    async fn user(&self, account: &str, id: &str) -> Result<Option<User>> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.read(move |c| {
            one(c, &format!("SELECT {USER_COLS} FROM user WHERE account = ?1 AND id = ?2"), [&account, &id], |r| {
                rows::user(r)
            })
        })
        .await
    }

    async fn users(&self, account: &str) -> Result<Vec<User>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(c, &format!("SELECT {USER_COLS} FROM user WHERE account = ?1 ORDER BY id"), [&account], |r| {
                rows::user(r)
            })
        })
        .await
    }

    async fn user_prefs(&self, account: &str, id: &str) -> Result<Option<UserPrefs>> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.read(move |c| {
            one(c, "SELECT language, zone FROM user_pref WHERE account = ?1 AND id = ?2", [&account, &id], |r| {
                Ok(UserPrefs { language: r.get(0)?, zone: r.get(1)? })
            })
        })
        .await
    }

    async fn set_user_prefs(&self, account: &str, id: &str, prefs: &UserPrefs) -> Result<()> {
        let (account, id, p) = (account.to_owned(), id.to_owned(), prefs.clone());
        self.write(move |c| {
            let known: i64 =
                c.query_row("SELECT count(*) FROM user WHERE account = ?1 AND id = ?2", [&account, &id], |r| r.get(0))?;
            if known == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            c.execute(
                "INSERT INTO user_pref (account, id, language, zone) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, id) DO UPDATE SET language = excluded.language, zone = excluded.zone",
                [&account, &id, &p.language, &p.zone],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, account: &str, id: &str) -> Result<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |c| {
            let tx = c.transaction()?;
            // Sessions, tokens and codes cascade; grants are list entries.
            let n = tx.execute("DELETE FROM user WHERE account = ?1 AND id = ?2", [&account, &id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            drop_from_lists(&tx, "team", "members", &account, &id)?;
            drop_from_lists(&tx, "grp", "users", &account, &id)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn put_team(&self, team: &Team) -> Result<()> {
        let t = team.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO team (account, id, name, members) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, id) DO UPDATE SET name = excluded.name, members = excluded.members",
                params![t.account, t.id, t.name, json_list(&t.members)],
            )
            .map_err(|e| insert_err(e, format!("team {}", t.id), format!("account {}", t.account)))?;
            Ok(())
        })
        .await
    }

    async fn teams(&self, account: &str) -> Result<Vec<Team>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(c, "SELECT account, id, name, members FROM team WHERE account = ?1 ORDER BY id", [&account], |r| {
                rows::team(r)
            })
        })
        .await
    }

    async fn delete_team(&self, account: &str, id: &str) -> Result<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM team WHERE account = ?1 AND id = ?2", [&account, &id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("team {id}")));
            }
            drop_from_lists(&tx, "grp", "teams", &account, &id)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn put_group(&self, group: &Group) -> Result<()> {
        let g = group.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO grp (account, id, name, agents, users, teams) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (account, id) DO UPDATE SET name = excluded.name, agents = excluded.agents,
                     users = excluded.users, teams = excluded.teams",
                params![g.account, g.id, g.name, json_list(&g.agents), json_list(&g.users), json_list(&g.teams)],
            )
            .map_err(|e| insert_err(e, format!("group {}", g.id), format!("account {}", g.account)))?;
            Ok(())
        })
        .await
    }

    async fn groups(&self, account: &str) -> Result<Vec<Group>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(
                c,
                "SELECT account, id, name, agents, users, teams FROM grp WHERE account = ?1 ORDER BY id",
                [&account],
                |r| rows::group(r),
            )
        })
        .await
    }

    async fn delete_group(&self, account: &str, id: &str) -> Result<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |c| {
            let n = c.execute("DELETE FROM grp WHERE account = ?1 AND id = ?2", [&account, &id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("group {id}")));
            }
            Ok(())
        })
        .await
    }

    // ---- sessions, tokens, one-time codes -------------------------------

    async fn insert_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO session ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![s.token_hash, s.account, s.user, s.created_ms, s.last_seen_ms, s.pending],
            )
            .map_err(|e| insert_err(e, "session", format!("user {}", s.user)))?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let h = token_hash.to_owned();
        self.read(move |c| {
            one(c, &format!("SELECT {SESSION_COLS} FROM session WHERE token_hash = ?1"), [&h], |r| rows::session(r))
        })
        .await
    }

    async fn update_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE session SET last_seen_ms = ?2, pending = ?3 WHERE token_hash = ?1",
                params![s.token_hash, s.last_seen_ms, s.pending],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("session".into()));
            }
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let h = token_hash.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM session WHERE token_hash = ?1", [&h])?;
            Ok(())
        })
        .await
    }

    async fn delete_sessions_of(&self, account: &str, user: &str, keep: Option<&str>) -> Result<u64> {
        let (account, user, keep) = (account.to_owned(), user.to_owned(), keep.map(str::to_owned));
        self.write(move |c| {
            let n = c.execute(
                "DELETE FROM session WHERE account = ?1 AND user = ?2 AND token_hash IS NOT ?3",
                params![account, user, keep],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<()> {
        let t = token.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO api_token ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![t.id, t.token_hash, t.account, t.user, t.name, t.created_ms, t.last_used_ms],
            )
            .map_err(|e| insert_err(e, format!("token {}", t.id), format!("user {}", t.user)))?;
            Ok(())
        })
        .await
    }

    async fn token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let h = token_hash.to_owned();
        self.read(move |c| {
            one(c, &format!("SELECT {TOKEN_COLS} FROM api_token WHERE token_hash = ?1"), [&h], |r| rows::token(r))
        })
        .await
    }

    async fn tokens(&self, account: &str) -> Result<Vec<ApiToken>> {
        let account = account.to_owned();
        self.read(move |c| {
            let sql = format!("SELECT {TOKEN_COLS} FROM api_token WHERE account = ?1 ORDER BY created_ms, id");
            all(c, &sql, [&account], |r| rows::token(r))
        })
        .await
    }

    async fn touch_token(&self, token_hash: &str, now: TimeMs) -> Result<()> {
        let h = token_hash.to_owned();
        self.write(move |c| {
            c.execute("UPDATE api_token SET last_used_ms = ?2 WHERE token_hash = ?1", params![h, now])?;
            Ok(())
        })
        .await
    }

    async fn delete_token(&self, account: &str, id: &str) -> Result<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |c| {
            let n = c.execute("DELETE FROM api_token WHERE account = ?1 AND id = ?2", [&account, &id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("token {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn put_code(&self, code: &OneTimeCode) -> Result<()> {
        let x = code.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO one_time_code (account, user, purpose, code_hash, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account, user, purpose) DO UPDATE SET code_hash = excluded.code_hash,
                     expires_ms = excluded.expires_ms",
                params![x.account, x.user, x.purpose, x.code_hash, x.expires_ms],
            )
            .map_err(|e| insert_err(e, "code", format!("user {}", x.user)))?;
            Ok(())
        })
        .await
    }

    async fn take_code(&self, account: &str, user: &str, purpose: &str) -> Result<Option<OneTimeCode>> {
        let (account, user, purpose) = (account.to_owned(), user.to_owned(), purpose.to_owned());
        self.write(move |c| {
            // One statement: two racing takes cannot both get the code.
            one(
                c,
                "DELETE FROM one_time_code WHERE account = ?1 AND user = ?2 AND purpose = ?3
                 RETURNING account, user, purpose, code_hash, expires_ms",
                [&account, &user, &purpose],
                |r| rows::code(r),
            )
        })
        .await
    }

    // ---- login throttling and the access log ----------------------------

    async fn login_failed(&self, key: &str, now: TimeMs, since: TimeMs) -> Result<u32> {
        let key = key.to_owned();
        self.write(move |c| {
            let tx = c.transaction()?;
            // Failures older than this key's window no longer count; other
            // keys may use longer windows, so those go only after 30 days.
            tx.prepare_cached("DELETE FROM login_failure WHERE (key = ?1 AND t_ms < ?2) OR t_ms < ?3")?
                .execute(params![key, since, since.saturating_sub(STALE_FAILURE_MS)])?;
            tx.prepare_cached("INSERT INTO login_failure (key, t_ms) VALUES (?1, ?2)")?.execute(params![key, now])?;
            let n: i64 = tx
                .prepare_cached("SELECT count(*) FROM login_failure WHERE key = ?1 AND t_ms >= ?2")?
                .query_row(params![key, since], |r| r.get(0))?;
            tx.commit()?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn login_failures(&self, key: &str, since: TimeMs) -> Result<u32> {
        let key = key.to_owned();
        self.read(move |c| {
            let n: i64 = c
                .prepare_cached("SELECT count(*) FROM login_failure WHERE key = ?1 AND t_ms >= ?2")?
                .query_row(params![key, since], |r| r.get(0))?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM login_failure WHERE key = ?1", [&key])?;
            Ok(())
        })
        .await
    }

    async fn clear_login_failures_prefix(&self, prefix: &str) -> Result<()> {
        let prefix = prefix.to_owned();
        self.write(move |c| {
            // Not LIKE: '_' in ids would match any character.
            c.execute("DELETE FROM login_failure WHERE substr(key, 1, length(?1)) = ?1", [&prefix])?;
            Ok(())
        })
        .await
    }

    async fn log_access(&self, entry: &AccessEntry) -> Result<()> {
        let e = entry.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO access_log (t_ms, account, user, ip, method, path, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![e.t_ms, e.account, e.user, e.ip, e.method, e.path, e.status])?;
            Ok(())
        })
        .await
    }

    async fn access_log(&self, account: &str, limit: usize) -> Result<Vec<AccessEntry>> {
        let account = account.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT t_ms, account, user, ip, method, path, status FROM access_log
                 WHERE account = ?1 ORDER BY t_ms DESC, id DESC LIMIT ?2",
            )?
            .query_map(params![account, i64::try_from(limit).unwrap_or(i64::MAX)], access_entry)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn access_log_query(&self, account: &str, q: &AccessQuery) -> Result<Vec<AccessEntry>> {
        let (account, q, action) = (account.to_owned(), q.clone(), q.action_needle());
        let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        self.read(move |c| {
            // instr, not LIKE: '%' and '_' in the text are taken literally.
            Ok(c.prepare_cached(
                "SELECT t_ms, account, user, ip, method, path, status FROM access_log
                 WHERE account = ?1
                   AND (?2 IS NULL OR user = ?2)
                   AND (?3 IS NULL OR instr(lower(method || ' ' || path), ?3) > 0)
                   AND (?4 IS NULL OR t_ms >= ?4)
                   AND (?5 IS NULL OR t_ms < ?5)
                 ORDER BY t_ms DESC, id DESC LIMIT ?6 OFFSET ?7",
            )?
            .query_map(params![account, q.user, action, q.from, q.to, n(q.limit), n(q.offset)], access_entry)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    // ---- agents -----------------------------------------------------------

    async fn insert_agent(&self, agent: &Agent) -> Result<()> {
        let a = agent.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO agent (id, account, name, secret_hash, broker_hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![a.id, a.account, a.name, a.secret_hash, a.broker_hash, a.created_ms],
            )
            .map_err(|e| insert_err(e, format!("agent {}", a.id), format!("account {}", a.account)))?;
            Ok(())
        })
        .await
    }

    async fn agent(&self, id: &str) -> Result<Option<Agent>> {
        let id = id.to_owned();
        self.read(move |c| one(c, &format!("SELECT {AGENT_COLS} FROM agent WHERE id = ?1"), [&id], |r| rows::agent(r)))
            .await
    }

    async fn agents(&self, account: &str) -> Result<Vec<Agent>> {
        let account = account.to_owned();
        self.read(move |c| {
            let sql = format!("SELECT {AGENT_COLS} FROM agent WHERE account = ?1 ORDER BY created_ms, id");
            all(c, &sql, [&account], |r| rows::agent(r))
        })
        .await
    }

    async fn delete_agent(&self, account: &str, id: &str) -> Result<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |c| {
            let tx = c.transaction()?;
            // Channels, parts, stores and traffic cascade.
            let n = tx.execute("DELETE FROM agent WHERE account = ?1 AND id = ?2", [&account, &id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("agent {id}")));
            }
            drop_from_lists(&tx, "grp", "agents", &account, &id)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn set_agent_secret(&self, account: &str, id: &str, secret_hash: &str, broker_hash: &str) -> Result<()> {
        let args = [account, id, secret_hash, broker_hash].map(str::to_owned);
        self.write(move |c| {
            let n = c.execute(
                "UPDATE agent SET secret_hash = ?3, broker_hash = ?4 WHERE account = ?1 AND id = ?2",
                params![args[0], args[1], args[2], args[3]],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("agent {}", args[1])));
            }
            Ok(())
        })
        .await
    }

    async fn broker_logins(&self) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT id, broker_hash FROM agent WHERE broker_hash NOT LIKE '!%' ORDER BY id")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
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
        let (agent, b) = (agent.to_owned(), batch.clone());
        self.write(move |c| ingest_tx(c, &agent, &b.batch, &b.chunks, payload_bytes, now, limits)).await
    }

    async fn ingest_refused(&self, agent: &str, error: &str, payload_bytes: u64, now: TimeMs) -> Result<MonthTraffic> {
        let (agent, error) = (agent.to_owned(), error.to_owned());
        self.write(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE agent SET rejected = rejected + 1, last_error = ?2 WHERE id = ?1",
                params![agent, error],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("agent {agent}")));
            }
            let traffic = add_traffic(&tx, &agent, payload_bytes, now)?;
            tx.commit()?;
            Ok(traffic)
        })
        .await
    }

    async fn traffic(&self, agent: &str, month: &str) -> Result<u64> {
        let (agent, month) = (agent.to_owned(), month.to_owned());
        self.read(move |c| {
            let n: Option<i64> = c
                .prepare_cached("SELECT bytes FROM traffic WHERE agent = ?1 AND month = ?2")?
                .query_row([&agent, &month], |r| r.get(0))
                .optional()?;
            Ok(u(n.unwrap_or(0)))
        })
        .await
    }

    async fn channels(&self, agent: &str) -> Result<Vec<CloudChannel>> {
        let agent = agent.to_owned();
        self.read(move |c| {
            all(c, &format!("SELECT {CHANNEL_COLS} FROM channel WHERE agent = ?1 ORDER BY path"), [&agent], |r| {
                rows::channel(r)
            })
        })
        .await
    }

    async fn channel(&self, id: i64) -> Result<Option<CloudChannel>> {
        self.read(move |c| {
            one(c, &format!("SELECT {CHANNEL_COLS} FROM channel WHERE id = ?1"), [id], |r| rows::channel(r))
        })
        .await
    }

    async fn raw(&self, channel: i64, from: TimeMs, to: TimeMs, limit: usize) -> Result<Vec<Point>> {
        self.read(move |c| {
            let (span, _) = span_of(c, channel)?;
            if to <= from || limit == 0 {
                return Ok(Vec::new());
            }
            // Storage order: cache file (first arrival), then sequence.
            let parts: Vec<(i64, i64)> = c
                .prepare_cached(
                    "SELECT id, count FROM part WHERE channel = ?1 AND t_min >= ?2 AND t_min < ?3 AND t_max >= ?4
                     AND count > 0 ORDER BY store, seq_from",
                )?
                .query_map(params![channel, from.saturating_sub(span), to, from], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            let mut d = Decoded::default();
            for (id, count) in parts {
                block_of(c, id, u(count), &mut d)?;
                if !series::push_raw(&d, from, to, limit, &mut out) {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }

    async fn raw_page(
        &self,
        channel: i64,
        from: TimeMs,
        to: TimeMs,
        after: Option<SampleKey>,
        limit: usize,
    ) -> Result<Vec<(SampleKey, Point)>> {
        self.read(move |c| {
            let (span, _) = span_of(c, channel)?;
            let lo = after.map_or(from, |a| a.t.max(from));
            if to <= lo || limit == 0 {
                return Ok(Vec::new());
            }
            let parts: Vec<series::PartSpan> = c
                .prepare_cached(
                    "SELECT id, store, seq_from, count, t_min, t_max FROM part WHERE channel = ?1 AND t_min >= ?2
                     AND t_min < ?3 AND t_max >= ?4 AND count > 0 ORDER BY t_min",
                )?
                .query_map(params![channel, lo.saturating_sub(span), to, lo], |r| {
                    Ok(series::PartSpan {
                        id: r.get(0)?,
                        store: r.get(1)?,
                        seq: r.get(2)?,
                        count: u(r.get(3)?),
                        t_min: r.get(4)?,
                        t_max: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            series::page_in_time_order(&parts, from, to, after, limit, |p, d| block_of(c, p.id, p.count, d))
        })
        .await
    }

    async fn minmax(&self, channel: i64, from: TimeMs, to: TimeMs, buckets: usize) -> Result<Vec<MinMax>> {
        self.read(move |c| {
            let (span, _) = span_of(c, channel)?;
            if !series::check_range(from, to, buckets)? {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {SUMMARY_COLS} FROM part WHERE channel = ?1 AND t_min >= ?2 AND t_min < ?3
                 AND t_max >= ?4 AND count > 0 ORDER BY t_min"
            );
            let parts = all(c, &sql, params![channel, from.saturating_sub(span), to, from], |r| rows::summary(r))?;
            let mut acc = MinMaxAcc::new(from, to, buckets);
            let cut: Vec<&PartSummary> = parts.iter().filter(|p| !acc.add_summary(&p.summary)).collect();
            for p in cut {
                let count = p.summary.count;
                let what = || format!("part {}", p.id);
                let chunks = with_blob(c, "SELECT chunks FROM part WHERE id = ?1", p.id, |b| {
                    series::decode_chunks(b, count, what)
                })?;
                acc.add_chunks(p.id, count, &chunks);
            }
            let mut ts = Vec::new();
            for (id, count) in acc.times_needed() {
                with_block(c, id, |b| series::decode_times(b, count, || format!("part {id}"), &mut ts))?;
                acc.add_times(id, &ts);
            }
            // Copied out, so the blocks decode on several threads.
            let mut blocks = Vec::new();
            for (id, count) in acc.values_needed() {
                blocks.push((id, count, with_block(c, id, |b| Ok(b.to_vec()))?));
            }
            let blocks: Vec<(i64, u64, &[u8])> = blocks.iter().map(|(i, n, b)| (*i, *n, b.as_slice())).collect();
            acc.add_values_from(&blocks)?;
            Ok(acc.finish())
        })
        .await
    }

    async fn latest(&self, channel: i64) -> Result<Option<Point>> {
        self.read(move |c| {
            let (span, t_last) = span_of(c, channel)?;
            let Some(t_last) = t_last else { return Ok(None) };
            let part: Option<(i64, i64)> = c
                .prepare_cached(
                    "SELECT id, count FROM part WHERE channel = ?1 AND t_min >= ?2 AND t_min <= ?3 AND t_max = ?3
                     AND count > 0 ORDER BY store DESC, seq_from DESC LIMIT 1",
                )?
                .query_row(params![channel, t_last.saturating_sub(span), t_last], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((id, count)) = part else { return Ok(None) };
            let mut d = Decoded::default();
            block_of(c, id, u(count), &mut d)?;
            Ok(series::last_at(&d, t_last))
        })
        .await
    }

    // ---- operations ---------------------------------------------------------

    // ---- licences ------------------------------------------------------------

    async fn licence(&self, account: &str) -> Result<Option<(LicenceState, i64)>> {
        let account = account.to_owned();
        self.read(move |c| {
            one(c, "SELECT state, version FROM licence WHERE account = ?1", [&account], |r| {
                let text: String = r.get(0)?;
                let state = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("licence of {account}: {e}")))?;
                Ok((state, r.get(1)?))
            })
        })
        .await
    }

    async fn save_licence(
        &self,
        state: &LicenceState,
        version: i64,
        card: Option<&str>,
        event: &LicenceEvent,
    ) -> Result<()> {
        let (st, card, ev) = (state.clone(), card.map(str::to_owned), event.clone());
        let text = serde_json::to_string(state).map_err(|e| StoreError::Db(e.to_string()))?;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = if version == 0 {
                tx.execute(
                    "INSERT INTO licence (account, state, version) VALUES (?1, ?2, 1) ON CONFLICT (account) DO NOTHING",
                    params![st.account, text],
                )
                .map_err(|e| insert_err(e, format!("licence of {}", st.account), format!("account {}", st.account)))?
            } else {
                tx.execute(
                    "UPDATE licence SET state = ?2, version = version + 1 WHERE account = ?1 AND version = ?3",
                    params![st.account, text, version],
                )?
            };
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "the licence of {} changed meanwhile; nothing was changed, try again",
                    st.account
                )));
            }
            if let Some(hash) = &card {
                let n = tx.execute(
                    "UPDATE card SET used_ms = ?2, used_by = ?3 WHERE code_hash = ?1 AND account = ?4 AND used_ms IS NULL",
                    params![hash, ev.at, ev.by, st.account],
                )?;
                if n == 0 {
                    return Err(StoreError::Refused("this card was applied already; nothing was changed".into()));
                }
            }
            insert_licence_event(&tx, &ev)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn licence_event(&self, event: &LicenceEvent) -> Result<()> {
        let ev = event.clone();
        self.write(move |c| insert_licence_event(c, &ev)).await
    }

    async fn licence_history(&self, account: &str, limit: usize) -> Result<Vec<LicenceEvent>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(
                c,
                "SELECT account, at_ms, what, by_whom, detail FROM licence_event WHERE account = ?1
                 ORDER BY at_ms DESC, id DESC LIMIT ?2",
                params![account, i(limit as u64)],
                |r| {
                    Ok(LicenceEvent {
                        account: r.get(0)?,
                        at: r.get(1)?,
                        what: r.get(2)?,
                        by: r.get(3)?,
                        detail: r.get(4)?,
                    })
                },
            )
        })
        .await
    }

    async fn storage_used(&self, account: &str) -> Result<Vec<ChannelBytes>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(
                c,
                "SELECT c.id, c.agent, c.path, COALESCE(SUM(length(p.block) + length(p.chunks)), 0) AS b
                 FROM channel c JOIN agent a ON a.id = c.agent LEFT JOIN part p ON p.channel = c.id
                 WHERE a.account = ?1 GROUP BY c.id ORDER BY b DESC, c.id",
                [&account],
                |r| Ok(ChannelBytes { channel: r.get(0)?, agent: r.get(1)?, path: r.get(2)?, bytes: u(r.get(3)?) }),
            )
        })
        .await
    }

    async fn prune(&self, account: &str, prune: Prune) -> Result<Pruned> {
        let account = account.to_owned();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let rows: Vec<PruneRow> = all(
                &tx,
                "SELECT p.id, p.channel, length(p.block) + length(p.chunks), p.count, p.t_min, p.t_max,
                        c.agent || '/' || c.path
                 FROM part p JOIN channel c ON c.id = p.channel JOIN agent a ON a.id = c.agent
                 WHERE a.account = ?1 ORDER BY COALESCE(p.t_max, p.t_min), p.id",
                [&account],
                |r| Ok((r.get(0)?, r.get(1)?, u(r.get(2)?), u(r.get(3)?), r.get(4)?, r.get(5)?, r.get(6)?)),
            )?;
            let (ids, channels, out) = select_prune(&rows, prune);
            for id in &ids {
                tx.execute("DELETE FROM part WHERE id = ?1", [id])?;
            }
            for ch in &channels {
                tx.execute(
                    "UPDATE channel SET samples = (SELECT COALESCE(SUM(count), 0) FROM part WHERE channel = ?1),
                        t_first = (SELECT MIN(t_min) FROM part WHERE channel = ?1),
                        t_last = (SELECT MAX(t_max) FROM part WHERE channel = ?1)
                     WHERE id = ?1",
                    [ch],
                )?;
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn account_ids(&self) -> Result<Vec<String>> {
        self.read(|c| all(c, "SELECT id FROM account ORDER BY id", [], |r| Ok(r.get(0)?))).await
    }

    async fn insert_card(&self, card: &Card) -> Result<()> {
        let k = card.clone();
        let product = serde_json::to_string(&k.product).map_err(|e| StoreError::Db(e.to_string()))?;
        self.write(move |c| {
            c.execute(
                "INSERT INTO card (code_hash, account, product, months, issued_ms, used_ms, used_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![k.code_hash, k.account, product, k.months, k.issued_ms, k.used_ms, k.used_by],
            )
            .map_err(|e| insert_err(e, "card", format!("account {}", k.account)))?;
            Ok(())
        })
        .await
    }

    async fn card(&self, code_hash: &str) -> Result<Option<Card>> {
        let hash = code_hash.to_owned();
        self.read(move |c| {
            one(
                c,
                "SELECT code_hash, account, product, months, issued_ms, used_ms, used_by FROM card WHERE code_hash = ?1",
                [&hash],
                |r| {
                    let product: String = r.get(2)?;
                    Ok(Card {
                        code_hash: r.get(0)?,
                        account: r.get(1)?,
                        product: serde_json::from_str(&product)
                            .map_err(|e| StoreError::Corrupt(format!("card product: {e}")))?,
                        months: r.get(3)?,
                        issued_ms: r.get(4)?,
                        used_ms: r.get(5)?,
                        used_by: r.get(6)?,
                    })
                },
            )
        })
        .await
    }

    async fn record_reminder(&self, account: &str, key: &str, at: TimeMs) -> Result<bool> {
        let (account, key) = (account.to_owned(), key.to_owned());
        self.write(move |c| {
            let n = c
                .execute(
                    "INSERT INTO reminder_sent (account, key, at_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![account, key, at],
                )
                .map_err(|e| insert_err(e, "reminder", format!("account {account}")))?;
            Ok(n == 1)
        })
        .await
    }

    async fn forget_reminder(&self, account: &str, key: &str) -> Result<()> {
        let (account, key) = (account.to_owned(), key.to_owned());
        self.write(move |c| {
            c.execute("DELETE FROM reminder_sent WHERE account = ?1 AND key = ?2", params![account, key])?;
            Ok(())
        })
        .await
    }

    async fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_path_buf();
        self.read(move |c| {
            if dest.exists() {
                return Err(StoreError::Exists(format!("backup file {}", dest.display())));
            }
            let ctx = |e: &dyn std::fmt::Display| StoreError::Db(format!("backup to {}: {e}", dest.display()));
            // Written beside the destination and renamed, so a backup file
            // is always whole.
            let mut tmp = dest.clone().into_os_string();
            tmp.push(".partial");
            let tmp = PathBuf::from(tmp);
            let _ = std::fs::remove_file(&tmp);
            {
                let mut dst = Connection::open(&tmp).map_err(|e| ctx(&e))?;
                // One step: a read snapshot for the whole copy, so ongoing
                // writes (WAL) neither block it nor restart it.
                let step = rusqlite::backup::Backup::new(c, &mut dst).and_then(|b| b.step(-1));
                match step {
                    Ok(rusqlite::backup::StepResult::Done) => {}
                    Ok(other) => {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(ctx(&format!("stopped ({other:?})")));
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(ctx(&e));
                    }
                }
            }
            std::fs::rename(&tmp, &dest).map_err(|e| ctx(&e))
        })
        .await
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

fn insert_user_row(c: &Connection, x: &User) -> Result<()> {
    c.execute(
        &format!("INSERT INTO user ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            x.account,
            x.id,
            x.name,
            x.email,
            x.role.as_str(),
            x.password_hash,
            x.must_change,
            x.two_factor.as_str(),
            x.totp_secret,
            x.created_ms
        ],
    )
    .map_err(|e| insert_err(e, format!("user {}", x.id), format!("account {}", x.account)))?;
    Ok(())
}

/// An `access_log` row (t_ms, account, user, ip, method, path, status).
fn access_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessEntry> {
    Ok(AccessEntry {
        t_ms: r.get(0)?,
        account: r.get(1)?,
        user: r.get(2)?,
        ip: r.get(3)?,
        method: r.get(4)?,
        path: r.get(5)?,
        status: r.get(6)?,
    })
}
