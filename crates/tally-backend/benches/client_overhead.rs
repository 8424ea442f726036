//! Client overhead: requests/s the `OpenAiCompatBackend` sustains against an in-process server
//! that answers instantly, at 1, 64 and 1024 requests in flight, plus the memory each in-flight
//! request costs (counted by a global allocator wrapper).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-backend cargo bench -p tally-backend --profile dev`
//! The server shares the same 2-worker tokio runtime, so the figures are client *and* server
//! on the same cores — a lower bound for the client alone.

#[path = "../tests/support/mini_http.rs"]
mod mini_http;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use mini_http::{completion_json, MiniServer, Reply, Request};
use tally_backend::{Backend, GenerationRequest, OpenAiCompatBackend, SamplingParams, ServerKind};

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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
    OpenAiCompatBackend::builder(url, ServerKind::Vllm)
        .model("bench")
        .max_connections(1024)
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap()
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

fn throughput(c: &mut Criterion) {
    let rt = runtime();
    let answer = Reply::json(
        200,
        &completion_json("The answer is \\boxed{5}.", "stop", 7),
    );
    let server = rt.block_on(MiniServer::start(move |_r: Request| {
        let a = answer.clone();
        async move { a }
    }));
    let b = client(&server.url());
    let req = request();
    let mut group = c.benchmark_group("client_overhead");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    for conc in CONCURRENCY {
        group.bench_with_input(BenchmarkId::new("requests", conc), &conc, |bench, &conc| {
            bench.iter_custom(|iters| rt.block_on(run(&b, &req, iters, conc)))
        });
    }
    group.finish();
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Plain figures too, with the CPU time this process used: on a shared machine the wall-clock
    // rate depends on the neighbours, the CPU cost per request does not. The raw baseline sends
    // the same bytes over plain keep-alive sockets (no HTTP client): what remains above it is the
    // client's own cost.
    let body = serde_json::to_vec(
        &tally_backend::params::build_body(
            ServerKind::Vllm,
            "bench",
            &req.prompt,
            &req.params,
            Default::default(),
            "",
        )
        .unwrap(),
    )
    .unwrap();
    let raw_body = body.clone();
    let raw_request = format!(
        "POST /v1/completions HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        server.addr,
        body.len()
    )
    .into_bytes()
    .into_iter()
    .chain(body)
    .collect::<Vec<u8>>();
    for conc in CONCURRENCY {
        let n = 20_000;
        for (label, how) in [
            ("tally-backend", Mode::Backend),
            ("bare reqwest", Mode::Reqwest),
            ("raw socket baseline", Mode::Raw),
        ] {
            let (u0, s0) = process_cpu_user_sys();
            let t = match how {
                Mode::Backend => rt.block_on(run(&b, &req, n, conc)),
                Mode::Reqwest => rt.block_on(run_reqwest(&server.url(), &raw_body, n, conc)),
                Mode::Raw => rt.block_on(run_raw(server.addr, &raw_request, n, conc)),
            };
            let (u1, s1) = process_cpu_user_sys();
            let cpu = (u1 - u0) + (s1 - s0);
            println!(
                "client_overhead: {conc:>4} in flight, {label:<19}: {:>6.0} req/s wall; \
                 CPU/request {:>5.1} µs (user {:.1}, sys {:.1}; client + server + kernel) \
                 = {:>6.0} req/s per busy core",
                n as f64 / t.as_secs_f64(),
                cpu * 1e6 / n as f64,
                (u1 - u0) * 1e6 / n as f64,
                (s1 - s0) * 1e6 / n as f64,
                n as f64 / cpu
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Backend,
    Reqwest,
    Raw,
}

/// The same request with a bare `reqwest::Client` (POST, read the body, parse the JSON): the
/// HTTP stack's own cost, without this crate's retries, bounds and body building.
async fn run_reqwest(url: &str, body: &[u8], total: u64, conc: usize) -> Duration {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let url: Arc<str> = format!("{url}/v1/completions").into();
    let body = bytes_body(body);
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

fn bytes_body(b: &[u8]) -> Vec<u8> {
    b.to_vec()
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
                    let text = std::str::from_utf8(&buf[..have]).unwrap_or("");
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap();
                        if have >= end + 4 + len {
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

/// Live heap bytes per in-flight request: the server holds `n` requests unanswered; the heap
/// growth from before they were sent, divided by `n`. "Warm" reuses pooled connections opened by a
/// previous round; "cold" includes opening them. Client and in-process server both count.
fn memory_per_request() {
    let rt = runtime();
    let arrived = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let (a, r) = (arrived.clone(), release.clone());
    let answer = Reply::json(200, &completion_json("ok", "stop", 7));
    let server = rt.block_on(MiniServer::start(move |_req: Request| {
        let (a, r, answer) = (a.clone(), r.clone(), answer.clone());
        async move {
            a.fetch_add(1, Ordering::SeqCst);
            r.acquire().await.unwrap().forget();
            answer
        }
    }));
    let b = client(&server.url());
    let req = request();
    let n = 1024usize;
    // Frees of blocks allocated before this point are counted too; only differences are used,
    // and the two snapshots bracket the same phase, so they cancel out.
    COUNTING.store(true, Ordering::SeqCst);
    for label in ["cold", "warm"] {
        arrived.store(0, Ordering::SeqCst);
        let before = LIVE.load(Ordering::SeqCst);
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (b, req) = (b.clone(), req.clone());
                rt.spawn(async move { b.generate(&req).await.map(|_| ()) })
            })
            .collect();
        while arrived.load(Ordering::SeqCst) < n {
            std::thread::sleep(Duration::from_millis(5));
        }
        let during = LIVE.load(Ordering::SeqCst);
        release.add_permits(n);
        for t in tasks {
            rt.block_on(t).unwrap().unwrap();
        }
        println!(
            "client_overhead: memory per in-flight request ({label}, client + server, {n} in flight): {:.1} KiB",
            (during - before) as f64 / n as f64 / 1024.0
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    // `cargo test --benches` runs this binary without `--bench` (criterion's quick test mode);
    // the extra measurements are for real bench runs only.
    if std::env::args().any(|a| a == "--bench") {
        memory_per_request();
    }
    c.final_summary();
}
