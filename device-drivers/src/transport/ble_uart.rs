//! The Nordic UART Service as a byte stream: bytes written go to the RX
//! characteristic in pieces no longer than one ATT write, notifications from
//! TX come back as bytes read. A `LineConnection` runs over it like over TCP,
//! so the SCPI and Hioki families work over Bluetooth unchanged.

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use uuid::Uuid;

use super::ble::BleLink;
use crate::config::TransportConfig;
use crate::error::{DriverError, Result};

/// The Nordic UART Service and its two characteristics.
pub const NUS_SERVICE: Uuid = Uuid::from_u128(0x6e400001_b5a3_f393_e0a9_e50e24dcca9e);
/// Central -> device (we write here).
pub const NUS_RX: Uuid = Uuid::from_u128(0x6e400002_b5a3_f393_e0a9_e50e24dcca9e);
/// Device -> central (it notifies here).
pub const NUS_TX: Uuid = Uuid::from_u128(0x6e400003_b5a3_f393_e0a9_e50e24dcca9e);

/// Bytes per write: the default ATT MTU (23) less its 3-byte header. BlueZ
/// does not tell btleplug the negotiated MTU, and every device takes this.
pub const WRITE_CHUNK: usize = 20;

/// Room for replies the line connection has not read yet.
const PIPE: usize = 64 * 1024;

/// Connects the bridge of a `ble-uart` transport. The returned stream ends
/// (reads 0 bytes) when the device disconnects; dropping it disconnects.
pub async fn open(transport: &TransportConfig, target: String) -> Result<DuplexStream> {
    let link = BleLink::open(transport, target, &[NUS_SERVICE]).await?;
    let missing = |what: &str| DriverError::Connect {
        target: link.target().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the device has no Nordic UART {what} characteristic"),
        ),
    };
    let rx = link.characteristic(NUS_SERVICE, NUS_RX).ok_or_else(|| missing("RX (6E400002)"))?;
    let tx = link.characteristic(NUS_SERVICE, NUS_TX).ok_or_else(|| missing("TX (6E400003)"))?;
    let mut notes = link.notifications().await?;
    link.subscribe(&tx).await?;
    let (near, far) = tokio::io::duplex(PIPE);
    tokio::spawn(async move {
        let (mut from_line, mut to_line) = tokio::io::split(far);
        let mut lost = link.lost();
        let mut buf = [0u8; 1024];
        loop {
            if link.check().is_err() {
                break;
            }
            tokio::select! {
                n = from_line.read(&mut buf) => {
                    let Ok(n @ 1..) = n else { break };
                    let mut failed = false;
                    for piece in buf[..n].chunks(WRITE_CHUNK) {
                        if let Err(e) = link.write(&rx, piece).await {
                            tracing::warn!("{}: UART write failed: {e}", link.target());
                            failed = true;
                            break;
                        }
                    }
                    if failed {
                        break;
                    }
                }
                note = notes.next() => match note {
                    Some(note) if note.uuid == NUS_TX => {
                        if to_line.write_all(&note.value).await.is_err() {
                            break;
                        }
                    }
                    Some(_) => {}
                    None => break,
                },
                // Only ever set to true: any change is the device going away.
                _ = lost.changed() => break,
            }
        }
        // Dropping `far` (and the link) ends the line connection's stream: `Closed`.
    });
    Ok(near)
}
