//! Failing fast, and never a number from no data: a server that is not there is an error naming
//! its URL within seconds; a server that goes away mid-run stops the run, and a rerun generates
//! exactly what is missing; a benchmark whose every request failed gets an error, not a table.
//!
//! The servers here are real HTTP servers on local TCP ports, run by the test: an address where
//! nothing listens (a port bound and released), and a small OpenAI-compatible server that answers
//! `\boxed{<i>}` for the problem `#<i>#` — and that can be told to go away or to fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{read_records, run, stderr, stdout, tally, write_jsonl};

/// A port on which nothing listens (bound, then released).
fn dead_address() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/v1")
}

/// `n` problems `#<i>#: …` whose answer is `i`.
fn problems(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"problem": format!("#{i}#: what is {i} + 0?"), "expected_answer": i.to_string()}))
        .collect()
}

fn output_text(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Answer every completion.
    Answer,
    /// Answer `n` completions, then go away: the next request's connection is closed unanswered
    /// and the port stops listening.
    DieAfter(usize),
    /// Answer every completion with HTTP 500 (the server is there, the model is broken).
    Http500,
}

/// A small OpenAI-compatible server (`/v1/models`, `/v1/completions`, `/v1/chat/completions`),
/// one request per connection.
struct FakeServer {
    port: u16,
    /// Problems answered with a 200, in order.
    answered: Arc<Mutex<Vec<usize>>>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    fn start(port: u16, mode: Mode) -> FakeServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, r, s) = (answered.clone(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // Dropping the listener when told to stop closes the port: connects are refused.
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (a, r, s) = (a.clone(), r.clone(), s.clone());
                        std::thread::spawn(move || serve(conn, mode, &a, &r, &s));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(_) => break,
                }
            }
        });
        FakeServer {
            port,
            answered,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn answered(&self) -> Vec<usize> {
        self.answered.lock().unwrap().clone()
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    conn: TcpStream,
    mode: Mode,
    answered: &Mutex<Vec<usize>>,
    requests: &AtomicUsize,
    stop: &AtomicBool,
) {
    conn.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let reply = |status: &str, v: Value| {
        let b = v.to_string();
        let mut c = &conn;
        let _ = write!(
            c,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}",
            b.len()
        );
        let _ = c.flush();
    };
    if method == "GET" && path == "/v1/models" {
        return reply(
            "200 OK",
            json!({"object": "list", "data": [{"id": "fake"}]}),
        );
    }
    if method != "POST" {
        return reply("404 Not Found", json!({"error": "not found"}));
    }
    let n = requests.fetch_add(1, Ordering::SeqCst);
    let text = String::from_utf8_lossy(&body);
    let problem: usize = text
        .split('#')
        .nth(1)
        .and_then(|t| t.parse().ok())
        .expect("a problem #<i># in the request");
    match mode {
        Mode::DieAfter(limit) if n >= limit => {
            // Gone: this connection closes unanswered, and the port stops listening.
            stop.store(true, Ordering::SeqCst);
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        Mode::Http500 => reply(
            "500 Internal Server Error",
            json!({"error": {"message": "model crashed"}}),
        ),
        _ => {
            answered.lock().unwrap().push(problem);
            let answer = format!("\\boxed{{{problem}}}");
            let v = if path.ends_with("/chat/completions") {
                json!({"choices": [{"message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                       "usage": {"completion_tokens": 3}})
            } else {
                json!({"choices": [{"text": answer, "finish_reason": "stop"}], "usage": {"completion_tokens": 3}})
            };
            reply("200 OK", v)
        }
    }
}

fn generate_args(dir: &Path, url: &str) -> Vec<String> {
    vec![
        "generate".into(),
        "--server_type=vllm".into(),
        format!("--server_address={url}"),
        format!("--output_dir={}", dir.join("gen").display()),
        format!("++input_file={}", dir.join("problems.jsonl").display()),
    ]
}

#[test]
fn an_unreachable_server_is_an_error_naming_it_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_jsonl(&d.join("problems.jsonl"), &problems(3));
    write_jsonl(&d.join("data/gsm8k/test.jsonl"), &problems(3));
    let graded: Vec<Value> = (0..3)
        .map(|i| {
            json!({"problem": format!("#{i}#"), "expected_answer": "1", "generation": "\\boxed{1}",
                        "predicted_answer": "1", "is_correct": true, "status": "ok"})
        })
        .collect();
    write_jsonl(&d.join("graded/output.jsonl"), &graded);
    let url = dead_address();
    let out_dir = format!("--output_dir={}", d.join("out").display());
    let data_dir = format!("--data_dir={}", d.join("data").display());
    let input_dir = format!("++input_dir={}", d.join("graded").display());
    let address = format!("--server_address={url}");
    let runs: Vec<(&str, Vec<String>)> = vec![
        // The reported command.
        (
            "eval",
            vec![
                "eval".into(),
                "--server_type=vllm".into(),
                address.clone(),
                "--benchmarks=gsm8k:2".into(),
                out_dir.clone(),
                data_dir.clone(),
                "++max_samples=3".into(),
            ],
        ),
        ("generate", generate_args(d, &url)),
        (
            "judge",
            vec![
                "judge".into(),
                "--server_type=vllm".into(),
                address.clone(),
                input_dir.replace("++", "--"),
                out_dir.clone(),
            ],
        ),
        (
            "math_judge",
            vec![
                "generate".into(),
                "--generation_type=math_judge".into(),
                "--server_type=vllm".into(),
                address.clone(),
                input_dir.clone(),
                out_dir.clone(),
            ],
        ),
    ];
    for (name, args) in runs {
        let started = Instant::now();
        let out = run(tally().current_dir(d).args(&args));
        let took = started.elapsed();
        let text = output_text(&out);
        assert!(!out.status.success(), "{name}: {text}");
        assert!(
            took < Duration::from_secs(10),
            "{name}: {took:?} to fail\n{text}"
        );
        assert!(text.contains(&url), "{name} names the URL: {text}");
        assert!(text.contains("no usable server"), "{name}: {text}");
        assert!(!text.contains('%'), "{name} prints no rate: {text}");
    }
    // Nothing was written: no sample, no journal, no table.
    assert!(!d.join("out/eval-results/gsm8k").exists());
    assert!(!d.join("gen").exists());
    assert!(!d.join("out/output.jsonl").exists());

    // A dry run sends nothing, so an unreachable server does not stop it.
    let mut dry = generate_args(d, &url);
    dry.push("--dry_run".into());
    let out = run(tally().current_dir(d).args(&dry));
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        stdout(&out).contains("would generate 3"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains(&url), "{}", stderr(&out));
}

#[test]
fn a_server_that_goes_away_stops_the_run_and_a_rerun_completes_it_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let n = 12;
    write_jsonl(&d.join("problems.jsonl"), &problems(n));
    let first = FakeServer::start(0, Mode::DieAfter(5));
    let port = first.port;
    let mut args = generate_args(d, &first.url());
    args.extend([
        "++max_concurrent_requests=2".to_string(),
        "++max_connection_failures=4".to_string(),
    ]);
    let out = run(tally().current_dir(d).args(&args));
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        // No prompt template: chat mode.
        text.contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")),
        "names the URL: {text}"
    );
    assert!(text.contains("4 consecutive connection failures"), "{text}");
    assert!(text.contains("rerun the same command"), "{text}");
    let before = first.answered();
    assert_eq!(
        before.len(),
        5,
        "the server answered five before it went away"
    );
    // Stopped early: after the server went away, the few requests in flight were given up and
    // the rest never sent (every request reaching it was counted, answered or not).
    let sent = first.requests.load(Ordering::SeqCst);
    first.stop();
    assert!(sent <= 7, "{sent} requests reached the server");
    let output = d.join("gen/output.jsonl");
    assert!(!output.exists(), "an incomplete pass has no output file");

    // The server is back on the same address: the same command generates what is missing.
    let second = FakeServer::start(port, Mode::Answer);
    let out = run(tally().current_dir(d).args(&args));
    assert!(out.status.success(), "{}", output_text(&out));
    let after = second.answered();
    second.stop();
    let mut all: Vec<usize> = before.iter().chain(&after).copied().collect();
    all.sort();
    assert_eq!(
        all,
        (0..n).collect::<Vec<_>>(),
        "each problem answered exactly once over both runs (first {before:?}, rerun {after:?})"
    );
    let records = read_records(&output);
    assert_eq!(records.len(), n);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["status"], "ok", "problem {i}: {r:?}");
        assert_eq!(r["generation"], format!("\\boxed{{{i}}}"), "problem {i}");
    }
}

#[test]
fn an_eval_whose_every_request_failed_prints_the_error_not_a_table_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_jsonl(&d.join("data/gsm8k/test.jsonl"), &problems(3));
    let broken = FakeServer::start(0, Mode::Http500);
    let port = broken.port;
    let args = [
        "eval".to_string(),
        "--server_type=vllm".into(),
        format!("--server_address={}", broken.url()),
        "--benchmarks=gsm8k:1".into(),
        format!("--output_dir={}", d.join("out").display()),
        format!("--data_dir={}", d.join("data").display()),
    ];
    let out = run(tally().current_dir(d).args(&args));
    broken.stop();
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{so}{se}");
    // Greedy + one seed × 3 problems: 6 samples, every one request_error.
    assert!(
        se.contains(&format!(
            "error: gsm8k: all 6 samples failed (request_error 6) against http://127.0.0.1:{port}/v1"
        )),
        "{se}"
    );
    assert!(
        se.contains("0 without answer, 3 failed requests (request_error 3), not graded"),
        "failures are not 'without answer': {se}"
    );
    assert!(
        !so.contains("evaluation_mode") && !so.contains('%'),
        "no table: {so}"
    );

    // The server works again: the rerun retries the six and summarizes.
    let fixed = FakeServer::start(port, Mode::Answer);
    let out = run(tally().current_dir(d).args(&args));
    let answered = fixed.answered();
    fixed.stop();
    assert!(out.status.success(), "{}", output_text(&out));
    let mut answered = answered;
    answered.sort();
    assert_eq!(answered, [0, 0, 1, 1, 2, 2], "each problem once per pass");
    let so = stdout(&out);
    assert!(so.contains("evaluation_mode"), "{so}");
    assert!(so.contains("100.00%"), "every answer is right: {so}");
}
