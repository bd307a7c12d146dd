//! The one interface the SQL functions log through, whatever the backend:
//! [`Tracking`], with the values it moves ([`Metric`], [`RunStatus`],
//! [`ModelVersion`]) and the way it fails ([`Failure`]).
//!
//! Two implementations: [`super::rest::RestStore`] (an MLflow tracking server
//! over its REST API) and [`super::local::LocalStore`] (a directory in
//! MLflow's file-store layout). Which one a call gets is decided by
//! [`super::uri::TrackingUri`].

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
    fn create_run(
        &self,
        experiment_id: &str,
        run_name: Option<&str>,
        tags: &[(String, String)],
    ) -> Outcome<String>;
    /// Logs params, metrics and tags of one run. Params are write-once
    /// (re-logging the same value is a no-op), metrics are appended, tags
    /// overwritten.
    fn log_batch(
        &self,
        run_id: &str,
        params: &[(String, String)],
        metrics: &[Metric],
        tags: &[(String, String)],
    ) -> Outcome<()>;
    /// The run's tag `key`, if set.
    fn get_tag(&self, run_id: &str, key: &str) -> Outcome<Option<String>>;
    /// Ends a run with `status`.
    fn end_run(&self, run_id: &str, status: RunStatus) -> Outcome<()>;
    /// Stores an artifact at `path` (relative, `/`-separated) in the run's
    /// artifact root; returns its URI.
    fn put_artifact(&self, run_id: &str, path: &str, data: Upload<'_>) -> Outcome<String>;
    /// Adds a version to registered model `name` (created if missing) whose
    /// files are the run's artifacts under `artifact_path`.
    fn create_model_version(
        &self,
        name: &str,
        run_id: &str,
        artifact_path: &str,
        tags: &[(String, String)],
    ) -> Outcome<ModelVersion>;
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

/// Checks a param/metric/tag key the way MLflow does (letters, digits and
/// `_ - . / :` and spaces; no `..` segment, no leading `/`), so a key can
/// never escape a run's directory in the file store.
pub fn check_key(kind: &str, key: &str) -> Outcome<()> {
    let bad_char = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || "_-. /:".contains(*c)));
    let problem = if key.is_empty() {
        Some("is empty".to_string())
    } else if key.len() > 250 {
        Some("is longer than 250 characters".to_string())
    } else if let Some(c) = bad_char {
        Some(format!(
            "contains {c:?} (allowed: letters, digits, `_-./:` and spaces)"
        ))
    } else if key.starts_with('/') || key.split('/').any(|s| s == ".." || s == ".") {
        Some("must be a relative path without `.` or `..` segments".to_string())
    } else {
        None
    };
    match problem {
        Some(p) => Err(Failure::rejected(format!(
            "invalid {kind} name {key:?}: {p}"
        ))),
        None => Ok(()),
    }
}

/// Checks a relative artifact path (`dir/file.png`): no absolute path, no
/// `..`, no empty segments.
pub fn check_artifact_path(path: &str) -> Outcome<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == ".." || s == ".")
    {
        return Err(Failure::rejected(format!(
            "invalid artifact path {path:?}: must be relative, `/`-separated, without `.` or `..`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_run_directory() {
        assert!(check_key("metric", "f1").is_ok());
        assert!(check_key("metric", "eval/f1 macro:pos").is_ok());
        for bad in ["", "../x", "a/../b", "/abs", "a\nb", "x;y", "./x"] {
            let e = check_key("metric", bad).unwrap_err();
            assert!(e.message.contains("invalid metric name"), "{bad}: {e}");
        }
    }

    #[test]
    fn artifact_paths_are_relative() {
        assert!(check_artifact_path("plots/cm.png").is_ok());
        for bad in ["", "/etc/passwd", "a/../../b", "a//b", "a\\b"] {
            assert!(check_artifact_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_parse_case_insensitively() {
        assert_eq!(RunStatus::parse("failed"), Some(RunStatus::Failed));
        assert_eq!(RunStatus::parse(" FINISHED "), Some(RunStatus::Finished));
        assert_eq!(RunStatus::parse("done"), None);
        assert_eq!(RunStatus::Killed as i32, 5);
    }
}
