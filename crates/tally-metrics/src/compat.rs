//! NeMo-Skills' metrics exactly as the seed version computes them (spec §6.2), quirks included:
//! `no_answer` is 0 for sampled modes (T1), `both`/`any` of `pass@1[k]` follow Python's float
//! truthiness (T2), majority ties go to the first (answer, verdict) pair in file order (T3),
//! `pass@k` is "any correct among the first k files" (T18), and a problem whose first k samples
//! have no answer returns early, skipping smaller k (which still counts in `num_entries`).
//!
//! The arithmetic follows the seed's order of operations (problem-order float sums, division
//! before ×100) so numbers match to the last bit where Python's do.

use std::collections::HashMap;

use indexmap::IndexMap;
use tally_core::judgement::is_correct_judgement_compat;

use crate::load::{AnswerKey, Field, Row};
use crate::results::{MetricValue, ModeMetrics};

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    correct_sympy: f64,
    correct_judge: f64,
    no_answer: f64,
    both_correct: f64,
    any_correct: f64,
}

/// A record the seed would crash on (a `KeyError`/`TypeError` in Python): which sample and why.
#[derive(Debug, Clone, PartialEq)]
pub struct CompatRecordError {
    /// Index of the file (in the order given) holding the bad record.
    pub file: usize,
    pub message: String,
}

/// The seed's `MathMetrics` for one calculator (`all` or one subset).
#[derive(Debug, Clone, Default)]
pub struct CompatMetrics {
    has_sympy: bool,
    has_judge: bool,
    has_reward: bool,
    total: u64,
    /// Samples that are not failed requests. NeMo-Skills never sees a failed request (it stops
    /// instead); when every sample is one, its rates would be 0% made of no data, so Tally
    /// reports them as [`MetricValue::NoData`]. Otherwise failures count as the seed would
    /// count an empty answer.
    valid: u64,
    modes: IndexMap<String, Counters>,
}

/// Python's `int()` of a verdict (bools are 0/1; floats truncate).
fn int(v: f64) -> f64 {
    v.trunc()
}

impl CompatMetrics {
    fn mode(&mut self, name: String) -> &mut Counters {
        self.modes.entry(name).or_default()
    }

    /// `update_comb_metric`: integer increments.
    fn add(&mut self, mode: String, s: f64, j: f64, no_answer: bool) {
        let both_flags = self.has_sympy && self.has_judge;
        let c = self.mode(mode);
        c.correct_sympy += int(s);
        c.correct_judge += int(j);
        c.no_answer += no_answer as u8 as f64;
        if both_flags {
            c.both_correct += int(if s == 0.0 { s } else { j });
            c.any_correct += int(if s != 0.0 { s } else { j });
        }
    }

    /// `update_comb_metric_averaged`: float increments with Python's `and`/`or` on floats.
    fn add_averaged(&mut self, mode: String, s: f64, j: f64, no_answer: bool) {
        let both_flags = self.has_sympy && self.has_judge;
        let c = self.mode(mode);
        c.correct_sympy += s;
        c.correct_judge += j;
        c.no_answer += no_answer as u8 as f64;
        if both_flags {
            c.both_correct += if s == 0.0 { s } else { j };
            c.any_correct += if s != 0.0 { s } else { j };
        }
    }

    /// Adds one problem: `preds[i]` is the sample of file `i` for this problem.
    pub fn update(&mut self, preds: &[&Row]) -> Result<(), CompatRecordError> {
        self.total += 1;
        self.valid += preds
            .iter()
            .filter(|p| !p.effective_status().is_failure())
            .count() as u64;
        let first = preds[0];
        self.has_sympy |= first.is_correct.is_present();
        self.has_judge |= first.judgement.is_present();
        self.has_reward |= first.reward_model_score.is_present();
        for (i, p) in preds.iter().enumerate() {
            if !p.predicted_answer.is_present() {
                return Err(CompatRecordError {
                    file: i,
                    message: "missing field `predicted_answer` (grade the file first)".into(),
                });
            }
        }
        let n = preds.len();
        let any_answer = preds.iter().any(|p| p.answer().is_some());
        if n == 1 || any_answer {
            self.check_fields(preds)?;
        }
        let sympy = |p: &Row| p.is_correct.get().copied().unwrap_or(0.0);
        let judge = |p: &Row| {
            p.judgement
                .get()
                .map_or(0.0, |j| is_correct_judgement_compat(j) as u8 as f64)
        };

        if n == 1 {
            let p = first;
            let s = if self.has_sympy { sympy(p) } else { 0.0 };
            let j = if self.has_judge { judge(p) } else { 0.0 };
            self.add("greedy".into(), s, j, p.answer().is_none());
            return Ok(());
        }

        // Everything below is a function of the prefix preds[..k]; compute it for every k in one
        // forward pass, then replay k = N..1 in the seed's order.
        let first_answer = preds.iter().position(|p| p.answer().is_some()).unwrap_or(n);
        let s_vals: Vec<f64> = preds.iter().map(|p| sympy(p)).collect();
        let j_vals: Vec<f64> = preds.iter().map(|p| judge(p)).collect();
        let maj_s = if self.has_sympy {
            majority_by_prefix(preds, &s_vals)
        } else {
            vec![0.0; n]
        };
        let maj_j = if self.has_judge {
            majority_by_prefix(preds, &j_vals)
        } else {
            vec![0.0; n]
        };
        let prefix = |vals: &[f64]| -> (Vec<f64>, Vec<bool>) {
            let (mut sums, mut anys) = (Vec::with_capacity(n), Vec::with_capacity(n));
            let (mut sum, mut any) = (0.0f64, false);
            for v in vals {
                sum += v;
                any |= *v != 0.0;
                sums.push(sum);
                anys.push(any);
            }
            (sums, anys)
        };
        let (sum_s, any_s) = prefix(&s_vals);
        let (sum_j, any_j) = prefix(&j_vals);

        for k in (1..=n).rev() {
            if k <= first_answer {
                self.add(format!("pass@{k}"), 0.0, 0.0, false);
                self.add(format!("majority@{k}"), 0.0, 0.0, false);
                self.add_averaged(format!("pass@1[{k}]"), 0.0, 0.0, false);
                if self.has_reward {
                    self.add(format!("rm_best@{k}"), 0.0, 0.0, false);
                    self.add(format!("rm_majority@{k}"), 0.0, 0.0, false);
                }
                return Ok(());
            }
            let i = k - 1;
            let (s, j) = (
                if self.has_sympy { maj_s[i] } else { 0.0 },
                if self.has_judge { maj_j[i] } else { 0.0 },
            );
            self.add(format!("majority@{k}"), s, j, false);
            if self.has_reward {
                let rows = &preds[..k];
                let (s, j) = (
                    if self.has_sympy {
                        reward_best(rows, &s_vals)
                    } else {
                        0.0
                    },
                    if self.has_judge {
                        reward_best(rows, &j_vals)
                    } else {
                        0.0
                    },
                );
                self.add(format!("rm_best@{k}"), s, j, false);
                let (s, j) = (
                    if self.has_sympy {
                        reward_majority(rows, &s_vals)
                    } else {
                        0.0
                    },
                    if self.has_judge {
                        reward_majority(rows, &j_vals)
                    } else {
                        0.0
                    },
                );
                self.add(format!("rm_majority@{k}"), s, j, false);
            }
            let s = if self.has_sympy {
                any_s[i] as u8 as f64
            } else {
                0.0
            };
            let j = if self.has_judge {
                any_j[i] as u8 as f64
            } else {
                0.0
            };
            self.add(format!("pass@{k}"), s, j, false);
            let s = if self.has_sympy {
                sum_s[i] / k as f64
            } else {
                0.0
            };
            let j = if self.has_judge {
                sum_j[i] / k as f64
            } else {
                0.0
            };
            self.add_averaged(format!("pass@1[{k}]"), s, j, false);
        }
        Ok(())
    }

    /// The fields the seed reads without a default must be there (Python would raise).
    fn check_fields(&self, preds: &[&Row]) -> Result<(), CompatRecordError> {
        for (i, p) in preds.iter().enumerate() {
            if self.has_sympy && !matches!(p.is_correct, Field::Set(_)) {
                return Err(CompatRecordError {
                    file: i,
                    message: "`is_correct` is missing or null while other samples have it".into(),
                });
            }
            if self.has_judge && !matches!(p.judgement, Field::Set(_)) {
                return Err(CompatRecordError {
                    file: i,
                    message: "`judgement` is missing or null while other samples have it".into(),
                });
            }
            if self.has_reward && !matches!(p.reward_model_score, Field::Set(_)) {
                return Err(CompatRecordError {
                    file: i,
                    message: "`reward_model_score` is missing or null while other samples have it"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// `get_metrics`: every mode, in insertion order.
    pub fn metrics(&self) -> IndexMap<String, ModeMetrics> {
        let total = self.total as f64;
        let pct = |v: f64| {
            if self.valid == 0 {
                MetricValue::NoData
            } else {
                MetricValue::Float((v / total) * 100.0)
            }
        };
        self.modes
            .iter()
            .map(|(mode, c)| {
                let mut m = ModeMetrics::new();
                m.insert("num_entries".into(), MetricValue::Int(self.total));
                if self.has_sympy {
                    m.insert("symbolic_correct".into(), pct(c.correct_sympy));
                }
                if self.has_judge {
                    m.insert("judge_correct".into(), pct(c.correct_judge));
                }
                if self.has_sympy && self.has_judge {
                    m.insert("both_correct".into(), pct(c.both_correct));
                    m.insert("any_correct".into(), pct(c.any_correct));
                }
                m.insert("no_answer".into(), pct(c.no_answer));
                (mode.clone(), m)
            })
            .collect()
    }

    /// `max_aggregations_to_print`: majority + pass + pass@1[k] (+ 2 reward-model modes).
    pub fn rows_to_print(&self) -> usize {
        3 + 2 * self.has_reward as usize
    }
}

/// For each k, the verdict of `Counter((answer, verdict) for the first k answered samples)
/// .most_common(1)`: the most frequent pair, ties to the pair seen first.
fn majority_by_prefix(preds: &[&Row], verdicts: &[f64]) -> Vec<f64> {
    let mut counts: HashMap<(&AnswerKey, u64), (u32, usize)> = HashMap::with_capacity(preds.len());
    let mut best: Option<(u32, usize, f64)> = None;
    let mut out = Vec::with_capacity(preds.len());
    for (i, p) in preds.iter().enumerate() {
        if let Some(a) = p.answer() {
            let v = verdicts[i];
            let key = (a, if v == 0.0 { 0 } else { v.to_bits() });
            let e = counts.entry(key).or_insert((0, i));
            e.0 += 1;
            let (count, first) = *e;
            let better = match best {
                None => true,
                Some((bc, bf, _)) => count > bc || (count == bc && first < bf),
            };
            if better {
                best = Some((count, first, v));
            }
        }
        out.push(best.map_or(0.0, |b| b.2));
    }
    out
}

/// `rm_best@k`: the verdict of the answered sample with the highest reward (first on ties).
fn reward_best(rows: &[&Row], verdicts: &[f64]) -> f64 {
    let mut best: Option<(f64, f64)> = None;
    for (i, p) in rows.iter().enumerate() {
        if p.answer().is_none() {
            continue;
        }
        let score = p.reward_model_score.get().copied().unwrap_or(0.0);
        if best.is_none_or(|(bs, _)| score > bs) {
            best = Some((score, verdicts[i]));
        }
    }
    best.map_or(0.0, |b| b.1)
}

/// `rm_majority@k`: the answer with the highest summed reward (first on ties); its verdict is the
/// one of its last sample (the seed overwrites a dict entry per sample).
fn reward_majority(rows: &[&Row], verdicts: &[f64]) -> f64 {
    let mut per_answer: IndexMap<&AnswerKey, (f64, f64)> = IndexMap::new();
    for (i, p) in rows.iter().enumerate() {
        if let Some(a) = p.answer() {
            let e = per_answer.entry(a).or_insert((0.0, 0.0));
            e.0 += p.reward_model_score.get().copied().unwrap_or(0.0);
            e.1 = verdicts[i];
        }
    }
    let mut best: Option<(f64, f64)> = None;
    for (_, (score, verdict)) in per_answer {
        if best.is_none_or(|(bs, _)| score > bs) {
            best = Some((score, verdict));
        }
    }
    best.map_or(0.0, |b| b.1)
}

/// `ComputeMetrics.compute_metrics`: the `all` calculator plus one per `subset_for_metrics` of
/// the first file's record, in order of first appearance.
pub fn compute(
    files: &[&[Row]],
    max_samples: Option<usize>,
) -> Result<(IndexMap<String, CompatMetrics>, usize), (usize, CompatRecordError)> {
    let mut calcs: IndexMap<String, CompatMetrics> = IndexMap::new();
    calcs.insert("all".into(), CompatMetrics::default());
    let n_problems = files.iter().map(|f| f.len()).min().unwrap_or(0);
    let n_problems = max_samples.map_or(n_problems, |m| m.min(n_problems));
    let mut preds: Vec<&Row> = Vec::with_capacity(files.len());
    for idx in 0..n_problems {
        preds.clear();
        preds.extend(files.iter().map(|f| &f[idx]));
        let subset = preds[0]
            .subset_for_metrics
            .clone()
            .unwrap_or_else(|| "all".into());
        calcs
            .get_mut("all")
            .expect("all exists")
            .update(&preds)
            .map_err(|e| (idx, e))?;
        if subset != "all" {
            calcs
                .entry(subset)
                .or_default()
                .update(&preds)
                .map_err(|e| (idx, e))?;
        }
    }
    Ok((calcs, n_problems))
}
