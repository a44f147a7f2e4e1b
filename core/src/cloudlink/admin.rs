//! The cloud account's administration over the signed-in session (the
//! Cloud screen's admin sections): users, teams, measurement groups and
//! their grants, the authenticator app (TOTP), API tokens, the IP
//! allow-list, the access log and deleting the account. Each call is one
//! `/api/v1` request; the service checks the role and refuses what the
//! user may not do, and its message is shown as it says it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{CloudError, CloudLink, CloudResult, check_id};

/// A user of the account (`GET /api/v1/users`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AdminUser {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// `admin`, `member` or `viewer`.
    pub role: String,
    /// `none`, `email` or `totp`.
    pub two_factor: String,
    #[serde(default)]
    pub must_change: bool,
    #[serde(default)]
    pub created_ms: i64,
}

/// A user with the temporary password they change at the next sign-in
/// (shown once: the service keeps only its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct UserWithPassword {
    pub user: AdminUser,
    /// Empty when the cloud mailed it (an invitation by email).
    pub temporary_password: String,
    /// The address the invitation went to, when mailed.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub invited: Option<String>,
}

/// What an admin may change of a user; `None` keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(optional_fields = nullable)]
pub struct UserPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `none` or `email` (the app is set up by the user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AdminTeam {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A measurement group: its agents and who is granted them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AdminGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub agents: Vec<String>,
    /// Users granted directly.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams granted (all their members).
    #[serde(default)]
    pub teams: Vec<String>,
}

/// Who is signed in, with what the admin sections need (role, factor).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct AdminMe {
    pub account: String,
    pub account_name: String,
    pub user: String,
    pub role: String,
    pub two_factor: String,
}

#[derive(Deserialize)]
struct MeReply {
    account: MeAccount,
    user: AdminUser,
}

#[derive(Deserialize)]
struct MeAccount {
    id: String,
    #[serde(default)]
    name: String,
}

/// The start of authenticator setup: the secret (base32, to type in) and
/// the `otpauth://` URI the QR code carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ApiTokenView {
    pub id: String,
    pub user: String,
    pub name: String,
    pub created_ms: i64,
    #[serde(default)]
    pub last_used_ms: Option<i64>,
}

/// A new API token: `token` is shown once (the service keeps its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub plan: String,
    /// CIDR blocks; empty: from anywhere.
    #[serde(default)]
    pub ip_allow: Vec<String>,
    #[serde(default)]
    pub created_ms: i64,
}

#[derive(Deserialize)]
struct IpAllowReply {
    ip_allow: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AccessEntry {
    pub t_ms: i64,
    #[serde(default)]
    pub user: Option<String>,
    pub ip: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Which access-log entries to show: all filters optional, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(optional_fields = nullable)]
pub struct AccessLogQuery {
    pub user: Option<String>,
    /// Text in the method and path, e.g. `DELETE` or `/users`.
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub offset: u32,
    /// Entries per page (1 to 500).
    pub limit: u32,
}

/// One page of the access log; `more` when older entries match too.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct AccessLogPage {
    pub entries: Vec<AccessEntry>,
    pub offset: u32,
    pub more: bool,
}

/// Largest access-log page the screen asks for.
pub const MAX_LOG_PAGE: u32 = 500;

fn role(text: &str) -> CloudResult<String> {
    match text.trim() {
        r @ ("admin" | "member" | "viewer") => Ok(r.to_string()),
        other => Err(CloudError::Invalid(format!("role: `{other}` is not admin, member or viewer"))),
    }
}

fn ids(field: &str, list: &[String]) -> CloudResult<Vec<String>> {
    list.iter().filter(|s| !s.trim().is_empty()).map(|s| check_id(field, s)).collect()
}

impl CloudLink {
    /// An authenticated request with a method and a JSON body; a refused
    /// session token is removed from the keychain (as `authed` does).
    async fn admin_call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Value>,
        what: &str,
    ) -> CloudResult<T> {
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, segments, query)?;
        match self.call(method, endpoint, Some(&token), body, what, None).await {
            Err(CloudError::SignedOut) => {
                self.drop_token(&url).await?;
                Err(CloudError::SignedOut)
            }
            other => other,
        }
    }

    async fn admin_get<T: serde::de::DeserializeOwned>(&self, segments: &[&str], what: &str) -> CloudResult<T> {
        self.admin_call(reqwest::Method::GET, segments, &[], None, what).await
    }

    /// `DELETE`, answered with no body.
    async fn admin_delete(&self, segments: &[&str], body: Option<Value>, what: &str) -> CloudResult<()> {
        let _: Value = self.admin_call(reqwest::Method::DELETE, segments, &[], body, what).await?;
        Ok(())
    }

    /// The signed-in user's role and second factor (`GET /me`).
    pub async fn admin_me(&self) -> CloudResult<AdminMe> {
        let r: MeReply = self.admin_get(&["me"], "who is signed in").await?;
        Ok(AdminMe {
            account: r.account.id,
            account_name: r.account.name,
            user: r.user.id,
            role: r.user.role,
            two_factor: r.user.two_factor,
        })
    }

    // -------------------------------------------------------------- users

    pub async fn users(&self) -> CloudResult<Vec<AdminUser>> {
        let mut list: Vec<AdminUser> = self.admin_get(&["users"], "the user list").await?;
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    /// Invites a user: the service answers a temporary password, shown once,
    /// which they change at their first sign-in; with `invite` the cloud
    /// mails it to `email` instead (then `invited` names the address and
    /// the password is not answered).
    pub async fn user_create(
        &self,
        id: &str,
        name: &str,
        email: &str,
        role_text: &str,
        invite: bool,
    ) -> CloudResult<UserWithPassword> {
        let id = check_id("user ID", id)?;
        let name = if name.trim().is_empty() { id.clone() } else { name.trim().to_string() };
        if invite && email.trim().is_empty() {
            return Err(CloudError::Invalid("enter the email address the invitation goes to".into()));
        }
        let mut body = json!({ "id": id, "name": name, "email": email.trim(), "role": role(role_text)? });
        if invite {
            body["invite"] = json!(true);
        }
        self.admin_call(reqwest::Method::POST, &["users"], &[], Some(body), "the new user").await
    }

    pub async fn user_update(&self, id: &str, patch: &UserPatch) -> CloudResult<AdminUser> {
        let id = check_id("user ID", id)?;
        let mut patch = patch.clone();
        if let Some(r) = &patch.role {
            patch.role = Some(role(r)?);
        }
        let body = serde_json::to_value(&patch).map_err(|e| CloudError::Invalid(e.to_string()))?;
        self.admin_call(reqwest::Method::PATCH, &["users", &id], &[], Some(body), "the user change").await
    }

    /// A new temporary password for a user who lost theirs (shown once).
    pub async fn user_temporary_password(&self, id: &str) -> CloudResult<UserWithPassword> {
        let id = check_id("user ID", id)?;
        self.admin_call(
            reqwest::Method::POST,
            &["users", &id, "temporary-password"],
            &[],
            None,
            "the temporary password",
        )
        .await
    }

    pub async fn user_delete(&self, id: &str) -> CloudResult<()> {
        let id = check_id("user ID", id)?;
        self.admin_delete(&["users", &id], None, "the user deletion").await
    }

    // -------------------------------------------------------------- teams

    pub async fn teams(&self) -> CloudResult<Vec<AdminTeam>> {
        let mut list: Vec<AdminTeam> = self.admin_get(&["teams"], "the team list").await?;
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    /// Creates the team (`create`) or replaces its name and members.
    pub async fn team_save(&self, create: bool, id: &str, name: &str, members: &[String]) -> CloudResult<AdminTeam> {
        let id = check_id("team ID", id)?;
        let members = ids("member", members)?;
        if create {
            let body = json!({ "id": id, "name": name.trim(), "members": members });
            self.admin_call(reqwest::Method::POST, &["teams"], &[], Some(body), "the new team").await
        } else {
            let body = json!({ "name": name.trim(), "members": members });
            self.admin_call(reqwest::Method::PUT, &["teams", &id], &[], Some(body), "the team change").await
        }
    }

    pub async fn team_delete(&self, id: &str) -> CloudResult<()> {
        let id = check_id("team ID", id)?;
        self.admin_delete(&["teams", &id], None, "the team deletion").await
    }

    // ------------------------------------------------------------- groups

    pub async fn groups(&self) -> CloudResult<Vec<AdminGroup>> {
        let mut list: Vec<AdminGroup> = self.admin_get(&["groups"], "the measurement groups").await?;
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    /// Creates the group (`create`) or replaces its agents and grants.
    pub async fn group_save(&self, create: bool, g: &AdminGroup) -> CloudResult<AdminGroup> {
        let id = check_id("group ID", &g.id)?;
        let body = json!({
            "name": g.name.trim(),
            "agents": ids("agent", &g.agents)?,
            "users": ids("user", &g.users)?,
            "teams": ids("team", &g.teams)?,
        });
        if create {
            let mut body = body;
            body["id"] = Value::String(id);
            self.admin_call(reqwest::Method::POST, &["groups"], &[], Some(body), "the new group").await
        } else {
            self.admin_call(reqwest::Method::PUT, &["groups", &id], &[], Some(body), "the group change").await
        }
    }

    pub async fn group_delete(&self, id: &str) -> CloudResult<()> {
        let id = check_id("group ID", id)?;
        self.admin_delete(&["groups", &id], None, "the group deletion").await
    }

    // ----------------------------------------------------- authenticator

    /// Starts authenticator-app setup for the signed-in user.
    pub async fn totp_setup(&self) -> CloudResult<TotpSetup> {
        self.admin_call(reqwest::Method::POST, &["me", "totp"], &[], None, "the authenticator setup").await
    }

    /// Turns the app on with a code it shows; answers the new second factor.
    pub async fn totp_confirm(&self, code: &str) -> CloudResult<String> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(CloudError::Invalid("code: enter the six digits the app shows".into()));
        }
        #[derive(Deserialize)]
        struct Reply {
            two_factor: String,
        }
        let r: Reply = self
            .admin_call(
                reqwest::Method::POST,
                &["me", "totp", "confirm"],
                &[],
                Some(json!({ "code": code })),
                "the code",
            )
            .await?;
        Ok(r.two_factor)
    }

    // ------------------------------------------------------------- tokens

    pub async fn tokens(&self) -> CloudResult<Vec<ApiTokenView>> {
        let mut list: Vec<ApiTokenView> = self.admin_get(&["tokens"], "the API tokens").await?;
        list.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    pub async fn token_create(&self, name: &str) -> CloudResult<CreatedToken> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CloudError::Invalid("token name: give the token a name (what uses it)".into()));
        }
        self.admin_call(reqwest::Method::POST, &["tokens"], &[], Some(json!({ "name": name })), "the new token").await
    }

    pub async fn token_delete(&self, id: &str) -> CloudResult<()> {
        let id = check_id("token ID", id)?;
        self.admin_delete(&["tokens", &id], None, "the token revocation").await
    }

    // ------------------------------------------------------------ account

    pub async fn account_view(&self) -> CloudResult<AccountView> {
        self.admin_get(&["account"], "the account").await
    }

    /// Sets the IP allow-list (CIDR blocks; empty: anywhere); answers it as stored.
    pub async fn ip_allow_set(&self, list: &[String]) -> CloudResult<Vec<String>> {
        let list: Vec<&str> = list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        let r: IpAllowReply = self
            .admin_call(
                reqwest::Method::PUT,
                &["account", "ip-allow"],
                &[],
                Some(json!({ "ip_allow": list })),
                "the IP allow-list",
            )
            .await?;
        Ok(r.ip_allow)
    }

    /// Deletes the account and all its data. `confirm_name` must be the
    /// account's ID as typed by the user; the service also wants the password.
    /// The session ends with it.
    pub async fn account_delete(&self, confirm_name: &str, password: &str) -> CloudResult<()> {
        let (prefs, url, _) = self.session().await?;
        let account = prefs.account.unwrap_or_default();
        if confirm_name.trim() != account {
            return Err(CloudError::Invalid(format!("confirmation: type the account ID `{account}` to delete it")));
        }
        if password.is_empty() {
            return Err(CloudError::Invalid("password: enter your password".into()));
        }
        self.admin_delete(&["account"], Some(json!({ "password": password })), "the account deletion").await?;
        self.drop_token(&url).await
    }

    /// A page of the access log, newest first, filtered by the service.
    pub async fn access_log(&self, q: &AccessLogQuery) -> CloudResult<AccessLogPage> {
        if q.limit == 0 || q.limit > MAX_LOG_PAGE {
            return Err(CloudError::Invalid(format!("page size must be 1 to {MAX_LOG_PAGE}, got {}", q.limit)));
        }
        if let (Some(f), Some(t)) = (q.from, q.to)
            && f >= t
        {
            return Err(CloudError::Invalid(format!("time range: from {f} is not before to {t}")));
        }
        // One more than a page tells whether there is a next one.
        let mut query = vec![("limit", (q.limit + 1).to_string()), ("offset", q.offset.to_string())];
        for (k, v) in [("user", &q.user), ("action", &q.action)] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                query.push((k, v.to_string()));
            }
        }
        for (k, v) in [("from", q.from), ("to", q.to)] {
            if let Some(v) = v {
                query.push((k, v.to_string()));
            }
        }
        let mut entries: Vec<AccessEntry> =
            self.admin_call(reqwest::Method::GET, &["access-log"], &query, None, "the access log").await?;
        let more = entries.len() > q.limit as usize;
        entries.truncate(q.limit as usize);
        Ok(AccessLogPage { entries, offset: q.offset, more })
    }
}
