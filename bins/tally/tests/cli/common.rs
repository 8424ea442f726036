use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn tally() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tally"))
}

/// `../shared` beside the repository (or `$TALLY_SHARED_DIR`).
pub fn shared() -> PathBuf {
    let p = std::env::var_os("TALLY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("bench").is_dir(),
        "the shared data folder is missing at {} (set TALLY_SHARED_DIR)",
        p.display()
    );
    p
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tally")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes one JSONL file of records.
pub fn write_jsonl(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Compares two JSON documents: same keys in the same order, numbers within `tol`.
pub fn assert_json_close(got: &Value, want: &Value, tol: f64, at: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let gk: Vec<_> = g.keys().collect();
            let wk: Vec<_> = w.keys().collect();
            assert_eq!(gk, wk, "keys differ at {at}");
            for (k, wv) in w {
                assert_json_close(&g[k], wv, tol, &format!("{at}.{k}"));
            }
        }
        (Value::Number(g), Value::Number(w)) => {
            assert_eq!(
                g.is_f64(),
                w.is_f64(),
                "{at}: integer vs float ({g} vs {w})"
            );
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= tol, "{at}: {g} vs {w}");
        }
        (g, w) => assert_eq!(g, w, "at {at}"),
    }
}

/// The llama-server the tests use (`TALLY_LLAMA_URL`, set by `just test`), or None with a note.
pub fn llama_url() -> Option<String> {
    match std::env::var("TALLY_LLAMA_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            missing_service("TALLY_LLAMA_URL is not set (run `just test`)");
            None
        }
    }
}

/// A test whose real service is missing prints a note and passes on a developer's machine, but
/// fails under CI (`CI` set): a green CI run means every real-service test ran.
pub fn missing_service(what: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{what}: this test needs the real service, and CI must provide it");
    }
    eprintln!("note: {what}; skipping a real-service test");
}

/// Whether the sandbox's Python environment exists (`scripts/sandbox-setup.sh`).
pub fn sandbox_ready() -> bool {
    let cache = std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/tally"));
    let ok = cache.join("sandbox-venv/bin/python").exists();
    if !ok {
        missing_service("no sandbox venv (run scripts/sandbox-setup.sh)");
    }
    ok
}

/// A TCP forwarder in front of a real server that counts the generation requests passing
/// through it — the evidence that a call was or was not made.
pub struct CountingProxy {
    pub url: String,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingProxy {
    pub fn start(upstream: &str) -> CountingProxy {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let target = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { continue };
                let Ok(mut server) = TcpStream::connect(&target) else {
                    continue;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    let needle = b"POST /v1/";
                    let mut tail: Vec<u8> = Vec::new();
                    loop {
                        let n = match client.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        tail.extend_from_slice(&buf[..n]);
                        let hits = tail.windows(needle.len()).filter(|w| w == needle).count();
                        counter.fetch_add(hits, Ordering::SeqCst);
                        let keep = tail.len().min(needle.len() - 1);
                        tail = tail[tail.len() - keep..].to_vec();
                        if server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    loop {
                        let n = match s2.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if c2.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingProxy { url, count }
    }

    /// Generation requests (`POST /v1/…`) seen so far.
    pub fn requests(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub fn read_records(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap()
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

/// Held by every test that runs a model of its own (a hosted llama-server, the embedded model,
/// Slurm jobs running it). Two at once on CI's 2 cores made each many times slower — llama.cpp's
/// and the embedded model's threads spin while they wait — until a hosted server took 100 s per request and
/// the tests' deadlines passed; one at a time, each takes seconds.
pub fn model_cpu() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
