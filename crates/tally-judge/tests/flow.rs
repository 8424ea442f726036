//! Judge inputs, prefill, request rendering, record assembly, cascade and cache (§5, T12).

use serde_json::{json, Map, Value};
use tally_judge::{
    cache_key, decide, judged_record, prefilled_record, Decision, JudgeCache, JudgeError,
    JudgeInput, JudgeRequest, JudgeWhen, IDENTICAL_JUDGEMENT, NO_ANSWER_JUDGEMENT,
};
use tally_prompt::{ChatMessage, Filled, Prompt};

fn record(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn no_extract(_: &str) -> Option<String> {
    panic!("extraction must not run when predicted_answer is present")
}

fn last_boxed(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed{")? + 7;
    Some(text[start..text[start..].find('}')? + start].to_string())
}

fn input(pred: Value, expected: Value) -> JudgeInput {
    let mut r =
        record(json!({"problem": "p", "predicted_answer": pred, "expected_answer": expected}));
    JudgeInput::from_record(&mut r, 1, &no_extract).unwrap()
}

#[test]
fn prefill_follows_python_str_and_strip() {
    assert_eq!(
        input(Value::Null, json!("5")).prefill(),
        Some(NO_ANSWER_JUDGEMENT)
    );
    assert_eq!(
        input(json!(""), json!("5")).prefill(),
        Some(NO_ANSWER_JUDGEMENT)
    );
    assert_eq!(
        input(json!(5), json!("5")).prefill(),
        Some(IDENTICAL_JUDGEMENT)
    );
    assert_eq!(
        input(json!(" 5\n"), json!(5)).prefill(),
        Some(IDENTICAL_JUDGEMENT)
    );
    assert_eq!(
        input(json!("5.0"), json!(5.0)).prefill(),
        Some(IDENTICAL_JUDGEMENT)
    );
    // str(5.0) is "5.0", not "5"; 0 and " " are answers, not "no answer".
    assert_eq!(input(json!(5.0), json!("5")).prefill(), None);
    assert_eq!(input(json!("5"), json!(5.0)).prefill(), None);
    assert_eq!(input(json!(0), json!("1")).prefill(), None);
    assert_eq!(input(json!(" "), json!("1")).prefill(), None);
    assert_eq!(
        input(json!("\\frac12"), json!("\\frac{1}{2}")).prefill(),
        None
    );
}

#[test]
fn missing_predicted_answer_is_extracted_and_appended() {
    let mut r = record(
        json!({"id": 3, "generation": "so \\boxed{7}", "problem": "p", "expected_answer": "7"}),
    );
    let input = JudgeInput::from_record(&mut r, 4, &last_boxed).unwrap();
    assert_eq!(input.predicted_answer, json!("7"));
    let keys: Vec<&str> = r.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "generation",
            "problem",
            "expected_answer",
            "predicted_answer"
        ]
    );

    let mut r = record(json!({"generation": "no box", "problem": "p", "expected_answer": "7"}));
    let input = JudgeInput::from_record(&mut r, 4, &last_boxed).unwrap();
    assert_eq!(input.predicted_answer, Value::Null);
    assert_eq!(input.prefill(), Some(NO_ANSWER_JUDGEMENT));
}

#[test]
fn null_expected_answer_names_line_and_id() {
    let mut r = record(
        json!({"id": "aime-42", "problem": "p", "predicted_answer": "1", "expected_answer": null}),
    );
    let err = JudgeInput::from_record(&mut r, 7, &no_extract).unwrap_err();
    assert!(matches!(err, JudgeError::MissingExpected { line: 7, .. }));
    let message = err.to_string();
    assert!(
        message.contains("line 7") && message.contains("aime-42"),
        "{message}"
    );
}

#[test]
fn judge_request_renders_the_judge_prompt_with_python_str_values() {
    let prompt = Prompt::load("judge/math", Some("qwen-instruct")).unwrap();
    let mut r = record(
        json!({"problem": "Half of 1?", "predicted_answer": 0.5, "expected_answer": 1, "is_correct": false}),
    );
    JudgeInput::from_record(&mut r, 1, &no_extract).unwrap();
    let req = JudgeRequest::build(&prompt, &r, &[]).unwrap();
    let text = req.prompt.as_text().unwrap();
    assert!(text.starts_with("<|im_start|>system\n<|im_end|>\n<|im_start|>user\nYou will be asked"));
    assert!(
        text.ends_with("YOUR TASK\n\nProblem: Half of 1?\nPredicted answer: 0.5\nExpected answer: 1<|im_end|>\n<|im_start|>assistant\n"),
        "{text}"
    );
    assert_eq!(req.stop_phrases, ["<|im_end|>", "<|endoftext|>"]);

    let chat = Prompt::load("judge/math", None).unwrap();
    let req = JudgeRequest::build(&chat, &r, &[]).unwrap();
    let messages = req.prompt.as_messages().unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]
        .content
        .ends_with("Predicted answer: 0.5\nExpected answer: 1"));
    assert!(req.stop_phrases.is_empty());
}

#[test]
fn judged_record_puts_judge_keys_first_and_drops_shadowed_input_keys() {
    let input = record(json!({
        "num_generated_tokens": 812, "generation": "solver text \\boxed{2}",
        "id": 1, "subset_for_metrics": "x", "problem": "p", "expected_answer": "2",
        "predicted_answer": "2.0", "is_correct": false
    }));
    let output = record(
        json!({"num_generated_tokens": 31, "generation": "Reasoning: same.\nJudgement: Yes"}),
    );
    let judged = judged_record(output, input, "judgement").unwrap();
    assert_eq!(
        serde_json::to_string(&judged).unwrap(),
        r#"{"num_generated_tokens":31,"judgement":"Reasoning: same.\nJudgement: Yes","generation":"solver text \\boxed{2}","id":1,"subset_for_metrics":"x","problem":"p","expected_answer":"2","predicted_answer":"2.0","is_correct":false}"#
    );

    let trtllm = record(
        json!({"num_generated_tokens": 5, "generation_time": 0.5, "tokens": null, "generation": "J"}),
    );
    let judged = judged_record(
        trtllm,
        record(json!({"generation_time": 9.0, "a": 1})),
        "judgement",
    )
    .unwrap();
    let keys: Vec<&str> = judged.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "num_generated_tokens",
            "generation_time",
            "tokens",
            "judgement",
            "a"
        ]
    );
    assert_eq!(judged["generation_time"], json!(0.5));

    let err = judged_record(record(json!({"x": 1})), Map::new(), "judgement").unwrap_err();
    assert!(err.to_string().contains("generation"), "{err}");
}

#[test]
fn prefilled_record_is_judgement_then_input() {
    let input = record(json!({"num_generated_tokens": 812, "id": 1, "predicted_answer": null}));
    let out = prefilled_record(NO_ANSWER_JUDGEMENT, input, "judgement");
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"judgement":"Reasoning: No answer was provided.\nJudgement: No","num_generated_tokens":812,"id":1,"predicted_answer":null}"#
    );
    // Python's {"judgement": new, **input} keeps the key first but the input's value wins.
    let rejudged = prefilled_record(
        IDENTICAL_JUDGEMENT,
        record(json!({"a": 1, "judgement": "old"})),
        "judgement",
    );
    assert_eq!(
        serde_json::to_string(&rejudged).unwrap(),
        r#"{"judgement":"old","a":1}"#
    );
}

#[test]
fn cascade_undecided_asks_only_what_the_grader_could_not_decide() {
    let case = |is_correct: Option<Value>, grade_status: Option<&str>| {
        let mut r =
            record(json!({"problem": "p", "predicted_answer": "two", "expected_answer": "2"}));
        if let Some(v) = is_correct {
            r.insert("is_correct".into(), v);
        }
        if let Some(s) = grade_status {
            r.insert("grade_status".into(), json!(s));
        }
        let input = JudgeInput::from_record(&mut r, 1, &no_extract).unwrap();
        decide(&r, &input, JudgeWhen::Undecided)
    };
    assert_eq!(case(Some(json!(false)), Some("undecided")), Decision::Ask);
    assert_eq!(
        case(Some(json!(false)), Some("not_equal")),
        Decision::SkipSymbolicWrong
    );
    assert_eq!(
        case(Some(json!(true)), Some("equal")),
        Decision::SkipSymbolicCorrect
    );
    // A verdict kept from another grader (`cached`) stands too; no verdict at all is asked.
    assert_eq!(
        case(Some(json!(false)), Some("cached")),
        Decision::SkipSymbolicWrong
    );
    assert_eq!(case(None, None), Decision::Ask);
    assert_eq!(case(Some(Value::Null), None), Decision::Ask);
    let judged = Decision::SkipSymbolicWrong.judgement().unwrap();
    assert_eq!(
        tally_judge::parse_verdict(judged, tally_judge::ParseMode::Compat),
        tally_judge::Verdict::No
    );
    assert_eq!(
        tally_judge::parse_verdict(judged, tally_judge::ParseMode::Default),
        tally_judge::Verdict::No
    );
}

#[test]
fn cascade_asks_only_where_symbolic_says_no_and_an_answer_exists() {
    let case = |pred: Value, is_correct: Option<Value>, when| {
        let mut r =
            record(json!({"problem": "p", "predicted_answer": pred, "expected_answer": "1/2"}));
        if let Some(v) = is_correct {
            r.insert("is_correct".into(), v);
        }
        let input = JudgeInput::from_record(&mut r, 1, &no_extract).unwrap();
        decide(&r, &input, when)
    };
    use JudgeWhen::{Always, SymbolicFalse};
    assert_eq!(
        case(json!("0.5"), Some(json!(true)), SymbolicFalse),
        Decision::SkipSymbolicCorrect
    );
    assert_eq!(
        case(json!("0.5"), Some(json!(false)), SymbolicFalse),
        Decision::Ask
    );
    assert_eq!(
        case(json!("0.5"), Some(Value::Null), SymbolicFalse),
        Decision::Ask
    );
    assert_eq!(case(json!("0.5"), None, SymbolicFalse), Decision::Ask);
    assert_eq!(case(json!("0.5"), Some(json!(true)), Always), Decision::Ask);
    assert_eq!(
        case(Value::Null, Some(json!(false)), SymbolicFalse),
        Decision::Prefill(NO_ANSWER_JUDGEMENT)
    );
    assert_eq!(
        case(json!("1/2"), Some(json!(false)), Always),
        Decision::Prefill(IDENTICAL_JUDGEMENT)
    );
    assert_eq!(Decision::Ask.judgement(), None);
    assert!(Decision::SkipSymbolicCorrect
        .judgement()
        .unwrap()
        .ends_with("Judgement: Yes"));
}

#[test]
fn cache_key_covers_model_prompt_and_params_but_not_key_order() {
    let text = Filled::Text("Judge this".into());
    let params = json!({"temperature": 0.0, "tokens_to_generate": 2048, "random_seed": 0});
    let base = cache_key("qwen-32b", &text, &params);
    assert_eq!(base.len(), 64);
    let reordered = json!({"random_seed": 0, "tokens_to_generate": 2048, "temperature": 0.0});
    assert_eq!(base, cache_key("qwen-32b", &text, &reordered));
    assert_ne!(base, cache_key("qwen-72b", &text, &params));
    assert_ne!(
        base,
        cache_key("qwen-32b", &Filled::Text("Judge this!".into()), &params)
    );
    assert_ne!(
        base,
        cache_key(
            "qwen-32b",
            &text,
            &json!({"temperature": 0.6, "tokens_to_generate": 2048, "random_seed": 0})
        )
    );
    let chat = Filled::Messages(vec![ChatMessage::new("user", "Judge this")]);
    assert_ne!(base, cache_key("qwen-32b", &chat, &params));
    // Field boundaries are part of the key: moving bytes between parts changes it.
    assert_ne!(
        cache_key("ab", &Filled::Text("c".into()), &params),
        cache_key("a", &Filled::Text("bc".into()), &params)
    );
}

#[test]
fn cache_round_trip_and_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache/judge.jsonl");
    let out1 = record(json!({"num_generated_tokens": 3, "generation": "Judgement: Yes"}));
    let out2 = record(json!({"generation": "Judgement: No"}));
    {
        let mut cache = JudgeCache::open(&path).unwrap();
        assert!(cache.is_empty());
        cache.insert("k1".into(), out1.clone()).unwrap();
        cache.insert("k2".into(), out2.clone()).unwrap();
    }
    // A writer killed mid-line leaves a torn tail.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"key\": \"k3\", \"outp");
    std::fs::write(&path, &bytes).unwrap();
    {
        let mut cache = JudgeCache::open(&path).unwrap();
        assert_eq!(cache.repaired_bytes(), 19);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("k1"), Some(&out1));
        assert_eq!(cache.get("k2"), Some(&out2));
        assert!(cache.get("k3").is_none());
        cache.insert("k3".into(), out2.clone()).unwrap();
    }
    let cache = JudgeCache::open(&path).unwrap();
    assert_eq!((cache.len(), cache.repaired_bytes()), (3, 0));
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
}

#[test]
fn cache_keeps_a_complete_unterminated_line_and_rejects_a_bad_middle_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    std::fs::write(
        &path,
        "{\"key\": \"a\", \"output\": {\"generation\": \"x\"}}",
    )
    .unwrap();
    {
        let mut cache = JudgeCache::open(&path).unwrap();
        assert_eq!((cache.len(), cache.repaired_bytes()), (1, 0));
        cache
            .insert("b".into(), record(json!({"generation": "y"})))
            .unwrap();
    }
    assert_eq!(JudgeCache::open(&path).unwrap().len(), 2);

    std::fs::write(
        &path,
        "{\"key\": \"a\", \"output\": {}}\nnot json\n{\"key\": \"b\", \"output\": {}}\n",
    )
    .unwrap();
    let err = JudgeCache::open(&path).unwrap_err();
    assert!(
        matches!(err, JudgeError::CacheLine { line: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("c.jsonl"), "{err}");
}
