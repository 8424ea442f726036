//! Downloading canonical sources.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::DataError;

/// Something that can fetch a URL's bytes (HTTP in production; tests use local files instead).
#[async_trait]
pub trait Fetch: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, DataError>;
}

/// HTTPS downloads with timeouts; a Hugging Face token (for gated datasets) is sent only to
/// huggingface.co and never appears in errors.
pub struct HttpFetcher {
    client: reqwest::Client,
    hf_token: Option<String>,
}

impl HttpFetcher {
    pub fn new(hf_token: Option<String>) -> Result<Self, DataError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("tally/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DataError::Download {
                url: String::new(),
                message: e.to_string(),
            })?;
        Ok(HttpFetcher { client, hf_token })
    }
}

#[async_trait]
impl Fetch for HttpFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, DataError> {
        let err = |message: String| DataError::Download {
            url: url.to_string(),
            message,
        };
        let mut req = self.client.get(url);
        if url.starts_with("https://huggingface.co/") {
            if let Some(token) = &self.hf_token {
                req = req.bearer_auth(token);
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| err(e.without_url().to_string()))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(err(format!(
                "HTTP {status}: the dataset is gated; accept its terms on Hugging Face and set HF_TOKEN, or pass --source with a local copy"
            )));
        }
        if !status.is_success() {
            return Err(err(format!("HTTP {status}")));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| err(e.without_url().to_string()))?;
        Ok(bytes.to_vec())
    }
}
