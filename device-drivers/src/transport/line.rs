//! A line-oriented connection: commands go out as one line each, replies come
//! back as one line each. Timeouts, size caps and stale-input draining live
//! here so that no protocol has to think about them.

use std::io;
use std::time::Duration;

use futures::FutureExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use std::sync::Arc;

use super::ByteStream;
use super::bus_line::{BusSeat, LeaseSlot, Select, Turn};
use super::serial_bus::SerialBus;
use crate::error::{DriverError, Result};

/// Longest reply line accepted; a longer one is a `BadReply`, never
/// unbounded memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Bytes discarded per drain at most, so a flooding peer cannot keep us there.
const MAX_DRAIN: usize = 1024 * 1024;

/// How much of an oversized or unreadable reply an error message quotes.
const QUOTE_LEN: usize = 120;

pub struct LineConnection {
    stream: Box<dyn ByteStream>,
    target: String,
    terminator: Vec<u8>,
    /// The byte a reply line ends with (the terminator's last byte), so that
    /// `\n` and `\r\n` replies are both read under either setting.
    delimiter: u8,
    timeout: Duration,
    max_line: usize,
    /// Received bytes not yet returned as a line.
    buf: Vec<u8>,
    /// How far `buf` has been searched for the delimiter.
    scanned: usize,
    /// After an oversized line: throw bytes away up to the next delimiter.
    skipping: bool,
    /// The last line sent, named in reply errors.
    last_command: String,
    /// On a shared serial line: the port is taken for each exchange.
    seat: Option<BusSeat>,
}

impl LineConnection {
    pub fn new(stream: Box<dyn ByteStream>, target: String, terminator: &str, timeout: Duration) -> Result<Self> {
        let Some(&delimiter) = terminator.as_bytes().last() else {
            return Err(DriverError::Config(format!("{target}: the line terminator must not be empty")));
        };
        Ok(LineConnection {
            stream,
            target,
            terminator: terminator.as_bytes().to_vec(),
            delimiter,
            timeout,
            max_line: MAX_LINE,
            buf: Vec::new(),
            scanned: 0,
            skipping: false,
            last_command: String::new(),
            seat: None,
        })
    }

    /// A connection to one addressed device on a shared serial line: every
    /// query and command waits for the port (not counted in the timeout),
    /// sends `select` first and checks its reply when one is expected.
    pub fn on_bus(
        bus: Arc<SerialBus>,
        select: Option<Select>,
        target: String,
        terminator: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let slot = LeaseSlot::default();
        let mut conn = LineConnection::new(Box::new(slot.clone()), target, terminator, timeout)?;
        conn.seat = Some(BusSeat { bus, select, slot });
        Ok(conn)
    }

    /// On a shared line: waits for the port and addresses the device. The
    /// port is held until the returned turn is dropped.
    async fn take_turn(&mut self) -> Result<Option<Turn>> {
        let Some(seat) = &self.seat else { return Ok(None) };
        let select = seat.select.clone();
        let turn = seat.slot.hold(seat.bus.lease().await?);
        // Our own leftovers from an earlier turn are not a reply to this one.
        self.buf.clear();
        self.scanned = 0;
        self.skipping = false;
        if let Some(select) = select {
            self.send_now(&select.command).await?;
            if let Some(expected) = &select.reply {
                let reply = self.read_line().await?;
                if reply.trim() != expected.trim() {
                    return Err(DriverError::BadReply {
                        command: select.command.clone(),
                        reply,
                        reason: format!("the device answers its `select` with `{expected}`"),
                    });
                }
            }
        }
        Ok(Some(turn))
    }

    /// A broken port is not handed to the next device that connects.
    fn noted<T>(&self, result: Result<T>) -> Result<T> {
        if let (Err(DriverError::Io { .. } | DriverError::Closed { .. }), Some(seat)) = (&result, &self.seat) {
            seat.bus.mark_broken();
        }
        result
    }

    /// The instrument this connection talks to (`host:port` or `path@baud`).
    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Per-reply read timeout (also bounds each write).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Caps reply lines at `max` bytes (default [`MAX_LINE`]).
    pub fn set_max_line(&mut self, max: usize) {
        self.max_line = max.max(1);
    }

    /// Sends one line (the terminator is appended).
    pub async fn send(&mut self, line: &str) -> Result<()> {
        let turn = self.take_turn().await;
        let result = match turn {
            Ok(_turn) => self.send_now(line).await,
            Err(e) => Err(e),
        };
        self.noted(result)
    }

    async fn send_now(&mut self, line: &str) -> Result<()> {
        if line.contains(['\n', '\r']) {
            return Err(DriverError::Config(format!("{}: a command must be a single line, got {line:?}", self.target)));
        }
        self.last_command = line.to_string();
        let mut out = Vec::with_capacity(line.len() + self.terminator.len());
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(&self.terminator);
        let write = async {
            self.stream.write_all(&out).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io_error(&self.target, e)),
            Err(_) => Err(DriverError::Timeout { target: self.target.clone(), timeout: self.timeout }),
        }
    }

    /// Discards stale input, sends `line` and returns the next reply line
    /// (without its terminator).
    pub async fn query(&mut self, line: &str) -> Result<String> {
        let result = async {
            let _turn = self.take_turn().await?;
            self.drain()?;
            self.send_now(line).await?;
            self.read_line().await
        }
        .await;
        self.noted(result)
    }

    /// Waits up to the timeout for the next reply line. After an oversized
    /// line the rest of it is thrown away within the same timeout, so the
    /// next query starts clean; a reply that stops mid-line is `Stalled`
    /// (the link is not trusted any more), silence before a reply `Timeout`.
    pub async fn read_line(&mut self) -> Result<String> {
        let timeout = self.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        match tokio::time::timeout_at(deadline, self.next_line()).await {
            Ok(Err(err @ DriverError::BadReply { .. })) if self.skipping => {
                // Bounded by the deadline; what is left is skipped on the next read.
                let _ = tokio::time::timeout_at(deadline, self.skip_rest()).await;
                Err(err)
            }
            Ok(result) => result,
            Err(_) if !self.buf.is_empty() && !self.skipping => Err(DriverError::Stalled {
                target: self.target.clone(),
                timeout,
                received: crate::text::quote_reply(&crate::text::decode_line(&self.buf)),
                bytes: self.buf.len(),
            }),
            Err(_) => Err(DriverError::Timeout { target: self.target.clone(), timeout }),
        }
    }

    /// Reads and discards up to the end of the current (oversized) line.
    async fn skip_rest(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        while self.skipping {
            if let Some(pos) = self.buf.iter().position(|&b| b == self.delimiter) {
                self.buf.drain(..=pos);
                self.scanned = 0;
                self.skipping = false;
                break;
            }
            self.buf.clear();
            self.scanned = 0;
            let n = self.stream.read(&mut chunk).await.map_err(|e| io_error(&self.target, e))?;
            if n == 0 {
                return Err(DriverError::Closed { target: self.target.clone() });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    /// Throws away everything received but not yet read (late replies to an
    /// earlier query that timed out), without waiting for more.
    pub fn drain(&mut self) -> Result<()> {
        let mut had_delimiter = self.buf.contains(&self.delimiter);
        self.buf.clear();
        self.scanned = 0;
        let mut chunk = [0u8; 4096];
        let mut drained = 0;
        while drained < MAX_DRAIN {
            match self.stream.read(&mut chunk).now_or_never() {
                None => break,
                Some(Ok(0)) => return Err(DriverError::Closed { target: self.target.clone() }),
                Some(Ok(n)) => {
                    had_delimiter |= chunk[..n].contains(&self.delimiter);
                    drained += n;
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Some(Err(e)) => return Err(io_error(&self.target, e)),
            }
        }
        if had_delimiter {
            self.skipping = false;
        }
        Ok(())
    }

    async fn next_line(&mut self) -> Result<String> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(line) = self.take_line() {
                return line;
            }
            if self.skipping {
                // Still the tail of an oversized line: nothing to keep, nothing to report.
                self.buf.clear();
                self.scanned = 0;
            } else if self.buf.len() > self.max_line {
                let err = self.too_long(&self.buf);
                self.buf.clear();
                self.scanned = 0;
                self.skipping = true;
                return Err(err);
            }
            let n = self.stream.read(&mut chunk).await.map_err(|e| io_error(&self.target, e))?;
            if n == 0 {
                return Err(DriverError::Closed { target: self.target.clone() });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Splits the next complete line off the buffer, if there is one.
    fn take_line(&mut self) -> Option<Result<String>> {
        loop {
            let Some(offset) = self.buf[self.scanned..].iter().position(|&b| b == self.delimiter) else {
                self.scanned = self.buf.len();
                return None;
            };
            let pos = self.scanned + offset;
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            self.scanned = 0;
            if std::mem::take(&mut self.skipping) {
                // The tail of an oversized line: not a reply.
                continue;
            }
            line.pop();
            while line.last().is_some_and(|b| *b == b'\r' || *b == b'\n' || self.terminator.contains(b)) {
                line.pop();
            }
            if line.len() > self.max_line {
                return Some(Err(self.too_long(&line)));
            }
            return Some(Ok(crate::text::decode_line(&line)));
        }
    }

    fn too_long(&self, bytes: &[u8]) -> DriverError {
        DriverError::BadReply {
            command: self.last_command.clone(),
            // Cut when quoted; QUOTE_LEN bytes are plenty to show what came.
            reply: crate::text::decode_line(&bytes[..QUOTE_LEN.min(bytes.len())]),
            reason: format!("reply line longer than {} bytes", self.max_line),
        }
    }
}

/// A reset or broken pipe means the instrument went away: `Closed`, not `Io`.
fn io_error(target: &str, e: io::Error) -> DriverError {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => DriverError::Closed { target: target.to_string() },
        _ => DriverError::Io { target: target.to_string(), source: e },
    }
}

impl std::fmt::Debug for LineConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineConnection").field("target", &self.target).field("timeout", &self.timeout).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};

    fn pair(terminator: &str) -> (LineConnection, DuplexStream) {
        let (a, b) = tokio::io::duplex(1 << 20);
        let conn = LineConnection::new(Box::new(a), "test:1".into(), terminator, Duration::from_millis(200)).unwrap();
        (conn, b)
    }

    #[tokio::test]
    async fn query_round_trip_with_either_terminator() {
        for (term, reply) in
            [("\n", "+1.0E+00\n"), ("\n", "+1.0E+00\r\n"), ("\r\n", "+1.0E+00\r\n"), ("\r\n", "+1.0E+00\n")]
        {
            let (mut conn, peer) = pair(term);
            let mut peer = BufReader::new(peer);
            let (line, reply_to) = tokio::join!(conn.query("MEAS?"), async {
                let mut got = String::new();
                peer.read_line(&mut got).await.unwrap();
                peer.get_mut().write_all(reply.as_bytes()).await.unwrap();
                got
            });
            assert_eq!(reply_to, format!("MEAS?{term}"));
            assert_eq!(line.unwrap(), "+1.0E+00");
        }
    }

    #[tokio::test]
    async fn stale_input_is_drained_before_a_query() {
        let (mut conn, mut peer) = pair("\n");
        peer.write_all(b"late reply\npartial").await.unwrap();
        let (line, _) = tokio::join!(conn.query("Q?"), async {
            let mut buf = [0u8; 3];
            peer.read_exact(&mut buf).await.unwrap();
            peer.write_all(b"fresh\n").await.unwrap();
        });
        assert_eq!(line.unwrap(), "fresh");
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let (mut conn, _peer) = pair("\n");
        let err = conn.query("Q?").await.unwrap_err();
        assert!(matches!(err, DriverError::Timeout { .. }), "{err:?}");
        assert!(err.to_string().contains("test:1"));
    }

    #[tokio::test]
    async fn closed_peer_is_closed() {
        let (mut conn, peer) = pair("\n");
        drop(peer);
        let err = conn.query("Q?").await.unwrap_err();
        assert!(matches!(err, DriverError::Closed { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn oversized_line_is_a_bad_reply_and_the_link_recovers() {
        let (mut conn, mut peer) = pair("\n");
        conn.set_max_line(16);
        peer.write_all(&[b'x'; 40]).await.unwrap();
        let err = conn.read_line().await.unwrap_err();
        assert!(matches!(err, DriverError::BadReply { ref reason, .. } if reason.contains("16 bytes")), "{err:?}");
        // The rest of the long line is skipped, the next line is a reply.
        peer.write_all(b"yyyy\nok\n").await.unwrap();
        assert_eq!(conn.read_line().await.unwrap(), "ok");
    }

    #[tokio::test]
    async fn the_tail_of_a_huge_reply_is_never_reported_again() {
        let (mut conn, mut peer) = pair("\n");
        conn.set_max_line(16);
        // 200 bytes in pieces, the end of line arriving after the error.
        let (first, ()) = tokio::join!(conn.query("Q?"), async {
            let mut query = [0u8; 3];
            peer.read_exact(&mut query).await.unwrap();
            for _ in 0..5 {
                peer.write_all(&[b'z'; 30]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
            peer.write_all(&[b'z'; 50]).await.unwrap();
            peer.write_all(b"\n").await.unwrap();
        });
        assert!(matches!(first, Err(DriverError::BadReply { .. })), "{first:?}");
        for i in 0..3 {
            let (line, _) = tokio::join!(conn.query("Q?"), async {
                let mut buf = [0u8; 3];
                peer.read_exact(&mut buf).await.unwrap();
                peer.write_all(format!("ok{i}\n").as_bytes()).await.unwrap();
            });
            assert_eq!(line.unwrap(), format!("ok{i}"));
        }
    }

    #[tokio::test]
    async fn a_reply_stopping_mid_line_is_a_link_failure() {
        let (mut conn, mut peer) = pair("\n");
        peer.write_all(b"+1.0\x06").await.unwrap();
        let err = conn.read_line().await.unwrap_err();
        assert!(matches!(err, DriverError::Stalled { bytes: 5, .. }), "{err:?}");
        assert!(err.is_link_failure());
        assert!(err.to_string().contains("\"+1.0<06>\""), "{err}");
    }

    #[tokio::test]
    async fn multi_line_commands_are_refused() {
        let (mut conn, _peer) = pair("\n");
        assert!(matches!(conn.send("A\nB").await, Err(DriverError::Config(_))));
    }

    #[tokio::test]
    async fn non_utf8_reply_does_not_panic() {
        let (mut conn, mut peer) = pair("\n");
        peer.write_all(&[0xff, 0xfe, b'1', b'\n']).await.unwrap();
        let line = conn.read_line().await.unwrap();
        assert_eq!(line, "<FF><FE>1");
    }

    #[test]
    fn empty_terminator_is_refused() {
        let (a, _b) = tokio::io::duplex(16);
        assert!(LineConnection::new(Box::new(a), "t".into(), "", Duration::from_secs(1)).is_err());
    }
}
