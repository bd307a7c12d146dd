//! What several mlflow_* functions do with a chunk's rows: group them by
//! run (one backend call per run per chunk, not one per row), log
//! key/value rows ([`KeyValues`]) or an artifact per row
//! ([`log_artifacts`]), and the SQL types they share.

use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::{Batch, Failure, Outcome};

pub fn varchar() -> LogicalType {
    LogicalType::varchar()
}

/// `MAP(VARCHAR, VARCHAR)`: tags and params given as one value.
pub fn string_map() -> LogicalType {
    LogicalType::map(&varchar(), &varchar())
}

/// The rows of a chunk grouped by run id, in first-seen order (NULL run ids
/// are left out): one backend call per run per chunk.
pub fn by_run<S: AsRef<str>>(run_ids: &[Option<S>]) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (row, id) in run_ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let id = id.as_ref().trim();
        match groups.iter_mut().find(|(g, _)| g == id) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((id.to_string(), vec![row])),
        }
    }
    groups
}

/// `mlflow_log_param` and `mlflow_set_tag`: one (run_id, key, value ANY)
/// per row, returning BOOLEAN. The value may be any simple type, logged as
/// its text (`0.0010` stays `0.0010`). Each run's rows are logged as one
/// batch; the two differ only in what that batch makes of the pairs.
pub trait KeyValues: 'static {
    /// The SQL name; also the context of every error it raises.
    const NAME: &'static str;
    /// The pairs of one run as a batch (of params, or of tags).
    fn batch(pairs: &[(String, String)]) -> Batch<'_>;
}

impl<K: KeyValues> MlflowFunction for K {
    const NAME: &'static str = K::NAME;

    fn signatures() -> Vec<Signature> {
        vec![Signature::new(
            vec![varchar(), varchar(), LogicalType::any()],
            LogicalType::boolean(),
        )]
    }

    /// A row with a NULL key or value logs nothing and gives NULL.
    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let runs = input.column(0).strings()?;
        let keys = input.column(1).strings()?;
        let values = input.column(2).as_text().map_err(|t| {
            client.fail(Failure::rejected(format!(
                "cannot log {t} as text: cast the value to VARCHAR"
            )))
        })?;
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut pairs = Vec::new();
            for &row in &rows {
                if let (Some(k), Some(v)) = (&keys[row], &values[row]) {
                    pairs.push((k.to_string(), v.clone()));
                    results[row] = Some(true);
                }
            }
            client.for_run(&run, client.tracking().log_batch(&run, K::batch(&pairs)))?;
        }
        output.bools(&results);
        Ok(())
    }
}

/// `(run_id, what [, name VARCHAR]) -> VARCHAR`, the signatures of the
/// functions that log an artifact per row (`what` made by `what`).
pub fn artifact_signatures(what: fn() -> LogicalType) -> Vec<Signature> {
    Signature::with_optional(|| vec![varchar(), what()], || vec![varchar()], varchar)
}

/// `mlflow_log_artifact` and `mlflow_log_confusion_matrix`: for each row
/// with a run id (column 0) and a `what`, `log(run, what, row)` logs an
/// artifact into the run and gives its URI, the row's result; a NULL run id
/// or `what` logs nothing and gives NULL.
pub fn log_artifacts<T>(
    client: &Client,
    input: &InputChunk,
    output: &mut Output,
    whats: &[Option<T>],
    log: impl Fn(&str, &T, usize) -> Outcome<String>,
) -> Result<()> {
    let runs = input.column(0).strings()?;
    let mut results = vec![None; input.len()];
    for row in 0..input.len() {
        let (Some(run), Some(what)) = (runs[row].as_deref(), &whats[row]) else {
            continue;
        };
        let run = run.trim();
        results[row] = Some(client.for_run(run, log(run, what, row))?);
    }
    output.strings(&results);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_group_by_run_in_order() {
        let ids = [Some("b"), Some("a"), None, Some(" b ")];
        assert_eq!(
            super::by_run(&ids),
            vec![("b".to_string(), vec![0, 3]), ("a".to_string(), vec![1])]
        );
    }
}
