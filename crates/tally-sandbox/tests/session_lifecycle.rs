//! Sessions over a long run, against the REAL sandbox: `DELETE /sessions/<id>` frees a session's
//! process at once, lost sessions say so until deleted, memory stays bounded over thousands of
//! sessions, and two services on one machine leave each other alone. Each test starts services
//! of its own. Skipped without `scripts/sandbox-setup.sh`'s venv, failed instead under `CI`.

mod common;

use std::time::{Duration, Instant};

use common::{block, wait_until, worker_footprint, Running};
use tally_sandbox::{ProcessStatus, SandboxClient};

const T: Duration = Duration::from_secs(20);

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

#[test]
fn delete_frees_the_holder_at_once_and_the_id_then_starts_afresh() {
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let running = Running::start(common::config(venv, 1));
    let svc = running.service.clone();
    let url = running.url.clone();
    block(async {
        let c = SandboxClient::new(&url);
        let idle = worker_footprint(&svc).0;
        let s = SandboxClient::new_session_id();
        let r = c.execute("x = 41", T, Some(&s)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::Completed);
        assert!(r.new_session_created, "{r:?}");
        let r = c.execute("x + 1", T, Some(&s)).await.unwrap();
        assert_eq!((r.stdout.as_str(), r.new_session_created), ("42\n", false));
        assert!(
            wait_until(Duration::from_secs(5), || worker_footprint(&svc).0
                == idle + 1),
            "one holder process per session: {} processes, {idle} idle",
            worker_footprint(&svc).0
        );

        assert!(c.delete_session(&s).await.unwrap());
        assert!(
            wait_until(Duration::from_secs(5), || worker_footprint(&svc).0 == idle),
            "the holder is gone after DELETE: {} processes, {idle} idle",
            worker_footprint(&svc).0
        );
        assert!(
            !c.delete_session(&s).await.unwrap(),
            "a second DELETE finds nothing"
        );
        // A deleted id is free: it starts a new, empty session (no `session_lost`).
        let r = c.execute("x", T, Some(&s)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::Error, "{r:?}");
        assert!(r.stdout.contains("NameError"), "{r:?}");

        // NeMo-Skills' newest client: the session id in the X-Session-ID header only, language
        // "ipython", and DELETE answered 200 {"message"} / 404 {"error"}.
        let h = SandboxClient::new_session_id();
        let post = |code: &str| {
            http()
                .post(format!("{url}/execute"))
                .header("X-Session-ID", &h)
                .json(&serde_json::json!({
                    "generated_code": code, "timeout": 10, "language": "ipython",
                    "std_input": "", "max_output_characters": 1000,
                    "traceback_verbosity": "Plain",
                }))
                .send()
        };
        let r: serde_json::Value = post("y = 5").await.unwrap().json().await.unwrap();
        assert_eq!(r["process_status"], "completed", "{r}");
        assert_eq!(r["new_session_created"], true, "{r}");
        let r: serde_json::Value = post("y * 2").await.unwrap().json().await.unwrap();
        assert_eq!(r["stdout"], "10\n", "{r}");
        let del = || http().delete(format!("{url}/sessions/{h}")).send();
        let first = del().await.unwrap();
        assert_eq!(first.status(), 200);
        let body: serde_json::Value = first.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(&h), "{body}");
        let second = del().await.unwrap();
        assert_eq!(second.status(), 404);
        let body: serde_json::Value = second.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("not found"),
            "{body}"
        );

        let health = svc.health();
        assert_eq!(health.sessions, 1, "only the re-created {s} is live");
        assert_eq!(health.sessions_deleted, 2);
        assert_eq!(health.lost_sessions, 0);
    });
    running.stop();
}

#[test]
fn a_lost_session_says_so_until_it_is_deleted() {
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let mut config = common::config(venv, 1);
    config.max_sessions = 2;
    config.session_idle_timeout = Duration::from_secs(6);
    let running = Running::start(config);
    let svc = running.service.clone();
    block(async {
        let c = SandboxClient::new(&running.url);
        let a = SandboxClient::new_session_id();
        c.execute("x = 1", T, Some(&a)).await.unwrap();

        // 1. The worker dies (a stateless snippet kills its fork-server) and restarts.
        let r = c
            .execute(
                "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                T,
                None,
            )
            .await
            .unwrap();
        assert_eq!(r.process_status, ProcessStatus::Killed, "{r:?}");
        for _ in 0..2 {
            let r = c.execute("print(x)", T, Some(&a)).await.unwrap();
            assert_eq!(r.process_status, ProcessStatus::SessionLost, "{r:?}");
            assert!(r.stderr.contains("worker died and was restarted"), "{r:?}");
            assert!(r.stderr.contains(&a), "{r:?}");
            assert_eq!(r.stdout, "");
            assert!(r.new_session_created);
        }
        let h = svc.health();
        assert_eq!(
            (
                h.worker_restarts,
                h.sessions_lost_to_restarts,
                h.lost_sessions
            ),
            (1, 1, 1)
        );
        // Deleting acknowledges the loss; the id then starts afresh, visibly empty.
        assert!(c.delete_session(&a).await.unwrap());
        let r = c.execute("print(x)", T, Some(&a)).await.unwrap();
        assert!(r.stdout.contains("NameError"), "{r:?}");

        // 2. Eviction: max_sessions = 2, so a third session pushes out the least recently used.
        let (b, d) = (
            SandboxClient::new_session_id(),
            SandboxClient::new_session_id(),
        );
        c.execute("y = 2", T, Some(&b)).await.unwrap();
        c.execute("z = 3", T, Some(&d)).await.unwrap();
        let r = c.execute("1", T, Some(&a)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::SessionLost, "{r:?}");
        assert!(r.stderr.contains("evicted"), "{r:?}");
        let r = c.execute("y", T, Some(&b)).await.unwrap();
        assert_eq!(r.stdout, "2\n", "the newer sessions are intact");
        assert_eq!(svc.health().sessions_evicted, 1);

        // 3. Expiry: idle for longer than the idle timeout.
        std::thread::sleep(Duration::from_secs(8));
        let r = c.execute("y", T, Some(&b)).await.unwrap();
        assert_eq!(r.process_status, ProcessStatus::SessionLost, "{r:?}");
        assert!(r.stderr.contains("idle"), "{r:?}");
        let h = svc.health();
        assert_eq!((h.sessions, h.sessions_expired), (0, 2), "{h:?}");
    });
    running.stop();
}

/// Thousands of TIR-like sessions: most end by DELETE, every tenth is abandoned (left to be
/// evicted or to expire). The worker trees — holder processes and their memory (PSS) — stay
/// bounded by `max_sessions` the whole time, and are back to idle at the end.
#[test]
fn thousands_of_sessions_keep_processes_and_memory_bounded() {
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let sessions: usize = std::env::var("TALLY_SANDBOX_SCALE_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let (max_sessions, clients) = (24usize, 8usize);
    let mut config = common::config(venv, 2);
    config.max_sessions = max_sessions;
    // Long enough that the abandoned sessions pile up past max_sessions and are evicted (one is
    // abandoned every ten sessions: at even 10 snippets/s that is 0.5/s, 10 per timeout, beyond
    // the 16 places the clients leave), short enough that the last of them expire soon after.
    config.session_idle_timeout = Duration::from_secs(40);
    let running = Running::start(config);
    let svc = running.service.clone();
    let (idle_procs, idle_pss) = worker_footprint(&svc);
    eprintln!("idle: {idle_procs} processes, PSS {idle_pss} KiB");

    // Sample the worker trees while the load runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (svc, stop) = (svc.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut max_procs, mut max_pss, mut samples) = (0usize, 0u64, 0usize);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (procs, pss) = worker_footprint(&svc);
                max_procs = max_procs.max(procs);
                max_pss = max_pss.max(pss);
                samples += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            (max_procs, max_pss, samples)
        })
    };
    let started = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = running.url.clone();
    let answered: usize = rt.block_on(async {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (c, next) = (SandboxClient::new(&url), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= sessions {
                        return n;
                    }
                    let s = SandboxClient::new_session_id();
                    let r = c
                        .execute(&format!("v = {i} * {i}\nprint(v)"), T, Some(&s))
                        .await
                        .unwrap();
                    assert_eq!(r.stdout, format!("{}\n", i * i), "session {i}: {r:?}");
                    let r = c.execute("print(v + 1)", T, Some(&s)).await.unwrap();
                    assert_eq!(r.stdout, format!("{}\n", i * i + 1), "session {i}: {r:?}");
                    n += 2;
                    if i % 10 != 0 {
                        assert!(c.delete_session(&s).await.unwrap(), "session {i}");
                    }
                }
            }));
        }
        let mut n = 0;
        for t in tasks {
            n += t.await.unwrap();
        }
        n
    });
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (max_procs, max_pss, samples) = sampler.join().unwrap();
    let h = svc.health();
    eprintln!(
        "{sessions} sessions, {answered} snippets in {secs:.1} s ({:.0}/s); worker trees at most \
         {max_procs} processes, PSS {max_pss} KiB ({samples} samples); {h:?}",
        answered as f64 / secs
    );
    assert_eq!(answered, 2 * sessions);
    // Every live session is one holder; beyond those, each in-flight request has at most a
    // snippet child and an exiting old holder.
    let proc_bound = idle_procs + max_sessions + 2 * clients;
    assert!(
        max_procs <= proc_bound,
        "{max_procs} processes > {proc_bound}"
    );
    // Holders share the fork-server's pages; even unshared, 32 MiB each is generous.
    let pss_bound = idle_pss + (max_sessions + 2 * clients) as u64 * 32 * 1024;
    assert!(max_pss <= pss_bound, "PSS {max_pss} KiB > {pss_bound} KiB");
    let abandoned = sessions.div_ceil(10) as u64;
    assert_eq!(h.sessions_deleted, sessions as u64 - abandoned);
    assert!(h.sessions <= max_sessions);

    // The abandoned sessions are evicted or expire; then the workers are back to idle.
    assert!(
        wait_until(Duration::from_secs(90), || svc.health().sessions == 0),
        "{:?}",
        svc.health()
    );
    let h = svc.health();
    assert_eq!(h.sessions_evicted + h.sessions_expired, abandoned, "{h:?}");
    assert!(h.sessions_evicted > 0 && h.sessions_expired > 0, "{h:?}");
    assert_eq!(h.worker_restarts, 0);
    assert!(
        wait_until(Duration::from_secs(10), || worker_footprint(&svc).0
            == idle_procs),
        "{} processes after expiry, {idle_procs} idle",
        worker_footprint(&svc).0
    );
    running.stop();
}

/// Two services started at once in one process (as two evaluations on one Slurm node): one
/// keeps losing workers, the other's sessions and workers never notice.
#[test]
fn two_services_on_one_machine_never_touch_each_other() {
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let venv = venv.clone();
            std::thread::spawn(move || Running::start(common::config(venv, 2)))
        })
        .collect();
    let mut both: Vec<Running> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let calm = both.pop().unwrap();
    let chaos = both.pop().unwrap();
    let (ch, ca) = (chaos.service.health(), calm.service.health());
    eprintln!("uids: {:?} and {:?}", ch.worker_uids, ca.worker_uids);
    if let (Some(x), Some(y)) = (ch.worker_uids, ca.worker_uids) {
        assert!(
            x[1] < y[0] || y[1] < x[0],
            "uid ranges overlap: {x:?} {y:?}"
        );
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (chaos_url, calm_url) = (chaos.url.clone(), calm.url.clone());
    let kills = 6;
    rt.block_on(async {
        let killer = tokio::spawn(async move {
            let c = SandboxClient::new(&chaos_url);
            let s = SandboxClient::new_session_id();
            for _ in 0..kills {
                c.execute("w = 1", T, Some(&s)).await.unwrap();
                // Kills the fork-server: the worker is killed for good (its whole uid) and
                // restarted, as after any crash.
                let r = c
                    .execute(
                        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                        T,
                        None,
                    )
                    .await
                    .unwrap();
                assert_eq!(r.process_status, ProcessStatus::Killed, "{r:?}");
                c.delete_session(&s).await.unwrap();
            }
        });
        let c = SandboxClient::new(&calm_url);
        // Two sessions: one per worker slot.
        let ids = [
            SandboxClient::new_session_id(),
            SandboxClient::new_session_id(),
        ];
        for (k, s) in ids.iter().enumerate() {
            c.execute(&format!("import sympy as sp\nn = {}", 100 * k), T, Some(s))
                .await
                .unwrap();
        }
        let mut round = 0;
        while !killer.is_finished() || round < 20 {
            round += 1;
            for (k, s) in ids.iter().enumerate() {
                let r = c
                    .execute("n += 1\nprint(n, sp.factor(2**10))", T, Some(s))
                    .await
                    .unwrap();
                assert_eq!(
                    r.stdout,
                    format!("{} 1024\n", 100 * k + round),
                    "calm session {k}, round {round}: {r:?}"
                );
            }
        }
        killer.await.unwrap();
    });
    let (ch, ca) = (chaos.service.health(), calm.service.health());
    assert!(ch.worker_restarts >= kills, "{ch:?}");
    assert_eq!(ca.worker_restarts, 0, "{ca:?}");
    assert_eq!(ca.sessions_lost_to_restarts + ca.sessions_lost_holders, 0);
    // Each service's processes run under its own uids only.
    for (svc, uids) in [
        (&chaos.service, ch.worker_uids),
        (&calm.service, ca.worker_uids),
    ] {
        let Some([first, last]) = uids else { continue };
        let roots: Vec<u32> = svc.worker_pids().into_iter().flatten().collect();
        for p in common::tree(&roots) {
            assert!(
                (first..=last).contains(&p.uid),
                "process {} runs as {} outside {first}..={last}",
                p.pid,
                p.uid
            );
        }
    }
    chaos.stop();
    calm.stop();
}

#[test]
fn runtime_files_are_removed_at_shutdown_and_stale_ones_at_start() {
    let Some(venv) = common::venv_or_skip() else {
        return;
    };
    let parent = std::env::temp_dir().join(format!("tally-rt-test-{}", std::process::id()));
    std::fs::create_dir_all(&parent).unwrap();
    // What a service that was SIGKILLed leaves behind: its pid is dead.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = parent.join(format!("tally-sandbox-{dead}"));
    std::fs::create_dir_all(stale.join("slot-0-tmp")).unwrap();
    std::fs::write(stale.join("forkserver.py"), "# old").unwrap();

    let mut config = common::config(venv, 1);
    config.runtime_dir = parent.join(format!("tally-sandbox-{}-900", std::process::id()));
    let own = config.runtime_dir.clone();
    let running = Running::start(config);
    assert!(
        !stale.exists(),
        "stale {} removed at start",
        stale.display()
    );
    assert!(own.join("forkserver.py").exists());
    running.stop();
    assert!(!own.exists(), "{} removed at shutdown", own.display());
    let _ = std::fs::remove_dir_all(&parent);
}
