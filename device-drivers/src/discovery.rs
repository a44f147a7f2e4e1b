//! Finding instruments: a concurrent LAN sweep (`*IDN?` on every host and
//! port that accepts a connection) and serial-port probing. Which ports to
//! try, which answer belongs to which family and which ports speak a
//! protocol without an identity query all come from the family registry.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::config::{Family, Parity};
use crate::driver::Identity;
use crate::error::DriverError;
use crate::families::scpi::protocol;
use crate::registry;
pub use crate::registry::guess_family;
use crate::transport::{LineConnection, SerialSettings, serial, tcp};

/// Most hosts one sweep may cover.
pub const MAX_SWEEP_HOSTS: usize = 4096;

/// Something that answered (or a listed serial port that did not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Found {
    /// IP address, or the serial port's path.
    pub address: String,
    /// TCP port; `None` for serial ports.
    pub port: Option<u16>,
    #[ts(as = "Option<String>")]
    pub family_guess: Option<Family>,
    pub identity: Option<Identity>,
    /// Why it could not be identified (the port is open but the reply was
    /// missing or not an identity).
    pub error: Option<String>,
}

/// Ports a sweep tries when none are given: every family's discovery ports.
pub fn default_ports() -> Vec<u16> {
    registry::sweep_ports()
}

/// Parses host lists like `192.168.1.10`, `192.168.1.1-254`,
/// `10.0.0.250-10.0.1.5`, `192.168.1.0/24` (network and broadcast left
/// out), several separated by commas or spaces. IPv6 only as single
/// addresses. At most [`MAX_SWEEP_HOSTS`] hosts.
pub fn parse_host_range(s: &str) -> Result<Vec<IpAddr>, HostRangeError> {
    let mut hosts = Vec::new();
    let mut seen = HashSet::new();
    let items: Vec<&str> = s.split([',', ' ', '\t', '\n']).filter(|i| !i.is_empty()).collect();
    if items.is_empty() {
        return Err(HostRangeError::Empty);
    }
    for item in items {
        for ip in parse_item(item)? {
            if seen.insert(ip) {
                hosts.push(ip);
                if hosts.len() > MAX_SWEEP_HOSTS {
                    return Err(HostRangeError::TooManyInAll(s.to_string()));
                }
            }
        }
    }
    Ok(hosts)
}

/// A host list that cannot be swept; the message names the item and what to write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostRangeError {
    #[error("no hosts given (e.g. `192.168.1.1-254` or `192.168.1.0/24`)")]
    Empty,
    #[error("`{0}` covers more than {MAX_SWEEP_HOSTS} hosts; sweep a smaller range")]
    TooManyInAll(String),
    #[error("`{item}` covers {count} hosts; at most {MAX_SWEEP_HOSTS} per sweep")]
    TooMany { item: String, count: u64 },
    #[error("`{0}`: the prefix length must be 0..32")]
    Prefix(String),
    #[error("`{item}`: `{end}` is not an address or a last octet 0..255")]
    LastOctet { item: String, end: String },
    #[error("`{0}`: the range ends before it starts")]
    Backwards(String),
    #[error("`{0}` is not an IP address, range or CIDR block")]
    NotAnAddress(String),
    #[error("`{item}`: `{text}` is not an IPv4 address")]
    NotV4 { item: String, text: String },
}

impl HostRangeError {
    /// The refusal as a translatable message (keys `err-hosts-*` in
    /// locales/*/core.ftl); English is the Display.
    pub fn text(&self) -> meterdeck_wire::i18n::Text {
        use meterdeck_wire::i18n::Text;
        let max = MAX_SWEEP_HOSTS.to_string();
        match self {
            HostRangeError::Empty => Text::new("err-hosts-empty"),
            HostRangeError::TooManyInAll(all) => Text::new("err-hosts-too-many-all").arg("hosts", all).arg("max", max),
            HostRangeError::TooMany { item, count } => {
                Text::new("err-hosts-too-many").arg("item", item).arg("count", count.to_string()).arg("max", max)
            }
            HostRangeError::Prefix(item) => Text::new("err-hosts-prefix").arg("item", item),
            HostRangeError::LastOctet { item, end } => {
                Text::new("err-hosts-last-octet").arg("item", item).arg("end", end)
            }
            HostRangeError::Backwards(item) => Text::new("err-hosts-backwards").arg("item", item),
            HostRangeError::NotAnAddress(item) => Text::new("err-hosts-not-address").arg("item", item),
            HostRangeError::NotV4 { item, text } => Text::new("err-hosts-not-v4").arg("item", item).arg("text", text),
        }
    }
}

fn parse_item(item: &str) -> Result<Vec<IpAddr>, HostRangeError> {
    let too_many = |count: u64| HostRangeError::TooMany { item: item.to_string(), count };
    if let Some((addr, prefix)) = item.split_once('/') {
        let base = parse_v4(addr, item)?;
        let prefix: u32 =
            prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| HostRangeError::Prefix(item.to_string()))?;
        let size = 1u64 << (32 - prefix);
        // Network and broadcast addresses are not hosts (except in /31, /32).
        let (first, count) = if prefix <= 30 { (1, size - 2) } else { (0, size) };
        if count > MAX_SWEEP_HOSTS as u64 {
            return Err(too_many(count));
        }
        let network = u64::from(u32::from(base) & u32::MAX.checked_shl(32 - prefix).unwrap_or(0));
        return Ok((first..first + count).map(|i| v4(network + i)).collect());
    }
    if let Some((start, end)) = item.split_once('-') {
        let start = parse_v4(start, item)?;
        let end = if end.contains('.') {
            parse_v4(end, item)?
        } else {
            let last: u8 =
                end.parse().map_err(|_| HostRangeError::LastOctet { item: item.to_string(), end: end.to_string() })?;
            let [a, b, c, _] = start.octets();
            Ipv4Addr::new(a, b, c, last)
        };
        let (s, e) = (u64::from(u32::from(start)), u64::from(u32::from(end)));
        if e < s {
            return Err(HostRangeError::Backwards(item.to_string()));
        }
        if e - s + 1 > MAX_SWEEP_HOSTS as u64 {
            return Err(too_many(e - s + 1));
        }
        return Ok((s..=e).map(v4).collect());
    }
    item.parse::<IpAddr>().map(|ip| vec![ip]).map_err(|_| HostRangeError::NotAnAddress(item.to_string()))
}

fn parse_v4(text: &str, item: &str) -> Result<Ipv4Addr, HostRangeError> {
    text.trim().parse().map_err(|_| HostRangeError::NotV4 { item: item.to_string(), text: text.to_string() })
}

fn v4(n: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX)))
}

/// Connects to every host x port (at most `concurrency` at once, each
/// within `timeout`), asks `*IDN?` and returns what answered, sorted by
/// address and port. Closed ports are left out; a discovery port of a
/// family without an identity query (Modbus' 502) is reported as that
/// family when it accepts a connection.
pub async fn sweep_lan(hosts: Vec<IpAddr>, ports: Vec<u16>, timeout: Duration, concurrency: usize) -> Vec<Found> {
    sweep(hosts, ports, timeout, concurrency, &registry::connect_only_ports()).await
}

async fn sweep(
    hosts: Vec<IpAddr>,
    ports: Vec<u16>,
    timeout: Duration,
    concurrency: usize,
    connect_only: &[(u16, Family)],
) -> Vec<Found> {
    let targets: Vec<(IpAddr, u16)> = hosts.iter().flat_map(|h| ports.iter().map(move |p| (*h, *p))).collect();
    let mut found: Vec<(IpAddr, u16, Found)> = futures::stream::iter(targets)
        .map(|(ip, port)| async move {
            let family = connect_only.iter().find(|(p, _)| *p == port).map(|(_, f)| *f);
            probe_tcp(ip, port, timeout, family).await.map(|f| (ip, port, f))
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(|f| async move { f })
        .collect()
        .await;
    found.sort_by_key(|f| (f.0, f.1));
    found.into_iter().map(|(_, _, f)| f).collect()
}

/// `connect_only`: the family whose protocol has no identity query on this
/// port; an accepted connection is then all there is to learn.
async fn probe_tcp(ip: IpAddr, port: u16, timeout: Duration, connect_only: Option<Family>) -> Option<Found> {
    let stream = tcp::connect(&ip.to_string(), port, timeout).await.ok()?;
    let mut found =
        Found { address: ip.to_string(), port: Some(port), family_guess: None, identity: None, error: None };
    if let Some(family) = connect_only {
        found.family_guess = Some(family);
        return Some(found);
    }
    let target = format!("{ip}:{port}");
    let result = match LineConnection::new(Box::new(stream), target, "\n", timeout) {
        Ok(mut conn) => identify(&mut conn).await,
        Err(e) => Err(ProbeError::Open(e)),
    };
    fill(&mut found, result);
    Some(found)
}

/// Opens each serial port (8N1 at `baud`), asks `*IDN?` and reports every
/// port, with the error for those that did not identify.
pub async fn probe_serial(ports: Vec<String>, baud: u32, terminator: &str, timeout: Duration) -> Vec<Found> {
    let settings = SerialSettings { baud, data_bits: 8, parity: Parity::None, stop_bits: 1 };
    let probes = ports.into_iter().map(|path| async move {
        let mut found = Found { address: path.clone(), port: None, family_guess: None, identity: None, error: None };
        let result = match serial::open(&path, &settings) {
            Ok(stream) => match LineConnection::new(Box::new(stream), format!("{path}@{baud}"), terminator, timeout) {
                Ok(mut conn) => identify(&mut conn).await,
                Err(e) => Err(ProbeError::Open(e)),
            },
            Err(e) => Err(ProbeError::Open(e)),
        };
        fill(&mut found, result);
        found
    });
    futures::future::join_all(probes).await
}

/// Why a port that accepted a connection did not identify.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error(transparent)]
    Open(DriverError),
    #[error("no identity: {0}")]
    NoIdentity(DriverError),
    #[error("reply to `*IDN?` is not an identity: {reason} (reply: \"{}\")", crate::text::quote_reply(reply))]
    NotIdentity { reason: protocol::ReplyError, reply: String },
}

async fn identify(conn: &mut LineConnection) -> Result<Identity, ProbeError> {
    let reply = conn.query(protocol::IDN).await.map_err(ProbeError::NoIdentity)?;
    protocol::parse_idn(&reply).map_err(|reason| ProbeError::NotIdentity { reason, reply })
}

fn fill(found: &mut Found, result: Result<Identity, ProbeError>) {
    match result {
        Ok(identity) => {
            found.family_guess = guess_family(&identity);
            found.identity = Some(identity);
        }
        Err(e) => found.error = Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::{hioki_logger, hioki_power, scpi};
    use crate::transport::test_peer::{self, Reply};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn host_ranges() {
        assert_eq!(parse_host_range("192.168.1.10").unwrap(), vec![ip("192.168.1.10")]);
        let r = parse_host_range("192.168.1.1-254").unwrap();
        assert_eq!((r.len(), r[0], r[253]), (254, ip("192.168.1.1"), ip("192.168.1.254")));
        let r = parse_host_range("192.168.1.77/24").unwrap();
        assert_eq!((r.len(), r[0], r[253]), (254, ip("192.168.1.1"), ip("192.168.1.254")));
        assert_eq!(parse_host_range("10.0.0.5/32").unwrap(), vec![ip("10.0.0.5")]);
        assert_eq!(parse_host_range("10.0.0.4/31").unwrap().len(), 2);
        assert_eq!(parse_host_range("10.0.0.254-10.0.1.1").unwrap().len(), 4);
        assert_eq!(parse_host_range("10.0.0.1, 10.0.0.1 ::1").unwrap(), vec![ip("10.0.0.1"), ip("::1")]);
        assert_eq!(parse_host_range("10.0.0.0/20").unwrap().len(), 4094);
    }

    #[test]
    fn bad_or_huge_ranges_are_clear_errors() {
        assert!(parse_host_range("10.0.0.0/16").unwrap_err().to_string().contains("65534 hosts"));
        assert!(parse_host_range("0.0.0.0/0").unwrap_err().to_string().contains("at most 4096"));
        assert!(parse_host_range("10.0.0.0/20,10.0.16.1-10").unwrap_err().to_string().contains("more than 4096"));
        assert!(parse_host_range("10.0.0.9-3").unwrap_err().to_string().contains("ends before"));
        assert!(parse_host_range("10.0.0.1-300").unwrap_err().to_string().contains("`300`"));
        assert!(parse_host_range("10.0.0.0/33").unwrap_err().to_string().contains("prefix"));
        assert!(parse_host_range("lab-pc").unwrap_err().to_string().contains("`lab`"));
        assert!(parse_host_range("hello").unwrap_err().to_string().contains("`hello`"));
        assert!(parse_host_range("  ").is_err());
        assert!(parse_host_range("fe80::1/64").is_err());
    }

    #[test]
    fn family_guesses() {
        let id =
            |maker: &str, model: &str| Identity { maker: maker.into(), model: model.into(), ..Identity::default() };
        assert_eq!(guess_family(&id("HIOKI", "LR8450")), Some(hioki_logger::FAMILY));
        assert_eq!(guess_family(&id("Hioki", "lr8450-01")), Some(hioki_logger::FAMILY));
        assert_eq!(guess_family(&id("HIOKI", "PW3390")), Some(hioki_power::FAMILY));
        assert_eq!(guess_family(&id("HIOKI", "DM7275")), Some(scpi::FAMILY));
        assert_eq!(guess_family(&id("MeterdeckSim", "SCPI-1")), Some(scpi::FAMILY));
    }

    #[tokio::test]
    async fn sweep_identifies_what_answers() {
        let logger = test_peer::spawn(|| {
            |l: &str| {
                if l == "*IDN?" { Reply::Line("HIOKI,LR8450,SIM01,V2.10".into()) } else { Reply::Nothing }
            }
        })
        .await;
        let meter = test_peer::spawn(|| |_: &str| Reply::Line("HIOKI,PW3390,SIM02,V1.30".into())).await;
        let silent = test_peer::spawn(|| |_: &str| Reply::Nothing).await;
        let garbage = test_peer::spawn(|| |_: &str| Reply::Line("???".into())).await;
        let modbus = test_peer::spawn(|| |_: &str| Reply::Nothing).await;
        let closed = test_peer::closed_port().await;
        let ports = vec![
            logger.addr.port(),
            meter.addr.port(),
            silent.addr.port(),
            garbage.addr.port(),
            modbus.addr.port(),
            closed,
        ];
        let found = sweep(
            vec![ip("127.0.0.1")],
            ports,
            Duration::from_millis(300),
            4,
            &[(modbus.addr.port(), crate::families::modbus::FAMILY)],
        )
        .await;
        assert_eq!(found.len(), 5, "{found:?}");
        let by_port = |p: u16| found.iter().find(|f| f.port == Some(p)).unwrap();
        let l = by_port(logger.addr.port());
        assert_eq!(l.family_guess, Some(hioki_logger::FAMILY));
        assert_eq!(l.identity.as_ref().unwrap().serial, "SIM01");
        assert_eq!(l.address, "127.0.0.1");
        assert_eq!(by_port(meter.addr.port()).family_guess, Some(hioki_power::FAMILY));
        let s = by_port(silent.addr.port());
        assert!(s.identity.is_none() && s.error.as_deref().unwrap().contains("no reply"), "{s:?}");
        assert!(by_port(garbage.addr.port()).error.as_deref().unwrap().contains("\"???\""));
        let m = by_port(modbus.addr.port());
        assert_eq!((m.family_guess, m.error.as_ref()), (Some(crate::families::modbus::FAMILY), None));
        assert!(found.windows(2).all(|w| w[0].port < w[1].port));
    }

    #[tokio::test]
    async fn sweep_of_nothing_is_empty() {
        let closed = test_peer::closed_port().await;
        assert!(sweep_lan(vec![ip("127.0.0.1")], vec![closed], Duration::from_millis(300), 0).await.is_empty());
        assert!(sweep_lan(vec![], vec![80], Duration::from_millis(300), 8).await.is_empty());
    }

    #[tokio::test]
    async fn serial_probe_over_a_pty() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        use tokio_serial::SerialPort;

        let (master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let path = slave.name().unwrap();
        drop(slave);
        let responder = tokio::spawn(async move {
            let mut master = BufReader::new(master);
            let mut line = String::new();
            while master.read_line(&mut line).await.is_ok_and(|n| n > 0) {
                if line.trim_end() == "*IDN?" {
                    let _ = master.get_mut().write_all(b"MeterdeckSim,SCPI-1,SIM03,1.0\r\n").await;
                }
                line.clear();
            }
        });
        let found = probe_serial(
            vec![path.clone(), "/dev/meterdeck-no-such-port".into()],
            9600,
            "\r\n",
            Duration::from_secs(2),
        )
        .await;
        responder.abort();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].address, path);
        assert_eq!(found[0].identity.as_ref().map(|i| i.model.as_str()), Some("SCPI-1"), "{found:?}");
        assert_eq!(found[0].family_guess, Some(scpi::FAMILY));
        assert!(found[1].error.as_deref().unwrap().contains("/dev/meterdeck-no-such-port"), "{found:?}");
    }
}
