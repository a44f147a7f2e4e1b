//! The signed-in user's language and time zone: the mails the cloud sends
//! on its own (alarms, notices, licence reminders) are written in them.

use axum::extract::State;

use super::caller::Full;
use super::error::{ErrorBody, Json, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::UserPrefs;

/// The own language and time zone
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "login", security(("bearer" = [])), responses(
    (status = 200, description = "As stored (English and UTC when never set)", body = UserPrefs),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_prefs(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<UserPrefs>> {
    Ok(Json(ctx.store().user_prefs(&c.account.id, &c.user.id).await?.unwrap_or_default()))
}

/// Set the own language and time zone
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "login", request_body = UserPrefs,
    security(("bearer" = [])), responses(
    (status = 200, description = "As stored", body = UserPrefs),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn put_prefs(State(ctx): State<Ctx>, Full(c): Full, Json(b): Json<UserPrefs>) -> ApiResult<Json<UserPrefs>> {
    let prefs = checked(b)?;
    ctx.store().set_user_prefs(&c.account.id, &c.user.id, &prefs).await?;
    Ok(Json(prefs))
}

/// The preferences as stored, or a refusal naming the field.
fn checked(b: UserPrefs) -> Result<UserPrefs, ApiError> {
    let language = b.language.trim();
    if !meterdeck_wire::i18n::LANGUAGES.contains(&language) {
        return Err(ApiError::bad_request(
            t("cloud-prefs-language")
                .arg("languages", meterdeck_wire::i18n::LANGUAGES.join(", "))
                .arg("language", format!("{language:?}")),
        ));
    }
    let zone = b.zone.trim();
    if zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::bad_request(t("cloud-prefs-zone").arg("zone", format!("{zone:?}"))));
    }
    Ok(UserPrefs { language: language.into(), zone: zone.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_language_or_zone_is_refused_naming_the_field() {
        let p = |l: &str, z: &str| UserPrefs { language: l.into(), zone: z.into() };
        assert_eq!(checked(p(" de ", "Europe/Berlin")).unwrap(), p("de", "Europe/Berlin"));
        assert!(checked(p("fr", "UTC")).unwrap_err().message.contains("language"));
        assert!(checked(p("ja", "Mars/Olympus")).unwrap_err().message.contains("zone"));
    }
}
