//! The serial SCPI instrument: a pty pair; the simulator serves the master
//! side and a driver opens the slave's `/dev/pts/N` path like any serial port.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncReadExt;
use tokio_serial::{SerialPort, SerialStream};

use super::scpi_server::{End, ScpiInstrument, serve_connection};

/// How long a "dropped" serial line stays silent (a cable pulled and put back).
const DROP_SILENCE: Duration = Duration::from_secs(1);

pub(crate) struct Pty {
    master: SerialStream,
    pub path: PathBuf,
}

/// Creates the pair and closes the slave side again: it holds a `flock`
/// that would stop a driver from opening the path. While no driver has the
/// slave open the master reads fail (EIO), which `serve` waits out; when the
/// last driver closes it the kernel drops whatever was still queued, like a
/// freshly plugged cable.
pub(crate) fn open() -> anyhow::Result<Pty> {
    let (master, slave) = SerialStream::pair().context("cannot create a pty pair")?;
    let path = slave.name().map(PathBuf::from).context("the pty has no slave path")?;
    drop(slave);
    Ok(Pty { master, path })
}

/// Serves SCPI on the master until the simulator shuts down. A drop fault cannot
/// close a serial line: it discards what arrives, resets the session and
/// stays silent for a moment.
pub(crate) async fn serve(mut pty: Pty, inst: Arc<ScpiInstrument>) {
    while !inst.state.drops.shut_down() {
        let token = inst.state.drops.token();
        match serve_connection(&mut pty.master, &inst, &token).await {
            End::Dropped => {
                tracing::info!(instrument = %inst.state.name, "serial line dropped");
                discard_for(&mut pty.master, DROP_SILENCE).await;
            }
            // No driver has the slave open (EIO) or a transient error: retry soon.
            End::Closed => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn discard_for(master: &mut SerialStream, d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    let mut sink = [0u8; 256];
    loop {
        match tokio::time::timeout_at(deadline, master.read(&mut sink)).await {
            Err(_) => return,
            Ok(Ok(n)) if n > 0 => {}
            // EOF / error: nothing more to discard, just wait out the silence.
            Ok(_) => {
                tokio::time::sleep_until(deadline).await;
                return;
            }
        }
    }
}
