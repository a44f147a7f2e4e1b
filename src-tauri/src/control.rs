//! The Instruments screen's control commands (issue 14): start, stop,
//! restart, set the clock, settings profiles. Thin: `Desk` in core does
//! the work and names what went wrong.

use std::sync::Arc;

use meterdeck_core::desk::Desk;
use tauri::State;

use crate::contract::*;

type Desk_<'a> = State<'a, Arc<Desk>>;

#[tauri::command]
pub async fn instrument_control(desk: Desk_<'_>, a: Args<InstrumentControlArgs>) -> Reply<InstrumentControlArgs> {
    Ok(desk.control_button(&a.instrument, &a.operator, &a.command).await?)
}

#[tauri::command]
pub async fn profiles_list(desk: Desk_<'_>, a: Args<ProfilesListArgs>) -> Reply<ProfilesListArgs> {
    Ok(desk.profiles(&a.instrument)?)
}

#[tauri::command]
pub async fn profile_save(desk: Desk_<'_>, a: Args<ProfileSaveArgs>) -> Reply<ProfileSaveArgs> {
    Ok(desk.profile_save(&a.instrument, &a.operator, &a.name).await?)
}

#[tauri::command]
pub async fn profile_diff(desk: Desk_<'_>, a: Args<ProfileDiffArgs>) -> Reply<ProfileDiffArgs> {
    Ok(desk.profile_diff(&a.instrument, &a.operator, &a.name).await?)
}

#[tauri::command]
pub async fn profile_push(desk: Desk_<'_>, a: Args<ProfilePushArgs>) -> Reply<ProfilePushArgs> {
    Ok(desk.profile_push(&a.instrument, &a.operator, &a.name).await?)
}
