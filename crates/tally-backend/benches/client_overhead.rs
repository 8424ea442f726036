//! Client overhead: requests/s the `OpenAiCompatBackend` sustains against a server that answers
//! instantly, at 1, 64 and 1024 requests in flight, what each request costs the client in CPU
//! time, and the memory each in-flight request costs (counted by a global allocator wrapper).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-backend cargo bench -p tally-backend --bench client_overhead --profile dev`
//!
//! Two set-ups, because the question is what the *client* costs:
//! - `separate_server`: the server is this same binary re-started as a child process
//!   (`TALLY_CLIENT_BENCH_SERVE`), a lean canned-answer loop pinned to the last CPU with
//!   `taskset`; the client runs on one tokio worker pinned to CPU 0. This process's CPU time is
//!   then the client's alone (plus its side of the loopback TCP in the kernel).
//! - `in_process_server`: the test server on the same 2-worker runtime, client and server sharing
//!   the cores — the earlier figure, a lower bound for the client alone.

#[path = "../tests/support/mini_http.rs"]
mod mini_http;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use mini_http::{completion_json, MiniServer, Reply, Request};
use tally_backend::{Backend, GenerationRequest, OpenAiCompatBackend, SamplingParams, ServerType};

/// Counts heap bytes while `COUNTING` is on, for the memory-per-request figure. Off during the
/// throughput runs: a shared atomic per allocation would tax exactly what is being measured.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CONCURRENCY: [usize; 3] = [1, 64, 1024];
const SERVE_ENV: &str = "TALLY_CLIENT_BENCH_SERVE";

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

fn request() -> GenerationRequest {
    // A realistic prompt size (a math problem in a few-shot prompt is ~1-3 KB).
    GenerationRequest::text("Solve the following math problem. ".repeat(60)).with_params(
        SamplingParams {
            stop: vec!["<|im_end|>".into()],
            ..SamplingParams::default()
        },
    )
}

fn client(url: &str) -> OpenAiCompatBackend {
    OpenAiCompatBackend::builder(url, ServerType::Vllm)
        .model("bench")
        .max_connections(1024)
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn answer_json() -> serde_json::Value {
    completion_json("The answer is \\boxed{5}.", "stop", 7)
}

/// Sends `total` requests with `concurrency` of them in flight; returns the wall time.
async fn run(
    b: &OpenAiCompatBackend,
    req: &GenerationRequest,
    total: u64,
    concurrency: usize,
) -> Duration {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.min(total as usize).max(1) {
        let (b, req, next) = (b.clone(), req.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let r = b.generate(&req).await.expect("instant server never fails");
                assert_eq!(r.num_generated_tokens, Some(7));
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    started.elapsed()
}

// ---------------------------------------------------------------------------------------------
// The server in another process.

/// The child's side: a canned-answer HTTP/1.1 loop on one thread. It prints its address, serves
/// until its stdin closes (so it never outlives the bench), and in hold mode (`hold:N`) keeps
/// every group of N requests unanswered until the parent writes a line, after saying `arrived`.
fn serve_child(mode: &str) {
    let hold: Option<usize> = mode.strip_prefix("hold:").and_then(|n| n.parse().ok());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = canned_reply(&answer_json());
    let released = Arc::new(tokio::sync::watch::channel(0usize).0);
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
        let released2 = released.clone();
        // Stdin lines release held rounds; end of stdin means the parent is gone.
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
                released2.send_modify(|r| *r += 1);
            }
            std::process::exit(0);
        });
        let arrived = Arc::new(AtomicUsize::new(0));
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(lean_connection(
                stream,
                reply.clone(),
                hold.map(|n| (n, arrived.clone(), released.subscribe())),
            ));
        }
    });
}

fn canned_reply(body: &serde_json::Value) -> Arc<[u8]> {
    let body = serde_json::to_vec(body).unwrap();
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out.into()
}

type Hold = (usize, Arc<AtomicUsize>, tokio::sync::watch::Receiver<usize>);

/// Reads requests (`content-length` framing) and answers each with the same bytes: as little
/// server work as HTTP allows, so the client is what the wall clock measures.
async fn lean_connection(mut s: tokio::net::TcpStream, reply: Arc<[u8]>, mut hold: Option<Hold>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        while let Some(end) = find(&buf, b"\r\n\r\n") {
            let len = content_length(&buf[..end]);
            if buf.len() < end + 4 + len {
                break;
            }
            buf.drain(..end + 4 + len);
            if let Some((n, arrived, released)) = &mut hold {
                let me = arrived.fetch_add(1, Ordering::SeqCst) + 1;
                if me % *n == 0 {
                    println!("arrived");
                    std::io::stdout().flush().unwrap();
                }
                let round = (me - 1) / *n;
                if released.wait_for(|r| *r > round).await.is_err() {
                    return;
                }
            }
            if s.write_all(&reply).await.is_err() {
                return;
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    std::str::from_utf8(head)
        .unwrap_or("")
        .split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// The parent's handle on a child server; kills it when dropped.
struct ExternalServer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    addr: std::net::SocketAddr,
}

impl ExternalServer {
    /// Starts `mode` in a child, pinned to `cpu` when `taskset` exists.
    fn start(mode: &str, cpu: Option<usize>) -> ExternalServer {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match cpu.filter(|_| have_taskset()) {
            Some(c) => {
                let mut cmd = Command::new("taskset");
                cmd.arg("-c").arg(c.to_string()).arg(&exe);
                cmd
            }
            None => Command::new(&exe),
        };
        let mut child = cmd
            .env(SERVE_ENV, mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line.trim().parse().expect("the child prints its address");
        ExternalServer {
            child,
            stdin,
            stdout,
            addr,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Hold mode: blocks until the child has `N` requests parked.
    fn wait_arrived(&mut self) {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "arrived");
    }

    fn release(&mut self) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(b"release\n").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for ExternalServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins every thread of this process (`taskset -a -p`) to `cpus_list`, e.g. "0" or "0-1".
fn pin_self(cpus_list: &str) {
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus_list, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status();
}

// ---------------------------------------------------------------------------------------------

fn throughput(c: &mut Criterion) {
    let n_cpus = cpus();
    let all_cpus = format!("0-{}", n_cpus - 1);
    let pinned = n_cpus >= 2 && have_taskset();
    let req = request();
    let mut group = c.benchmark_group("client_overhead");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));

    // Client on CPU 0 (one worker), server child on the last CPU.
    let external = ExternalServer::start("instant", pinned.then_some(n_cpus - 1));
    let rt1 = runtime(1);
    if pinned {
        pin_self("0");
    }
    let b = client(&external.url());
    let b_reqwest = OpenAiCompatBackend::builder(external.url(), ServerType::Vllm)
        .model("bench")
        .max_connections(1024)
        .request_timeout(Duration::from_secs(60))
        .force_reqwest(true)
        .build()
        .unwrap();
    for conc in CONCURRENCY {
        group.bench_with_input(
            BenchmarkId::new("separate_server", conc),
            &conc,
            |bench, &conc| bench.iter_custom(|iters| rt1.block_on(run(&b, &req, iters, conc))),
        );
    }
    if pinned {
        pin_self(&all_cpus);
    }

    // The earlier set-up: the test server on the client's own 2-worker runtime.
    let rt2 = runtime(2);
    let answer = Reply::json(200, &answer_json());
    let server = rt2.block_on(MiniServer::start(move |_r: Request| {
        let a = answer.clone();
        async move { a }
    }));
    let b_in = client(&server.url());
    for conc in CONCURRENCY {
        group.bench_with_input(
            BenchmarkId::new("in_process_server", conc),
            &conc,
            |bench, &conc| bench.iter_custom(|iters| rt2.block_on(run(&b_in, &req, iters, conc))),
        );
    }
    group.finish();
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }

    // Plain figures with this process's CPU time, which with the server in another process is
    // the client's own cost: on a shared machine the wall-clock rate depends on the neighbours,
    // the CPU time per request much less. Bare reqwest and raw keep-alive sockets send the same
    // bytes: the HTTP stack's cost, and the floor (the kernel's share of loopback TCP).
    let body = serde_json::to_vec(
        &tally_backend::params::build_body(
            ServerType::Vllm,
            "bench",
            &req.prompt,
            &req.params,
            Default::default(),
            "",
        )
        .unwrap(),
    )
    .unwrap();
    let raw_request = format!(
        "POST /v1/completions HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        external.addr,
        body.len()
    )
    .into_bytes()
    .into_iter()
    .chain(body.iter().copied())
    .collect::<Vec<u8>>();
    println!(
        "client_overhead: server in a child process{}; load average {}",
        if pinned {
            format!(" on CPU {}, client on CPU 0 (1 worker)", n_cpus - 1)
        } else {
            " (not pinned: no taskset or 1 CPU)".to_string()
        },
        load_average()
    );
    if pinned {
        pin_self("0");
    }
    for conc in CONCURRENCY {
        let n = 20_000;
        for (label, how) in [
            ("tally-backend", Mode::Backend),
            ("tally-backend, force_reqwest", Mode::BackendReqwest),
            ("bare reqwest", Mode::Reqwest),
            ("raw socket floor", Mode::Raw),
        ] {
            let (u0, s0) = process_cpu_user_sys();
            let t = match how {
                Mode::Backend => rt1.block_on(run(&b, &req, n, conc)),
                Mode::BackendReqwest => rt1.block_on(run(&b_reqwest, &req, n, conc)),
                Mode::Reqwest => rt1.block_on(run_reqwest(&external.url(), &body, n, conc)),
                Mode::Raw => rt1.block_on(run_raw(external.addr, &raw_request, n, conc)),
            };
            let (u1, s1) = process_cpu_user_sys();
            let cpu = (u1 - u0) + (s1 - s0);
            println!(
                "client_overhead: {conc:>4} in flight, {label:<28}: {:>6.0} req/s wall; \
                 client CPU/request {:>5.1} µs (user {:.1}, sys {:.1}) \
                 = {:>6.0} req/s per 2 client cores",
                n as f64 / t.as_secs_f64(),
                cpu * 1e6 / n as f64,
                (u1 - u0) * 1e6 / n as f64,
                (s1 - s0) * 1e6 / n as f64,
                2.0 * n as f64 / cpu
            );
        }
    }
    if pinned {
        pin_self(&all_cpus);
    }
    // The client as the engine runs it: 2 workers, not pinned (sharing a core with the server).
    let b2 = client(&external.url());
    for conc in CONCURRENCY {
        let n = 20_000;
        let (u0, s0) = process_cpu_user_sys();
        let t = rt2.block_on(run(&b2, &req, n, conc));
        let (u1, s1) = process_cpu_user_sys();
        let cpu = (u1 - u0) + (s1 - s0);
        println!(
            "client_overhead: {conc:>4} in flight, tally-backend, 2 workers unpinned: {:>6.0} req/s wall; \
             client CPU/request {:>5.1} µs = {:>6.0} req/s per 2 client cores",
            n as f64 / t.as_secs_f64(),
            cpu * 1e6 / n as f64,
            2.0 * n as f64 / cpu
        );
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Backend,
    BackendReqwest,
    Reqwest,
    Raw,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The same request with a bare `reqwest::Client` (POST, read the body, parse the JSON): the
/// HTTP stack's own cost, without this crate's retries, bounds and body building.
async fn run_reqwest(url: &str, body: &[u8], total: u64, conc: usize) -> Duration {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let url: Arc<str> = format!("{url}/v1/completions").into();
    let body = body.to_vec();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conc.min(total as usize).max(1) {
        let (client, url, body, next) = (client.clone(), url.clone(), body.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let r = client
                    .post(&*url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let b = r.bytes().await.unwrap();
                let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                assert_eq!(v["usage"]["completion_tokens"], 7);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    started.elapsed()
}

/// The floor: `conc` keep-alive sockets, each writing the prepared request and reading the
/// answer (`content-length` framing), `total` requests in all.
async fn run_raw(addr: std::net::SocketAddr, request: &[u8], total: u64, conc: usize) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let next = Arc::new(AtomicU64::new(0));
    let request: Arc<[u8]> = request.into();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conc.min(total as usize).max(1) {
        let (next, request) = (next.clone(), request.clone());
        workers.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = vec![0u8; 8192];
            while next.fetch_add(1, Ordering::Relaxed) < total {
                s.write_all(&request).await.unwrap();
                let mut have = 0;
                loop {
                    let k = s.read(&mut buf[have..]).await.unwrap();
                    assert!(k > 0, "server closed");
                    have += k;
                    if let Some(end) = find(&buf[..have], b"\r\n\r\n") {
                        if have >= end + 4 + content_length(&buf[..end]) {
                            break;
                        }
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    started.elapsed()
}

/// (user, system) CPU seconds of this process, from /proc/self/stat (Linux; 0 elsewhere).
fn process_cpu_user_sys() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15 (1-based).
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on every Linux configuration we run on.
    (field(11) / 100.0, field(12) / 100.0)
}

/// Live heap bytes per in-flight request, client only: the child server parks `n` requests
/// unanswered and says so; the heap growth from before they were sent, divided by `n`. "Cold"
/// includes opening the connections; "warm" reuses the pooled ones.
fn memory_per_request() {
    let rt = runtime(2);
    let n = 1024usize;
    let mut server = ExternalServer::start(&format!("hold:{n}"), None);
    let b = client(&server.url());
    let req = request();
    // Frees of blocks allocated before this point are counted too; only differences are used,
    // and the two snapshots bracket the same phase, so they cancel out.
    COUNTING.store(true, Ordering::SeqCst);
    for label in ["cold", "warm"] {
        let before = LIVE.load(Ordering::SeqCst);
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (b, req) = (b.clone(), req.clone());
                rt.spawn(async move { b.generate(&req).await.map(|_| ()) })
            })
            .collect();
        server.wait_arrived();
        let during = LIVE.load(Ordering::SeqCst);
        server.release();
        for t in tasks {
            rt.block_on(t).unwrap().unwrap();
        }
        println!(
            "client_overhead: memory per in-flight request ({label}, client only, {n} in flight): {:.1} KiB",
            (during - before) as f64 / n as f64 / 1024.0
        );
    }
    COUNTING.store(false, Ordering::SeqCst);
}

fn main() {
    if let Ok(mode) = std::env::var(SERVE_ENV) {
        serve_child(&mode);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    // `cargo test --benches` runs this binary without `--bench` (criterion's quick test mode);
    // the extra measurements are for real bench runs only.
    if std::env::args().any(|a| a == "--bench") {
        memory_per_request();
    }
    c.final_summary();
}
