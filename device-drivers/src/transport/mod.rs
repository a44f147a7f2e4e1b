//! Byte transports (TCP, serial, the BLE UART bridge) and the line-oriented connection every text
//! protocol speaks over them. Protocols never see which transport they use.

pub mod ble;
pub mod ble_scan;
pub mod ble_uart;
pub mod bus_line;
pub mod line;
pub mod serial;
pub mod serial_bus;
pub mod tcp;

#[cfg(test)]
pub(crate) mod test_peer;

pub use line::{LineConnection, MAX_LINE};
pub use serial::{SerialPortInfo, SerialPortKind, SerialSettings, list_serial_ports};
pub use serial_bus::{PortConflict, SerialBus, check_shared_ports};

use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::{Family, TransportConfig};
use crate::error::{DriverError, Result};

/// Any byte stream a [`LineConnection`] can run over.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// Opens the configured transport and wraps it in a line connection. The TCP
/// port defaults to the family's; `terminator` ends every line both ways.
///
/// With `select`, a serial device is one of several addressed devices on a
/// shared line: it takes turns on the port ([`SerialBus`]), addressed first.
pub async fn connect(
    transport: &TransportConfig,
    family: Family,
    terminator: &str,
    select: Option<bus_line::Select>,
) -> Result<LineConnection> {
    let target = transport.describe(family);
    let timeout = transport.timeout();
    if let (Some(select), Some((path, settings))) = (select, serial_bus::settings_of(transport)) {
        let bus = SerialBus::open(path, &settings)?;
        return LineConnection::on_bus(bus, Some(select), target, terminator, timeout);
    }
    let stream: Box<dyn ByteStream> = match transport {
        TransportConfig::Tcp { host, port, .. } => {
            Box::new(tcp::connect(host, tcp_port(*port, family)?, timeout).await?)
        }
        TransportConfig::Serial { path, baud, data_bits, parity, stop_bits, .. } => {
            let settings =
                SerialSettings { baud: *baud, data_bits: *data_bits, parity: *parity, stop_bits: *stop_bits };
            Box::new(serial::open(path, &settings)?)
        }
        TransportConfig::BleUart { .. } => Box::new(ble_uart::open(transport, target.clone()).await?),
        TransportConfig::Ble { .. } => {
            return Err(DriverError::Config(format!(
                "{target}: a line protocol over Bluetooth LE needs `transport.kind` ble-uart (Nordic UART bridge)"
            )));
        }
    };
    LineConnection::new(stream, target, terminator, timeout)
}

/// The configured TCP port, else the family's default (validation refuses
/// a family without one before this is reached).
pub fn tcp_port(port: Option<u16>, family: Family) -> Result<u16> {
    port.or(family.default_port()).ok_or_else(|| {
        DriverError::Config(format!("`transport.port` must be given: family {family} has no default port"))
    })
}
