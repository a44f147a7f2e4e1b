//! Invitations by email (issue 15): an admin creates a user with
//! `invite: true` and the temporary password goes to the new user's
//! address through the service's mailer, never to the admin's screen. The
//! user signs in with it and must change it at once (`must_change`).

use super::error::t;
use super::{ApiError, ApiResult, Ctx};
use crate::state::MailConfig;
use crate::store::User;

/// What an invitation needs before anything is created: an address and a
/// mail server. The error says which is missing.
pub fn check_can_invite<'a>(ctx: &'a Ctx, email: &str) -> ApiResult<&'a MailConfig> {
    if email.trim().is_empty() {
        return Err(ApiError::bad_request(t("cloud-invite-invitation-mailed-give")));
    }
    ctx.app.mail.as_ref().ok_or_else(|| ApiError::unavailable(t("cloud-invite-no-mail")))
}

/// The invitation's subject and text in `lang` (the inviting admin's
/// request language: the new user has none yet).
pub fn invitation(mail: &MailConfig, user: &User, invited_by: &str, temporary: &str, lang: &str) -> (String, String) {
    use crate::mail::tr;
    let url = format!("{}/", mail.public_url.trim_end_matches('/'));
    let subject = tr(lang, "mail-invite-subject", &[("account", &user.account)]);
    let role = tr(lang, &format!("admin.role.{}", user.role.as_str()), &[]);
    // `account:  acme` / `user:     bob` / `password: Tmp-…`: values aligned.
    let line = |key: &str, value: &str| {
        let label = tr(lang, key, &[]);
        let pad = 10usize.saturating_sub(label.chars().count()).max(1);
        format!("  {label}{}{value}\n", " ".repeat(pad))
    };
    let body = format!(
        "{}\n\n{}\n{}{}{}\n{}\n{}\n",
        tr(lang, "mail-invite-made", &[("by", invited_by), ("role", &role)]),
        tr(lang, "mail-invite-sign-in", &[("url", &url)]),
        line("mail-invite-account", &user.account),
        line("mail-invite-user", &user.id),
        line("mail-invite-password", temporary),
        tr(lang, "mail-invite-temporary", &[]),
        tr(lang, "mail-invite-unexpected", &[]),
    );
    (subject, body)
}

/// Mails the invitation; the error names the address and the server's answer.
pub async fn send(mail: &MailConfig, user: &User, invited_by: &str, temporary: &str, lang: &str) -> ApiResult<()> {
    let (subject, body) = invitation(mail, user, invited_by, temporary, lang);
    crate::mail::send(mail, &user.email, &subject, &body).await.map_err(|e| {
        // The error text names the server, never the password.
        tracing::warn!(error = %e, user = %user.id, "invitation mail");
        ApiError::unavailable(
            t("cloud-invite-mail-failed").arg("email", user.email.as_str()).arg("error", e.to_string()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Role, TwoFactor};

    #[test]
    fn the_invitation_names_where_and_who_and_that_the_password_is_temporary() {
        let mail = MailConfig { smtp: "x:25".into(), from: "a@b.c".into(), public_url: "https://cloud.test/".into() };
        let user = User {
            account: "acme".into(),
            id: "bob".into(),
            name: "Bob".into(),
            email: "bob@acme.test".into(),
            role: Role::Member,
            password_hash: String::new(),
            must_change: true,
            two_factor: TwoFactor::None,
            totp_secret: None,
            created_ms: 0,
        };
        let (subject, body) = invitation(&mail, &user, "alice", "Tmp-1234abcd", "en");
        assert!(subject.contains("acme"));
        for part in
            ["https://cloud.test/ ", "account:  acme", "user:     bob", "password: Tmp-1234abcd", "temporary", "member"]
        {
            assert!(body.contains(part), "{part:?} in {body}");
        }
        let (subject, body) = invitation(&mail, &user, "alice", "Tmp-1234abcd", "de");
        assert_eq!(subject, "Einladung zu Meterdeck (acme)");
        for part in [
            "https://cloud.test/ ",
            "Konto:    acme",
            "Benutzer: bob",
            "Passwort: Tmp-1234abcd",
            "vorläufig",
            "Mitglied",
        ] {
            assert!(body.contains(part), "{part:?} in {body}");
        }
    }
}
