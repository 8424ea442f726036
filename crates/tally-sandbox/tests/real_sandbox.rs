//! Hostile snippets and a load test against the REAL sandbox (bubblewrap or the Landlock
//! fallback, whatever `probe` picks). Skipped, with a note, when `scripts/sandbox-setup.sh` has
//! not been run (no venv at `${TALLY_CACHE_DIR:-$HOME/.cache/tally}/sandbox-venv`) — failed
//! instead when `CI` is set.
//!
//! One service is shared by all tests: it runs on its own thread and runtime, and each test
//! talks to it over HTTP, as the TIR loop will.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::block;
use tally_sandbox::{ProcessStatus, SandboxClient};

/// The base URL of the shared service, or None (test skipped) without the venv.
fn service() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let venv = common::venv_or_skip()?;
        let mut config = common::config(venv, 2);
        config.session_idle_timeout = Duration::from_secs(60);
        let running = common::Running::start(config);
        let url = running.url.clone();
        // Serves until the test process exits.
        std::mem::forget(running);
        Some(url)
    })
    .as_deref()
}

/// Runs `code` (stateless, given timeout), then checks the service still answers.
fn run(code: &str, timeout: f64) -> Option<tally_sandbox::ExecutionResult> {
    let url = service()?;
    Some(block(async {
        let client = SandboxClient::new(url);
        let started = Instant::now();
        let r = client
            .execute(code, Duration::from_secs_f64(timeout), None)
            .await
            .unwrap();
        eprintln!("{code:?} -> {r:?} in {:?}", started.elapsed());
        let next = client
            .execute("print(6*7)", Duration::from_secs(20), None)
            .await
            .unwrap();
        assert_eq!(next.stdout, "42\n", "service answers after {code:?}");
        r
    }))
}

#[test]
fn nemo_formatting() {
    let Some(url) = service() else { return };
    block(async {
        let c = SandboxClient::new(url);
        let t = Duration::from_secs(10);
        let r = c.execute("print(2+2)", t, None).await.unwrap();
        assert_eq!(
            (r.process_status, r.stdout.as_str()),
            (ProcessStatus::Completed, "4\n")
        );
        let r = c.execute("x=5\nx*2", t, None).await.unwrap();
        assert_eq!(r.stdout, "10\n");
        let r = c.execute("y = 1/0", t, None).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::Error);
        assert_eq!(
            r.stdout,
            "Traceback (most recent call last):\n    y = 1/0\nZeroDivisionError: division by zero\n"
        );
        let r = c.execute("def f(:", t, None).await.unwrap();
        assert_eq!(
            r.stdout,
            "    def f(:\n          ^\nSyntaxError: invalid syntax\n"
        );
        let r = c.execute("print('a'*1500)", t, None).await.unwrap();
        assert_eq!(r.stdout, format!("{}<output cut>\n", "a".repeat(1000)));
        let r = c
            .execute("import time; time.sleep(5)", Duration::from_secs(1), None)
            .await
            .unwrap();
        assert_eq!(
            (r.process_status, r.stderr.as_str()),
            (ProcessStatus::Timeout, "Timed out\n")
        );
    });
}

#[test]
fn sessions_keep_state_and_drop_failed_snippets() {
    let Some(url) = service() else { return };
    block(async {
        let c = SandboxClient::new(url);
        let t = Duration::from_secs(10);
        let (a, b) = (
            SandboxClient::new_session_id(),
            SandboxClient::new_session_id(),
        );
        c.execute("import sympy as sp\nx = sp.Symbol('x')\nv = 1", t, Some(&a))
            .await
            .unwrap();
        c.execute("v = 2", t, Some(&b)).await.unwrap();
        // A failing snippet's partial effects are dropped, as NeMo-Skills' history replay does.
        let r = c.execute("v = 100\n1/0", t, Some(&a)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::Error);
        let r = c
            .execute(
                "import time\nv = 200\ntime.sleep(5)",
                Duration::from_secs(1),
                Some(&a),
            )
            .await
            .unwrap();
        assert_eq!(r.process_status, ProcessStatus::Timeout);
        let r = c
            .execute("print(v, sp.factor(x**2-1))", t, Some(&a))
            .await
            .unwrap();
        assert_eq!(r.stdout, "1 (x - 1)*(x + 1)\n");
        let r = c.execute("v", t, Some(&b)).await.unwrap();
        assert_eq!(r.stdout, "2\n");
        let r = c.execute("v", t, None).await.unwrap();
        assert!(r.stdout.contains("NameError"), "{r:?}");
    });
}

#[test]
fn hostile_tcp_socket() {
    let Some(r) = run(
        "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 22))\nprint('CONNECTED')",
        10.0,
    ) else {
        return;
    };
    assert_eq!(r.process_status, ProcessStatus::Error);
    assert!(r.stdout.contains("PermissionError"), "{r:?}");
    assert!(!r.stdout.contains("CONNECTED"));
}

#[test]
fn hostile_unix_sockets() {
    // Also the host's munge socket, when there is one: it must not even be visible.
    let munge = std::path::Path::new("/run/munge/munge.socket.2").exists();
    eprintln!("host munge socket present: {munge}");
    let code = "import socket, os\nprint(os.path.exists('/run/munge/munge.socket.2'))\ns = socket.socket(socket.AF_UNIX)\ns.connect('/run/munge/munge.socket.2')\nprint('CONNECTED')";
    let Some(r) = run(code, 10.0) else { return };
    assert_eq!(r.process_status, ProcessStatus::Error);
    assert!(r.stdout.starts_with("False\n"), "{r:?}");
    assert!(r.stdout.contains("PermissionError"), "{r:?}");
    let r = run(
        "import socket\na, b = socket.socketpair(socket.AF_INET)",
        10.0,
    )
    .unwrap();
    assert_eq!(r.process_status, ProcessStatus::Error, "{r:?}");
}

#[test]
fn hostile_write_outside_tmp() {
    let marker = format!("tally-sandbox-escape-{}", std::process::id());
    let code = format!(
        "import os\nfails = 0\nfor d in ['/var/tmp', '/root', '/usr', '/etc', '/work', '/']:\n    try:\n        open(os.path.join(d, '{marker}'), 'w').write('x')\n        print('WROTE', d)\n    except OSError:\n        fails += 1\nopen('/tmp/ok', 'w').write('fine')\nprint(fails)"
    );
    let Some(r) = run(&code, 10.0) else { return };
    assert_eq!(r.stdout, "6\n", "{r:?}");
    for d in ["/var/tmp", "/root", "/usr", "/etc", "/work", "/"] {
        assert!(
            !std::path::Path::new(d).join(&marker).exists(),
            "escaped to {d}"
        );
    }
}

#[test]
fn hostile_read_shadow() {
    let Some(r) = run("print(open('/etc/shadow').read())", 10.0) else {
        return;
    };
    assert_eq!(r.process_status, ProcessStatus::Error);
    assert!(
        r.stdout.contains("FileNotFoundError") || r.stdout.contains("PermissionError"),
        "{r:?}"
    );
}

#[test]
fn hostile_fork_bomb() {
    let code =
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass";
    let started = Instant::now();
    let Some(r) = run(code, 3.0) else { return };
    assert_eq!(r.process_status, ProcessStatus::Timeout, "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn hostile_allocate_4gib() {
    let Some(r) = run("b = bytearray(4 * 1024**3)\nprint(len(b))", 10.0) else {
        return;
    };
    assert_eq!(r.process_status, ProcessStatus::MemoryLimit, "{r:?}");
    assert!(r.stdout.contains("MemoryError"), "{r:?}");
}

#[test]
fn hostile_infinite_loop() {
    let started = Instant::now();
    let Some(r) = run("while True:\n    pass", 2.0) else {
        return;
    };
    assert_eq!(r.process_status, ProcessStatus::Timeout);
    assert_eq!(r.stderr, "Timed out\n");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn hostile_kill_parent() {
    // A service of its own: killing a worker loses every session on it, which would disturb
    // the other tests' sessions on the shared service.
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let own = common::Running::start(common::config(venv, 1));
    block(async {
        let c = SandboxClient::new(&own.url);
        let t = Duration::from_secs(10);
        let r = c
            .execute(
                "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                t,
                None,
            )
            .await
            .unwrap();
        assert_eq!(r.process_status, ProcessStatus::Killed, "{r:?}");
        let r = c.execute("print(6*7)", t, None).await.unwrap();
        assert_eq!(r.stdout, "42\n", "the worker was restarted");
        // In a session the parent is the session holder: the snippet survives as the new holder.
        let s = SandboxClient::new_session_id();
        c.execute("a = 1", t, Some(&s)).await.unwrap();
        let r = c
            .execute(
                "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                t,
                Some(&s),
            )
            .await
            .unwrap();
        eprintln!("session kill parent -> {r:?}");
        let r = c.execute("print('alive', a)", t, Some(&s)).await.unwrap();
        assert_eq!(r.stdout, "alive 1\n", "{r:?}");
        // Killing the holder and then dying too loses the state: the session says so.
        let r = c
            .execute(
                "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos._exit(3)",
                t,
                Some(&s),
            )
            .await
            .unwrap();
        assert_eq!(r.process_status, ProcessStatus::Killed, "{r:?}");
        let r = c.execute("print('alive', a)", t, Some(&s)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::SessionLost, "{r:?}");
        assert!(r.stderr.contains("holding its state died"), "{r:?}");
    });
    own.stop();
}

#[test]
fn hostile_fill_disk() {
    let code = "n = 0\ntry:\n    for i in range(1000):\n        with open(f'/tmp/fill{i}', 'wb') as f:\n            f.write(b'x' * 10_000_000)\n        n += 1\nfinally:\n    print(n)";
    let Some(r) = run(code, 20.0) else { return };
    assert_eq!(r.process_status, ProcessStatus::Error, "{r:?}");
    assert!(
        r.stdout.contains("No space left") || r.stdout.contains("File too large"),
        "{r:?}"
    );
}

#[test]
fn hostile_print_100mb() {
    let started = Instant::now();
    let Some(r) = run("for i in range(1_000_000):\n    print('x' * 99)", 30.0) else {
        return;
    };
    assert_eq!(r.process_status, ProcessStatus::Completed, "{r:?}");
    assert!(r.stdout.ends_with("<output cut>\n"));
    assert!(r.stdout.chars().count() <= 1000 + 13);
    eprintln!("100 MB print took {:?}", started.elapsed());
}

#[test]
fn load_8_clients_tir_mix() {
    let Some(url) = service() else { return };
    let per_client: usize = std::env::var("TALLY_SANDBOX_LOAD_SNIPPETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let total = rt.block_on(async {
        let mut tasks = Vec::new();
        for client_no in 0..8usize {
            let client = SandboxClient::new(url);
            tasks.push(tokio::spawn(async move {
                let session = SandboxClient::new_session_id();
                let t = Duration::from_secs(20);
                let mine = format!("client_{client_no}");
                client
                    .execute(
                        &format!("import sympy as sp, numpy as np\nowner = '{mine}'\ncount = 0"),
                        t,
                        Some(&session),
                    )
                    .await
                    .unwrap();
                let mut answered = 1;
                for i in 0..per_client {
                    let (code, expect): (String, String) = match i % 5 {
                        0 => (
                            "x = sp.Symbol('x')\nsorted(sp.solve(x**2 - 5*x + 6, x))".into(),
                            "[2, 3]\n".into(),
                        ),
                        1 => (
                            format!("int(np.arange({i}).sum())"),
                            format!("{}\n", (0..i).sum::<usize>()),
                        ),
                        2 => (
                            "count += 1\ns = 0\nfor k in range(1000):\n    s += k*k\nprint(s)"
                                .into(),
                            "332833500\n".into(),
                        ),
                        3 => ("1/0".into(), "ZeroDivisionError: division by zero\n".into()),
                        _ => (
                            "print(owner, count)".into(),
                            format!("{mine} {}\n", i / 5 + 1),
                        ),
                    };
                    let r = client.execute(&code, t, Some(&session)).await.unwrap();
                    assert!(
                        r.stdout.ends_with(&expect),
                        "client {client_no} snippet {i}: {code:?} -> {r:?}"
                    );
                    answered += 1;
                }
                answered
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "load: {total} snippets from 8 clients in {secs:.1} s ({:.0}/s)",
        total as f64 / secs
    );
    assert_eq!(total, 8 * (per_client + 1));
}
