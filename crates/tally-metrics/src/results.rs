//! The summary's data model: tables of modes × metrics, in a fixed order.

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

/// A metric value: counts print as integers, rates as percentages; a rate with no valid sample
/// behind it is [`MetricValue::NoData`], never a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    Int(u64),
    Float(f64),
    /// No valid sample (every one failed, or there was none): printed `n/a`, `null` in JSON.
    NoData,
}

/// How [`MetricValue::NoData`] is printed in tables and CSV.
pub const NO_DATA: &str = "n/a";

impl MetricValue {
    pub fn to_json(self) -> Value {
        match self {
            MetricValue::Int(i) => Value::Number(i.into()),
            MetricValue::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            MetricValue::NoData => Value::Null,
        }
    }

    /// The number, if there is one.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            MetricValue::Int(i) => Some(i as f64),
            MetricValue::Float(f) => Some(f),
            MetricValue::NoData => None,
        }
    }
}

/// One row of a table: metric name → value, in column order.
pub type ModeMetrics = IndexMap<String, MetricValue>;

/// One table (a benchmark or a benchmark's subset): mode name → metrics, in row order.
pub type Table = IndexMap<String, ModeMetrics>;

/// Tables in print order, keyed `<bench>` or `<bench>-<subset>`, plus how many rows each prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tables {
    pub tables: IndexMap<String, Table>,
    /// Rows printed per table (the first N modes); every mode is kept for `metrics.json`.
    pub rows_to_print: IndexMap<String, usize>,
}

impl Tables {
    /// `{"<table>": {"<mode>": {"<metric>": value}}}` as NeMo-Skills writes it.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        for (name, table) in &self.tables {
            let mut modes = Map::new();
            for (mode, metrics) in table {
                let m: Map<String, Value> = metrics
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                modes.insert(mode.clone(), Value::Object(m));
            }
            root.insert(name.clone(), Value::Object(modes));
        }
        Value::Object(root)
    }
}
