//! The owner's consent to remote access and who operates remotely
//! (issue 16). Thin: `Desk` in core does the work. There is no command to
//! change consent from the cloud; this switch is the local owner's.

use std::sync::Arc;

use meterdeck_core::desk::Desk;
use tauri::State;

use crate::contract::*;

type Desk_<'a> = State<'a, Arc<Desk>>;

#[tauri::command]
pub async fn remote_consents(desk: Desk_<'_>, _a: Args<RemoteConsentsArgs>) -> Reply<RemoteConsentsArgs> {
    Ok(desk.remote_consents()?)
}

#[tauri::command]
pub async fn remote_consent_set(desk: Desk_<'_>, a: Args<RemoteConsentSetArgs>) -> Reply<RemoteConsentSetArgs> {
    Ok(desk.set_remote_consent(&a.instrument, a.on).await?)
}

#[tauri::command]
pub async fn remote_console_holder(
    desk: Desk_<'_>,
    a: Args<RemoteConsoleHolderArgs>,
) -> Reply<RemoteConsoleHolderArgs> {
    Ok(desk.remote_console_holder(&a.instrument))
}
