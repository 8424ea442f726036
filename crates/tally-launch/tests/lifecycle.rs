//! Starting and stopping servers with stand-in programs: early exit, health timeout, SIGTERM
//! ignored, drop without stop, Ctrl-C style stopping, a taken port, a missing program.

mod support;

use std::time::{Duration, Instant};

use support::{group_members, have_python, http, port_accepts, FAKE_SERVER};
use tally_launch::{
    free_port, CommandLine, LaunchError, RunningServer, ServerSpec, ServerType, StartOptions,
};

/// One test at a time: each starts processes on free ports and times their stopping, which
/// parallel tests on 2 cores make flaky (a port handed out twice, a grace period overrun).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn options(dir: &tempfile::TempDir, timeout: Duration) -> StartOptions {
    StartOptions::new(dir.path().join("logs/server.log"), timeout)
        .with_grace(Duration::from_secs(2))
        .with_poll_interval(Duration::from_millis(100))
}

fn fake_server(port: u16, extra: &[&str]) -> CommandLine {
    CommandLine::new("python3")
        .args(["-c", FAKE_SERVER, &port.to_string()])
        .args(extra.iter().copied())
}

#[tokio::test]
async fn a_healthy_server_stops_with_its_whole_group() {
    let _serial = SERIAL.lock().await;
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let server = RunningServer::start_command(
        fake_server(port, &[]),
        port,
        "no hint",
        options(&dir, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(http(port, "GET", "/health", "").0, 200);
    let pgid = server.pgid();
    // The Python server and its `sleep` worker.
    assert!(group_members(pgid).len() >= 2, "{:?}", group_members(pgid));
    let log = server.log_path().to_path_buf();
    server.stop().await.unwrap();
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
    assert!(!port_accepts(port));
    assert!(std::fs::read_to_string(log)
        .unwrap()
        .contains("fake server listening"));
}

#[tokio::test]
async fn a_child_that_exits_at_once_reports_its_log_tail() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let cmd = CommandLine::new("sh").args([
        "-c",
        "echo 'loading model'; echo 'RuntimeError: CUDA out of memory' >&2; exit 3",
    ]);
    let started = Instant::now();
    let err = RunningServer::start_command(cmd, port, "", options(&dir, Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "did not fail early"
    );
    assert!(matches!(err, LaunchError::ExitedEarly { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("`sh` exited (exit code 3)"), "{msg}");
    assert!(
        msg.contains("loading model\nRuntimeError: CUDA out of memory"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_health_timeout_kills_the_child_and_its_children() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let pid_file = dir.path().join("pid");
    // Never listens; leaves a grandchild running.
    let script = format!(
        "echo $$ > '{}'; sleep 1000 & echo 'still loading'; wait",
        pid_file.display()
    );
    let cmd = CommandLine::new("sh").args(["-c", &script]);
    let err = RunningServer::start_command(cmd, port, "", options(&dir, Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, LaunchError::HealthTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains("still loading"), "{err}");
    let pgid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
}

#[tokio::test]
async fn drop_without_stop_kills_the_group() {
    let _serial = SERIAL.lock().await;
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let server = RunningServer::start_command(
        fake_server(port, &[]),
        port,
        "",
        options(&dir, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    let pgid = server.pgid();
    assert!(!group_members(pgid).is_empty());
    drop(server);
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
    assert!(!port_accepts(port));
}

#[tokio::test]
async fn sigterm_ignored_means_sigkill_after_the_grace_period() {
    let _serial = SERIAL.lock().await;
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let server = RunningServer::start_command(
        fake_server(port, &["ignore-term"]),
        port,
        "",
        options(&dir, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    let pgid = server.pgid();
    let started = Instant::now();
    server.stop().await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "stopped before the grace period: {took:?}"
    );
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
}

#[tokio::test]
async fn a_stopper_stops_it_from_another_task() {
    let _serial = SERIAL.lock().await;
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let server = RunningServer::start_command(
        fake_server(port, &[]),
        port,
        "",
        options(&dir, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    let pgid = server.pgid();
    let stopper = server.stopper();
    tokio::spawn(async move { stopper.stop().await })
        .await
        .unwrap()
        .unwrap();
    assert!(group_members(pgid).is_empty());
    // Nothing left to stop, and no signal goes to a recycled group id.
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_taken_port_is_refused_before_starting() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let err = RunningServer::start_command(
        CommandLine::new("true"),
        port,
        "",
        options(&dir, Duration::from_secs(5)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, LaunchError::PortInUse { port: p } if p == port),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_port_whose_listener_goes_away_is_waited_for() {
    // A killed run's server still listens for a moment after its parent died; a rerun must not
    // refuse the port then (it did, 'port … is already in use', until the wait came first).
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        drop(held);
    });
    let err = RunningServer::start_command(
        CommandLine::new("true"),
        port,
        "",
        options(&dir, Duration::from_secs(5)),
    )
    .await
    .unwrap_err();
    release.join().unwrap();
    // `true` serves nothing, so the start fails later, but not on the port.
    assert!(!matches!(err, LaunchError::PortInUse { .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_program_says_how_to_get_it() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = ServerSpec::new(ServerType::LlamaCpp, "m.gguf", free_port().unwrap())
        .with_program("/nonexistent/bin/llama-server");
    let err = RunningServer::start(&spec, dir.path().join("log"), Duration::from_secs(5))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`/nonexistent/bin/llama-server` was not found"),
        "{msg}"
    );
    assert!(msg.contains("bash scripts/llama-server.sh setup"), "{msg}");

    let spec = ServerSpec::new(ServerType::Trtllm, "/models/m", free_port().unwrap())
        .with_program("trtllm-serve-missing");
    let msg = RunningServer::start(&spec, dir.path().join("log"), Duration::from_secs(5))
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("pip install tensorrt_llm"), "{msg}");

    if have_python() {
        let spec = ServerSpec::new(ServerType::Vllm, "m", free_port().unwrap());
        if tally_launch::check_installed(&spec).await.is_err() {
            let msg = RunningServer::start(&spec, dir.path().join("log"), Duration::from_secs(5))
                .await
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("`vllm`") && msg.contains("pip install vllm"),
                "{msg}"
            );
        }
    }
}

#[tokio::test]
async fn abandoning_a_start_half_way_kills_the_child() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > '{}'; sleep 1000 & wait", pid_file.display());
    let start = RunningServer::start_command(
        CommandLine::new("sh").args(["-c", &script]),
        port,
        "",
        options(&dir, Duration::from_secs(600)),
    );
    // As when the caller's Ctrl-C branch wins a select! while the model is still loading.
    assert!(tokio::time::timeout(Duration::from_millis(500), start)
        .await
        .is_err());
    let pgid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        group_members(pgid).is_empty(),
        "left: {:?}",
        group_members(pgid)
    );
}
