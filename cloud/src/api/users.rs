//! Users, teams and measurement groups of the caller's account. Changes are
//! admin-only; groups list what the caller is granted (admins: all).

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Full;
use super::error::{ErrorBody, Json, Path, t};
use super::login::{UserView, hash};
use super::{ApiError, ApiResult, Ctx};
use crate::admin::check_id;
use crate::auth::password;
use crate::licence::limits::check_count;
use crate::store::{Group, Role, Team, TwoFactor, User};

/// Users of the account
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "The users", body = Vec<UserView>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_users(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<UserView>>> {
    c.require_admin("list users")?;
    Ok(Json(ctx.store().users(&c.account.id).await?.iter().map(UserView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    id: String,
    name: String,
    #[serde(default)]
    email: String,
    role: Role,
    /// Mail the temporary password to `email` (an invitation through the
    /// server's mailer) instead of answering it.
    #[serde(default)]
    invite: bool,
}

fn check_email(email: &str) -> ApiResult<()> {
    if !email.is_empty() && (email.len() > 254 || email.parse::<lettre::Address>().is_err()) {
        return Err(ApiError::bad_request(t("cloud-email-invalid").arg("email", format!("{email:?}"))));
    }
    Ok(())
}

/// "user", "team", "group", "agent" as a message (`cloud-kind-<kind>`).
fn kind(what: &str) -> meterdeck_wire::i18n::Text {
    match what {
        "user" | "team" | "group" | "agent" => t(&format!("cloud-kind-{what}")),
        other => meterdeck_wire::i18n::Text::plain(other),
    }
}

fn check_name(what: &str, name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(t("cloud-name-length").text_arg("kind", kind(what))));
    }
    Ok(())
}

/// A user with the temporary password they must change at the next login (shown once).
#[derive(Serialize, ToSchema)]
pub struct UserWithPassword {
    user: UserView,
    /// Empty when it was mailed (`invite`): then only the user sees it.
    temporary_password: String,
    /// The address the invitation went to (`invite`), else null.
    invited: Option<String>,
}

/// Create a user; returns a temporary password once
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = UserWithPassword),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn create_user(
    State(ctx): State<Ctx>,
    Full(c): Full,
    headers: axum::http::HeaderMap,
    Json(b): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<UserWithPassword>)> {
    c.require_admin("create users")?;
    check_id("user id", &b.id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    check_name("user", &b.name)?;
    check_email(&b.email)?;
    let mailer = if b.invite { Some(super::invite::check_can_invite(&ctx, &b.email)?.clone()) } else { None };
    let (plan, limits) = super::licence::in_force(&ctx, &c.account.id).await?;
    let count = ctx.store().users(&c.account.id).await?.len() as u64;
    check_count(&c.account.id, plan, &limits, "users", count)?;
    let temp = password::temporary_password();
    let user = User {
        account: c.account.id.clone(),
        id: b.id.clone(),
        name: b.name,
        email: b.email,
        role: b.role,
        password_hash: hash(temp.clone()).await?,
        must_change: true,
        two_factor: TwoFactor::None,
        totp_secret: None,
        created_ms: ctx.now(),
    };
    ctx.store().insert_user(&user).await.map_err(|e| match e {
        crate::store::StoreError::Exists(_) => ApiError::conflict(t("cloud-user-exists").arg("id", b.id.as_str())),
        e => e.into(),
    })?;
    if let Some(mail) = mailer {
        // Not mailed: the user goes again, so a refusal changes nothing.
        if let Err(e) =
            super::invite::send(&mail, &user, &c.user.id, &temp, crate::mail::request_language(&headers)).await
        {
            if let Err(del) = ctx.store().delete_user(&c.account.id, &user.id).await {
                tracing::warn!(error = %del, user = %user.id, "user of a failed invitation not removed");
            }
            return Err(e);
        }
        let invited = Some(user.email.clone());
        let reply = UserWithPassword { user: UserView::from(&user), temporary_password: String::new(), invited };
        return Ok((StatusCode::CREATED, Json(reply)));
    }
    let reply = UserWithPassword { user: UserView::from(&user), temporary_password: temp, invited: None };
    Ok((StatusCode::CREATED, Json(reply)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    name: Option<String>,
    email: Option<String>,
    role: Option<Role>,
    two_factor: Option<TwoFactor>,
}

/// The user `id` of the account, or 404.
async fn find_user(ctx: &Ctx, account: &str, id: &str) -> ApiResult<User> {
    ctx.store().user(account, id).await?.ok_or_else(|| ApiError::not_found(t("cloud-user-not-found").arg("id", id)))
}

async fn admins_left(ctx: &Ctx, account: &str, without: &str) -> ApiResult<usize> {
    Ok(ctx.store().users(account).await?.iter().filter(|u| u.role == Role::Admin && u.id != without).count())
}

/// Change a user's name, email, role or second factor (none/email)
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch, params(("id" = String, Path, description = "user id")), security(("bearer" = [])), responses(
    (status = 200, description = "The user as changed", body = UserView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn update_user(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Json(b): Json<UserPatch>,
) -> ApiResult<Json<UserView>> {
    c.require_admin("change users")?;
    let store = ctx.store();
    let mut u = find_user(&ctx, &c.account.id, &id).await?;
    if let Some(n) = b.name {
        check_name("user", &n)?;
        u.name = n;
    }
    if let Some(e) = b.email {
        check_email(&e)?;
        u.email = e;
    }
    let mut lowered = false;
    if let Some(r) = b.role {
        if u.role == Role::Admin && r != Role::Admin && admins_left(&ctx, &c.account.id, &id).await? == 0 {
            return Err(ApiError::conflict(t("cloud-users-one-admin")));
        }
        lowered = r.rank() < u.role.rank();
        u.role = r;
    }
    if let Some(tf) = b.two_factor {
        match tf {
            TwoFactor::Totp if u.two_factor != TwoFactor::Totp => {
                return Err(ApiError::bad_request(t("cloud-users-authenticator-app-set")));
            }
            TwoFactor::Email if u.email.is_empty() => {
                return Err(ApiError::bad_request(t("cloud-users-no-email")));
            }
            TwoFactor::None => u.totp_secret = None,
            _ => {}
        }
        u.two_factor = tf;
    }
    if u.two_factor == TwoFactor::Email && u.email.is_empty() {
        return Err(ApiError::bad_request(t("cloud-users-email-needed")));
    }
    store.update_user(&u).await?;
    if lowered {
        // Sessions opened with more rights end; an admin lowering
        // themselves keeps the session they did it from.
        let keep = if id == c.user.id { c.session_hash() } else { None };
        store.delete_sessions_of(&c.account.id, &id, keep).await?;
    }
    Ok(Json(UserView::from(&u)))
}

/// For a user who lost the password (and mail cannot help): a new
/// temporary password, returned once, to be changed at the next login.
/// Give a user a new temporary password (returned once); ends their sessions
#[utoipa::path(post, path = "/api/v1/users/{id}/temporary-password", tag = "users", params(("id" = String, Path, description = "user id")), security(("bearer" = [])), responses(
    (status = 200, description = "The new temporary password", body = UserWithPassword),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn temporary_password(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
) -> ApiResult<Json<UserWithPassword>> {
    c.require_admin("give users temporary passwords")?;
    let u = find_user(&ctx, &c.account.id, &id).await?;
    let (u, temp) = crate::admin::reset_to_temporary(ctx.store(), &c.account.id, &u.id)
        .await
        .map_err(super::agents::admin_error)?;
    Ok(Json(UserWithPassword { user: UserView::from(&u), temporary_password: temp, invited: None }))
}

/// Delete a user (ends their sessions and tokens)
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path, description = "user id")), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_user(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    c.require_admin("delete users")?;
    let store = ctx.store();
    let u = find_user(&ctx, &c.account.id, &id).await?;
    if u.role == Role::Admin && admins_left(&ctx, &c.account.id, &id).await? == 0 {
        return Err(ApiError::conflict(t("cloud-users-last-admin")));
    }
    store.delete_user(&c.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- teams ------------------------------------------------------------------

/// Teams (admins: all; others: their own)
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])), responses(
    (status = 200, description = "The teams", body = Vec<Team>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_teams(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<Team>>> {
    let teams = ctx.store().teams(&c.account.id).await?;
    // Non-admins see the teams they are in.
    Ok(Json(teams.into_iter().filter(|t| c.is_admin() || t.members.contains(&c.user.id)).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn check_members(ctx: &Ctx, account: &str, ids: &[String]) -> ApiResult<()> {
    let known = ctx.store().users(account).await?.into_iter().map(|u| u.id).collect();
    all_known("user", &known, ids)
}

/// 400 naming the first of `ids` that is not in `known`.
fn all_known(kind: &str, known: &HashSet<String>, ids: &[String]) -> ApiResult<()> {
    match ids.iter().find(|x| !known.contains(*x)) {
        Some(bad) => Err(ApiError::bad_request(
            t("cloud-unknown-in-account").text_arg("kind", self::kind(kind)).arg("id", bad.as_str()),
        )),
        None => Ok(()),
    }
}

/// Whether team or group `id` exists decides the answer: creating wants
/// it new (409), changing and deleting want it there (404).
fn presence(kind: &str, id: &str, exists: bool, wanted: bool) -> ApiResult<()> {
    match (exists, wanted) {
        (true, false) => {
            Err(ApiError::conflict(t("cloud-kind-exists").text_arg("kind", self::kind(kind)).arg("id", id)))
        }
        (false, true) => {
            Err(ApiError::not_found(t("cloud-kind-not-found").text_arg("kind", self::kind(kind)).arg("id", id)))
        }
        _ => Ok(()),
    }
}

async fn team_exists(ctx: &Ctx, account: &str, id: &str) -> ApiResult<bool> {
    Ok(ctx.store().teams(account).await?.iter().any(|t| t.id == id))
}

async fn group_exists(ctx: &Ctx, account: &str, id: &str) -> ApiResult<bool> {
    Ok(ctx.store().groups(account).await?.iter().any(|g| g.id == id))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    id: String,
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

/// Create a team
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = NewTeam, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Team),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn create_team(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<NewTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    c.require_admin("create teams")?;
    check_id("team id", &b.id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    presence("team", &b.id, team_exists(&ctx, &c.account.id, &b.id).await?, false)?;
    let (plan, limits) = super::licence::in_force(&ctx, &c.account.id).await?;
    let count = ctx.store().teams(&c.account.id).await?.len() as u64;
    check_count(&c.account.id, plan, &limits, "teams", count)?;
    Ok((StatusCode::CREATED, save_team(&ctx, &c, b.id, TeamBody { name: b.name, members: b.members }).await?))
}

/// Replace a team's name and members
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "teams", request_body = TeamBody, params(("id" = String, Path, description = "team id")), security(("bearer" = [])), responses(
    (status = 200, description = "The team", body = Team),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn put_team(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Json(b): Json<TeamBody>,
) -> ApiResult<Json<Team>> {
    c.require_admin("change teams")?;
    presence("team", &id, team_exists(&ctx, &c.account.id, &id).await?, true)?;
    save_team(&ctx, &c, id, b).await
}

async fn save_team(ctx: &Ctx, c: &super::Caller, id: String, b: TeamBody) -> ApiResult<Json<Team>> {
    check_name("team", &b.name)?;
    check_members(ctx, &c.account.id, &b.members).await?;
    let team = Team { account: c.account.id.clone(), id, name: b.name, members: dedup(b.members) };
    ctx.store().put_team(&team).await?;
    Ok(Json(team))
}

/// Delete a team
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path, description = "team id")), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_team(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    c.require_admin("delete teams")?;
    presence("team", &id, team_exists(&ctx, &c.account.id, &id).await?, true)?;
    ctx.store().delete_team(&c.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- groups -----------------------------------------------------------------

/// Measurement groups (admins: all; others: those granted to them or their teams)
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])), responses(
    (status = 200, description = "The groups", body = Vec<Group>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_groups(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<Group>>> {
    let store = ctx.store();
    let groups = store.groups(&c.account.id).await?;
    if c.is_admin() {
        return Ok(Json(groups));
    }
    let my_teams: HashSet<String> = store
        .teams(&c.account.id)
        .await?
        .into_iter()
        .filter(|t| t.members.contains(&c.user.id))
        .map(|t| t.id)
        .collect();
    Ok(Json(
        groups
            .into_iter()
            .filter(|g| g.users.contains(&c.user.id) || g.teams.iter().any(|t| my_teams.contains(t)))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    name: String,
    #[serde(default)]
    agents: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    id: String,
    name: String,
    #[serde(default)]
    agents: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

/// Create a measurement group
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = NewGroup, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Group),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn create_group(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<NewGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    c.require_admin("create measurement groups")?;
    check_id("group id", &b.id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    presence("group", &b.id, group_exists(&ctx, &c.account.id, &b.id).await?, false)?;
    let (plan, limits) = super::licence::in_force(&ctx, &c.account.id).await?;
    let count = ctx.store().groups(&c.account.id).await?.len() as u64;
    check_count(&c.account.id, plan, &limits, "groups", count)?;
    Ok((
        StatusCode::CREATED,
        save_group(&ctx, &c, b.id, GroupBody { name: b.name, agents: b.agents, users: b.users, teams: b.teams })
            .await?,
    ))
}

/// Replace a group's agents and grants
#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = "groups", request_body = GroupBody, params(("id" = String, Path, description = "group id")), security(("bearer" = [])), responses(
    (status = 200, description = "The group", body = Group),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn put_group(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Json(b): Json<GroupBody>,
) -> ApiResult<Json<Group>> {
    c.require_admin("change measurement groups")?;
    presence("group", &id, group_exists(&ctx, &c.account.id, &id).await?, true)?;
    save_group(&ctx, &c, id, b).await
}

async fn save_group(ctx: &Ctx, c: &super::Caller, id: String, b: GroupBody) -> ApiResult<Json<Group>> {
    check_name("group", &b.name)?;
    let acc = &c.account.id;
    check_members(ctx, acc, &b.users).await?;
    all_known("agent", &ctx.store().agents(acc).await?.into_iter().map(|a| a.id).collect(), &b.agents)?;
    all_known("team", &ctx.store().teams(acc).await?.into_iter().map(|t| t.id).collect(), &b.teams)?;
    let group = Group {
        account: acc.clone(),
        id,
        name: b.name,
        agents: dedup(b.agents),
        users: dedup(b.users),
        teams: dedup(b.teams),
    };
    ctx.store().put_group(&group).await?;
    Ok(Json(group))
}

/// Delete a group
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = String, Path, description = "group id")), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_group(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    c.require_admin("delete measurement groups")?;
    presence("group", &id, group_exists(&ctx, &c.account.id, &id).await?, true)?;
    ctx.store().delete_group(&c.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}
