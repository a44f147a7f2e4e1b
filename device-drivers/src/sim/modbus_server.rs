//! The Modbus TCP personality (tokio-modbus server). Layout for channel k
//! (0-based): holding registers 2k,2k+1 = f32 value, big word order (ABCD);
//! input register k = i16 of round(value*10); coil k and discrete input k =
//! value > 0. Values follow the waveforms at request time. A sentinel reads
//! as an f32 NaN / i16::MIN / false; a garbage reply has every register
//! 0xFFFF (an f32 NaN).
//!
//! With a register map (`SimInstrument::registers`) channel k is served at
//! its map entry instead, encoded here (not by the drivers' code) in its
//! data type and word order, integers rounded; an address outside the map
//! answers exception 0x02, as a meter with a fixed map does.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::Server;
use tokio_modbus::{ExceptionCode, Request, Response};

use super::config::register_span;
use super::faults::Killable;
use super::settings;
use super::state::{InstrumentState, SimValue, now_ms};
use crate::config::{DataType, ModbusRegister, RegisterKind};
use crate::families::modbus::protocol;

/// Modbus limits per request (registers / bits).
const MAX_REGISTERS: usize = 125;
const MAX_BITS: usize = 2000;

pub(crate) struct ModbusService {
    state: Arc<InstrumentState>,
}

impl ModbusService {
    pub(crate) fn new(state: Arc<InstrumentState>) -> ModbusService {
        ModbusService { state }
    }
}

type Reply = Pin<Box<dyn Future<Output = Result<Response, ExceptionCode>> + Send>>;

impl Service for ModbusService {
    type Request = Request<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Reply;

    fn call(&self, req: Self::Request) -> Self::Future {
        let result = respond(&self.state, &req, now_ms());
        match self.state.slow() {
            Some(delay) => Box::pin(async move {
                tokio::time::sleep(delay).await;
                result
            }),
            None => Box::pin(std::future::ready(result)),
        }
    }
}

/// Requests for the settings registers (`settings::MODBUS_BASE..`), which
/// keep what is written; `None` for every other request.
fn respond_settings(state: &InstrumentState, req: &Request<'_>) -> Option<Result<Response, ExceptionCode>> {
    let bank = |addr: u16, qty: usize| -> Result<usize, ExceptionCode> {
        let first = settings::modbus_index(addr).ok_or(ExceptionCode::IllegalDataAddress)?;
        if qty == 0 || first + qty > settings::MODBUS_DEFAULTS.len() {
            return Err(ExceptionCode::IllegalDataAddress);
        }
        Ok(first)
    };
    let in_bank = |addr: u16| settings::modbus_index(addr).is_some();
    Some(match req {
        Request::ReadHoldingRegisters(addr, qty) if in_bank(*addr) => bank(*addr, usize::from(*qty)).map(|first| {
            let words = (first..first + usize::from(*qty)).filter_map(|i| state.modbus_setting(i)).collect();
            Response::ReadHoldingRegisters(words)
        }),
        Request::WriteSingleRegister(addr, value) if in_bank(*addr) => bank(*addr, 1).and_then(|i| {
            if *value > settings::MODBUS_MAX {
                return Err(ExceptionCode::IllegalDataValue);
            }
            state.set_modbus_setting(i, *value);
            Ok(Response::WriteSingleRegister(*addr, *value))
        }),
        Request::WriteMultipleRegisters(addr, words) if in_bank(*addr) => bank(*addr, words.len()).and_then(|first| {
            if words.iter().any(|w| *w > settings::MODBUS_MAX) {
                return Err(ExceptionCode::IllegalDataValue);
            }
            for (k, w) in words.iter().enumerate() {
                state.set_modbus_setting(first + k, *w);
            }
            Ok(Response::WriteMultipleRegisters(*addr, u16::try_from(words.len()).unwrap_or(u16::MAX)))
        }),
        _ => return None,
    })
}

/// Checks quantity and range: `len` items exist at addresses `0..len`.
fn check_range(addr: u16, qty: u16, max_qty: usize, len: usize) -> Result<(usize, usize), ExceptionCode> {
    let (start, qty) = (usize::from(addr), usize::from(qty));
    if qty == 0 || qty > max_qty {
        return Err(ExceptionCode::IllegalDataValue);
    }
    if start + qty > len {
        return Err(ExceptionCode::IllegalDataAddress);
    }
    Ok((start, start + qty))
}

/// The response to one request, as a pure function of state and time.
pub(crate) fn respond(state: &InstrumentState, req: &Request<'_>, now: i64) -> Result<Response, ExceptionCode> {
    if let Some(reply) = respond_settings(state, req) {
        return reply;
    }
    if let Some(map) = &state.registers {
        return respond_mapped(state, map, req, now);
    }
    let n = state.channel_count();
    match *req {
        Request::ReadHoldingRegisters(addr, qty) => {
            let (start, end) = check_range(addr, qty, MAX_REGISTERS, 2 * n)?;
            let garbage = state.garbage_for_next_reply().is_some();
            let mut words = Vec::with_capacity(end - start);
            for k in start / 2..end.div_ceil(2) {
                let bits = match state.read(k, now) {
                    SimValue::Number { value, .. } => (value as f32).to_bits(),
                    SimValue::Sentinel(_) => f32::NAN.to_bits(),
                };
                for (reg, word) in [(2 * k, (bits >> 16) as u16), (2 * k + 1, bits as u16)] {
                    if (start..end).contains(&reg) {
                        words.push(if garbage { 0xFFFF } else { word });
                    }
                }
            }
            Ok(Response::ReadHoldingRegisters(words))
        }
        Request::ReadInputRegisters(addr, qty) => {
            let (start, end) = check_range(addr, qty, MAX_REGISTERS, n)?;
            let garbage = state.garbage_for_next_reply().is_some();
            let words = (start..end)
                .map(|k| match state.read(k, now) {
                    _ if garbage => 0xFFFF,
                    // `as` saturates: out-of-range values clamp to the i16 limits.
                    SimValue::Number { value, .. } => (value * 10.0).round() as i16 as u16,
                    SimValue::Sentinel(_) => i16::MIN as u16,
                })
                .collect();
            Ok(Response::ReadInputRegisters(words))
        }
        Request::ReadCoils(addr, qty) | Request::ReadDiscreteInputs(addr, qty) => {
            let (start, end) = check_range(addr, qty, MAX_BITS, n)?;
            let bits = (start..end)
                .map(|k| matches!(state.read(k, now), SimValue::Number { value, .. } if value > 0.0))
                .collect();
            Ok(match req {
                Request::ReadCoils(..) => Response::ReadCoils(bits),
                _ => Response::ReadDiscreteInputs(bits),
            })
        }
        _ => Err(ExceptionCode::IllegalFunction),
    }
}

/// The words of one value as a device with this register layout sends them:
/// most significant word first, reversed for little word order. A sentinel
/// is NaN for floats and the type's extreme for integers.
fn words_of(value: SimValue, reg: &ModbusRegister) -> Vec<u16> {
    let number = match value {
        SimValue::Number { value, .. } => Some(value),
        SimValue::Sentinel(_) => None,
    };
    let sentinel = match reg.data_type {
        DataType::U16 | DataType::Bit | DataType::String => f64::from(u16::MAX),
        DataType::I16 => f64::from(i16::MIN),
        DataType::U32 => f64::from(u32::MAX),
        DataType::I32 => f64::from(i32::MIN),
        DataType::U64 => u64::MAX as f64,
        DataType::I64 => i64::MIN as f64,
        DataType::F32 | DataType::F64 => f64::NAN,
        DataType::Bcd16 => 9999.0,
        DataType::Bcd32 => 99_999_999.0,
    };
    let v = number.map_or(sentinel, |v| if reg.data_type.is_float() { v } else { v.round() });
    let mut words = protocol::encode(v, reg.data_type, reg.word_order);
    words.resize(usize::from(protocol::span(reg)), 0);
    words
}

/// [`respond`] for a device serving a register map.
fn respond_mapped(
    state: &InstrumentState,
    map: &[ModbusRegister],
    req: &Request<'_>,
    now: i64,
) -> Result<Response, ExceptionCode> {
    let (kind, addr, qty) = match *req {
        Request::ReadHoldingRegisters(a, q) => (RegisterKind::Holding, a, q),
        Request::ReadInputRegisters(a, q) => (RegisterKind::Input, a, q),
        Request::ReadCoils(a, q) => (RegisterKind::Coil, a, q),
        Request::ReadDiscreteInputs(a, q) => (RegisterKind::Discrete, a, q),
        _ => return Err(ExceptionCode::IllegalFunction),
    };
    let is_bits = matches!(kind, RegisterKind::Coil | RegisterKind::Discrete);
    if qty == 0 || usize::from(qty) > if is_bits { MAX_BITS } else { MAX_REGISTERS } {
        return Err(ExceptionCode::IllegalDataValue);
    }
    let start = u32::from(addr);
    let end = start + u32::from(qty);
    // The channel covering each address, all mapped or the request fails.
    let mut cover = Vec::with_capacity(usize::from(qty));
    for a in start..end {
        let hit = map.iter().enumerate().find(|(_, r)| {
            let first = u32::from(r.address);
            r.kind == kind && (first..first + register_span(r)).contains(&a)
        });
        let (k, reg) = hit.ok_or(ExceptionCode::IllegalDataAddress)?;
        cover.push((a, k, reg));
    }
    if is_bits {
        let bits =
            cover.iter().map(|(_, k, _)| matches!(state.read(*k, now), SimValue::Number { value, .. } if value > 0.0));
        return Ok(match kind {
            RegisterKind::Coil => Response::ReadCoils(bits.collect()),
            _ => Response::ReadDiscreteInputs(bits.collect()),
        });
    }
    let garbage = state.garbage_for_next_reply().is_some();
    // One reading per channel and request, however many of its words are asked for.
    let mut encoded: Vec<(usize, Vec<u16>)> = Vec::new();
    let mut words = Vec::with_capacity(cover.len());
    for (a, k, reg) in cover {
        let pos = match encoded.iter().position(|(c, _)| *c == k) {
            Some(p) => p,
            None => {
                encoded.push((k, words_of(state.read(k, now), reg)));
                encoded.len() - 1
            }
        };
        let word = encoded[pos].1.get((a - u32::from(reg.address)) as usize).copied().unwrap_or(0);
        words.push(if garbage { 0xFFFF } else { word });
    }
    Ok(match kind {
        RegisterKind::Input => Response::ReadInputRegisters(words),
        _ => Response::ReadHoldingRegisters(words),
    })
}

/// Serves Modbus TCP until the simulator shuts down. Connections are
/// wrapped so the drop switch can close them.
pub(crate) async fn serve(listener: TcpListener, state: Arc<InstrumentState>) {
    let server = Server::new(listener);
    let on_connected = |stream: TcpStream, peer: SocketAddr| {
        let state = Arc::clone(&state);
        async move {
            let _ = stream.set_nodelay(true);
            tracing::debug!(instrument = %state.name, %peer, "modbus connection accepted");
            let transport = Killable::new(stream, state.drops.token());
            Ok::<_, std::io::Error>(Some((ModbusService::new(state), transport)))
        }
    };
    let name = state.name.clone();
    let on_error = move |e: std::io::Error| tracing::debug!(instrument = %name, "modbus connection ended: {e}");
    loop {
        tokio::select! {
            r = server.serve(&on_connected, on_error.clone()) => {
                // Only accept() fails here (e.g. out of descriptors): back off and go on.
                if let Err(e) = r {
                    tracing::warn!(instrument = %state.name, "modbus accept failed: {e}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            () = state.drops.shutdown_requested() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WordOrder;
    use crate::sim::config::{Faults, Personality, SimInstrument};
    use crate::sim::waveform::expected_value;
    use tokio_util::sync::CancellationToken;

    const T: i64 = 1_790_000_123_000;

    fn state(faults: Faults) -> InstrumentState {
        let mut cfg = SimInstrument::new("mb", Personality::Modbus);
        cfg.seed = 11;
        cfg.faults = faults;
        InstrumentState::new(&cfg, CancellationToken::new())
    }

    #[test]
    fn holding_registers_carry_f32_abcd() {
        let s = state(Faults::default());
        let Ok(Response::ReadHoldingRegisters(w)) = respond(&s, &Request::ReadHoldingRegisters(2, 4), T) else {
            panic!("no registers")
        };
        for (i, k) in [1usize, 2].iter().enumerate() {
            let v = f32::from_bits((u32::from(w[2 * i]) << 16) | u32::from(w[2 * i + 1]));
            assert_eq!(v, expected_value(11, Personality::Modbus, *k, T) as f32);
        }
        // An odd start reads the low word of channel 0.
        let Ok(Response::ReadHoldingRegisters(w)) = respond(&s, &Request::ReadHoldingRegisters(1, 1), T) else {
            panic!("no registers")
        };
        let bits = (expected_value(11, Personality::Modbus, 0, T) as f32).to_bits();
        assert_eq!(w, [bits as u16]);
    }

    #[test]
    fn input_registers_coils_and_exceptions() {
        let s = state(Faults::default());
        let Ok(Response::ReadInputRegisters(w)) = respond(&s, &Request::ReadInputRegisters(0, 10), T) else {
            panic!("no registers")
        };
        let v0 = expected_value(11, Personality::Modbus, 0, T);
        assert_eq!(w[0] as i16, (v0 * 10.0).round() as i16);
        assert!(
            matches!(respond(&s, &Request::ReadCoils(0, 10), T), Ok(Response::ReadCoils(b)) if b.len() == 10 && b[0])
        );
        assert_eq!(
            respond(&s, &Request::ReadHoldingRegisters(19, 2), T).err(),
            Some(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(respond(&s, &Request::ReadInputRegisters(0, 0), T).err(), Some(ExceptionCode::IllegalDataValue));
        assert_eq!(
            respond(&s, &Request::ReadDiscreteInputs(65535, 2), T).err(),
            Some(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(respond(&s, &Request::WriteSingleRegister(0, 1), T).err(), Some(ExceptionCode::IllegalFunction));
    }

    #[test]
    fn settings_registers_keep_what_is_written() {
        let s = state(Faults::default());
        let read = |s: &InstrumentState| respond(s, &Request::ReadHoldingRegisters(1000, 4), T).unwrap();
        assert_eq!(read(&s), Response::ReadHoldingRegisters(settings::MODBUS_DEFAULTS.to_vec()));
        assert_eq!(respond(&s, &Request::WriteSingleRegister(1001, 7), T), Ok(Response::WriteSingleRegister(1001, 7)));
        let words = std::borrow::Cow::Owned(vec![20, 30]);
        respond(&s, &Request::WriteMultipleRegisters(1002, words), T).unwrap();
        assert_eq!(read(&s), Response::ReadHoldingRegisters(vec![10, 7, 20, 30]));
        assert_eq!(
            respond(&s, &Request::WriteSingleRegister(1000, 10_000), T).err(),
            Some(ExceptionCode::IllegalDataValue)
        );
        assert_eq!(
            respond(&s, &Request::ReadHoldingRegisters(1003, 2), T).err(),
            Some(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(read(&s), Response::ReadHoldingRegisters(vec![10, 7, 20, 30]));
    }

    fn mapped(faults: Faults) -> InstrumentState {
        let reg = |address, kind, data_type, word_order| ModbusRegister::new(address, kind, data_type, word_order);
        let mut cfg = SimInstrument::new("meter", Personality::Modbus);
        cfg.seed = 5;
        cfg.faults = faults;
        cfg.registers = Some(vec![
            reg(0, RegisterKind::Input, DataType::F32, WordOrder::Big),
            reg(2, RegisterKind::Input, DataType::F32, WordOrder::Little),
            reg(10, RegisterKind::Input, DataType::F64, WordOrder::Big),
            reg(0, RegisterKind::Holding, DataType::I16, WordOrder::Big),
            reg(3, RegisterKind::Coil, DataType::U16, WordOrder::Big),
        ]);
        InstrumentState::new(&cfg, CancellationToken::new())
    }

    #[test]
    fn register_maps_serve_each_channel_in_its_layout() {
        let s = mapped(Faults::default());
        let v = |k| expected_value(5, Personality::Modbus, k, T);
        let Ok(Response::ReadInputRegisters(w)) = respond(&s, &Request::ReadInputRegisters(0, 4), T) else {
            panic!("no registers")
        };
        assert_eq!(f32::from_bits((u32::from(w[0]) << 16) | u32::from(w[1])), v(0) as f32);
        assert_eq!(f32::from_bits((u32::from(w[3]) << 16) | u32::from(w[2])), v(1) as f32);
        let Ok(Response::ReadInputRegisters(w)) = respond(&s, &Request::ReadInputRegisters(10, 4), T) else {
            panic!("no registers")
        };
        let bits = w.iter().fold(0u64, |acc, x| (acc << 16) | u64::from(*x));
        assert_eq!(f64::from_bits(bits), v(2));
        let Ok(Response::ReadHoldingRegisters(w)) = respond(&s, &Request::ReadHoldingRegisters(0, 1), T) else {
            panic!("no registers")
        };
        assert_eq!(w[0] as i16, v(3).round() as i16);
        assert_eq!(respond(&s, &Request::ReadCoils(3, 1), T), Ok(Response::ReadCoils(vec![v(4) > 0.0])));
        // Gaps and other tables are not mapped.
        for req in
            [Request::ReadInputRegisters(4, 1), Request::ReadInputRegisters(2, 3), Request::ReadHoldingRegisters(1, 1)]
        {
            assert_eq!(respond(&s, &req, T).err(), Some(ExceptionCode::IllegalDataAddress), "{req:?}");
        }
        assert_eq!(respond(&s, &Request::ReadInputRegisters(0, 0), T).err(), Some(ExceptionCode::IllegalDataValue));
    }

    #[test]
    fn register_maps_serve_sentinels_and_garbage() {
        let s = mapped(Faults { sentinel_every: Some(1), ..Faults::default() });
        let Ok(Response::ReadInputRegisters(w)) = respond(&s, &Request::ReadInputRegisters(0, 2), T) else {
            panic!("no registers")
        };
        assert!(f32::from_bits((u32::from(w[0]) << 16) | u32::from(w[1])).is_nan());
        assert_eq!(
            respond(&s, &Request::ReadHoldingRegisters(0, 1), T),
            Ok(Response::ReadHoldingRegisters(vec![0x8000]))
        );
        let s = mapped(Faults { garbage_every: Some(1), ..Faults::default() });
        assert_eq!(
            respond(&s, &Request::ReadInputRegisters(0, 2), T),
            Ok(Response::ReadInputRegisters(vec![0xFFFF; 2]))
        );
    }

    #[test]
    fn sentinels_and_garbage() {
        let s = state(Faults { sentinel_every: Some(1), ..Faults::default() });
        let Ok(Response::ReadHoldingRegisters(w)) = respond(&s, &Request::ReadHoldingRegisters(0, 2), T) else {
            panic!("no registers")
        };
        assert!(f32::from_bits((u32::from(w[0]) << 16) | u32::from(w[1])).is_nan());
        let s = state(Faults { garbage_every: Some(1), ..Faults::default() });
        assert!(
            matches!(respond(&s, &Request::ReadInputRegisters(0, 3), T), Ok(Response::ReadInputRegisters(w)) if w == [0xFFFF; 3])
        );
    }
}
