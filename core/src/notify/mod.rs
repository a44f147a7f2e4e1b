//! Notifications: where they go (`destination`), the credentials they need
//! (`secrets`, OS keychain), how they get there (`desktop`, `email`,
//! `webhook`), the `dispatcher` that groups bursts and retries, and the
//! notification `centre` the UI lists.
//!
//! Desktop notifications, email and the keychain are cargo features
//! (`desktop-notify`, `email`, `keychain`, all on by default); a build
//! without one refuses what needs it with an error naming the feature.

pub mod centre;
#[cfg(feature = "desktop-notify")]
pub mod desktop;
pub mod destination;
pub mod dispatcher;
#[cfg(feature = "email")]
pub mod email;
pub mod locale;
pub mod message;
pub mod secrets;
pub mod viewlink;
pub mod webhook;

pub use centre::Note;
pub use destination::{DestError, DestinationConfig, DestinationKind, SmtpSecurity, WebhookFormat, validate_all};
pub use dispatcher::{
    Deliver, DeliveryOutcome, DeliveryResult, DispatchOptions, Dispatcher, DispatcherHandle, RealDeliverer, RetryPolicy,
};
pub use locale::Locale;
pub use message::{LinkAsk, Message, MessageKind};
pub use secrets::{KeyringSecrets, MemorySecrets, SecretError, SecretStore};
pub use viewlink::ViewLinks;

/// A failed delivery, as shown to the user ("SMTP host:587: connection
/// refused", "webhook: HTTP 404 Not Found"). Never contains a credential.
/// `permanent` errors (bad address, 4xx, missing secret) are not retried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    pub permanent: bool,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> DeliveryError {
        DeliveryError { message: message.into(), permanent: false }
    }
    pub fn permanent(message: impl Into<String>) -> DeliveryError {
        DeliveryError { message: message.into(), permanent: true }
    }
}

/// Why this build cannot do `what`: it was built without cargo `feature`.
pub fn not_in_this_build(what: &str, feature: &str) -> String {
    format!(
        "{what} {} not in this build of Meterdeck (built without the cargo feature `{feature}`): \
         use a build with that feature, or leave it out of the configuration",
        if what.ends_with('s') { "are" } else { "is" }
    )
}
