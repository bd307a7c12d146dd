//! Artifacts from SQL:
//!
//! * `mlflow_log_artifact(run_id, local_path [, artifact_dir])` → VARCHAR URI
//!   (a file, or a directory's files);
//! * `mlflow_log_confusion_matrix(run_id, LIST(STRUCT(actual VARCHAR,
//!   predicted VARCHAR, count BIGINT)) [, name])` → VARCHAR URI of the table
//!   artifact `<name>.json` (default `confusion_matrix`), logged with the
//!   heatmap `<name>.png`.

use std::path::Path;

use duckdb::vtab::arrow::WritableVector;

use super::artifacts::{log_confusion_matrix, log_path};
use super::output;
use super::session::Session;
use crate::duck::chunk::InputChunk;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::Result;

fn varchar() -> LogicalType {
    LogicalType::varchar()
}

pub struct LogArtifact;

impl BoundScalar for LogArtifact {
    const NAME: &'static str = "mlflow_log_artifact";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        vec![
            Signature {
                params: vec![varchar(), varchar()],
                returns: varchar(),
            },
            Signature {
                params: vec![varchar(), varchar(), varchar()],
                returns: varchar(),
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
        let paths = input.column(1).strings();
        let dirs = input.optional(2, |c| c.strings());
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(run), Some(path)) = (runs[row].as_deref(), paths[row].as_deref()) else {
                continue;
            };
            let run = run.trim();
            let logged = log_path(&*s.tracking, run, Path::new(path), dirs[row].as_deref());
            results[row] = Some(s.for_run(run, logged)?);
        }
        output::strings(output, &results);
        Ok(())
    }
}

pub struct LogConfusionMatrix;

fn cell_list() -> LogicalType {
    LogicalType::list(&LogicalType::structure(&[
        ("actual", varchar()),
        ("predicted", varchar()),
        ("count", LogicalType::bigint()),
    ]))
}

impl BoundScalar for LogConfusionMatrix {
    const NAME: &'static str = "mlflow_log_confusion_matrix";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        vec![
            Signature {
                params: vec![varchar(), cell_list()],
                returns: varchar(),
            },
            Signature {
                params: vec![varchar(), cell_list(), varchar()],
                returns: varchar(),
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
        let lists = input.column(1);
        let (entries, cells) = unsafe { (lists.list_entries(), lists.list_child()) };
        let (actual, predicted, count) = unsafe {
            (
                cells.struct_member(0).strings(),
                cells.struct_member(1).strings(),
                cells.struct_member(2).values::<i64>(),
            )
        };
        let names = input.optional(2, |c| c.strings());
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(run), Some(range)) = (runs[row].as_deref(), entries[row].clone()) else {
                continue;
            };
            let label =
                |v: &Option<std::borrow::Cow<'_, str>>| v.as_deref().unwrap_or("NULL").to_string();
            let rows: Vec<(String, String, i64)> = range
                .filter(|&i| cells.is_valid(i))
                .filter_map(|i| Some((label(&actual[i]), label(&predicted[i]), count[i]?)))
                .collect();
            let name = names[row].as_deref().unwrap_or("confusion_matrix");
            let run = run.trim();
            let logged = log_confusion_matrix(&*s.tracking, run, &rows, name);
            results[row] = Some(s.for_run(run, logged)?);
        }
        output::strings(output, &results);
        Ok(())
    }
}
