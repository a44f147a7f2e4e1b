//! Serial ports: opening one with explicit line settings, and listing the
//! ports the machine has (with USB identifiers where known).

use serde::{Deserialize, Serialize};
use tokio_serial::{DataBits, SerialPortBuilderExt, SerialPortType, SerialStream, StopBits};

use crate::config::Parity;
use crate::error::{DriverError, Result};

/// Line settings of a serial port (8N1 at 9600 by default in configs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialSettings {
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Default for SerialSettings {
    fn default() -> Self {
        SerialSettings { baud: 9600, data_bits: 8, parity: Parity::None, stop_bits: 1 }
    }
}

/// Opens `path` with `settings`. Bad settings are `Config` errors naming the
/// field; a port that cannot be opened is a `Connect` error naming it.
pub fn open(path: &str, settings: &SerialSettings) -> Result<SerialStream> {
    let data_bits = match settings.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        8 => DataBits::Eight,
        other => return Err(DriverError::Config(format!("serial `{path}`: data_bits must be 5..8, got {other}"))),
    };
    let stop_bits = match settings.stop_bits {
        1 => StopBits::One,
        2 => StopBits::Two,
        other => return Err(DriverError::Config(format!("serial `{path}`: stop_bits must be 1 or 2, got {other}"))),
    };
    if settings.baud == 0 {
        return Err(DriverError::Config(format!("serial `{path}`: baud must be > 0")));
    }
    let parity = match settings.parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Even => tokio_serial::Parity::Even,
        Parity::Odd => tokio_serial::Parity::Odd,
    };
    tokio_serial::new(path, settings.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(|e| DriverError::Connect { target: format!("{path}@{}", settings.baud), source: e.into() })
}

/// How a serial port is attached to the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum SerialPortKind {
    Usb,
    Pci,
    Bluetooth,
    Unknown,
}

/// One serial port as the operating system reports it. USB ids are 4 lower
/// case hex digits (`"0403"`), as printed by `lsusb`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SerialPortInfo {
    pub path: String,
    pub kind: SerialPortKind,
    pub vid: Option<String>,
    pub pid: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial_number: Option<String>,
}

impl From<tokio_serial::SerialPortInfo> for SerialPortInfo {
    fn from(info: tokio_serial::SerialPortInfo) -> Self {
        let mut out = SerialPortInfo {
            path: info.port_name,
            kind: SerialPortKind::Unknown,
            vid: None,
            pid: None,
            manufacturer: None,
            product: None,
            serial_number: None,
        };
        match info.port_type {
            SerialPortType::UsbPort(usb) => {
                out.kind = SerialPortKind::Usb;
                out.vid = Some(format!("{:04x}", usb.vid));
                out.pid = Some(format!("{:04x}", usb.pid));
                out.manufacturer = usb.manufacturer;
                out.product = usb.product;
                out.serial_number = usb.serial_number;
            }
            SerialPortType::PciPort => out.kind = SerialPortKind::Pci,
            SerialPortType::BluetoothPort => out.kind = SerialPortKind::Bluetooth,
            SerialPortType::Unknown => {}
        }
        out
    }
}

/// Lists the serial ports of this machine, sorted by path.
pub fn list_serial_ports() -> Result<Vec<SerialPortInfo>> {
    let ports = tokio_serial::available_ports()
        .map_err(|e| DriverError::Io { target: "serial port enumeration".into(), source: e.into() })?;
    let mut out: Vec<SerialPortInfo> = ports.into_iter().map(SerialPortInfo::from).collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_serial::UsbPortInfo;

    #[test]
    fn usb_port_info_is_converted_with_hex_ids() {
        let info = tokio_serial::SerialPortInfo {
            port_name: "/dev/ttyUSB0".into(),
            port_type: SerialPortType::UsbPort(UsbPortInfo {
                vid: 0x0403,
                pid: 0x6001,
                serial_number: Some("A1B2".into()),
                manufacturer: Some("FTDI".into()),
                product: Some("FT232R".into()),
            }),
        };
        let out = SerialPortInfo::from(info);
        assert_eq!(out.kind, SerialPortKind::Usb);
        assert_eq!(out.vid.as_deref(), Some("0403"));
        assert_eq!(out.pid.as_deref(), Some("6001"));
        assert_eq!(out.manufacturer.as_deref(), Some("FTDI"));
        assert_eq!(out.product.as_deref(), Some("FT232R"));
        assert_eq!(out.serial_number.as_deref(), Some("A1B2"));
    }

    #[test]
    fn non_usb_ports_have_no_ids() {
        for (t, kind) in [
            (SerialPortType::PciPort, SerialPortKind::Pci),
            (SerialPortType::BluetoothPort, SerialPortKind::Bluetooth),
            (SerialPortType::Unknown, SerialPortKind::Unknown),
        ] {
            let out =
                SerialPortInfo::from(tokio_serial::SerialPortInfo { port_name: "/dev/ttyS0".into(), port_type: t });
            assert_eq!(out.kind, kind);
            assert_eq!(out.vid, None);
        }
    }

    #[test]
    fn listing_does_not_fail_on_this_machine() {
        // No hardware needed: an empty list is a valid answer.
        let ports = list_serial_ports().unwrap();
        assert!(ports.windows(2).all(|w| w[0].path <= w[1].path));
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let bad = SerialSettings { data_bits: 9, ..SerialSettings::default() };
        let err = open("/dev/null-port", &bad).unwrap_err();
        assert!(matches!(err, DriverError::Config(ref m) if m.contains("data_bits")), "{err}");
    }

    #[tokio::test]
    async fn missing_port_is_a_connect_error_naming_it() {
        let err = open("/dev/meterdeck-no-such-port", &SerialSettings::default()).unwrap_err();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains("/dev/meterdeck-no-such-port@9600"), "{err}");
    }
}
