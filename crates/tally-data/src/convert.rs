//! Source records → NeMo-Skills problem records, one function per upstream format.

use serde_json::{Map, Number, Value};

use crate::registry::SourceFormat;
use crate::{convert_competition, convert_lean, convert_word_problems};

/// What becomes of one source record.
#[derive(Debug, Clone, PartialEq)]
pub enum Converted {
    /// Already a problem record: the source line is kept byte for byte.
    Verbatim,
    /// A record built from an upstream format.
    Record(Map<String, Value>),
    /// Left out, with the reason (counted in the manifest).
    Skip(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// HLE: the question has an image (Tally keeps text-only questions, as NeMo-Skills does).
    HasImage,
    /// HLE `math` split: another category.
    OtherCategory,
    /// `expected_answer` is null (e.g. HLE questions whose answer key is not public, minerva
    /// solutions without a `\\boxed{}` answer).
    NoExpectedAnswer,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::HasImage => "image question",
            SkipReason::OtherCategory => "other category",
            SkipReason::NoExpectedAnswer => "no expected answer",
        }
    }
}

/// Converts record number `index` (0-based, among kept records so far) of `split`; `part` is
/// the source file's part for benchmarks read from several (MAWPS' subsets).
/// Errors are messages about the record; the caller adds file and line.
pub fn convert(
    format: SourceFormat,
    benchmark: &str,
    split: &str,
    part: Option<&str>,
    index: usize,
    rec: &Map<String, Value>,
) -> Result<Converted, String> {
    if let Some(reason) = hle_filter(format, split, rec) {
        return Ok(Converted::Skip(reason));
    }
    if rec.contains_key("problem") && rec.contains_key("expected_answer") {
        return match rec.get("problem") {
            Some(Value::String(_)) => match rec.get("expected_answer") {
                Some(Value::Null) => Ok(Converted::Skip(SkipReason::NoExpectedAnswer)),
                _ => Ok(Converted::Verbatim),
            },
            _ => Err("`problem` must be a string".into()),
        };
    }
    let mut out = Map::new();
    match format {
        SourceFormat::Prepared => {
            return Err("expected a problem record with `problem` and `expected_answer`".into())
        }
        SourceFormat::Gsm8k => {
            let question = str_field(rec, "question")?;
            let answer = str_field(rec, "answer")?;
            let (solution, final_answer) = answer
                .rsplit_once("####")
                .ok_or("`answer` has no `#### <number>` line")?;
            let number = parse_number(&final_answer.trim().replace(',', ""))
                .ok_or_else(|| format!("final answer `{}` is not a number", final_answer.trim()))?;
            out.insert("id".into(), Value::String(format!("{benchmark}-{index}")));
            out.insert("problem".into(), Value::String(question.to_string()));
            out.insert("expected_answer".into(), number);
            out.insert(
                "reference_solution".into(),
                Value::String(strip_calculator_annotations(solution).trim().to_string()),
            );
            out.insert(
                "original_answer_text".into(),
                Value::String(answer.to_string()),
            );
        }
        SourceFormat::Math500 => {
            out.insert("id".into(), Value::String(format!("{benchmark}-{index}")));
            out.insert(
                "problem".into(),
                Value::String(str_field(rec, "problem")?.to_string()),
            );
            out.insert("expected_answer".into(), required(rec, "answer")?.clone());
            out.insert(
                "reference_solution".into(),
                Value::String(str_field(rec, "solution")?.to_string()),
            );
            for key in ["subject", "level", "unique_id"] {
                if let Some(v) = rec.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
        }
        SourceFormat::Amc23 => {
            let problem = str_field(rec, "question").or_else(|_| str_field(rec, "problem"))?;
            out.insert("id".into(), Value::String(format!("{benchmark}-{index}")));
            out.insert("problem".into(), Value::String(problem.to_string()));
            out.insert(
                "expected_answer".into(),
                integral_as_int(required(rec, "answer")?),
            );
            if let Some(url) = rec.get("url") {
                out.insert("url".into(), url.clone());
            }
        }
        SourceFormat::Hle => {
            let answer = required(rec, "answer")?;
            if answer.is_null() {
                return Ok(Converted::Skip(SkipReason::NoExpectedAnswer));
            }
            out.insert("id".into(), required(rec, "id")?.clone());
            out.insert(
                "problem".into(),
                Value::String(str_field(rec, "question")?.to_string()),
            );
            out.insert("expected_answer".into(), answer.clone());
            let copy = [
                ("answer_type", "answer_type"),
                ("rationale", "reference_solution"),
                ("raw_subject", "raw_subject"),
                ("category", "subset_for_metrics"),
                ("author_name", "author_name"),
                ("canary", "canary"),
            ];
            for (from, to) in copy {
                if let Some(v) = rec.get(from) {
                    out.insert(to.into(), v.clone());
                }
            }
        }
        SourceFormat::AnswerRenamed
        | SourceFormat::Qwen
        | SourceFormat::QwenOlympiad
        | SourceFormat::QwenMinerva
        | SourceFormat::OmniMath => out = convert_competition::renamed(format, rec)?,
        SourceFormat::MathOdyssey => out = convert_competition::odyssey(rec)?,
        SourceFormat::Algebra222 => out = convert_word_problems::algebra222(rec)?,
        SourceFormat::Asdiv => out = convert_word_problems::asdiv(rec)?,
        SourceFormat::GsmPlus => match convert_word_problems::gsm_plus(split, rec)? {
            Ok(r) => out = r,
            Err(reason) => return Ok(Converted::Skip(reason)),
        },
        SourceFormat::Mawps => {
            let part = part.ok_or("MAWPS records need their subset (the source file's part)")?;
            out = convert_word_problems::mawps(part, rec)?;
        }
        SourceFormat::Svamp => out = convert_word_problems::svamp(rec)?,
        // Lean files carry no answer: they are statements to prove.
        SourceFormat::PutnamLean => {
            return Ok(Converted::Record(convert_lean::putnam(str_field(
                rec,
                crate::decode::LEAN_TEXT,
            )?)?))
        }
    }
    if out.get("expected_answer").is_some_and(Value::is_null) {
        return Ok(Converted::Skip(SkipReason::NoExpectedAnswer));
    }
    Ok(Converted::Record(out))
}

/// HLE keeps text-only questions; the `math` split keeps category `Math` (spec §7).
fn hle_filter(format: SourceFormat, split: &str, rec: &Map<String, Value>) -> Option<SkipReason> {
    if format != SourceFormat::Hle {
        return None;
    }
    let has_image = match rec.get("image") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    if has_image {
        return Some(SkipReason::HasImage);
    }
    if split == "math" {
        let category = rec
            .get("category")
            .or_else(|| rec.get("subset_for_metrics"))
            .and_then(Value::as_str);
        if category != Some("Math") {
            return Some(SkipReason::OtherCategory);
        }
    }
    None
}

pub(crate) fn required<'a>(rec: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    rec.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

pub(crate) fn str_field<'a>(rec: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match rec.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{key}` must be a string")),
        None => Err(format!("missing field `{key}`")),
    }
}

/// `1,234` → 1234, `2.5` → 2.5, `18.0` → 18 (integral numbers as integers, as the seed stores them).
fn parse_number(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    let f: f64 = s.parse().ok()?;
    Some(integral_as_int(&Value::Number(Number::from_f64(f)?)))
}

pub(crate) fn integral_as_int(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::Number((f as i64).into())
            } else {
                v.clone()
            }
        }
        Value::String(s) => parse_number(s.trim()).unwrap_or_else(|| v.clone()),
        _ => v.clone(),
    }
}

/// Removes gsm8k's calculator annotations `<<48/2=24>>`.
fn strip_calculator_annotations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("<<") {
        match rest[start..].find(">>") {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &rest[start + end + 2..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn gsm8k_raw_records_become_problems() {
        let raw = obj(json!({
            "question": "Q?",
            "answer": "She has 3 + 4 = <<3+4=7>>7 apples.\n#### 1,007"
        }));
        let Converted::Record(r) =
            convert(SourceFormat::Gsm8k, "gsm8k", "test", None, 5, &raw).unwrap()
        else {
            panic!()
        };
        assert_eq!(r["id"], "gsm8k-5");
        assert_eq!(r["expected_answer"], json!(1007));
        assert_eq!(r["reference_solution"], "She has 3 + 4 = 7 apples.");
        let keys: Vec<_> = r.keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "id",
                "problem",
                "expected_answer",
                "reference_solution",
                "original_answer_text"
            ]
        );
    }

    #[test]
    fn hle_keeps_text_only_math() {
        let base =
            json!({"id": "x", "question": "q", "answer": "4", "category": "Math", "image": ""});
        let r = convert(
            SourceFormat::Hle,
            "hle",
            "math",
            None,
            0,
            &obj(base.clone()),
        )
        .unwrap();
        assert!(matches!(r, Converted::Record(ref m) if m["subset_for_metrics"] == "Math"));
        let mut img = base.clone();
        img["image"] = json!("data:image/png;base64,AAA");
        assert_eq!(
            convert(SourceFormat::Hle, "hle", "math", None, 0, &obj(img)).unwrap(),
            Converted::Skip(SkipReason::HasImage)
        );
        let mut phys = base.clone();
        phys["category"] = json!("Physics");
        assert_eq!(
            convert(
                SourceFormat::Hle,
                "hle",
                "math",
                None,
                0,
                &obj(phys.clone())
            )
            .unwrap(),
            Converted::Skip(SkipReason::OtherCategory)
        );
        assert!(matches!(
            convert(SourceFormat::Hle, "hle", "text", None, 0, &obj(phys)).unwrap(),
            Converted::Record(_)
        ));
    }

    #[test]
    fn prepared_records_are_kept_verbatim_and_null_answers_skipped() {
        let r = convert(
            SourceFormat::Prepared,
            "aime24",
            "test",
            None,
            0,
            &obj(json!({"problem": "p", "expected_answer": "5"})),
        );
        assert_eq!(r.unwrap(), Converted::Verbatim);
        let r = convert(
            SourceFormat::Hle,
            "hle",
            "math",
            None,
            0,
            &obj(json!({"problem": "p", "expected_answer": null, "subset_for_metrics": "Math"})),
        );
        assert_eq!(r.unwrap(), Converted::Skip(SkipReason::NoExpectedAnswer));
        let e = convert(
            SourceFormat::Prepared,
            "aime24",
            "test",
            None,
            0,
            &obj(json!({"question": "p"})),
        )
        .unwrap_err();
        assert!(e.contains("problem"), "{e}");
    }

    #[test]
    fn bad_raw_records_say_what_is_missing() {
        let e = convert(
            SourceFormat::Gsm8k,
            "gsm8k",
            "test",
            None,
            0,
            &obj(json!({"question": "q", "answer": "no marker"})),
        )
        .unwrap_err();
        assert!(e.contains("####"), "{e}");
        let e = convert(
            SourceFormat::Math500,
            "math-500",
            "test",
            None,
            0,
            &obj(json!({"problem": "q"})),
        )
        .unwrap_err();
        assert!(e.contains("answer"), "{e}");
    }
}
