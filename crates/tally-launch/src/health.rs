//! Is the server up? One GET on loopback, read as far as the status line.
//!
//! A raw HTTP/1.1 request keeps an HTTP client stack out of this crate; all it needs is the
//! status code of a local endpoint.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Endpoints tried in order: every supported server answers `/health` with 200 once the model is
/// loaded (llama.cpp answers 503 while loading); `/v1/models` covers OpenAI-compatible servers
/// without `/health`.
const HEALTH_PATHS: [&str; 2] = ["/health", "/v1/models"];

/// What one probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Healthy,
    /// Something answered, but not 200 (still loading, or no such endpoint).
    NotReady(u16),
    /// Nothing listens yet, or the answer was not HTTP.
    Unreachable,
}

/// Probes `127.0.0.1:port`.
pub(crate) async fn probe(port: u16, timeout: Duration) -> Probe {
    let mut last = Probe::Unreachable;
    for path in HEALTH_PATHS {
        match tokio::time::timeout(timeout, get_status(port, path)).await {
            Ok(Some(200)) => return Probe::Healthy,
            // 404/405: try the next endpoint; anything else (503 while loading) is the answer.
            Ok(Some(code @ (404 | 405))) => last = Probe::NotReady(code),
            Ok(Some(code)) => return Probe::NotReady(code),
            Ok(None) | Err(_) => return Probe::Unreachable,
        }
    }
    last
}

/// The status code of `GET path`, or `None` when there is no HTTP answer.
async fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status_line(&head)
}

fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\nx: y\r\n"), Some(200));
        assert_eq!(
            parse_status_line(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status_line(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status_line(b""), None);
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        let port = crate::port::free_port().unwrap();
        assert_eq!(
            probe(port, Duration::from_secs(1)).await,
            Probe::Unreachable
        );
    }

    #[tokio::test]
    async fn falls_back_to_v1_models_on_404() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap();
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap().to_string();
                let code = if path == "/health" {
                    "404 Not Found"
                } else {
                    "200 OK"
                };
                s.write_all(format!("HTTP/1.1 {code}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
                seen.push(path);
            }
            seen
        });
        assert_eq!(probe(port, Duration::from_secs(5)).await, Probe::Healthy);
        assert_eq!(server.await.unwrap(), ["/health", "/v1/models"]);
    }
}
