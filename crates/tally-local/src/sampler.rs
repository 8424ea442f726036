//! Choosing the next token: greedy at temperature 0, otherwise temperature, top-k, top-p and
//! min-p (vLLM's order: temperature first, then the filters) and a draw from a per-request
//! seeded generator, so a seed gives the same tokens whatever else is in the batch.

use tally_backend::SamplingParams;

/// The per-request generator: fully determined by the seed.
pub type Rng = tally_core::SplitMix64;

#[derive(Debug, Clone)]
pub struct Sampler {
    temperature: f64,
    top_k: usize,
    top_p: f64,
    min_p: f64,
    repetition_penalty: f32,
    rng: Rng,
}

impl Sampler {
    pub fn new(params: &SamplingParams) -> Sampler {
        Sampler {
            temperature: params.temperature,
            top_k: usize::try_from(params.top_k).unwrap_or(0),
            top_p: params.top_p,
            min_p: params.min_p,
            repetition_penalty: params.repetition_penalty as f32,
            // Unseeded requests still need some stream; seed 0 keeps them reproducible too.
            rng: Rng::new(params.seed.unwrap_or(0)),
        }
    }

    /// Picks a token from `logits`, given the tokens produced so far (for the repetition
    /// penalty, applied as in vLLM/HF: divide positive logits, multiply negative ones).
    pub fn sample(&mut self, logits: &mut [f32], previous: &[u32]) -> u32 {
        if self.repetition_penalty != 1.0 && self.repetition_penalty > 0.0 {
            for &t in previous {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l = if *l > 0.0 {
                        *l / self.repetition_penalty
                    } else {
                        *l * self.repetition_penalty
                    };
                }
            }
        }
        if self.temperature <= 0.0 || self.top_k == 1 {
            return argmax(logits);
        }
        let inv_t = 1.0 / self.temperature;
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let mut probs: Vec<(f64, u32)> = logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (((l as f64 - max) * inv_t).exp(), i as u32))
            .collect();
        // Ties broken by id so the order (and thus the draw) is fully determined.
        probs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if self.top_k > 0 {
            probs.truncate(self.top_k);
        }
        let total: f64 = probs.iter().map(|p| p.0).sum();
        if self.top_p > 0.0 && self.top_p < 1.0 {
            let mut cum = 0.0;
            let mut keep = probs.len();
            for (i, p) in probs.iter().enumerate() {
                cum += p.0 / total;
                if cum >= self.top_p {
                    keep = i + 1;
                    break;
                }
            }
            probs.truncate(keep);
        }
        if self.min_p > 0.0 {
            let floor = probs[0].0 * self.min_p;
            probs.retain(|p| p.0 >= floor);
        }
        let total: f64 = probs.iter().map(|p| p.0).sum();
        let mut r = self.rng.next_f64() * total;
        for &(p, id) in &probs {
            if r < p {
                return id;
            }
            r -= p;
        }
        probs.last().map_or(0, |p| p.1)
    }
}

/// The highest logit; the lowest id among equals (as llama.cpp and vLLM pick).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f64, seed: u64) -> SamplingParams {
        SamplingParams {
            temperature,
            top_p: 1.0,
            seed: Some(seed),
            ..SamplingParams::default()
        }
    }

    #[test]
    fn greedy_takes_the_first_maximum() {
        let mut s = Sampler::new(&params(0.0, 1));
        assert_eq!(s.sample(&mut [0.1, 2.0, 2.0, -1.0], &[]), 1);
    }

    #[test]
    fn same_seed_same_draws_and_filters_hold() {
        let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.7).sin()).collect();
        let draw = |seed| {
            let mut s = Sampler::new(&params(1.0, seed));
            (0..20)
                .map(|_| s.sample(&mut logits.clone(), &[]))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut top2 = Sampler::new(&SamplingParams {
            top_k: 2,
            ..params(1.0, 3)
        });
        let best: Vec<u32> = {
            let mut idx: Vec<u32> = (0..50).collect();
            idx.sort_by(|&a, &b| logits[b as usize].total_cmp(&logits[a as usize]));
            idx[..2].to_vec()
        };
        for _ in 0..50 {
            assert!(best.contains(&top2.sample(&mut logits.clone(), &[])));
        }
    }
}
