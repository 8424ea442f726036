//! The prompt configs and templates compiled into the crate, so `generic/math` works without
//! any file on disk, as `++prompt_config=generic/math` does in NeMo-Skills.

/// Built-in prompt configs: name (as given to `++prompt_config=`) and YAML text.
pub const CONFIGS: &[(&str, &str)] = &[
    (
        "generic/math",
        include_str!("../prompts/config/generic/math.yaml"),
    ),
    (
        "openmath/tir",
        include_str!("../prompts/config/openmath/tir.yaml"),
    ),
    (
        "judge/math",
        include_str!("../prompts/config/judge/math.yaml"),
    ),
    (
        "genselect/math",
        include_str!("../prompts/config/genselect/math.yaml"),
    ),
    (
        "gensynthesis/math",
        include_str!("../prompts/config/gensynthesis/math.yaml"),
    ),
];

/// Built-in prompt templates: name (as given to `++prompt_template=`) and YAML text.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "qwen-instruct",
        include_str!("../prompts/template/qwen-instruct.yaml"),
    ),
    (
        "openmath-instruct",
        include_str!("../prompts/template/openmath-instruct.yaml"),
    ),
];

pub(crate) fn find(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

pub(crate) fn names(table: &[(&str, &str)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}
