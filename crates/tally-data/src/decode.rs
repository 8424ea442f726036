//! Source bytes → rows (JSON objects with the line each starts on), for every container an
//! upstream benchmark ships in: JSONL, a JSON array, parquet, CSV, ASDiv's XML, Lean files.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use tally_core::jsonl::{JsonlLines, LineError};

use crate::error::DataError;
use crate::registry::SourceFormat;

/// The field of a Lean row that holds the file's text.
pub(crate) const LEAN_TEXT: &str = "text";

/// One source record.
pub(crate) struct Row<'a> {
    /// The file it came from when it is not the source itself (a Lean directory's files).
    pub file: Option<PathBuf>,
    /// 1-based line where the record starts.
    pub line: usize,
    pub rec: Map<String, Value>,
    /// The line's bytes when it came from JSONL (kept verbatim for prepared records).
    pub raw: Option<&'a [u8]>,
}

impl Row<'_> {
    fn at(line: usize, rec: Map<String, Value>) -> Self {
        Row {
            file: None,
            line,
            rec,
            raw: None,
        }
    }
}

/// Decodes `bytes` (read from `path`) as `format`'s container.
pub(crate) fn rows<'a>(
    format: SourceFormat,
    path: &Path,
    bytes: &'a [u8],
) -> Result<Vec<Row<'a>>, DataError> {
    if bytes.starts_with(b"PAR1") {
        return Ok(parquet_rows(path, bytes)?
            .into_iter()
            .enumerate()
            .map(|(i, r)| Row::at(i + 1, r))
            .collect());
    }
    match format {
        SourceFormat::Asdiv => xml_problems(path, bytes),
        SourceFormat::Algebra222 => csv_rows(path, bytes),
        _ if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') => {
            json_array(path, bytes)
        }
        _ => jsonl_rows(path, bytes),
    }
}

fn jsonl_rows<'a>(path: &Path, bytes: &'a [u8]) -> Result<Vec<Row<'a>>, DataError> {
    let mut rows = Vec::new();
    let mut offsets = line_spans(bytes).into_iter();
    for item in JsonlLines::new(path, bytes) {
        match item {
            Ok(line) => {
                let span = offsets
                    .find(|(n, _)| *n == line.number)
                    .map(|(_, s)| &bytes[s.0..s.1]);
                rows.push(Row {
                    raw: span,
                    ..Row::at(line.number, line.record)
                });
            }
            Err(LineError::Torn(t)) => {
                return Err(DataError::BadRecord {
                    path: path.to_path_buf(),
                    line: t.line,
                    message: "the last line is cut off (incomplete download?)".into(),
                })
            }
            Err(LineError::Bad(e)) => return Err(e.into()),
        }
    }
    Ok(rows)
}

/// (1-based line number, byte span without the newline) of every line.
fn line_spans(bytes: &[u8]) -> Vec<(usize, (usize, usize))> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (n, chunk) in bytes.split(|&b| b == b'\n').enumerate() {
        let end = start + chunk.len();
        let trimmed_end = if chunk.ends_with(b"\r") { end - 1 } else { end };
        spans.push((n + 1, (start, trimmed_end)));
        start = end + 1;
    }
    spans
}

/// A JSON array of objects (SVAMP.json); each element's line is where it starts.
fn json_array<'a>(path: &Path, bytes: &'a [u8]) -> Result<Vec<Row<'a>>, DataError> {
    let bad = |line: usize, message: String| DataError::BadRecord {
        path: path.to_path_buf(),
        line,
        message,
    };
    let values: Vec<Value> = serde_json::from_slice(bytes)
        .map_err(|e| bad(e.line(), format!("not a JSON array of records: {e}")))?;
    let starts = element_lines(bytes);
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let line = starts.get(i).copied().unwrap_or(1);
            match v {
                Value::Object(m) => Ok(Row::at(line, m)),
                other => Err(bad(
                    line,
                    format!("element {} is not an object: {other}", i + 1),
                )),
            }
        })
        .collect()
}

/// The line on which each top-level element of a (valid) JSON array starts.
fn element_lines(bytes: &[u8]) -> Vec<usize> {
    let (mut line, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    let mut expecting = false;
    let mut starts = Vec::new();
    for &b in bytes {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if expecting && depth == 1 && b != b']' {
            starts.push(line);
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                expecting = depth == 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    starts
}

/// CSV with a header row, every field a string (Python's `csv.reader`: `"` quotes, `""` inside
/// quotes, quoted fields may hold newlines).
fn csv_rows<'a>(path: &Path, bytes: &'a [u8]) -> Result<Vec<Row<'a>>, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DataError::BadSource {
        path: path.to_path_buf(),
        message: format!("not UTF-8: {e}"),
    })?;
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let (mut field, mut fields) = (String::new(), Vec::new());
    let (mut line, mut start_line, mut quoted, mut at_field_start) = (1usize, 1usize, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut fields)));
                line += 1;
                start_line = line;
                at_field_start = true;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    records.retain(|(_, f)| !(f.len() == 1 && f[0].is_empty()));
    let mut iter = records.into_iter();
    let Some((_, header)) = iter.next() else {
        return Ok(Vec::new());
    };
    Ok(iter
        .map(|(line, values)| {
            // `zip` as Python's `{h: x for h, x in zip(headers, row)}`: extra fields dropped.
            let rec = header
                .iter()
                .zip(values)
                .map(|(h, v)| (h.clone(), Value::String(v)))
                .collect();
            Row::at(line, rec)
        })
        .collect())
}

/// ASDiv: every `<Problem>` element in document order, with its children's text.
fn xml_problems<'a>(path: &Path, bytes: &'a [u8]) -> Result<Vec<Row<'a>>, DataError> {
    let bad = |message: String| DataError::BadSource {
        path: path.to_path_buf(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(format!("bad XML: {e}")))?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("Problem"))
        .map(|p| {
            let mut rec = Map::new();
            if let Some(id) = p.attribute("ID") {
                rec.insert("ID".into(), json!(id));
            }
            for child in p.children().filter(|c| c.is_element()) {
                // `.text` in ElementTree: the text before the first child element, or None.
                let name = child.tag_name().name().to_string();
                rec.entry(name)
                    .or_insert(child.text().map_or(Value::Null, |t| json!(t)));
            }
            Row::at(doc.text_pos_at(p.range().start).row as usize, rec)
        })
        .collect())
}

/// Every `*.lean` file of `dir`, sorted by name, as a row holding its text.
pub(crate) fn lean_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, DataError> {
    let io = |e| tally_core::CoreError::io(dir, e);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lean"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| tally_core::CoreError::io(&p, e))?;
            Ok((p, text))
        })
        .collect()
}

pub(crate) fn lean_rows(files: &[(PathBuf, String)]) -> Vec<Row<'static>> {
    files
        .iter()
        .map(|(p, text)| {
            let mut rec = Map::new();
            rec.insert(LEAN_TEXT.into(), Value::String(text.clone()));
            Row {
                file: Some(p.clone()),
                ..Row::at(1, rec)
            }
        })
        .collect()
}

/// Rows of a parquet file (the Hugging Face layout) as JSON objects.
fn parquet_rows(path: &Path, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, DataError> {
    use polars::prelude::*;
    let err = |e: PolarsError| DataError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let df = ParquetReader::new(Cursor::new(bytes.to_vec()))
        .finish()
        .map_err(err)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let columns = df.columns();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut m = Map::new();
        for (name, c) in names.iter().zip(columns) {
            let v = c.get(i).map_err(err)?;
            m.insert(name.clone(), any_to_json(&v));
        }
        rows.push(m);
    }
    Ok(rows)
}

fn any_to_json(v: &polars::prelude::AnyValue) -> Value {
    use polars::prelude::AnyValue as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(*b),
        A::String(s) => Value::String(s.to_string()),
        A::StringOwned(s) => Value::String(s.to_string()),
        A::Int8(x) => json!(x),
        A::Int16(x) => json!(x),
        A::Int32(x) => json!(x),
        A::Int64(x) => json!(x),
        A::UInt8(x) => json!(x),
        A::UInt16(x) => json!(x),
        A::UInt32(x) => json!(x),
        A::UInt64(x) => json!(x),
        A::Float32(x) => json!(x),
        A::Float64(x) => json!(x),
        // Lists (MathArena's `problem_type`) stay lists, as `load_dataset` returns them.
        A::List(s) => Value::Array(s.iter().map(|x| any_to_json(&x)).collect()),
        // Binary columns (e.g. embedded images) only matter as "present or not".
        A::Binary(b) => Value::String(if b.is_empty() {
            String::new()
        } else {
            "<binary>".into()
        }),
        A::BinaryOwned(b) => Value::String(if b.is_empty() {
            String::new()
        } else {
            "<binary>".into()
        }),
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_array_elements_know_their_lines() {
        let text = b"[\n  {\"a\": \"x,]\\\"{\"},\n  {\"a\": [1, 2]},\n\n  {\"a\": {}}\n]\n";
        let rows = json_array(Path::new("s.json"), text).unwrap();
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 5]);
        assert_eq!(rows[0].rec["a"], "x,]\"{");
    }

    #[test]
    fn csv_quotes_commas_and_newlines() {
        let text =
            b"question,final_answer\r\n\"He said \"\"hi\"\", then, left\nearly\",3.5\nplain,7\n";
        let rows = csv_rows(Path::new("a.csv"), text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].rec["question"], "He said \"hi\", then, left\nearly");
        assert_eq!(rows[0].rec["final_answer"], "3.5");
        assert_eq!((rows[0].line, rows[1].line), (2, 4));
    }

    #[test]
    fn xml_problems_in_document_order() {
        let text = "<Machine-Reading-Corpus-File>\n<ProblemSet>\n<Problem ID=\"nluds-0001\" Grade=\"1\">\n<Body>Tom has 3 &amp; 4.</Body>\n<Question>How many?</Question>\n<Solution-Type>Addition</Solution-Type>\n<Answer>7 (apples)</Answer>\n</Problem>\n</ProblemSet>\n</Machine-Reading-Corpus-File>\n";
        let rows = xml_problems(Path::new("a.xml"), text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 3);
        assert_eq!(rows[0].rec["Body"], "Tom has 3 & 4.");
        assert_eq!(rows[0].rec["Answer"], "7 (apples)");
    }
}
