//! One FTP session with an instrument: log in, list a folder tree, fetch a
//! file streamed to disk (resumed with `REST` from a `.part` file left by a
//! cut), check it by size and the server's checksum, delete it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use suppaftp::list::{File as ListEntry, ListParser};
use suppaftp::tokio::AsyncFtpStream;
use suppaftp::types::{FileType, Response};
use suppaftp::{FtpError as Suppa, Mode, Status};
use tokio::io::AsyncReadExt;

use super::checksum::{Digests, ServerHash, digest_in_reply};

/// Where and how to log in. The password comes from the OS keychain
/// (core reads it); it is never printed, `Debug` hides it.
#[derive(Clone)]
pub struct FtpLogin {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// Passive mode (`PASV`): the client opens the data connection, which
    /// works through NAT and firewalls; active (`PORT`) otherwise.
    pub passive: bool,
    /// Connect, reply and read timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for FtpLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ftp://{}@{}:{} (passive {})", self.user, self.host, self.port, self.passive)
    }
}

/// A file on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// Absolute path on the server, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Modification time (ms since the epoch) when the listing gives one.
    pub modified_ms: Option<i64>,
}

impl RemoteFile {
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// What a fetch verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// Bytes that were already on disk from an earlier, cut transfer.
    pub resumed_from: u64,
    /// The server's checksum that matched ("MD5 9001..."), if it offers one.
    pub server_checksum: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub struct FetchProgress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FtpError {
    #[error("cannot reach the FTP server {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("the FTP server {addr} refused the login of user `{user}`: {reply}")]
    Login { addr: String, user: String, reply: String },
    #[error("folder `{folder}` not found on the FTP server {addr}: {reply}")]
    Folder { addr: String, folder: String, reply: String },
    #[error("{path}: {size} bytes is more than the {limit} bytes allowed")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path}: the transfer was cut at {at} of {size} bytes ({reason}); the next fetch resumes there")]
    Cut { path: String, at: u64, size: u64, reason: String },
    #[error("{path}: the server sent {got} bytes, its listing said {expected}")]
    SizeMismatch { path: String, expected: u64, got: u64 },
    #[error("{path}: {algo} differs: server {server}, received {local}; the copy is discarded")]
    ChecksumMismatch { path: String, algo: &'static str, server: String, local: String },
    #[error("{path}: the FTP server refused `{command}`: {reply}")]
    Refused { path: String, command: &'static str, reply: String },
    #[error("{}: {source}", path.display())]
    Disk { path: PathBuf, source: std::io::Error },
    #[error("the FTP server {addr}: {reason}")]
    Protocol { addr: String, reason: String },
}

impl FtpError {
    /// A cut transfer (its part file kept) or an unreachable server: the
    /// next attempt may succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, FtpError::Connect { .. } | FtpError::Cut { .. } | FtpError::Protocol { .. })
    }
}

fn reply_text(e: &Suppa) -> String {
    match e {
        Suppa::UnexpectedResponse(r) => response_text(r),
        other => other.to_string(),
    }
}

fn response_text(r: &Response) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let body = body.trim();
    // The body usually starts with the code itself.
    if body.starts_with(&r.status.code().to_string()) {
        body.to_string()
    } else {
        format!("{} {body}", r.status.code())
    }
}

/// Bytes of one read from the data connection and one write to disk.
const CHUNK: usize = 1 << 20;

pub struct FtpSession {
    ftp: AsyncFtpStream,
    addr: String,
    timeout: Duration,
    hash: Option<ServerHash>,
    can_mlsd: bool,
}

impl FtpSession {
    /// Connects, logs in, switches to binary and reads the FEAT reply.
    pub async fn connect(login: &FtpLogin) -> Result<FtpSession, FtpError> {
        let addr = format!("{}:{}", login.host, login.port);
        let connect_err = |reason: String| FtpError::Connect { addr: addr.clone(), reason };
        let sock: SocketAddr = tokio::time::timeout(login.timeout, tokio::net::lookup_host(&addr))
            .await
            .map_err(|_| connect_err("no address in time".into()))?
            .map_err(|e| connect_err(e.to_string()))?
            .next()
            .ok_or_else(|| connect_err("the host name has no address".into()))?;
        let ftp = tokio::time::timeout(login.timeout, AsyncFtpStream::connect_timeout(sock, login.timeout))
            .await
            .map_err(|_| connect_err(format!("no greeting within {:?}", login.timeout)))?
            .map_err(|e| connect_err(reply_text(&e)))?;
        let mut ftp = if login.passive {
            let mut f = ftp;
            f.set_mode(Mode::Passive);
            f
        } else {
            ftp.active_mode(login.timeout)
        };
        let timed =
            |what: &'static str| FtpError::Protocol { addr: addr.clone(), reason: format!("no reply to {what}") };
        tokio::time::timeout(login.timeout, ftp.login(login.user.as_str(), login.password.as_str()))
            .await
            .map_err(|_| timed("USER/PASS"))?
            .map_err(|e| match e {
                // A reply is a refusal; a dropped link is not about the login.
                Suppa::UnexpectedResponse(r) => {
                    FtpError::Login { addr: addr.clone(), user: login.user.clone(), reply: response_text(&r) }
                }
                other => FtpError::Connect { addr: addr.clone(), reason: reply_text(&other) },
            })?;
        tokio::time::timeout(login.timeout, ftp.transfer_type(FileType::Binary))
            .await
            .map_err(|_| timed("TYPE I"))?
            .map_err(|e| FtpError::Protocol { addr: addr.clone(), reason: format!("TYPE I: {}", reply_text(&e)) })?;
        // A server without FEAT (RFC 959 only) is fine: size checks only.
        let features: HashMap<String, Option<String>> = match tokio::time::timeout(login.timeout, ftp.feat()).await {
            Ok(Ok(f)) => f,
            _ => HashMap::new(),
        };
        let has = |k: &str| features.keys().any(|f| f.eq_ignore_ascii_case(k));
        Ok(FtpSession {
            hash: ServerHash::from_features(&features),
            can_mlsd: has("MLST"),
            ftp,
            addr,
            timeout: login.timeout,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The checksum this server computes, if any.
    pub fn server_hash(&self) -> Option<ServerHash> {
        self.hash
    }

    /// Every file under `folder`, down to `depth` levels of subfolders.
    pub async fn list_tree(&mut self, folder: &str, depth: usize) -> Result<Vec<RemoteFile>, FtpError> {
        let root = normalise_folder(folder);
        // A missing folder is told apart from an empty one by CWD.
        let cwd = timed(&self.addr, self.timeout, "CWD", self.ftp.cwd(&root)).await?;
        if let Err(e) = cwd {
            return Err(FtpError::Folder { addr: self.addr.clone(), folder: root, reply: reply_text(&e) });
        }
        let mut out = Vec::new();
        let mut todo = vec![(root, 0usize)];
        while let Some((dir, level)) = todo.pop() {
            for entry in self.list_dir(&dir).await? {
                let path = join(&dir, entry.name());
                if entry.is_directory() {
                    if level < depth && entry.name() != "." && entry.name() != ".." {
                        todo.push((path, level + 1));
                    }
                } else if entry.is_file() {
                    let modified_ms = entry
                        .modified()
                        .duration_since(UNIX_EPOCH)
                        .ok()
                        .and_then(|d| i64::try_from(d.as_millis()).ok())
                        .filter(|ms| *ms > 0);
                    out.push(RemoteFile { path, size: entry.size() as u64, modified_ms });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    async fn list_dir(&mut self, dir: &str) -> Result<Vec<ListEntry>, FtpError> {
        let lines = if self.can_mlsd {
            timed(&self.addr, self.timeout, "MLSD", self.ftp.mlsd(Some(dir))).await?
        } else {
            timed(&self.addr, self.timeout, "LIST", self.ftp.list(Some(dir))).await?
        }
        .map_err(|e| FtpError::Folder {
            addr: self.addr.clone(),
            folder: dir.to_string(),
            reply: reply_text(&e),
        })?;
        Ok(lines
            .iter()
            .filter_map(|l| {
                let l = l.trim_end();
                if self.can_mlsd {
                    ListParser::parse_mlsd(l).ok()
                } else {
                    ListParser::parse_posix(l).or_else(|_| ListParser::parse_dos(l)).ok()
                }
            })
            .collect())
    }

    /// The file's size by `SIZE` (binary mode).
    pub async fn size(&mut self, path: &str) -> Result<u64, FtpError> {
        timed(&self.addr, self.timeout, "SIZE", self.ftp.size(path))
            .await?
            .map(|s| s as u64)
            .map_err(|e| FtpError::Refused { path: path.to_string(), command: "SIZE", reply: reply_text(&e) })
    }

    /// Fetches `remote` to `dest`, streamed through `dest.part`; a part
    /// left by a cut transfer is resumed from its length (`REST`). The copy
    /// is renamed into place only once its size and checksum are right.
    pub async fn fetch(
        &mut self,
        remote: &str,
        dest: &Path,
        limit: u64,
        progress: &mut (dyn FnMut(FetchProgress) + Send),
    ) -> Result<Fetched, FtpError> {
        let size = self.size(remote).await?;
        if size > limit {
            return Err(FtpError::TooLarge { path: remote.to_string(), size, limit });
        }
        let part = part_path(dest);
        let disk = |source: std::io::Error| FtpError::Disk { path: part.clone(), source };
        if let Some(dir) = part.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(disk)?;
        }
        let extra = self.hash.map(|h| h.algo()).filter(|a| *a != super::Algo::Sha256);
        let mut digests = Digests::new(extra);
        // What an earlier cut left: hashed again (never trusted blindly)
        // and kept if it is not longer than the file.
        let mut have = tokio::fs::metadata(&part).await.map(|m| m.len()).unwrap_or(0);
        if have > size {
            have = 0;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .read(true)
            .truncate(false)
            .open(&part)
            .map_err(disk)?;
        let (file, digests_back) = tokio::task::spawn_blocking(move || rehash_prefix(file, have, digests))
            .await
            .map_err(|e| disk(std::io::Error::other(e.to_string())))?
            .map_err(disk)?;
        digests = digests_back;
        let resumed_from = have;
        progress(FetchProgress { done: have, total: size });

        let mut got = have;
        if have < size {
            let offset = usize::try_from(have).unwrap_or(usize::MAX);
            let _ = self.ftp.resume_transfer(offset).await;
            let mut stream = timed(&self.addr, self.timeout, "RETR", self.ftp.retr_as_stream(remote))
                .await?
                .map_err(|e| FtpError::Refused { path: remote.to_string(), command: "RETR", reply: reply_text(&e) })?;
            // The disk side runs on a blocking thread: the socket is read
            // while the previous chunk is written and hashed.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
            let (back_tx, mut back_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(6);
            for _ in 0..6 {
                let _ = back_tx.try_send(vec![0u8; CHUNK]);
            }
            let writer = tokio::task::spawn_blocking(move || write_chunks(file, rx, back_tx, digests));
            let mut cut: Option<String> = None;
            while got < size {
                let Some(mut buf) = back_rx.recv().await else { break };
                buf.resize(CHUNK, 0);
                match tokio::time::timeout(self.timeout, stream.read(&mut buf)).await {
                    Ok(Ok(0)) => break,
                    Ok(Ok(n)) => {
                        buf.truncate(n);
                        got += n as u64;
                        if tx.send(buf).is_err() {
                            break;
                        }
                        progress(FetchProgress { done: got.min(size), total: size });
                    }
                    Ok(Err(e)) => {
                        cut = Some(e.to_string());
                        break;
                    }
                    Err(_) => {
                        cut = Some(format!("no data for {:?}", self.timeout));
                        break;
                    }
                }
            }
            drop(tx);
            let written = writer.await.map_err(|e| disk(std::io::Error::other(e.to_string())))?;
            let (_, d) = written.map_err(disk)?;
            digests = d;
            let finish = tokio::time::timeout(self.timeout, stream.finish()).await;
            if cut.is_none() {
                match finish {
                    Err(_) => cut = Some("no transfer reply".into()),
                    Ok(Err(e)) if got < size => cut = Some(reply_text(&e)),
                    _ => {}
                }
            }
            if got < size {
                return Err(FtpError::Cut {
                    path: remote.to_string(),
                    at: got,
                    size,
                    reason: cut.unwrap_or_else(|| "the data connection closed early".into()),
                });
            }
        }
        let on_disk = tokio::fs::metadata(&part).await.map_err(disk)?.len();
        if on_disk != size {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(FtpError::SizeMismatch { path: remote.to_string(), expected: size, got: on_disk });
        }
        let (sha256, extra_digest) = digests.finish();
        let mut server_checksum = None;
        if let Some(h) = self.hash {
            let server = self.server_digest(remote, h).await?;
            let local = match (h.algo(), &extra_digest) {
                (super::Algo::Sha256, _) => sha256.clone(),
                (_, Some((_, d))) => d.clone(),
                (_, None) => String::new(),
            };
            if let Some(server) = server {
                if server != local {
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(FtpError::ChecksumMismatch {
                        path: remote.to_string(),
                        algo: h.algo().name(),
                        server,
                        local,
                    });
                }
                server_checksum = Some(format!("{} {server}", h.algo().name()));
            }
        }
        tokio::fs::rename(&part, dest).await.map_err(|source| FtpError::Disk { path: dest.to_path_buf(), source })?;
        Ok(Fetched { path: dest.to_path_buf(), size, sha256, resumed_from, server_checksum })
    }

    /// The server's digest of `remote`; `None` when it has stopped offering
    /// one for this file (then size alone checked it).
    async fn server_digest(&mut self, remote: &str, how: ServerHash) -> Result<Option<String>, FtpError> {
        let algo = how.algo();
        let reply = match how {
            ServerHash::Hash(a) => {
                let opts = timed(
                    &self.addr,
                    self.timeout,
                    "OPTS HASH",
                    self.ftp.custom_command(format!("OPTS HASH {}", a.name()), &[Status::CommandOk]),
                )
                .await?;
                if opts.is_err() {
                    return Ok(None);
                }
                timed(
                    &self.addr,
                    self.timeout,
                    "HASH",
                    self.ftp.custom_command(format!("HASH {remote}"), &[Status::File]),
                )
                .await?
            }
            ServerHash::Legacy(a) => {
                let cmd = match a {
                    super::Algo::Sha256 => "XSHA256",
                    super::Algo::Md5 => "XMD5",
                    super::Algo::Crc32 => "XCRC",
                };
                timed(
                    &self.addr,
                    self.timeout,
                    cmd,
                    self.ftp.custom_command(format!("{cmd} {remote}"), &[Status::File, Status::RequestedFileActionOk]),
                )
                .await?
            }
        };
        match reply {
            Ok(r) => Ok(digest_in_reply(algo, &String::from_utf8_lossy(&r.body))),
            Err(e) => Err(FtpError::Refused { path: remote.to_string(), command: "checksum", reply: reply_text(&e) }),
        }
    }

    /// Deletes a file on the server (after the cloud confirmed its copy).
    pub async fn delete(&mut self, remote: &str) -> Result<(), FtpError> {
        timed(&self.addr, self.timeout, "DELE", self.ftp.rm(remote)).await?.map_err(|e| FtpError::Refused {
            path: remote.to_string(),
            command: "DELE",
            reply: reply_text(&e),
        })
    }

    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ftp.quit()).await;
    }
}

/// Bounds one FTP exchange by the session's timeout.
async fn timed<T>(
    addr: &str,
    timeout: Duration,
    what: &str,
    f: impl Future<Output = Result<T, Suppa>>,
) -> Result<Result<T, Suppa>, FtpError> {
    tokio::time::timeout(timeout, f).await.map_err(|_| FtpError::Protocol {
        addr: addr.to_string(),
        reason: format!("no reply to {what} within {timeout:?}"),
    })
}

/// `<dest>.part`: where a transfer lands until it verifies.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

fn normalise_folder(folder: &str) -> String {
    let f = folder.trim();
    let f = if f.starts_with('/') { f.to_string() } else { format!("/{f}") };
    if f.len() > 1 { f.trim_end_matches('/').to_string() } else { f }
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') { format!("{dir}{name}") } else { format!("{dir}/{name}") }
}

/// Hashes the first `len` bytes of a part file and cuts anything after it.
fn rehash_prefix(mut file: std::fs::File, len: u64, mut digests: Digests) -> std::io::Result<(std::fs::File, Digests)> {
    use std::io::{Read, Seek, SeekFrom};
    file.set_len(len)?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        file.read_exact(&mut buf[..want])?;
        digests.update(&buf[..want]);
        left -= want as u64;
    }
    file.seek(SeekFrom::Start(len))?;
    Ok((file, digests))
}

/// The disk side of a fetch: writes and hashes chunks, hands buffers back.
fn write_chunks(
    mut file: std::fs::File,
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    back: tokio::sync::mpsc::Sender<Vec<u8>>,
    mut digests: Digests,
) -> std::io::Result<(std::fs::File, Digests)> {
    use std::io::Write;
    while let Ok(buf) = rx.recv() {
        file.write_all(&buf)?;
        digests.update(&buf);
        let _ = back.try_send(buf);
    }
    file.sync_all()?;
    Ok((file, digests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_paths() {
        assert_eq!(normalise_folder("DATA/"), "/DATA");
        assert_eq!(normalise_folder("/"), "/");
        assert_eq!(join("/", "a.mem"), "/a.mem");
        assert_eq!(join("/DATA", "a.mem"), "/DATA/a.mem");
        assert_eq!(part_path(Path::new("/x/a.mem")), PathBuf::from("/x/a.mem.part"));
        let f = RemoteFile { path: "/DATA/2026/W1.MEM".into(), size: 1, modified_ms: None };
        assert_eq!(f.name(), "W1.MEM");
    }

    #[test]
    fn login_debug_hides_the_password() {
        let l = FtpLogin {
            host: "h".into(),
            port: 21,
            user: "u".into(),
            password: "s3cret".into(),
            passive: true,
            timeout: Duration::from_secs(1),
        };
        assert!(!format!("{l:?}").contains("s3cret"));
    }
}
