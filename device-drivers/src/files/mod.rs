//! Measurement files on an instrument's FTP server (SPEC 1.9): list its
//! folder tree, fetch a file streamed to disk with resume after a cut
//! (`REST`), verified by size and by the server's own checksum when its
//! `FEAT` reply offers one (`HASH`, `XSHA256`, `XMD5`, `XCRC`).
//! No storage here: core records what was fetched.

pub mod checksum;
pub mod ftp;
pub mod pattern;

pub use checksum::{Algo, Digests};
pub use ftp::{FetchProgress, Fetched, FtpError, FtpLogin, FtpSession, RemoteFile};
pub use pattern::NamePattern;
