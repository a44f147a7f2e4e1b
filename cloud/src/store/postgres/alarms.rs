//! `AlarmStore` on PostgreSQL: `cloud_alarm`, `alarm_settings` and the
//! expiry of `cloud_ack` (schema version 8); see the SQLite module.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PgStore, all, g, i};
use crate::store::alarms::{AlarmStore, CloudAlarm, ExpiredAck, ack_of, agent_col, agent_of};
use crate::store::records::parse_body;
use crate::store::{Result, StoreError, TimeMs};

const COLS: &str = "id, account, agent, kind, episode, raised_ms, cleared_ms, sends, last_sent_ms, ack_user, ack_ms, ack_comment, body";

fn row(r: &Row) -> Result<CloudAlarm> {
    Ok(CloudAlarm {
        id: g(r, 0)?,
        account: g(r, 1)?,
        agent: agent_of(g(r, 2)?),
        kind: g(r, 3)?,
        episode: g(r, 4)?,
        raised_ms: g(r, 5)?,
        cleared_ms: g(r, 6)?,
        sends: u32::try_from(g::<i32>(r, 7)?).unwrap_or(0),
        last_sent_ms: g(r, 8)?,
        ack: ack_of(g(r, 9)?, g(r, 10)?, g(r, 11)?),
        body: parse_body(&g::<String>(r, 12)?)?,
    })
}

#[async_trait]
impl AlarmStore for PgStore {
    async fn raise(&self, a: &CloudAlarm) -> Result<bool> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO cloud_alarm (id, account, agent, kind, episode, raised_ms, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account, agent, kind, episode) DO NOTHING",
            )
            .await?;
        let n = c
            .execute(
                &stmt,
                &[
                    &a.id,
                    &a.account,
                    &agent_col(a.agent.as_deref()),
                    &a.kind,
                    &a.episode,
                    &a.raised_ms,
                    &a.body.to_string(),
                ],
            )
            .await
            .map_err(|e| super::insert_err(e, format!("cloud alarm {}", a.id), format!("account {}", a.account)))?;
        Ok(n > 0)
    }

    async fn clear(
        &self,
        account: &str,
        agent: Option<&str>,
        kind: &str,
        keep: Option<&str>,
        now: TimeMs,
    ) -> Result<u64> {
        self.exec(
            "UPDATE cloud_alarm SET cleared_ms = $5 WHERE account = $1 AND agent = $2 AND kind = $3
             AND cleared_ms IS NULL AND ($4::TEXT IS NULL OR episode <> $4)",
            &[&account, &agent_col(agent), &kind, &keep, &now],
        )
        .await
    }

    async fn open_alarms(&self) -> Result<Vec<CloudAlarm>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {COLS} FROM cloud_alarm WHERE cleared_ms IS NULL AND ack_ms IS NULL ORDER BY raised_ms, id"
                ),
                &[],
            )
            .await?;
        all(&rows, row)
    }

    async fn claim_send(&self, id: &str, last_sent: Option<TimeMs>, now: TimeMs) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE cloud_alarm SET sends = sends + 1, last_sent_ms = $3
                 WHERE id = $1 AND last_sent_ms IS NOT DISTINCT FROM $2 AND cleared_ms IS NULL AND ack_ms IS NULL",
                &[&id, &last_sent, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn unclaim_send(&self, id: &str, last_sent: Option<TimeMs>, claimed_at: TimeMs) -> Result<()> {
        self.exec(
            "UPDATE cloud_alarm SET sends = sends - 1, last_sent_ms = $2 WHERE id = $1 AND last_sent_ms = $3",
            &[&id, &last_sent, &claimed_at],
        )
        .await?;
        Ok(())
    }

    async fn ack(&self, account: &str, id: &str, user: &str, comment: Option<&str>, now: TimeMs) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE cloud_alarm SET ack_user = $3, ack_ms = $4, ack_comment = $5
                 WHERE account = $1 AND id = $2 AND ack_ms IS NULL",
                &[&account, &id, &user, &now, &comment],
            )
            .await?;
        if n > 0 {
            return Ok(true);
        }
        match self.query_opt("SELECT 1 FROM cloud_alarm WHERE account = $1 AND id = $2", &[&account, &id]).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound(format!("cloud alarm {id}"))),
        }
    }

    async fn alarm(&self, account: &str, id: &str) -> Result<Option<CloudAlarm>> {
        let r = self
            .query_opt(&format!("SELECT {COLS} FROM cloud_alarm WHERE account = $1 AND id = $2"), &[&account, &id])
            .await?;
        r.as_ref().map(row).transpose()
    }

    async fn alarms(&self, account: &str, agent: Option<&str>, limit: usize) -> Result<Vec<CloudAlarm>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {COLS} FROM cloud_alarm WHERE account = $1 AND ($2::TEXT IS NULL OR agent = $2)
                     ORDER BY (cleared_ms IS NULL AND ack_ms IS NULL) DESC, raised_ms DESC, id LIMIT $3"
                ),
                &[&account, &agent, &i(limit as u64)],
            )
            .await?;
        all(&rows, row)
    }

    async fn alarm_settings(&self, account: &str) -> Result<Option<String>> {
        let r = self.query_opt("SELECT sealed FROM alarm_settings WHERE account = $1", &[&account]).await?;
        r.map(|r| g(&r, 0)).transpose()
    }

    async fn set_alarm_settings(&self, account: &str, sealed: &str, now: TimeMs) -> Result<()> {
        self.insert(
            "INSERT INTO alarm_settings (account, sealed, updated_ms) VALUES ($1, $2, $3)
             ON CONFLICT (account) DO UPDATE SET sealed = excluded.sealed, updated_ms = excluded.updated_ms",
            &[&account, &sealed, &now],
            format!("account {account}"),
            format!("account {account}"),
        )
        .await
    }

    async fn expire_cloud_acks(&self, before: TimeMs, now: TimeMs) -> Result<Vec<ExpiredAck>> {
        // One statement: two processes never both report the same expiry.
        let rows = self
            .query(
                "UPDATE cloud_ack SET expired_ms = $2 WHERE done_ms IS NULL AND expired_ms IS NULL AND created_ms < $1
                 RETURNING agent, id, alarm_id",
                &[&before, &now],
            )
            .await?;
        all(&rows, |r| Ok(ExpiredAck { agent: g(r, 0)?, id: g(r, 1)?, alarm_id: g(r, 2)? }))
    }

    async fn expired_cloud_acks(&self, agent: &str) -> Result<Vec<(String, String, TimeMs, TimeMs)>> {
        let rows = self
            .query(
                "SELECT alarm_id, user_id, created_ms, expired_ms FROM cloud_ack
                 WHERE agent = $1 AND expired_ms IS NOT NULL ORDER BY created_ms, id",
                &[&agent],
            )
            .await?;
        all(&rows, |r| Ok((g(r, 0)?, g(r, 1)?, g(r, 2)?, g(r, 3)?)))
    }
}
