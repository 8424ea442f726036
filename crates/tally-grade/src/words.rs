//! Answers written in words: `\text{a parabola and a line}`, "the second player wins". They
//! are compared as lists of phrases, and a sentence that restates a short answer ("the second
//! player wins" for "second player") equals it when every added word is a filler word. Words
//! that contradict (`even`/`odd`, `yes`/`no`, a negation) make them different; anything else is
//! left undecided, for a reader.

use crate::text::unwrap_cmds;

/// Words a sentence may add to a short answer without changing it.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "is",
    "are",
    "it",
    "this",
    "that",
    "there",
    "answer",
    "final",
    "win",
    "wins",
    "has",
    "have",
    "winning",
    "strategy",
    "will",
    "always",
    "every",
    "all",
    "any",
    "each",
    "number",
    "numbers",
    "of",
    "n",
    "value",
    "values",
    "we",
    "get",
    "so",
    "then",
    "thus",
    "hence",
    "therefore",
    "only",
    "must",
    "be",
    "statement",
    "solution",
    "angled",
];

/// Closed classes of answers: two different members of one class are different answers
/// (`rhombus` / `square`, `Alice` / `Bob`, `Monday` / `Tuesday`).
const KINDS: &[&[&str]] = &[
    &[
        "circle",
        "ellipse",
        "parabola",
        "hyperbola",
        "line",
        "point",
    ],
    &[
        "square",
        "rectangle",
        "rhombus",
        "parallelogram",
        "trapezoid",
        "trapezium",
        "kite",
    ],
    &["equilateral", "isosceles", "scalene"],
    &["acute", "right", "obtuse"],
    &[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ],
    &["north", "south", "east", "west"],
    &["red", "blue", "green", "yellow", "white", "black"],
    &[
        "alice", "bob", "carol", "charlie", "dave", "david", "eve", "ana", "anna", "beto", "ben",
        "barbara", "claire", "diana", "ivan", "peter", "paul", "john", "mary", "tom", "jerry",
        "petya", "vasya", "kolya", "misha",
    ],
];

/// Words a "nothing exists" answer may use around its negation (`none`, `no such n exists`,
/// `there is no solution`, `does not exist`); single letters (the unknown's name) too.
const NOTHING_WORDS: &[&str] = &[
    "no",
    "none",
    "not",
    "such",
    "solution",
    "exist",
    "exists",
    "does",
    "do",
    "there",
    "is",
    "are",
    "any",
    "value",
    "real",
    "integer",
    "number",
    "pair",
    "triple",
    "function",
    "polynomial",
    "the",
    "answer",
];

/// Nouns that only name the kind of thing an answer describes (`first` → `first player`).
const HEAD_NOUNS: &[&str] = &[
    "player",
    "person",
    "triangle",
    "quadrilateral",
    "polygon",
    "shape",
    "figure",
    "integer",
    "one",
];

/// Words that only introduce a condition (`when n is even`).
const CONDITION_WORDS: &[&str] = &["when", "whenever", "if", "iff", "exactly", "precisely"];

/// Verbs that only carry a negation (`does not win`).
const AUXILIARIES: &[&str] = &[
    "do", "does", "did", "is", "are", "can", "will", "has", "have",
];

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "cannot", "neither", "nor", "none", "doesn",
];

/// Pairs of words that make two short answers different.
const OPPOSITES: &[(&str, &str)] = &[
    ("yes", "no"),
    ("even", "odd"),
    ("first", "second"),
    ("possible", "impossible"),
    ("rational", "irrational"),
    ("bounded", "unbounded"),
    ("finitely", "infinitely"),
    ("finite", "infinite"),
    ("win", "lose"),
    ("winning", "lose"),
    ("winning", "losing"),
    ("true", "false"),
    ("always", "never"),
    ("increasing", "decreasing"),
    ("odd", "even"),
    ("exists", "none"),
    ("white", "black"),
    ("positive", "negative"),
    ("left", "right"),
    ("clockwise", "counterclockwise"),
    ("clockwise", "anticlockwise"),
    ("converge", "diverge"),
    ("convergent", "divergent"),
    ("maximum", "minimum"),
    ("inside", "outside"),
    ("above", "below"),
    ("larger", "smaller"),
    ("always", "sometime"),
    ("first", "last"),
];

/// A whole answer that is a number in words (`five`, `\text{Twenty-one}`, `three quarters`) →
/// its value as LaTeX.
pub(crate) fn number_word(s: &str) -> Option<String> {
    if !has_letter_run(s, 3) {
        return None;
    }
    crate::number_words::value(&plain_text(s))
}

/// `\text{…}` and similar wrappers removed, `$` and `\left`/`\right` dropped.
fn plain_text(s: &str) -> String {
    unwrap_cmds(
        s,
        &[
            "\\text",
            "\\textbf",
            "\\textit",
            "\\textnormal",
            "\\textrm",
            "\\mathrm",
            "\\mathbf",
            "\\mbox",
            "\\operatorname",
        ],
    )
    .replace("\\left", "")
    .replace("\\right", "")
    .replace(['$', '~'], " ")
}

/// True when the answer has words a reader, not a parser, is needed for: a run of three or
/// more letters that is not a LaTeX command, a function or a connective.
pub(crate) fn prose_like(s: &str) -> bool {
    if !has_letter_run(s, 3) {
        return false;
    }
    let t = plain_text(s);
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 1;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            continue;
        }
        if b[i].is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = t[start..i].to_ascii_lowercase();
            if w.len() >= 3
                && !crate::lexer::FUNCS.contains(&w.as_str())
                && !crate::lexer::is_unit(&w)
                && !matches!(w.as_str(), "and" | "mod" | "pmod" | "bmod")
            {
                return true;
            }
            continue;
        }
        i += 1;
    }
    false
}

/// Words, numbers and punctuation only: no operator, relation or command is left once
/// `\text{}` is unwrapped, so comparing words cannot overlook mathematics.
pub(crate) fn wordy(s: &str) -> bool {
    let t = plain_text(s);
    let c: Vec<char> = t.chars().collect();
    c.iter().enumerate().all(|(k, &ch)| {
        ch.is_alphanumeric()
            || ch.is_whitespace()
            || matches!(ch, ',' | ';' | '.' | '(' | ')' | '!' | '?')
            || (matches!(ch, '-' | '\'')
                && k > 0
                && c[k - 1].is_alphabetic()
                && c.get(k + 1).is_some_and(|x| x.is_alphabetic()))
    })
}

/// Only words, letters and separators (`A and C`, `(A), (C)`, `parabola, line`): no digits,
/// no operators and no tuple of several items.
pub(crate) fn text_only(s: &str) -> bool {
    if !s.bytes().any(|b| b.is_ascii_alphabetic())
        || s.bytes()
            .any(|b| b.is_ascii_digit() || b"^_=<>+*/|".contains(&b))
    {
        return false;
    }
    // A minus sign is mathematics (`-x`, `-i`); only a hyphen inside a word (`right-angled`)
    // is text.
    let b = s.as_bytes();
    if b.iter().enumerate().any(|(k, &c)| {
        c == b'-'
            && !(k > 0
                && b[k - 1].is_ascii_alphabetic()
                && b.get(k + 1).is_some_and(u8::is_ascii_alphabetic))
    }) {
        return false;
    }
    let t = plain_text(s);
    if !t.chars().any(|c| c.is_alphabetic()) {
        return false;
    }
    let mut depth_items = Vec::new();
    for c in t.chars() {
        match c {
            '(' => depth_items.push(false),
            ')' => {
                if depth_items.pop() == Some(true) {
                    return false;
                }
            }
            ',' if !depth_items.is_empty() => *depth_items.last_mut().unwrap() = true,
            c if c.is_alphabetic() || c.is_whitespace() || matches!(c, ',' | '.' | ';' | '-') => {}
            _ => return false,
        }
    }
    true
}

/// `n` ASCII letters in a row somewhere in `s` (a cheap test before any allocation).
fn has_letter_run(s: &str, n: usize) -> bool {
    let mut run = 0;
    for b in s.bytes() {
        if b.is_ascii_alphabetic() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Lower-case words in phrases: `a parabola and a line` → [[parabola], [line]].
fn phrases(s: &str) -> Vec<Vec<String>> {
    let t = plain_text(s).to_lowercase();
    let mut parts: Vec<Vec<String>> = vec![vec![]];
    let mut word = String::new();
    let flush = |word: &mut String, parts: &mut Vec<Vec<String>>| {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        if w == "and" || w == "or" {
            parts.push(vec![]);
        } else if w == "dne" {
            // The abbreviation of calculus answers.
            let p = parts.last_mut().unwrap();
            p.extend(["does", "not", "exist"].map(String::from));
        } else {
            parts.last_mut().unwrap().push(singular(w));
        }
    };
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // A command's name is a word of its own (`\infty`).
            flush(&mut word, &mut parts);
            while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                word.push(chars.next().unwrap());
            }
            flush(&mut word, &mut parts);
            continue;
        }
        if c.is_alphanumeric() || c == '.' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut parts);
        if matches!(c, ',' | ';' | '&') {
            parts.push(vec![]);
        }
    }
    flush(&mut word, &mut parts);
    parts.retain(|p| !p.is_empty());
    // An article starts a phrase of several words; alone it is a letter (`A and C`).
    for p in &mut parts {
        if p.len() > 1 && matches!(p[0].as_str(), "a" | "an" | "the") {
            p.remove(0);
        }
        ordinal_players(p);
        // `Player A` is `A`: the noun before a one-letter name only says what it names.
        if let Some(k) = (0..p.len().saturating_sub(1)).find(|&k| {
            matches!(p[k].as_str(), "player" | "person") && p[k + 1].chars().count() == 1
        }) {
            p.remove(k);
        }
    }
    parts
}

/// `player 2` → `second player`, as players are usually named in answers.
fn ordinal_players(p: &mut [String]) {
    const ORDINALS: [(&str, &str, &str); 4] = [
        ("1", "one", "first"),
        ("2", "two", "second"),
        ("3", "three", "third"),
        ("4", "four", "fourth"),
    ];
    for k in 0..p.len().saturating_sub(1) {
        if !matches!(p[k].as_str(), "player" | "person") {
            continue;
        }
        if let Some((_, _, ord)) = ORDINALS
            .iter()
            .find(|(d, w, _)| p[k + 1] == *d || p[k + 1] == *w)
        {
            let noun = p[k].clone();
            p[k] = ord.to_string();
            p[k + 1] = noun;
        }
    }
}

fn singular(w: String) -> String {
    if matches!(
        w.as_str(),
        "does" | "goes" | "this" | "was" | "has" | "always" | "less" | "thus" | "plus"
    ) {
        return w;
    }
    if w.len() >= 4
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        w[..w.len() - 1].to_string()
    } else {
        w
    }
}

/// `\infty` as the answer to "how many": the same as "infinitely many" in words.
/// "Does not exist" (`DNE`, "undefined") against a number: different answers.
pub(crate) fn nonexistence_vs_number(pred: &str, gold: &str) -> bool {
    let none = |s: &str| {
        let t = crate::text::text_key(s).to_ascii_lowercase();
        let t = t.trim_end_matches('.');
        matches!(
            t,
            "doesnotexist"
                | "dne"
                | "undefined"
                | "notdefined"
                | "thelimitdoesnotexist"
                | "itdoesnotexist"
                | "diverges"
                | "divergent"
        )
    };
    let number = |s: &str| {
        let t = crate::text::text_key(s);
        let t = ["\\frac", "\\sqrt", "\\pi"]
            .iter()
            .fold(t, |acc, c| acc.replace(c, ""));
        !t.is_empty()
            && t.chars().any(|c| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_digit() || ".-+/{}()^".contains(c))
    };
    (none(pred) && number(gold)) || (none(gold) && number(pred))
}

/// `Some(true)` for `\infty` against "infinitely many"; `Some(false)` for "infinitely many"
/// against a finite count (`0`, `12`, `three`).
pub(crate) fn infinitely_many(pred: &str, gold: &str) -> Option<bool> {
    if !pred.contains("nfinit") && !gold.contains("nfinit") {
        return None;
    }
    // The words, less filler: `["infinitely", "many"]`.
    let words = |s: &str| -> Vec<String> {
        phrases(s)
            .into_iter()
            .flatten()
            .filter(|x| !FILLER.contains(&x.as_str()))
            .collect()
    };
    let many = |s: &str, bare: bool| {
        let w = words(s);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["infinitely", "many"] | ["infinitely", "many", "solution"] => true,
            ["infinite"] | ["infinity"] => bare,
            _ => false,
        }
    };
    let inf = |s: &str| {
        matches!(
            crate::text::text_key(s).as_str(),
            "\\infty" | "∞" | "+\\infty"
        )
    };
    if (inf(pred) && many(gold, true)) || (inf(gold) && many(pred, true)) {
        return Some(true);
    }
    let count = |s: &str| {
        let t = plain_text(s);
        let t = t.trim();
        let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        digits(t) || crate::number_words::value(t).is_some_and(|v| digits(&v))
    };
    ((many(pred, false) && count(gold)) || (many(gold, false) && count(pred))).then_some(false)
}

/// `Some(true)`: the same answer in words; `Some(false)`: words that contradict; `None`: the
/// rules cannot tell.
pub(crate) fn compare(pred: &str, gold: &str) -> Option<bool> {
    let (pp, gp) = (phrases(pred), phrases(gold));
    if pp.is_empty() || gp.is_empty() {
        return None;
    }
    if says_nothing_exists(&pp) && says_nothing_exists(&gp) {
        return Some(true);
    }
    // `T` for `True`, `F` for `False` (a truth value abbreviated).
    let truth = |ps: &Vec<Vec<String>>| match ps.as_slice() {
        [p] if p.len() == 1 => match p[0].as_str() {
            "true" | "t" => Some(true),
            "false" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    };
    if let (Some(x), Some(y)) = (truth(&pp), truth(&gp)) {
        return Some(x == y);
    }
    let mut sp: Vec<String> = pp.iter().map(|p| p.join(" ")).collect();
    let mut sg: Vec<String> = gp.iter().map(|p| p.join(" ")).collect();
    sp.sort();
    sg.sort();
    if sp == sg {
        return Some(true);
    }
    // "Not necessarily" answers a "must it …?" question with no.
    let flat = |ps: &Vec<Vec<String>>| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for w in ps.iter().flatten() {
            // "not possible" is "impossible" (and "not rational" "irrational", …), so the
            // opposites and restatements see one word.
            let negated = match w.as_str() {
                "possible" => Some("impossible"),
                "rational" => Some("irrational"),
                "finite" => Some("infinite"),
                "bounded" => Some("unbounded"),
                _ => None,
            };
            // "not a rational number": the article between them changes nothing.
            let article = v.last().is_some_and(|p| p == "a" || p == "an");
            let before = v.len().checked_sub(1 + usize::from(article)).map(|k| &v[k]);
            if let Some(n) = negated.filter(|_| before.is_some_and(|p| p == "not")) {
                v.truncate(v.len() - 1 - usize::from(article));
                v.push(n.into());
            } else {
                v.push(w.clone());
            }
        }
        if v == ["not", "necessarily"] {
            vec!["no".to_string()]
        } else {
            v
        }
    };
    let (fp, fg) = (flat(&pp), flat(&gp));
    let (short, long) = if fp.len() <= fg.len() {
        (&fp, &fg)
    } else {
        (&fg, &fp)
    };
    // `no` / `yes` followed by a reason.
    if short.len() == 1 && matches!(short[0].as_str(), "yes" | "no") {
        // "Yes, because …" restates; "Yes if n is even" answers another question.
        if long
            .iter()
            .any(|w| CONDITION_WORDS.contains(&w.as_str()) || w == "unless")
        {
            return None;
        }
        if long[0] == short[0] {
            return Some(true);
        }
        if matches!(long[0].as_str(), "yes" | "no") {
            return Some(false);
        }
    }
    if let Some(extra) = restated(short, long) {
        if extra.iter().any(|w| NEGATIONS.contains(&w.as_str())) {
            return Some(false);
        }
        if absorbs(&extra) && !short.iter().all(|w| FILLER.contains(&w.as_str())) {
            return Some(true);
        }
    }
    // `even n` against `when n is even`: the same words that carry meaning, in the same order,
    // once filler and the words that only introduce a condition are set aside. The order is
    // kept so `Alice beats Bob` never equals `Bob beats Alice`.
    let content = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|w| !FILLER.contains(&w.as_str()) && !CONDITION_WORDS.contains(&w.as_str()))
            .cloned()
            .collect()
    };
    let cp = content(&fp);
    let cg = content(&fg);
    if !cp.is_empty() && cp == cg {
        return Some(true);
    }
    // `p prime` against `all primes p`: one name, the same on each side, may stand before or
    // after the words saying what kind of number it is (only those: `A beats B` is not
    // `B beats A`).
    let letters = |v: &[String]| -> (Vec<String>, Vec<String>) {
        let (mut l, w): (Vec<String>, Vec<String>) =
            v.iter().cloned().partition(|x| x.chars().count() == 1);
        l.sort();
        (l, w)
    };
    let ((lp, wp), (lg, wg)) = (letters(&cp), letters(&cg));
    if lp.len() == 1
        && lp == lg
        && !wp.is_empty()
        && wp == wg
        && wp.iter().all(|w| crate::lexer::is_property_text(w))
    {
        return Some(true);
    }
    // `first` against `the first player`, `isosceles` against `an isosceles triangle`: the
    // longer one only names what the shorter one describes. Only a noun after all of the short
    // answer's words counts, so `triangle` never equals `right triangle`.
    let (cs, cl) = if cp.len() < cg.len() {
        (&cp, &cg)
    } else {
        (&cg, &cp)
    };
    if !cs.is_empty()
        && cl.len() == cs.len() + 1
        && cl[..cs.len()] == cs[..]
        && HEAD_NOUNS.contains(&cl[cs.len()].as_str())
    {
        return Some(true);
    }
    if let ([x], [y]) = (cp.as_slice(), cg.as_slice()) {
        if x != y
            && KINDS
                .iter()
                .any(|k| k.contains(&x.as_str()) && k.contains(&y.as_str()))
        {
            return Some(false);
        }
    }
    // `Euler line` against `Simson line`: the same kind of thing, named differently.
    if cp.len() == cg.len()
        && cp.len() >= 2
        && cp.last() == cg.last()
        && cp.iter().zip(&cg).filter(|(x, y)| x != y).count() == 1
    {
        return Some(false);
    }
    // `all odd primes p` against `all primes p`: one side narrows the other by one adjective.
    if cl.len() == cs.len() + 1
        && (0..cl.len()).any(|j| {
            RESTRICTING.contains(&cl[j].as_str())
                && cl[..j].iter().chain(&cl[j + 1..]).eq(cs.iter())
        })
    {
        return Some(false);
    }
    // `a parabola` against `a parabola and a line`: a part of the list is missing.
    if pp.len() != gp.len() && pp.len().min(gp.len()) >= 1 && pp.len().max(gp.len()) >= 2 {
        let (few, many) = if sp.len() < sg.len() {
            (&sp, &sg)
        } else {
            (&sg, &sp)
        };
        if few.iter().all(|x| many.contains(x)) {
            return Some(false);
        }
    }
    let has = |v: &Vec<String>, w: &str| v.iter().any(|x| x == w);
    for (x, y) in OPPOSITES {
        if (has(&fp, x) && has(&fg, y) && !has(&fg, x))
            || (has(&fp, y) && has(&fg, x) && !has(&fp, x))
        {
            return Some(false);
        }
    }
    // `the second player does not win` against `the second player wins`.
    let neg = |v: &Vec<String>| v.iter().any(|w| NEGATIONS.contains(&w.as_str()));
    if neg(&fp) != neg(&fg) {
        let core = |v: &Vec<String>| -> Vec<String> {
            v.iter()
                .filter(|w| !NEGATIONS.contains(&w.as_str()) && !AUXILIARIES.contains(&w.as_str()))
                .cloned()
                .collect()
        };
        let (cp, cg) = (core(&fp), core(&fg));
        let (s, l) = if cp.len() <= cg.len() {
            (&cp, &cg)
        } else {
            (&cg, &cp)
        };
        if restated(s, l).is_some_and(|extra| absorbs(&extra)) {
            return Some(false);
        }
    }
    None
}

/// One phrase that only says nothing exists: `none`, `no solution`, `no such n exists`,
/// `does not exist`. A bare `no` answers a yes/no question, so it does not count, nor does
/// anything with a word outside [`NOTHING_WORDS`] (`no real root but two complex ones`).
fn says_nothing_exists(ps: &[Vec<String>]) -> bool {
    let [p] = ps else { return false };
    let listed = |w: &String| NOTHING_WORDS.contains(&w.as_str()) || w.chars().count() == 1;
    let has = |w: &str| p.iter().any(|x| x == w);
    p.iter().all(listed)
        && (has("none") || (has("no") && p.len() >= 2) || (has("not") && has("exist")))
}

/// The words `long` adds around one occurrence of `short` (in order), if it contains it.
fn restated(short: &[String], long: &[String]) -> Option<Vec<String>> {
    if short.is_empty() || short.len() > long.len() {
        return None;
    }
    (0..=long.len() - short.len())
        .find(|&k| long[k..k + short.len()] == *short)
        .map(|k| {
            long[..k]
                .iter()
                .chain(&long[k + short.len()..])
                .cloned()
                .collect()
        })
}

/// Adjectives that narrow a kind of number to part of it.
const RESTRICTING: &[&str] = &[
    "odd",
    "even",
    "prime",
    "composite",
    "positive",
    "negative",
    "nonnegative",
    "nonzero",
    "rational",
    "irrational",
    "square",
    "distinct",
];

/// Every added word is a filler word; `number of <noun>` counts as filler (`every even
/// number of players` for `even`).
fn absorbs(extra: &[String]) -> bool {
    let mut i = 0;
    while i < extra.len() {
        let w = extra[i].as_str();
        if matches!(w, "number" | "numbers") && extra.get(i + 1).is_some_and(|x| x == "of") {
            i += 3;
            continue;
        }
        if !FILLER.contains(&w) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_drop_articles_but_keep_letters() {
        assert_eq!(
            phrases("\\text{a parabola and a line}"),
            vec![vec!["parabola".to_string()], vec!["line".to_string()]]
        );
        assert_eq!(phrases("A and C"), vec![vec!["a"], vec!["c"]]);
    }

    #[test]
    fn restated_answers() {
        assert_eq!(
            compare("second player", "the second player wins"),
            Some(true)
        );
        assert_eq!(
            compare("first player", "the second player wins"),
            Some(false)
        );
        assert_eq!(
            compare("the second player does not win", "second player"),
            Some(false)
        );
        assert_eq!(compare("Monday", "Tuesday"), Some(false));
        assert_eq!(compare("Monday", "Blursday"), None);
        assert_eq!(compare("every even number of players", "even"), Some(true));
        assert_eq!(compare("when n is even", "even n"), Some(true));
        assert_eq!(compare("Yes if n is even", "Yes"), None);
        assert_eq!(compare("Not necessarily", "No"), Some(true));
        assert_eq!(compare("It is not possible", "impossible"), Some(true));
        assert_eq!(compare("It is not possible", "possible"), Some(false));
        assert_eq!(compare("Not necessarily", "Yes"), Some(false));
        assert_eq!(compare("Yes, because 4 divides it", "Yes"), Some(true));
        assert_eq!(compare("exactly when n is odd", "even n"), Some(false));
        assert_eq!(compare("Alice beats Bob", "Bob beats Alice"), None);
        assert_eq!(compare("no, it is impossible", "No"), Some(true));
        assert_eq!(compare("no such n exists", "none"), Some(true));
        assert_eq!(
            compare("there is no solution", "does not exist"),
            Some(true)
        );
        assert_eq!(compare("no", "none"), None);
        assert_eq!(compare("no real solution", "none"), Some(true));
        assert_eq!(compare("no positive solution", "none"), None);
        assert_eq!(compare("p prime", "all primes p"), Some(true));
        assert_eq!(compare("p prime", "all primes q"), None);
        assert_eq!(compare("A beats B", "B beats A"), None);
        assert_eq!(compare("a square", "rhombus"), Some(false));
        assert!(!text_only("-x") && !text_only("- i") && text_only("right-angled"));
        assert_eq!(compare("Player A", "A"), Some(true));
        assert_eq!(compare("Player A wins", "B"), None);
        assert_eq!(compare("not a rational number", "irrational"), Some(true));
        assert_eq!(compare("not a rational number", "rational"), Some(false));
        assert_eq!(compare("Bob", "Alice wins"), Some(false));
        assert_eq!(
            compare("right-angled triangle", "right triangle"),
            Some(true)
        );
        // A list with a part missing.
        assert_eq!(compare("Bob", "Alice and Bob"), Some(false));
        assert_eq!(compare("a parabola", "a parabola and a line"), Some(false));
        assert_eq!(compare("all odd primes p", "all primes p"), Some(false));
        assert_eq!(compare("all integers n", "n"), None);
        assert_eq!(compare("Euler line", "Simson line"), Some(false));
        assert_eq!(compare("T", "True"), Some(true));
        assert_eq!(compare("F", "True"), Some(false));
        assert!(nonexistence_vs_number("\\text{does not exist}", "0"));
        assert!(!nonexistence_vs_number(
            "\\text{does not exist}",
            "\\text{DNE}"
        ));
    }
}
