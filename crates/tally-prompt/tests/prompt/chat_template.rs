//! HF chat templates from tokenizer configs and model directories, rendered as transformers
//! renders them (trim_blocks, lstrip_blocks, Python string methods, `tojson`, helpers).

use indexmap::IndexMap;
use serde_json::json;
use tally_prompt::{ChatMessage, ChatTemplate, PromptError, RenderOptions};

fn fixture(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/prompts/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

fn chatml() -> ChatTemplate {
    ChatTemplate::from_tokenizer_config(
        &fixture("chatml-tokenizer_config.json"),
        "chatml-tokenizer_config.json",
        None,
    )
    .unwrap()
}

fn gen_prompt() -> RenderOptions {
    RenderOptions {
        add_generation_prompt: true,
        ..Default::default()
    }
}

#[test]
fn chatml_template_renders_a_conversation() {
    let t = chatml();
    let messages = [
        ChatMessage::new("system", " Be terse. \n"),
        ChatMessage::new("user", "2+2?"),
        ChatMessage::new("assistant", "<think>hmm</think>\n\n4"),
        ChatMessage::new("user", "and 3+3?"),
    ];
    let want = "<|im_start|>system\nBe terse.<|im_end|>\n\
                <|im_start|>user\n2+2?<|im_end|>\n\
                <|im_start|>assistant\n4<|im_end|>\n\
                <|im_start|>user\nand 3+3?<|im_end|>\n\
                <|im_start|>assistant\n";
    assert_eq!(t.render(&messages, &gen_prompt()).unwrap(), want);
}

#[test]
fn chatml_template_injects_its_default_system_and_python_style_tool_json() {
    let t = chatml();
    let options = RenderOptions {
        add_generation_prompt: false,
        extra: json!({"tools": [{"type": "function", "function": {"name": "add", "parameters": {"a": 1}}}]})
            .as_object()
            .unwrap()
            .clone(),
    };
    let want = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n\
                <|im_start|>system\n# Tools\n\
                {\"type\": \"function\", \"function\": {\"name\": \"add\", \"parameters\": {\"a\": 1}}}\n\
                <|im_end|>\n<|im_start|>user\nhi<|im_end|>\n";
    assert_eq!(
        t.render(&[ChatMessage::new("user", "hi")], &options)
            .unwrap(),
        want
    );
}

#[test]
fn special_tokens_come_from_strings_and_added_token_objects() {
    let t = chatml();
    assert_eq!(
        t.special_tokens().get("eos_token").map(String::as_str),
        Some("<|im_end|>")
    );
    assert_eq!(
        t.special_tokens().get("pad_token").map(String::as_str),
        Some("<|endoftext|>")
    );
    assert!(
        t.special_tokens().get("bos_token").is_none(),
        "null bos_token"
    );
}

#[test]
fn raise_exception_becomes_an_error_naming_the_origin() {
    let err = chatml()
        .render(&[ChatMessage::new("tool", "{}")], &gen_prompt())
        .unwrap_err();
    let PromptError::ChatTemplateRender { origin, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(origin, "chatml-tokenizer_config.json");
    assert!(message.contains("Unknown role: tool"), "{message}");
}

#[test]
fn named_templates_are_chosen_by_name() {
    let text = fixture("named-templates-tokenizer_config.json");
    let default = ChatTemplate::from_tokenizer_config(&text, "named", None).unwrap();
    assert_eq!(
        default
            .render(&[ChatMessage::new("user", "hi")], &gen_prompt())
            .unwrap(),
        "<s>[USER] hi\n[ASSISTANT] "
    );
    let tool_use = ChatTemplate::from_tokenizer_config(&text, "named", Some("tool_use")).unwrap();
    let options = RenderOptions {
        add_generation_prompt: false,
        extra: json!({"tools": [{"name": "f", "args": ["x"]}]})
            .as_object()
            .unwrap()
            .clone(),
    };
    assert_eq!(
        tool_use.render(&[ChatMessage::new("user", "hi")], &options).unwrap(),
        "<s>TOOLS=[\n  {\n    \"name\": \"f\",\n    \"args\": [\n      \"x\"\n    ]\n  }\n]\nhi</s>"
    );
    let err = ChatTemplate::from_tokenizer_config(&text, "named", Some("rag")).unwrap_err();
    assert!(
        err.to_string().contains("'rag'") && err.to_string().contains("tool_use"),
        "{err}"
    );
}

#[test]
fn strftime_now_follows_the_fixed_clock() {
    let t = ChatTemplate::new(
        "Today Date: {{ strftime_now('%d %b %Y') }}{{ eos_token }}",
        "inline",
        IndexMap::from([("eos_token".to_string(), "</s>".to_string())]),
    )
    .unwrap()
    .with_fixed_time(1_721_999_109)
    .unwrap();
    assert_eq!(
        t.render(&[], &RenderOptions::default()).unwrap(),
        "Today Date: 26 Jul 2024</s>"
    );
}

#[test]
fn a_model_dir_prefers_chat_template_jinja() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tokenizer_config.json"),
        r#"{"chat_template": "old", "eos_token": "<eos>"}"#,
    )
    .unwrap();
    let t = ChatTemplate::from_model_dir(dir.path(), None).unwrap();
    assert_eq!(t.render(&[], &RenderOptions::default()).unwrap(), "old");
    std::fs::write(
        dir.path().join("chat_template.jinja"),
        "new{{ eos_token }}\n",
    )
    .unwrap();
    let t = ChatTemplate::from_model_dir(dir.path(), None).unwrap();
    // keep_trailing_newline is off in transformers too: the file's final newline is dropped.
    assert_eq!(
        t.render(&[], &RenderOptions::default()).unwrap(),
        "new<eos>"
    );
}

#[test]
fn a_broken_template_is_reported_at_load() {
    let err =
        ChatTemplate::new("{% for m in messages %}", "broken.json", IndexMap::new()).unwrap_err();
    assert!(err.to_string().contains("broken.json"), "{err}");
    let err = ChatTemplate::from_tokenizer_config("{\"eos_token\": \"x\"}", "cfg.json", None)
        .unwrap_err();
    assert!(
        err.to_string().contains("cfg.json") && err.to_string().contains("chat_template"),
        "{err}"
    );
}
