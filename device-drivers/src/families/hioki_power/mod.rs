//! Hioki-style power meters (PW3390, PW3336/37): `:MEASure? U1,I1,P1,...`
//! returns the selected measurement items in one line.

pub mod driver;
pub mod protocol;

pub use driver::HiokiPowerDriver;
