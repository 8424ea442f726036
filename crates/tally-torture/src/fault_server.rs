//! A fault-injecting OpenAI-compatible server with deterministic answers.
//!
//! Every answer is a pure function of the request's content ([`crate::answers`]), so a run that
//! was killed and resumed must end with the same bytes as an uninterrupted one. Faults are drawn
//! per request from a seeded generator and never change an answer's content: they only make the
//! client see an error (500, 429 with `Retry-After: 0`), a dropped connection (RST), a hang, a
//! body cut short, a body sent slowly, or a delay.
//!
//! The server speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) for Tally's
//! clients; raw sockets are what make resets and torn bodies possible.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tally_core::SplitMix64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::answers::reply_for;

/// One kind of misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// HTTP 500 with a JSON error body.
    ServerError,
    /// HTTP 429 with `Retry-After: 0`.
    TooManyRequests,
    /// The connection is closed with a TCP reset and no answer.
    Reset,
    /// No answer for [`FaultConfig::hang`], then the connection is closed.
    Hang,
    /// Headers promise the whole body; half of it is sent, then the connection closes.
    TruncatedBody,
    /// The right answer, in small pieces over about half a second.
    SlowBody,
    /// The right answer after half a second.
    Delay,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::ServerError,
        Fault::TooManyRequests,
        Fault::Reset,
        Fault::Hang,
        Fault::TruncatedBody,
        Fault::SlowBody,
        Fault::Delay,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "500",
            Fault::TooManyRequests => "429",
            Fault::Reset => "reset",
            Fault::Hang => "hang",
            Fault::TruncatedBody => "truncated-body",
            Fault::SlowBody => "slow-body",
            Fault::Delay => "delay",
        }
    }
}

/// How the server misbehaves.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// Fraction of generation requests that get a fault (0 for a well-behaved server).
    pub fault_rate: f64,
    /// The faults to draw from, uniformly.
    pub faults: Vec<Fault>,
    /// Seed of the fault draws.
    pub seed: u64,
    /// Added to every generation answer (makes runs long enough to be killed mid-way).
    pub latency: Duration,
    /// How long a [`Fault::Hang`] lasts before the server closes the connection.
    pub hang: Duration,
}

impl FaultConfig {
    /// No faults, no latency: an instant, well-behaved server.
    pub fn clean() -> FaultConfig {
        FaultConfig {
            fault_rate: 0.0,
            faults: Fault::ALL.to_vec(),
            seed: 0,
            latency: Duration::ZERO,
            hang: Duration::from_secs(3),
        }
    }

    /// Every fault kind at `rate`, with `latency` per answer.
    pub fn flaky(rate: f64, seed: u64, latency: Duration) -> FaultConfig {
        FaultConfig {
            fault_rate: rate,
            seed,
            latency,
            ..FaultConfig::clean()
        }
    }
}

/// Counters of what the server did.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub answered: AtomicU64,
    pub faults: AtomicU64,
}

/// A running fault server; stopped when dropped.
pub struct FaultServer {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    /// Binds 127.0.0.1 on a free port and serves on a thread of its own (its own runtime, so the
    /// caller may be synchronous).
    pub fn start(config: FaultConfig) -> std::io::Result<FaultServer> {
        FaultServer::start_on(0, config)
    }

    /// As [`FaultServer::start`], on 127.0.0.1:`port` (0: any free port).
    pub fn start_on(port: u16, config: FaultConfig) -> std::io::Result<FaultServer> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counters.clone(), stop.clone());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("fault-server".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let config = Arc::new(config);
                    while !s.load(Ordering::Relaxed) {
                        let accepted =
                            tokio::time::timeout(Duration::from_millis(50), listener.accept())
                                .await;
                        if let Ok(Ok((sock, _))) = accepted {
                            let _ = sock.set_nodelay(true);
                            tokio::spawn(serve_connection(sock, config.clone(), c.clone()));
                        }
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(100));
            })?;
        Ok(FaultServer {
            addr,
            counters,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn serve_connection(mut sock: TcpStream, config: Arc<FaultConfig>, counters: Arc<Counters>) {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let req = match read_request(&mut sock, &mut buf).await {
            Some(r) => r,
            None => return,
        };
        let keep = handle(&mut sock, req, &config, &counters).await;
        if !keep {
            return;
        }
    }
}

/// Reads one request (headers + `Content-Length` body); `None` on EOF or garbage.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let header_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end]).ok()?.to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let mut len = 0usize;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok()?;
            }
        }
    }
    while buf.len() < header_end + len {
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[header_end..header_end + len].to_vec();
    buf.drain(..header_end + len);
    Some(Request { method, path, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Answers one request; `false` when the connection must close.
async fn handle(
    sock: &mut TcpStream,
    req: Request,
    config: &FaultConfig,
    counters: &Counters,
) -> bool {
    let path = req.path.split('?').next().unwrap_or("");
    match (req.method.as_str(), path) {
        ("GET", "/v1/models") | ("GET", "/models") => {
            let body = r#"{"object": "list", "data": [{"id": "fault-model", "object": "model", "owned_by": "tally-torture"}]}"#;
            return write_response(sock, 200, &[], body.as_bytes()).await;
        }
        ("GET", "/health") | ("GET", "/v1/health") => {
            return write_response(sock, 200, &[], b"{\"status\": \"ok\"}").await;
        }
        ("POST", "/v1/completions") | ("POST", "/v1/chat/completions") => {}
        _ => return write_response(sock, 404, &[], b"{\"error\": \"not found\"}").await,
    }
    let n = counters.requests.fetch_add(1, Ordering::Relaxed);
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return write_response(sock, 400, &[], b"{\"error\": \"body is not JSON\"}").await;
    };
    let chat = path.ends_with("/chat/completions");
    let answer = serde_json::to_vec(&reply_for(&body).to_openai(chat)).unwrap_or_default();

    let mut rng = SplitMix64::new(config.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let fault = if !config.faults.is_empty() && rng.next_f64() < config.fault_rate {
        Some(config.faults[rng.below(config.faults.len())])
    } else {
        None
    };
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    if fault.is_some() {
        counters.faults.fetch_add(1, Ordering::Relaxed);
    }
    match fault {
        None => {
            counters.answered.fetch_add(1, Ordering::Relaxed);
            write_response(sock, 200, &[], &answer).await
        }
        Some(Fault::ServerError) => {
            write_response(
                sock,
                500,
                &[],
                b"{\"error\": {\"message\": \"injected server error\"}}",
            )
            .await
        }
        Some(Fault::TooManyRequests) => {
            write_response(
                sock,
                429,
                &[("Retry-After", "0")],
                b"{\"error\": {\"message\": \"injected rate limit\"}}",
            )
            .await
        }
        Some(Fault::Reset) => {
            // A zero linger makes the close a reset (RST) and never blocks.
            #[allow(deprecated)]
            let _ = sock.set_linger(Some(Duration::ZERO));
            false
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(config.hang).await;
            false
        }
        Some(Fault::TruncatedBody) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                answer.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&answer[..answer.len() / 2]).await;
            let _ = sock.flush().await;
            false
        }
        Some(Fault::SlowBody) => {
            counters.answered.fetch_add(1, Ordering::Relaxed);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                answer.len()
            );
            if sock.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            let pieces = 10;
            let step = answer.len().div_ceil(pieces).max(1);
            for piece in answer.chunks(step) {
                if sock.write_all(piece).await.is_err() || sock.flush().await.is_err() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            true
        }
        Some(Fault::Delay) => {
            counters.answered.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(500)).await;
            write_response(sock, 200, &[], &answer).await
        }
    }
}

async fn write_response(
    sock: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> bool {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    sock.write_all(&out).await.is_ok() && sock.flush().await.is_ok()
}
