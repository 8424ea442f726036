//! A fault-injecting HTTP proxy: sits in front of a real (or fake) OpenAI-compatible server and,
//! following a fixed schedule, answers generation requests with a 500, a 429 + `Retry-After`, a
//! connection reset, a hang, or the upstream's answer cut short — otherwise it forwards.
//! `/v1/models` is always forwarded and not counted, so the stats are about generation requests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::mini_http::{MiniServer, Reply, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to the upstream and relay its answer.
    Forward,
    Http500,
    /// 429 with `Retry-After: 0.1`.
    Http429,
    /// TCP reset instead of an answer.
    Reset,
    /// No answer at all, until the client times out.
    Hang,
    /// Forward, then send only the first third of the upstream's body and close.
    Truncate,
}

#[derive(Debug, Default)]
pub struct FaultStats {
    pub forwarded: AtomicUsize,
    pub http500: AtomicUsize,
    pub http429: AtomicUsize,
    pub resets: AtomicUsize,
    pub hangs: AtomicUsize,
    pub truncated: AtomicUsize,
}

impl FaultStats {
    pub fn get(&self, fault: Fault) -> usize {
        let c = match fault {
            Fault::Forward => &self.forwarded,
            Fault::Http500 => &self.http500,
            Fault::Http429 => &self.http429,
            Fault::Reset => &self.resets,
            Fault::Hang => &self.hangs,
            Fault::Truncate => &self.truncated,
        };
        c.load(Ordering::SeqCst)
    }

    pub fn total(&self) -> usize {
        [
            Fault::Forward,
            Fault::Http500,
            Fault::Http429,
            Fault::Reset,
            Fault::Hang,
            Fault::Truncate,
        ]
        .into_iter()
        .map(|f| self.get(f))
        .sum()
    }
}

pub struct FaultProxy {
    server: MiniServer,
    pub stats: Arc<FaultStats>,
}

impl FaultProxy {
    /// Proxies to `upstream` (e.g. `http://127.0.0.1:8181`); generation request `n` (0-based,
    /// retries included) gets `schedule[n % schedule.len()]`.
    pub async fn start(upstream: &str, schedule: Vec<Fault>) -> FaultProxy {
        assert!(!schedule.is_empty());
        let upstream = upstream.trim_end_matches('/').to_string();
        let client = reqwest::Client::new();
        let stats = Arc::new(FaultStats::default());
        let counter = Arc::new(AtomicUsize::new(0));
        let schedule = Arc::new(schedule);
        let st = stats.clone();
        let server = MiniServer::start(move |req: Request| {
            let (client, upstream, stats, counter, schedule) = (
                client.clone(),
                upstream.clone(),
                st.clone(),
                counter.clone(),
                schedule.clone(),
            );
            async move {
                let fault = if req.path.contains("completions") {
                    schedule[counter.fetch_add(1, Ordering::SeqCst) % schedule.len()]
                } else {
                    Fault::Forward
                };
                let counted = req.path.contains("completions");
                let count = |c: &AtomicUsize| {
                    if counted {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                };
                match fault {
                    Fault::Forward => {
                        count(&stats.forwarded);
                        forward(&client, &upstream, &req).await
                    }
                    Fault::Http500 => {
                        count(&stats.http500);
                        Reply::raw(500, r#"{"error":{"message":"injected 500"}}"#)
                    }
                    Fault::Http429 => {
                        count(&stats.http429);
                        Reply::raw(429, r#"{"error":{"message":"injected 429"}}"#)
                            .with_header("retry-after", "0.1")
                    }
                    Fault::Reset => {
                        count(&stats.resets);
                        Reply::Reset
                    }
                    Fault::Hang => {
                        count(&stats.hangs);
                        Reply::Hang
                    }
                    Fault::Truncate => {
                        count(&stats.truncated);
                        match forward(&client, &upstream, &req).await {
                            Reply::Full { status, body, .. } => Reply::Truncated {
                                status,
                                sent: body.len() / 3,
                                body,
                            },
                            other => other,
                        }
                    }
                }
            }
        })
        .await;
        FaultProxy { server, stats }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }
}

async fn forward(client: &reqwest::Client, upstream: &str, req: &Request) -> Reply {
    let url = format!("{upstream}{}", req.path);
    let rb = match req.method.as_str() {
        "GET" => client.get(&url),
        _ => client
            .post(&url)
            .header("content-type", "application/json")
            .body(req.body.clone()),
    };
    match rb.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(b) => Reply::raw(status, b.to_vec()),
                Err(_) => Reply::raw(
                    502,
                    r#"{"error":{"message":"proxy: upstream body failed"}}"#,
                ),
            }
        }
        Err(_) => Reply::raw(
            502,
            r#"{"error":{"message":"proxy: upstream unreachable"}}"#,
        ),
    }
}
