//! Modbus TCP and RTU: `protocol` (register decoding and request planning,
//! pure) and `driver` (tokio-modbus client).

pub mod driver;
pub mod protocol;

pub use driver::ModbusDriver;
