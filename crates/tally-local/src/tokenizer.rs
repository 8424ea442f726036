//! Byte-level BPE (GPT-2 style) built from a GGUF file's `tokenizer.ggml.*` metadata, producing
//! the ids llama.cpp produces for the same text.
//!
//! Encoding: special tokens written literally in the text (`<|im_start|>`) become their ids, as
//! llama-server does for prompts; the rest is split by the model's pre-tokenizer regexes
//! (`tokenizer.ggml.pre`), each piece's bytes are mapped to GPT-2's printable alphabet, and merges
//! are applied lowest rank first.

use std::collections::HashMap;

use regex::Regex;
use tally_prompt::GgufMetadata;

use crate::error::LocalError;

const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|(?P<ws>\s+)";
const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|(?P<ws>\s+)";
const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|(?P<ws>\s+)";
const DIGITS: &str = r"\p{N}";

/// Token kinds from `tokenizer.ggml.token_type` (llama.cpp's `llama_token_type`).
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;

/// Text of end-of-generation tokens llama.cpp recognises by name besides `eos`/`eot`.
const END_TOKENS: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|end|>",
    "<end_of_turn>",
    "</s>",
    "<|eom_id|>",
];

#[derive(Debug)]
pub struct Tokenizer {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
    /// (left, right) → (rank, merged id).
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Applied in order, each to the pieces the previous one produced.
    splitters: Vec<Regex>,
    specials: Option<Regex>,
    /// Per id: rendered as nothing (control tokens), as raw text (user-defined), or byte-mapped.
    kinds: Vec<Kind>,
    byte_to_char: [char; 256],
    char_to_byte: HashMap<char, u8>,
    bos: Option<u32>,
    add_bos: bool,
    end_of_generation: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Normal,
    Control,
    UserDefined,
}

impl Tokenizer {
    /// Builds the tokenizer of a GGUF model (`tokenizer.ggml.model = gpt2` only).
    pub fn from_gguf(meta: &GgufMetadata) -> Result<Tokenizer, LocalError> {
        let err = |m: String| LocalError::Tokenizer(format!("{}: {m}", meta.origin()));
        let model = meta.get_str("tokenizer.ggml.model").unwrap_or("");
        if model != "gpt2" {
            return Err(err(format!(
                "tokenizer.ggml.model '{model}' is not supported (only byte-level BPE, 'gpt2')"
            )));
        }
        let tokens: Vec<String> = meta
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.as_array())
            .ok_or_else(|| err("no tokenizer.ggml.tokens".into()))?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| err("tokenizer.ggml.tokens holds a non-string".into()))?;
        let types: Vec<i64> = match meta
            .get("tokenizer.ggml.token_type")
            .and_then(|v| v.as_array())
        {
            Some(a) => a.iter().map(gguf_int).collect(),
            None => vec![1; tokens.len()],
        };
        let merges: Vec<&str> = meta
            .get("tokenizer.ggml.merges")
            .and_then(|v| v.as_array())
            .ok_or_else(|| err("no tokenizer.ggml.merges".into()))?
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let splitters = match meta.get_str("tokenizer.ggml.pre").unwrap_or("default") {
            "default" | "gpt2" | "gpt-2" | "mpt" | "olmo" | "jais" => vec![GPT2],
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone"
            | "minerva" => {
                vec![DIGITS, GPT2]
            }
            "llama3" | "llama-v3" | "llama-bpe" | "smaug-bpe" | "falcon3" | "pixtral" => {
                vec![LLAMA3]
            }
            "qwen2" | "deepseek-r1-qwen" | "megrez" => vec![QWEN2],
            other => return Err(err(format!("pre-tokenizer '{other}' is not supported"))),
        };
        let get_id = |key: &str| {
            meta.get(key)
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)
                .filter(|&v| (v as usize) < tokens.len())
        };
        let bos = get_id("tokenizer.ggml.bos_token_id");
        let add_bos = matches!(
            meta.get("tokenizer.ggml.add_bos_token"),
            Some(tally_prompt::GgufValue::Bool(true))
        );
        let vocab: Vec<(String, i64)> = tokens
            .iter()
            .cloned()
            .zip(types.iter().copied().chain(std::iter::repeat(1)))
            .collect();
        let mut end = Vec::new();
        end.extend(get_id("tokenizer.ggml.eos_token_id"));
        end.extend(get_id("tokenizer.ggml.eot_token_id"));
        end.extend(get_id("tokenizer.ggml.eom_token_id"));
        Tokenizer::build(&vocab, &merges, &splitters, bos, add_bos, end).map_err(err)
    }

    /// Builds a tokenizer from `(token text, token type)` pairs and `"left right"` merges.
    pub fn build(
        vocab: &[(String, i64)],
        merges: &[&str],
        splitters: &[&str],
        bos: Option<u32>,
        add_bos: bool,
        mut end_of_generation: Vec<u32>,
    ) -> Result<Tokenizer, String> {
        let tokens: Vec<String> = vocab.iter().map(|(t, _)| t.clone()).collect();
        let ids: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let mut merge_map = HashMap::with_capacity(merges.len());
        for (rank, m) in merges.iter().enumerate() {
            let (l, r) = m
                .split_once(' ')
                .ok_or_else(|| format!("merge {rank} ('{m}') has no space"))?;
            let (Some(&li), Some(&ri), Some(&mi)) =
                (ids.get(l), ids.get(r), ids.get(&format!("{l}{r}")))
            else {
                // Some converters keep merges whose result is not in the vocabulary; unusable.
                continue;
            };
            merge_map.entry((li, ri)).or_insert((rank as u32, mi));
        }
        let kinds: Vec<Kind> = vocab
            .iter()
            .map(|(_, ty)| match *ty {
                TYPE_CONTROL => Kind::Control,
                TYPE_USER_DEFINED => Kind::UserDefined,
                _ => Kind::Normal,
            })
            .collect();
        let mut special: Vec<&str> = vocab
            .iter()
            .zip(&kinds)
            .filter(|((t, _), k)| **k != Kind::Normal && !t.is_empty())
            .map(|((t, _), _)| t.as_str())
            .collect();
        // Longest first, so that the regex's leftmost-first choice is the longest token.
        special.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let specials = if special.is_empty() {
            None
        } else {
            let alt: Vec<String> = special.iter().map(|s| regex::escape(s)).collect();
            Some(Regex::new(&alt.join("|")).map_err(|e| e.to_string())?)
        };
        let splitters = splitters
            .iter()
            .map(|p| Regex::new(p).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        for (i, (t, _)) in vocab.iter().enumerate() {
            if kinds[i] == Kind::Control && END_TOKENS.contains(&t.as_str()) {
                end_of_generation.push(i as u32);
            }
        }
        end_of_generation.sort_unstable();
        end_of_generation.dedup();
        let byte_to_char = gpt2_byte_alphabet();
        let char_to_byte = byte_to_char
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect();
        Ok(Tokenizer {
            tokens,
            ids,
            merges: merge_map,
            splitters,
            specials,
            kinds,
            byte_to_char,
            char_to_byte,
            bos,
            add_bos,
            end_of_generation,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// Whether generating `id` ends the generation (EOS, EOT, `<|im_end|>`, …).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.binary_search(&id).is_ok()
    }

    /// Token ids of `text`, with BOS first when the model asks for it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LocalError> {
        let mut out = Vec::new();
        if self.add_bos {
            out.extend(self.bos);
        }
        let mut rest = 0;
        if let Some(specials) = &self.specials {
            for m in specials.find_iter(text) {
                self.encode_plain(&text[rest..m.start()], &mut out)?;
                out.push(self.ids[m.as_str()]);
                rest = m.end();
            }
        }
        self.encode_plain(&text[rest..], &mut out)?;
        Ok(out)
    }

    fn encode_plain(&self, text: &str, out: &mut Vec<u32>) -> Result<(), LocalError> {
        if text.is_empty() {
            return Ok(());
        }
        let mut pieces = vec![text];
        for re in &self.splitters {
            pieces = pieces.iter().flat_map(|p| split(re, p)).collect();
        }
        for piece in pieces {
            self.bpe(piece, out)?;
        }
        Ok(())
    }

    fn bpe(&self, piece: &str, out: &mut Vec<u32>) -> Result<(), LocalError> {
        let mut symbols: Vec<u32> = Vec::with_capacity(piece.len());
        let mut buf = [0u8; 4];
        for &b in piece.as_bytes() {
            let c = self.byte_to_char[b as usize];
            let id = self
                .ids
                .get(c.encode_utf8(&mut buf) as &str)
                .ok_or_else(|| {
                    LocalError::Tokenizer(format!("the vocabulary has no token for byte {b:#04x}"))
                })?;
            symbols.push(*id);
        }
        loop {
            let best = symbols
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| {
                    self.merges
                        .get(&(w[0], w[1]))
                        .map(|&(rank, id)| (rank, i, id))
                })
                .min();
            let Some((_, i, id)) = best else { break };
            symbols[i] = id;
            symbols.remove(i + 1);
        }
        out.extend(symbols);
        Ok(())
    }

    /// The bytes token `id` stands for in generated text: nothing for control tokens.
    pub fn token_bytes(&self, id: u32, out: &mut Vec<u8>) {
        let Some(text) = self.tokens.get(id as usize) else {
            return;
        };
        match self.kinds[id as usize] {
            Kind::Control => {}
            Kind::UserDefined => out.extend_from_slice(text.as_bytes()),
            Kind::Normal => {
                for c in text.chars() {
                    match self.char_to_byte.get(&c) {
                        Some(&b) => out.push(b),
                        None => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
                    }
                }
            }
        }
    }

    /// Text of `ids` (invalid UTF-8 replaced), control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            self.token_bytes(id, &mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn gguf_int(v: &tally_prompt::GgufValue) -> i64 {
    use tally_prompt::GgufValue::*;
    match *v {
        I32(x) => x.into(),
        U32(x) => x.into(),
        I64(x) => x,
        U8(x) => x.into(),
        I8(x) => x.into(),
        I16(x) => x.into(),
        U16(x) => x.into(),
        _ => 1,
    }
}

/// Splits `text` into matches of `re` and the gaps between them, as HF's `Split(Isolated)` does.
///
/// The `ws` group stands for `\s+(?!\S)|\s+` (the regex crate has no look-ahead): a whitespace
/// run followed by a non-space keeps its last character for the next piece, unless it is a
/// single character.
fn split<'t>(re: &Regex, text: &'t str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut gap_start = 0;
    while pos < text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let m = caps.get(0).expect("group 0 always matches");
        let mut end = m.end();
        if caps.name("ws").is_some() && end < text.len() {
            let run = &text[m.start()..end];
            let next_is_space = text[end..].chars().next().is_some_and(char::is_whitespace);
            if !next_is_space && run.chars().count() > 1 {
                end -= run.chars().next_back().map_or(0, char::len_utf8);
            }
        }
        if m.start() > gap_start {
            out.push(&text[gap_start..m.start()]);
        }
        if end == m.start() {
            // An empty match cannot advance; step over one character.
            pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        out.push(&text[m.start()..end]);
        pos = end;
        gap_start = end;
    }
    if gap_start < text.len() {
        out.push(&text[gap_start..]);
    }
    out
}

/// GPT-2's map from bytes to printable characters: printable Latin-1 bytes stand for
/// themselves, the rest are moved to U+0100 and up in byte order.
pub fn gpt2_byte_alphabet() -> [char; 256] {
    let mut map = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        map[b as usize] = if printable {
            b as char
        } else {
            let c = char::from_u32(next).expect("below the surrogate range");
            next += 1;
            c
        };
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(pattern: &str, text: &str) -> Vec<String> {
        split(&Regex::new(pattern).unwrap(), text)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn whitespace_before_a_word_joins_the_word() {
        assert_eq!(pieces(GPT2, "a   b"), ["a", "  ", " b"]);
        assert_eq!(pieces(GPT2, "a\nb"), ["a", "\n", "b"]);
        assert_eq!(pieces(GPT2, "x  "), ["x", "  "]);
        assert_eq!(
            pieces(GPT2, "it's 12 dogs!?"),
            ["it", "'s", " 12", " dogs", "!?"]
        );
        assert_eq!(pieces(DIGITS, "a 123"), ["a ", "1", "2", "3"]);
    }

    #[test]
    fn byte_alphabet_is_a_bijection() {
        let m = gpt2_byte_alphabet();
        let set: std::collections::HashSet<char> = m.iter().copied().collect();
        assert_eq!(set.len(), 256);
        assert_eq!(m[b' ' as usize], 'Ġ');
        assert_eq!(m[b'\n' as usize], 'Ċ');
    }
}
