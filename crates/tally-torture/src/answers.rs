//! Deterministic model answers: the same request content always gets the same reply.
//!
//! Problems of the harness's data sets read "What is A + B?"; the answer is right, wrong, without
//! a box, or cut at the token budget, chosen by a hash of (prompt, seed, temperature), so seeds
//! differ and majority votes have something to do. A judge prompt (it ends with "Predicted
//! answer: …" / "Expected answer: …") is answered "Judgement: Yes" when the two strings match
//! and by the hash otherwise.

use serde_json::{json, Value};
use tally_core::SplitMix64;

/// What the "model" says.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub finish_reason: &'static str,
    pub completion_tokens: u64,
    pub prompt_tokens: u64,
}

impl Reply {
    /// The body of an OpenAI completion (or chat completion) answer.
    pub fn to_openai(&self, chat: bool) -> Value {
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": self.text},
                   "finish_reason": self.finish_reason, "logprobs": null})
        } else {
            json!({"index": 0, "text": self.text, "finish_reason": self.finish_reason,
                   "logprobs": null})
        };
        json!({
            "id": "cmpl-torture",
            "object": if chat { "chat.completion" } else { "text_completion" },
            "created": 0,
            "model": "fault-model",
            "choices": [choice],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
            }
        })
    }
}

/// The prompt text of a completion or chat request.
fn prompt_text(body: &Value) -> String {
    if let Some(p) = body.get("prompt").and_then(Value::as_str) {
        return p.to_string();
    }
    let mut out = String::new();
    if let Some(ms) = body.get("messages").and_then(Value::as_array) {
        for m in ms {
            if let Some(c) = m.get("content").and_then(Value::as_str) {
                out.push_str(c);
                out.push('\n');
            }
        }
    }
    out
}

/// FNV-1a: stable across builds and platforms (std's hasher is not promised to be).
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `A + B` from the last "What is A + B?" in the prompt.
fn addition(prompt: &str) -> Option<(i64, i64)> {
    let at = prompt.rfind("What is ")?;
    let rest = &prompt[at + 8..];
    let (a, rest) = rest.split_once(" + ")?;
    let b: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((a.trim().parse().ok()?, b.parse().ok()?))
}

fn last_field<'a>(prompt: &'a str, name: &str) -> Option<&'a str> {
    let at = prompt.rfind(name)?;
    Some(prompt[at + name.len()..].lines().next()?.trim())
}

/// The reply to a request body.
pub fn reply_for(body: &Value) -> Reply {
    let prompt = prompt_text(body);
    let seed = body.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let temperature = body
        .get("temperature")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let max_tokens = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(2048)
        .max(1);
    let mut key = prompt.clone().into_bytes();
    key.extend_from_slice(&seed.to_le_bytes());
    key.extend_from_slice(&temperature.to_bits().to_le_bytes());
    let mut rng = SplitMix64::new(fnv(&key));
    let prompt_tokens = (prompt.len() as u64).div_ceil(4);

    if prompt.contains("Judgement:") {
        let same = match (
            last_field(&prompt, "Predicted answer:"),
            last_field(&prompt, "Expected answer:"),
        ) {
            (Some(p), Some(e)) => p == e,
            _ => false,
        };
        let yes = same || rng.below(3) == 0;
        let text = format!(
            "The two answers {} the same.\nJudgement: {}",
            if yes { "are" } else { "are not" },
            if yes { "Yes" } else { "No" }
        );
        return finish(text, max_tokens, prompt_tokens);
    }

    let Some((a, b)) = addition(&prompt) else {
        return finish(
            "I do not know what is asked.".to_string(),
            max_tokens,
            prompt_tokens,
        );
    };
    let roll = rng.below(100);
    let text = match roll {
        0..=59 => format!(
            "Adding {a} and {b} gives {}.\nThe answer is $\\boxed{{{}}}$.",
            a + b,
            a + b
        ),
        60..=79 => {
            let wrong = a + b + 1 + rng.below(5) as i64;
            format!("{a} plus {b} is {wrong}, so the answer is $\\boxed{{{wrong}}}$.")
        }
        80..=87 => format!("The sum of {a} and {b} is probably {}.", a + b),
        _ => {
            // Rambles past any budget: cut at max_tokens words.
            let words: Vec<String> = (0..max_tokens + 5).map(|i| format!("w{i}")).collect();
            return Reply {
                text: words[..max_tokens as usize].join(" "),
                finish_reason: "length",
                completion_tokens: max_tokens,
                prompt_tokens,
            };
        }
    };
    finish(text, max_tokens, prompt_tokens)
}

/// Cuts a reply at `max_tokens` words (one word = one token here).
fn finish(text: String, max_tokens: u64, prompt_tokens: u64) -> Reply {
    let words: Vec<&str> = text.split(' ').collect();
    if words.len() as u64 > max_tokens {
        return Reply {
            text: words[..max_tokens as usize].join(" "),
            finish_reason: "length",
            completion_tokens: max_tokens,
            prompt_tokens,
        };
    }
    Reply {
        completion_tokens: words.len() as u64,
        text,
        finish_reason: "stop",
        prompt_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_gets_the_same_reply_and_seeds_differ() {
        let req = |seed: u64| json!({"prompt": "Q: What is 12 + 30?\nA:", "seed": seed, "temperature": 0.7, "max_tokens": 64});
        assert_eq!(reply_for(&req(1)), reply_for(&req(1)));
        let distinct: std::collections::BTreeSet<String> =
            (0..16).map(|s| reply_for(&req(s)).text).collect();
        assert!(distinct.len() > 2, "{distinct:?}");
    }

    #[test]
    fn a_right_answer_is_boxed_and_correct() {
        let found = (0..64).map(|s| {
            reply_for(&json!({"prompt": "What is 2 + 3?", "seed": s, "temperature": 0.7}))
        });
        assert!(found.into_iter().any(|r| r.text.contains("\\boxed{5}")));
    }

    #[test]
    fn a_judge_says_yes_to_identical_answers() {
        let prompt = "…Judgement: Yes\n\nProblem: x\nPredicted answer: 7\nExpected answer: 7\n";
        let r = reply_for(&json!({"messages": [{"role": "user", "content": prompt}]}));
        assert!(r.text.ends_with("Judgement: Yes"), "{}", r.text);
    }

    #[test]
    fn a_budget_cuts_the_text_and_says_length() {
        let r = finish("a b c d e".into(), 3, 1);
        assert_eq!((r.text.as_str(), r.finish_reason), ("a b c", "length"));
    }
}
