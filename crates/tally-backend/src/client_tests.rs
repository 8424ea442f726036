//! Behaviour of [`OpenAiCompatBackend`] against an in-process server: request bodies, retries,
//! timeouts, context-length handling, key hygiene, the connection bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tally_core::Status;

#[path = "../tests/support/mini_http.rs"]
pub(crate) mod mini_http;
use mini_http::{completion_json, MiniServer, Reply, Request};

use crate::*;

fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn backend(url: &str, kind: ServerType, retries: u32) -> OpenAiCompatBackend {
    OpenAiCompatBackend::builder(url, kind)
        .model("m")
        .retry(fast_retry(retries))
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Records every request and answers with the replies of `script` in turn (the last repeats).
async fn scripted(script: Vec<Reply>) -> (MiniServer, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let script = Arc::new(script);
    let server = MiniServer::start(move |req: Request| {
        let seen = seen2.clone();
        let script = script.clone();
        async move {
            let mut s = seen.lock().unwrap();
            s.push(req);
            script[(s.len() - 1).min(script.len() - 1)].clone()
        }
    })
    .await;
    (server, seen)
}

fn ok_reply() -> Reply {
    Reply::json(200, &completion_json("5", "stop", 2))
}

#[tokio::test]
async fn vllm_completion_request_and_response() {
    let (server, seen) = scripted(vec![ok_reply()]).await;
    let b = backend(&server.url(), ServerType::Vllm, 0);
    let req = GenerationRequest::text("2+3=").with_params(SamplingParams {
        stop: vec!["\n".into()],
        seed: Some(11),
        max_tokens: 16,
        ..SamplingParams::default()
    });
    let r = b.generate(&req).await.unwrap();
    assert_eq!(r.text, "5");
    assert_eq!(r.num_generated_tokens, Some(2));
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.attempts, 1);
    assert_eq!(r.model, "m");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/completions");
    assert!(seen[0].header("authorization").is_none());
    let body = seen[0].json();
    assert_eq!(body["prompt"], json!("2+3="));
    assert_eq!(body["temperature"], json!(1.0));
    assert_eq!(body["top_k"], json!(1));
    assert_eq!(body["seed"], json!(11));
    assert_eq!(body["stop"], json!(["\n"]));
    assert_eq!(body["max_tokens"], json!(16));
}

#[tokio::test]
async fn chat_goes_to_chat_endpoint_with_bearer_key() {
    let chat = json!({"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"length"}],
                      "usage":{"completion_tokens":1}});
    let (server, seen) = scripted(vec![Reply::json(200, &chat)]).await;
    let b = OpenAiCompatBackend::builder(format!("{}/v1/", server.url()), ServerType::OpenAi)
        .model("gpt")
        .api_key(ApiKey::new("sk-test-abcdefghijklmnop"))
        .build()
        .unwrap();
    let r = b
        .generate(&GenerationRequest::chat(vec![ChatMessage::user("hello")]))
        .await
        .unwrap();
    assert_eq!(r.text, "hi");
    assert_eq!(r.status(), Status::Truncated);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer sk-test-abcdefghijklmnop")
    );
    assert_eq!(seen[0].json()["temperature"], json!(0.0));
    assert_eq!(seen[0].json()["messages"][0]["content"], json!("hello"));
}

#[tokio::test]
async fn model_is_discovered_once_and_must_be_unique() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = MiniServer::start(move |req: Request| {
        let c = c.clone();
        async move {
            if req.path == "/v1/models" {
                c.fetch_add(1, Ordering::SeqCst);
                Reply::json(
                    200,
                    &json!({"object":"list","data":[{"id":"smol","object":"model"}]}),
                )
            } else {
                assert_eq!(req.json()["model"], json!("smol"));
                ok_reply()
            }
        }
    })
    .await;
    let b = OpenAiCompatBackend::builder(server.url(), ServerType::LlamaCpp)
        .build()
        .unwrap();
    assert_eq!(b.model_name().await.unwrap(), "smol");
    b.generate(&GenerationRequest::text("x")).await.unwrap();
    b.generate(&GenerationRequest::text("x")).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (two, _) = scripted(vec![Reply::json(
        200,
        &json!({"data":[{"id":"a"},{"id":"b"}]}),
    )])
    .await;
    let b = OpenAiCompatBackend::builder(two.url(), ServerType::Vllm)
        .build()
        .unwrap();
    let e = b.model_name().await.unwrap_err();
    assert!(matches!(&e, BackendError::ModelDiscovery { found, .. } if found.len() == 2));
    assert!(e.to_string().contains(&format!("{}/v1/models", two.url())));
}

#[tokio::test]
async fn retries_5xx_then_succeeds() {
    let (server, seen) = scripted(vec![
        Reply::raw(500, "boom"),
        Reply::raw(503, "busy"),
        ok_reply(),
    ])
    .await;
    let r = backend(&server.url(), ServerType::Vllm, 3)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap();
    assert_eq!(r.attempts, 3);
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn gives_up_after_max_retries_with_a_typed_error() {
    let (server, seen) = scripted(vec![Reply::raw(502, "bad gateway")]).await;
    let e = backend(&server.url(), ServerType::Vllm, 2)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert!(
        matches!(
            &e,
            BackendError::Http {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.status(), Status::RequestError);
    assert!(e.to_string().contains("/v1/completions"));
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let (server, _) = scripted(vec![
        Reply::raw(429, "slow down").with_header("retry-after", "0.3"),
        ok_reply(),
    ])
    .await;
    let started = Instant::now();
    let r = backend(&server.url(), ServerType::OpenAi, 3)
        .generate(&GenerationRequest::chat(vec![ChatMessage::user("x")]))
        .await;
    // A canned *completion* answer to a chat request still has `text`; only timing matters here.
    assert!(r.is_ok(), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (server, seen) = scripted(vec![Reply::raw(
        404,
        r#"{"error":{"message":"no such model"}}"#,
    )])
    .await;
    let e = backend(&server.url(), ServerType::Vllm, 3)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, BackendError::Http { status: 404, .. }));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn connection_resets_and_cut_bodies_are_retried() {
    let body = serde_json::to_vec(&completion_json("5", "stop", 2)).unwrap();
    let (server, seen) = scripted(vec![
        Reply::Reset,
        Reply::Truncated {
            status: 200,
            body: body.clone(),
            sent: 10,
        },
        Reply::raw(200, &body[..20]), // complete HTTP, broken JSON
        ok_reply(),
    ])
    .await;
    let r = backend(&server.url(), ServerType::Vllm, 3)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap();
    assert_eq!(r.attempts, 4);
    assert_eq!(seen.lock().unwrap().len(), 4);

    let (server, _) = scripted(vec![Reply::Reset]).await;
    let e = backend(&server.url(), ServerType::Vllm, 1)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Connect { attempts: 2, .. }),
        "{e:?}"
    );
    assert_eq!(e.status(), Status::RequestError);
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let e = backend(&url, ServerType::Vllm, 1)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, BackendError::Connect { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[tokio::test]
async fn a_hang_becomes_a_timeout_without_retry() {
    let (server, seen) = scripted(vec![Reply::Hang]).await;
    let started = Instant::now();
    let req = GenerationRequest::text("x").with_timeout(Duration::from_millis(300));
    let e = backend(&server.url(), ServerType::Vllm, 3)
        .generate(&req)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Timeout { attempts: 1, .. }),
        "{e:?}"
    );
    assert_eq!(e.status(), Status::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn context_exceeded_retries_once_with_fewer_tokens() {
    let msg = json!({"error":{"message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (1000 in the messages, 4000 in the completion).","code":"context_length_exceeded"}});
    let (server, seen) = scripted(vec![Reply::json(400, &msg), ok_reply()]).await;
    let req = GenerationRequest::text("x").with_params(SamplingParams {
        max_tokens: 4000,
        ..SamplingParams::default()
    });
    let r = backend(&server.url(), ServerType::OpenAi, 0)
        .generate(&req)
        .await
        .unwrap();
    assert_eq!(r.max_tokens, 3096);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].json()["max_tokens"], json!(4000));
    assert_eq!(seen[1].json()["max_tokens"], json!(3096));
}

#[tokio::test]
async fn context_exceeded_twice_or_unfixable_is_typed() {
    let msg = json!({"error":{"message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (1000 in the messages, 4000 in the completion)."}});
    let (server, seen) = scripted(vec![Reply::json(400, &msg)]).await;
    let req = GenerationRequest::text("x").with_params(SamplingParams {
        max_tokens: 4000,
        ..SamplingParams::default()
    });
    let e = backend(&server.url(), ServerType::Vllm, 3)
        .generate(&req)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::ContextExceeded);
    assert_eq!(seen.lock().unwrap().len(), 2);

    let llama = json!({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}});
    let (server, seen) = scripted(vec![Reply::json(400, &llama)]).await;
    let e = backend(&server.url(), ServerType::LlamaCpp, 3)
        .generate(&GenerationRequest::text("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BackendError::ContextExceeded { message, .. } if message.contains("exceeds"))
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn api_key_never_appears_in_errors_or_debug_output() {
    const KEY: &str = "sk-live-SECRET-0123456789abcdef";
    // A server that echoes the Authorization header back, as some gateways do.
    let server = MiniServer::start(|req: Request| async move {
        let auth = req.header("authorization").unwrap_or("").to_string();
        let key = auth.trim_start_matches("Bearer ");
        let status = if req.path.ends_with("models") { 401 } else { 500 };
        Reply::json(
            status,
            &json!({"error":{"message": format!("Incorrect API key provided: {key} ({}...{})", &key[..10], &key[key.len()-8..])}}),
        )
    })
    .await;
    let b = OpenAiCompatBackend::builder(server.url(), ServerType::OpenAi)
        .api_key(ApiKey::new(KEY))
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let discovery = b.model_name().await.unwrap_err();
    let b2 = OpenAiCompatBackend::builder(server.url(), ServerType::OpenAi)
        .model("gpt")
        .api_key(ApiKey::new(KEY))
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let generation = b2
        .generate(&GenerationRequest::chat(vec![ChatMessage::user("x")]))
        .await
        .unwrap_err();
    for text in [
        discovery.to_string(),
        format!("{discovery:?}"),
        generation.to_string(),
        format!("{generation:?}"),
        format!("{b:?}"),
        format!("{b2:?}"),
        format!("{:?}", ApiKey::new(KEY)),
    ] {
        assert!(!text.contains("SECRET"), "key leaked: {text}");
        assert!(
            !text.contains("0123456789abcdef"),
            "key fragment leaked: {text}"
        );
    }
    // The errors still say what went wrong and where.
    assert!(discovery.to_string().contains("401"));
    assert!(discovery.to_string().contains("Incorrect API key provided"));
    assert!(generation.to_string().contains(&server.url()));
}

#[tokio::test]
async fn in_flight_requests_are_bounded() {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (now.clone(), peak.clone());
    let server = MiniServer::start(move |_req: Request| {
        let (n, p) = (n.clone(), p.clone());
        async move {
            let cur = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(cur, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            n.fetch_sub(1, Ordering::SeqCst);
            ok_reply()
        }
    })
    .await;
    let b = OpenAiCompatBackend::builder(server.url(), ServerType::Vllm)
        .model("m")
        .max_connections(3)
        .build()
        .unwrap();
    let req = GenerationRequest::text("x");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (b, req) = (b.clone(), req.clone());
        tasks.push(tokio::spawn(async move { b.generate(&req).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "peak {peak}");
    assert!(peak >= 2, "requests were not concurrent at all: {peak}");
}

#[tokio::test]
async fn openai_rejects_top_k_before_sending() {
    let (server, seen) = scripted(vec![ok_reply()]).await;
    let req = GenerationRequest::chat(vec![ChatMessage::user("x")]).with_params(SamplingParams {
        top_k: 20,
        ..SamplingParams::default()
    });
    let e = backend(&server.url(), ServerType::OpenAi, 0)
        .generate(&req)
        .await
        .unwrap_err();
    assert!(matches!(e, BackendError::UnsupportedParameter { .. }));
    assert!(seen.lock().unwrap().is_empty());
}

/// https and proxied URLs go through reqwest: the same behaviour on the same faults.
#[tokio::test]
async fn the_reqwest_transport_behaves_the_same() {
    let body = serde_json::to_vec(&completion_json("5", "stop", 2)).unwrap();
    let (server, seen) = scripted(vec![
        Reply::Reset,
        Reply::Truncated {
            status: 200,
            body: body.clone(),
            sent: 10,
        },
        Reply::raw(503, "busy").with_header("retry-after", "0.1"),
        ok_reply(),
        Reply::Hang,
    ])
    .await;
    let b = OpenAiCompatBackend::builder(server.url(), ServerType::Vllm)
        .model("m")
        .retry(fast_retry(3))
        .api_key(ApiKey::new("sk-test-abcdefghijklmnop"))
        .force_reqwest(true)
        .build()
        .unwrap();
    assert!(format!("{b:?}").contains("Reqwest"));
    let r = b.generate(&GenerationRequest::text("x")).await.unwrap();
    assert_eq!((r.text.as_str(), r.attempts), ("5", 4));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        assert_eq!(
            seen[3].header("authorization"),
            Some("Bearer sk-test-abcdefghijklmnop")
        );
        assert_eq!(seen[3].header("content-type"), Some("application/json"));
    }
    let e = b
        .generate(&GenerationRequest::text("x").with_timeout(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Timeout { attempts: 1, .. }),
        "{e:?}"
    );
}

/// The built-in client sends what reqwest sends: same headers, same body.
#[tokio::test]
async fn both_transports_send_the_same_request() {
    let (server, seen) = scripted(vec![ok_reply()]).await;
    let req = GenerationRequest::text("2+3=");
    for force in [false, true] {
        OpenAiCompatBackend::builder(format!("{}/v1", server.url()), ServerType::Vllm)
            .model("m")
            .api_key(ApiKey::new("sk-k"))
            .force_reqwest(force)
            .build()
            .unwrap()
            .generate(&req)
            .await
            .unwrap();
    }
    let seen = seen.lock().unwrap();
    let (lean, reqwest) = (&seen[0], &seen[1]);
    assert_eq!(lean.method, reqwest.method);
    assert_eq!(lean.path, reqwest.path);
    assert_eq!(lean.body, reqwest.body);
    let mut a = lean.headers.clone();
    let mut b = reqwest.headers.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_key_that_is_no_header_value_is_a_configuration_error_not_an_injected_header() {
    let (server, seen) = scripted(vec![ok_reply()]).await;
    let e = OpenAiCompatBackend::builder(server.url(), ServerType::OpenAi)
        .model("gpt")
        .api_key(ApiKey::new("sk-abc\r\nx-injected: 1"))
        .build()
        .unwrap()
        .generate(&GenerationRequest::chat(vec![ChatMessage::user("x")]))
        .await
        .unwrap_err();
    assert!(matches!(e, BackendError::Config(_)), "{e:?}");
    assert!(seen.lock().unwrap().is_empty());
}
