//! The licence over the signed-in session (the licence interface): the
//! account's signed licence file and the key to pin, the licence history,
//! and applying a card (account admins). Verification and keeping are
//! `crate::licence`'s and the Desk's; this only talks to the service.

use serde::{Deserialize, Deserializer, Serialize};

use super::{CloudLink, CloudResult, check_id};

/// One entry of the account's licence history (`GET /api/v1/licence/history`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LicenceHistoryEntry {
    /// When, as the service gave it (ms since the epoch are shown as UTC time).
    #[serde(deserialize_with = "time_text")]
    pub at: String,
    pub what: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub by: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub detail: Option<String>,
}

fn text_of(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn time_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) if n.is_i64() => crate::fmt::format_time(n.as_i64().unwrap_or_default()),
        other => text_of(other),
    })
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        other => Some(text_of(other)),
    })
}

#[derive(Deserialize)]
struct KeyReply {
    key: String,
}

impl CloudLink {
    /// The account's freshly signed licence file, as text (unverified).
    pub async fn licence_text(&self) -> CloudResult<String> {
        let file: meterdeck_wire::licence::LicenceFile = self.authed(&["licence"], &[], "the licence").await?;
        serde_json::to_string_pretty(&file)
            .map_err(|e| super::CloudError::BadReply { what: "the licence".into(), reason: e.to_string() })
    }

    /// The service's licence key text (`md-ed25519:...`), to pin once.
    pub async fn licence_key(&self) -> CloudResult<String> {
        let reply: KeyReply = self.authed(&["licence", "key"], &[], "the licence key").await?;
        Ok(reply.key)
    }

    /// The signed-in account's id (the licence must name it).
    pub async fn account(&self) -> CloudResult<Option<String>> {
        Ok(self.load_prefs().await?.account)
    }

    pub async fn licence_history(&self) -> CloudResult<Vec<LicenceHistoryEntry>> {
        self.authed(&["licence", "history"], &[], "the licence history").await
    }

    /// Applies a licence card to the account (admins); the service's
    /// refusal (unknown card, not an admin) is shown as it says it.
    pub async fn licence_apply_card(&self, card: &str) -> CloudResult<()> {
        let card = check_id("card", card)?;
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, &["licence", "cards"], &[])?;
        let body = serde_json::json!({ "card": card });
        let _: serde_json::Value =
            self.call(reqwest::Method::POST, endpoint, Some(&token), Some(body), "the licence card", None).await?;
        Ok(())
    }
}
