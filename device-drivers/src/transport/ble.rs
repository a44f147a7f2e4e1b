//! Bluetooth LE over btleplug (BlueZ over D-Bus on Linux): find a device by
//! name or address, connect, discover its GATT services, and notice when it
//! goes away. Families build on [`BleLink`]; the discovery scan is in
//! `ble_scan`, the Nordic UART line bridge in `ble_uart`.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use btleplug::api::{
    BDAddr, Central, CentralEvent, CharPropFlags, Characteristic, Manager as _, Peripheral as _, ScanFilter,
    ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral, PeripheralId};
use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::config::TransportConfig;
use crate::error::{DriverError, Result};

/// A 16-bit Bluetooth SIG UUID (`0x181A`) as the full 128-bit one.
pub use btleplug::api::bleuuid::uuid_from_u16 as sig_uuid;

/// How often the adapter's device list is looked at while searching.
const SCAN_STEP: Duration = Duration::from_millis(200);

/// The first Bluetooth adapter of the system bus's BlueZ.
pub async fn adapter(target: &str) -> Result<Adapter> {
    let manager = Manager::new().await.map_err(|e| no_bluez(target, e))?;
    let adapters = manager.adapters().await.map_err(|e| no_bluez(target, e))?;
    adapters.into_iter().next().ok_or_else(|| DriverError::Connect {
        target: target.to_string(),
        source: io::Error::new(io::ErrorKind::NotFound, "no Bluetooth adapter (BlueZ lists none)"),
    })
}

fn no_bluez(target: &str, e: btleplug::Error) -> DriverError {
    DriverError::Connect {
        target: target.to_string(),
        source: io::Error::new(io::ErrorKind::NotFound, format!("Bluetooth (BlueZ over D-Bus) not available: {e}")),
    }
}

/// A btleplug failure on an open link. Every one of them drops the link (it
/// is made again with backoff): a device that stops answering GATT calls is
/// out of range or gone.
pub fn link_error(target: &str, e: btleplug::Error) -> DriverError {
    match e {
        btleplug::Error::TimedOut(timeout) => DriverError::Timeout { target: target.to_string(), timeout },
        btleplug::Error::DeviceNotFound | btleplug::Error::NotConnected => {
            DriverError::Closed { target: target.to_string() }
        }
        other => DriverError::Io { target: target.to_string(), source: io::Error::other(other.to_string()) },
    }
}

/// `device` is an address when it reads as one (`AA:BB:CC:DD:EE:FF`).
fn as_address(device: &str) -> Option<BDAddr> {
    BDAddr::from_str_delim(device.trim()).ok()
}

/// Does this peripheral answer to `device` (its address, or its name while
/// it advertises every service in `services`)?
async fn matches(p: &Peripheral, device: &str, services: &[Uuid]) -> Option<Option<i16>> {
    let props = p.properties().await.ok().flatten()?;
    if let Some(addr) = as_address(device) {
        return (props.address == addr).then_some(props.rssi);
    }
    let named = [&props.local_name, &props.advertisement_name].iter().any(|n| n.as_deref() == Some(device.trim()));
    (named && services.iter().all(|s| props.services.contains(s))).then_some(props.rssi)
}

/// Scans until a peripheral answering to `device` shows up, or `timeout`.
/// Of several with the same name, one heard now (with an RSSI) wins over a
/// cached one: a device with a random address leaves its old one behind.
pub async fn find(
    adapter: &Adapter,
    target: &str,
    device: &str,
    services: &[Uuid],
    timeout: Duration,
) -> Result<Peripheral> {
    let filter = ScanFilter { services: services.to_vec() };
    adapter.start_scan(filter).await.map_err(|e| link_error(target, e))?;
    let deadline = Instant::now() + timeout;
    let found = loop {
        let peripherals = adapter.peripherals().await.map_err(|e| link_error(target, e))?;
        let mut best: Option<(Option<i16>, Peripheral)> = None;
        for p in peripherals {
            if let Some(rssi) = matches(&p, device, services).await
                && best.as_ref().is_none_or(|(r, _)| r.is_none() && rssi.is_some())
            {
                best = Some((rssi, p));
            }
        }
        if let Some((_, p)) = best {
            break Ok(p);
        }
        if Instant::now() >= deadline {
            let wanted = if services.is_empty() {
                String::new()
            } else {
                format!(" advertising {}", services.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", "))
            };
            break Err(DriverError::Connect {
                target: target.to_string(),
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no device `{device}`{wanted} found within {}", humantime::format_duration(timeout)),
                ),
            });
        }
        tokio::time::sleep(SCAN_STEP).await;
    };
    // The scan is only for finding it; a failed stop changes nothing for us.
    let _ = adapter.stop_scan().await;
    found
}

/// A connected BLE device with its GATT services discovered. Dropping it
/// stops watching and disconnects.
pub struct BleLink {
    peripheral: Peripheral,
    target: String,
    timeout: Duration,
    lost: watch::Receiver<bool>,
    watcher: tokio::task::JoinHandle<()>,
}

impl BleLink {
    /// Finds the device of a `ble` or `ble-uart` transport (by name it must
    /// advertise `services`), connects and discovers its services.
    pub async fn open(transport: &TransportConfig, target: String, services: &[Uuid]) -> Result<BleLink> {
        let (TransportConfig::Ble { device, timeout } | TransportConfig::BleUart { device, timeout }) = transport
        else {
            return Err(DriverError::Config(format!("{target}: not a Bluetooth LE transport")));
        };
        let timeout = *timeout;
        let adapter = adapter(&target).await?;
        let peripheral = find(&adapter, &target, device, services, timeout).await?;
        let (lost_tx, lost) = watch::channel(false);
        // Watch before connecting: a link lost during service discovery counts too.
        let watcher = watch_disconnect(&adapter, peripheral.id(), lost_tx, &target).await?;
        let link = BleLink { peripheral, target, timeout, lost, watcher };
        let connected = link.timed(link.peripheral.is_connected()).await.unwrap_or(false);
        if !connected {
            link.timed(link.peripheral.connect()).await?;
        }
        link.timed(link.peripheral.discover_services()).await?;
        Ok(link)
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The device's name and address as BlueZ knows them.
    pub async fn name_and_address(&self) -> (Option<String>, String) {
        let props = self.peripheral.properties().await.ok().flatten();
        let name = props.as_ref().and_then(|p| p.local_name.clone().or(p.advertisement_name.clone()));
        (name, self.peripheral.address().to_string())
    }

    /// Runs one GATT operation with the transport's timeout.
    async fn timed<T>(&self, op: impl Future<Output = btleplug::Result<T>>) -> Result<T> {
        self.check()?;
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result.map_err(|e| link_error(&self.target, e)),
            Err(_) => Err(DriverError::Timeout { target: self.target.clone(), timeout: self.timeout }),
        }
    }

    /// `Closed` once the device has disconnected (out of range, switched off).
    pub fn check(&self) -> Result<()> {
        if *self.lost.borrow() {
            return Err(DriverError::Closed { target: self.target.clone() });
        }
        Ok(())
    }

    /// Resolves when the device disconnects.
    pub fn lost(&self) -> watch::Receiver<bool> {
        self.lost.clone()
    }

    pub fn characteristic(&self, service: Uuid, uuid: Uuid) -> Option<Characteristic> {
        self.peripheral.characteristics().into_iter().find(|c| c.uuid == uuid && c.service_uuid == service)
    }

    pub fn has_service(&self, service: Uuid) -> bool {
        self.peripheral.services().iter().any(|s| s.uuid == service)
    }

    pub async fn read(&self, c: &Characteristic) -> Result<Vec<u8>> {
        self.timed(self.peripheral.read(c)).await
    }

    /// Writes with a response where the characteristic allows it (ordered,
    /// acknowledged), else as a command.
    pub async fn write(&self, c: &Characteristic, data: &[u8]) -> Result<()> {
        let kind = if c.properties.contains(CharPropFlags::WRITE) {
            WriteType::WithResponse
        } else {
            WriteType::WithoutResponse
        };
        self.timed(self.peripheral.write(c, data, kind)).await
    }

    pub async fn subscribe(&self, c: &Characteristic) -> Result<()> {
        self.timed(self.peripheral.subscribe(c)).await
    }

    /// Every notification of the device's subscribed characteristics.
    pub async fn notifications(&self) -> Result<Pin<Box<dyn Stream<Item = ValueNotification> + Send>>> {
        self.timed(self.peripheral.notifications()).await
    }
}

impl Drop for BleLink {
    fn drop(&mut self) {
        self.watcher.abort();
        // Leave the device free for the next connect; nothing to report if it is gone.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let peripheral = self.peripheral.clone();
            rt.spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(2), peripheral.disconnect()).await;
            });
        }
    }
}

/// Sets `lost` when the adapter reports `id` disconnected.
async fn watch_disconnect(
    adapter: &Adapter,
    id: PeripheralId,
    lost: watch::Sender<bool>,
    target: &str,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut events = adapter.events().await.map_err(|e| link_error(target, e))?;
    Ok(tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if matches!(&event, CentralEvent::DeviceDisconnected(gone) if *gone == id) {
                let _ = lost.send(true);
                return;
            }
        }
        // The event stream itself ended: D-Bus or BlueZ went away.
        let _ = lost.send(true);
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_uuids_expand_on_the_base_uuid() {
        assert_eq!(sig_uuid(0x181A).to_string(), "0000181a-0000-1000-8000-00805f9b34fb");
    }

    #[test]
    fn addresses_and_names_are_told_apart() {
        assert!(as_address("C0:FF:EE:00:00:01").is_some());
        assert!(as_address("c0:ff:ee:00:00:01").is_some());
        assert!(as_address("ENV-Sensor").is_none());
        assert!(as_address("C0:FF:EE").is_none());
    }
}
