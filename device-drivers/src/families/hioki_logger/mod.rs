//! Hioki-style data loggers (LR8450 family) over LAN: latch a snapshot with
//! `:MEMory:GETReal`, then read it with `:MEMory:VREAL? CHu_c`.

pub mod driver;
pub mod protocol;

pub use driver::HiokiLoggerDriver;
