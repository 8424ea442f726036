//! A lean HTTP/1.1 client for plain `http://` model servers.
//!
//! reqwest (over hyper's pooled client) spent most of the client's per-request CPU time against
//! a local server: a task hand-off per request between the caller and a connection task, header
//! maps, URL clones, several allocations. Talking to vLLM/SGLang/llama.cpp on the same network
//! needs far less: one keep-alive connection per request in flight, the request head prepared
//! once per endpoint, one `write` of head and body, and the answer read into the connection's
//! own buffer. TLS, proxies and anything else unusual stay with reqwest (see `openai_compat`).
//!
//! Behaviour kept from hyper's client: keep-alive with a 90 s idle limit, connections the server
//! closed while idle are noticed before reuse, `Content-Length`, chunked and read-to-close
//! bodies, interim `1xx` answers skipped, `Connection: close` and HTTP/1.0 honoured.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// hyper's default limit.
const MAX_HEADERS: usize = 100;
/// Buffers that grew past this for one large prompt or answer are not kept on idle connections.
const KEEP_BUFFER: usize = 64 * 1024;
const READ_CHUNK: usize = 8 * 1024;

/// A pool of keep-alive connections to one `host:port`.
pub(crate) struct Http1 {
    /// `host:port` as `lookup_host` takes it (IPv6 literals in brackets).
    connect_to: String,
    connect_timeout: Duration,
    max_idle: usize,
    /// Most recently returned last: reuse is LIFO, so the oldest (first to expire) sit in front.
    idle: Mutex<Vec<Idle>>,
}

impl fmt::Debug for Http1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http1")
            .field("connect_to", &self.connect_to)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_idle", &self.max_idle)
            .finish_non_exhaustive()
    }
}

struct Idle {
    conn: Conn,
    since: Instant,
}

struct Conn {
    stream: TcpStream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
}

pub(crate) struct Response {
    pub status: StatusCode,
    /// The raw `Retry-After` value, if any.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

pub(crate) enum Error {
    /// No connection could be opened: DNS, refused, unreachable, connect timeout.
    Connect(io::Error),
    /// The connection failed, or the server answered something that is not HTTP/1.x, before a
    /// complete response head arrived.
    Exchange(io::Error),
    /// The head arrived; the body was cut short or malformed.
    Body {
        status: StatusCode,
        error: io::Error,
    },
}

/// The request line and fixed headers of one endpoint; `send` adds `content-length` and the body.
/// It may hold an `Authorization` header, so it has no `Debug`.
pub(crate) fn request_head(
    method: &str,
    target: &str,
    host: &str,
    user_agent: &str,
    bearer: Option<&str>,
    json_body: bool,
) -> Vec<u8> {
    let mut h = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = write!(
        h,
        "{method} {target} HTTP/1.1\r\nhost: {host}\r\nuser-agent: {user_agent}\r\naccept: */*\r\n"
    );
    if json_body {
        h.extend_from_slice(b"content-type: application/json\r\n");
    }
    if let Some(key) = bearer {
        let _ = write!(h, "authorization: Bearer {key}\r\n");
    }
    h
}

impl Http1 {
    pub(crate) fn new(connect_to: String, connect_timeout: Duration, max_idle: usize) -> Http1 {
        Http1 {
            connect_to,
            connect_timeout,
            max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// One request/response exchange on a pooled or new connection. The caller bounds the whole
    /// call with its timeout; dropping the future closes the connection it was using.
    pub(crate) async fn send(&self, head: &[u8], body: Option<&[u8]>) -> Result<Response, Error> {
        let mut conn = match self.checkout() {
            Some(c) => c,
            None => self.connect().await?,
        };
        let (response, reusable) = conn.exchange(head, body).await?;
        if reusable {
            self.checkin(conn);
        }
        Ok(response)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // A panic while holding the lock cannot leave the Vec inconsistent.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn checkout(&self) -> Option<Conn> {
        loop {
            let Idle { conn, since } = self.lock().pop()?;
            if since.elapsed() >= IDLE_TIMEOUT {
                // Everything below it is older still.
                self.lock().clear();
                return None;
            }
            if conn.is_open() {
                return Some(conn);
            }
        }
    }

    fn checkin(&self, conn: Conn) {
        let now = Instant::now();
        let mut idle = self.lock();
        if idle
            .first()
            .is_some_and(|c| now.duration_since(c.since) >= IDLE_TIMEOUT)
        {
            let expired = idle.partition_point(|c| now.duration_since(c.since) >= IDLE_TIMEOUT);
            idle.drain(..expired);
        }
        if idle.len() < self.max_idle {
            idle.push(Idle { conn, since: now });
        }
    }

    async fn connect(&self) -> Result<Conn, Error> {
        let open = async {
            let mut last = None;
            for addr in tokio::net::lookup_host(&self.connect_to).await? {
                match TcpStream::connect(addr).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "the host name has no address")
            }))
        };
        let stream = tokio::time::timeout(self.connect_timeout, open)
            .await
            .map_err(|_| {
                Error::Connect(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect timed out after {:?}", self.connect_timeout),
                ))
            })?
            .map_err(Error::Connect)?;
        // Head and body go out in one write, but a small answer must not wait for Nagle.
        stream.set_nodelay(true).map_err(Error::Connect)?;
        Ok(Conn {
            stream,
            rbuf: Vec::new(),
            wbuf: Vec::new(),
        })
    }
}

/// What the response head says about the body and the connection.
struct Head {
    status: StatusCode,
    len: usize,
    content_length: Option<usize>,
    chunked: bool,
    keep_alive: bool,
    retry_after: Option<String>,
}

fn bad_data(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn closed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed {what}"),
    )
}

impl Conn {
    /// Whether the server has not closed (or written to) the connection while it sat idle.
    fn is_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Reads more bytes into `rbuf`; `Ok(0)` is end of stream.
    async fn fill(&mut self, want: usize) -> io::Result<usize> {
        self.rbuf.reserve(want.max(READ_CHUNK));
        self.stream.read_buf(&mut self.rbuf).await
    }

    async fn exchange(
        &mut self,
        head: &[u8],
        body: Option<&[u8]>,
    ) -> Result<(Response, bool), Error> {
        self.wbuf.clear();
        self.wbuf.extend_from_slice(head);
        match body {
            Some(b) => {
                let _ = write!(self.wbuf, "content-length: {}\r\n\r\n", b.len());
                self.wbuf.extend_from_slice(b);
            }
            None => self.wbuf.extend_from_slice(b"\r\n"),
        }
        self.stream
            .write_all(&self.wbuf)
            .await
            .map_err(Error::Exchange)?;
        self.rbuf.clear();

        let mut start = 0;
        let head = loop {
            match parse_head(&self.rbuf[start..]).map_err(Error::Exchange)? {
                Some(h) if h.status.is_informational() => start += h.len,
                Some(h) => break h,
                None => {
                    if self.fill(0).await.map_err(Error::Exchange)? == 0 {
                        return Err(Error::Exchange(closed("before the response")));
                    }
                }
            }
        };
        let status = head.status;
        let body_start = start + head.len;
        let cut = |error: io::Error| Error::Body { status, error };
        let (body, framed) =
            if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
                (Vec::new(), self.rbuf.len() == body_start)
            } else if head.chunked {
                self.read_chunked(body_start).await.map_err(cut)?
            } else if let Some(len) = head.content_length {
                let end = body_start + len;
                while self.rbuf.len() < end {
                    let want = end - self.rbuf.len();
                    if self.fill(want).await.map_err(cut)? == 0 {
                        return Err(cut(closed("in the middle of the body")));
                    }
                }
                (self.rbuf[body_start..end].to_vec(), self.rbuf.len() == end)
            } else {
                // No framing: the body runs to the end of the connection.
                while self.fill(0).await.map_err(cut)? != 0 {}
                (self.rbuf[body_start..].to_vec(), false)
            };
        if self.rbuf.capacity() > KEEP_BUFFER {
            self.rbuf = Vec::new();
        }
        if self.wbuf.capacity() > KEEP_BUFFER {
            self.wbuf = Vec::new();
        }
        let response = Response {
            status,
            retry_after: head.retry_after,
            body,
        };
        Ok((response, framed && head.keep_alive))
    }

    /// Decodes a chunked body starting at `pos`; also says whether it ended exactly at the end of
    /// what was read (anything after it would be an unasked-for answer: do not reuse).
    async fn read_chunked(&mut self, mut pos: usize) -> io::Result<(Vec<u8>, bool)> {
        let mut body = Vec::new();
        loop {
            let Some(eol) = find_crlf(&self.rbuf[pos..]) else {
                if self.rbuf.len() - pos > 1024 {
                    return Err(bad_data("chunk size line too long"));
                }
                if self.fill(0).await? == 0 {
                    return Err(closed("in the middle of a chunked body"));
                }
                continue;
            };
            let size = chunk_size(&self.rbuf[pos..pos + eol])?;
            let data = pos + eol + 2;
            if size == 0 {
                // Trailer fields, then an empty line.
                let mut p = data;
                loop {
                    match find_crlf(&self.rbuf[p..]) {
                        Some(0) => return Ok((body, p + 2 == self.rbuf.len())),
                        Some(i) => p += i + 2,
                        None => {
                            if self.fill(0).await? == 0 {
                                return Err(closed("in the chunked trailer"));
                            }
                        }
                    }
                }
            }
            let end = data
                .checked_add(size)
                .and_then(|e| e.checked_add(2))
                .ok_or_else(|| bad_data("chunk size too large"))?;
            while self.rbuf.len() < end {
                let want = end - self.rbuf.len();
                if self.fill(want).await? == 0 {
                    return Err(closed("in the middle of a chunk"));
                }
            }
            if &self.rbuf[end - 2..end] != b"\r\n" {
                return Err(bad_data("chunk not followed by CRLF"));
            }
            body.extend_from_slice(&self.rbuf[data..end - 2]);
            pos = end;
        }
    }
}

/// Parses a response head; `None` until it is complete.
fn parse_head(buf: &[u8]) -> io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    let len = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(bad_data(format!("invalid HTTP response: {e}"))),
    };
    let code = r.code.unwrap_or(0);
    let status =
        StatusCode::from_u16(code).map_err(|_| bad_data(format!("invalid HTTP status {code}")))?;
    let http11 = r.version == Some(1);
    let mut head = Head {
        status,
        len,
        content_length: None,
        chunked: false,
        keep_alive: http11,
        retry_after: None,
    };
    for h in r.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| bad_data("invalid content-length"))?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err(bad_data("conflicting content-length headers"));
            }
            head.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked is always the last coding when present (RFC 9112 §6.1).
            head.chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && !http11 {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = std::str::from_utf8(h.value).ok().map(str::to_string);
        }
    }
    if head.chunked {
        // RFC 9112 §6.3: chunked wins over a content-length, and such a connection is suspect.
        head.content_length = None;
    }
    Ok(Some(head))
}

fn chunk_size(line: &[u8]) -> io::Result<usize> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty())
        .and_then(|d| usize::from_str_radix(d, 16).ok())
        .ok_or_else(|| bad_data("invalid chunk size"))
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    /// A server that reads one request per `answers` entry on one connection and writes the
    /// entry back raw; returns how many connections it accepted.
    async fn raw_server(answers: Vec<Vec<u8>>) -> (String, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let mut accepted = 0;
            let mut answers = answers.into_iter().peekable();
            while answers.peek().is_some() {
                let (mut s, _) = listener.accept().await.unwrap();
                accepted += 1;
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let Ok(n) = s.read(&mut chunk).await else {
                        break;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    buf.drain(..end + 4 + len);
                    let Some(a) = answers.next() else { break };
                    let text = String::from_utf8_lossy(&a).to_ascii_lowercase();
                    let close = text.starts_with("http/1.0") || text.contains("connection: close");
                    s.write_all(&a).await.unwrap();
                    if close {
                        break;
                    }
                }
            }
            accepted
        });
        (addr, task)
    }

    fn head() -> Vec<u8> {
        request_head("POST", "/v1/completions", "h", "t", None, true)
    }

    #[tokio::test]
    async fn content_length_chunked_and_close_delimited_bodies() {
        let (addr, server) = raw_server(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_vec(),
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nRetry-After: 2\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0A\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            b"HTTP/1.0 200 OK\r\n\r\nuntil eof".to_vec(),
        ])
        .await;
        let c = Http1::new(addr, Duration::from_secs(5), 8);
        let r = c.send(&head(), Some(b"{}")).await.ok().unwrap();
        assert_eq!((r.status.as_u16(), &r.body[..]), (200, &b"hello"[..]));
        let r = c.send(&head(), Some(b"{}")).await.ok().unwrap();
        assert_eq!(r.status.as_u16(), 503);
        assert_eq!(r.retry_after.as_deref(), Some("2"));
        assert_eq!(r.body, b"abc0123456789");
        let r = c.send(&head(), None).await.ok().unwrap();
        assert_eq!(r.body, b"ok");
        // The previous answer said close: a new connection.
        let r = c.send(&head(), None).await.ok().unwrap();
        assert_eq!(r.body, b"until eof");
        assert_eq!(server.await.unwrap(), 2);
    }

    #[tokio::test]
    async fn cut_bodies_and_garbage_are_errors() {
        let (addr, _server) = raw_server(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\nconnection: close\r\n\r\nshort".to_vec(),
            b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(),
        ])
        .await;
        let c = Http1::new(addr, Duration::from_secs(5), 8);
        assert!(matches!(
            c.send(&head(), None).await,
            Err(Error::Body { status, .. }) if status == StatusCode::OK
        ));
        assert!(matches!(
            c.send(&head(), None).await,
            Err(Error::Exchange(_))
        ));
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_while_idle_is_not_reused() {
        // Answers one request per connection, keep-alive implied, then closes it.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            for answer in [&b"a"[..], b"b"] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    seen.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n")
                    .await
                    .unwrap();
                s.write_all(answer).await.unwrap();
            }
        });
        let c = Http1::new(addr, Duration::from_secs(5), 8);
        assert_eq!(c.send(&head(), None).await.ok().unwrap().body, b"a");
        // Let the FIN arrive while the connection sits in the pool.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(c.send(&head(), None).await.ok().unwrap().body, b"b");
        server.await.unwrap();
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"0 ; name=v").unwrap(), 0);
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"xyz").is_err());
        assert!(chunk_size(b"ffffffffffffffffffff").is_err());
    }
}
