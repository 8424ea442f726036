//! The pre-flight check and the circuit breaker of [`OpenAiCompatBackend`] against an
//! in-process server (real TCP, scripted answers).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client_tests::mini_http::{completion_json, MiniServer, Reply, Request};

use crate::*;

/// Answers `/v1/models` with `models`, everything else from `script` in turn (the last repeats);
/// records every request.
async fn server(models: Reply, script: Vec<Reply>) -> (MiniServer, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let script = Arc::new(script);
    let calls = Arc::new(AtomicUsize::new(0));
    let server = MiniServer::start(move |req: Request| {
        let (seen, script, models, calls) =
            (seen2.clone(), script.clone(), models.clone(), calls.clone());
        async move {
            let is_models = req.path == "/v1/models";
            seen.lock().unwrap().push(req);
            if is_models {
                return models;
            }
            let n = calls.fetch_add(1, Ordering::SeqCst);
            script[n.min(script.len() - 1)].clone()
        }
    })
    .await;
    (server, seen)
}

fn listing(ids: &[&str]) -> Reply {
    Reply::json(
        200,
        &json!({"object": "list", "data": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()}),
    )
}

fn ok() -> Reply {
    Reply::json(200, &completion_json("5", "stop", 2))
}

fn request() -> GenerationRequest {
    GenerationRequest::text("1+1=").with_params(SamplingParams {
        max_tokens: 4,
        ..SamplingParams::default()
    })
}

fn retries(n: u32, first: Duration) -> RetryPolicy {
    RetryPolicy {
        max_retries: n,
        initial_delay: first,
        max_delay: first,
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn a_model_listing_passes_the_check_and_names_the_model() {
    let (srv, seen) = server(listing(&["only-model"]), vec![ok()]).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .build()
        .unwrap();
    b.check().await.unwrap();
    assert_eq!(b.model_name().await.unwrap(), "only-model");
    // The check's listing settled the name: no second request.
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_models_endpoint_one_token_is_asked_for() {
    let (srv, seen) = server(
        Reply::json(404, &json!({"detail": "Not Found"})),
        vec![ok()],
    )
    .await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Sglang)
        .model("m")
        .build()
        .unwrap();
    b.check().await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/v1/completions")
    );
    assert_eq!(seen[1].json()["max_tokens"], 1);
    assert_eq!(seen[1].json()["model"], "m");
}

#[tokio::test]
async fn an_http_error_fails_the_check_with_the_url_and_status() {
    let (srv, _) = server(Reply::json(401, &json!({"error": "no key"})), vec![ok()]).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .build()
        .unwrap();
    let e = b.check().await.unwrap_err();
    assert!(matches!(e, BackendError::Http { status: 401, .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("{}/v1/models", srv.url())));
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_check_within_its_deadline() {
    let (srv, _) = server(Reply::Hang, vec![ok()]).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .build()
        .unwrap();
    let started = Instant::now();
    let e = b.check().await.unwrap_err();
    // It takes connections, so the first timeout buys one longer attempt, then it fails.
    assert!(
        matches!(e, BackendError::Timeout { attempts: 2, .. }),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_busy_server_that_answers_late_passes_the_check() {
    // Every answer comes after 5 s, past the first 4 s deadline: like a llama-server whose HTTP
    // workers are all held by other clients' generations.
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    let srv = MiniServer::start(move |_req: Request| {
        let seen = seen2.clone();
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(5)).await;
            listing(&["busy-model"])
        }
    })
    .await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .build()
        .unwrap();
    b.check().await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(b.model_name().await.unwrap(), "busy-model");
}

#[tokio::test]
async fn consecutive_connection_failures_trip_the_breaker_and_nothing_more_is_sent() {
    let (srv, seen) = server(listing(&["m"]), vec![Reply::Reset]).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .model("m")
        .retry(retries(10, Duration::from_millis(5)))
        .max_connection_failures(3)
        .build()
        .unwrap();
    assert!(b.halted().is_none());
    // Attempts 1–3 are reset; the third trips it, so retries 4–11 are never sent.
    let e = b.generate(&request()).await.unwrap_err();
    assert!(e.is_halted(), "{e:?}");
    assert_eq!(seen.lock().unwrap().len(), 3);
    let h = b.halted().expect("tripped");
    assert_eq!(h.failures, 3);
    assert_eq!(h.url, format!("{}/v1/completions", srv.url()));
    assert!(e.to_string().contains(&h.url), "{e}");
    // Later requests are not sent at all.
    let e = b.generate(&request()).await.unwrap_err();
    assert!(e.is_halted());
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn http_errors_and_answers_in_between_do_not_trip_it() {
    // 500s are answers: the server is there.
    let (srv, seen) = server(listing(&["m"]), vec![Reply::json(500, &json!({}))]).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .model("m")
        .retry(retries(3, Duration::from_millis(5)))
        .max_connection_failures(2)
        .build()
        .unwrap();
    let e = b.generate(&request()).await.unwrap_err();
    assert!(matches!(e, BackendError::Http { status: 500, .. }), "{e:?}");
    assert_eq!(seen.lock().unwrap().len(), 4);
    assert!(b.halted().is_none());

    // Two resets, an answer, two resets, an answer: never three in a row.
    let script = vec![
        Reply::Reset,
        Reply::Reset,
        ok(),
        Reply::Reset,
        Reply::Reset,
        ok(),
    ];
    let (srv, _) = server(listing(&["m"]), script).await;
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .model("m")
        .retry(retries(5, Duration::from_millis(5)))
        .max_connection_failures(3)
        .build()
        .unwrap();
    b.generate(&request()).await.unwrap();
    b.generate(&request()).await.unwrap();
    assert!(b.halted().is_none());
}

#[tokio::test]
async fn a_request_waiting_to_retry_gives_up_when_the_breaker_trips() {
    let (srv, seen) = server(listing(&["m"]), vec![Reply::Reset]).await;
    // A minute between retries: only the trip can end the first request's wait early.
    let b = OpenAiCompatBackend::builder(srv.url(), ServerType::Vllm)
        .model("m")
        .retry(retries(3, Duration::from_secs(60)))
        .max_connection_failures(2)
        .build()
        .unwrap();
    let req = request();
    let first = b.generate(&req);
    let second = async {
        // Sent once the first has failed and is waiting.
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        b.generate(&req).await
    };
    let (a, c) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(first, second)
    })
    .await
    .expect("the trip ends the one-minute wait");
    assert!(a.unwrap_err().is_halted());
    assert!(c.unwrap_err().is_halted());
    assert_eq!(seen.lock().unwrap().len(), 2);
}
