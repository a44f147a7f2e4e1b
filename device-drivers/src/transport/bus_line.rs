//! Line-based devices (SCPI, Hioki) addressed on a shared serial line. The
//! [`LineConnection`](super::LineConnection) of such a device reads and
//! writes through a [`LeaseSlot`]: empty between exchanges, holding the
//! [`SerialBus`] lease during one. Each query (or command) takes the port,
//! sends the device's `select` command first, then the query and its reply,
//! and lets go: a slow device or a reply timeout holds the others up for one
//! query, never a whole poll, and a device that lost its addressing (power
//! cycle) is addressed again on the very next query.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::serial_bus::{PortLease, SerialBus};

/// The command that addresses one device on the line, and its reply if it
/// gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Select {
    pub command: String,
    pub reply: Option<String>,
}

/// The device's seat on a shared line: the bus, its address command, and
/// the slot the connection's stream reads through.
#[derive(Debug)]
pub struct BusSeat {
    pub bus: Arc<SerialBus>,
    pub select: Option<Select>,
    pub slot: LeaseSlot,
}

/// The port while this device holds it, nothing otherwise.
#[derive(Clone, Default)]
pub struct LeaseSlot(Arc<Mutex<Option<PortLease>>>);

impl std::fmt::Debug for LeaseSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeaseSlot")
    }
}

impl LeaseSlot {
    /// Puts `lease` in the slot until the returned turn is dropped.
    pub fn hold(&self, lease: PortLease) -> Turn {
        *self.lock() = Some(lease);
        Turn(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<PortLease>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with<T>(&self, f: impl FnOnce(Pin<&mut PortLease>) -> Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match self.lock().as_mut() {
            Some(lease) => f(Pin::new(lease)),
            None => Poll::Ready(Err(io::Error::new(io::ErrorKind::NotConnected, "the shared serial port is not held"))),
        }
    }
}

/// One exchange's hold on the port; dropping it hands the port on.
pub struct Turn(LeaseSlot);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.lock().take();
    }
}

impl AsyncRead for LeaseSlot {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.with(|lease| lease.poll_read(cx, buf))
    }
}

impl AsyncWrite for LeaseSlot {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.with(|lease| lease.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|lease| lease.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|lease| lease.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Two addressed devices at the far end of a pty: `ADR n` selects one
    /// (it answers `OK`), then only it answers `V?` with `n`, each reply
    /// after `delay`.
    async fn two_devices(port: tokio_serial::SerialStream, delay: std::time::Duration) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (rd, mut wr) = tokio::io::split(port);
        let mut lines = BufReader::new(rd).lines();
        let mut selected = None;
        while let Ok(Some(line)) = lines.next_line().await {
            let reply = match line.trim() {
                "ADR 6" | "ADR 7" => {
                    selected = line.trim().strip_prefix("ADR ").map(str::to_string);
                    Some("OK".to_string())
                }
                "V?" => selected.clone(),
                _ => None,
            };
            if let Some(reply) = reply {
                tokio::time::sleep(delay).await;
                wr.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
            }
        }
    }

    /// Each query is addressed and answered whole, however the two
    /// instruments' queries overlap; a turn takes longer than the reply
    /// timeout (two replies of 150 ms against 250 ms), so a wait for the
    /// port counted against it would fail.
    #[tokio::test]
    async fn addressed_devices_take_turns_and_waiting_is_not_a_timeout() {
        use crate::config::{Parity, TransportConfig};
        use std::time::Duration;
        let (master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let path = tokio_serial::SerialPort::name(&slave).unwrap();
        drop(slave);
        let transport = TransportConfig::Serial {
            path,
            baud: 19200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            timeout: Duration::from_millis(250),
        };
        let select = |n: u8| Some(Select { command: format!("ADR {n}"), reply: Some("OK".into()) });
        let family = crate::families::scpi::FAMILY;
        let mut six = super::super::connect(&transport, family, "\n", select(6)).await.unwrap();
        let mut seven = super::super::connect(&transport, family, "\n", select(7)).await.unwrap();
        let peer = tokio::spawn(two_devices(master, Duration::from_millis(150)));
        for _ in 0..3 {
            let (a, b) = tokio::join!(six.query("V?"), seven.query("V?"));
            assert_eq!((a.unwrap().as_str(), b.unwrap().as_str()), ("6", "7"));
        }
        peer.abort();
    }

    #[tokio::test]
    async fn an_empty_slot_refuses_reads_instead_of_waiting() {
        let mut slot = LeaseSlot::default();
        let mut buf = [0u8; 4];
        let e = slot.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotConnected);
    }
}
