//! NeMo-Skills' table printer, byte for byte (spec §6.3, traps T16–T17).

use std::fmt::Write;

use indexmap::IndexMap;

use crate::results::{MetricValue, Tables, NO_DATA};

/// Renders every table as `ns summarize_results` prints it, each followed by two empty lines.
pub fn render(tables: &Tables) -> String {
    let mut out = String::new();
    for (name, table) in &tables.tables {
        if table.is_empty() {
            continue;
        }
        let rows = tables
            .rows_to_print
            .get(name)
            .copied()
            .unwrap_or(table.len());
        let printed: Vec<_> = table.iter().take(rows).collect();
        // Columns: as many metrics as the first printed row has; widths from the printed rows,
        // measured WITHOUT the `%` that is printed after floats (hence the trailing blanks).
        let n_metrics = printed.first().map_or(0, |(_, m)| m.len());
        let mut widths: IndexMap<&str, usize> = IndexMap::new();
        widths.insert("evaluation_mode", "evaluation_mode".len());
        for (mode, metrics) in &printed {
            for (key, value) in metrics.iter().take(n_metrics) {
                let w = width_value(*value).max(key.len());
                let e = widths.entry(key.as_str()).or_insert(w);
                *e = (*e).max(w);
            }
            let e = widths.get_mut("evaluation_mode").expect("inserted above");
            *e = (*e).max(mode.len());
        }
        let total: usize = widths.values().sum::<usize>() + (widths.len() - 1) * 3;
        let _ = writeln!(out, "{}", py_center(&format!(" {name} "), total, '-'));
        let headers: Vec<&str> = std::iter::once("evaluation_mode")
            .chain(
                table
                    .values()
                    .next()
                    .into_iter()
                    .flat_map(|m| m.keys().map(String::as_str))
                    .take(n_metrics),
            )
            .collect();
        let line: Vec<String> = headers
            .iter()
            .map(|h| format!("{:<w$}", h, w = widths.get(h).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(out, "{}", line.join(" | "));
        for (mode, metrics) in &printed {
            let mut cells = vec![format!("{:<w$}", mode, w = widths["evaluation_mode"])];
            for (key, value) in metrics.iter().take(n_metrics) {
                cells.push(format!(
                    "{:<w$}",
                    print_value(*value),
                    w = widths[key.as_str()]
                ));
            }
            let _ = writeln!(out, "{}", cells.join(" | "));
        }
        // `print('\n')`: the newline argument plus print's own.
        out.push_str("\n\n");
    }
    out
}

fn width_value(v: MetricValue) -> usize {
    match v {
        MetricValue::Int(i) => i.to_string().len(),
        MetricValue::Float(f) => format!("{f:.2}").len(),
        MetricValue::NoData => NO_DATA.len(),
    }
}

/// NeMo-Skills never prints a rate without data (it stops on a failed request instead); Tally
/// prints `n/a` there, without the `%`.
fn print_value(v: MetricValue) -> String {
    match v {
        MetricValue::Int(i) => i.to_string(),
        MetricValue::Float(f) => format!("{f:.2}%"),
        MetricValue::NoData => NO_DATA.to_string(),
    }
}

/// Python's `str.center(width, fill)`: the extra pad goes left only when both the margin and the
/// width are odd.
pub fn py_center(s: &str, width: usize, fill: char) -> String {
    let len = s.chars().count();
    if width <= len {
        return s.to_string();
    }
    let marg = width - len;
    let left = marg / 2 + (marg & width & 1);
    let right = marg - left;
    let f = fill.to_string();
    format!("{}{}{}", f.repeat(left), s, f.repeat(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_follows_python() {
        // Python: ' ab '.center(9, '-') == '--- ab --'; ' ab '.center(10, '-') == '--- ab ---'
        assert_eq!(py_center(" ab ", 9, '-'), "--- ab --");
        assert_eq!(py_center(" ab ", 10, '-'), "--- ab ---");
        // ' abc '.center(10, '-') == '-- abc ---'; ' abc '.center(11, '-') == '--- abc ---'
        assert_eq!(py_center(" abc ", 10, '-'), "-- abc ---");
        assert_eq!(py_center(" abc ", 11, '-'), "--- abc ---");
        assert_eq!(py_center("toolong", 3, '-'), "toolong");
    }
}
