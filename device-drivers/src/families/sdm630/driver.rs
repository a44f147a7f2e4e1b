//! The SDM630 family's driver is the Modbus driver, connected with the
//! channels mapped onto the meter's registers (see `protocol`). It keeps
//! the family, so errors and the instrument list name `sdm630`.

use super::protocol;
use crate::config::InstrumentConfig;
use crate::error::{DriverError, Result};
use crate::families::modbus::ModbusDriver;

/// Checks the configuration, maps its channels (every item when none are
/// listed) and connects over Modbus TCP or RTU.
pub async fn connect(cfg: &InstrumentConfig) -> Result<ModbusDriver> {
    cfg.validate().map_err(|e| DriverError::Config(e.to_string()))?;
    let mapped = InstrumentConfig { channels: protocol::map_channels(&cfg.channels), ..cfg.clone() };
    ModbusDriver::connect_mapped(&mapped).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{ChannelConfig, TransportConfig};
    use crate::families::sdm630::FAMILY;
    use crate::reading::Value;
    use crate::sim::{self, Personality, SimConfig, SimHandle, SimInstrument, expected_value};

    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    /// The simulator's Modbus TCP device serving the meter's register map:
    /// its channel k is item k.
    async fn meter(seed: u64) -> SimHandle {
        let registers = protocol::ITEMS.iter().map(protocol::register).collect();
        let inst = SimInstrument { seed, registers: Some(registers), ..SimInstrument::new("sdm", Personality::Modbus) };
        sim::start(SimConfig { instruments: vec![inst] }).await.unwrap()
    }

    fn config(h: &SimHandle, channels: Vec<ChannelConfig>) -> InstrumentConfig {
        let mut cfg = h.instruments[0].instrument_config();
        cfg.id = "meter".into();
        cfg.family = FAMILY;
        cfg.channels = channels;
        cfg
    }

    #[tokio::test]
    async fn every_item_reads_as_the_simulator_serves_it() {
        let h = meter(31).await;
        let cfg = config(&h, vec![]);
        let mut d = crate::open(&cfg).await.unwrap();
        assert_eq!(d.family(), FAMILY);
        let offered = d.channels();
        let ids: Vec<String> = offered.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids, protocol::ITEM_IDS.map(str::to_string));
        assert_eq!(offered[0].unit.as_deref(), Some("V"));
        let before = now_ms();
        let readings = d.read(&ids).await.unwrap();
        let after = now_ms();
        for (k, r) in readings.iter().enumerate() {
            let v = r.value.as_number().unwrap_or_else(|| panic!("{r:?}"));
            let ok = [before, after].iter().any(|t| expected_value(31, Personality::Modbus, k, *t) == v);
            assert!(ok, "{} (item {k}): {v}", r.channel);
        }
        h.shutdown().await;
    }

    #[tokio::test]
    async fn chosen_items_keep_their_unit_and_scale() {
        let h = meter(8).await;
        let mut freq = ChannelConfig::new("FREQ");
        freq.scale = 1000.0;
        freq.unit = Some("mHz".into());
        let cfg = config(&h, vec![ChannelConfig::new("EP_TOT"), freq]);
        let mut d = crate::open(&cfg).await.unwrap();
        let units: Vec<Option<String>> = d.channels().into_iter().map(|c| c.unit).collect();
        assert_eq!(units, [Some("kWh".to_string()), Some("mHz".to_string())]);
        let index = |id: &str| protocol::ITEMS.iter().position(|i| i.id == id).unwrap();
        let before = now_ms();
        let r = d.read(&["EP_TOT".into(), "FREQ".into(), "U1".into()]).await.unwrap();
        let after = now_ms();
        for (k, scale) in [(0, 1.0), (1, 1000.0)] {
            let v = r[k].value.as_number().unwrap();
            let served = |t: &i64| expected_value(8, Personality::Modbus, index(&r[k].channel), *t);
            assert!([before, after].iter().any(|t| served(t) * scale == v), "{}: {v}", r[k].channel);
        }
        // Not configured: no data rather than an error.
        assert_eq!(r[2].value, Value::Special(crate::reading::SpecialKind::NoData));
        h.shutdown().await;
    }

    #[tokio::test]
    async fn configs_outside_the_map_are_refused_by_name() {
        let h = meter(1).await;
        let err = crate::open(&config(&h, vec![ChannelConfig::new("U9")])).await.err().unwrap().to_string();
        assert!(err.contains("`id` must be one of U1, U2") && err.contains("`U9`"), "{err}");
        let mut mapped = ChannelConfig::new("U1");
        mapped.modbus = Some(protocol::register(&protocol::ITEMS[1]));
        let err = crate::open(&config(&h, vec![mapped])).await.err().unwrap().to_string();
        assert!(err.contains("`modbus` is not used by family sdm630"), "{err}");
        let mut default_port = config(&h, vec![]);
        default_port.transport =
            TransportConfig::Tcp { host: "127.0.0.1".into(), port: None, timeout: Duration::from_secs(1) };
        assert_eq!(default_port.target(), "127.0.0.1:502");
        h.shutdown().await;
    }
}
