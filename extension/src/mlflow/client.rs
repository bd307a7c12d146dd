//! What every mlflow_* SQL function does at bind time (read the settings,
//! pick the backend, check `enable_external_access`) and around each call
//! (turn failures into DuckDB errors, mark a run FAILED when logging to it
//! failed).
//!
//! Settings are read through a `setting(name)` lookup rather than a DuckDB
//! bind, so [`super::resolve_model_uri`] (called from `bert_sentiment`'s
//! bind) opens its backend exactly as the SQL functions do: same tracking
//! URI, same HTTP options, same access checks.

use std::sync::Arc;
use std::time::Duration;

use super::local::LocalStore;
use super::rest::http::HttpOptions;
use super::rest::RestStore;
use super::tracking::{Failure, FailureKind, Outcome, RunStatus, Tracking};
use super::uri::TrackingUri;
use crate::duck::{Access, Refused};
use crate::error::{Error, Result};

/// Where the mlflow_* functions log (see [`TrackingUri`]).
pub const TRACKING_URI: &str = "mlflow_tracking_uri";
/// Seconds a server may take per phase of a request.
pub const HTTP_TIMEOUT: &str = "mlflow_http_request_timeout";
/// Retries of a request that failed transiently.
pub const HTTP_MAX_RETRIES: &str = "mlflow_http_request_max_retries";
/// Seconds before the first retry, doubled for each next one.
pub const HTTP_BACKOFF_FACTOR: &str = "mlflow_http_request_backoff_factor";

/// What a function does to the store, which decides the access it needs
/// when `enable_external_access` is off (a server always needs `connect`).
#[derive(Clone, Copy)]
pub enum Intent {
    /// Only reads (resolving a `models:/` URI).
    Read,
    /// Creates or changes runs, artifacts or the registry.
    Write,
}

/// Why a call could not go on, before a SQL function's name is added: the
/// access policy refused it, or the backend failed.
#[derive(Debug)]
pub enum Problem {
    Refused(Refused),
    Failed(Failure),
}

impl From<Refused> for Problem {
    fn from(r: Refused) -> Self {
        Problem::Refused(r)
    }
}

impl From<Failure> for Problem {
    fn from(f: Failure) -> Self {
        Problem::Failed(f)
    }
}

impl Problem {
    /// The DuckDB error of SQL function `function`.
    pub fn into_error(self, function: &'static str) -> Error {
        match self {
            Problem::Refused(r) => r.error(function),
            Problem::Failed(f) => fail(function, f),
        }
    }

    /// The message without a function name, for callers that add their own
    /// context (`bert_sentiment`).
    pub fn message(&self) -> String {
        match self {
            Problem::Refused(r) => match r.error("") {
                // The refusal's own wording, minus the (empty) function name.
                Error::Refused {
                    op, target, reason, ..
                } => format!("cannot {op} '{target}': {reason}"),
                other => other.to_string(),
            },
            Problem::Failed(f) => f.message.clone(),
        }
    }
}

/// The backend a query's calls share, chosen once at bind, with the access
/// policy its per-row paths are checked against.
pub struct Client {
    function: &'static str,
    tracking: Arc<dyn Tracking>,
    access: Access,
}

impl Client {
    /// Reads the tracking URI and the HTTP settings through `setting`, and
    /// checks that `access` allows reaching the store for `intent`. A
    /// malformed URI or setting, or a refusal, is an error of `function`
    /// (a Binder Error when called from a bind).
    pub fn bind(
        function: &'static str,
        setting: &dyn Fn(&str) -> Option<String>,
        access: &Access,
        intent: Intent,
    ) -> Result<Self> {
        let tracking = open(setting, access, intent).map_err(|p| p.into_error(function))?;
        Ok(Self {
            function,
            tracking,
            access: access.clone(),
        })
    }

    pub fn tracking(&self) -> &dyn Tracking {
        &*self.tracking
    }

    /// The caller's external-access policy, for paths named per row.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Turns a failure into this function's DuckDB error.
    pub fn fail(&self, failure: impl Into<Problem>) -> Error {
        failure.into().into_error(self.function)
    }

    /// Refuses unless every path in `paths` may be read: checked for all of
    /// a chunk's rows before any is logged, so a refused row logs nothing.
    pub fn check_reads<'p>(&self, paths: impl IntoIterator<Item = &'p str>) -> Result<()> {
        for path in paths {
            self.access.read(path).map_err(|r| self.fail(r))?;
        }
        Ok(())
    }

    /// `result` of work on `run_id`; on failure, first marks the run FAILED
    /// (best effort; only when the backend can be reached and the run exists)
    /// so that a failed statement does not leave it RUNNING.
    pub fn for_run<T>(&self, run_id: &str, result: Outcome<T>) -> Result<T> {
        result.map_err(|mut failure| {
            let reachable = matches!(failure.kind, FailureKind::Rejected | FailureKind::Io);
            if reachable && self.tracking.end_run(run_id, RunStatus::Failed).is_ok() {
                failure
                    .message
                    .push_str(&format!(" (run '{run_id}' marked FAILED)"));
            }
            self.fail(failure)
        })
    }
}

fn fail(function: &'static str, failure: Failure) -> Error {
    Error::Mlflow {
        function,
        problem: failure.message,
    }
}

/// The backend the settings name, once `access` allows reaching it: a
/// server needs `connect`; a local store `read` or `write` of its directory
/// (paths under DuckDB's `allowed_directories` stay allowed). The HTTP
/// settings are checked first, whatever the backend, so a bad one is
/// reported even while the URI is being fixed.
pub fn open(
    setting: &dyn Fn(&str) -> Option<String>,
    access: &Access,
    intent: Intent,
) -> std::result::Result<Arc<dyn Tracking>, Problem> {
    let options = http_options(setting)?;
    Ok(
        match TrackingUri::parse(setting(TRACKING_URI).as_deref())? {
            TrackingUri::Server(base) => {
                access.connect(&base)?;
                Arc::new(RestStore::new(&base, options))
            }
            TrackingUri::Local(dir) => {
                let path = dir.to_string_lossy();
                match intent {
                    Intent::Read => access.read(&*path)?,
                    Intent::Write => access.write(&*path)?,
                }
                Arc::new(LocalStore::new(dir))
            }
        },
    )
}

/// The HTTP options from the `mlflow_http_request_*` settings (unset: the
/// built-in defaults).
pub fn http_options(setting: &dyn Fn(&str) -> Option<String>) -> Outcome<HttpOptions> {
    let mut options = HttpOptions::default();
    let number = |name: &str| -> Outcome<Option<f64>> {
        let Some(text) = setting(name) else {
            return Ok(None);
        };
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(Failure::rejected(format!(
                "setting {name} must be a non-negative number, not {text:?}"
            ))),
        }
    };
    if let Some(t) = number(HTTP_TIMEOUT)? {
        options.timeout = Duration::from_secs_f64(t.max(0.001));
    }
    if let Some(r) = number(HTTP_MAX_RETRIES)? {
        options.max_retries = r.min(100.0) as u32;
    }
    if let Some(b) = number(HTTP_BACKOFF_FACTOR)? {
        options.backoff = b.min(60.0);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn http_options_from_settings() {
        let o = http_options(&|n| match n {
            HTTP_TIMEOUT => Some("2.5".into()),
            HTTP_MAX_RETRIES => Some("0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(o.timeout, Duration::from_millis(2500));
        assert_eq!(o.max_retries, 0);
        assert_eq!(o.backoff, 0.5);
        let e = http_options(&|_| Some("soon".into())).unwrap_err();
        assert!(e.message.contains("must be a non-negative number"), "{e}");
    }

    fn locked(dirs: &[&str]) -> Access {
        Access::locked(dirs.iter().map(PathBuf::from).collect(), vec![], None)
    }

    fn settings(uri: &'static str) -> impl Fn(&str) -> Option<String> {
        move |n| (n == TRACKING_URI).then(|| uri.to_string())
    }

    #[test]
    fn a_server_needs_network_access_and_nothing_connects() {
        let p = open(&settings("http://127.0.0.1:9"), &locked(&[]), Intent::Read)
            .err()
            .expect("refused");
        assert_eq!(
            p.into_error("mlflow_start_run").to_string(),
            "mlflow_start_run: cannot connect to 'http://127.0.0.1:9': network access is \
             disabled (enable_external_access = false)"
        );
    }

    #[test]
    fn a_local_store_needs_write_or_read_access_to_its_directory() {
        let write = open(&settings("/data/mlruns"), &locked(&[]), Intent::Write)
            .err()
            .expect("refused");
        assert_eq!(
            write.message(),
            "cannot write '/data/mlruns': file system access is disabled \
             (enable_external_access = false)"
        );
        let read = open(&settings("/data/mlruns"), &locked(&[]), Intent::Read)
            .err()
            .expect("refused");
        assert!(read.message().starts_with("cannot read '/data/mlruns'"));
        assert!(open(
            &settings("/data/mlruns"),
            &locked(&["/data"]),
            Intent::Write
        )
        .is_ok());
        assert!(open(
            &settings("/data/mlruns"),
            &Access::unrestricted(),
            Intent::Write
        )
        .is_ok());
    }

    #[test]
    fn a_bad_http_setting_is_reported_before_the_uri() {
        let p = open(
            &|n| match n {
                TRACKING_URI => Some("http://127.0.0.1:9x".into()),
                _ => Some("soon".into()),
            },
            &Access::unrestricted(),
            Intent::Write,
        )
        .err()
        .expect("refused");
        assert!(
            p.message().contains("must be a non-negative number"),
            "{}",
            p.message()
        );
    }
}
