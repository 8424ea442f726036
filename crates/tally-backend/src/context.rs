//! Recognising "prompt + max_tokens exceed the context" replies and computing a smaller budget.
//!
//! NeMo-Skills' OpenAI client retries such a 400 once with a reduced `max_tokens` (spec §8.2). The
//! servers word it differently, so this reads the numbers out of every known phrasing:
//! - OpenAI, older vLLM: "This model's maximum context length is 4096 tokens. However, you
//!   requested 5000 tokens (1000 in the messages, 4000 in the completion)."
//! - newer vLLM: "… maximum context length is 4096 tokens and your request has 1000 input tokens"
//! - llama.cpp: `{"error": {"type": "exceed_context_size_error", "n_prompt_tokens": 5000,
//!   "n_ctx": 4096, …}}` (only when the prompt alone is too long, so no retry helps).

/// Whether a 4xx body says the context was exceeded.
pub(crate) fn is_context_error(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("maximum context length")
        || b.contains("context_length_exceeded")
        || b.contains("exceed_context_size")
        || b.contains("exceeds the available context size")
        || b.contains("context length exceeded")
}

/// The `max_tokens` that would fit, if the body says how large the context and the prompt are
/// and that is smaller than `requested` yet positive.
pub(crate) fn reduced_max_tokens(body: &str, requested: u32) -> Option<u32> {
    let context = number_after(body, "maximum context length is ")
        .or_else(|| number_after(body, "\"n_ctx\":"))?;
    let prompt = number_before(body, " in the messages")
        .or_else(|| number_before(body, " in the prompt"))
        .or_else(|| number_after(body, "your request has "))
        .or_else(|| number_after(body, "\"n_prompt_tokens\":"))?;
    let fits = context.checked_sub(prompt)?;
    let fits = u32::try_from(fits).ok()?;
    (fits > 0 && fits < requested).then_some(fits)
}

/// The human-readable message of an error body (`error.message`, `message`), else the body.
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let msg = v
            .pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(|m| m.as_str());
        if let Some(m) = msg {
            return m.to_string();
        }
    }
    snippet(body)
}

/// The first 500 characters of a body, for error messages.
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 500;
    match body.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_string(),
    }
}

fn number_after(hay: &str, needle: &str) -> Option<u64> {
    let start = hay.find(needle)? + needle.len();
    let rest = hay[start..].trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

fn number_before(hay: &str, needle: &str) -> Option<u64> {
    let end = hay.find(needle)?;
    let head = hay[..end].trim_end();
    let start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    head[start..].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_phrasing() {
        let b = r#"{"error":{"message":"This model's maximum context length is 4097 tokens. However, you requested 4200 tokens (200 in the messages, 4000 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        assert!(is_context_error(b));
        assert_eq!(reduced_max_tokens(b, 4000), Some(3897));
        assert!(error_message(b).starts_with("This model's maximum context length"));
    }

    #[test]
    fn vllm_new_phrasing() {
        let b = r#"{"object":"error","message":"'max_tokens' is too large: 4000. This model's maximum context length is 4096 tokens and your request has 1000 input tokens (4000 > 4096 - 1000).","type":"BadRequestError","code":400}"#;
        assert!(is_context_error(b));
        assert_eq!(reduced_max_tokens(b, 4000), Some(3096));
    }

    #[test]
    fn prompt_alone_too_long_gives_no_retry() {
        let b = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#;
        assert!(is_context_error(b));
        assert_eq!(reduced_max_tokens(b, 100), None);
        let b = "maximum context length is 4096 tokens. However, you requested 4100 tokens (4096 in the messages, 4 in the completion)";
        assert_eq!(reduced_max_tokens(b, 4), None);
    }

    #[test]
    fn unrelated_errors_are_not_context_errors() {
        assert!(!is_context_error(
            r#"{"error":{"message":"model not found"}}"#
        ));
        assert_eq!(reduced_max_tokens("model not found", 10), None);
    }

    #[test]
    fn snippet_cuts_long_bodies_on_char_boundaries() {
        let long = "é".repeat(600);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), 501);
    }
}
