//! `mlflow_log_confusion_matrix(run_id, LIST(STRUCT(actual VARCHAR,
//! predicted VARCHAR, count BIGINT)) [, name])` → VARCHAR: the URI of the
//! table artifact `<name>.json` (default `confusion_matrix`), logged with
//! the heatmap `<name>.png`, from an evaluation query's
//! `list({'actual': ..., 'predicted': ..., 'count': ...})`.

use std::borrow::Cow;

use super::rows::{artifact_signatures, log_artifacts, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::artifacts::log_confusion_matrix;
use crate::mlflow::client::Client;

pub struct LogConfusionMatrix;

fn cell_list() -> LogicalType {
    LogicalType::list(&LogicalType::structure(&[
        ("actual", varchar()),
        ("predicted", varchar()),
        ("count", LogicalType::bigint()),
    ]))
}

impl MlflowFunction for LogConfusionMatrix {
    const NAME: &'static str = "mlflow_log_confusion_matrix";

    fn signatures() -> Vec<Signature> {
        artifact_signatures(cell_list)
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let cells = input.column(1).struct_lists::<Cow<str>, Cow<str>, i64>()?;
        let names = input.optional(2, |c| c.strings())?;
        // A NULL label is a label of its own, as in a GROUP BY.
        let label = |v: &Option<Cow<'_, str>>| v.as_deref().unwrap_or("NULL").to_string();
        log_artifacts(client, input, output, &cells, |run, cells, row| {
            let rows: Vec<(String, String, i64)> = cells
                .iter()
                .filter_map(|(actual, predicted, n)| Some((label(actual), label(predicted), (*n)?)))
                .collect();
            let name = names[row].as_deref().unwrap_or("confusion_matrix");
            log_confusion_matrix(client.tracking(), run, &rows, name)
        })
    }
}
