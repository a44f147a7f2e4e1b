//! `RecordStore` on PostgreSQL: `site_record`, `agent_presence` and
//! `account_watch` (schema version 5), `cloud_ack` (version 6).

use async_trait::async_trait;
use meterdeck_wire::alarms::PendingAck;
use meterdeck_wire::records::Record;
use tokio_postgres::Row;

use super::{PgStore, all, g, i, u};
use crate::store::records::{
    CLOUD_ALARM, CLOUD_STORE, MAX_KINDS, PresenceRow, REMOTE_COMMAND, REMOTE_STORE, RecordQuery, RecordStore,
    SiteRecord, body_json, parse_body,
};
use crate::store::{Result, StoreError, TimeMs};

const COLS: &str = "id, agent, store, seq, kind, t, body, received_ms";

fn row(r: &Row) -> Result<SiteRecord> {
    Ok(SiteRecord {
        id: g(r, 0)?,
        agent: g(r, 1)?,
        store: g(r, 2)?,
        seq: g(r, 3)?,
        kind: g(r, 4)?,
        t: g(r, 5)?,
        body: parse_body(&g::<String>(r, 6)?)?,
        received_ms: g(r, 7)?,
    })
}

async fn account_of<C: deadpool_postgres::GenericClient>(c: &C, agent: &str) -> Result<String> {
    let stmt = c.prepare_cached("SELECT account FROM agent WHERE id = $1").await?;
    match c.query_opt(&stmt, &[&agent]).await? {
        Some(r) => g(&r, 0),
        None => Err(StoreError::NotFound(format!("agent {agent}"))),
    }
}

#[async_trait]
impl RecordStore for PgStore {
    async fn store_records(&self, agent: &str, store: &str, records: &[Record], now: TimeMs) -> Result<u64> {
        let rows: Vec<(i64, &'static str, TimeMs, String)> =
            records.iter().map(|r| Ok((r.seq, r.body.kind(), r.t, body_json(r)?))).collect::<Result<_>>()?;
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // The agent's row first, like ingest: a resend racing its original waits.
        let lock = tx.prepare_cached("SELECT account FROM agent WHERE id = $1 FOR UPDATE").await?;
        let account: String = match tx.query_opt(&lock, &[&agent]).await? {
            Some(r) => g(&r, 0)?,
            None => return Err(StoreError::NotFound(format!("agent {agent}"))),
        };
        let ins = tx
            .prepare_cached(
                "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (agent, store, seq) DO NOTHING",
            )
            .await?;
        let mut new = 0;
        for (seq, kind, t, body) in &rows {
            new += tx.execute(&ins, &[&account, &agent, &store, seq, kind, t, body, &now]).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn records(&self, agent: &str, q: &RecordQuery) -> Result<Vec<SiteRecord>> {
        if q.kinds.len() > MAX_KINDS {
            return Err(StoreError::Db(format!("at most {MAX_KINDS} kinds in one query")));
        }
        let kinds: Vec<String> = q.kinds.clone();
        let (at, aseq, aid) = q.after.map_or((None, None, None), |a| (Some(a.t), Some(a.seq), Some(a.id)));
        let limit = i(q.limit as u64);
        let no_kinds = kinds.is_empty();
        let rows = self
            .query(
                &format!(
                    "SELECT {COLS} FROM site_record WHERE agent = $1
                     AND ($2::BIGINT IS NULL OR t >= $2) AND ($3::BIGINT IS NULL OR t < $3)
                     AND ($4 OR kind = ANY($5))
                     AND ($6::BIGINT IS NULL OR (t, seq, id) > ($6, $7::BIGINT, $8::BIGINT))
                     ORDER BY t, seq, id LIMIT $9"
                ),
                &[&agent, &q.from, &q.to, &no_kinds, &kinds, &at, &aseq, &aid, &limit],
            )
            .await?;
        all(&rows, row)
    }

    async fn alarm_states(&self, agent: &str) -> Result<Vec<SiteRecord>> {
        let rows = self
            .query(
                &format!(
                    "SELECT DISTINCT ON ((body::jsonb)->>'alarm_id') {COLS} FROM site_record
                     WHERE agent = $1 AND kind = 'journal'
                     AND (body::jsonb)->>'action' NOT IN ('notify_ok', 'notify_failed', 'notify_retry')
                     ORDER BY (body::jsonb)->>'alarm_id', t DESC, seq DESC, id DESC"
                ),
                &[&agent],
            )
            .await?;
        all(&rows, row)
    }

    async fn alarm_marks(&self, agent: &str) -> Result<Vec<SiteRecord>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {COLS} FROM (
                        SELECT DISTINCT ON ((body::jsonb)->>'alarm_id', (body::jsonb)->>'action') {COLS} FROM site_record
                        WHERE agent = $1 AND kind = 'journal' AND (body::jsonb)->>'action' IN ('raise', 'ack')
                        ORDER BY (body::jsonb)->>'alarm_id', (body::jsonb)->>'action', t DESC, seq DESC, id DESC) m
                     ORDER BY t, seq, id"
                ),
                &[&agent],
            )
            .await?;
        all(&rows, row)
    }

    async fn add_cloud_ack(&self, agent: &str, ack: &PendingAck) -> Result<()> {
        let n = self
            .exec(
                "INSERT INTO cloud_ack (id, account, agent, alarm_id, user_id, comment, created_ms)
                 SELECT $1, account, id, $3, $4, $5, $6 FROM agent WHERE id = $2",
                &[&ack.id, &agent, &ack.alarm_id, &ack.user, &ack.comment, &ack.created_ms],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("agent {agent}")));
        }
        Ok(())
    }

    async fn open_cloud_acks(&self, agent: Option<&str>) -> Result<Vec<(String, PendingAck)>> {
        let rows = self
            .query(
                "SELECT agent, id, alarm_id, user_id, comment, created_ms, sends FROM cloud_ack
                 WHERE done_ms IS NULL AND expired_ms IS NULL AND ($1::TEXT IS NULL OR agent = $1) ORDER BY created_ms, id",
                &[&agent],
            )
            .await?;
        all(&rows, |r| {
            Ok((
                g(r, 0)?,
                PendingAck {
                    id: g(r, 1)?,
                    alarm_id: g(r, 2)?,
                    user: g(r, 3)?,
                    comment: g(r, 4)?,
                    created_ms: g(r, 5)?,
                    sends: u32::try_from(g::<i32>(r, 6)?).unwrap_or(0),
                    expired_ms: None,
                },
            ))
        })
    }

    async fn cloud_ack_sent(&self, id: &str, now: TimeMs) -> Result<()> {
        self.exec("UPDATE cloud_ack SET sends = sends + 1, last_sent_ms = $2 WHERE id = $1", &[&id, &now]).await?;
        Ok(())
    }

    async fn close_cloud_ack(&self, id: &str, now: TimeMs) -> Result<()> {
        self.exec("UPDATE cloud_ack SET done_ms = $2 WHERE id = $1 AND done_ms IS NULL", &[&id, &now]).await?;
        Ok(())
    }

    async fn set_presence(&self, agent: &str, online: bool, now: TimeMs) -> Result<()> {
        self.exec(
            "INSERT INTO agent_presence (agent, online, status_ms)
             SELECT id, $2, $3 FROM agent WHERE id = $1
             ON CONFLICT (agent) DO UPDATE SET online = excluded.online, status_ms = excluded.status_ms",
            &[&agent, &online, &now],
        )
        .await?;
        Ok(())
    }

    async fn presences(&self) -> Result<Vec<PresenceRow>> {
        let rows = self
            .query(
                "SELECT a.id, a.account, a.name, a.last_batch_ms, p.online, p.status_ms,
                        coalesce(p.offline_alarm, FALSE), p.alarm_ms, w.offline_after_s
                 FROM agent a LEFT JOIN agent_presence p ON p.agent = a.id
                 LEFT JOIN account_watch w ON w.account = a.account ORDER BY a.id",
                &[],
            )
            .await?;
        all(&rows, |r| {
            Ok(PresenceRow {
                agent: g(r, 0)?,
                account: g(r, 1)?,
                name: g(r, 2)?,
                last_batch_ms: g(r, 3)?,
                online: g(r, 4)?,
                status_ms: g(r, 5)?,
                offline_alarm: g(r, 6)?,
                alarm_ms: g(r, 7)?,
                offline_after_s: g::<Option<i64>>(r, 8)?.map(u),
            })
        })
    }

    async fn set_offline_alarm(
        &self,
        agent: &str,
        offline: bool,
        now: TimeMs,
        body: &serde_json::Value,
    ) -> Result<bool> {
        let body = body.to_string();
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let account = account_of(&tx, agent).await?;
        let sql = if offline {
            "INSERT INTO agent_presence (agent, offline_alarm, alarm_ms) VALUES ($1, TRUE, $2)
             ON CONFLICT (agent) DO UPDATE SET offline_alarm = TRUE, alarm_ms = excluded.alarm_ms
             WHERE agent_presence.offline_alarm = FALSE"
        } else {
            "UPDATE agent_presence SET offline_alarm = FALSE, alarm_ms = $2 WHERE agent = $1 AND offline_alarm = TRUE"
        };
        let stmt = tx.prepare_cached(sql).await?;
        let changed = tx.execute(&stmt, &[&agent, &now]).await? > 0;
        if changed {
            let ins = tx
                .prepare_cached(
                    "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                     VALUES ($1, $2, $3, $4, $5, $4, $6, $4) ON CONFLICT (agent, store, seq) DO NOTHING",
                )
                .await?;
            tx.execute(&ins, &[&account, &agent, &CLOUD_STORE, &now, &CLOUD_ALARM, &body]).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn add_remote_record(&self, agent: &str, now: TimeMs, body: &serde_json::Value) -> Result<()> {
        let body = body.to_string();
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let account = account_of(&tx, agent).await?;
        // Serialises the seq of one agent's remote journal between processes.
        let lock = tx.prepare_cached("SELECT pg_advisory_xact_lock(hashtext('remote:' || $1))").await?;
        tx.execute(&lock, &[&agent]).await?;
        let ins = tx
            .prepare_cached(
                "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                 SELECT $1, $2, $3, coalesce(max(seq), 0) + 1, $4, $5, $6, $5
                 FROM site_record WHERE agent = $2 AND store = $3",
            )
            .await?;
        tx.execute(&ins, &[&account, &agent, &REMOTE_STORE, &REMOTE_COMMAND, &now, &body]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn offline_after(&self, account: &str) -> Result<Option<u64>> {
        let r = self.query_opt("SELECT offline_after_s FROM account_watch WHERE account = $1", &[&account]).await?;
        Ok(r.map(|r| g::<i64>(&r, 0)).transpose()?.map(u))
    }

    async fn set_offline_after(&self, account: &str, secs: u64) -> Result<()> {
        self.insert(
            "INSERT INTO account_watch (account, offline_after_s) VALUES ($1, $2)
             ON CONFLICT (account) DO UPDATE SET offline_after_s = excluded.offline_after_s",
            &[&account, &i(secs)],
            format!("account {account}"),
            format!("account {account}"),
        )
        .await
    }
}
