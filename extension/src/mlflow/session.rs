//! What every mlflow_* SQL function does at bind time (read the settings,
//! pick the backend) and around each call (turn failures into DuckDB errors,
//! mark a run FAILED when logging to it failed).

use std::sync::Arc;
use std::time::Duration;

use super::http::HttpOptions;
use super::local::LocalStore;
use super::rest::RestStore;
use super::tracking::{Failure, FailureKind, Outcome, RunStatus, Tracking};
use super::uri::TrackingUri;
use crate::duck::scalar::Bind;
use crate::error::{Error, Result};

/// The backend a query's calls share, chosen once at bind.
pub struct Session {
    pub function: &'static str,
    pub tracking: Arc<dyn Tracking>,
}

impl Session {
    /// Reads `mlflow_tracking_uri` and the `mlflow_http_request_*` settings.
    /// A malformed URI or setting is a Binder Error.
    pub fn bind(function: &'static str, bind: &Bind) -> Result<Self> {
        let uri = bind.setting("mlflow_tracking_uri");
        let options = http_options(function, |name| bind.setting(name))?;
        let tracking = open(uri.as_deref(), options).map_err(|f| fail(function, f))?;
        Ok(Self { function, tracking })
    }

    /// Turns a failure into this function's DuckDB error.
    pub fn fail(&self, failure: Failure) -> Error {
        fail(self.function, failure)
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

pub fn fail(function: &'static str, failure: Failure) -> Error {
    Error::Mlflow {
        function,
        problem: failure.message,
    }
}

/// The backend for a tracking URI (`None`: the default local store).
pub fn open(uri: Option<&str>, options: HttpOptions) -> Outcome<Arc<dyn Tracking>> {
    Ok(match TrackingUri::parse(uri)? {
        TrackingUri::Server(base) => Arc::new(RestStore::new(&base, options)),
        TrackingUri::Local(dir) => Arc::new(LocalStore::new(dir)),
    })
}

/// The HTTP options from settings (or anything that maps names to values).
pub fn http_options(
    function: &'static str,
    setting: impl Fn(&str) -> Option<String>,
) -> Result<HttpOptions> {
    let mut options = HttpOptions::default();
    let number = |name: &str| -> Result<Option<f64>> {
        let Some(text) = setting(name) else {
            return Ok(None);
        };
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(fail(
                function,
                Failure::new(
                    FailureKind::Rejected,
                    format!("setting {name} must be a non-negative number, not {text:?}"),
                ),
            )),
        }
    };
    if let Some(t) = number("mlflow_http_request_timeout")? {
        options.timeout = Duration::from_secs_f64(t.max(0.001));
    }
    if let Some(r) = number("mlflow_http_request_max_retries")? {
        options.max_retries = r.min(100.0) as u32;
    }
    if let Some(b) = number("mlflow_http_request_backoff_factor")? {
        options.backoff = b.min(60.0);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_options_from_settings() {
        let o = http_options("f", |n| match n {
            "mlflow_http_request_timeout" => Some("2.5".into()),
            "mlflow_http_request_max_retries" => Some("0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(o.timeout, Duration::from_millis(2500));
        assert_eq!(o.max_retries, 0);
        assert_eq!(o.backoff, 0.5);
        let e = http_options("f", |_| Some("soon".into())).unwrap_err();
        assert!(
            e.to_string().contains("must be a non-negative number"),
            "{e}"
        );
    }
}
