//! Metrics from SQL:
//!
//! * `mlflow_log_metric(run_id, key, value DOUBLE [, step BIGINT])` → BOOLEAN,
//!   one value per row of any query (a NULL value is skipped and gives NULL);
//! * `mlflow_log_metrics(run_id, LIST(STRUCT(name VARCHAR, value DOUBLE [, step BIGINT])))`
//!   → BIGINT, the number of values logged: rows of a query gathered with
//!   `list({'name': ..., 'value': ...})`.
//!
//! A chunk's values for one run go to the backend as one batch, stamped with
//! one timestamp; the step defaults to 0.

use duckdb::vtab::arrow::WritableVector;

use super::output::{self, by_run};
use super::session::Session;
use super::tracking::{now_millis, Metric};
use crate::duck::chunk::{Column, InputChunk};
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::Result;

pub struct LogMetric;

impl BoundScalar for LogMetric {
    const NAME: &'static str = "mlflow_log_metric";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        let base = || {
            vec![
                LogicalType::varchar(),
                LogicalType::varchar(),
                LogicalType::double(),
            ]
        };
        let mut with_step = base();
        with_step.push(LogicalType::bigint());
        vec![
            Signature {
                params: base(),
                returns: LogicalType::boolean(),
            },
            Signature {
                params: with_step,
                returns: LogicalType::boolean(),
            },
        ]
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let runs = input.column(0).strings();
        let keys = input.column(1).strings();
        let values = unsafe { input.column(2).values::<f64>() };
        let steps = input.optional(3, |c| unsafe { c.values::<i64>() });
        let timestamp = now_millis();
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut batch = Vec::with_capacity(rows.len());
            for &row in &rows {
                if let (Some(key), Some(value)) = (&keys[row], values[row]) {
                    batch.push(Metric {
                        key: key.to_string(),
                        value,
                        timestamp,
                        step: steps[row].unwrap_or(0),
                    });
                    results[row] = Some(true);
                }
            }
            s.for_run(&run, s.tracking.log_batch(&run, &[], &batch, &[]))?;
        }
        output::bools(output, &results);
        Ok(())
    }
}

pub struct LogMetrics;

fn metric_list(with_step: bool) -> LogicalType {
    let mut members = vec![
        ("name", LogicalType::varchar()),
        ("value", LogicalType::double()),
    ];
    if with_step {
        members.push(("step", LogicalType::bigint()));
    }
    LogicalType::list(&LogicalType::structure(&members))
}

impl BoundScalar for LogMetrics {
    const NAME: &'static str = "mlflow_log_metrics";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        [false, true]
            .into_iter()
            .map(|step| Signature {
                params: vec![LogicalType::varchar(), metric_list(step)],
                returns: LogicalType::bigint(),
            })
            .collect()
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let runs = input.column(0).strings();
        let lists = input.column(1);
        let (entries, items) = unsafe { (lists.list_entries(), lists.list_child()) };
        let metrics = unsafe { read_metrics(&items) };
        let timestamp = now_millis();
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut batch = Vec::new();
            for &row in &rows {
                let Some(range) = entries[row].clone() else {
                    continue;
                };
                let before = batch.len();
                batch.extend(
                    range
                        .filter_map(|i| metrics[i].clone())
                        .map(|(key, value, step)| Metric {
                            key,
                            value,
                            timestamp,
                            step,
                        }),
                );
                results[row] = Some((batch.len() - before) as i64);
            }
            s.for_run(&run, s.tracking.log_batch(&run, &[], &batch, &[]))?;
        }
        output::bigints(output, &results);
        Ok(())
    }
}

/// The `(name, value, step)` of each struct row; `None` where the name or
/// value is NULL.
///
/// # Safety
/// `items` must be a STRUCT(name VARCHAR, value DOUBLE [, step BIGINT]) column.
unsafe fn read_metrics(items: &Column<'_>) -> Vec<Option<(String, f64, i64)>> {
    unsafe {
        let names = items.struct_member(0).strings();
        let values = items.struct_member(1).values::<f64>();
        let with_step = items.struct_member_count() > 2;
        let steps = match with_step {
            true => items.struct_member(2).values::<i64>(),
            false => vec![None; items.len()],
        };
        (0..items.len())
            .map(|i| {
                if !items.is_valid(i) {
                    return None;
                }
                Some((
                    names[i].as_deref()?.to_string(),
                    values[i]?,
                    steps[i].unwrap_or(0),
                ))
            })
            .collect()
    }
}
