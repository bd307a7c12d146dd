//! `mlflow_log_metrics(run_id, LIST(STRUCT(name VARCHAR, value DOUBLE
//! [, step BIGINT])))` → BIGINT, the number of values logged: the rows of a
//! query gathered with `list({'name': ..., 'value': ...})`, so an evaluation
//! query logs all its metrics in one call.
//!
//! A chunk's values for one run go to the backend as one batch, stamped with
//! one timestamp; the step defaults to 0.

use std::borrow::Cow;

use super::rows::{by_run, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::{now_millis, Batch, Metric};

pub struct LogMetrics;

/// `LIST(STRUCT(name, value [, step]))`.
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

impl MlflowFunction for LogMetrics {
    const NAME: &'static str = "mlflow_log_metrics";

    fn signatures() -> Vec<Signature> {
        [false, true]
            .into_iter()
            .map(|step| Signature::new(vec![varchar(), metric_list(step)], LogicalType::bigint()))
            .collect()
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let runs = input.column(0).strings()?;
        let lists = input.column(1).struct_lists::<Cow<str>, f64, i64>()?;
        let timestamp = now_millis();
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut batch = Vec::new();
            for &row in &rows {
                let Some(items) = &lists[row] else {
                    continue;
                };
                let before = batch.len();
                // An item without a name or a value logs nothing.
                batch.extend(items.iter().filter_map(|(name, value, step)| {
                    Some(Metric {
                        key: name.as_deref()?.to_string(),
                        value: (*value)?,
                        timestamp,
                        step: step.unwrap_or(0),
                    })
                }));
                results[row] = Some((batch.len() - before) as i64);
            }
            let logged = client.tracking().log_batch(&run, Batch::metrics(&batch));
            client.for_run(&run, logged)?;
        }
        output.bigints(&results);
        Ok(())
    }
}
