//! Checksums of fetched files: SHA-256 always (the cloud checks uploads by
//! it), and the one the server can compute when it offers one, so the copy
//! is checked end to end and not only by its size.

use md5::Digest as _;

/// A checksum an FTP server may offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    Sha256,
    Md5,
    Crc32,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "SHA-256",
            Algo::Md5 => "MD5",
            Algo::Crc32 => "CRC32",
        }
    }

    /// Hex digits in the digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Md5 => 32,
            Algo::Crc32 => 8,
        }
    }
}

/// How to ask a server for a file's checksum, chosen from its FEAT reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerHash {
    /// `HASH <path>` (draft-bryan-ftpext-hash) after `OPTS HASH <algo>`.
    Hash(Algo),
    /// `XSHA256 <path>`, `XMD5 <path>`, `XCRC <path>`: the older commands.
    Legacy(Algo),
}

impl ServerHash {
    pub fn algo(self) -> Algo {
        match self {
            ServerHash::Hash(a) | ServerHash::Legacy(a) => a,
        }
    }

    /// The strongest checksum the FEAT lines offer; `None` when the server
    /// offers none (then the size alone verifies the copy).
    pub fn from_features(features: &std::collections::HashMap<String, Option<String>>) -> Option<ServerHash> {
        let feat = |k: &str| features.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)).map(|(_, v)| v);
        if let Some(v) = feat("HASH") {
            let offered: Vec<String> = v
                .as_deref()
                .unwrap_or("")
                .split(';')
                .map(|a| a.trim().trim_end_matches('*').to_ascii_uppercase())
                .collect();
            for algo in [Algo::Sha256, Algo::Md5, Algo::Crc32] {
                if offered.iter().any(|o| o == algo.name()) {
                    return Some(ServerHash::Hash(algo));
                }
            }
        }
        [("XSHA256", Algo::Sha256), ("XMD5", Algo::Md5), ("XCRC", Algo::Crc32)]
            .into_iter()
            .find(|(cmd, _)| feat(cmd).is_some())
            .map(|(_, a)| ServerHash::Legacy(a))
    }
}

/// Finds the digest in a server's reply (`213 SHA-256 0-99 <hex> name`,
/// `250 <hex>`): the first word of hex digits of the algorithm's length.
pub fn digest_in_reply(algo: Algo, reply: &str) -> Option<String> {
    reply
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| c == '"' || c == '\''))
        .find(|w| w.len() == algo.hex_len() && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|w| w.to_ascii_lowercase())
}

/// Running digests of a file as its bytes go by.
pub struct Digests {
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    crc32: Option<crc32fast::Hasher>,
}

impl Digests {
    /// SHA-256, plus `extra` when the server checks by another algorithm.
    pub fn new(extra: Option<Algo>) -> Digests {
        Digests {
            sha256: <sha2::Sha256 as sha2::Digest>::new(),
            md5: (extra == Some(Algo::Md5)).then(md5::Md5::new),
            crc32: (extra == Some(Algo::Crc32)).then(crc32fast::Hasher::new),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.sha256, bytes);
        if let Some(m) = &mut self.md5 {
            m.update(bytes);
        }
        if let Some(c) = &mut self.crc32 {
            c.update(bytes);
        }
    }

    /// (SHA-256 hex, the extra algorithm's hex if any).
    pub fn finish(self) -> (String, Option<(Algo, String)>) {
        let sha = hex::encode(sha2::Digest::finalize(self.sha256));
        let extra = if let Some(m) = self.md5 {
            Some((Algo::Md5, hex::encode(m.finalize())))
        } else {
            self.crc32.map(|c| (Algo::Crc32, format!("{:08x}", c.finalize())))
        };
        (sha, extra)
    }

    pub fn sha256_hex(self) -> String {
        self.finish().0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn picks_the_strongest_offered_checksum() {
        let mut f: HashMap<String, Option<String>> = HashMap::new();
        f.insert("XCRC".into(), None);
        assert_eq!(ServerHash::from_features(&f), Some(ServerHash::Legacy(Algo::Crc32)));
        f.insert("HASH".into(), Some("CRC32;MD5*;SHA-256".into()));
        assert_eq!(ServerHash::from_features(&f), Some(ServerHash::Hash(Algo::Sha256)));
        assert_eq!(ServerHash::from_features(&HashMap::new()), None);
    }

    #[test]
    fn reads_digests_from_replies() {
        let sha = "a".repeat(64);
        assert_eq!(digest_in_reply(Algo::Sha256, &format!("SHA-256 0-99 {sha} a.mem")), Some(sha));
        assert_eq!(digest_in_reply(Algo::Crc32, "CBF43926"), Some("cbf43926".into()));
        assert_eq!(digest_in_reply(Algo::Md5, "no digest here"), None);
    }

    #[test]
    fn digests_known_values() {
        let mut d = Digests::new(Some(Algo::Crc32));
        d.update(b"1234");
        d.update(b"56789");
        let (sha, crc) = d.finish();
        assert_eq!(sha, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
        assert_eq!(crc, Some((Algo::Crc32, "cbf43926".into())));
        let mut m = Digests::new(Some(Algo::Md5));
        m.update(b"abc");
        assert_eq!(m.finish().1.unwrap().1, "900150983cd24fb0d6963f7d28e17f72");
    }
}
