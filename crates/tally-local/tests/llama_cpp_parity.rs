//! The forward pass against llama.cpp's, for each architecture the crate loads: the same token ids
//! go through `tally-local` and through a `llama-server` this test starts on the same GGUF file
//! (SmolLM2-135M Q4_1 for llama, Qwen2.5-Coder-0.5B-Instruct Q4_K_M for qwen2: both fetched by
//! `scripts/llama-server.sh setup`). Greedy decoding must give the same 64 tokens, and the
//! log-probabilities of llama.cpp's top candidates at every step must agree within [`TOLERANCE`].
//!
//! Without the server binary or a model file the test prints a note and passes, except under
//! `CI`, where it fails.
#![cfg(feature = "candle")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_local::{LlamaModel, Tokenizer};

/// Largest difference allowed between the two log-probabilities of a candidate token that
/// llama.cpp gives at least 1 % (rarer candidates differ more and are only reported). The
/// products are the same integer dot products on the same quants with the same activation
/// quantisation, yet the two differ by 0.02-0.09 on one-token prompts (where attention is the
/// identity) and by up to 0.49 (llama) / 0.34 (qwen2) over 64 generated tokens (measured on
/// 2 cores, December 2026). Not traced yet; the likeliest remaining cause is llama.cpp's flash
/// attention, which accumulates attention values in f16, where this crate accumulates in f32.
/// A greedy choice between candidates closer than that could go either way; the prompts below
/// have no such near-tie in their first 64 tokens.
const TOLERANCE: f32 = 0.75;
const STEPS: usize = 64;
const TOP: usize = 8;

fn cache() -> Option<PathBuf> {
    match std::env::var_os("TALLY_CACHE_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/tally")),
    }
}

/// The file at `path`, or `None` after a note (a failure under `CI`).
fn required(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    let note = format!(
        "no {what} at {} (run `bash scripts/llama-server.sh setup`)",
        path.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{note}");
    eprintln!("skipped: {note}");
    None
}

/// A llama-server child process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &Path, model: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(bin)
        .args(["-m".as_ref(), model.as_os_str()])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "-t",
            "2",
            "-tb",
            "2",
            "--parallel",
            "1",
            "-c",
            "1024",
            "--no-webui",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let mut server = Server { child, port };
    let start = Instant::now();
    while http(port, "GET", "/health", "").is_none_or(|(status, _)| status != 200) {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("llama-server exited during startup: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "llama-server not healthy after 120 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    server
}

/// A minimal HTTP/1.1 exchange (llama-server answers with a Content-Length).
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(300))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8(answer).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n")?.1.to_string()))
}

fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| ((l - max) as f64).exp()).sum();
    let norm = max + sum.ln() as f32;
    logits.iter().map(|&l| l - norm).collect()
}

fn compare(arch: &str, model_file: &str, prompt: &str) {
    // One llama-server at a time: two at once on a small machine only slow both.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cache) = cache() else { return };
    let root = cache.join("llama-server");
    let Some(bin) = required(root.join("bin/llama-server"), "llama-server binary") else {
        return;
    };
    let Some(model_path) = required(root.join("models").join(model_file), "model file") else {
        return;
    };
    let meta = tally_prompt::GgufMetadata::read_file(&model_path, &Default::default()).unwrap();
    assert_eq!(meta.get_str("general.architecture"), Some(arch));
    let ids = Tokenizer::from_gguf(&meta).unwrap().encode(prompt).unwrap();

    let server = start_server(&bin, &model_path);
    let request = serde_json::json!({
        "prompt": ids, "n_predict": STEPS, "temperature": 0.0, "n_probs": TOP,
        "cache_prompt": false, "return_tokens": true, "ignore_eos": true,
    });
    let (status, body) = http(server.port, "POST", "/completion", &request.to_string())
        .expect("llama-server answers");
    assert_eq!(status, 200, "{body}");
    drop(server);
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let theirs: Vec<u32> = answer["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as u32)
        .collect();

    let model = LlamaModel::load(&model_path).unwrap();
    let (ours, logits) = model.greedy_trace(&ids, STEPS, 2).unwrap();
    let same = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
    // Over every top candidate, and over those llama.cpp gives at least 1 %.
    let (mut worst_any, mut worst) = (0f32, 0f32);
    for (step, probs) in answer["completion_probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .take(same.min(STEPS))
    {
        let lp = log_softmax(&logits[step]);
        for cand in probs["top_logprobs"].as_array().unwrap() {
            let id = cand["id"].as_u64().unwrap() as usize;
            let theirs = cand["logprob"].as_f64().unwrap() as f32;
            let diff = (lp[id] - theirs).abs();
            worst_any = worst_any.max(diff);
            if theirs >= 0.01f32.ln() {
                worst = worst.max(diff);
            }
        }
    }
    eprintln!(
        "{arch}: {same} of {STEPS} greedy tokens equal; largest log-probability difference: \
         {worst:.4} over candidates of probability >= 1 %, {worst_any:.4} over the top {TOP}"
    );
    assert_eq!(
        ours,
        theirs,
        "{arch}: greedy tokens differ from step {same}: ours {:?}, llama.cpp {:?}",
        &ours[same..],
        &theirs[same..]
    );
    assert!(
        worst <= TOLERANCE,
        "{arch}: log-probabilities differ by {worst}"
    );
}

#[test]
fn llama_architecture_matches_llama_cpp() {
    compare(
        "llama",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "<|im_start|>user\nJanet has 16 eggs. She eats 3 and bakes with 4. She sells the rest \
         for $2 each. How much does she make? Put the answer in \\boxed{}.<|im_end|>\n\
         <|im_start|>assistant\n",
    );
}

#[test]
fn qwen2_architecture_matches_llama_cpp() {
    compare(
        "qwen2",
        "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nJanet \
         has 16 eggs. She eats 3 and bakes with 4. She sells the rest for $2 each. How much \
         does she make? Put the answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
    );
}
