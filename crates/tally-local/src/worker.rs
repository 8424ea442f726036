//! The model thread: continuous batching over the requests in flight.
//!
//! Requests arrive on a channel; up to `max_batch` are active at once. Each step feeds every
//! decoding sequence its last token and, within a token budget, a chunk of the prompts still
//! being read, runs one forward pass over all those rows, and samples for every sequence whose
//! prompt is fully read. A sequence leaves as soon as it finishes, its caller gives up, or its
//! deadline passes, and a waiting request takes its place in the next step.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

use tally_backend::{FinishReason, SamplingParams};
use tokio::sync::oneshot;

use crate::model::{KvCache, LlamaModel, Row};
use crate::pool::Pool;
use crate::sampler::Sampler;
use crate::tokenizer::Tokenizer;

pub(crate) struct Job {
    pub prompt: Vec<u32>,
    pub params: SamplingParams,
    /// Granted new tokens (already clamped to the context).
    pub max_tokens: u32,
    pub deadline: Option<Instant>,
    pub reply: oneshot::Sender<Result<Finished, JobFailure>>,
}

#[derive(Debug)]
pub(crate) struct Finished {
    pub text: String,
    pub generated: u64,
    pub finish_reason: FinishReason,
    pub stop_reason: Option<serde_json::Value>,
}

#[derive(Debug)]
pub(crate) enum JobFailure {
    Timeout,
}

pub(crate) struct WorkerConfig {
    pub max_batch: usize,
    /// Prompt tokens read per step across all sequences: bounds how long decoding sequences
    /// wait while a new prompt is read.
    pub prefill_chunk: usize,
}

struct Active {
    job: Job,
    cache: KvCache,
    /// Prompt tokens already in the cache.
    fed: usize,
    generated: Vec<u32>,
    bytes: Vec<u8>,
    /// Bytes of `bytes` already searched for stop phrases (minus a phrase's length of overlap).
    searched: usize,
    sampler: Sampler,
}

impl Active {
    fn new(job: Job, layers: usize) -> Active {
        let sampler = Sampler::new(&job.params);
        Active {
            job,
            cache: KvCache::new(layers),
            fed: 0,
            generated: Vec::new(),
            bytes: Vec::new(),
            searched: 0,
            sampler,
        }
    }

    fn prefilling(&self) -> bool {
        self.fed < self.job.prompt.len()
    }

    /// Appends a sampled token; returns how the sequence ends, if it does.
    fn push(&mut self, token: u32, tok: &Tokenizer) -> Option<Finished> {
        if tok.is_end_of_generation(token) {
            self.generated.push(token);
            return Some(self.finish(self.bytes.len(), FinishReason::Stop, None));
        }
        self.generated.push(token);
        tok.token_bytes(token, &mut self.bytes);
        if let Some((at, phrase)) = self.find_stop() {
            let reason = Some(serde_json::Value::String(phrase));
            return Some(self.finish(at, FinishReason::Stop, reason));
        }
        if self.generated.len() >= self.job.max_tokens as usize {
            return Some(self.finish(self.bytes.len(), FinishReason::Length, None));
        }
        None
    }

    /// The earliest stop phrase in the text so far, searching only where a new match can be.
    fn find_stop(&mut self) -> Option<(usize, String)> {
        let stops = &self.job.params.stop;
        let longest = stops.iter().map(String::len).max().unwrap_or(0);
        if longest == 0 {
            return None;
        }
        let from = self.searched.saturating_sub(longest - 1);
        let hit = stops
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| find_bytes(&self.bytes[from..], s.as_bytes()).map(|i| (from + i, s)))
            .min_by_key(|(i, _)| *i);
        self.searched = self.bytes.len();
        hit.map(|(i, s)| (i, s.clone()))
    }

    fn finish(
        &self,
        text_end: usize,
        finish_reason: FinishReason,
        stop_reason: Option<serde_json::Value>,
    ) -> Finished {
        Finished {
            text: String::from_utf8_lossy(&self.bytes[..text_end]).into_owned(),
            generated: self.generated.len() as u64,
            finish_reason,
            stop_reason,
        }
    }
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn run(
    model: Arc<LlamaModel>,
    tok: Arc<Tokenizer>,
    pool: Pool,
    config: WorkerConfig,
    jobs: Receiver<Job>,
) {
    let layers = model.config.layers;
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut active: Vec<Active> = Vec::new();
    loop {
        if active.is_empty() && waiting.is_empty() {
            match jobs.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return,
            }
        }
        loop {
            match jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if active.is_empty() && waiting.is_empty() => {
                    return
                }
                Err(TryRecvError::Disconnected) => break,
            }
        }
        let now = Instant::now();
        waiting.retain_mut(|job| !abandoned_or_late(job, now));
        active.retain_mut(|a| !abandoned_or_late(&mut a.job, now));
        while active.len() < config.max_batch {
            let Some(job) = waiting.pop_front() else {
                break;
            };
            active.push(Active::new(job, layers));
        }
        if active.is_empty() {
            continue;
        }
        step(&model, &tok, &pool, &config, &mut active);
    }
}

/// Drops a job whose caller is gone, and answers one past its deadline.
fn abandoned_or_late(job: &mut Job, now: Instant) -> bool {
    if job.reply.is_closed() {
        return true;
    }
    if job.deadline.is_some_and(|d| now >= d) {
        let (tx, _) = oneshot::channel();
        let reply = std::mem::replace(&mut job.reply, tx);
        let _ = reply.send(Err(JobFailure::Timeout));
        return true;
    }
    false
}

fn step(
    model: &LlamaModel,
    tok: &Tokenizer,
    pool: &Pool,
    config: &WorkerConfig,
    active: &mut Vec<Active>,
) {
    let mut rows = Vec::new();
    // For each active sequence: the row whose logits it samples from, if any this step.
    let mut sample_row: Vec<Option<usize>> = vec![None; active.len()];
    let mut budget = config.prefill_chunk.max(1);
    for (s, a) in active.iter().enumerate() {
        if a.prefilling() {
            let take = (a.job.prompt.len() - a.fed).min(budget);
            if take == 0 {
                continue;
            }
            budget -= take;
            for (k, &token) in a.job.prompt[a.fed..a.fed + take].iter().enumerate() {
                rows.push(Row {
                    seq: s,
                    token,
                    pos: a.fed + k,
                });
            }
            if a.fed + take == a.job.prompt.len() {
                sample_row[s] = Some(rows.len() - 1);
            }
        } else {
            let token = *a
                .generated
                .last()
                .expect("a decoding sequence has sampled a token");
            rows.push(Row {
                seq: s,
                token,
                pos: a.cache.len(),
            });
            sample_row[s] = Some(rows.len() - 1);
        }
    }
    if rows.is_empty() {
        return;
    }
    let logits_of: Vec<usize> = sample_row.iter().flatten().copied().collect();
    let logits = {
        let mut caches: Vec<&mut KvCache> = active.iter_mut().map(|a| &mut a.cache).collect();
        model.forward(&rows, &mut caches, &logits_of, pool)
    };
    let vocab = model.config.vocab;
    let mut j = 0;
    let mut done = vec![false; active.len()];
    for (s, a) in active.iter_mut().enumerate() {
        if a.prefilling() {
            a.fed = (a.fed + rows.iter().filter(|r| r.seq == s).count()).min(a.job.prompt.len());
        }
        if sample_row[s].is_none() {
            continue;
        }
        let mut l = logits[j * vocab..][..vocab].to_vec();
        j += 1;
        let token = a.sampler.sample(&mut l, &a.generated);
        if let Some(fin) = a.push(token, tok) {
            let (tx, _) = oneshot::channel();
            let _ = std::mem::replace(&mut a.job.reply, tx).send(Ok(fin));
            done[s] = true;
        }
    }
    let mut s = 0;
    active.retain(|_| {
        let keep = !done[s];
        s += 1;
        keep
    });
}
