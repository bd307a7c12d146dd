//! The one interface the SQL functions log through, whatever the backend:
//! [`Tracking`], with the values it moves ([`Metric`], [`Batch`],
//! [`RunStatus`], [`ModelVersion`]) and the way it fails ([`Failure`]).
//!
//! Two implementations: [`super::rest::RestStore`] (an MLflow tracking server
//! over its REST API) and [`super::local::LocalStore`] (a directory in
//! MLflow's file-store layout). Which one a call gets is decided by
//! [`super::uri::TrackingUri`] in [`super::client`]. Everything here is
//! plain data, so the backends, the registry and the artifact code share it
//! without depending on each other.

use std::fmt;
use std::path::{Path, PathBuf};

/// One metric value as MLflow stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub step: i64,
}

/// What one `log_batch` call logs to one run: MLflow's `runs/log-batch`
/// shape, so a chunk's rows for a run cost one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch<'a> {
    pub params: &'a [(String, String)],
    pub metrics: &'a [Metric],
    pub tags: &'a [(String, String)],
}

impl<'a> Batch<'a> {
    pub fn params(params: &'a [(String, String)]) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }
    pub fn metrics(metrics: &'a [Metric]) -> Self {
        Self {
            metrics,
            ..Self::default()
        }
    }
    pub fn tags(tags: &'a [(String, String)]) -> Self {
        Self {
            tags,
            ..Self::default()
        }
    }
}

/// A run's lifecycle status (MLflow's `RunStatus`; the numbers are what the
/// file store writes into `meta.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running = 1,
    Finished = 3,
    Failed = 4,
    Killed = 5,
}

impl RunStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "RUNNING" => Some(Self::Running),
            "FINISHED" => Some(Self::Finished),
            "FAILED" => Some(Self::Failed),
            "KILLED" => Some(Self::Killed),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Finished => "FINISHED",
            Self::Failed => "FAILED",
            Self::Killed => "KILLED",
        }
    }
}

/// A run to start: MLflow's `runs/create` request.
#[derive(Debug, Clone, Copy)]
pub struct NewRun<'a> {
    pub experiment_id: &'a str,
    /// Also tagged `mlflow.runName` by the caller, as MLflow's clients do.
    pub name: Option<&'a str>,
    pub tags: &'a [(String, String)],
}

/// A model version to create: MLflow's `model-versions/create` request.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    /// The registered model (created if missing).
    pub name: &'a str,
    /// The run that logged the files.
    pub run_id: &'a str,
    /// Where the files are in the run's artifacts.
    pub artifact_path: &'a str,
    pub tags: &'a [(String, String)],
}

/// A registered model version, as far as we need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    pub name: String,
    pub version: i64,
    /// Where the version's files are (`file:///...` or `mlflow-artifacts:/...`).
    pub source: String,
}

/// Which version of a registered model: `models:/<name>/<version>` or
/// `models:/<name>@<alias>`.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionRef {
    Number(i64),
    Alias(String),
}

/// Where an artifact's bytes come from.
pub enum Upload<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// How a tracking call failed. The message says what was attempted, where
/// (server URL and endpoint, or store path) and why; it never contains a
/// credential.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub kind: FailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No connection could be made (server down, DNS, refused).
    Unreachable,
    /// The server or store refused the request (4xx, bad argument, not found).
    Rejected,
    /// The server failed (5xx) or did not answer in time, retries exhausted.
    Server,
    /// A local file-system problem.
    Io,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind,
        }
    }
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Rejected, message)
    }
    pub fn io(what: &str, path: &Path, e: &std::io::Error) -> Self {
        Self::new(FailureKind::Io, format!("{what} `{}`: {e}", path.display()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type Outcome<T> = std::result::Result<T, Failure>;

/// What every backend can do. Run ids are MLflow's (32 hex digits).
pub trait Tracking: Send + Sync {
    /// Where this backend logs to, for messages (no credentials).
    fn location(&self) -> String;
    /// The id of experiment `name`, created if missing.
    fn experiment_id(&self, name: &str) -> Outcome<String>;
    /// Starts a run; `tags` include `mlflow.runName` when there is a name.
    fn create_run(&self, new: NewRun<'_>) -> Outcome<String>;
    /// Logs params, metrics and tags of one run. Params are write-once
    /// (re-logging the same value is a no-op), metrics are appended, tags
    /// overwritten.
    fn log_batch(&self, run_id: &str, batch: Batch<'_>) -> Outcome<()>;
    /// The run's tag `key`, if set.
    fn get_tag(&self, run_id: &str, key: &str) -> Outcome<Option<String>>;
    /// Ends a run with `status`.
    fn end_run(&self, run_id: &str, status: RunStatus) -> Outcome<()>;
    /// Stores an artifact at `path` (relative, `/`-separated) in the run's
    /// artifact root; returns its URI.
    fn put_artifact(&self, run_id: &str, path: &str, data: Upload<'_>) -> Outcome<String>;
    /// Adds a version to a registered model (created if missing) whose
    /// files are the run's artifacts under `new.artifact_path`.
    fn create_model_version(&self, new: NewVersion<'_>) -> Outcome<ModelVersion>;
    fn set_alias(&self, name: &str, alias: &str, version: i64) -> Outcome<()>;
    fn model_version(&self, name: &str, which: &VersionRef) -> Outcome<ModelVersion>;
    /// A local directory with the version's files: fetched into `cache`
    /// (a fresh directory the caller publishes) for remote stores, or the
    /// store's own directory for local ones (then `cache` is left unused).
    fn fetch_model(&self, version: &ModelVersion, cache: &Path) -> Outcome<PathBuf>;
    /// Whether [`Tracking::fetch_model`] returns the store's own directory
    /// (nothing to download, nothing to cache).
    fn is_local(&self) -> bool;
}

/// Milliseconds since the Unix epoch, as MLflow timestamps are.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_case_insensitively() {
        assert_eq!(RunStatus::parse("failed"), Some(RunStatus::Failed));
        assert_eq!(RunStatus::parse(" FINISHED "), Some(RunStatus::Finished));
        assert_eq!(RunStatus::parse("done"), None);
        assert_eq!(RunStatus::Killed as i32, 5);
    }
}
