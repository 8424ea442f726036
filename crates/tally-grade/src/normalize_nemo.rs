//! The seed's answer normaliser (spec §4.3 steps 1–2), quirks included.

use crate::pyfloat::py_float;
use num_bigint::BigInt;
use num_traits::FromPrimitive;
use regex::Regex;
use std::sync::OnceLock;

struct Res {
    dollar_num: Regex,
    pct: Regex,
    text_or_and: Regex,
    comma_comma: Regex,
    text_split: Regex,
    text_sub: Regex,
    surround: Vec<Regex>,
    units: Vec<Regex>,
    days: Regex,
    circ: Regex,
    sqrt: Regex,
    minus: Regex,
    mixed: Regex,
    mixed_frac: Regex,
    commas: Regex,
}

// Compiled once; read-only afterwards, so sharing across threads is safe and deterministic.
fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| {
        let units = [
            "degree",
            "cm",
            "centimeter",
            "meter",
            "mile",
            "second",
            "minute",
            "hour",
            "week",
            "month",
            "year",
            "foot",
            "feet",
            "inch",
            "yard",
            "p.m.",
            "PM",
        ];
        Res {
            dollar_num: Regex::new(r"^\$\d+(\.\d+)?").unwrap(),
            pct: Regex::new(r"^\d+(\.\d+)?(%|\\%)$").unwrap(),
            text_or_and: Regex::new(r"\s*\\text\{\s*(or|and)\s*\}\s*").unwrap(),
            comma_comma: Regex::new(r",\s*,").unwrap(),
            text_split: Regex::new(r"\\text\s*\{\s*").unwrap(),
            text_sub: Regex::new(r"\\text\{([^}]+)\}").unwrap(),
            surround: ["text", "mathrm", "mathcal", "textbf", "textit"]
                .iter()
                .map(|w| Regex::new(&format!(r"^\\{w}\{{(.+?)\}}$")).unwrap())
                .collect(),
            units: units
                .iter()
                .map(|u| Regex::new(&format!(r"{u}(es)?(s)? *(\^[0-9]+)?")).unwrap())
                .collect(),
            days: Regex::new(r"day(s)?").unwrap(),
            circ: Regex::new(r"\^ *\\circ").unwrap(),
            sqrt: Regex::new(r"\\sqrt(\s*\w+)").unwrap(),
            minus: Regex::new(r"- *").unwrap(),
            mixed: Regex::new(r"([0-9]) +([0-9])").unwrap(),
            mixed_frac: Regex::new(r"(\d+) *\\frac\{(\d+)\}\{(\d+)\}").unwrap(),
            commas: Regex::new(r"(\d)(,)(\d\d\d)($|\D)").unwrap(),
        }
    })
}

/// Step 1: `$5` → `5`, `50%` / `50\%` → `50`.
pub(crate) fn normalize(s: &str) -> String {
    let r = res();
    if r.dollar_num.is_match(s) {
        return s[1..].to_string();
    }
    if r.pct.is_match(s) {
        return s.replace("\\%", "").replace('%', "");
    }
    s.to_string()
}

fn fix_fracs(s: &str) -> String {
    let mut s = s.to_string();
    while s.contains("\\frac ") {
        s = s.replace("\\frac ", "\\frac");
    }
    let parts: Vec<&str> = s.split("\\frac").collect();
    let mut out = parts[0].to_string();
    for sub in &parts[1..] {
        out.push_str("\\frac");
        let ch: Vec<char> = sub.chars().collect();
        if ch.first() == Some(&'{') {
            out.push_str(sub);
            continue;
        }
        if ch.len() < 2 {
            return s;
        }
        let (a, b) = (ch[0], ch[1]);
        let post: String = ch[2..].iter().collect();
        if b != '{' {
            out.push_str(&format!("{{{a}}}{{{b}}}{post}"));
        } else {
            out.push_str(&format!("{{{a}}}{b}{post}"));
        }
    }
    out
}

pub(crate) fn strip_commas(s: &str) -> String {
    let r = res();
    let mut e = s.to_string();
    loop {
        let n = r.commas.replace_all(&e, "${1}${3}${4}").into_owned();
        if n == e {
            return n;
        }
        e = n;
    }
}

fn str_is_int(s: &str) -> bool {
    match py_float(&strip_commas(s)) {
        Some(x) if x.is_finite() => (x - x.round()).abs() <= 1e-7,
        _ => false,
    }
}

fn str_to_int(s: &str) -> Option<String> {
    let x = s.replace(',', "");
    let x = x.split('_').next().unwrap_or("");
    let v = py_float(x)?;
    BigInt::from_f64(v.trunc()).map(|b| b.to_string())
}

/// Step 2: `normalize_answer_string`. `Err(())` stands for the seed's AssertionError on a
/// malformed `\mbox{`, which makes the whole comparison False.
pub(crate) fn normalize_answer_string(expr: &str) -> Result<String, ()> {
    let r = res();
    let mut e = expr.replace("\\left", "").replace("\\right", "");
    e = r.text_or_and.replace_all(&e, ",").into_owned();
    e = r.comma_comma.replace_all(&e, ",").into_owned();
    // _remove_right_units
    let mut handled = false;
    if e.contains("\\text") {
        let parts: Vec<&str> = r.text_split.split(&e).collect();
        if parts.len() == 2 && !parts[0].is_empty() && parts[0] != "(" {
            e = parts[0].to_string();
            handled = true;
        }
    }
    if !handled {
        if e.contains("\\text{") {
            e = r.text_sub.replace_all(&e, "${1}").into_owned();
        } else if e.contains("\\mbox{") {
            let parts: Vec<&str> = e.split("\\mbox{").collect();
            if parts.len() != 2 {
                return Err(());
            }
            e = parts[0].to_string();
        }
    }
    if let Some(k) = e.find("\\in ") {
        let rest = &e[k + 4..];
        // Python's split()[1]: the text up to the next "\in ".
        let rest = rest.split("\\in ").next().unwrap_or("");
        e = rest.trim().to_string();
    }
    for (w, re) in [
        "\\\\text",
        "\\\\mathrm",
        "\\\\mathcal",
        "\\\\textbf",
        "\\\\textit",
    ]
    .iter()
    .zip(&r.surround)
    {
        e = e.replace(w, "");
        if let Some(c) = re.captures(&e) {
            e = c[1].to_string();
        }
    }
    for (a, b) in [
        ("\\!", ""),
        ("\\%", "%"),
        ("\\$", "$"),
        ("$", ""),
        ("%", ""),
        ("^{\\circ}", ""),
        (" or ", " , "),
        (" and ", " , "),
        ("million", "*10^6"),
        ("billion", "*10^9"),
        ("trillion", "*10^12"),
    ] {
        e = e.replace(a, b);
    }
    for u in &r.units {
        e = u.replace_all(&e, "").into_owned();
    }
    if e.contains("day") {
        let week = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        if !week.iter().any(|d| e.contains(d)) {
            e = r.days.replace_all(&e, "").into_owned();
        }
    }
    e = r.circ.replace_all(&e, "").into_owned();
    if e.len() > 1 && e.starts_with('{') && e.ends_with('}') {
        e = e[1..e.len() - 1].to_string();
    }
    e = r.sqrt.replace_all(&e, "\\sqrt{${1}}").into_owned();
    e = fix_fracs(&e);
    e = r.minus.replace_all(&e, "-").into_owned();
    e = r.mixed.replace_all(&e, "${1}+${2}").into_owned();
    e = r
        .mixed_frac
        .replace_all(&e, "${1} + ${2}/${3}")
        .into_owned();
    e = e.replace(' ', "");
    if str_is_int(&e) {
        if let Some(i) = str_to_int(&e) {
            e = i;
        }
    }
    Ok(e)
}
