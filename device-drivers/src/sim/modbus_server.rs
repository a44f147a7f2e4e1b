//! The Modbus TCP personality (tokio-modbus server). Layout for channel k
//! (0-based): holding registers 2k,2k+1 = f32 value, big word order (ABCD);
//! input register k = i16 of round(value*10); coil k and discrete input k =
//! value > 0. Values follow the waveforms at request time. A sentinel reads
//! as an f32 NaN / i16::MIN / false; a garbage reply has every register
//! 0xFFFF (an f32 NaN).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::Server;
use tokio_modbus::{ExceptionCode, Request, Response};

use super::faults::Killable;
use super::state::{InstrumentState, SimValue, now_ms};

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
