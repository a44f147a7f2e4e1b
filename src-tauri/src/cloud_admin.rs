//! The Cloud screen's administration commands: thin over
//! `meterdeck_core::cloudlink` (users, teams, groups, authenticator,
//! API tokens, IP allow-list, access log, account deletion).

use std::sync::Arc;

use meterdeck_core::cloudlink::CloudLink;
use tauri::State;

use crate::contract::*;
use crate::error::CommandError;

type Link<'a> = State<'a, Arc<CloudLink>>;

fn msg(e: impl Into<CommandError>) -> CommandError {
    e.into()
}

#[tauri::command]
pub async fn cloud_admin_me(link: Link<'_>, _a: Args<CloudAdminMeArgs>) -> Reply<CloudAdminMeArgs> {
    link.admin_me().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_users(link: Link<'_>, _a: Args<CloudUsersArgs>) -> Reply<CloudUsersArgs> {
    link.users().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_user_create(link: Link<'_>, a: Args<CloudUserCreateArgs>) -> Reply<CloudUserCreateArgs> {
    link.user_create(&a.id, &a.name, &a.email, &a.role, a.invite.unwrap_or(false)).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_user_update(link: Link<'_>, a: Args<CloudUserUpdateArgs>) -> Reply<CloudUserUpdateArgs> {
    link.user_update(&a.id, &a.patch).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_user_temporary_password(
    link: Link<'_>,
    a: Args<CloudUserTemporaryPasswordArgs>,
) -> Reply<CloudUserTemporaryPasswordArgs> {
    link.user_temporary_password(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_user_delete(link: Link<'_>, a: Args<CloudUserDeleteArgs>) -> Reply<CloudUserDeleteArgs> {
    link.user_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_teams(link: Link<'_>, _a: Args<CloudTeamsArgs>) -> Reply<CloudTeamsArgs> {
    link.teams().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_team_save(link: Link<'_>, a: Args<CloudTeamSaveArgs>) -> Reply<CloudTeamSaveArgs> {
    link.team_save(a.create, &a.id, &a.name, &a.members).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_team_delete(link: Link<'_>, a: Args<CloudTeamDeleteArgs>) -> Reply<CloudTeamDeleteArgs> {
    link.team_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_groups(link: Link<'_>, _a: Args<CloudGroupsArgs>) -> Reply<CloudGroupsArgs> {
    link.groups().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_group_save(link: Link<'_>, a: Args<CloudGroupSaveArgs>) -> Reply<CloudGroupSaveArgs> {
    link.group_save(a.create, &a.group).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_group_delete(link: Link<'_>, a: Args<CloudGroupDeleteArgs>) -> Reply<CloudGroupDeleteArgs> {
    link.group_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_totp_setup(link: Link<'_>, _a: Args<CloudTotpSetupArgs>) -> Reply<CloudTotpSetupArgs> {
    link.totp_setup().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_totp_confirm(link: Link<'_>, a: Args<CloudTotpConfirmArgs>) -> Reply<CloudTotpConfirmArgs> {
    link.totp_confirm(&a.code).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_tokens(link: Link<'_>, _a: Args<CloudTokensArgs>) -> Reply<CloudTokensArgs> {
    link.tokens().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_token_create(link: Link<'_>, a: Args<CloudTokenCreateArgs>) -> Reply<CloudTokenCreateArgs> {
    link.token_create(&a.name).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_token_delete(link: Link<'_>, a: Args<CloudTokenDeleteArgs>) -> Reply<CloudTokenDeleteArgs> {
    link.token_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_account(link: Link<'_>, _a: Args<CloudAccountArgs>) -> Reply<CloudAccountArgs> {
    link.account_view().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_ip_allow_set(link: Link<'_>, a: Args<CloudIpAllowSetArgs>) -> Reply<CloudIpAllowSetArgs> {
    link.ip_allow_set(&a.ip_allow).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_access_log(link: Link<'_>, a: Args<CloudAccessLogArgs>) -> Reply<CloudAccessLogArgs> {
    link.access_log(&a.query).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_account_delete(link: Link<'_>, a: Args<CloudAccountDeleteArgs>) -> Reply<CloudAccountDeleteArgs> {
    link.account_delete(&a.confirm, &a.password).await.map_err(msg)
}
