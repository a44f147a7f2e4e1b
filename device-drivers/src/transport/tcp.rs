//! TCP client connections with a connect timeout.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::error::{DriverError, Result};

/// Connects to `host:port` (name or address), giving up after `timeout`.
/// Every failure is a `Connect` error naming `host:port`.
pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream> {
    let target = format!("{host}:{port}");
    let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(source)) => return Err(DriverError::Connect { target, source }),
        Err(_) => {
            let source = io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer within {}", humantime::format_duration(timeout)),
            );
            return Err(DriverError::Connect { target, source });
        }
    };
    // Queries are small lines: send them at once instead of waiting for Nagle.
    stream.set_nodelay(true).map_err(|source| DriverError::Io { target, source })?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connect_names_host_and_port() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = connect("127.0.0.1", port, Duration::from_secs(2)).await.unwrap_err();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(err.is_link_failure());
    }

    #[tokio::test]
    async fn unknown_host_is_a_connect_error() {
        let err = connect("no-such-host.invalid", 5025, Duration::from_secs(2)).await.unwrap_err();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-host.invalid:5025"), "{err}");
    }
}
