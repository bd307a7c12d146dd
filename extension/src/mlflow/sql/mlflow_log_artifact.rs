//! `mlflow_log_artifact(run_id, local_path [, artifact_dir])` → VARCHAR: the
//! URI of what was logged, a file or a directory's files (MLflow's
//! `log_artifact(s)`), into the run's artifacts under `artifact_dir`.
//!
//! The local path is a file read on the caller's behalf, so with
//! `enable_external_access = false` it must be under `allowed_directories`
//! (checked for every row before any is logged).

use std::path::Path;

use super::rows::{artifact_signatures, log_artifacts, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, Output, Signature};
use crate::error::Result;
use crate::mlflow::artifacts::log_path;
use crate::mlflow::client::Client;

pub struct LogArtifact;

impl MlflowFunction for LogArtifact {
    const NAME: &'static str = "mlflow_log_artifact";

    fn signatures() -> Vec<Signature> {
        artifact_signatures(varchar)
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let paths = input.column(1).strings()?;
        let dirs = input.optional(2, |c| c.strings())?;
        client.check_reads(paths.iter().flatten().map(|p| p.as_ref()))?;
        log_artifacts(client, input, output, &paths, |run, path, row| {
            let dir = dirs[row].as_deref();
            log_path(client.tracking(), run, Path::new(path.as_ref()), dir)
        })
    }
}
