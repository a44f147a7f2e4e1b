//! `RecordStore` on SQLite: `site_record`, `agent_presence` and
//! `account_watch` (schema version 5), `cloud_ack` (version 6).

use async_trait::async_trait;
use meterdeck_wire::alarms::PendingAck;
use meterdeck_wire::records::Record;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{SqliteStore, all, i, u};
use crate::store::records::{
    CLOUD_ALARM, CLOUD_STORE, MAX_KINDS, PresenceRow, REMOTE_COMMAND, REMOTE_STORE, RecordQuery, RecordStore,
    SiteRecord, body_json, parse_body,
};
use crate::store::{Result, StoreError, TimeMs};

const COLS: &str = "id, agent, store, seq, kind, t, body, received_ms";

fn row(r: &Row) -> Result<SiteRecord> {
    Ok(SiteRecord {
        id: r.get(0)?,
        agent: r.get(1)?,
        store: r.get(2)?,
        seq: r.get(3)?,
        kind: r.get(4)?,
        t: r.get(5)?,
        body: parse_body(&r.get::<_, String>(6)?)?,
        received_ms: r.get(7)?,
    })
}

fn account_of(c: &rusqlite::Connection, agent: &str) -> Result<String> {
    c.query_row("SELECT account FROM agent WHERE id = ?1", [agent], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("agent {agent}")))
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn store_records(&self, agent: &str, store: &str, records: &[Record], now: TimeMs) -> Result<u64> {
        let (agent, store) = (agent.to_owned(), store.to_owned());
        let rows: Vec<(i64, &'static str, TimeMs, String)> =
            records.iter().map(|r| Ok((r.seq, r.body.kind(), r.t, body_json(r)?))).collect::<Result<_>>()?;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = account_of(&tx, &agent)?;
            let mut new = 0;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (agent, store, seq) DO NOTHING",
                )?;
                for (seq, kind, t, body) in &rows {
                    new += ins.execute(params![account, agent, store, seq, kind, t, body, now])? as u64;
                }
            }
            tx.commit()?;
            Ok(new)
        })
        .await
    }

    async fn records(&self, agent: &str, q: &RecordQuery) -> Result<Vec<SiteRecord>> {
        let (agent, q) = (agent.to_owned(), q.clone());
        if q.kinds.len() > MAX_KINDS {
            return Err(StoreError::Db(format!("at most {MAX_KINDS} kinds in one query")));
        }
        self.read(move |c| {
            let kind = |n: usize| q.kinds.get(n).cloned();
            let (at, aseq, aid) = q.after.map_or((None, None, None), |a| (Some(a.t), Some(a.seq), Some(a.id)));
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM site_record WHERE agent = ?1
                     AND (?2 IS NULL OR t >= ?2) AND (?3 IS NULL OR t < ?3)
                     AND (?4 IS NULL OR kind IN (?4, coalesce(?5, ?4), coalesce(?6, ?4), coalesce(?11, ?4)))
                     AND (?7 IS NULL OR (t, seq, id) > (?7, ?8, ?9))
                     ORDER BY t, seq, id LIMIT ?10"
                ),
                params![agent, q.from, q.to, kind(0), kind(1), kind(2), at, aseq, aid, i(q.limit as u64), kind(3)],
                row,
            )
        })
        .await
    }

    async fn alarm_states(&self, agent: &str) -> Result<Vec<SiteRecord>> {
        let agent = agent.to_owned();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM (
                        SELECT *, row_number() OVER (
                            PARTITION BY json_extract(body, '$.alarm_id') ORDER BY t DESC, seq DESC, id DESC) AS n
                        FROM site_record WHERE agent = ?1 AND kind = 'journal'
                        AND json_extract(body, '$.action') NOT IN ('notify_ok', 'notify_failed', 'notify_retry'))
                     WHERE n = 1 ORDER BY json_extract(body, '$.alarm_id')"
                ),
                [agent],
                row,
            )
        })
        .await
    }

    async fn alarm_marks(&self, agent: &str) -> Result<Vec<SiteRecord>> {
        let agent = agent.to_owned();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM (
                        SELECT *, row_number() OVER (
                            PARTITION BY json_extract(body, '$.alarm_id'), json_extract(body, '$.action')
                            ORDER BY t DESC, seq DESC, id DESC) AS n
                        FROM site_record WHERE agent = ?1 AND kind = 'journal'
                        AND json_extract(body, '$.action') IN ('raise', 'ack'))
                     WHERE n = 1 ORDER BY t, seq, id"
                ),
                [agent],
                row,
            )
        })
        .await
    }

    async fn add_cloud_ack(&self, agent: &str, ack: &PendingAck) -> Result<()> {
        let (agent, ack) = (agent.to_owned(), ack.clone());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = account_of(&tx, &agent)?;
            tx.execute(
                "INSERT INTO cloud_ack (id, account, agent, alarm_id, user_id, comment, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![ack.id, account, agent, ack.alarm_id, ack.user, ack.comment, ack.created_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn open_cloud_acks(&self, agent: Option<&str>) -> Result<Vec<(String, PendingAck)>> {
        let agent = agent.map(str::to_owned);
        self.read(move |c| {
            all(
                c,
                "SELECT agent, id, alarm_id, user_id, comment, created_ms, sends FROM cloud_ack
                 WHERE done_ms IS NULL AND expired_ms IS NULL AND (?1 IS NULL OR agent = ?1) ORDER BY created_ms, id",
                params![agent],
                |r| {
                    Ok((
                        r.get(0)?,
                        PendingAck {
                            id: r.get(1)?,
                            alarm_id: r.get(2)?,
                            user: r.get(3)?,
                            comment: r.get(4)?,
                            created_ms: r.get(5)?,
                            sends: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(u32::MAX),
                            expired_ms: None,
                        },
                    ))
                },
            )
        })
        .await
    }

    async fn cloud_ack_sent(&self, id: &str, now: TimeMs) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            c.execute("UPDATE cloud_ack SET sends = sends + 1, last_sent_ms = ?2 WHERE id = ?1", params![id, now])?;
            Ok(())
        })
        .await
    }

    async fn close_cloud_ack(&self, id: &str, now: TimeMs) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            c.execute("UPDATE cloud_ack SET done_ms = ?2 WHERE id = ?1 AND done_ms IS NULL", params![id, now])?;
            Ok(())
        })
        .await
    }

    async fn set_presence(&self, agent: &str, online: bool, now: TimeMs) -> Result<()> {
        let agent = agent.to_owned();
        self.write(move |c| {
            c.execute(
                "INSERT INTO agent_presence (agent, online, status_ms)
                 SELECT id, ?2, ?3 FROM agent WHERE id = ?1
                 ON CONFLICT (agent) DO UPDATE SET online = excluded.online, status_ms = excluded.status_ms",
                params![agent, online, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn presences(&self) -> Result<Vec<PresenceRow>> {
        self.read(|c| {
            all(
                c,
                "SELECT a.id, a.account, a.name, a.last_batch_ms, p.online, p.status_ms,
                        coalesce(p.offline_alarm, 0), p.alarm_ms, w.offline_after_s
                 FROM agent a LEFT JOIN agent_presence p ON p.agent = a.id
                 LEFT JOIN account_watch w ON w.account = a.account ORDER BY a.id",
                [],
                |r| {
                    Ok(PresenceRow {
                        agent: r.get(0)?,
                        account: r.get(1)?,
                        name: r.get(2)?,
                        last_batch_ms: r.get(3)?,
                        online: r.get(4)?,
                        status_ms: r.get(5)?,
                        offline_alarm: r.get::<_, i64>(6)? != 0,
                        alarm_ms: r.get(7)?,
                        offline_after_s: r.get::<_, Option<i64>>(8)?.map(u),
                    })
                },
            )
        })
        .await
    }

    async fn set_offline_alarm(
        &self,
        agent: &str,
        offline: bool,
        now: TimeMs,
        body: &serde_json::Value,
    ) -> Result<bool> {
        let (agent, body) = (agent.to_owned(), body.to_string());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = account_of(&tx, &agent)?;
            let changed = if offline {
                tx.execute(
                    "INSERT INTO agent_presence (agent, offline_alarm, alarm_ms) VALUES (?1, 1, ?2)
                     ON CONFLICT (agent) DO UPDATE SET offline_alarm = 1, alarm_ms = excluded.alarm_ms
                     WHERE agent_presence.offline_alarm = 0",
                    params![agent, now],
                )?
            } else {
                tx.execute(
                    "UPDATE agent_presence SET offline_alarm = 0, alarm_ms = ?2 WHERE agent = ?1 AND offline_alarm = 1",
                    params![agent, now],
                )?
            } > 0;
            if changed {
                tx.execute(
                    "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?4) ON CONFLICT (agent, store, seq) DO NOTHING",
                    params![account, agent, CLOUD_STORE, now, CLOUD_ALARM, body],
                )?;
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn add_remote_record(&self, agent: &str, now: TimeMs, body: &serde_json::Value) -> Result<()> {
        let (agent, body) = (agent.to_owned(), body.to_string());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = account_of(&tx, &agent)?;
            tx.execute(
                "INSERT INTO site_record (account, agent, store, seq, kind, t, body, received_ms)
                 SELECT ?1, ?2, ?3, coalesce(max(seq), 0) + 1, ?4, ?5, ?6, ?5
                 FROM site_record WHERE agent = ?2 AND store = ?3",
                params![account, agent, REMOTE_STORE, REMOTE_COMMAND, now, body],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn offline_after(&self, account: &str) -> Result<Option<u64>> {
        let account = account.to_owned();
        self.read(move |c| {
            Ok(c.query_row("SELECT offline_after_s FROM account_watch WHERE account = ?1", [account], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(u))
        })
        .await
    }

    async fn set_offline_after(&self, account: &str, secs: u64) -> Result<()> {
        let account = account.to_owned();
        self.write(move |c| {
            c.execute(
                "INSERT INTO account_watch (account, offline_after_s) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET offline_after_s = excluded.offline_after_s",
                params![account, i(secs)],
            )
            .map_err(|e| super::insert_err(e, format!("account {account}"), format!("account {account}")))?;
            Ok(())
        })
        .await
    }
}
