//! The llama/qwen2 forward pass over a ragged batch: rows from several sequences, each row a token at
//! its own position, each sequence with its own KV cache.
//!
//! A step takes whatever rows the scheduler hands it — a chunk of one sequence's prompt and the
//! next token of every other sequence — and runs every linear layer once over all of them
//! (weights are read from memory once per step, which is where batching gains), then attention
//! per row against that row's own sequence only. No padding and no masks: a row simply attends to
//! positions `0..=pos` of its own cache.

use crate::blocks::round_to_f16;
use crate::pool::Pool;
use crate::quant::{
    matmul_rows, quantize_activations, ActFormat, OutPtr, Q8Rows, QMatrix, BLOCK, SUPER_BLOCK,
};
use crate::vecops::{axpy, dot, rms_norm, softmax_in_place, swiglu};

/// How rotary embeddings pair a head's dimensions (llama.cpp's rope types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RopeStyle {
    /// Adjacent pairs `(2i, 2i+1)`: llama conversions permute Q/K weights for it.
    #[default]
    Normal,
    /// Pairs `(i, i + d/2)`: qwen2 and other models converted without the permutation.
    Neox,
}

/// The hyper-parameters of a llama- or qwen2-architecture model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub rope_style: RopeStyle,
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
    pub wq: QMatrix,
    pub wk: QMatrix,
    pub wv: QMatrix,
    /// Biases of the Q/K/V projections (qwen2 has them, llama not).
    pub bq: Option<Vec<f32>>,
    pub bk: Option<Vec<f32>>,
    pub bv: Option<Vec<f32>>,
    pub wo: QMatrix,
    pub ffn_norm: Vec<f32>,
    pub w_gate: QMatrix,
    pub w_up: QMatrix,
    pub w_down: QMatrix,
}

pub struct LlamaModel {
    pub config: LlamaConfig,
    pub embed: QMatrix,
    pub layers: Vec<LayerWeights>,
    pub out_norm: Vec<f32>,
    /// `None` when the output projection is tied to the embedding.
    pub output: Option<QMatrix>,
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
    fn output_weights(&self) -> &QMatrix {
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
        let rope = RopeTable::new(rows, hd, c.rope_base, c.rope_style);

        for (l, lw) in self.layers.iter().enumerate() {
            norm_rows(&x, &lw.attn_norm, c.rms_eps, dim, &mut normed);
            quantize_rows(&normed, dim, lw.wq.act, &mut act);
            matmuls(
                [
                    (&lw.wq, OutPtr::new(&mut q)),
                    (&lw.wk, OutPtr::new(&mut k)),
                    (&lw.wv, OutPtr::new(&mut v)),
                ],
                &act,
                pool,
            );
            add_bias(&mut q, lw.bq.as_deref());
            add_bias(&mut k, lw.bk.as_deref());
            add_bias(&mut v, lw.bv.as_deref());
            for i in 0..n {
                rope.apply(i, &mut q[i * dim..][..dim], hd);
                rope.apply(i, &mut k[i * kv_dim..][..kv_dim], hd);
            }
            // llama.cpp keeps keys and values in f16 and reads queries in f16 for Q·K;
            // rounding the same way keeps attention scores equal to its.
            for value in q.iter_mut().chain(k.iter_mut()).chain(v.iter_mut()) {
                *value = round_to_f16(*value);
            }
            for (i, row) in rows.iter().enumerate() {
                let cache = &mut caches[row.seq];
                debug_assert_eq!(cache.k[l].len(), row.pos * kv_dim);
                cache.k[l].extend_from_slice(&k[i * kv_dim..][..kv_dim]);
                cache.v[l].extend_from_slice(&v[i * kv_dim..][..kv_dim]);
            }
            self.attention(rows, caches, l, &q, &mut attn, pool);
            quantize_rows(&attn, dim, lw.wo.act, &mut act);
            matmul_add(&lw.wo, &act, &mut proj, &mut x, pool);

            norm_rows(&x, &lw.ffn_norm, c.rms_eps, dim, &mut normed);
            quantize_rows(&normed, dim, lw.w_gate.act, &mut act);
            feed_forward(lw, &act, &mut gate, &mut up, &mut ffn_act, pool);
            matmul_add(&lw.w_down, &ffn_act, &mut proj, &mut x, pool);
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
        let out_w = self.output_weights();
        quantize_rows(&last, dim, out_w.act, &mut act);
        let mut logits = vec![0f32; logits_of.len() * out_w.rows];
        matmul(out_w, &act, &mut logits, pool);
        logits
    }

    /// Reads a GGUF model file (llama or qwen2).
    pub fn load(path: &std::path::Path) -> Result<LlamaModel, crate::LocalError> {
        let meta =
            tally_prompt::GgufMetadata::read_file(path, &Default::default()).map_err(|e| {
                crate::LocalError::Load {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
        let config = crate::load::config_from_gguf(&meta, path)?;
        crate::load::load_weights(path, config)
    }

    /// Reads `prompt`, then decodes `steps` tokens greedily (the lowest id wins a tie), one
    /// token per step; returns the tokens and the logits each was chosen from. For comparing
    /// the forward pass with another implementation token by token.
    pub fn greedy_trace(
        &self,
        prompt: &[u32],
        steps: usize,
        threads: usize,
    ) -> Result<(Vec<u32>, Vec<Vec<f32>>), crate::LocalError> {
        if prompt.is_empty() {
            return Err(crate::LocalError::Options(
                "an empty prompt has no logits".into(),
            ));
        }
        let pool = Pool::new(threads).map_err(crate::LocalError::Options)?;
        let mut cache = KvCache::new(self.config.layers);
        let rows: Vec<Row> = prompt
            .iter()
            .enumerate()
            .map(|(pos, &token)| Row { seq: 0, token, pos })
            .collect();
        let mut logits = self.forward(&rows, &mut [&mut cache], &[rows.len() - 1], &pool);
        let (mut tokens, mut all) = (Vec::new(), Vec::new());
        for _ in 0..steps {
            let best = (0..logits.len()).fold(0, |b, i| if logits[i] > logits[b] { i } else { b });
            tokens.push(best as u32);
            all.push(std::mem::take(&mut logits));
            let row = Row {
                seq: 0,
                token: best as u32,
                pos: cache.len(),
            };
            logits = self.forward(&[row], &mut [&mut cache], &[0], &pool);
        }
        Ok((tokens, all))
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
        thread_local! {
            /// Attention weights of one (row, head), reused so the hot loop does not allocate.
            static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let c = &self.config;
        let (dim, kv_dim, hd) = (c.dim, c.kv_dim(), c.head_dim());
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let out_ptr = OutPtr::new(out);
        pool.for_each(rows.len() * c.heads, |task| {
            let (i, h) = (task / c.heads, task % c.heads);
            let row = rows[i];
            let cache = &caches[row.seq];
            let (keys, values) = (&cache.k[layer], &cache.v[layer]);
            let kvh = h / group;
            let qh = &q[i * dim + h * hd..][..hd];
            SCORES.with_borrow_mut(|scores| {
                scores.clear();
                scores.extend(
                    (0..=row.pos).map(|j| dot(qh, &keys[j * kv_dim + kvh * hd..][..hd]) * scale),
                );
                softmax_in_place(scores);
                // SAFETY: task (i, h) alone writes `out[i * dim + h * hd ..][..hd]`, inside `out`.
                let dst = unsafe { out_ptr.slice(i * dim + h * hd, hd) };
                dst.fill(0.0);
                for (j, &p) in scores.iter().enumerate() {
                    axpy(dst, p, &values[j * kv_dim + kvh * hd..][..hd]);
                }
            });
        });
    }
}

fn norm_rows(x: &[f32], w: &[f32], eps: f32, dim: usize, out: &mut [f32]) {
    for (xi, oi) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        rms_norm(xi, w, eps, oi);
    }
}

fn add_bias(x: &mut [f32], bias: Option<&[f32]>) {
    if let Some(b) = bias {
        for row in x.chunks_exact_mut(b.len()) {
            for (v, b) in row.iter_mut().zip(b) {
                *v += b;
            }
        }
    }
}

fn quantize_rows(x: &[f32], cols: usize, format: ActFormat, into: &mut Q8Rows) {
    into.reset(cols, format);
    for row in x.chunks_exact(cols) {
        into.push_row(row);
    }
}

/// Output rows per unit of parallel work: a multiple of 32, so that a chunk of the FFN's hidden
/// width is whole Q8_0 blocks, and about 16 chunks per thread, so a thread slowed by other load
/// leaves little for the rest to wait on. Results never depend on it (rows are independent).
fn chunk_rows(rows: usize, pool: &Pool) -> usize {
    rows.div_ceil(pool.threads() * 16).next_multiple_of(BLOCK)
}

/// As [`chunk_rows`], in whole activation blocks of `format` (256 values for Q8_K).
fn chunk_cols(cols: usize, format: ActFormat, pool: &Pool) -> usize {
    let unit = match format {
        ActFormat::Q8_0 => BLOCK,
        ActFormat::Q8K => SUPER_BLOCK,
    };
    cols.div_ceil(pool.threads() * 16).next_multiple_of(unit)
}

/// `out[t * w.rows + r] = w[r] · a[t]` for every `(w, out)` pair, all in one parallel region.
fn matmuls<const N: usize>(products: [(&QMatrix, OutPtr); N], a: &Q8Rows, pool: &Pool) {
    let chunks = products.map(|(w, _)| {
        let per = chunk_rows(w.rows, pool);
        (per, w.rows.div_ceil(per))
    });
    let total = chunks.iter().map(|&(_, n)| n).sum();
    pool.for_each(total, |mut ci| {
        for (&(w, out), &(per, n)) in products.iter().zip(&chunks) {
            if ci < n {
                let start = ci * per;
                matmul_rows(w, a, start..(start + per).min(w.rows), out);
                return;
            }
            ci -= n;
        }
    });
}

/// `out[t * w.rows + r] = w[r] · a[t]`.
fn matmul(w: &QMatrix, a: &Q8Rows, out: &mut [f32], pool: &Pool) {
    debug_assert_eq!(out.len(), w.rows * a.rows);
    matmuls([(w, OutPtr::new(out))], a, pool);
}

/// `x[t] += w · a[t]` (the residual connection), `scratch` holding the product on the way.
fn matmul_add(w: &QMatrix, a: &Q8Rows, scratch: &mut [f32], x: &mut [f32], pool: &Pool) {
    debug_assert_eq!(x.len(), w.rows * a.rows);
    let (p, xp) = (OutPtr::new(scratch), OutPtr::new(x));
    let per = chunk_rows(w.rows, pool);
    pool.for_each(w.rows.div_ceil(per), |ci| {
        let rows = ci * per..((ci + 1) * per).min(w.rows);
        matmul_rows(w, a, rows.clone(), p);
        for t in 0..a.rows {
            let at = t * w.rows + rows.start;
            // SAFETY: this chunk alone owns columns `rows` of every row of `scratch` and `x`,
            // both `a.rows * w.rows` long.
            let (src, dst) = unsafe { (p.slice(at, rows.len()), xp.slice(at, rows.len())) };
            for (xi, pi) in dst.iter_mut().zip(src.iter()) {
                *xi += pi;
            }
        }
    });
}

/// `ffn_act = q8(silu(w_gate · a) * (w_up · a))`. Each chunk of hidden units is computed,
/// combined and quantised by one thread, which saves two serial passes and a hand-over.
fn feed_forward(
    lw: &LayerWeights,
    a: &Q8Rows,
    gate: &mut [f32],
    up: &mut [f32],
    ffn_act: &mut Q8Rows,
    pool: &Pool,
) {
    let ffn = lw.w_gate.rows;
    let format = lw.w_down.act;
    ffn_act.set_rows(a.rows, ffn, format);
    let (gp, upp) = (OutPtr::new(gate), OutPtr::new(up));
    let (sp, qp, sump) = (
        OutPtr::new(&mut ffn_act.scales),
        OutPtr::new(&mut ffn_act.quants),
        OutPtr::new(&mut ffn_act.sums),
    );
    let per = chunk_cols(ffn, format, pool);
    pool.for_each(ffn.div_ceil(per), |ci| {
        let cols = ci * per..((ci + 1) * per).min(ffn);
        matmul_rows(&lw.w_gate, a, cols.clone(), gp);
        matmul_rows(&lw.w_up, a, cols.clone(), upp);
        for t in 0..a.rows {
            let at = t * ffn + cols.start;
            let len = cols.len();
            // SAFETY: this chunk alone owns columns `cols` (whole activation blocks, as `per`
            // and `ffn` are multiples of the block) of every row of `gate`, `up` and `ffn_act`,
            // whose sizes `set_rows` and the caller match to `a.rows * ffn`.
            let (g, u, scales, quants, sums) = unsafe {
                (
                    gp.slice(at, len),
                    upp.slice(at, len),
                    sp.slice(at / BLOCK, len / BLOCK),
                    qp.slice(at, len),
                    sump.slice(at / BLOCK, len / BLOCK),
                )
            };
            swiglu(g, u);
            quantize_activations(format, g, scales, quants, sums);
        }
    });
}

/// Rotary position embedding, in the pairing of the model's [`RopeStyle`].
struct RopeTable {
    cos_sin: Vec<(f32, f32)>,
    pairs: usize,
    style: RopeStyle,
}

impl RopeTable {
    fn new(rows: &[Row], head_dim: usize, base: f32, style: RopeStyle) -> RopeTable {
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
        RopeTable {
            cos_sin,
            pairs,
            style,
        }
    }

    /// ggml's rotation as built for x86-64 with FMA (the reference llama.cpp here): the compiler
    /// fuses the first product of each output into its sum, and matching that keeps Q and K
    /// bit-identical to llama.cpp's (see `vecops::rms_norm` for why single bits matter).
    fn apply(&self, row: usize, x: &mut [f32], head_dim: usize) {
        let table = &self.cos_sin[row * self.pairs..][..self.pairs];
        for head in x.chunks_exact_mut(head_dim) {
            match self.style {
                RopeStyle::Normal => {
                    for (pair, &(cos, sin)) in head.chunks_exact_mut(2).zip(table) {
                        let (a, b) = (pair[0], pair[1]);
                        pair[0] = a.mul_add(cos, -(b * sin));
                        pair[1] = a.mul_add(sin, b * cos);
                    }
                }
                RopeStyle::Neox => {
                    let (first, second) = head.split_at_mut(self.pairs);
                    for ((a, b), &(cos, sin)) in first.iter_mut().zip(second).zip(table) {
                        let (x0, x1) = (*a, *b);
                        *a = x0.mul_add(cos, -(x1 * sin));
                        *b = x0.mul_add(sin, x1 * cos);
                    }
                }
            }
        }
    }
}
