use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn tally() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tally"))
}

/// `../shared` beside the repository (or `$TALLY_SHARED_DIR`).
pub fn shared() -> PathBuf {
    let p = std::env::var_os("TALLY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("bench").is_dir(),
        "the shared data folder is missing at {} (set TALLY_SHARED_DIR)",
        p.display()
    );
    p
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tally")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes one JSONL file of records.
pub fn write_jsonl(path: &Path, rows: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Compares two JSON documents: same keys in the same order, numbers within `tol`.
pub fn assert_json_close(got: &Value, want: &Value, tol: f64, at: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let gk: Vec<_> = g.keys().collect();
            let wk: Vec<_> = w.keys().collect();
            assert_eq!(gk, wk, "keys differ at {at}");
            for (k, wv) in w {
                assert_json_close(&g[k], wv, tol, &format!("{at}.{k}"));
            }
        }
        (Value::Number(g), Value::Number(w)) => {
            assert_eq!(
                g.is_f64(),
                w.is_f64(),
                "{at}: integer vs float ({g} vs {w})"
            );
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= tol, "{at}: {g} vs {w}");
        }
        (g, w) => assert_eq!(g, w, "at {at}"),
    }
}
