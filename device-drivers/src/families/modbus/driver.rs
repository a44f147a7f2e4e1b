//! Modbus TCP and RTU through tokio-modbus. Each channel is a register map
//! entry; a read groups contiguous registers of one kind into one request.
//!
//! One channel's failure stays that channel's: a grouped read the device
//! refuses (an unmapped register answers exception 0x02) is split into one
//! read per channel, the channels that fail alone come back as
//! [`Reading::failed`] with the device's answer, and the driver remembers
//! them ([`health`]) so later polls group the good channels without them and
//! retry the failing ones alone, less and less often.
//!
//! Over RTU the serial port is a [`SerialBus`] shared with every other
//! instrument on the same line; each request takes the port for its one
//! exchange, addressed to this instrument's unit id.
//!
//! Modbus has no `*IDN?`: [`ModbusDriver`]'s `identify` answers
//! `Identity { maker: "Modbus", model: "unit <id>", serial: "", firmware: "" }`
//! without asking the device. Clock, start/stop and raw commands are
//! unsupported; settings profiles read and write the holding registers the
//! configuration lists (`control`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_modbus::Slave;
use tokio_modbus::client::{Context, Reader, Writer, rtu, tcp};

use super::health::Health;
use super::protocol::{self, ReadBlock};
use crate::config::{ChannelConfig, Family, InstrumentConfig, ModbusRegister, RegisterKind, TransportConfig};
use crate::driver::{ChannelInfo, Driver, Identity};
use crate::error::{DriverError, Result};
use crate::reading::{Reading, SpecialKind, Value};
use crate::transport::{self, SerialBus};

pub struct ModbusDriver {
    cfg: InstrumentConfig,
    conn: Conn,
    target: String,
    timeout: Duration,
    health: Health,
}

/// How requests reach the device.
enum Conn {
    /// A TCP connection of this instrument's own.
    Tcp(Context),
    /// A serial line, possibly shared with other units.
    Bus(Arc<SerialBus>),
}

impl std::fmt::Debug for ModbusDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusDriver").field("target", &self.target).field("unit_id", &self.cfg.unit_id).finish()
    }
}

/// Registers read back from one block.
pub(super) enum Data {
    Words(Vec<u16>),
    Bits(Vec<bool>),
}

impl ModbusDriver {
    /// Connects over Modbus TCP (`TransportConfig::Tcp`, port 502 by
    /// default) or RTU (`TransportConfig::Serial`), talking to `cfg.unit_id`.
    pub async fn connect(cfg: &InstrumentConfig) -> Result<ModbusDriver> {
        cfg.validate().map_err(|e| DriverError::Config(e.to_string()))?;
        ModbusDriver::connect_mapped(cfg).await
    }

    /// Connects for a configuration whose channels all carry their register
    /// maps, checking the registers but not the family's channel fields: a
    /// family with a fixed register map fills the maps in from its own
    /// channel list, which it has checked, and keeps its family in `cfg`.
    pub async fn connect_mapped(cfg: &InstrumentConfig) -> Result<ModbusDriver> {
        for c in &cfg.channels {
            let reg = register_of(cfg, c)?;
            protocol::check_register(reg)
                .map_err(|e| DriverError::Config(format!("instrument `{}`: channel `{}`: {e}", cfg.id, c.id)))?;
        }
        let target = cfg.target();
        let conn = match &cfg.transport {
            TransportConfig::Tcp { host, port, timeout } => {
                let stream = transport::tcp::connect(host, transport::tcp_port(*port, cfg.family)?, *timeout).await?;
                Conn::Tcp(tcp::attach_slave(stream, Slave(cfg.unit_id)))
            }
            TransportConfig::Serial { .. } => {
                let (path, settings) = transport::serial_bus::settings_of(&cfg.transport)
                    .ok_or_else(|| DriverError::Config(format!("{target}: not a serial transport")))?;
                Conn::Bus(SerialBus::open(path, &settings)?)
            }
            // Validation refuses these for Modbus (not in its `transports`).
            TransportConfig::Ble { .. } | TransportConfig::BleUart { .. } => {
                return Err(DriverError::Config(format!("{target}: Modbus does not run over Bluetooth LE")));
            }
        };
        Ok(ModbusDriver { cfg: cfg.clone(), conn, target, timeout: cfg.transport.timeout(), health: Health::default() })
    }
}

/// The connection half of the driver, borrowed apart from the configuration.
pub(super) struct Link<'a> {
    conn: &'a mut Conn,
    unit: u8,
    target: &'a str,
    timeout: Duration,
}

impl Link<'_> {
    /// Issues one read request for a block, with the per-request timeout.
    /// Over a shared line the wait for the port does not count against it
    /// (each exchange ahead is bounded by its own timeout), so a slow unit
    /// on the line cannot make its neighbours time out.
    async fn read_block(&mut self, block: &ReadBlock, what: &str) -> Result<Data, BlockError> {
        self.exchange(Op::Read(block.kind, block.start, block.count), what).await
    }

    /// One request (a read or a register write) with the per-request timeout.
    pub(super) async fn exchange(&mut self, op: Op, what: &str) -> Result<Data, BlockError> {
        let unit = self.unit;
        let lease = match &*self.conn {
            Conn::Bus(bus) => Some(bus.lease().await.map_err(BlockError::Failed)?),
            Conn::Tcp(_) => None,
        };
        let conn = &mut *self.conn;
        let request = async move {
            match (conn, lease) {
                (Conn::Bus(_), Some(lease)) => {
                    let mut ctx = rtu::attach_slave(lease, Slave(unit));
                    Ok(issue(&mut ctx, op).await)
                }
                (Conn::Tcp(ctx), _) => Ok(issue(ctx, op).await),
                (Conn::Bus(bus), None) => Err(DriverError::Config(format!("{}: no lease on the port", bus.path()))),
            }
        };
        let target = self.target;
        let result = match tokio::time::timeout(self.timeout, request).await {
            Err(_) => Err(DriverError::Timeout { target: target.to_string(), timeout: self.timeout }),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Err(tokio_modbus::Error::Transport(source)))) => Err(link_error(target, source)),
            Ok(Ok(Err(tokio_modbus::Error::Protocol(e)))) => {
                Err(DriverError::Modbus(format!("{target}: {what}: protocol error: {e}")))
            }
            Ok(Ok(Ok(Err(code)))) => {
                return Err(BlockError::Refused(format!("{what}: exception {:#04x} ({code})", u8::from(code))));
            }
            Ok(Ok(Ok(Ok(data)))) => Ok(data),
        };
        if let (Err(DriverError::Io { .. } | DriverError::Closed { .. }), Conn::Bus(bus)) = (&result, &*self.conn) {
            bus.mark_broken();
        }
        result.map_err(BlockError::Failed)
    }
}

/// One Modbus request.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    Read(RegisterKind, u16, u16),
    /// Function 0x06 to a holding register.
    WriteRegister(u16, u16),
}

/// Why a request brought no data.
pub(super) enum BlockError {
    /// The device answered with an exception: about these registers only.
    Refused(String),
    /// The link or the exchange failed: about the whole instrument.
    Failed(DriverError),
}

/// One request: a read of a block's kind, or a register write.
async fn issue(ctx: &mut Context, op: Op) -> tokio_modbus::Result<Data> {
    let (kind, start, count) = match op {
        Op::Read(kind, start, count) => (kind, start, count),
        Op::WriteRegister(addr, value) => {
            return ctx.write_single_register(addr, value).await.map(|r| r.map(|()| Data::Words(vec![value])));
        }
    };
    match kind {
        RegisterKind::Holding => ctx.read_holding_registers(start, count).await.map(|r| r.map(Data::Words)),
        RegisterKind::Input => ctx.read_input_registers(start, count).await.map(|r| r.map(Data::Words)),
        RegisterKind::Coil => ctx.read_coils(start, count).await.map(|r| r.map(Data::Bits)),
        RegisterKind::Discrete => ctx.read_discrete_inputs(start, count).await.map(|r| r.map(Data::Bits)),
    }
}

fn link_error(target: &str, source: io::Error) -> DriverError {
    use io::ErrorKind::*;
    match source.kind() {
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
            DriverError::Closed { target: target.to_string() }
        }
        _ => DriverError::Io { target: target.to_string(), source },
    }
}

fn register_of<'c>(cfg: &InstrumentConfig, c: &'c ChannelConfig) -> Result<&'c ModbusRegister> {
    c.modbus.as_ref().ok_or_else(|| {
        DriverError::Config(format!("instrument `{}`: channel `{}` needs a `modbus` register map", cfg.id, c.id))
    })
}

/// "channel `t1` (holding register 10, 2 registers)" for error messages.
fn describe(block: &ReadBlock, channels: &[&ChannelConfig]) -> String {
    let names: Vec<String> =
        block.members.iter().filter_map(|m| channels.get(*m)).map(|c| format!("`{}`", c.id)).collect();
    let plural = if names.len() == 1 { "" } else { "s" };
    let kind = protocol::kind_name(block.kind);
    let unit = if protocol::is_bit(block.kind) { "" } else { " registers" };
    if block.count == 1 {
        format!("channel{plural} {} ({kind} {})", names.join(", "), block.start)
    } else {
        format!("channel{plural} {} ({kind} {}, {}{unit})", names.join(", "), block.start, block.count)
    }
}

/// The value of one channel inside a block's data.
fn decode_member(
    data: &Data,
    block: &ReadBlock,
    ch: &ChannelConfig,
    reg: &ModbusRegister,
    sentinels: &[f64],
) -> Result<Value, MemberError> {
    let offset = usize::from(reg.address.checked_sub(block.start).ok_or(MemberError::BeforeBlock(reg.address))?);
    match data {
        Data::Bits(bits) => {
            let b = bits.get(offset).ok_or(MemberError::ShortBits { got: bits.len(), index: offset })?;
            Ok(Value::Number(ch.apply_scale(protocol::decode_bit(*b))))
        }
        Data::Words(words) => {
            let n = usize::from(protocol::span(reg));
            let slice =
                words.get(offset..offset + n).ok_or(MemberError::ShortWords { got: words.len(), need: n, offset })?;
            let raw = protocol::decode_register(slice, reg)?;
            Ok(protocol::to_value(raw, reg.data_type, sentinels, ch))
        }
    }
}

/// A read reply that does not hold a channel's registers, or registers that
/// do not decode.
#[derive(Debug, thiserror::Error)]
enum MemberError {
    #[error("address {0} is before the block")]
    BeforeBlock(u16),
    #[error("reply has {got} bits, need index {index}")]
    ShortBits { got: usize, index: usize },
    #[error("reply has {got} registers, need {need} at offset {offset}")]
    ShortWords { got: usize, need: usize, offset: usize },
    #[error(transparent)]
    Decode(#[from] protocol::DecodeError),
}

/// One requested channel this instrument has.
struct Wanted<'c> {
    /// Index into the caller's list.
    slot: usize,
    ch: &'c ChannelConfig,
    reg: &'c ModbusRegister,
}

#[async_trait]
impl Driver for ModbusDriver {
    /// The configured family: the generic one, or a family with a fixed
    /// register map that connected through [`ModbusDriver::connect_mapped`].
    fn family(&self) -> Family {
        self.cfg.family
    }

    /// Modbus has no identification query every device answers; the
    /// identity names the protocol and the unit id instead.
    async fn identify(&mut self) -> Result<Identity> {
        Ok(Identity {
            maker: "Modbus".to_string(),
            model: format!("unit {}", self.cfg.unit_id),
            serial: String::new(),
            firmware: String::new(),
        })
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        crate::config::ChannelConfig::infos(&self.cfg.channels)
    }

    async fn read_settings(&mut self) -> Result<Vec<crate::control::Setting>> {
        let ModbusDriver { cfg, conn, target, timeout, .. } = self;
        let mut link = Link { conn, unit: cfg.unit_id, target, timeout: *timeout };
        super::control::read_settings(&mut link, &cfg.settings).await
    }

    async fn write_settings(&mut self, settings: &[crate::control::Setting]) -> Result<()> {
        let ModbusDriver { cfg, conn, target, timeout, .. } = self;
        let mut link = Link { conn, unit: cfg.unit_id, target, timeout: *timeout };
        super::control::write_settings(&mut link, settings).await
    }

    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>> {
        let ModbusDriver { cfg, conn, target, timeout, health } = self;
        let mut link = Link { conn, unit: cfg.unit_id, target, timeout: *timeout };
        // Unknown ids stay NoData.
        let mut out: Vec<Reading> =
            channels.iter().map(|id| Reading::new(id.clone(), Value::Special(SpecialKind::NoData))).collect();
        let mut wanted: Vec<Wanted<'_>> = Vec::with_capacity(channels.len());
        for (slot, id) in channels.iter().enumerate() {
            if let Some(ch) = cfg.channels.iter().find(|c| &c.id == id) {
                wanted.push(Wanted { slot, ch, reg: register_of(cfg, ch)? });
            }
        }
        health.next_poll();
        // Channels read together, channels read alone, channels resting.
        let mut grouped: Vec<&Wanted<'_>> = Vec::new();
        let mut alone: Vec<&Wanted<'_>> = Vec::new();
        for w in &wanted {
            if let Some(reason) = health.resting(&w.ch.id) {
                out[w.slot] = Reading::failed(w.ch.id.clone(), reason);
            } else if health.is_alone(&w.ch.id) {
                alone.push(w);
            } else {
                grouped.push(w);
            }
        }
        let regs: Vec<&ModbusRegister> = grouped.iter().map(|w| w.reg).collect();
        let confs: Vec<&ChannelConfig> = grouped.iter().map(|w| w.ch).collect();
        for block in protocol::plan_reads(&regs) {
            let what = describe(&block, &confs);
            match link.read_block(&block, &what).await {
                Ok(data) => {
                    for m in &block.members {
                        let w = grouped[*m];
                        out[w.slot] = member_reading(&data, &block, w, &cfg.sentinels, &what);
                    }
                }
                Err(BlockError::Failed(e)) => return Err(e),
                Err(BlockError::Refused(reason)) => {
                    let members: Vec<&Wanted<'_>> = block.members.iter().map(|m| grouped[*m]).collect();
                    if let [w] = members[..] {
                        health.failed(&w.ch.id, reason.clone());
                        out[w.slot] = Reading::failed(w.ch.id.clone(), reason);
                        continue;
                    }
                    // Find the culprits: each member alone.
                    let mut any_refused = false;
                    for w in &members {
                        let (reading, refused) = read_alone(&mut link, w, &cfg.sentinels, health).await?;
                        any_refused |= refused;
                        out[w.slot] = reading;
                    }
                    if !any_refused {
                        // Each reads alone but not together: keep them apart.
                        for w in &members {
                            health.keep_alone(&w.ch.id);
                        }
                    }
                }
            }
        }
        for w in alone {
            out[w.slot] = read_alone(&mut link, w, &cfg.sentinels, health).await?.0;
        }
        Ok(out)
    }
}

/// Reads one channel in a request of its own, noting in `health` whether
/// the device refuses it (also returned). Link failures are the caller's.
async fn read_alone(
    link: &mut Link<'_>,
    w: &Wanted<'_>,
    sentinels: &[f64],
    health: &mut Health,
) -> Result<(Reading, bool)> {
    let block = ReadBlock { kind: w.reg.kind, start: w.reg.address, count: protocol::span(w.reg), members: vec![0] };
    let what = describe(&block, &[w.ch]);
    match link.read_block(&block, &what).await {
        Ok(data) => {
            health.recovered(&w.ch.id);
            Ok((member_reading(&data, &block, w, sentinels, &what), false))
        }
        Err(BlockError::Refused(reason)) => {
            health.failed(&w.ch.id, reason.clone());
            Ok((Reading::failed(w.ch.id.clone(), reason), true))
        }
        Err(BlockError::Failed(e)) => Err(e),
    }
}

/// One member's reading from a block's data: its value, or why its
/// registers do not decode (that channel only).
fn member_reading(data: &Data, block: &ReadBlock, w: &Wanted<'_>, sentinels: &[f64], what: &str) -> Reading {
    match decode_member(data, block, w.ch, w.reg, sentinels) {
        Ok(value) => Reading::new(w.ch.id.clone(), value),
        // Text that is not a number is the device's own value, not a failure.
        Err(MemberError::Decode(e @ protocol::DecodeError::NotANumber { .. })) => Reading {
            channel: w.ch.id.clone(),
            value: Value::Special(SpecialKind::Invalid),
            problem: Some(e.to_string()),
        },
        Err(e) => Reading::failed(w.ch.id.clone(), format!("read {what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataType, WordOrder};
    use crate::sim::{self, Personality, SimConfig, SimHandle, SimInstrument, expected_value};

    use meterdeck_wire::now_ms;

    async fn start(inst: SimInstrument) -> SimHandle {
        sim::start(SimConfig { instruments: vec![inst] }).await.unwrap()
    }

    fn modbus(seed: u64) -> SimInstrument {
        let mut i = SimInstrument::new("mb", Personality::Modbus);
        i.seed = seed;
        i
    }

    fn channel(id: &str, address: u16, kind: RegisterKind, data_type: DataType) -> ChannelConfig {
        let mut c = ChannelConfig::new(id);
        c.modbus = Some(ModbusRegister::new(address, kind, data_type, WordOrder::Big));
        c
    }

    fn ids(cfg: &InstrumentConfig) -> Vec<String> {
        cfg.channels.iter().map(|c| c.id.clone()).collect()
    }

    #[tokio::test]
    async fn reads_equal_the_simulators_waveforms() {
        let h = start(modbus(21)).await;
        let cfg = h.instruments[0].instrument_config();
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        assert_eq!(d.identify().await.unwrap().model, "unit 1");
        assert_eq!(d.channels().len(), 10);
        let before = now_ms();
        let readings = d.read(&ids(&cfg)).await.unwrap();
        let after = now_ms();
        assert_eq!(readings.len(), 10);
        for (k, r) in readings.iter().enumerate() {
            assert_eq!(r.channel, format!("ch{k}"));
            let v = r.value.as_number().unwrap_or_else(|| panic!("{r:?}"));
            let ok = [before, after].iter().any(|t| expected_value(21, Personality::Modbus, k, *t) == v);
            assert!(ok, "ch{k}: {v}");
        }
        h.shutdown().await;
    }

    #[tokio::test]
    async fn input_registers_coils_scale_and_unknown_channels() {
        let h = start(modbus(4)).await;
        let mut cfg = h.instruments[0].instrument_config();
        let mut input = channel("in3", 3, RegisterKind::Input, DataType::I16);
        input.scale = 0.1;
        cfg.channels.push(input);
        cfg.channels.push(channel("coil2", 2, RegisterKind::Coil, DataType::U16));
        cfg.channels.push(channel("di2", 2, RegisterKind::Discrete, DataType::U16));
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let want: Vec<String> = ["in3", "nope", "coil2", "ch3", "di2"].iter().map(|s| s.to_string()).collect();
        let before = now_ms();
        let r = d.read(&want).await.unwrap();
        let after = now_ms();
        let in3 = r[0].value.as_number().unwrap();
        let ok = [before, after].iter().any(|t| {
            let v = expected_value(4, Personality::Modbus, 3, *t);
            f64::from((v * 10.0).round() as i16) * 0.1 == in3
        });
        assert!(ok, "{in3}");
        assert_eq!(r[1].value, Value::Special(SpecialKind::NoData));
        assert_eq!(r[2].value, Value::Number(1.0)); // temperatures are > 0
        assert_eq!(r[4].value, Value::Number(1.0));
        assert!(r[3].value.as_number().is_some());
        h.shutdown().await;
    }

    #[tokio::test]
    async fn exceptions_fail_that_channel_only_naming_address_and_exception() {
        let h = start(modbus(1)).await;
        let mut cfg = h.instruments[0].instrument_config();
        cfg.channels = vec![
            channel("ok", 0, RegisterKind::Holding, DataType::F32),
            channel("far", 100, RegisterKind::Holding, DataType::F32),
        ];
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let r = d.read(&ids(&cfg)).await.unwrap();
        assert!(r[0].value.as_number().is_some() && r[0].problem.is_none(), "{r:?}");
        assert_eq!(r[1].value, Value::Special(SpecialKind::NoData));
        let msg = r[1].problem.clone().unwrap();
        assert!(msg.contains("`far`") && msg.contains("holding register 100") && msg.contains("0x02"), "{msg}");
        // Resting polls report the same reason without asking.
        let r = d.read(&ids(&cfg)).await.unwrap();
        assert_eq!(r[1].problem.as_deref(), Some(msg.as_str()));
        h.shutdown().await;
    }

    /// A register the device does not map in the middle of a block of good
    /// ones: the good ones keep their exact values, on every poll.
    #[tokio::test]
    async fn an_unmapped_register_inside_a_block_fails_alone() {
        let mut inst = modbus(9);
        let f32_at = |a| ModbusRegister::new(a, RegisterKind::Holding, DataType::F32, WordOrder::Big);
        inst.registers = Some(vec![f32_at(0), f32_at(2), f32_at(6), f32_at(8)]);
        let h = start(inst).await;
        let served = h.instruments[0].instrument_config();
        let mut cfg = served.clone();
        cfg.channels = vec![
            channel("a", 0, RegisterKind::Holding, DataType::F32),
            channel("b", 2, RegisterKind::Holding, DataType::F32),
            channel("hole", 4, RegisterKind::Holding, DataType::F32),
            channel("c", 6, RegisterKind::Holding, DataType::F32),
            channel("d", 8, RegisterKind::Holding, DataType::F32),
        ];
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        for _ in 0..4 {
            let before = now_ms();
            let r = d.read(&ids(&cfg)).await.unwrap();
            let after = now_ms();
            for (slot, k) in [(0, 0), (1, 1), (3, 2), (4, 3)] {
                let v = r[slot].value.as_number().unwrap_or_else(|| panic!("{:?}", r[slot]));
                let ok = [before, after].iter().any(|t| expected_value(9, Personality::Modbus, k, *t) == v);
                assert!(ok && r[slot].problem.is_none(), "{:?}", r[slot]);
            }
            assert_eq!(r[2].value, Value::Special(SpecialKind::NoData));
            assert!(r[2].problem.as_deref().is_some_and(|p| p.contains("`hole`") && p.contains("0x02")), "{r:?}");
        }
        h.shutdown().await;
    }

    #[tokio::test]
    async fn sentinels_and_garbage_are_invalid() {
        let mut inst = modbus(2);
        inst.faults.sentinel_every = Some(1);
        let h = start(inst).await;
        let cfg = h.instruments[0].instrument_config();
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let r = d.read(&ids(&cfg)).await.unwrap();
        assert!(r.iter().all(|r| r.value == Value::Special(SpecialKind::Invalid)), "{r:?}");
        h.shutdown().await;

        let mut inst = modbus(2);
        inst.faults.garbage_every = Some(1);
        let h = start(inst).await;
        let cfg = h.instruments[0].instrument_config();
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let r = d.read(&ids(&cfg)).await.unwrap();
        assert!(r.iter().all(|r| r.value == Value::Special(SpecialKind::Invalid)), "{r:?}");
        h.shutdown().await;
    }

    #[tokio::test]
    async fn slow_device_times_out() {
        let mut inst = modbus(3);
        inst.faults.slow = Some(Duration::from_secs(5));
        let h = start(inst).await;
        let mut cfg = h.instruments[0].instrument_config();
        if let TransportConfig::Tcp { timeout, .. } = &mut cfg.transport {
            *timeout = Duration::from_millis(100);
        }
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let err = d.read(&ids(&cfg)).await.unwrap_err();
        assert!(matches!(err, DriverError::Timeout { .. }) && err.is_link_failure(), "{err:?}");
        h.shutdown().await;
    }

    #[tokio::test]
    async fn dropped_connection_is_a_link_failure() {
        let h = start(modbus(3)).await;
        let cfg = h.instruments[0].instrument_config();
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        d.read(&ids(&cfg)).await.unwrap();
        h.instruments[0].drop_connections();
        let err = d.read(&ids(&cfg)).await.unwrap_err();
        assert!(err.is_link_failure(), "{err:?}");
        // A new connection works.
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        d.read(&ids(&cfg)).await.unwrap();
        h.shutdown().await;
    }

    #[tokio::test]
    async fn connect_errors_and_bad_configs() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut cfg = InstrumentConfig {
            id: "m".into(),
            name: None,
            family: crate::families::modbus::FAMILY,
            transport: TransportConfig::Tcp {
                host: "127.0.0.1".into(),
                port: Some(port),
                timeout: Duration::from_secs(1),
            },
            terminator: "\n".into(),
            unit_id: 7,
            error_query: None,
            error_format: None,
            select: None,
            select_reply: None,
            sentinels: vec![],
            poll_interval: None,
            enabled: true,
            set_clock_on_connect: false,
            start_on_connect: false,
            settings: Vec::new(),
            channels: vec![channel("a", 0, RegisterKind::Holding, DataType::U16)],
        };
        let err = ModbusDriver::connect(&cfg).await.unwrap_err();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
        cfg.channels = vec![channel("late", 65534, RegisterKind::Holding, DataType::F64)];
        let err = ModbusDriver::connect(&cfg).await.unwrap_err();
        assert!(matches!(&err, DriverError::Config(m) if m.contains("`late`") && m.contains("65534")), "{err:?}");
        cfg.channels = vec![ChannelConfig::new("nomap")];
        assert!(matches!(ModbusDriver::connect(&cfg).await, Err(DriverError::Config(_))));
    }

    #[tokio::test]
    async fn rtu_over_a_pty_pair() {
        let (master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let path = tokio_serial::SerialPort::name(&slave).unwrap();
        // The pair's slave holds a lock that would stop the driver opening the path.
        drop(slave);
        let mut cfg = InstrumentConfig {
            id: "rtu".into(),
            name: None,
            family: crate::families::modbus::FAMILY,
            transport: TransportConfig::Serial {
                path,
                baud: 19200,
                data_bits: 8,
                parity: crate::config::Parity::None,
                stop_bits: 1,
                timeout: Duration::from_secs(2),
            },
            terminator: "\n".into(),
            unit_id: 1,
            error_query: None,
            error_format: None,
            select: None,
            select_reply: None,
            sentinels: vec![],
            poll_interval: None,
            enabled: true,
            set_clock_on_connect: false,
            start_on_connect: false,
            settings: Vec::new(),
            channels: (0..4).map(|k| channel(&format!("ch{k}"), 2 * k, RegisterKind::Holding, DataType::F32)).collect(),
        };
        cfg.channels.push(channel("in1", 1, RegisterKind::Input, DataType::I16));
        let mut d = ModbusDriver::connect(&cfg).await.unwrap();
        let server = tokio::spawn(sim::serve_modbus_rtu_for_tests(master, modbus(6)));
        let before = now_ms();
        let r = d.read(&ids(&cfg)).await.unwrap();
        let after = now_ms();
        for (k, reading) in r.iter().take(4).enumerate() {
            let v = reading.value.as_number().unwrap();
            assert!([before, after].iter().any(|t| expected_value(6, Personality::Modbus, k, *t) == v), "ch{k} {v}");
        }
        assert!(r[4].value.as_number().is_some());
        server.abort();
    }

    /// Two instruments (units 1 and 7) on one serial port: both connect (the
    /// port is opened once), their concurrent reads take turns and each gets
    /// whole, correct replies; a third asking for another baud rate is
    /// refused naming the port.
    #[tokio::test]
    async fn two_units_share_one_serial_port() {
        let (master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let path = tokio_serial::SerialPort::name(&slave).unwrap();
        drop(slave);
        let cfg = |id: &str, unit: u8, baud: u32| InstrumentConfig {
            id: id.into(),
            name: None,
            family: crate::families::modbus::FAMILY,
            transport: TransportConfig::Serial {
                path: path.clone(),
                baud,
                data_bits: 8,
                parity: crate::config::Parity::None,
                stop_bits: 1,
                timeout: Duration::from_secs(2),
            },
            terminator: "\n".into(),
            unit_id: unit,
            error_query: None,
            error_format: None,
            select: None,
            select_reply: None,
            sentinels: vec![],
            poll_interval: None,
            enabled: true,
            set_clock_on_connect: false,
            start_on_connect: false,
            settings: Vec::new(),
            channels: (0..3).map(|k| channel(&format!("ch{k}"), 2 * k, RegisterKind::Holding, DataType::F32)).collect(),
        };
        let (a, b) = (cfg("a", 1, 19200), cfg("b", 7, 19200));
        let mut da = ModbusDriver::connect(&a).await.unwrap();
        let mut db = ModbusDriver::connect(&b).await.unwrap();
        let err = ModbusDriver::connect(&cfg("c", 2, 9600)).await.unwrap_err();
        assert!(matches!(&err, DriverError::Config(m) if m.contains("already open at 19200")), "{err:?}");
        let server = tokio::spawn(sim::serve_modbus_rtu_for_tests(master, modbus(11)));
        let (ia, ib) = (ids(&a), ids(&b));
        for _ in 0..10 {
            let before = now_ms();
            let (ra, rb) = tokio::join!(da.read(&ia), db.read(&ib));
            let after = now_ms();
            for r in [ra.unwrap(), rb.unwrap()] {
                for (k, reading) in r.iter().enumerate() {
                    let v = reading.value.as_number().unwrap_or_else(|| panic!("{reading:?}"));
                    let ok = [before, after].iter().any(|t| expected_value(11, Personality::Modbus, k, *t) == v);
                    assert!(ok, "ch{k}: {v}");
                }
            }
        }
        server.abort();
    }
}
