//! [`LocalBackend`]: the embedded model behind the [`Backend`] trait.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tally_backend::{
    Backend, BackendError, FinishReason, GenerationRequest, GenerationResponse, Prompt,
};
use tally_prompt::{ChatTemplate, GgufMetadata, RenderOptions};
use tokio::sync::oneshot;

use crate::error::LocalError;
use crate::load::{config_from_gguf, load_weights};
use crate::model::LlamaModel;
use crate::pool::Pool;
use crate::tokenizer::Tokenizer;
use crate::worker::{self, Job, JobFailure, WorkerConfig};

/// How the embedded model runs.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Compute threads of the model worker. More than the free cores makes decoding collapse
    /// (threads wait on each other at every layer), so the default is 1.
    pub threads: usize,
    /// Sequences decoded together in one step; further requests wait for a free slot.
    pub max_batch: usize,
    /// Prompt tokens read per step (shared by the sequences still reading their prompt).
    pub prefill_chunk: usize,
    /// Context length; `None` takes the model's own.
    pub context: Option<usize>,
    /// Per-request deadline when the request sets none.
    pub timeout: Option<Duration>,
    /// The model name reported in responses; `None` takes `general.name`, else the file stem.
    pub model_name: Option<String>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            threads: 1,
            max_batch: 8,
            prefill_chunk: 256,
            context: None,
            timeout: None,
            model_name: None,
        }
    }
}

/// A GGUF llama model running in this process on the CPU.
///
/// One worker thread owns the model and batches every request in flight (continuous batching:
/// sequences join and leave between steps), so `generate` may be called from many tasks at once.
/// Greedy output does not depend on what else is in the batch, and seeded sampling does not
/// either: each request has its own generator.
pub struct LocalBackend {
    jobs: Option<Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    tokenizer: Arc<Tokenizer>,
    template: Option<ChatTemplate>,
    model_name: String,
    /// Names the model in errors (the `url` of [`BackendError`]).
    origin: String,
    context: usize,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("model", &self.model_name)
            .field("origin", &self.origin)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl LocalBackend {
    /// Loads the GGUF model at `path` and starts its worker thread.
    pub fn load(path: &Path, options: LocalOptions) -> Result<LocalBackend, LocalError> {
        let meta =
            GgufMetadata::read_file(path, &Default::default()).map_err(|e| LocalError::Load {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let config = config_from_gguf(&meta, path)?;
        let tokenizer = Tokenizer::from_gguf(&meta)?;
        // A model without a template can still serve text prompts.
        let template = match meta.get_str("tokenizer.chat_template") {
            Some(_) => Some(ChatTemplate::from_gguf(&meta, None).map_err(|source| {
                LocalError::Template {
                    path: path.to_path_buf(),
                    source,
                }
            })?),
            None => None,
        };
        let model_name = options
            .model_name
            .clone()
            .or_else(|| meta.get_str("general.name").map(str::to_string))
            .unwrap_or_else(|| file_stem(path));
        let model = load_weights(path, config)?;
        LocalBackend::start(
            model,
            tokenizer,
            template,
            model_name,
            format!("local:{}", path.display()),
            options,
        )
    }

    /// Serves an already built model (tests and benchmarks build small ones in memory).
    pub fn from_parts(
        model: LlamaModel,
        tokenizer: Tokenizer,
        template: Option<ChatTemplate>,
        model_name: &str,
        options: LocalOptions,
    ) -> Result<LocalBackend, LocalError> {
        let origin = format!("local:{model_name}");
        LocalBackend::start(
            model,
            tokenizer,
            template,
            model_name.into(),
            origin,
            options,
        )
    }

    fn start(
        model: LlamaModel,
        tokenizer: Tokenizer,
        template: Option<ChatTemplate>,
        model_name: String,
        origin: String,
        options: LocalOptions,
    ) -> Result<LocalBackend, LocalError> {
        if options.max_batch == 0 {
            return Err(LocalError::Options("max_batch must be at least 1".into()));
        }
        if model.config.vocab != tokenizer.vocab_size() {
            return Err(LocalError::Options(format!(
                "the model has {} embeddings but the tokenizer {} tokens",
                model.config.vocab,
                tokenizer.vocab_size()
            )));
        }
        let context = options.context.unwrap_or(model.config.context).max(1);
        let pool = Pool::new(options.threads).map_err(LocalError::Options)?;
        let tokenizer = Arc::new(tokenizer);
        let (tx, rx) = channel();
        let config = WorkerConfig {
            max_batch: options.max_batch,
            prefill_chunk: options.prefill_chunk,
        };
        let model = Arc::new(model);
        let tok = Arc::clone(&tokenizer);
        let worker = std::thread::Builder::new()
            .name("tally-local-model".into())
            .spawn(move || worker::run(model, tok, pool, config, rx))
            .map_err(|e| LocalError::Options(format!("cannot start the model thread: {e}")))?;
        Ok(LocalBackend {
            jobs: Some(tx),
            worker: Some(worker),
            tokenizer,
            template,
            model_name,
            origin,
            context,
            timeout: options.timeout,
        })
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn context_length(&self) -> usize {
        self.context
    }

    /// The prompt text the model reads for `prompt` (the chat template applied to messages).
    pub fn prompt_text(&self, prompt: &Prompt) -> Result<String, BackendError> {
        match prompt {
            Prompt::Text(t) => Ok(t.clone()),
            Prompt::Chat(messages) => {
                let template = self.template.as_ref().ok_or_else(|| {
                    BackendError::Config(format!(
                        "{}: the model has no chat template; send a text prompt",
                        self.origin
                    ))
                })?;
                let messages = serde_json::to_value(messages).expect("messages serialize");
                let options = RenderOptions {
                    add_generation_prompt: true,
                    ..RenderOptions::default()
                };
                template
                    .render_json(&messages, &options)
                    .map_err(|e| BackendError::Config(format!("{}: {e}", self.origin)))
            }
        }
    }
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        // Closing the channel ends the worker once its sequences are dropped or finished.
        self.jobs.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[async_trait]
impl Backend for LocalBackend {
    async fn generate(&self, req: &GenerationRequest) -> Result<GenerationResponse, BackendError> {
        let started = Instant::now();
        let text = self.prompt_text(&req.prompt)?;
        let prompt = self.tokenizer.encode(&text).map_err(BackendError::from)?;
        let n_prompt = prompt.len();
        if n_prompt == 0 {
            return Err(BackendError::Config(format!(
                "{}: empty prompt",
                self.origin
            )));
        }
        if n_prompt >= self.context {
            return Err(BackendError::ContextExceeded {
                url: self.origin.clone(),
                message: format!(
                    "the prompt has {n_prompt} tokens; the context holds {} (one more is needed \
                     to generate)",
                    self.context
                ),
            });
        }
        let max_tokens = req.params.max_tokens.min((self.context - n_prompt) as u32);
        let response = |text: String, generated, finish_reason, stop_reason| GenerationResponse {
            text,
            num_generated_tokens: Some(generated),
            num_prompt_tokens: Some(n_prompt as u64),
            finish_reason,
            stop_reason,
            reasoning_content: None,
            reasoning: None,
            model: self.model_name.clone(),
            elapsed: started.elapsed(),
            attempts: 1,
            max_tokens,
        };
        if max_tokens == 0 {
            return Ok(response(String::new(), 0, FinishReason::Length, None));
        }
        let timeout = req.timeout.or(self.timeout);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            prompt,
            params: req.params.clone(),
            max_tokens,
            deadline: timeout.map(|t| started + t),
            reply,
        };
        let stopped = || BackendError::Config(format!("{}: the model worker stopped", self.origin));
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        match answer.await {
            Ok(Ok(f)) => Ok(response(
                f.text,
                f.generated,
                f.finish_reason,
                f.stop_reason,
            )),
            Ok(Err(JobFailure::Timeout)) => Err(BackendError::Timeout {
                url: self.origin.clone(),
                timeout: timeout.unwrap_or_default(),
                attempts: 1,
            }),
            Err(_) => Err(stopped()),
        }
    }

    async fn model_name(&self) -> Result<String, BackendError> {
        Ok(self.model_name.clone())
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| PathBuf::from(path).display().to_string())
}
