//! One folder per instrument family: `protocol.rs` (pure) + `driver.rs`.
//! `compat` holds the per-model firmware table.

pub mod compat;
pub mod hioki_logger;
pub mod hioki_power;
pub mod modbus;
pub mod scpi;

use crate::config::{Family, InstrumentConfig};
use crate::driver::Driver;
use crate::error::Result;

/// Connects the driver of `cfg.family` (the configuration is validated by
/// [`crate::driver::open`]).
pub async fn open(cfg: &InstrumentConfig) -> Result<Box<dyn Driver>> {
    Ok(match cfg.family {
        Family::Scpi => Box::new(scpi::ScpiDriver::connect(cfg).await?),
        Family::HiokiLogger => Box::new(hioki_logger::HiokiLoggerDriver::connect(cfg).await?),
        Family::HiokiPower => Box::new(hioki_power::HiokiPowerDriver::connect(cfg).await?),
        Family::Modbus => Box::new(modbus::driver::ModbusDriver::connect(cfg).await?),
    })
}
