//! Structure-aware mutations for grader inputs: model responses and answers are LaTeX-ish text,
//! so byte flips rarely make a new shape. These edit the text where graders break: boxes and
//! braces cut, nested, repeated; `\left`/`\right`; long digit runs; deep nesting; tricky
//! Unicode; answer phrases; the pred/gold separator; and pieces spliced from other inputs.
//! Every result is valid UTF-8 and at most `max_size` bytes.

/// SplitMix64, seeded by libFuzzer (so a run with `-seed` is reproducible).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(u64::from(seed) ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Mostly small, sometimes large: `1..=max`, log-uniform.
    pub fn count(&mut self, max: usize) -> usize {
        let bits = usize::BITS - max.leading_zeros();
        let cap = 1usize << self.below(bits as usize + 1);
        1 + self.below(cap.min(max))
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Tokens a grader reacts to (answer anchors, LaTeX, the separator of pred and gold).
const TOKENS: &[&str] = &[
    "\\boxed{",
    "\\boxed ",
    "\\fbox{",
    "}",
    "{",
    "\\boxed{}",
    "\\boxed{}}",
    "$",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\frac",
    "\\frac{",
    "\\dfrac",
    "\\sqrt",
    "\\sqrt[",
    "\\left",
    "\\right",
    "\\left(",
    "\\right)",
    "\\left\\{",
    "\\right.",
    "\\{",
    "\\}",
    "\\text{",
    "\\mathrm{",
    "\\mathbf{",
    "\\operatorname{",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\begin{cases}",
    "\\end{cases}",
    "\\\\",
    "&",
    "\\pm",
    "\\cup",
    "\\in ",
    "\\infty",
    "\\pi",
    "^",
    "_",
    "^\\circ",
    "\\%",
    "%",
    "!",
    "=",
    "\\le",
    "\\ge",
    ",",
    ";",
    ".",
    "...",
    "\\ldots",
    "(",
    ")",
    "[",
    "]",
    "|",
    "\\,",
    "\\!",
    "{,}",
    ",\\!",
    "final answer is ",
    "The final answer is $",
    "I hope",
    "Final Answer: ",
    "Answer:",
    "answer is ",
    "####",
    "A: ",
    "答案：",
    "Réponse : ",
    "<think>",
    "</think>",
    "\n",
    "\n\n",
    " and ",
    " or ",
    "\\quad",
    "\\text{ and }",
    "Point(",
    "Matrix([[",
    "e-",
    "e+",
    "E",
    "1e-9223372036854775808",
    "9223372036854775807",
    "0.",
    "-",
    "+",
    "*",
    "**",
    "/",
    "\\cdot",
    "\\times",
    "x",
    "i",
    "\\sin",
    "\\log_",
    "\\binom",
    "\\sum_{k=1}^{n}",
    "\u{1}",
];

/// Characters whose case mapping, width or class breaks byte-offset assumptions.
const UNICODE: &[char] = &[
    'İ',
    'ı',
    '\u{212A}',
    'Ⱥ',
    'ẞ',
    'ß',
    'Σ',
    'ς',
    'é',
    'ё',
    'Ω',
    '\u{2126}',
    'ǅ',
    'ﬃ',
    '答',
    '案',
    '：',
    '．',
    '，',
    '\u{3000}',
    '\u{a0}',
    '\u{2009}',
    '\u{200b}',
    '\u{200d}',
    '\u{feff}',
    '\u{301}',
    'ٔ',
    'ا',
    'ل',
    '٣',
    '۳',
    '१',
    '½',
    '²',
    '⁻',
    '√',
    'π',
    '∞',
    '−',
    '×',
    '÷',
    '·',
    '≤',
    '≥',
    '≠',
    '≈',
    '±',
    '°',
    '…',
    '€',
    '£',
    '¥',
    '₹',
    '𝟙',
    '𝑥',
    '😀',
    '\u{10ffff}',
    '\u{fffd}',
    '\r',
    '\t',
    '\u{b}',
    '\u{85}',
    '\u{2028}',
    '\0',
];

/// Opening and closing halves for deep nesting.
const NESTS: &[(&str, &str)] = &[
    ("{", "}"),
    ("(", ")"),
    ("[", "]"),
    ("\\{", "\\}"),
    ("\\boxed{", "}"),
    ("\\fbox{", "}"),
    ("\\frac{", "}{2}"),
    ("\\frac{1}{", "}"),
    ("\\sqrt{", "}"),
    ("\\mathrm{", "}"),
    ("\\text{", "}"),
    ("\\left(", "\\right)"),
    ("\\left\\{", "\\right."),
    ("|", "|"),
    ("x^{", "}"),
    ("2^", ""),
    ("-", ""),
    ("+", ""),
    ("--", ""),
    ("", "!"),
    ("", "%"),
    ("", "^\\circ"),
    ("\\sin ", ""),
    ("$", "$"),
    ("\\begin{pmatrix}", "\\end{pmatrix}"),
];

/// A random char boundary of `s` (`0..=len`).
fn boundary(s: &str, rng: &mut Rng) -> usize {
    let mut i = rng.below(s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A random range of whole chars, `a <= b`.
fn range(s: &str, rng: &mut Rng) -> (usize, usize) {
    let (a, b) = (boundary(s, rng), boundary(s, rng));
    (a.min(b), a.max(b))
}

/// A random occurrence of `pat`, if any.
fn occurrence(s: &str, pat: &str, rng: &mut Rng) -> Option<usize> {
    let n = s.matches(pat).count();
    if n == 0 {
        return None;
    }
    s.match_indices(pat).nth(rng.below(n)).map(|(i, _)| i)
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut i = max;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        s.truncate(i);
    }
}

/// One structure-aware edit of `s`; the caller truncates to the size limit.
pub fn mutate_text(s: &mut String, rng: &mut Rng, max: usize) {
    let room = max.saturating_sub(s.len()).max(16);
    match rng.below(14) {
        // Wrap a range in a box (nesting when the range holds one).
        0 => {
            let (a, b) = range(s, rng);
            let (open, close) = rng.pick(&[
                ("\\boxed{", "}"),
                ("\\fbox{", "}"),
                ("$\\boxed{", "}$"),
                ("\\boxed ", ""),
                ("\\boxed{", ""),
                ("\\boxed{", "}}"),
            ]);
            s.insert_str(b, close);
            s.insert_str(a, open);
        }
        // Cut: drop a brace, or end the text inside a box (a token budget running out).
        1 => {
            if let Some(i) = occurrence(s, rng.pick(&["{", "}", "\\boxed{", "$"]), rng) {
                if rng.below(2) == 0 {
                    let end = i + s[i..].chars().next().map_or(0, char::len_utf8);
                    s.replace_range(i..end, "");
                } else {
                    let keep = i + boundary(&s[i..], rng).min(12);
                    let mut k = keep.min(s.len());
                    while !s.is_char_boundary(k) {
                        k -= 1;
                    }
                    s.truncate(k);
                }
            }
        }
        // Closers and empty boxes at the end or anywhere (`\boxed{}}`).
        2 => {
            let t = rng.pick(&[
                "}",
                "}}",
                "\\boxed{}",
                "\\boxed{}}",
                "\\boxed{\\boxed{}}",
                "{",
            ]);
            let at = if rng.below(2) == 0 {
                s.len()
            } else {
                boundary(s, rng)
            };
            s.insert_str(at, t);
        }
        // Repeat a range (or the whole text) k times: growth up to the size limit.
        3 => {
            let (a, b) = if rng.below(4) == 0 {
                (0, s.len())
            } else {
                range(s, rng)
            };
            let piece = s[a..b].to_string();
            if !piece.is_empty() {
                let k = rng.count((room / piece.len()).max(1));
                s.insert_str(b, &piece.repeat(k));
            }
        }
        // `\left`/`\right`, balanced or not.
        4 => {
            let (a, b) = range(s, rng);
            let (open, close) = rng.pick(&[
                ("\\left(", "\\right)"),
                ("\\left[", "\\right)"),
                ("\\left\\{", "\\right."),
                ("\\left.", "\\right|"),
                ("\\left", ""),
                ("", "\\right"),
                ("\\left\\lbrace", "\\right\\rbrace"),
            ]);
            s.insert_str(b, close);
            s.insert_str(a, open);
        }
        // Long digit runs, grouped numbers, extreme exponents.
        5 => {
            let n = rng.count(room.min(20_000));
            let digits: String = (0..n)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let t = match rng.below(6) {
                0 => digits,
                1 => format!("0.{digits}"),
                2 => format!("1e{}{digits}", rng.pick(&["", "-", "+"])),
                3 => digits
                    .as_bytes()
                    .chunks(3)
                    .map(|c| std::str::from_utf8(c).unwrap_or("0"))
                    .collect::<Vec<_>>()
                    .join(rng.pick(&[",", " ", "{,}", ",\\!"])),
                4 => format!("\\frac{{{digits}}}{{{}}}", &digits[..digits.len() / 2 + 1]),
                _ => format!("{digits}^{{{digits}}}"),
            };
            let at = boundary(s, rng);
            s.insert_str(at, &t);
        }
        // Deep nesting around a range, sometimes left unbalanced.
        6 => {
            let (open, close) = rng.pick(NESTS);
            let unit = open.len() + close.len();
            let k = rng.count((room / unit.max(1)).clamp(1, 10_000));
            let (a, b) = range(s, rng);
            let closers = if rng.below(5) == 0 {
                rng.below(k + 1)
            } else {
                k
            };
            s.insert_str(b, &close.repeat(closers));
            s.insert_str(a, &open.repeat(k));
        }
        // Tricky Unicode.
        7 => {
            let n = rng.count(16);
            let t: String = (0..n).map(|_| rng.pick(UNICODE)).collect();
            let at = boundary(s, rng);
            s.insert_str(at, &t);
        }
        // A token.
        8 => {
            let at = boundary(s, rng);
            s.insert_str(at, rng.pick(TOKENS));
        }
        // Move the pred/gold separator, or swap the sides.
        9 => match s.find('\u{1}') {
            Some(i) if rng.below(2) == 0 => {
                let (a, b) = (s[..i].to_string(), s[i + 1..].to_string());
                *s = format!("{b}\u{1}{a}");
            }
            Some(i) => {
                s.replace_range(i..i + 1, "");
                let at = boundary(s, rng);
                s.insert(at, '\u{1}');
            }
            None => {
                let at = boundary(s, rng);
                s.insert(at, '\u{1}');
            }
        },
        // Delete a range.
        10 => {
            let (a, b) = range(s, rng);
            s.replace_range(a..b, "");
        }
        // Change case over a range (answer words, `\Boxed`).
        11 => {
            let (a, b) = range(s, rng);
            let t = if rng.below(2) == 0 {
                s[a..b].to_uppercase()
            } else {
                s[a..b].to_lowercase()
            };
            s.replace_range(a..b, &t);
        }
        // Move a range elsewhere.
        12 => {
            let (a, b) = range(s, rng);
            let piece = s[a..b].to_string();
            s.replace_range(a..b, "");
            let at = boundary(s, rng);
            s.insert_str(at, &piece);
        }
        // Replace a range by a token or a nesting half.
        _ => {
            let (a, b) = range(s, rng);
            let t = if rng.below(2) == 0 {
                rng.pick(TOKENS)
            } else {
                let (o, c) = rng.pick(NESTS);
                if rng.below(2) == 0 {
                    o
                } else {
                    c
                }
            };
            s.replace_range(a..b, t);
        }
    }
}

/// The custom mutator: a quarter of the time libFuzzer's own byte-level mutations (they find
/// what structure misses), else one to three structure-aware edits.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    if rng.below(4) == 0 {
        return libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    }
    let mut s = String::from_utf8_lossy(&data[..size]).into_owned();
    for _ in 0..1 + rng.below(3) {
        mutate_text(&mut s, &mut rng, max_size);
        truncate(&mut s, max_size);
    }
    data[..s.len()].copy_from_slice(s.as_bytes());
    s.len()
}

/// The custom crossover: a piece of one input spliced into the other (inserted, or replacing a
/// range), often a piece starting at a box or an answer phrase.
pub fn crossover(data1: &[u8], data2: &[u8], out: &mut [u8], seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    let a = String::from_utf8_lossy(data1);
    let b = String::from_utf8_lossy(data2);
    let (p, q) = match ["\\boxed", "answer", "$", "\\frac"].iter().find_map(|pat| {
        (rng.below(3) == 0)
            .then(|| occurrence(&b, pat, &mut rng))
            .flatten()
    }) {
        Some(i) => {
            let len = boundary(&b[i..], &mut rng);
            (i, i + len)
        }
        None => range(&b, &mut rng),
    };
    let piece = &b[p..q];
    let mut s = a.into_owned();
    let (x, y) = range(&s, &mut rng);
    if rng.below(2) == 0 {
        s.replace_range(x..y, piece);
    } else {
        s.insert_str(x, piece);
    }
    if rng.below(3) == 0 {
        mutate_text(&mut s, &mut rng, out.len());
    }
    truncate(&mut s, out.len());
    out[..s.len()].copy_from_slice(s.as_bytes());
    s.len()
}
