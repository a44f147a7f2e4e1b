//! A serial port shared by several instruments (an RS-485 line with many
//! Modbus units, addressable devices on one adapter). The port is opened
//! once and owned by one [`SerialBus`]; every instrument on it holds a handle
//! and takes the port for one request/reply exchange at a time, in the order
//! they asked (a FIFO lock), so replies never interleave. The port closes
//! when the last instrument using it lets go.
//!
//! Two instruments asking for different line settings on one port cannot
//! both be right: the config check refuses that with both names
//! ([`check_shared_ports`]); [`SerialBus::open`] refuses it too, as a guard.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::sync::OwnedMutexGuard;
use tokio_serial::SerialStream;

use super::serial::{self, SerialSettings};
use crate::config::{InstrumentConfig, TransportConfig};
use crate::error::{DriverError, Result};

/// Bytes thrown away before an exchange at most (late replies to an earlier
/// request that timed out), so a babbling line cannot keep us there.
const MAX_STALE: usize = 64 * 1024;

/// One open serial port and its line settings.
pub struct SerialBus {
    path: String,
    settings: SerialSettings,
    port: Arc<tokio::sync::Mutex<SerialStream>>,
    /// Set after an i/o failure: the next instrument to connect opens the
    /// port afresh instead of joining a dead one.
    broken: AtomicBool,
}

/// One port under two names (`/dev/serial/by-id/...` and the
/// `/dev/ttyUSB0` it links to) is one port: the resolved path when the
/// device exists, else the path as written.
fn port_key(path: &str) -> String {
    std::fs::canonicalize(path).map_or_else(|_| path.to_string(), |p| p.display().to_string())
}

/// Open buses by device path; entries die with their last handle.
fn buses() -> &'static Mutex<HashMap<String, Weak<SerialBus>>> {
    static BUSES: std::sync::OnceLock<Mutex<HashMap<String, Weak<SerialBus>>>> = std::sync::OnceLock::new();
    BUSES.get_or_init(|| Mutex::new(HashMap::new()))
}

impl SerialBus {
    /// The bus on `path`: the one already open (same settings required), or
    /// a newly opened port.
    pub fn open(path: &str, settings: &SerialSettings) -> Result<Arc<SerialBus>> {
        let key = port_key(path);
        let mut map = buses().lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, bus| bus.strong_count() > 0);
        if let Some(bus) = map.get(&key).and_then(Weak::upgrade)
            && !bus.broken.load(Ordering::Relaxed)
        {
            if bus.settings != *settings {
                return Err(DriverError::Config(format!(
                    "serial `{path}` is already open at {}; cannot also use it at {}",
                    describe(&bus.settings),
                    describe(settings)
                )));
            }
            return Ok(bus);
        }
        let stream = serial::open(path, settings)?;
        let bus = Arc::new(SerialBus {
            path: path.to_string(),
            settings: *settings,
            port: Arc::new(tokio::sync::Mutex::new(stream)),
            broken: AtomicBool::new(false),
        });
        map.insert(key, Arc::downgrade(&bus));
        Ok(bus)
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Waits for the port (behind every exchange asked for earlier), throws
    /// away stale input and hands it over until the lease is dropped.
    pub async fn lease(&self) -> Result<PortLease> {
        let mut guard = self.port.clone().lock_owned().await;
        let mut chunk = [0u8; 1024];
        let mut dropped = 0;
        while dropped < MAX_STALE {
            match guard.read(&mut chunk).now_or_never() {
                Some(Ok(n)) if n > 0 => dropped += n,
                Some(Err(e)) if e.kind() != std::io::ErrorKind::WouldBlock => {
                    self.mark_broken();
                    return Err(DriverError::Io { target: self.path.clone(), source: e });
                }
                _ => break,
            }
        }
        Ok(PortLease(guard))
    }

    /// The port failed under some instrument: do not hand it to new ones.
    pub fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for SerialBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialBus").field("path", &self.path).field("settings", &self.settings).finish()
    }
}

/// The port, held for one exchange; reads and writes go straight to it.
pub struct PortLease(OwnedMutexGuard<SerialStream>);

impl std::fmt::Debug for PortLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortLease")
    }
}

impl AsyncRead for PortLease {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PortLease {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

/// `19200 8N1`
fn describe(s: &SerialSettings) -> String {
    let parity = match s.parity {
        crate::config::Parity::None => 'N',
        crate::config::Parity::Even => 'E',
        crate::config::Parity::Odd => 'O',
    };
    format!("{} {}{parity}{}", s.baud, s.data_bits, s.stop_bits)
}

/// The line settings a serial transport asks for.
pub fn settings_of(transport: &TransportConfig) -> Option<(&str, SerialSettings)> {
    match transport {
        TransportConfig::Serial { path, baud, data_bits, parity, stop_bits, .. } => Some((
            path.as_str(),
            SerialSettings { baud: *baud, data_bits: *data_bits, parity: *parity, stop_bits: *stop_bits },
        )),
        TransportConfig::Tcp { .. } | TransportConfig::Ble { .. } | TransportConfig::BleUart { .. } => None,
    }
}

/// Two enabled instruments on one serial port that cannot both use it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortConflict {
    #[error(
        "instruments `{first}` and `{second}` share serial port `{path}` but ask for different settings ({first_settings} and {second_settings}); one port has one baud rate, parity and stop bits"
    )]
    Settings {
        path: String,
        first: String,
        first_settings: String,
        second: String,
        second_settings: String,
        second_index: usize,
    },
    #[error(
        "instruments `{first}` and `{second}` both use serial port `{path}`, but family {family} cannot share a port with them; only Modbus RTU units (each with its own `unit_id`) or line-based devices (SCPI, Hioki, each with its own `select`) take turns on one line, not both kinds"
    )]
    NotShareable { path: String, first: String, second: String, family: &'static str, second_index: usize },
    #[error(
        "instruments `{first}` and `{second}` both use serial port `{path}`, but `{missing}` has no `select`; line-based devices on a shared line each need the command that addresses them (such as `select = \"ADR 6\"`)"
    )]
    NoSelect { path: String, first: String, second: String, missing: String, second_index: usize },
    #[error(
        "instruments `{first}` and `{second}` on serial port `{path}` both use `select = \"{select}\"`; each device on a shared line needs its own address"
    )]
    SameSelect { path: String, first: String, second: String, select: String, second_index: usize },
}

impl PortConflict {
    /// Index of the second instrument of the pair in the list checked.
    pub fn second_index(&self) -> usize {
        match self {
            PortConflict::Settings { second_index, .. }
            | PortConflict::NotShareable { second_index, .. }
            | PortConflict::NoSelect { second_index, .. }
            | PortConflict::SameSelect { second_index, .. } => *second_index,
        }
    }

    /// The field of the second instrument that a config error points at.
    pub fn field(&self) -> &'static str {
        match self {
            PortConflict::SameSelect { .. } => "select",
            _ => "transport",
        }
    }
}

/// How an instrument takes turns on a shared line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addressing {
    /// Modbus RTU: a unit id in every frame.
    UnitId,
    /// Line-based (SCPI, Hioki): an address command before each exchange.
    Select,
    /// Cannot share a line.
    None,
}

fn addressing(inst: &InstrumentConfig) -> Addressing {
    let fields = inst.family.instrument_fields;
    if fields.iter().any(|f| f.key == "unit_id") {
        Addressing::UnitId
    } else if fields.iter().any(|f| f.key == "select") {
        Addressing::Select
    } else {
        Addressing::None
    }
}

/// `ADR 6`, `adr  6` and ` ADR 6 ` address the same device (SCPI commands
/// ignore case; runs of blanks are one separator).
fn select_key(select: &str) -> String {
    select.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase()
}

/// Whether `earlier` and `inst` (index `i`), both on `path`, can take turns.
fn check_pair(
    path: &str,
    earlier: &InstrumentConfig,
    inst: &InstrumentConfig,
    i: usize,
) -> Result<(), Box<PortConflict>> {
    let pair = || (path.to_string(), earlier.id.clone(), inst.id.clone());
    let (a, b) = (addressing(earlier), addressing(inst));
    if let Some(lone) = [(earlier, a), (inst, b)].into_iter().find(|(_, x)| *x == Addressing::None).map(|(x, _)| x) {
        let (path, first, second) = pair();
        return Err(Box::new(PortConflict::NotShareable {
            path,
            first,
            second,
            family: lone.family.id(),
            second_index: i,
        }));
    }
    if a != b {
        let (path, first, second) = pair();
        return Err(Box::new(PortConflict::NotShareable {
            path,
            first,
            second,
            family: inst.family.id(),
            second_index: i,
        }));
    }
    if a == Addressing::Select {
        let missing = [earlier, inst].into_iter().find(|x| x.select.is_none());
        if let Some(missing) = missing {
            let (path, first, second) = pair();
            let missing = missing.id.clone();
            return Err(Box::new(PortConflict::NoSelect { path, first, second, missing, second_index: i }));
        }
        let (x, y) = (earlier.select.as_deref().unwrap_or_default(), inst.select.as_deref().unwrap_or_default());
        if select_key(x) == select_key(y) {
            let (path, first, second) = pair();
            return Err(Box::new(PortConflict::SameSelect {
                path,
                first,
                second,
                select: y.trim().to_string(),
                second_index: i,
            }));
        }
    }
    Ok(())
}

/// Checks that the enabled instruments on each serial port can share it:
/// one set of line settings, and every one of them addressable the same way
/// (Modbus unit ids, or distinct `select` commands).
pub fn check_shared_ports(instruments: &[InstrumentConfig]) -> std::result::Result<(), Box<PortConflict>> {
    let mut on_port: HashMap<String, Vec<(&InstrumentConfig, SerialSettings)>> = HashMap::new();
    for (i, inst) in instruments.iter().enumerate().filter(|(_, i)| i.enabled) {
        let Some((path, settings)) = settings_of(&inst.transport) else { continue };
        let earlier = on_port.entry(port_key(path)).or_default();
        if let Some((other, theirs)) = earlier.first()
            && *theirs != settings
        {
            return Err(Box::new(PortConflict::Settings {
                path: path.to_string(),
                first: other.id.clone(),
                first_settings: describe(theirs),
                second: inst.id.clone(),
                second_settings: describe(&settings),
                second_index: i,
            }));
        }
        for (other, _) in earlier.iter() {
            check_pair(path, other, inst, i)?;
        }
        earlier.push((inst, settings));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Parity, TransportConfig};
    use std::time::Duration;

    fn serial(id: &str, path: &str, baud: u32, parity: Parity) -> InstrumentConfig {
        let mut cfg = crate::transport::test_peer::tcp_config(crate::families::modbus::FAMILY, 502, vec![]);
        cfg.id = id.into();
        cfg.transport = TransportConfig::Serial {
            path: path.into(),
            baud,
            data_bits: 8,
            parity,
            stop_bits: 1,
            timeout: Duration::from_secs(1),
        };
        cfg
    }

    #[test]
    fn different_settings_on_one_port_name_both_instruments() {
        let ok = [serial("a", "/dev/ttyUSB0", 9600, Parity::None), serial("b", "/dev/ttyUSB0", 9600, Parity::None)];
        assert_eq!(check_shared_ports(&ok), Ok(()));
        let other_port =
            [serial("a", "/dev/ttyUSB0", 9600, Parity::None), serial("b", "/dev/ttyUSB1", 19200, Parity::None)];
        assert_eq!(check_shared_ports(&other_port), Ok(()));
        let bad = [
            serial("meter1", "/dev/ttyUSB0", 9600, Parity::None),
            serial("x", "/dev/ttyUSB1", 9600, Parity::None),
            serial("meter2", "/dev/ttyUSB0", 19200, Parity::Even),
        ];
        let e = check_shared_ports(&bad).unwrap_err();
        assert_eq!(e.second_index(), 2);
        let msg = e.to_string();
        assert!(msg.contains("`meter1`") && msg.contains("`meter2`") && msg.contains("/dev/ttyUSB0"), "{msg}");
        assert!(msg.contains("9600 8N1") && msg.contains("19200 8E1"), "{msg}");
        // A disabled instrument does not open the port.
        let mut off = bad.clone();
        off[2].enabled = false;
        assert_eq!(check_shared_ports(&off), Ok(()));
    }

    #[test]
    fn only_addressable_families_share_a_port() {
        let mut dmm = serial("dmm", "/dev/ttyUSB0", 9600, Parity::None);
        dmm.family = crate::families::scpi::FAMILY;
        let meter = serial("meter", "/dev/ttyUSB0", 9600, Parity::None);
        let e = check_shared_ports(&[meter.clone(), dmm.clone()]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`meter`") && msg.contains("`dmm`") && msg.contains("family scpi"), "{msg}");
        assert_eq!(check_shared_ports(&[dmm]), Ok(()));
        let mut sdm = serial("sdm", "/dev/ttyUSB0", 9600, Parity::None);
        sdm.family = crate::families::sdm630::FAMILY;
        assert_eq!(check_shared_ports(&[meter, sdm]), Ok(()));
    }

    fn scpi(id: &str, path: &str, select: Option<&str>) -> InstrumentConfig {
        let mut cfg = serial(id, path, 9600, Parity::None);
        cfg.family = crate::families::scpi::FAMILY;
        cfg.select = select.map(str::to_string);
        cfg
    }

    #[test]
    fn line_based_devices_share_a_port_with_distinct_selects() {
        let psu1 = scpi("psu1", "/dev/ttyUSB0", Some("ADR 6"));
        let psu2 = scpi("psu2", "/dev/ttyUSB0", Some("ADR 7"));
        let mut hioki = scpi("pw", "/dev/ttyUSB0", Some("ADR 8"));
        hioki.family = crate::families::hioki_power::FAMILY;
        assert_eq!(check_shared_ports(&[psu1.clone(), psu2.clone(), hioki.clone()]), Ok(()));
        // Alone on its port, a device needs no address.
        assert_eq!(check_shared_ports(&[scpi("dmm", "/dev/ttyUSB1", None), psu1.clone()]), Ok(()));

        // The same address, written differently, names both instruments.
        let twin = scpi("psu3", "/dev/ttyUSB0", Some(" adr  7 "));
        let e = check_shared_ports(&[psu1.clone(), psu2.clone(), twin]).unwrap_err();
        assert_eq!(e.second_index(), 2);
        let msg = e.to_string();
        assert!(msg.contains("`psu2`") && msg.contains("`psu3`"), "{msg}");
        assert!(msg.contains("select = \"adr  7\"") && msg.contains("/dev/ttyUSB0"), "{msg}");

        // A device without an address on a shared line is named.
        let e = check_shared_ports(&[psu1.clone(), scpi("dmm", "/dev/ttyUSB0", None)]).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(*e, PortConflict::NoSelect { ref missing, .. } if missing == "dmm"), "{msg}");
        assert!(msg.contains("`psu1`") && msg.contains("`dmm` has no `select`"), "{msg}");

        // Different settings stay a settings conflict.
        let mut fast = scpi("fast", "/dev/ttyUSB0", Some("ADR 9"));
        fast.transport = serial("x", "/dev/ttyUSB0", 19200, Parity::None).transport;
        let e = check_shared_ports(&[psu1.clone(), fast]).unwrap_err().to_string();
        assert!(e.contains("`psu1`") && e.contains("`fast`") && e.contains("19200 8N1"), "{e}");

        // Modbus units and addressed SCPI devices do not mix on one line.
        let meter = serial("meter", "/dev/ttyUSB0", 9600, Parity::None);
        let e = check_shared_ports(&[meter, psu1.clone()]).unwrap_err().to_string();
        assert!(e.contains("`meter`") && e.contains("`psu1`") && e.contains("not both kinds"), "{e}");

        // A disabled duplicate does not use the line.
        let mut off = scpi("off", "/dev/ttyUSB0", Some("ADR 6"));
        off.enabled = false;
        assert_eq!(check_shared_ports(&[psu1, psu2, off]), Ok(()));
    }

    #[tokio::test]
    async fn a_missing_port_is_a_connect_error_and_not_remembered() {
        let e = SerialBus::open("/dev/meterdeck-no-such-bus", &SerialSettings::default()).unwrap_err();
        assert!(matches!(e, DriverError::Connect { .. }), "{e:?}");
        assert!(buses().lock().unwrap().get("/dev/meterdeck-no-such-bus").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_port_under_two_names_is_one_port() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("ttyUSB9");
        std::fs::write(&real, b"").unwrap();
        let link = dir.path().join("by-id-adapter");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let a = serial("a", real.to_str().unwrap(), 9600, Parity::None);
        let b = serial("b", link.to_str().unwrap(), 19200, Parity::None);
        let e = check_shared_ports(&[a, b]).unwrap_err();
        assert!(e.to_string().contains("`a`") && e.to_string().contains("`b`"), "{e}");
    }
}
