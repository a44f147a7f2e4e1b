//! Generic SCPI instruments, and the SCPI conversation the Hioki families
//! share: `protocol` (pure text), `session` (error queue, clock, raw),
//! `driver` (each channel is a user-given query).

pub mod driver;
pub mod protocol;
pub mod session;

pub use driver::ScpiDriver;
pub use session::ScpiSession;
