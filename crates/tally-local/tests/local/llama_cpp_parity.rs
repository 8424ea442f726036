//! The forward pass against llama.cpp's, for each architecture the crate loads: the same token ids
//! go through `tally-local` and through a `llama-server` this test starts on the same GGUF file
//! (SmolLM2-135M Q4_1 for llama, Qwen2.5-Coder-0.5B-Instruct Q4_K_M for qwen2: both fetched by
//! `scripts/llama-server.sh setup`). Greedy decoding must give the same 64 tokens, and the
//! log-probabilities of llama.cpp's top candidates must agree within the model's [`Tolerance`],
//! at every step and on one-token prompts. llama-server runs with its defaults (f16 KV cache,
//! flash attention), as users run it.
//!
//! Without the server binary or a model file the test prints a note and passes, except under
//! `CI`, where it fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_local::{LlamaModel, Tokenizer};

/// How close the log-probabilities must be, over llama.cpp's candidates of probability at
/// least [`MIN_PROB`] (rarer ones differ more and are not compared).
///
/// The products are llama.cpp's: the same integer dot products on the same quants, with the
/// activations quantised to 8 bits the same way, and for Q4_1 weights with the same float
/// additions in the same order (bit-identical results, checked tensor by tensor). So are the
/// RMS norm, the rotary embedding and SwiGLU. What is left is the order of float additions in attention (llama.cpp
/// runs flash attention with f16 accumulators by default) and, for k-quants, in the products
/// (ggml sums a 256-value block in integers, this crate per 32 values in floats). Those
/// last-bit differences do not stay small: wherever one flips the rounding of an activation
/// quantised to 8 bits, a value moves by a whole quantisation step, and over 24-30 layers the
/// log-probabilities drift by ~0.1 on average and up to ~0.5 (traced layer by layer against
/// llama.cpp's tensors, December 2026). llama.cpp disagrees with itself as much: the same
/// server with `-fa off -ctk f32 -ctv f32` differs from its default by 0.095 on average and up
/// to 0.44 (SmolLM2), 0.041 and 0.28 (Qwen2.5), over the same 64 steps.
struct Tolerance {
    /// Largest difference at the first step of one-token prompts, where attention is the
    /// identity and only the products' addition order is left.
    one_token: f32,
    /// Mean and largest difference over the 64 greedy steps of the long prompt.
    mean: f32,
    max: f32,
}

/// Q4_1/Q8_0 weights: without attention the two agree to 0.0002 (measured); over 64 steps
/// 0.080 on average, 0.51 at most.
const LLAMA: Tolerance = Tolerance {
    one_token: 0.002,
    mean: 0.15,
    max: 0.75,
};
/// Q4_K/Q5_0/Q6_K/Q8_0 weights: measured 0.13 on one-token prompts; 0.039 and 0.23 over 64 steps.
const QWEN2: Tolerance = Tolerance {
    one_token: 0.25,
    mean: 0.1,
    max: 0.5,
};
const MIN_PROB: f32 = 0.01;
const STEPS: usize = 64;
const TOP: usize = 8;
/// One-token prompts compared (the first tokens of the prompt).
const SINGLES: usize = 8;

pub(crate) fn cache() -> Option<PathBuf> {
    match std::env::var_os("TALLY_CACHE_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/tally")),
    }
}

/// The file at `path`, or `None` after a note (a failure under `CI`).
pub(crate) fn required(path: PathBuf, what: &str) -> Option<PathBuf> {
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

/// llama.cpp's greedy answer to `ids`: its tokens and, per step, its top candidates as
/// `(token, log-probability)`.
fn llama_cpp_greedy(
    server: &Server,
    ids: &[u32],
    steps: usize,
) -> (Vec<u32>, Vec<Vec<(usize, f32)>>) {
    let request = serde_json::json!({
        "prompt": ids, "n_predict": steps, "temperature": 0.0, "n_probs": TOP,
        "cache_prompt": false, "return_tokens": true, "ignore_eos": true,
    });
    let (status, body) = http(server.port, "POST", "/completion", &request.to_string())
        .expect("llama-server answers");
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let tokens = answer["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as u32)
        .collect();
    let candidates = answer["completion_probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            step["top_logprobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].as_u64().unwrap() as usize,
                        c["logprob"].as_f64().unwrap() as f32,
                    )
                })
                .collect()
        })
        .collect();
    (tokens, candidates)
}

/// Differences between our log-probabilities and llama.cpp's for its candidates of probability
/// at least `MIN_PROB`, one per candidate.
fn differences(logits: &[f32], theirs: &[(usize, f32)]) -> Vec<f32> {
    let lp = log_softmax(logits);
    theirs
        .iter()
        .filter(|&&(_, t)| t >= MIN_PROB.ln())
        .map(|&(id, t)| (lp[id] - t).abs())
        .collect()
}

fn compare(arch: &str, model_file: &str, prompt: &str, tolerance: &Tolerance) {
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
    let (theirs, candidates) = llama_cpp_greedy(&server, &ids, STEPS);
    // Each of the prompt's first tokens alone, one step each.
    let singles: Vec<_> = ids[..SINGLES]
        .iter()
        .map(|&id| llama_cpp_greedy(&server, &[id], 1))
        .collect();
    drop(server);

    let model = LlamaModel::load(&model_path).unwrap();
    let (ours, logits) = model.greedy_trace(&ids, STEPS, 2).unwrap();
    let same = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
    let diffs: Vec<f32> = logits
        .iter()
        .zip(&candidates)
        .take(same)
        .flat_map(|(l, c)| differences(l, c))
        .collect();
    let worst = diffs.iter().copied().fold(0f32, f32::max);
    let mean = diffs.iter().sum::<f32>() / diffs.len().max(1) as f32;
    let mut worst_single = 0f32;
    for (&id, (_, single)) in ids.iter().zip(&singles) {
        let (_, logits) = model.greedy_trace(&[id], 1, 2).unwrap();
        for d in differences(&logits[0], &single[0]) {
            worst_single = worst_single.max(d);
        }
    }
    eprintln!(
        "{arch}: {same} of {STEPS} greedy tokens equal; log-probability differences over \
         candidates of probability >= 1 %: largest {worst:.4}, mean {mean:.4} ({} values); \
         one-token prompts: largest {worst_single:.4}",
        diffs.len()
    );
    assert_eq!(
        ours,
        theirs,
        "{arch}: greedy tokens differ from step {same}: ours {:?}, llama.cpp {:?}",
        &ours[same..],
        &theirs[same..]
    );
    assert!(
        worst_single <= tolerance.one_token,
        "{arch}: one-token prompts: log-probabilities differ by {worst_single}"
    );
    assert!(
        mean <= tolerance.mean && worst <= tolerance.max,
        "{arch}: log-probabilities differ by {mean} on average, {worst} at most"
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
        &LLAMA,
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
        &QWEN2,
    );
}
