//! The llama forward pass over a ragged batch: rows from several sequences, each row a token at
//! its own position, each sequence with its own KV cache.
//!
//! A step takes whatever rows the scheduler hands it — a chunk of one sequence's prompt and the
//! next token of every other sequence — and runs every linear layer once over all of them
//! (weights are read from memory once per step, which is where batching gains), then attention
//! per row against that row's own sequence only. No padding and no masks: a row simply attends to
//! positions `0..=pos` of its own cache.

use crate::pool::Pool;
use crate::quant::{matmul_rows, OutPtr, Q8Rows};
use crate::vecops::{axpy, dot, rms_norm, softmax_in_place};

/// The hyper-parameters of a llama-architecture model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub vocab: usize,
    pub dim: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub ffn: usize,
    pub rms_eps: f32,
    pub rope_base: f32,
    /// The context length the model was trained with.
    pub context: usize,
}

impl LlamaConfig {
    pub fn head_dim(&self) -> usize {
        self.dim / self.heads
    }
    pub fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim()
    }
}

pub struct LayerWeights {
    pub attn_norm: Vec<f32>,
    pub wq: Q8Rows,
    pub wk: Q8Rows,
    pub wv: Q8Rows,
    pub wo: Q8Rows,
    pub ffn_norm: Vec<f32>,
    pub w_gate: Q8Rows,
    pub w_up: Q8Rows,
    pub w_down: Q8Rows,
}

pub struct LlamaModel {
    pub config: LlamaConfig,
    pub embed: Q8Rows,
    pub layers: Vec<LayerWeights>,
    pub out_norm: Vec<f32>,
    /// `None` when the output projection is tied to the embedding.
    pub output: Option<Q8Rows>,
}

/// One sequence's keys and values, per layer, `kv_dim` floats per position.
#[derive(Debug, Default)]
pub struct KvCache {
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    pub fn new(layers: usize) -> KvCache {
        KvCache {
            k: vec![Vec::new(); layers],
            v: vec![Vec::new(); layers],
            len: 0,
        }
    }

    /// Positions already cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One token of one sequence in a step. Rows of a sequence are consecutive and continue its
/// cache (`pos` = cached positions before it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Index into the step's cache slice.
    pub seq: usize,
    pub token: u32,
    pub pos: usize,
}

impl LlamaModel {
    fn output_weights(&self) -> &Q8Rows {
        self.output.as_ref().unwrap_or(&self.embed)
    }

    /// Runs one step and returns the logits (`vocab` each) of the rows listed in `logits_of`, in
    /// that order. Appends every row's keys and values to its sequence's cache.
    pub fn forward(
        &self,
        rows: &[Row],
        caches: &mut [&mut KvCache],
        logits_of: &[usize],
        pool: &Pool,
    ) -> Vec<f32> {
        let c = &self.config;
        let n = rows.len();
        let (dim, kv_dim, hd) = (c.dim, c.kv_dim(), c.head_dim());
        let mut x = vec![0f32; n * dim];
        for (i, row) in rows.iter().enumerate() {
            self.embed
                .dequantize_row(row.token as usize, &mut x[i * dim..][..dim]);
        }
        let mut normed = vec![0f32; n * dim];
        let mut act = Q8Rows::new(dim);
        let mut q = vec![0f32; n * dim];
        let mut k = vec![0f32; n * kv_dim];
        let mut v = vec![0f32; n * kv_dim];
        let mut attn = vec![0f32; n * dim];
        let mut proj = vec![0f32; n * dim];
        let mut gate = vec![0f32; n * c.ffn];
        let mut up = vec![0f32; n * c.ffn];
        let mut ffn_act = Q8Rows::new(c.ffn);
        let rope = RopeTable::new(rows, hd, c.rope_base);

        for (l, lw) in self.layers.iter().enumerate() {
            norm_rows(&x, &lw.attn_norm, c.rms_eps, dim, &mut normed);
            quantize_rows(&normed, dim, &mut act);
            matmul(&lw.wq, &act, &mut q, pool);
            matmul(&lw.wk, &act, &mut k, pool);
            matmul(&lw.wv, &act, &mut v, pool);
            for i in 0..n {
                rope.apply(i, &mut q[i * dim..][..dim], hd);
                rope.apply(i, &mut k[i * kv_dim..][..kv_dim], hd);
            }
            for (i, row) in rows.iter().enumerate() {
                let cache = &mut caches[row.seq];
                debug_assert_eq!(cache.k[l].len(), row.pos * kv_dim);
                cache.k[l].extend_from_slice(&k[i * kv_dim..][..kv_dim]);
                cache.v[l].extend_from_slice(&v[i * kv_dim..][..kv_dim]);
            }
            self.attention(rows, caches, l, &q, &mut attn, pool);
            quantize_rows(&attn, dim, &mut act);
            matmul(&lw.wo, &act, &mut proj, pool);
            for (xi, p) in x.iter_mut().zip(&proj) {
                *xi += p;
            }

            norm_rows(&x, &lw.ffn_norm, c.rms_eps, dim, &mut normed);
            quantize_rows(&normed, dim, &mut act);
            matmul(&lw.w_gate, &act, &mut gate, pool);
            matmul(&lw.w_up, &act, &mut up, pool);
            for (g, u) in gate.iter_mut().zip(&up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            quantize_rows(&gate, c.ffn, &mut ffn_act);
            matmul(&lw.w_down, &ffn_act, &mut proj, pool);
            for (xi, p) in x.iter_mut().zip(&proj) {
                *xi += p;
            }
        }
        for row in rows {
            // Rows of one sequence are consecutive, so the last one sets the final length.
            caches[row.seq].len = row.pos + 1;
        }

        let mut last = vec![0f32; logits_of.len() * dim];
        for (j, &i) in logits_of.iter().enumerate() {
            rms_norm(
                &x[i * dim..][..dim],
                &self.out_norm,
                c.rms_eps,
                &mut last[j * dim..][..dim],
            );
        }
        quantize_rows(&last, dim, &mut act);
        let out_w = self.output_weights();
        let mut logits = vec![0f32; logits_of.len() * out_w.rows];
        matmul(out_w, &act, &mut logits, pool);
        logits
    }

    fn attention(
        &self,
        rows: &[Row],
        caches: &[&mut KvCache],
        layer: usize,
        q: &[f32],
        out: &mut [f32],
        pool: &Pool,
    ) {
        let c = &self.config;
        let (dim, kv_dim, hd) = (c.dim, c.kv_dim(), c.head_dim());
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let out_ptr = OutPtr(out.as_mut_ptr());
        pool.for_each(rows.len() * c.heads, |task| {
            let (i, h) = (task / c.heads, task % c.heads);
            let row = rows[i];
            let cache = &caches[row.seq];
            let (keys, values) = (&cache.k[layer], &cache.v[layer]);
            let kvh = h / group;
            let qh = &q[i * dim + h * hd..][..hd];
            let mut scores: Vec<f32> = (0..=row.pos)
                .map(|j| dot(qh, &keys[j * kv_dim + kvh * hd..][..hd]) * scale)
                .collect();
            softmax_in_place(&mut scores);
            let mut acc = vec![0f32; hd];
            for (j, &p) in scores.iter().enumerate() {
                axpy(&mut acc, p, &values[j * kv_dim + kvh * hd..][..hd]);
            }
            // SAFETY: task (i, h) alone writes `out[i * dim + h * hd ..][..hd]`.
            let dst =
                unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(i * dim + h * hd), hd) };
            dst.copy_from_slice(&acc);
        });
    }
}

fn norm_rows(x: &[f32], w: &[f32], eps: f32, dim: usize, out: &mut [f32]) {
    for (xi, oi) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        rms_norm(xi, w, eps, oi);
    }
}

fn quantize_rows(x: &[f32], cols: usize, into: &mut Q8Rows) {
    into.reset(cols);
    for row in x.chunks_exact(cols) {
        into.push_row(row);
    }
}

/// `out[t * w.rows + r] = w[r] · a[t]`, output rows split across the pool's threads.
fn matmul(w: &Q8Rows, a: &Q8Rows, out: &mut [f32], pool: &Pool) {
    debug_assert_eq!(out.len(), w.rows * a.rows);
    let ptr = OutPtr(out.as_mut_ptr());
    let threads = pool.threads();
    if threads == 1 {
        matmul_rows(w, a, 0..w.rows, ptr);
        return;
    }
    // A few chunks per thread balance uneven progress; 16-row multiples keep chunks cache-sized.
    let chunks = threads * 4;
    let per = w.rows.div_ceil(chunks).div_ceil(16) * 16;
    let n_chunks = w.rows.div_ceil(per);
    pool.for_each(n_chunks, |ci| {
        let start = ci * per;
        matmul_rows(w, a, start..(start + per).min(w.rows), ptr);
    });
}

/// Rotary position embedding in ggml's "normal" layout (adjacent pairs), which is what GGUF
/// llama conversions expect: the converter permutes the Q/K weights for it.
struct RopeTable {
    cos_sin: Vec<(f32, f32)>,
    pairs: usize,
}

impl RopeTable {
    fn new(rows: &[Row], head_dim: usize, base: f32) -> RopeTable {
        let pairs = head_dim / 2;
        // ggml computes theta_i = pos * base^(-2i/d) by repeated multiplication in f32.
        let theta_scale = base.powf(-2.0 / head_dim as f32);
        let mut cos_sin = Vec::with_capacity(rows.len() * pairs);
        for row in rows {
            let mut theta = row.pos as f32;
            for _ in 0..pairs {
                cos_sin.push((theta.cos(), theta.sin()));
                theta *= theta_scale;
            }
        }
        RopeTable { cos_sin, pairs }
    }

    fn apply(&self, row: usize, x: &mut [f32], head_dim: usize) {
        let table = &self.cos_sin[row * self.pairs..][..self.pairs];
        for head in x.chunks_exact_mut(head_dim) {
            for (pair, &(cos, sin)) in head.chunks_exact_mut(2).zip(table) {
                let (a, b) = (pair[0], pair[1]);
                pair[0] = a * cos - b * sin;
                pair[1] = a * sin + b * cos;
            }
        }
    }
}
