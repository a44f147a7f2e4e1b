//! The Licence screen's commands: the licence in force with each limit's
//! use (offline, from the Desk), a fetch over the signed-in session (the
//! key pinned at the first one), the account's history and applying a
//! card (admins) through the cloud's licence API.

use std::sync::Arc;

use meterdeck_core::cloudlink::{CloudError, CloudLink};
use meterdeck_core::desk::{Desk, LicenceScreen};
use tauri::State;

use crate::contract::*;
use crate::error::CommandError;

type Link<'a> = State<'a, Arc<CloudLink>>;
type Desk_<'a> = State<'a, Arc<Desk>>;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, meterdeck_core::desk::DeskError> + Send + 'static,
) -> Result<T, CommandError> {
    Ok(tauri::async_runtime::spawn_blocking(f).await??)
}

#[tauri::command]
pub async fn licence_show(desk: Desk_<'_>, _a: Args<LicenceShowArgs>) -> Reply<LicenceShowArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.licence_screen()).await
}

/// Fetches the account's licence and keeps it if it verifies; a refused
/// one is named and the last good one stays.
pub async fn fetch(desk: Arc<Desk>, link: &CloudLink) -> Result<LicenceScreen, CommandError> {
    let text = match link.licence_text().await {
        Ok(t) => t,
        Err(e) => {
            // Signed out is no verification result; anything else is recorded.
            if !matches!(e, CloudError::NotSignedIn) {
                let (d, m) = (Arc::clone(&desk), e.to_string());
                blocking(move || d.licence_fetch_failed(&m)).await?;
            }
            return Err(e.into());
        }
    };
    if !desk.licence_key_pinned() {
        let key = link.licence_key().await?;
        let account = link.account().await?;
        let d = Arc::clone(&desk);
        blocking(move || d.pin_licence_key(&key, account.as_deref())).await?;
    }
    blocking(move || desk.licence_accept(&text)).await
}

#[tauri::command]
pub async fn licence_fetch(desk: Desk_<'_>, link: Link<'_>, _a: Args<LicenceFetchArgs>) -> Reply<LicenceFetchArgs> {
    fetch(Arc::clone(&desk), &link).await
}

#[tauri::command]
pub async fn licence_history(link: Link<'_>, _a: Args<LicenceHistoryArgs>) -> Reply<LicenceHistoryArgs> {
    Ok(link.licence_history().await?)
}

#[tauri::command]
pub async fn licence_cloud_usage(link: Link<'_>, _a: Args<LicenceCloudUsageArgs>) -> Reply<LicenceCloudUsageArgs> {
    Ok(link.cloud_usage().await?)
}

#[tauri::command]
pub async fn licence_apply_card(
    desk: Desk_<'_>,
    link: Link<'_>,
    a: Args<LicenceApplyCardArgs>,
) -> Reply<LicenceApplyCardArgs> {
    link.licence_apply_card(&a.card).await?;
    fetch(Arc::clone(&desk), &link).await
}
