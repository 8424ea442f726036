//! Byte-exact renderings from the spec (§2.4, §5) and the resolution/few-shot rules (§2.1).

use serde_json::{json, Map, Value};
use tally_prompt::{ChatMessage, ExampleSets, Filled, Prompt, PromptConfig, PromptError};

const PROBLEM: &str = "Find $x$ if $2x+3=7$. Use {braces} and }{ raw.";

fn record(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn text(p: &Prompt, r: &Map<String, Value>) -> String {
    p.fill(r).unwrap().as_text().unwrap().to_string()
}

fn fixture(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/prompts/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

#[test]
fn cot_prompt_with_qwen_instruct_is_byte_exact() {
    let p = Prompt::load("generic/math", Some("qwen-instruct")).unwrap();
    let want = "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n\
        Solve the following math problem. Make sure to put the answer (and only answer) inside \\boxed{}.\n\n"
        .to_string()
        + PROBLEM
        + "<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(
        text(&p, &record(json!({"problem": PROBLEM, "id": 3}))),
        want
    );
}

#[test]
fn tir_prompt_with_eight_executions_is_byte_exact() {
    let p = Prompt::load("openmath/tir", Some("openmath-instruct")).unwrap();
    let r = record(json!({"problem": PROBLEM, "total_code_executions": 8}));
    let want = "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n\
        Solve the following math problem, integrating natural language reasoning with Python code executions.\n\
        You may perform up to 8 Python code calls to assist your reasoning.\n\
        Make sure to put the answer (and only answer) inside \\boxed{}.\n\n"
        .to_string()
        + PROBLEM
        + "<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(text(&p, &r), want);
    let tags = p.code_tags().unwrap();
    assert_eq!(
        (tags.code_begin.as_str(), tags.code_end.as_str()),
        ("<tool_call>\n", "</tool_call>\n")
    );
}

#[test]
fn tir_without_total_code_executions_names_the_key_and_config() {
    let p = Prompt::load("openmath/tir", Some("qwen-instruct")).unwrap();
    let err = p.fill(&record(json!({"problem": "1+1"}))).unwrap_err();
    match &err {
        PromptError::MissingKey { key, context } => {
            assert_eq!(key, "total_code_executions");
            assert!(context.contains("openmath/tir"), "{context}");
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn judge_prompt_with_qwen_instruct_is_byte_exact() {
    // The fixture is the spec's rendered judge text with its three placeholders left in.
    let user = fixture("judge-math-user.txt")
        .replace("{problem}", "What is $1/2$?")
        .replace("{predicted_answer}", "0.5")
        .replace("{expected_answer}", "\\frac{1}{2}");
    assert!(
        user.contains("\\text{B)} &  7 x^{2}"),
        "fixture lost its double space"
    );
    let want = format!(
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    );
    let p = Prompt::load("judge/math", Some("qwen-instruct")).unwrap();
    let r = record(json!({
        "problem": "What is $1/2$?",
        "expected_answer": "\\frac{1}{2}",
        "predicted_answer": 0.5,
    }));
    assert_eq!(text(&p, &r), want);
}

#[test]
fn chat_mode_sends_only_a_user_message_when_system_is_empty() {
    let p = Prompt::load("judge/math", None).unwrap();
    let r = record(json!({"problem": "p", "expected_answer": "1", "predicted_answer": "2"}));
    let Filled::Messages(messages) = p.fill(&r).unwrap() else {
        panic!("chat mode must give messages")
    };
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].role, "user");
    assert!(messages[0]
        .content
        .ends_with("Problem: p\nPredicted answer: 2\nExpected answer: 1"));

    let mut config = PromptConfig::load("generic/math").unwrap();
    config.system = "Be brief about {problem}.".into();
    let p = Prompt::new(config, None);
    let Filled::Messages(messages) = p.fill(&record(json!({"problem": "2+2"}))).unwrap() else {
        panic!()
    };
    // NeMo-Skills sends the chat-mode system text as written, without filling it.
    assert_eq!(
        messages[0],
        ChatMessage::new("system", "Be brief about {problem}.")
    );
    assert_eq!(messages[1].role, "user");
}

#[test]
fn stop_phrases_are_template_then_extra() {
    let extra = vec!["</s>".to_string()];
    let p = Prompt::load("generic/math", Some("qwen-instruct")).unwrap();
    assert_eq!(
        p.stop_phrases(&extra),
        ["<|im_end|>", "<|endoftext|>", "</s>"]
    );
    let chat = Prompt::load("generic/math", None).unwrap();
    assert_eq!(chat.stop_phrases(&extra), ["</s>"]);
    assert!(chat.stop_phrases(&[]).is_empty());
}

#[test]
fn a_value_ending_in_yaml_is_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mine.yaml");
    std::fs::write(&cfg, "user: |-\n  Q: {question}\n  A:\n").unwrap();
    let tpl = dir.path().join("plain.yaml");
    std::fs::write(
        &tpl,
        "text_begin: '<s>'\nsystem_begin: '[S]'\nsystem_end: '[/S]'\nuser_begin: '[U]'\nuser_end: '[/U]'\n\
         assistant_begin: '[A]'\nassistant_end: '[/A]'\nstop_phrases: ['[/A]']\n",
    )
    .unwrap();
    let p = Prompt::load(cfg.to_str().unwrap(), Some(tpl.to_str().unwrap())).unwrap();
    assert_eq!(
        text(&p, &record(json!({"question": "why?"}))),
        "<s>[S][/S][U]Q: why?\nA:[/U][A]"
    );
    // Defaults of the code tags apply when a template leaves them out.
    assert_eq!(p.code_tags().unwrap().code_begin, "<llm-code>");
    assert_eq!(p.code_tags().unwrap().code_output_format, "qwen");

    let missing = dir.path().join("nope.yaml");
    let err = Prompt::load(missing.to_str().unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("nope.yaml"), "{err}");
    let err = Prompt::load("generic/nope", None).unwrap_err();
    assert!(err.to_string().contains("generic/nope"), "{err}");
    assert!(
        err.to_string().contains("generic/math"),
        "lists the built-ins: {err}"
    );
}

#[test]
fn a_config_with_a_misspelt_key_is_rejected_with_its_name() {
    let err = PromptConfig::from_yaml("usr: hi\n", "cfg/typo.yaml").unwrap_err();
    assert!(err.to_string().contains("cfg/typo.yaml"), "{err}");
}

fn math_examples() -> ExampleSets {
    let mut sets = ExampleSets::new();
    sets.insert(
        "toy",
        vec![
            record(json!({"problem": "1+1", "solution": "\\boxed{2}"})),
            record(json!({"problem": "2+2", "solution": "\\boxed{4}"})),
        ],
    );
    sets
}

#[test]
fn few_shot_block_is_prefix_examples_suffix() {
    let p = Prompt::load("generic/math", Some("qwen-instruct"))
        .unwrap()
        .with_example_sets(math_examples())
        .with_examples_type(Some("toy".into()));
    let user = p.user_message(&record(json!({"problem": "3+3"}))).unwrap();
    let want = "Solve the following math problem. Make sure to put the answer (and only answer) inside \\boxed{}.\n\n\
        Here are some examples of problems and solutions you can refer to.\n\n\
        Problem:\n1+1\n\nSolution:\n\\boxed{2}\n\n\n\n\n\n\
        Problem:\n2+2\n\nSolution:\n\\boxed{4}\n\n\n\n\n\n\
        Here is the problem you need to solve:\n3+3";
    assert_eq!(user, want);

    // Without an examples type the block is empty.
    let plain = Prompt::load("generic/math", None)
        .unwrap()
        .with_example_sets(math_examples());
    assert!(plain
        .user_message(&record(json!({"problem": "3+3"})))
        .unwrap()
        .ends_with("}.\n\n3+3"));

    let unknown = Prompt::load("generic/math", None)
        .unwrap()
        .with_examples_type(Some("missing_set".into()));
    let err = unknown
        .user_message(&record(json!({"problem": "x"})))
        .unwrap_err();
    assert!(err.to_string().contains("missing_set"), "{err}");
}

#[test]
fn few_shot_solutions_get_the_template_code_tags() {
    let mut sets = ExampleSets::new();
    sets.insert(
        "tir_{subject}",
        vec![record(json!({
            "problem": "p",
            "solution": "Try:\n{code_begin}print(1+1){code_end}{code_output_begin}\n2\n{code_output_end}So 2."
        }))],
    );
    let p = Prompt::load("generic/math", Some("qwen-instruct"))
        .unwrap()
        .with_example_sets(sets)
        .with_examples_type(Some("tir_{subject}".into()));
    let user = p
        .user_message(&record(json!({"problem": "q", "subject": "algebra"})))
        .unwrap_err();
    // The set name is formatted from the record first: 'tir_algebra' does not exist.
    assert!(user.to_string().contains("tir_algebra"), "{user}");

    let mut sets = ExampleSets::new();
    sets.insert(
        "tir_algebra",
        vec![record(json!({
            "problem": "p",
            "solution": "Try:\n{code_begin}print(1+1){code_end}{code_output_begin}\n2\n{code_output_end}So 2."
        }))],
    );
    let p = p.with_example_sets(sets);
    let user = p
        .user_message(&record(json!({"problem": "q", "subject": "algebra"})))
        .unwrap();
    assert!(
        user.contains("Solution:\nTry:\n```python\nprint(1+1)```\n```output\n2\n```\nSo 2.\n"),
        "{user}"
    );
}

#[test]
fn an_examples_field_in_the_record_is_refused() {
    let p = Prompt::load("generic/math", None).unwrap();
    let err = p
        .user_message(&record(json!({"problem": "x", "examples": "y"})))
        .unwrap_err();
    assert!(matches!(err, PromptError::ExamplesKeyTaken { .. }));
}

#[test]
fn content_hash_follows_content_not_origin() {
    let builtin = Prompt::load("generic/math", Some("qwen-instruct")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("math.yaml");
    std::fs::write(&copy, tally_prompt::builtin::CONFIGS[0].1).unwrap();
    let from_path = Prompt::load(copy.to_str().unwrap(), Some("qwen-instruct")).unwrap();
    assert_eq!(builtin.content_hash(), from_path.content_hash());

    let other_template = Prompt::load("generic/math", Some("openmath-instruct")).unwrap();
    assert_ne!(builtin.content_hash(), other_template.content_hash());
    let chat = Prompt::load("generic/math", None).unwrap();
    assert_ne!(builtin.content_hash(), chat.content_hash());
    let mut config = PromptConfig::load("generic/math").unwrap();
    config.user.push(' ');
    let edited = Prompt::new(config, builtin.template().cloned());
    assert_ne!(builtin.content_hash(), edited.content_hash());
    let with_examples = builtin.clone().with_example_sets(math_examples());
    assert_ne!(builtin.content_hash(), with_examples.content_hash());

    // The hash is sha256 over the documented canonical JSON.
    use sha2::Digest;
    let canonical = builtin.canonical_json();
    assert!(canonical
        .starts_with("{\"format\":\"tally-prompt/1\",\"config\":{\"system\":\"\",\"user\":"));
    assert_eq!(
        builtin.content_hash(),
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    );
    assert_eq!(builtin.content_hash().len(), 64);
}
