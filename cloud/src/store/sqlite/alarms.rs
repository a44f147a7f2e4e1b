//! `AlarmStore` on SQLite: `cloud_alarm`, `alarm_settings` and the expiry
//! of `cloud_ack` (schema version 8).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, all, i, one};
use crate::store::alarms::{AlarmStore, CloudAlarm, ExpiredAck, ack_of, agent_col, agent_of};
use crate::store::records::parse_body;
use crate::store::{Result, StoreError, TimeMs};

const COLS: &str = "id, account, agent, kind, episode, raised_ms, cleared_ms, sends, last_sent_ms, ack_user, ack_ms, ack_comment, body";

fn row(r: &Row) -> Result<CloudAlarm> {
    Ok(CloudAlarm {
        id: r.get(0)?,
        account: r.get(1)?,
        agent: agent_of(r.get(2)?),
        kind: r.get(3)?,
        episode: r.get(4)?,
        raised_ms: r.get(5)?,
        cleared_ms: r.get(6)?,
        sends: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
        last_sent_ms: r.get(8)?,
        ack: ack_of(r.get(9)?, r.get(10)?, r.get(11)?),
        body: parse_body(&r.get::<_, String>(12)?)?,
    })
}

#[async_trait]
impl AlarmStore for SqliteStore {
    async fn raise(&self, a: &CloudAlarm) -> Result<bool> {
        let a = a.clone();
        self.write(move |c| {
            let n = c
                .execute(
                    "INSERT INTO cloud_alarm (id, account, agent, kind, episode, raised_ms, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account, agent, kind, episode) DO NOTHING",
                    params![
                        a.id,
                        a.account,
                        agent_col(a.agent.as_deref()),
                        a.kind,
                        a.episode,
                        a.raised_ms,
                        a.body.to_string()
                    ],
                )
                .map_err(|e| super::insert_err(e, format!("cloud alarm {}", a.id), format!("account {}", a.account)))?;
            Ok(n > 0)
        })
        .await
    }

    async fn clear(
        &self,
        account: &str,
        agent: Option<&str>,
        kind: &str,
        keep: Option<&str>,
        now: TimeMs,
    ) -> Result<u64> {
        let (account, agent, kind, keep) =
            (account.to_owned(), agent_col(agent), kind.to_owned(), keep.map(str::to_owned));
        self.write(move |c| {
            let n = c.execute(
                "UPDATE cloud_alarm SET cleared_ms = ?5 WHERE account = ?1 AND agent = ?2 AND kind = ?3
                 AND cleared_ms IS NULL AND (?4 IS NULL OR episode <> ?4)",
                params![account, agent, kind, keep, now],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn open_alarms(&self) -> Result<Vec<CloudAlarm>> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM cloud_alarm WHERE cleared_ms IS NULL AND ack_ms IS NULL ORDER BY raised_ms, id"
                ),
                [],
                row,
            )
        })
        .await
    }

    async fn claim_send(&self, id: &str, last_sent: Option<TimeMs>, now: TimeMs) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE cloud_alarm SET sends = sends + 1, last_sent_ms = ?3
                 WHERE id = ?1 AND last_sent_ms IS ?2 AND cleared_ms IS NULL AND ack_ms IS NULL",
                params![id, last_sent, now],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn unclaim_send(&self, id: &str, last_sent: Option<TimeMs>, claimed_at: TimeMs) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            c.execute(
                "UPDATE cloud_alarm SET sends = sends - 1, last_sent_ms = ?2 WHERE id = ?1 AND last_sent_ms = ?3",
                params![id, last_sent, claimed_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn ack(&self, account: &str, id: &str, user: &str, comment: Option<&str>, now: TimeMs) -> Result<bool> {
        let (account, id, user, comment) =
            (account.to_owned(), id.to_owned(), user.to_owned(), comment.map(str::to_owned));
        self.write(move |c| {
            let n = c.execute(
                "UPDATE cloud_alarm SET ack_user = ?3, ack_ms = ?4, ack_comment = ?5
                 WHERE account = ?1 AND id = ?2 AND ack_ms IS NULL",
                params![account, id, user, now, comment],
            )?;
            if n > 0 {
                return Ok(true);
            }
            let exists = c
                .query_row("SELECT 1 FROM cloud_alarm WHERE account = ?1 AND id = ?2", params![account, id], |_| Ok(()))
                .optional()?;
            exists.map(|_| false).ok_or_else(|| StoreError::NotFound(format!("cloud alarm {id}")))
        })
        .await
    }

    async fn alarm(&self, account: &str, id: &str) -> Result<Option<CloudAlarm>> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.read(move |c| {
            one(c, &format!("SELECT {COLS} FROM cloud_alarm WHERE account = ?1 AND id = ?2"), params![account, id], row)
        })
        .await
    }

    async fn alarms(&self, account: &str, agent: Option<&str>, limit: usize) -> Result<Vec<CloudAlarm>> {
        let (account, agent) = (account.to_owned(), agent.map(str::to_owned));
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM cloud_alarm WHERE account = ?1 AND (?2 IS NULL OR agent = ?2)
                     ORDER BY (cleared_ms IS NULL AND ack_ms IS NULL) DESC, raised_ms DESC, id LIMIT ?3"
                ),
                params![account, agent, i(limit as u64)],
                row,
            )
        })
        .await
    }

    async fn alarm_settings(&self, account: &str) -> Result<Option<String>> {
        let account = account.to_owned();
        self.read(move |c| {
            Ok(c.query_row("SELECT sealed FROM alarm_settings WHERE account = ?1", [account], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_alarm_settings(&self, account: &str, sealed: &str, now: TimeMs) -> Result<()> {
        let (account, sealed) = (account.to_owned(), sealed.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO alarm_settings (account, sealed, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account) DO UPDATE SET sealed = excluded.sealed, updated_ms = excluded.updated_ms",
                params![account, sealed, now],
            )
            .map_err(|e| super::insert_err(e, format!("account {account}"), format!("account {account}")))?;
            Ok(())
        })
        .await
    }

    async fn expire_cloud_acks(&self, before: TimeMs, now: TimeMs) -> Result<Vec<ExpiredAck>> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = all(
                &tx,
                "SELECT agent, id, alarm_id FROM cloud_ack
                 WHERE done_ms IS NULL AND expired_ms IS NULL AND created_ms < ?1 ORDER BY created_ms, id",
                [before],
                |r| Ok(ExpiredAck { agent: r.get(0)?, id: r.get(1)?, alarm_id: r.get(2)? }),
            )?;
            tx.execute(
                "UPDATE cloud_ack SET expired_ms = ?2 WHERE done_ms IS NULL AND expired_ms IS NULL AND created_ms < ?1",
                params![before, now],
            )?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn expired_cloud_acks(&self, agent: &str) -> Result<Vec<(String, String, TimeMs, TimeMs)>> {
        let agent = agent.to_owned();
        self.read(move |c| {
            all(
                c,
                "SELECT alarm_id, user_id, created_ms, expired_ms FROM cloud_ack
                 WHERE agent = ?1 AND expired_ms IS NOT NULL ORDER BY created_ms, id",
                [agent],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
        })
        .await
    }
}
