//! The invariants checked after every trial.
//!
//! 1. The output directory holds exactly the files an uninterrupted run leaves: no journal, no
//!    temporary, no chunk file left behind, none missing.
//! 2. Every output JSONL has every problem exactly once, in dataset order, each record with a
//!    status.
//! 3. Every file is byte-identical to the uninterrupted run's (after the output directory's own
//!    path is replaced, since the two runs write to different places; the eval manifest's clock
//!    fields are left out).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::workload::{Mode, Workload};

/// One broken invariant.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: PathBuf,
    pub what: String,
}

impl Violation {
    pub fn new(path: &Path, what: impl Into<String>) -> Violation {
        Violation {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

/// Calls `f` with the path (relative to `base`, `/`-separated) of every file under `dir`.
pub fn walk(base: &Path, dir: &Path, f: &mut dyn FnMut(&str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(base, &p, f);
        } else if let Ok(rel) = p.strip_prefix(base) {
            f(&rel.to_string_lossy());
        }
    }
}

fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut |rel| {
        out.insert(rel.to_string());
    });
    out
}

/// Keys of the eval manifest that record when, how long and how it was called (the server's
/// address differs between the reference run and a trial), not what was computed.
const CLOCK_KEYS: &[&str] = &[
    "started",
    "finished",
    "elapsed_s",
    "created",
    "duration_s",
    "command",
    "server",
];

fn comparable(path: &Path, root: &Path) -> std::io::Result<Vec<u8>> {
    let text = std::fs::read(path)?;
    let root = root.to_string_lossy().into_owned();
    let replaced = String::from_utf8_lossy(&text).replace(&root, "<OUT>");
    if path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("manifest"))
    {
        if let Ok(mut v) = serde_json::from_str::<Value>(&replaced) {
            strip_keys(&mut v);
            return Ok(serde_json::to_vec_pretty(&v).unwrap_or_default());
        }
    }
    Ok(replaced.into_bytes())
}

fn strip_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in CLOCK_KEYS {
                m.shift_remove(*k);
            }
            m.values_mut().for_each(strip_keys);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_keys),
        _ => {}
    }
}

/// Checks a finished trial's output directory against the reference run's.
pub fn check_outputs(
    mode: Mode,
    reference: &Path,
    out: &Path,
    workload: &Workload,
    violations: &mut Vec<Violation>,
) -> std::io::Result<()> {
    let (want, got) = (files(reference), files(out));
    for missing in want.difference(&got) {
        violations.push(Violation::new(&out.join(missing), "missing"));
    }
    for extra in got.difference(&want) {
        violations.push(Violation::new(
            &out.join(extra),
            "left behind (not in an uninterrupted run)",
        ));
    }
    for name in want.intersection(&got) {
        let (a, b) = (reference.join(name), out.join(name));
        if name.ends_with(".jsonl") {
            check_records(mode, &b, workload, violations)?;
        }
        if comparable(&a, reference)? != comparable(&b, out)? {
            violations.push(Violation::new(
                &b,
                format!("differs from the uninterrupted run's {}", a.display()),
            ));
        }
    }
    Ok(())
}

/// Every problem once, in order, each record with a status.
fn check_records(
    mode: Mode,
    path: &Path,
    workload: &Workload,
    violations: &mut Vec<Violation>,
) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let status_key = if mode == Mode::Judge {
        "judge_status"
    } else {
        "status"
    };
    let mut ids = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Ok(Value::Object(r)) = serde_json::from_str::<Value>(line) else {
            violations.push(Violation::new(
                path,
                format!("line {} is not a JSON object", i + 1),
            ));
            return Ok(());
        };
        if !r.contains_key(status_key) {
            violations.push(Violation::new(
                path,
                format!("line {} has no `{status_key}`", i + 1),
            ));
        }
        ids.push(
            r.get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        );
    }
    let want: Vec<String> = (0..workload.problems).map(|i| format!("p{i:03}")).collect();
    if ids != want {
        let dup = ids.len() - ids.iter().collect::<BTreeSet<_>>().len();
        violations.push(Violation::new(
            path,
            format!(
                "{} records for {} problems ({dup} duplicated), or out of order",
                ids.len(),
                want.len()
            ),
        ));
    }
    Ok(())
}
