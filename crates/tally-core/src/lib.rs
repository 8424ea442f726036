//! Tally's foundation: the records every stage reads and writes, and the file primitives that make
//! the pipeline crash-safe.
//!
//! Every stage of Tally (prepare, generate, grade, judge, summarize) exchanges JSONL files that
//! NeMo-Skills users already know: one JSON object per line, fields in NeMo-Skills' order. This
//! crate holds what all stages share:
//!
//! - [`record`]: the [`Status`] saying how each sample ended (a failed request is a status,
//!   never an empty answer);
//! - [`jsonl`]: a reader that names the file and line of every bad line and tolerates (and
//!   reports) a torn last line, an append-only writer that flushes and fsyncs at safe points and
//!   repairs a torn tail before appending, and an atomic rewrite (temporary file + rename);
//! - [`pyjson`]: a serializer that writes exactly what Python's `json.dumps` writes, so files and
//!   `metrics.json` are byte-compatible with NeMo-Skills;
//! - [`overrides`]: Hydra-style `++key=value` arguments (later ones win) and [`benchmarks`]: the
//!   `name:N[,name:N]` syntax of `--benchmarks`;
//! - [`progress`]: the [`Reporter`] trait through which libraries report progress; binaries draw;
//! - [`server_type`]: [`ServerType`], NeMo-Skills' `--server_type` (plus Tally's `llamacpp`,
//!   `generic` and `local`), shared by the backend, the launcher and the pipeline.
//!
//! ```
//! use tally_core::benchmarks::parse_benchmarks;
//! use tally_core::overrides::Overrides;
//!
//! let specs = parse_benchmarks("comp-math-24-25:64,aime24:8").unwrap();
//! assert_eq!(specs[0].name, "comp-math-24-25");
//! assert_eq!(specs[1].samples, 8);
//!
//! let ov = Overrides::parse(["++inference.temperature=0.7", "++inference.temperature=0.6"]).unwrap();
//! assert_eq!(ov.get("inference.temperature").unwrap().as_f64(), Some(0.6));
//! ```

pub mod atomic;
pub mod benchmarks;
pub mod error;
pub mod jsonl;
pub mod judgement;
pub mod lock;
pub mod overrides;
pub mod progress;
pub mod pyjson;
pub mod record;
pub mod rng;
pub mod server_type;
pub mod shell;

pub use error::CoreError;
pub use lock::{LockError, OutputLock};
pub use progress::{NoopReporter, Reporter};
pub use record::Status;
pub use rng::SplitMix64;
pub use server_type::{ServerType, UnknownServerType};
