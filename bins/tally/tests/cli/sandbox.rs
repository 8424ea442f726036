//! `tally sandbox` as a process: it serves NeMo-Skills' session API (DELETE included) and
//! leaves no runtime files behind when stopped by SIGTERM or SIGINT; nor does the in-process
//! sandbox of `tally generate --with_sandbox` when the run is stopped by a signal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{sandbox_ready, tally};

/// One HTTP/1.1 exchange; returns (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn runtime_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tally-sandbox-"))
        .collect()
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(start.elapsed() < limit, "tally sandbox did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tally_sandbox_serves_sessions_and_removes_its_files_on_sigterm_and_sigint() {
    if !sandbox_ready() {
        return;
    }
    for signal in ["TERM", "INT"] {
        let tmp = tempfile::tempdir().unwrap();
        // What a SIGKILLed earlier run leaves: a runtime directory of a dead pid.
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead = gone.id();
        gone.wait().unwrap();
        std::fs::create_dir_all(tmp.path().join(format!("tally-sandbox-{dead}"))).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = tally()
            .args(["sandbox", "--workers", "1", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while http(port, "GET", "/health", "").is_none() {
            assert!(start.elapsed() < Duration::from_secs(180), "no /health");
            assert!(child.try_wait().unwrap().is_none(), "tally sandbox exited");
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(
            runtime_dirs(tmp.path()),
            [format!("tally-sandbox-{}-0", child.id())],
            "the stale directory is gone, the live one is there"
        );

        let run = r#"{"generated_code": "x = 20", "timeout": 10, "session_id": "s1"}"#;
        let (status, body) = http(port, "POST", "/execute", run).unwrap();
        assert_eq!(status, 200, "{body}");
        let (status, body) = http(port, "DELETE", "/sessions/s1", "").unwrap();
        assert_eq!(status, 200, "{body}");
        let (status, body) = http(port, "DELETE", "/sessions/s1", "").unwrap();
        assert_eq!(status, 404, "{body}");

        let kill = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let st = wait_exit(&mut child, Duration::from_secs(60));
        assert!(st.success(), "SIG{signal}: {st:?}");
        assert!(
            runtime_dirs(tmp.path()).is_empty(),
            "SIG{signal} left {:?}",
            runtime_dirs(tmp.path())
        );
    }
}

#[test]
fn a_signalled_generate_with_sandbox_removes_the_sandbox_runtime_files() {
    if !sandbox_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cfg.yaml"),
        "system: \"\"\nuser: |-\n  {problem}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"id\": \"a\", \"problem\": \"2+2?\", \"expected_answer\": \"4\"}\n",
    )
    .unwrap();
    // A model server that accepts and never answers: the run waits in generation, sandbox up.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    // It answers the pre-flight model listing, then holds every generation request.
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut held = Vec::new();
        for c in server.incoming() {
            let Ok(mut c) = c else { continue };
            let mut buf = [0u8; 4096];
            let n = c.read(&mut buf).unwrap_or(0);
            if buf[..n].starts_with(b"GET") {
                let body = r#"{"object": "list", "data": [{"id": "m"}]}"#;
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            } else {
                held.push(c);
            }
        }
    });
    let mut child = tally()
        .current_dir(dir.path())
        .env("TMPDIR", dir.path())
        .args([
            "generate",
            "--server_type=vllm",
            "--model=m",
            "--with_sandbox",
            "--output_dir=out",
            "++input_file=in.jsonl",
            "++prompt_config=cfg.yaml",
            "++prompt_template=qwen-instruct",
            "++code_execution=true",
        ])
        .arg(format!("--server_address=http://127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The sandbox is up once its runtime directory holds the fork-server.
    let start = Instant::now();
    while !runtime_dirs(dir.path())
        .iter()
        .any(|d| dir.path().join(d).join("forkserver.py").exists())
    {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no sandbox started"
        );
        assert!(child.try_wait().unwrap().is_none(), "tally generate exited");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Signalled while the workers may still be starting: the stop waits for them, then
    // removes everything.
    let kill = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let st = wait_exit(&mut child, Duration::from_secs(60));
    assert_eq!(st.code(), Some(128 + 15), "{st:?}");
    assert!(
        runtime_dirs(dir.path()).is_empty(),
        "left {:?}",
        runtime_dirs(dir.path())
    );
}
