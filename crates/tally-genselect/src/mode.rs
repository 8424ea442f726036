//! Which parallel-thinking step runs over a window of candidates (newer NeMo-Skills'
//! `++parallel_thinking.mode`): GenSelect picks one of them, GenSynthesis writes a new solution
//! from them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// `genselect`: the model names the best candidate (`Judgment: N`).
    #[default]
    #[serde(rename = "genselect")]
    Select,
    /// `gensynthesis`: the model writes a new solution inside `<NEW_SOLUTION>…</NEW_SOLUTION>`,
    /// which is graded like any generation.
    #[serde(rename = "gensynthesis")]
    Synthesis,
}

impl Mode {
    /// NeMo-Skills' name, which also names the output subfolder, the record keys and the
    /// summary row (`genselect@k`, `gensynthesis@k`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Select => "genselect",
            Mode::Synthesis => "gensynthesis",
        }
    }

    /// The subfolder of a benchmark folder holding this mode's `output-rs<seed>.jsonl`.
    pub fn output_dir(self) -> &'static str {
        self.as_str()
    }

    /// The record key the model's text is written under.
    pub fn generation_key(self) -> &'static str {
        match self {
            Mode::Select => "genselect_generation",
            Mode::Synthesis => "gensynthesis_generation",
        }
    }

    /// The built-in prompt config of the request.
    pub fn default_prompt_config(self) -> &'static str {
        match self {
            Mode::Select => "genselect/math",
            Mode::Synthesis => "gensynthesis/math",
        }
    }

    /// The record key listing what each index of the window stands for.
    pub fn candidates_key(self) -> &'static str {
        match self {
            Mode::Select => "genselect_candidates",
            Mode::Synthesis => "gensynthesis_candidates",
        }
    }

    /// `<mode>_successful`: whether the model's answer was usable (NeMo-Skills' key).
    pub fn successful_key(self) -> &'static str {
        match self {
            Mode::Select => "genselect_successful",
            Mode::Synthesis => "gensynthesis_successful",
        }
    }

    /// The fewest candidates worth a request: a choice among one is settled, a synthesis from
    /// one is still asked for (as NeMo-Skills does).
    pub fn min_to_ask(self) -> usize {
        match self {
            Mode::Select => 2,
            Mode::Synthesis => 1,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "genselect" => Ok(Mode::Select),
            "gensynthesis" => Ok(Mode::Synthesis),
            _ => Err(format!("`{s}`: one of genselect, gensynthesis")),
        }
    }
}
