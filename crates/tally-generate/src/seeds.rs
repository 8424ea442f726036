//! Which seeds a run samples, and the settings each seeded pass gets before the user's own.
//!
//! NeMo-Skills puts the seed defaults *before* the user's `++` arguments, so the user wins
//! (`++inference.temperature=0.6` beats the default). A user `++inference.random_seed=X` therefore
//! sends the same seed in every pass (trap T21); the files are still named by their pass.

use serde_json::json;
use tally_core::benchmarks::parse_seed_list;
use tally_core::overrides::Overrides;

use crate::error::GenerateError;

/// The defaults a seeded pass gets, which differ between the two `ns` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedDefaults {
    /// `ns generate`: `random_seed=<s> temperature=1.0 top_k=0 top_p=0.95`.
    Generate,
    /// `ns eval`: `random_seed=<s> temperature=0.7`.
    Eval,
}

/// The passes of a run: `None` is the single unseeded pass (`output.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlan {
    pub seeds: Vec<Option<u64>>,
}

impl SeedPlan {
    /// One unseeded pass, written to `<prefix>.jsonl`.
    pub fn unseeded() -> SeedPlan {
        SeedPlan { seeds: vec![None] }
    }

    /// `--num_random_seeds N` → `starting_seed..starting_seed+N`; `--random_seeds "0,1,5"` or
    /// `"0..63"` (inclusive) → those seeds, `--starting_seed` not applied; neither (or `N = 0`, which
    /// NeMo-Skills treats as absent) → one unseeded pass. Giving both is an error, as duplicates.
    pub fn from_flags(
        num_random_seeds: Option<u64>,
        random_seeds: Option<&str>,
        starting_seed: u64,
    ) -> Result<SeedPlan, GenerateError> {
        let seeds: Vec<u64> = match (num_random_seeds, random_seeds) {
            (Some(n), Some(_)) if n > 0 => {
                return Err(GenerateError::setting(
                    "--random_seeds",
                    "give either --num_random_seeds or --random_seeds, not both",
                ))
            }
            (_, Some(list)) => parse_seed_list(list)
                .map_err(|e| GenerateError::setting("--random_seeds", e.to_string()))?,
            (Some(n), None) if n > 0 => (starting_seed..starting_seed + n).collect(),
            _ => return Ok(SeedPlan::unseeded()),
        };
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = seeds.iter().find(|s| !seen.insert(**s)) {
            return Err(GenerateError::setting(
                "--random_seeds",
                format!("seed {dup} is listed twice"),
            ));
        }
        Ok(SeedPlan {
            seeds: seeds.into_iter().map(Some).collect(),
        })
    }

    pub fn is_seeded(&self) -> bool {
        self.seeds.iter().any(Option::is_some)
    }
}

/// The overrides a pass starts from, before the user's: empty for the unseeded pass.
pub fn seed_overrides(seed: Option<u64>, defaults: SeedDefaults) -> Overrides {
    let mut ov = Overrides::default();
    if let Some(s) = seed {
        ov.push("inference.random_seed", json!(s));
        match defaults {
            SeedDefaults::Generate => {
                ov.push("inference.temperature", json!(1.0));
                ov.push("inference.top_k", json!(0));
                ov.push("inference.top_p", json!(0.95));
            }
            SeedDefaults::Eval => ov.push("inference.temperature", json!(0.7)),
        }
    }
    ov
}

/// `<prefix>-rs<seed>.jsonl`, or `<prefix>.jsonl` for the unseeded pass.
pub fn output_file_name(prefix: &str, seed: Option<u64>) -> String {
    match seed {
        Some(s) => format!("{prefix}-rs{s}.jsonl"),
        None => format!("{prefix}.jsonl"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_flags_follow_ns_generate() {
        assert_eq!(
            SeedPlan::from_flags(None, None, 0).unwrap(),
            SeedPlan::unseeded()
        );
        assert_eq!(
            SeedPlan::from_flags(Some(0), None, 3).unwrap(),
            SeedPlan::unseeded()
        );
        let p = SeedPlan::from_flags(Some(3), None, 5).unwrap();
        assert_eq!(p.seeds, vec![Some(5), Some(6), Some(7)]);
        let p = SeedPlan::from_flags(None, Some("0,1,5"), 9).unwrap();
        assert_eq!(p.seeds, vec![Some(0), Some(1), Some(5)]);
        let p = SeedPlan::from_flags(None, Some("0..63"), 0).unwrap();
        assert_eq!(p.seeds.len(), 64);
        assert_eq!(p.seeds[63], Some(63));
        assert!(SeedPlan::from_flags(Some(2), Some("0,1"), 0).is_err());
        assert!(SeedPlan::from_flags(None, Some("1,1"), 0).is_err());
        assert!(SeedPlan::from_flags(None, Some("a"), 0).is_err());
    }

    #[test]
    fn seed_defaults_come_before_user_args_so_the_user_wins() {
        let mut ov = seed_overrides(Some(4), SeedDefaults::Generate);
        ov.extend(&Overrides::parse(["++inference.temperature=0.6"]).unwrap());
        assert_eq!(ov.get("inference.temperature").unwrap().as_f64(), Some(0.6));
        assert_eq!(ov.get("inference.random_seed").unwrap().as_u64(), Some(4));
        assert_eq!(ov.get("inference.top_k").unwrap().as_i64(), Some(0));
        assert_eq!(ov.get("inference.top_p").unwrap().as_f64(), Some(0.95));

        let ov = seed_overrides(Some(2), SeedDefaults::Eval);
        assert_eq!(ov.get("inference.temperature").unwrap().as_f64(), Some(0.7));
        assert!(ov.get("inference.top_k").is_none());
        assert!(seed_overrides(None, SeedDefaults::Generate).is_empty());
    }

    #[test]
    fn output_names() {
        assert_eq!(output_file_name("output", Some(3)), "output-rs3.jsonl");
        assert_eq!(output_file_name("output", None), "output.jsonl");
    }
}
