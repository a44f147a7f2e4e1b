//! A tiny scripted TCP peer for driver tests: each connection gets its own
//! handler (so it can keep an error queue), which answers one received line.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the peer does with one received line.
pub(crate) enum Reply {
    Line(String),
    Nothing,
    Close,
    Raw(Vec<u8>),
    /// A line sent only after a pause (later than the driver waits).
    Late(std::time::Duration, String),
}

/// Aborts the accept loop and every connection task when dropped.
pub(crate) struct Peer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a peer on 127.0.0.1:0; `make` builds the handler of each connection.
pub(crate) async fn spawn<F, H>(make: F) -> Peer
where
    F: Fn() -> H + Send + 'static,
    H: FnMut(&str) -> Reply + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((sock, _)) = listener.accept().await {
            let mut handler = make();
            conns.spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut lines = BufReader::new(rd).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let line = line.trim_end_matches('\r').to_string();
                    match handler(&line) {
                        Reply::Line(l) => {
                            if wr.write_all(format!("{l}\n").as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        Reply::Raw(b) => {
                            if wr.write_all(&b).await.is_err() {
                                return;
                            }
                        }
                        Reply::Late(pause, l) => {
                            tokio::time::sleep(pause).await;
                            if wr.write_all(format!("{l}\n").as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        Reply::Nothing => {}
                        Reply::Close => return,
                    }
                }
            });
        }
    });
    Peer { addr, task }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub(crate) async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// How a fake SCPI instrument treats one command of a line.
pub(crate) enum Answer {
    /// A query's reply.
    Reply(String),
    /// A command with no reply.
    Accept,
    /// Unknown or illegal: no reply, an error is queued (like real SCPI).
    Refuse(i32, &'static str),
}

pub(crate) type Handler = Box<dyn FnMut(&str) -> Reply + Send>;

/// A fake SCPI instrument: `*CLS`, `*IDN?`, `:SYSTem:ERRor?` (and Hioki's
/// `:ERRor?`, answering a bare code) with a queue,
/// `:HEADer`, clock and start/stop are built in; `answer` handles the rest
/// (one `;`-separated command at a time). Replies of one line are joined by `;`.
pub(crate) fn scpi<A>(idn: &'static str, answer: A) -> impl Fn() -> Handler + Send + 'static
where
    A: Fn(&str) -> Answer + Send + Sync + Clone + 'static,
{
    move || {
        let answer = answer.clone();
        let mut queue: std::collections::VecDeque<(i32, &'static str)> = Default::default();
        Box::new(move |line: &str| {
            let mut replies = Vec::new();
            for command in line.split(';') {
                let command = command.trim();
                let upper = command.to_ascii_uppercase();
                match upper.as_str() {
                    "*CLS" => queue.clear(),
                    "*IDN?" => replies.push(idn.to_string()),
                    ":SYSTEM:ERROR?" => {
                        let (code, message) = queue.pop_front().unwrap_or((0, "No error"));
                        replies.push(format!("{code},\"{message}\""));
                    }
                    // Hioki's error query: a bare NR1 code.
                    ":ERROR?" => replies.push(queue.pop_front().map_or(0, |(code, _)| code).to_string()),
                    ":START" | ":STOP" => {}
                    _ if upper.starts_with(":HEADER ")
                        || upper.starts_with(":SYSTEM:DATE ")
                        || upper.starts_with(":SYSTEM:TIME ") => {}
                    _ => match answer(command) {
                        Answer::Reply(r) => replies.push(r),
                        Answer::Accept => {}
                        Answer::Refuse(code, message) => queue.push_back((code, message)),
                    },
                }
            }
            if replies.is_empty() { Reply::Nothing } else { Reply::Line(replies.join(";")) }
        })
    }
}

/// A TCP instrument config pointing at `127.0.0.1:port` with a short timeout.
pub(crate) fn tcp_config(
    family: crate::config::Family,
    port: u16,
    channels: Vec<crate::config::ChannelConfig>,
) -> crate::config::InstrumentConfig {
    crate::config::InstrumentConfig {
        id: "dut".into(),
        name: None,
        family,
        transport: crate::config::TransportConfig::Tcp {
            host: "127.0.0.1".into(),
            port: Some(port),
            timeout: std::time::Duration::from_millis(300),
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
        channels,
    }
}
