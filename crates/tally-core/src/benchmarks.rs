//! The `--benchmarks name:N[,name:N]` syntax of `ns eval`.

use crate::error::CoreError;

/// One entry of `--benchmarks`: a benchmark and how many sampled seeds to run (0 = greedy only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkSpec {
    pub name: String,
    pub samples: u32,
}

/// Parses `name:N[,name:N...]`. Spaces are rejected as NeMo-Skills does. Unlike the seed (which
/// requires `:N`), a bare `name` is accepted and means `name:0` (greedy only).
pub fn parse_benchmarks(s: &str) -> Result<Vec<BenchmarkSpec>, CoreError> {
    let err = |reason: String| CoreError::BenchmarkSpec {
        spec: s.to_string(),
        reason,
    };
    if s.chars().any(char::is_whitespace) {
        return Err(err(
            "benchmarks must be separated by commas without spaces".into()
        ));
    }
    let mut out = Vec::new();
    for entry in s.split(',') {
        if entry.is_empty() {
            return Err(err("empty entry".into()));
        }
        let (name, n) = match entry.split_once(':') {
            Some((name, n)) => {
                let n = n.parse::<u32>().map_err(|_| {
                    err(format!(
                        "`{entry}`: the number of samples must be a non-negative integer"
                    ))
                })?;
                (name, n)
            }
            None => (entry, 0),
        };
        if name.is_empty() {
            return Err(err(format!("`{entry}`: missing benchmark name")));
        }
        if out.iter().any(|b: &BenchmarkSpec| b.name == name) {
            return Err(err(format!("`{name}` is listed twice")));
        }
        out.push(BenchmarkSpec {
            name: name.to_string(),
            samples: n,
        });
    }
    Ok(out)
}

/// Parses `--random_seeds`: `"0,1,5"` or an inclusive range `"0..63"`.
pub fn parse_seed_list(s: &str) -> Result<Vec<u64>, CoreError> {
    let err = |reason: &str| CoreError::BenchmarkSpec {
        spec: s.to_string(),
        reason: reason.to_string(),
    };
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a
            .trim()
            .parse()
            .map_err(|_| err("range start is not an integer"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| err("range end is not an integer"))?;
        if b < a {
            return Err(err("range end is below its start"));
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<u64>()
                .map_err(|_| err("seeds must be integers"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_document_forms() {
        let b = parse_benchmarks("comp-math-24-25:64").unwrap();
        assert_eq!(
            b,
            vec![BenchmarkSpec {
                name: "comp-math-24-25".into(),
                samples: 64
            }]
        );
        let b = parse_benchmarks("aime24:8,aime25:0").unwrap();
        assert_eq!(
            b[1],
            BenchmarkSpec {
                name: "aime25".into(),
                samples: 0
            }
        );
        let b = parse_benchmarks("hle").unwrap();
        assert_eq!(b[0].samples, 0);
    }

    #[test]
    fn rejects_what_the_seed_rejects_with_a_reason() {
        assert!(parse_benchmarks("a:1, b:2")
            .unwrap_err()
            .to_string()
            .contains("without spaces"));
        assert!(parse_benchmarks("a:x")
            .unwrap_err()
            .to_string()
            .contains("non-negative integer"));
        assert!(parse_benchmarks("a:1,,b:2")
            .unwrap_err()
            .to_string()
            .contains("empty entry"));
        assert!(parse_benchmarks(":4")
            .unwrap_err()
            .to_string()
            .contains("missing benchmark name"));
        assert!(parse_benchmarks("a:1,a:2")
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn seed_lists_and_inclusive_ranges() {
        assert_eq!(parse_seed_list("0,1,5").unwrap(), vec![0, 1, 5]);
        assert_eq!(parse_seed_list("0..3").unwrap(), vec![0, 1, 2, 3]);
        assert!(parse_seed_list("3..1").is_err());
        assert!(parse_seed_list("a").is_err());
    }
}
