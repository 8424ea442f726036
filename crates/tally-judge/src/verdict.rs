//! Verdict parsing lives in `tally_core::judgement` (the summary reads verdicts too); re-exported
//! here so judge users find it where they expect it.

pub use tally_core::judgement::{is_correct_judgement_compat, parse_verdict, ParseMode, Verdict};
