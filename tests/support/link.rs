//! A TCP proxy that plays a bad network link between an agent and its
//! broker: `cut` closes every open connection (the peer sees the link drop),
//! `black_hole` keeps connections open but lets nothing through (the peer
//! only notices by its keep-alive), `restore` lets traffic flow again. Bytes
//! it has read are always written whole, so a stream is cut, never garbled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LinkState {
    flowing: bool,
    /// Bumped by `cut`: connections opened before it close.
    epoch: u64,
}

pub struct LinkProxy {
    pub port: u16,
    state: watch::Sender<LinkState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LinkProxy {
    /// Listens on an ephemeral 127.0.0.1 port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> LinkProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the link proxy");
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let (state, rx) = watch::channel(LinkState { flowing: true, epoch: 0 });
        let (stop, mut stop_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        acc = listener.accept() => {
                            if let Ok((client, _)) = acc {
                                tokio::spawn(serve(client, upstream, rx.clone()));
                            }
                        }
                    }
                }
            });
        });
        LinkProxy { port, state, stop: Some(stop), thread: Some(thread) }
    }

    /// Drops every open connection; new ones go through.
    pub fn cut(&self) {
        self.state.send_modify(|s| s.epoch += 1);
    }

    /// Nothing passes, connections stay open (a dead route).
    pub fn black_hole(&self) {
        self.state.send_modify(|s| s.flowing = false);
    }

    /// Ends a black hole; with `cut`, the connections it held close too.
    pub fn restore(&self, cut: bool) {
        self.state.send_modify(|s| {
            s.flowing = true;
            if cut {
                s.epoch += 1;
            }
        });
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.cut();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mut rx: watch::Receiver<LinkState>) {
    let epoch = rx.borrow().epoch;
    // A black-holed link does not even complete the way to the broker.
    while !rx.borrow().flowing {
        if rx.changed().await.is_err() || rx.borrow().epoch != epoch {
            return;
        }
    }
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let state = Arc::new(rx);
    let up = pump(cr, sw, (*state).clone(), epoch);
    let down = pump(sr, cw, (*state).clone(), epoch);
    // Either side ending (or a cut) ends both: the halves drop and close.
    tokio::select! { _ = up => {}, _ = down => {} }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut rx: watch::Receiver<LinkState>,
    epoch: u64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let s = *rx.borrow_and_update();
        if s.epoch != epoch {
            return;
        }
        if !s.flowing {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            r = from.read(&mut buf) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            c = rx.changed() => if c.is_err() { return },
        }
    }
}
