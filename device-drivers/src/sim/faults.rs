//! Fault injection: sentinels, garbage replies and dropped connections.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::waveform::hash3;
use crate::reading::SpecialKind;

/// The order `sentinel_every` cycles through.
pub(crate) const SENTINEL_CYCLE: [SpecialKind; 5] =
    [SpecialKind::NoData, SpecialKind::OverRange, SpecialKind::UnderRange, SpecialKind::BurnOut, SpecialKind::Invalid];

/// How a Hioki-style instrument writes each special value.
pub(crate) fn sentinel_text(kind: SpecialKind) -> &'static str {
    match kind {
        SpecialKind::NoData => "+9999.9E+99",
        SpecialKind::OverRange => "+999.99E+9",
        SpecialKind::UnderRange => "-999.99E+9",
        SpecialKind::BurnOut => "+888.88E+9",
        SpecialKind::Invalid => "+777.77E+9",
    }
}

/// `:SIMulate:SENTinel CH,<kind>`: `Some(None)` is `OFF`.
pub(crate) fn parse_sentinel_arg(arg: &str) -> Option<Option<SpecialKind>> {
    let kinds = [
        ("NODATA", SpecialKind::NoData),
        ("OVER", SpecialKind::OverRange),
        ("UNDER", SpecialKind::UnderRange),
        ("BURNOUT", SpecialKind::BurnOut),
        ("INVALID", SpecialKind::Invalid),
    ];
    if arg.eq_ignore_ascii_case("OFF") {
        return Some(None);
    }
    kinds.iter().find(|(n, _)| arg.eq_ignore_ascii_case(n)).map(|(_, k)| Some(*k))
}

const JUNK: &[u8] = b"#@!x?%&*~";

/// Writes garbage with the shape of `reply` (same length, same `;` and `,`
/// separators) but no digit anywhere, so no parser can mistake it for data.
pub(crate) fn garbage_into(reply: &str, salt: u64, out: &mut String) {
    for (i, c) in reply.chars().enumerate() {
        if matches!(c, ';' | ',' | ' ') {
            out.push(c);
        } else {
            let h = hash3(salt, i as u64, 0x4741_5242);
            out.push(char::from(JUNK[(h % JUNK.len() as u64) as usize]));
        }
    }
}

/// Closes every connection of one instrument at once: each connection holds
/// the current token; dropping cancels it and installs a fresh one, so new
/// connections are accepted right away. Tokens are children of the
/// simulator's root token, so shutting down closes them all too.
#[derive(Debug)]
pub(crate) struct DropSwitch {
    root: CancellationToken,
    current: Mutex<CancellationToken>,
}

impl DropSwitch {
    pub(crate) fn new(root: CancellationToken) -> DropSwitch {
        let current = Mutex::new(root.child_token());
        DropSwitch { root, current }
    }

    pub(crate) fn token(&self) -> CancellationToken {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The whole simulator is stopping.
    pub(crate) fn shut_down(&self) -> bool {
        self.root.is_cancelled()
    }

    pub(crate) async fn shutdown_requested(&self) {
        self.root.cancelled().await;
    }

    pub(crate) fn drop_all(&self) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.cancel();
        *current = self.root.child_token();
    }
}

/// A stream that reads as end-of-file once its token is cancelled; used to
/// drop Modbus connections whose request loop lives inside tokio-modbus.
pub(crate) struct Killable<S> {
    inner: S,
    kill: Pin<Box<WaitForCancellationFutureOwned>>,
    dead: bool,
}

impl<S> Killable<S> {
    pub(crate) fn new(inner: S, token: CancellationToken) -> Killable<S> {
        Killable { inner, kill: Box::pin(token.cancelled_owned()), dead: false }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.dead && self.kill.as_mut().poll(cx).is_ready() {
            self.dead = true;
        }
        self.dead
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Killable<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.check(cx) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Killable<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.check(cx) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_keeps_shape_and_has_no_digits() {
        let reply = "+1.234E+00;U1 +100.02E+0;0,\"No error\"";
        let mut out = String::new();
        garbage_into(reply, 42, &mut out);
        assert_eq!(out.chars().count(), reply.chars().count());
        assert_eq!(out.matches(';').count(), 2);
        assert!(!out.chars().any(|c| c.is_ascii_digit()), "{out}");
        assert!(out.parse::<f64>().is_err());
    }

    #[test]
    fn sentinel_args() {
        assert_eq!(parse_sentinel_arg("over"), Some(Some(SpecialKind::OverRange)));
        assert_eq!(parse_sentinel_arg("OFF"), Some(None));
        assert_eq!(parse_sentinel_arg("maybe"), None);
    }

    #[test]
    fn drop_switch_replaces_the_token() {
        let root = CancellationToken::new();
        let s = DropSwitch::new(root.clone());
        let a = s.token();
        s.drop_all();
        assert!(a.is_cancelled());
        let b = s.token();
        assert!(!b.is_cancelled());
        root.cancel();
        assert!(b.is_cancelled());
    }
}
