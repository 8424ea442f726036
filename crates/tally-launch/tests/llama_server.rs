//! The whole lifecycle with a real server: llama.cpp's llama-server and SmolLM2-135M, as built
//! by `scripts/llama-server.sh setup`. Skipped (with a note) when they are not there.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::{group_members, http, port_accepts};
use tally_launch::{
    free_port, llama_cache, LlamaCppOptions, RunningServer, ServerSpec, ServerType,
};

fn cache_root() -> Option<PathBuf> {
    std::env::var_os("TALLY_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tally")))
}

#[tokio::test]
async fn llama_server_starts_answers_and_stops_cleanly() {
    let Some(root) = cache_root() else {
        eprintln!("note: no HOME; skipping the llama-server test");
        return;
    };
    let (bin, model) = (
        llama_cache::server_binary(&root),
        llama_cache::smollm2_model(&root),
    );
    if !bin.is_file() || !model.is_file() {
        eprintln!(
            "note: {} or {} missing (run `bash scripts/llama-server.sh setup`); skipping",
            bin.display(),
            model.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let spec = ServerSpec::new(ServerType::LlamaCpp, model.to_str().unwrap(), port)
        .with_program(bin.to_str().unwrap())
        .with_llama_cpp(LlamaCppOptions {
            ctx_size: 1024,
            parallel: 1,
            threads: 1,
        });
    let server = RunningServer::start(
        &spec,
        dir.path().join("llama.log"),
        Duration::from_secs(180),
    )
    .await
    .unwrap();
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}"));
    let pgid = server.pgid();
    assert!(!group_members(pgid).is_empty());

    let (status, body) = http(
        port,
        "POST",
        "/v1/completions",
        r#"{"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"choices\""), "{body}");

    server.stop().await.unwrap();
    assert!(!port_accepts(port), "port {port} still open");
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
}
