//! `mlflow_end_run(run_id [, status])` → BOOLEAN: ends a run as FINISHED
//! (default), FAILED or KILLED. RUNNING is refused: a run is started by
//! `mlflow_start_run`, not by ending it.

use super::rows::varchar;
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::{Failure, RunStatus};

pub struct EndRun;

impl MlflowFunction for EndRun {
    const NAME: &'static str = "mlflow_end_run";

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(|| vec![varchar()], || vec![varchar()], LogicalType::boolean)
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let runs = input.column(0).strings()?;
        let statuses = input.optional(1, |c| c.strings())?;
        let mut results = vec![None; input.len()];
        for (row, run) in runs.iter().enumerate() {
            let Some(run) = run.as_deref() else { continue };
            let text = statuses[row].as_deref().unwrap_or("FINISHED");
            let status = RunStatus::parse(text)
                .filter(|s| *s != RunStatus::Running)
                .ok_or_else(|| {
                    client.fail(Failure::rejected(format!(
                        "invalid run status {text:?}: use 'FINISHED', 'FAILED' or 'KILLED'"
                    )))
                })?;
            client
                .tracking()
                .end_run(run.trim(), status)
                .map_err(|f| client.fail(f))?;
            results[row] = Some(true);
        }
        output.bools(&results);
        Ok(())
    }
}
