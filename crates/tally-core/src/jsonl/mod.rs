//! JSONL streams: reading with precise errors, crash-safe appending, atomic rewriting.
//!
//! A JSONL file written by a process that may be killed at any moment can end with a *torn* line:
//! bytes of a record without its terminating newline. Readers report such a tail instead of
//! failing ([`ReadOutcome::torn_tail`]); the [`AppendWriter`] cuts it off before appending, so a
//! resumed run never glues a new record onto half of an old one.

mod append;
mod read;

pub use append::AppendWriter;
pub use read::{read_jsonl, read_jsonl_bytes, JsonlLines, Line, LineError, ReadOutcome, TornTail};
