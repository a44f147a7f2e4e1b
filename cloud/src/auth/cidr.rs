//! IP allow-lists: CIDR blocks, IPv4 and IPv6. An IPv4-mapped IPv6
//! address (`::ffff:a.b.c.d`) is matched as its IPv4 address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An allow-list entry that is not a CIDR block; the message names it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{0:?} is not an IP address or CIDR block (like 192.0.2.0/24 or 2001:db8::/32)")]
    NotAnAddress(String),
    #[error("{entry:?}: the prefix length must be a number from 0 to {max}")]
    BadPrefix { entry: String, max: u8 },
}

impl FromStr for Cidr {
    type Err = CidrError;
    /// `a.b.c.d/n`, `x::y/n`, or a bare address (a single host).
    fn from_str(s: &str) -> Result<Self, CidrError> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| CidrError::NotAnAddress(s.to_string()))?;
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(CidrError::BadPrefix { entry: s.to_string(), max }),
            },
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses a whole list; the error names the first bad entry.
pub fn parse_list(list: &[String]) -> Result<Vec<Cidr>, CidrError> {
    list.iter().map(|s| s.parse()).collect()
}

/// Whether `ip` may call: an empty list allows everyone. Stored entries
/// that no longer parse are skipped (they were checked when set).
pub fn allowed(list: &[String], ip: Option<IpAddr>) -> bool {
    if list.is_empty() {
        return true;
    }
    let Some(ip) = ip else { return false };
    list.iter().filter_map(|s| s.parse::<Cidr>().ok()).any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_and_v6_blocks() {
        let c: Cidr = "192.168.1.0/24".parse().unwrap();
        assert!(c.contains("192.168.1.77".parse().unwrap()));
        assert!(!c.contains("192.168.2.1".parse().unwrap()));
        assert!(c.contains("::ffff:192.168.1.5".parse().unwrap()));
        let c6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!c6.contains("2001:db9::1".parse().unwrap()));
        assert!(!c6.contains("192.168.1.1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let host: Cidr = "::1".parse().unwrap();
        assert_eq!(host.to_string(), "::1/128");
    }

    #[test]
    fn bad_entries_are_named() {
        assert!("10.0.0.0/33".parse::<Cidr>().unwrap_err().to_string().contains("0 to 32"));
        assert!("bogus".parse::<Cidr>().unwrap_err().to_string().contains("\"bogus\""));
        let e = parse_list(&["10.0.0.0/8".into(), "x/1".into()]).unwrap_err().to_string();
        assert!(e.contains("x/1"), "{e}");
    }

    #[test]
    fn empty_list_allows_all() {
        assert!(allowed(&[], None));
        assert!(!allowed(&["10.0.0.0/8".into()], None));
        assert!(allowed(&["10.0.0.0/8".into()], Some("10.1.2.3".parse().unwrap())));
    }
}
