//! The BLE part of discovery: scan for a while, then list every device
//! BlueZ heard with its name, address, RSSI, advertised services and the
//! family (and transport) that fits it, ready to be added in one click.

use std::time::Duration;

use btleplug::api::{Central, Peripheral as _, ScanFilter};
use serde::Serialize;
use uuid::Uuid;

use super::ble::adapter;
use super::ble_uart::NUS_SERVICE;
use crate::config::{Family, TransportConfig};
use crate::error::{DriverError, Result};
use crate::families::{ble_ess, scpi};

/// Longest scan asked for (the CLI's `--seconds`, the window's scan).
pub const MAX_SCAN: Duration = Duration::from_secs(120);

/// One device a scan heard.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct BleFound {
    /// Advertised name; `None` for a device that advertises none.
    pub name: Option<String>,
    pub address: String,
    /// Signal strength in dBm when last heard.
    pub rssi: Option<i16>,
    /// Advertised service UUIDs (lower-case, 128-bit form).
    pub services: Vec<String>,
    /// The family that fits the services (`None`: nothing we know).
    pub family: Option<String>,
    /// The transport to add it with (`ble` or `ble-uart`), with its name
    /// (or address when it has none) as the device.
    #[ts(as = "Option<crate::config::TransportConfig>")]
    pub transport: Option<TransportConfig>,
}

/// Which family and transport a set of advertised services fits: the ESS
/// is the `ble-ess` family; the Nordic UART bridge carries SCPI lines
/// (a Hioki instrument behind one is chosen by hand, or by `*IDN?` after).
pub fn fitting(services: &[Uuid]) -> Option<(Family, bool)> {
    if ble_ess::ADVERTISED.iter().all(|s| services.contains(s)) {
        return Some((ble_ess::FAMILY, false));
    }
    services.contains(&NUS_SERVICE).then_some((scpi::FAMILY, true))
}

/// Scans for `seconds` and lists what was heard, the strongest first.
pub async fn scan(duration: Duration) -> Result<Vec<BleFound>> {
    if duration.is_zero() || duration > MAX_SCAN {
        return Err(DriverError::Config(format!(
            "a BLE scan lasts 1 s .. {} s, got {}",
            MAX_SCAN.as_secs(),
            humantime::format_duration(duration)
        )));
    }
    let target = "ble scan";
    let adapter = adapter(target).await?;
    let err = |e| super::ble::link_error(target, e);
    adapter.start_scan(ScanFilter::default()).await.map_err(err)?;
    tokio::time::sleep(duration).await;
    let peripherals = adapter.peripherals().await.map_err(err);
    let _ = adapter.stop_scan().await;
    let mut found = Vec::new();
    for p in peripherals? {
        let Ok(Some(props)) = p.properties().await else { continue };
        let name = props.local_name.clone().or(props.advertisement_name.clone());
        let address = props.address.to_string();
        let fit = fitting(&props.services);
        let device = name.clone().unwrap_or_else(|| address.clone());
        let timeout = Duration::from_secs(10);
        let transport = fit.map(|(_, uart)| {
            if uart { TransportConfig::BleUart { device, timeout } } else { TransportConfig::Ble { device, timeout } }
        });
        found.push(BleFound {
            name,
            address,
            rssi: props.rssi,
            services: props.services.iter().map(Uuid::to_string).collect(),
            family: fit.map(|(f, _)| f.id().to_string()),
            transport,
        });
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.rssi.unwrap_or(i16::MIN)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ble::sig_uuid;

    #[test]
    fn services_pick_the_family_and_transport() {
        let ess = [sig_uuid(0x181A), sig_uuid(0x180F)];
        assert_eq!(fitting(&ess).map(|(f, u)| (f.id(), u)), Some(("ble-ess", false)));
        assert_eq!(fitting(&[NUS_SERVICE]).map(|(f, u)| (f.id(), u)), Some(("scpi", true)));
        assert_eq!(fitting(&[sig_uuid(0x180D)]), None);
        assert_eq!(fitting(&[]), None);
    }
}
