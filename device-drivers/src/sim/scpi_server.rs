//! The line server behind every SCPI personality: one task per connection,
//! lines split on `\n` (an optional `\r` before it is echoed back in the
//! reply terminator), slow and garbage faults applied to replies, the
//! connection closed when the instrument's drop switch fires.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::faults::garbage_into;
use super::matcher::Entry;
use super::session::{self, Cmd, Reply, SYNTAX_ERROR, Session};
use super::state::InstrumentState;

/// A longer line is discarded (and counted as a syntax error).
const MAX_LINE: usize = 64 * 1024;

/// What every connection to one SCPI instrument shares.
pub(crate) struct ScpiInstrument {
    pub state: Arc<InstrumentState>,
    table: Vec<Entry<Cmd>>,
    idn: String,
}

impl ScpiInstrument {
    pub(crate) fn new(state: Arc<InstrumentState>) -> ScpiInstrument {
        let table = session::table(state.personality, state.channel_count());
        let idn = session::identity(state.personality, state.seed);
        ScpiInstrument { state, table, idn }
    }
}

/// Why a connection loop ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The peer closed the connection (or it failed).
    Closed,
    /// The instrument's drop switch fired (fault or shutdown).
    Dropped,
}

/// Accepts connections until the simulator shuts down; dropping the
/// `JoinSet` then aborts every connection task still running.
pub(crate) async fn serve_tcp(listener: TcpListener, inst: Arc<ScpiInstrument>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(instrument = %inst.state.name, %peer, "connection accepted");
                    let token = inst.state.drops.token();
                    let inst = Arc::clone(&inst);
                    conns.spawn(async move {
                        let mut stream = stream;
                        let end = serve_connection(&mut stream, &inst, &token).await;
                        tracing::debug!(instrument = %inst.state.name, %peer, ?end, "connection closed");
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(instrument = %inst.state.name, "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            () = inst.state.drops.shutdown_requested() => return,
        }
    }
}

/// Serves one connection (TCP stream or pty master) until it closes or
/// `drop` is cancelled.
pub(crate) async fn serve_connection<S>(stream: &mut S, inst: &ScpiInstrument, drop: &CancellationToken) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let state = &*inst.state;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut session = Session::default();
    let mut reply = Reply::default();
    let mut out = String::with_capacity(256);
    loop {
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let (line, crlf) = match buf[..pos].strip_suffix(b"\r") {
                Some(l) => (l, true),
                None => (&buf[..pos], false),
            };
            reply.clear();
            match std::str::from_utf8(line) {
                Ok(line) => session.process_line(state, &inst.table, &inst.idn, line, &mut reply),
                Err(_) => session.push_error(SYNTAX_ERROR),
            }
            buf.drain(..=pos);
            if reply.is_empty() {
                continue;
            }
            if let Some(delay) = state.slow() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = drop.cancelled() => return End::Dropped,
                }
            }
            out.clear();
            match reply.data.then(|| state.garbage_for_next_reply()).flatten() {
                Some(salt) => garbage_into(&reply.text, salt, &mut out),
                None => out.push_str(&reply.text),
            }
            out.push_str(if crlf { "\r\n" } else { "\n" });
            tokio::select! {
                r = stream.write_all(out.as_bytes()) => if r.is_err() { return End::Closed },
                () = drop.cancelled() => return End::Dropped,
            }
        }
        if drop.is_cancelled() {
            return End::Dropped;
        }
        if buf.len() > MAX_LINE {
            buf.clear();
            session.push_error(SYNTAX_ERROR);
        }
        tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => return End::Closed,
                Ok(_) => {}
            },
            () = drop.cancelled() => return End::Dropped,
        }
    }
}
