//! Word-problem sets of newer NeMo-Skills: algebra222, ASDiv, GSM-Plus, MAWPS, SVAMP.
//!
//! Their expected answers are numbers stored as integers when integral ("cleaner text"), except
//! where NeMo-Skills' own check never succeeds (ASDiv keeps strings); both are kept as it does.

use serde_json::{Map, Number, Value};
use tally_core::pyjson;

use crate::convert::{integral_as_int, required, str_field, SkipReason};

/// An integral float as an integer, other numbers unchanged (Python's `int(x) == x` rewrite);
/// strings are left alone, as `int("5") == "5"` is false there.
fn int_if_integral(v: &Value) -> Value {
    match v {
        Value::Number(_) => integral_as_int(v),
        _ => v.clone(),
    }
}

/// Python's `float(s)`: surrounding whitespace allowed.
fn py_float(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

fn float_value(f: f64) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("`{f}` is not a finite number"))
}

/// algebra222.csv: `question`, `final_answer`.
pub(crate) fn algebra222(rec: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let text = str_field(rec, "final_answer")?;
    let f = py_float(text).ok_or_else(|| format!("final_answer `{text}` is not a number"))?;
    let mut out = Map::new();
    out.insert(
        "problem".into(),
        Value::String(str_field(rec, "question")?.into()),
    );
    out.insert("expected_answer".into(), integral_as_int(&float_value(f)?));
    Ok(out)
}

/// ASDiv `<Problem>`: `Body`, `Question`, `Answer` (`"5 (apples)"`), `Solution-Type`.
pub(crate) fn asdiv(rec: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let body = str_field(rec, "Body")?.trim();
    let question = str_field(rec, "Question")?.trim();
    let answer = str_field(rec, "Answer")?;
    let mut out = Map::new();
    out.insert(
        "problem".into(),
        Value::String(format!("{body} {question}")),
    );
    let number = answer.split('(').next().unwrap_or("").trim();
    out.insert("expected_answer".into(), Value::String(number.into()));
    out.insert("type".into(), required(rec, "Solution-Type")?.clone());
    Ok(out)
}

/// GSM-Plus' perturbation types NeMo-Skills keeps by default (all of them).
const GSM_PLUS_CATEGORIES: [&str; 8] = [
    "adding_operation",
    "critical_thinking",
    "digit_expansion",
    "distraction_insertion",
    "integer-decimal-fraction_conversion",
    "numerical_substitution",
    "problem_understanding",
    "reversing_operation",
];

/// GSM-Plus: `test`, and `test_rounded` with a rounding instruction after the problem.
pub(crate) fn gsm_plus(
    split: &str,
    rec: &Map<String, Value>,
) -> Result<Result<Map<String, Value>, SkipReason>, String> {
    let kind = str_field(rec, "perturbation_type")?.replace(' ', "_");
    if !GSM_PLUS_CATEGORIES.contains(&kind.as_str()) {
        return Ok(Err(SkipReason::OtherCategory));
    }
    // `a or b`: the first that is present and not empty/null/zero.
    let first_truthy = |a: &str, b: &str| {
        [a, b]
            .iter()
            .filter_map(|k| rec.get(*k))
            .find(|v| truthy(v))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let reference_solution = first_truthy("solution", "reference_solution");
    let mut expected = first_truthy("answer", "expected_answer");
    if expected.as_str() == Some("None") {
        expected = Value::String("insufficient".into());
    }
    let text = py_str(&expected);
    let stripped = text.replacen('.', "", 1).replacen('-', "", 1);
    if !stripped.is_empty() && stripped.chars().all(|c| c.is_ascii_digit()) {
        let f = py_float(&text).ok_or_else(|| format!("answer `{text}` is not a number"))?;
        expected = integral_as_int(&float_value(f)?);
    }
    let mut out = Map::new();
    out.insert("problem".into(), required(rec, "question")?.clone());
    out.insert("reference_solution".into(), reference_solution);
    out.insert("expected_answer".into(), expected);
    for (k, v) in rec {
        if ![
            "answer",
            "expected_answer",
            "solution",
            "problem",
            "reference_solution",
        ]
        .contains(&k.as_str())
        {
            out.insert(k.clone(), v.clone());
        }
    }
    if split == "test_rounded" {
        add_rounding_instruction(&mut out);
    }
    Ok(Ok(out))
}

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `str(value)` for the scalars an answer can be.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => pyjson::to_string(other),
    }
}

/// "Express the answer as an integer." / "Round the answer to N decimal places." by the digits
/// after the point of a numeric expected answer; anything else is left as it is.
fn add_rounding_instruction(rec: &mut Map<String, Value>) {
    let Some(expected) = rec.get("expected_answer") else {
        return;
    };
    let text = py_str(expected);
    let numeric = match expected {
        Value::Number(_) => true,
        Value::String(s) => py_float(s).is_some(),
        _ => false,
    };
    if !numeric {
        return;
    }
    let decimals = text.split('.').nth(1).map_or(0, |d| d.chars().count());
    let instruction = match decimals {
        0 => " Express the answer as an integer.".to_string(),
        1 => " Round the answer to one decimal place.".to_string(),
        n => format!(" Round the answer to {n} decimal places."),
    };
    if let Some(Value::String(p)) = rec.get_mut("problem") {
        p.push_str(&instruction);
    }
}

/// MAWPS (ToRA's copy): `input`, `target`; the subset is the part's name.
pub(crate) fn mawps(part: &str, rec: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    out.insert("problem".into(), required(rec, "input")?.clone());
    out.insert(
        "expected_answer".into(),
        int_if_integral(required(rec, "target")?),
    );
    out.insert("type".into(), Value::String(part.into()));
    Ok(out)
}

/// SVAMP: `Body` (a full stop added when it ends in a letter), `Question`, `Answer`, `Equation`.
pub(crate) fn svamp(rec: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut body = str_field(rec, "Body")?.to_string();
    if body.chars().last().is_some_and(char::is_alphabetic) {
        body.push('.');
    }
    let question = str_field(rec, "Question")?;
    let mut out = Map::new();
    out.insert(
        "problem".into(),
        Value::String(format!("{body} {question}")),
    );
    out.insert(
        "expected_answer".into(),
        int_if_integral(required(rec, "Answer")?),
    );
    out.insert(
        "reference_equation".into(),
        required(rec, "Equation")?.clone(),
    );
    Ok(out)
}
