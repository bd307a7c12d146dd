//! `mlflow_log_metric(run_id, key, value DOUBLE [, step BIGINT])` → BOOLEAN:
//! one value per row of any query (a NULL value is skipped and gives NULL),
//! so a loss curve is one `SELECT ... FROM range(n)`.
//!
//! A chunk's values for one run go to the backend as one batch, stamped with
//! one timestamp; the step defaults to 0.

use super::rows::{by_run, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::{now_millis, Batch, Metric};

pub struct LogMetric;

impl MlflowFunction for LogMetric {
    const NAME: &'static str = "mlflow_log_metric";

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![varchar(), varchar(), LogicalType::double()],
            || vec![LogicalType::bigint()],
            LogicalType::boolean,
        )
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let runs = input.column(0).strings()?;
        let keys = input.column(1).strings()?;
        let values = input.column(2).f64s()?;
        let steps = input.optional(3, |c| c.i64s())?;
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
            let logged = client.tracking().log_batch(&run, Batch::metrics(&batch));
            client.for_run(&run, logged)?;
        }
        output.bools(&results);
        Ok(())
    }
}
