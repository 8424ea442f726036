//! Finding the final answer in a model response.

use serde::Serialize;

use crate::guard::{catch_grader_panic, GraderError};

/// Which extraction rules to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExtractMode {
    /// NeMo-Skills' `extract_answer`: the last `\boxed{...}` only, nothing else (spec §4.1).
    NemoSkills,
    /// Last `\boxed{}` / `\fbox{}` / `\boxed 5`, with warnings for truncated boxes.
    #[default]
    Tally,
    /// As `Tally`, but only the text after a leading `<think>...</think>` block is searched.
    TallyAfterThink,
}

/// How extraction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractStatus {
    /// An answer was found.
    Found,
    /// No answer marker in the text.
    NoAnswer,
    /// The last box is not closed: an answer is visible but cannot be read (budget ran out?).
    UnclosedBox,
    /// The last box is malformed (e.g. `\boxed` followed by nothing usable).
    MalformedBox,
    /// `<think>` was opened and never closed, so there is no final answer section.
    UnclosedThink,
    /// The extractor panicked (a bug, caught); `warnings` holds the panic's message.
    GraderError,
}

/// The answer found in a response, with how it was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extraction {
    /// The extracted answer; `Some("")` for `\boxed{}` (an answer, though an empty one).
    pub answer: Option<String>,
    pub status: ExtractStatus,
    /// Human-readable notes, e.g. that an earlier box was ignored.
    pub warnings: Vec<String>,
}

impl Extraction {
    fn none(status: ExtractStatus) -> Self {
        Extraction {
            answer: None,
            status,
            warnings: Vec::new(),
        }
    }
    /// No answer, because the grader panicked.
    pub(crate) fn grader_error(e: &GraderError) -> Self {
        Extraction {
            answer: None,
            status: ExtractStatus::GraderError,
            warnings: vec![e.message.clone()],
        }
    }
    fn found(a: &str) -> Self {
        Extraction {
            answer: Some(a.to_string()),
            status: ExtractStatus::Found,
            warnings: Vec::new(),
        }
    }
}

/// Extracts the final answer from `text`. A panic inside the extractor gives
/// [`ExtractStatus::GraderError`].
pub fn extract_answer(text: &str, mode: ExtractMode) -> Extraction {
    catch_grader_panic(|| extract_answer_unguarded(text, mode))
        .unwrap_or_else(|e| Extraction::grader_error(&e))
}

fn extract_answer_unguarded(text: &str, mode: ExtractMode) -> Extraction {
    match mode {
        ExtractMode::NemoSkills => match nemo_last_boxed(text) {
            Some(a) => Extraction::found(a),
            None if text.contains("\\boxed") => Extraction::none(ExtractStatus::MalformedBox),
            None => Extraction::none(ExtractStatus::NoAnswer),
        },
        ExtractMode::Tally => tally_last_box(text),
        ExtractMode::TallyAfterThink => match after_think(text) {
            Ok(rest) => tally_last_box(rest),
            Err(()) => Extraction::none(ExtractStatus::UnclosedThink),
        },
    }
}

/// Text after the reasoning block; `Err` when `<think>` is never closed.
fn after_think(text: &str) -> Result<&str, ()> {
    let trimmed = text.trim_start();
    match text.rfind("</think>") {
        Some(i) => Ok(&text[i + "</think>".len()..]),
        None if trimmed.starts_with("<think>") => Err(()),
        None => Ok(text),
    }
}

/// Spec §4.1, byte for byte: the brace count starts at the last `\boxed` and escaped braces
/// count too, so `\left\{ ... \right.` inside the box makes it unreadable, as in the seed.
pub(crate) fn nemo_last_boxed(s: &str) -> Option<&str> {
    let idx = s.rfind("\\boxed")?;
    let bytes = s.as_bytes();
    let mut depth: i64 = 0;
    let mut end = None;
    for (i, &b) in bytes.iter().enumerate().skip(idx) {
        if b == b'{' {
            depth += 1;
        }
        if b == b'}' {
            depth -= 1;
            if depth == 0 {
                end = Some(i);
                break;
            }
        }
    }
    let slice = &s[idx..=end?];
    slice.strip_prefix("\\boxed{")?.strip_suffix('}')
}

/// Finds the matching `}` for the `{` at `open`, skipping escaped `\{` `\}`.
fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn last_box_start(text: &str) -> Option<(usize, usize)> {
    let b = text.rfind("\\boxed").map(|i| (i, i + 6));
    let f = text.rfind("\\fbox").map(|i| (i, i + 5));
    match (b, f) {
        (Some(x), Some(y)) => Some(if x.0 > y.0 { x } else { y }),
        (x, y) => x.or(y),
    }
}

fn tally_last_box(text: &str) -> Extraction {
    let Some((start, after)) = last_box_start(text) else {
        return Extraction::none(ExtractStatus::NoAnswer);
    };
    let rest = &text[after..];
    let skipped = rest.len() - rest.trim_start().len();
    let body = after + skipped;
    let mut ex = if text[body..].starts_with('{') {
        match matching_brace(text, body) {
            Some(close) => Extraction::found(text[body + 1..close].trim()),
            None => {
                let mut e = Extraction::none(ExtractStatus::UnclosedBox);
                e.warnings.push(format!(
                    "the last box at byte {start} is never closed (the response may be cut off)"
                ));
                return e;
            }
        }
    } else if skipped > 0 {
        // `\boxed 5`: TeX takes one token; we take the run up to a space or `$`.
        let tok: String = text[body..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '$')
            .collect();
        let tok = tok.trim_end_matches(['.', ',']);
        if tok.is_empty() {
            return Extraction::none(ExtractStatus::MalformedBox);
        }
        Extraction::found(tok)
    } else {
        return Extraction::none(ExtractStatus::MalformedBox);
    };
    if text[..start].contains("\\boxed") || text[..start].contains("\\fbox") {
        ex.warnings
            .push("earlier boxed answers were ignored".into());
    }
    ex
}

/// The `--extract` chain for pair files, from the most to the least explicit anchor:
///
/// 1. `final answer is X. I hope…` (the Minerva / lm-eval answer sentence);
/// 2. the boxed answer — the last box, joined with the boxes right before it when only
///    connectives separate them (`\boxed{1} and \boxed{2}` → `1, 2`) — or
///    `final answer … is X`, whichever ends later;
/// 3. `#### X`, a last `A: X` line (GSM8K);
/// 4. `Answer: … X` / `answer … X` (also `Réponse`, `答案`, …): the first math segment or
///    number within 50 characters, or the value after the last `=` within 100;
/// 5. the whole text when it is one short expression;
/// 6. the last math segment, number or arithmetic expression that parses;
/// 7. the whole text when it is short (≤ 40 bytes, no sentence) → else no answer.
///
/// A panic inside the extractor gives [`ExtractStatus::GraderError`].
pub fn extract_fallback(text: &str) -> Extraction {
    catch_grader_panic(|| extract_fallback_unguarded(text))
        .unwrap_or_else(|e| Extraction::grader_error(&e))
}

pub(crate) fn extract_fallback_unguarded(text: &str) -> Extraction {
    // A reasoning model answers after its thinking: boxes tried and dropped inside `<think>`
    // are not the answer when the text after `</think>` gives one.
    if let Some(i) = text.rfind("</think>") {
        let after = &text[i + "</think>".len()..];
        if !after.trim().is_empty() {
            let x = fallback_chain(after);
            if x.answer.is_some() {
                return x;
            }
        }
    }
    if let Some(k) = next_problem(text) {
        let head = &text[..k];
        let lower = head.to_lowercase();
        if head.contains("\\boxed") || lower.contains("answer") {
            let x = fallback_chain(head);
            if x.answer.is_some() {
                return x;
            }
        }
    }
    fallback_chain(text)
}

/// Where a few-shot model, having answered, goes on to a problem of its own: a line that
/// starts `Problem:`, `Problem 2:`, `Question:` or `Q:` after the first line.
fn next_problem(text: &str) -> Option<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        if start == 0 {
            continue;
        }
        let l = line.trim_start();
        let rest = ["Problem", "Question", "Q"]
            .iter()
            .find_map(|w| l.strip_prefix(w));
        let Some(rest) = rest else { continue };
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        if rest.starts_with(':') || rest.starts_with('.') && !l.starts_with('Q') {
            return Some(start);
        }
    }
    None
}

/// `Final Answer: The final answer is X. I hope it is correct.`: X as written (the first such
/// sentence, as lm-eval's Minerva reader takes it: a few-shot model often goes on to a problem
/// of its own after it).
fn minerva_sentence(text: &str) -> Option<String> {
    let lower = crate::prose::lowercase_in_place(text);
    let mut from = 0;
    while let Some(k) = lower[from..].find("final answer is") {
        let start = from + k + "final answer is".len();
        let end = floor_char(text, (start + 300).min(text.len()));
        if let Some(h) = lower[start..end].find("i hope") {
            let x = text[start..start + h]
                .trim()
                .trim_end_matches('.')
                .trim()
                .trim_start_matches(':')
                .trim();
            // `"$12 $ and $13 $"`: quotes around it and math delimiters inside say nothing.
            let x = x
                .strip_prefix("\\\"")
                .and_then(|y| y.strip_suffix("\\\""))
                .unwrap_or(x)
                .trim_matches(['"', '\'', '`'])
                .replace('$', "");
            let x = x.trim();
            if !x.is_empty() && x.len() <= 100 && !x.contains('\n') {
                return Some(x.to_string());
            }
        }
        from = start;
    }
    None
}

/// The rest of the line after an answer word (`Answer: x = 2 or x = 3`, `Answer: (2, 3)`,
/// `The answer is 1 and 2.`) when all of it is one answer: a short expression that parses, with
/// no sentence in it and nothing computed before an `=` (`5 + 7 = 12` is left to the value
/// after the `=`), or at most ten words without digits (`Alice wins`, `No, it is not possible`).
fn answer_line(text: &str, e: usize) -> Option<String> {
    let mut rest = text[e..].trim_start_matches([' ', '*', ':', '：']);
    if let Some(r) = rest
        .strip_prefix("is ")
        .or_else(|| rest.strip_prefix("is:"))
    {
        rest = r.trim_start_matches([' ', '*', ':']);
    }
    let line = rest.split('\n').next().unwrap_or("");
    // A sentence ends the answer (`1 and 2. Then …`), a decimal point does not.
    let line = match line.find(". ") {
        Some(k) => &line[..k],
        None => line,
    };
    let mut a = line.trim().trim_end_matches(['*', '.', ' ']).trim();
    if let Some(inner) = a.strip_prefix('$').and_then(|x| x.strip_suffix('$')) {
        if !inner.contains('$') {
            a = inner.trim();
        }
    }
    if a.is_empty() || a.len() > 80 || a.contains('$') || a.contains("\\boxed") {
        return None;
    }
    let computed = a
        .split_once('=')
        .is_some_and(|(lhs, _)| lhs.bytes().any(|b| b.is_ascii_digit()));
    let words_only = !a.bytes().any(|b| b.is_ascii_digit())
        && a.split_whitespace().count() <= 10
        && a.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | ',' | ';'));
    if words_only || (!computed && !has_prose_word(a) && parses(a)) {
        return Some(a.to_string());
    }
    None
}

/// Where the last verification starts: `Check:`, `Verification:`, `Let me verify`,
/// `Double-check` (after the answer was found, not part of it).
fn verification_start(text: &str) -> Option<usize> {
    let lower = crate::prose::lowercase_in_place(text);
    [
        "check:",
        "verification:",
        "let me verify",
        "let's verify",
        "double-check",
        "let me check",
    ]
    .iter()
    .filter_map(|m| lower.rfind(m))
    .max()
}

/// A choice letter after an answer word: `Answer: (E)`, `the correct option is E.`,
/// `choice B`.
fn anchored_choice_letter(text: &str) -> Option<String> {
    let lower = crate::prose::lowercase_in_place(text);
    let mut best: Option<(usize, char)> = None;
    // `选` closes Chinese exams' answers (`故选 C`, `选：B`).
    for w in ["answer", "option", "choice", "选"] {
        for (k, _) in lower.match_indices(w) {
            let mut rest = text[k + w.len()..].trim_start_matches([' ', '*', ':', '：', '$']);
            for filler in ["is ", "would be ", "should be "] {
                if rest
                    .get(..filler.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(filler))
                {
                    rest = rest[filler.len()..].trim_start_matches([' ', '*', '$']);
                }
            }
            let (inner, after) = match rest.strip_prefix('(') {
                Some(r) => (r, r.get(1..).and_then(|x| x.strip_prefix(')'))),
                None => (rest, rest.get(1..)),
            };
            let Some(l) = inner.chars().next().filter(|c| ('A'..='E').contains(c)) else {
                continue;
            };
            let ends = after.is_some_and(|a| a.chars().next().is_none_or(|c| !c.is_alphanumeric()));
            if ends && best.is_none_or(|(b, _)| k > b) {
                best = Some((k, l));
            }
        }
    }
    best.map(|(_, l)| l.to_string())
}

fn fallback_chain(text: &str) -> Extraction {
    use crate::prose::{find_ci, math_envs, numbers, Cand};
    let envs = math_envs(text);
    let nums = numbers(text);
    let starting_at = |p: usize, slack: usize| -> Option<&Cand> {
        let e = from(&envs, p).first().filter(|c| c.start <= p + slack);
        let n = from(&nums, p).first().filter(|c| c.start <= p + slack);
        match (e, n) {
            (Some(a), Some(b)) => Some(if a.start <= b.start { a } else { b }),
            (a, b) => a.or(b),
        }
    };
    let skip_ws_colon = |mut p: usize| {
        let b = text.as_bytes();
        while p < b.len() && (b[p] == b' ' || b[p] == b':' || b[p] == b'*') {
            p += 1;
        }
        p
    };
    // 1. "final answer is X. I hope".
    if let Some(x) = minerva_sentence(text) {
        return Extraction::found(&x);
    }
    for i in find_ci(text, "final answer is").into_iter().rev() {
        let p = skip_ws_colon(i + "final answer is".len());
        if let Some(c) = starting_at(p, 0) {
            let rest = text[c.end..].trim_start_matches(['.', ' ', '$']);
            if rest
                .get(.."i hope".len())
                .is_some_and(|h| h.eq_ignore_ascii_case("i hope"))
            {
                return Extraction::found(&c.text);
            }
        }
    }
    // 2. Boxes, or "final answer … is X".
    let boxed = boxed_group(text);
    if boxed.status == ExtractStatus::UnclosedBox || boxed.status == ExtractStatus::MalformedBox {
        return boxed;
    }
    let mut phrase: Option<Cand> = None;
    for i in find_ci(text, "final answer").into_iter().rev() {
        let window_end = floor_char(text, (i + 12 + 100).min(text.len()));
        let win = &text[i + 12..window_end];
        if let Some(j) = win.to_ascii_lowercase().find(" is") {
            let p = skip_ws_colon(i + 12 + j + 3);
            if let Some(c) = starting_at(p, 0) {
                phrase = Some(c.clone());
                break;
            }
        }
    }
    match (boxed.answer.is_some(), &phrase) {
        (true, _) => return boxed,
        (false, Some(c)) => return Extraction::found(&c.text),
        _ => {}
    }
    // 3. GSM8K markers.
    if let Some(i) = text.rfind("####") {
        let a = first_line(&text[i + 4..]);
        if !a.is_empty() {
            return Extraction::found(&a);
        }
    }
    for line in text.lines().rev() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(a) = l.strip_prefix("A:") {
            let a = clean_tail(a);
            if !a.is_empty() {
                return Extraction::found(&a);
            }
        }
        break;
    }
    // 4. Answer words.
    let words = crate::prose::answer_words(text);
    for colon in [true, false] {
        for &(_, e) in words.iter().rev() {
            let after = text[e..].trim_start_matches([' ', '*']);
            if colon && !(after.starts_with(':') || after.starts_with('：')) {
                continue;
            }
            // `the answer is either 2 or 4, depending on …`: a hedge names no answer.
            let lower = after
                .trim_start_matches(':')
                .trim_start()
                .to_ascii_lowercase();
            if lower.starts_with("is either ") || lower.starts_with("either ") {
                return Extraction::none(ExtractStatus::NoAnswer);
            }
            if let Some(a) = answer_line(text, e) {
                return Extraction::found(&a);
            }
            if let Some(c) = after_anchor(text, e, &envs, &nums) {
                return Extraction::found(&c);
            }
        }
    }
    if let Some(l) = anchored_choice_letter(text) {
        return Extraction::found(&l);
    }
    // 5. One short expression.
    let t = clean_tail(text);
    if !t.is_empty() && t.len() <= 80 && !t.contains('\n') {
        if let [only] = nums.as_slice() {
            if only.start == text.len() - text.trim_start().len()
                && text[only.end..].trim().is_empty()
            {
                return Extraction::found(&only.text);
            }
        }
        if !t.contains('$') && !has_prose_word(&t) && parses(&t) {
            return Extraction::found(&t);
        }
    }
    // 5b. A closing sentence with the answer in plain text (`Therefore the solutions are x = 3
    // or x = -1.`): read before the candidates, which would take a check above it.
    if let Some(a) = concluding_sentence(text) {
        return Extraction::found(&a);
    }
    // 6. The last candidate that parses.
    let mut all: Vec<&Cand> = envs.iter().chain(nums.iter()).collect();
    all.sort_by_key(|c| (std::cmp::Reverse(c.end), c.start));
    // A check after the answer (`Check: 3^2 = 9`, `Let me verify: 2*2 = 4`) is not the answer:
    // candidates before the last such word come first.
    let check = verification_start(text);
    let before_check = all
        .iter()
        .filter(|c| check.is_some_and(|k| c.end <= k))
        .find(|c| parses(&c.text));
    if let Some(c) = before_check.or_else(|| all.iter().find(|c| parses(&c.text))) {
        if let Some(joined) = same_name_solutions(text, &envs, c) {
            return Extraction::found(&joined);
        }
        // `$= \frac{\sqrt{3}}{2}$`: the sign of an equation whose left side was outside.
        return Extraction::found(c.text.trim_start_matches(['=', ' ']));
    }
    if let Some(a) = last_math_segment(text) {
        return Extraction::found(a.trim_start_matches(['=', ' ']));
    }
    if !t.is_empty() && t.len() <= 40 && !t.contains(". ") && !has_prose_word(&t) {
        return Extraction::found(&t);
    }
    Extraction::none(ExtractStatus::NoAnswer)
}

/// `the solutions are $x=-2$ and $x=3$`: math segments that give the same name a value each,
/// joined only by connectives, are one answer (all the solutions), not the last of them.
fn same_name_solutions(
    text: &str,
    envs: &[crate::prose::Cand],
    last: &crate::prose::Cand,
) -> Option<String> {
    let name = |t: &str| -> Option<String> {
        let (l, r) = t.split_once('=')?;
        let l = l.trim();
        (!r.contains('=')
            && !r.trim().is_empty()
            && (1..=8).contains(&l.len())
            && l.chars().next()?.is_ascii_alphabetic()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| l.to_string())
    };
    let k = envs
        .iter()
        .position(|e| e.start == last.start && e.end == last.end)?;
    let n = name(&last.text)?;
    let mut parts = vec![last.text.clone()];
    let mut j = k;
    while j > 0 {
        let prev = &envs[j - 1];
        let gap = text.get(prev.end..envs[j].start)?;
        if !is_connective(gap) || name(&prev.text).as_deref() != Some(n.as_str()) {
            break;
        }
        parts.push(prev.text.clone());
        j -= 1;
    }
    (parts.len() > 1).then(|| {
        parts.reverse();
        parts.join(", ")
    })
}

/// A word of four or more letters that is not a LaTeX command, or any non-ASCII letter:
/// the text is a sentence, not an expression.
/// The value stated by the text's last sentence when it opens with a conclusion word and gives
/// the answer in plain text after `is`/`are`: every part of it (split at `or`, `and`, commas)
/// an expression, no sentence in it.
fn concluding_sentence(text: &str) -> Option<String> {
    let line = text.trim_end().lines().last()?.trim();
    let sentence = line.trim_end_matches('.').rsplit(". ").next()?.trim();
    let lower = sentence.to_ascii_lowercase();
    if !["therefore", "thus", "hence", "so ", "so,", "consequently"]
        .iter()
        .any(|w| lower.starts_with(w))
        || sentence.contains('$')
    {
        return None;
    }
    let k = [" is ", " are ", " equals "]
        .iter()
        .filter_map(|w| lower.rfind(w).map(|k| k + w.len()))
        .max()?;
    let rest = sentence[k..].trim();
    if rest.is_empty() || rest.len() > 60 {
        return None;
    }
    let parts: Vec<&str> = rest
        .split(',')
        .flat_map(|p| p.split(" or "))
        .flat_map(|p| p.split(" and "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let ok = !parts.is_empty() && parts.iter().all(|p| !has_prose_word(p) && parses(p));
    ok.then(|| rest.to_string())
}

fn has_prose_word(t: &str) -> bool {
    let mut run = 0;
    let mut cmd = false;
    let mut prev = ' ';
    for c in t.chars() {
        if c.is_alphabetic() {
            if !c.is_ascii() {
                return true;
            }
            if run == 0 {
                cmd = prev == '\\';
            }
            run += 1;
            if run >= 4 && !cmd {
                return true;
            }
        } else {
            run = 0;
        }
        prev = c;
    }
    false
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn parses(s: &str) -> bool {
    let c = crate::text::clean_answer(s);
    !c.is_empty() && crate::parse::parse(&c, crate::compare::TALLY, 64).is_ok()
}

/// The answer after an answer word ending at `e`: the value after the last `=` within 100
/// characters on the line, else the first math segment or number within 50.
fn after_anchor(
    text: &str,
    e: usize,
    envs: &[crate::prose::Cand],
    nums: &[crate::prose::Cand],
) -> Option<String> {
    // Only the first 100 bytes of the line matter (a search to the line's end, for each of
    // thousands of answer words on one long line, was quadratic).
    let window = &text.as_bytes()[e..(e + 100).min(text.len())];
    let line_end = window
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |k| e + k);
    let w100 = floor_char(text, (e + 100).min(line_end));
    let w50 = floor_char(text, (e + 50).min(line_end));
    if let Some(q) = text[e..w100].rfind('=') {
        let p = e + q + 1;
        let p = p + (text[p..].len() - text[p..].trim_start().len());
        let at_p = |c: &&crate::prose::Cand| {
            c.start == p || (c.start + 1 == p && text[c.start..].starts_with(' '))
        };
        let near = |v| {
            from(v, p.saturating_sub(1))
                .iter()
                .take_while(|c| c.start <= p)
        };
        if let Some(c) = near(nums).find(at_p).or_else(|| near(envs).find(at_p)) {
            return Some(c.text.clone());
        }
    }
    let e1 = from(envs, e)
        .iter()
        .take_while(|c| c.start <= w50)
        .find(|c| parses(&c.text));
    let n1 = from(nums, e)
        .iter()
        .take_while(|c| c.start <= w50)
        .find(|c| !text[c.end..].trim_start().starts_with('='));
    match (e1, n1) {
        (Some(a), Some(b)) => Some(if a.end >= b.end { a } else { b }.text.clone()),
        (a, b) => a.or(b).map(|c| c.text.clone()),
    }
}

/// The candidates starting at or after `p` (candidates are in text order).
fn from(cands: &[crate::prose::Cand], p: usize) -> &[crate::prose::Cand] {
    &cands[cands.partition_point(|c| c.start < p)..]
}

/// A closed box: its start, its end, the byte range of its content.
type Box = (usize, usize, std::ops::Range<usize>);

/// All closed boxes, sorted by start (contents as ranges: copying each box's text made
/// thousands of nested boxes quadratic).
fn all_boxes(text: &str) -> Vec<Box> {
    // One pass pairs every brace (as `matching_brace` would from each `{`), so a text of
    // thousands of unclosed boxes costs linear time, not a scan to the end per box.
    let closes = brace_pairs(text);
    let mut v = Vec::new();
    for pat in ["\\boxed", "\\fbox"] {
        for (i, _) in text.match_indices(pat) {
            let body = i + pat.len();
            let sk = text[body..].len() - text[body..].trim_start().len();
            let open = body + sk;
            if text[open..].starts_with('{') {
                if let Ok(k) = closes.binary_search_by_key(&open, |p| p.0) {
                    let close = closes[k].1;
                    v.push((i, close + 1, open + 1..close));
                }
            }
        }
    }
    v.sort_by_key(|b| b.0);
    v
}

/// Every `{` with its matching `}` (escaped `\{` `\}` skipped, as in `matching_brace`), sorted
/// by the opening brace.
fn brace_pairs(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut stack = Vec::new();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => stack.push(i),
            b'}' => {
                if let Some(o) = stack.pop() {
                    pairs.push((o, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs.sort_unstable();
    pairs
}

/// Text between two boxes that joins them into one answer: symbols, `\quad`, `\text{}`
/// wrappers and at most four words of which the last is `and` / `or`.
fn is_connective(gap: &str) -> bool {
    if gap.len() > 60 || gap.contains(". ") || gap.contains("\n\n") {
        return false;
    }
    // `… \) and \( y_2 = \boxed{…}`: a name being assigned is part of the connective.
    let mut gap = gap.trim_end();
    if let Some(g) = gap.strip_suffix('=') {
        let g = g.trim_end();
        // Past the separator's whole character: `\u{2028}` is whitespace of three bytes.
        let name_start = g
            .char_indices()
            .rfind(|&(_, c)| c.is_whitespace() || c == '(' || c == '$')
            .map_or(0, |(k, c)| k + c.len_utf8());
        let name = &g[name_start..];
        if !name.is_empty()
            && name.len() <= 8
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            gap = &g[..name_start];
        }
    }
    let cleaned = gap
        .replace("\\text", " ")
        .replace("\\mbox", " ")
        .replace("\\qquad", " ")
        .replace("\\quad", " ");
    let words: Vec<String> = cleaned
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    match words.last() {
        None => true,
        Some(l) => words.len() <= 5 && (l == "and" || l == "or"),
    }
}

/// `… is $\boxed{2}$. For part (b), the answer is $\boxed{3}$`: the text between two boxes
/// moves on to the next part of the question (`part (b)`, `(ii)`, `part 2`), so both boxes
/// answer it. Short (one sentence, at most twelve words) and naming a part label.
fn names_next_part(gap: &str) -> bool {
    if gap.len() > 90 || gap.contains("\n\n") || gap.matches(". ").count() > 1 {
        return false;
    }
    let lower = gap.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '(' && c != ')')
        .filter(|w| !w.is_empty())
        .collect();
    let label = |w: &str| {
        let inner = w.trim_start_matches('(').trim_end_matches(')');
        w.ends_with(')')
            && (inner.len() == 1 && inner.chars().all(|c| c.is_ascii_alphanumeric())
                || ["ii", "iii", "iv"].contains(&inner))
            && !["a", "1", "i"].contains(&inner)
    };
    words.len() <= 12
        && words.iter().enumerate().any(|(k, w)| {
            label(w) || (*w == "part" && words.get(k + 1).is_some_and(|n| label(n) || n.len() == 1))
        })
}

/// The last box, joined with the boxes just before it when only connectives (`and`,
/// `\quad`, `,`, a short `\text{}`) separate them.
fn boxed_group(text: &str) -> Extraction {
    let last = tally_last_box(text);
    if last.answer.is_none() {
        return last;
    }
    // A box inside another box is part of that box's answer, not an answer beside it: only
    // top-level boxes are joined, and only when the box `tally_last_box` read (the last one
    // to start) is itself the last top-level box, so a nested or `\boxed 5` last box stands
    // alone. Top-level boxes are disjoint and in text order, so each gap runs forwards.
    let boxes = top_level(all_boxes(text));
    let content = |b: &Box| text[b.2.clone()].trim().to_string();
    let last_start = last_box_start(text).map(|(s, _)| s);
    if boxes.last().map(|b| b.0) != last_start {
        return last;
    }
    let mut k = boxes.len() - 1;
    let mut parts = vec![content(&boxes[k])];
    while k > 0 {
        let Some(gap) = text.get(boxes[k - 1].1..boxes[k].0) else {
            break;
        };
        if !is_connective(gap) && !names_next_part(gap) {
            break;
        }
        parts.push(content(&boxes[k - 1]));
        k -= 1;
    }
    if parts.len() == 1 {
        return last;
    }
    parts.reverse();
    let mut ex = Extraction::found(&parts.join(", "));
    ex.warnings.push(format!(
        "{} adjacent boxes were read as one answer",
        parts.len()
    ));
    ex
}

/// The boxes not inside another box, from boxes sorted by start.
fn top_level(boxes: Vec<Box>) -> Vec<Box> {
    let mut out: Vec<Box> = Vec::with_capacity(boxes.len());
    for b in boxes {
        if out.last().is_none_or(|o| b.0 >= o.1) {
            out.push(b);
        }
    }
    out
}

/// The last `$…$`, `$$…$$`, `\(…\)` or `\[…\]` segment.
fn last_math_segment(text: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for (open, close) in [("\\[", "\\]"), ("\\(", "\\)"), ("$$", "$$")] {
        if let Some(e) = text.rfind(close) {
            if let Some(b) = text[..e].rfind(open) {
                let inner = text[b + open.len()..e].trim();
                if !inner.is_empty() && best.as_ref().is_none_or(|(p, _)| e > *p) {
                    best = Some((e, inner.to_string()));
                }
            }
        }
    }
    // Single dollars: pair them up from the start so `$a$ and $b$` gives `b`.
    let idx: Vec<usize> = text
        .match_indices('$')
        .map(|(i, _)| i)
        .filter(|&i| !text[..i].ends_with('\\'))
        .collect();
    if idx.len() >= 2 && !text.contains("$$") {
        let k = if idx.len().is_multiple_of(2) {
            idx.len() - 2
        } else {
            idx.len() - 3
        };
        let (b, e) = (idx[k], idx[k + 1]);
        let inner = text[b + 1..e].trim();
        if !inner.is_empty() && best.as_ref().is_none_or(|(p, _)| e > *p) {
            best = Some((e, inner.to_string()));
        }
    }
    best.map(|(_, s)| clean_tail(&s))
}

fn first_line(s: &str) -> String {
    clean_tail(s.trim_start().lines().next().unwrap_or(""))
}

fn clean_tail(s: &str) -> String {
    let mut a = s.trim();
    loop {
        let before = a;
        a = if a.ends_with("...") {
            a.trim_end()
        } else {
            a.trim_end_matches(['.', ' ', '!']).trim()
        };
        if let Some(x) = a.strip_prefix('$').and_then(|x| x.strip_suffix('$')) {
            a = x.trim();
        }
        if let Some(x) = a.strip_prefix("\\(").and_then(|x| x.strip_suffix("\\)")) {
            a = x.trim();
        }
        if let Some(x) = a.strip_prefix("\\[").and_then(|x| x.strip_suffix("\\]")) {
            a = x.trim();
        }
        if a == before {
            break;
        }
    }
    a.strip_prefix(':').unwrap_or(a).trim().to_string()
}

/// The reference side in pair mode: its boxed answer (adjacent boxes joined) when it has
/// one, else the text itself.
pub(crate) fn extract_gold(gold: &str) -> String {
    match boxed_group(gold).answer {
        Some(a) => a,
        None => gold.to_string(),
    }
}

/// A multiple-choice letter (`A`–`Z`) from a response: after an answer word (`The answer is
/// B`, `Answer: D`, `réponse est C`), else a letter opening the text (`A. Because …`), else
/// the last standalone capital letter; `None` when there is none (or the reader panicked).
pub fn extract_choice_letter(text: &str) -> Option<char> {
    catch_grader_panic(|| choice_letter(text)).unwrap_or(None)
}

fn choice_letter(text: &str) -> Option<char> {
    let t = text.trim();
    let standalone = |s: &str| -> Option<char> {
        let mut it = s.chars();
        let c = it.next()?;
        (c.is_ascii_uppercase() && !it.next().is_some_and(|x| x.is_ascii_alphanumeric()))
            .then_some(c)
    };
    // Offsets found in `lower` slice `t`: the lowercasing keeps every char's byte length.
    let lower = crate::prose::lowercase_in_place(t);
    for w in ["answer", "réponse", "respuesta", "答案"] {
        for (i, _) in lower.rmatch_indices(w) {
            let after = t[i + w.len()..].trim_start_matches([' ', ':', '：', '*']);
            let after = ["is ", "est ", "es "]
                .iter()
                .find_map(|p| after.strip_prefix(p))
                .unwrap_or(after)
                .trim_start_matches([' ', ':', '*', '(']);
            if let Some(c) = standalone(after) {
                return Some(c);
            }
            // `The answer is for sure D`: a letter a few words on.
            let near: String = after.chars().take(30).collect();
            if let Some(c) = near
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| w.len() == 1 && w.chars().all(|c| c.is_ascii_uppercase()))
                .and_then(|w| w.chars().next())
            {
                return Some(c);
            }
        }
    }
    if let Some(c) = standalone(t.trim_start_matches(['(', '*'])) {
        return Some(c);
    }
    t.split(|c: char| !c.is_alphanumeric())
        .rfind(|w| w.len() == 1 && w.chars().all(|c| c.is_ascii_uppercase()))
        .and_then(|w| w.chars().next())
}
