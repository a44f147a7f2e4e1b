//! Accounts' security: password hashing and policy, session and API
//! tokens, second factors (email code, TOTP), login throttling, IP
//! allow-lists and the clock they all read (injectable for tests).
//! The HTTP side lives in `api/`; everything here is plain functions.

pub mod cidr;
pub mod clock;
pub mod password;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod totp;

pub use clock::{Clock, ManualClock, SystemClock};
