//! MLflow from SQL: runs, params, metrics, artifacts (a confusion matrix as
//! a table and a PNG heatmap) and the model registry, logged to an MLflow
//! tracking server or to a local store that stock MLflow reads.
//!
//! A library core with thin SQL bindings on top; imports run one way, down
//! this list:
//!
//! ```text
//! sql/            one file per SQL function (mlflow_start_run.rs, ...): read
//!                 arguments, group rows by run, write results; the bind and
//!                 volatility shared by all of them are written once (sql/mod.rs)
//! client.rs       the bind step: settings -> backend, the external-access
//!                 checks, failures -> DuckDB errors, a failed run marked FAILED
//! registry.rs     register a model directory, resolve models:/ URIs
//!                 (resolve_model_uri: what bert_sentiment calls)
//! pyfunc.rs       the MLmodel + python_function loader registered with it
//! artifacts.rs    files, directories, a confusion matrix (plot.rs draws it)
//! local/ rest/    the two backends of the Tracking trait: a directory in
//!                 MLflow's file-store layout, an MLflow server over REST
//! uri.rs          mlflow_tracking_uri -> which backend
//! validate.rs     every key, path, run id, model name and alias check
//! tracking.rs     the Tracking trait and the values it moves
//! ```
//!
//! Only `sql/` knows DuckDB's function shapes; `client.rs` and `registry.rs`
//! see `duck::Access` (the `enable_external_access` policy), nothing else
//! here sees `duck` at all. The backends never import each other.

mod artifacts;
mod client;
mod local;
mod plot;
mod pyfunc;
mod registry;
mod rest;
mod sql;
mod tracking;
mod uri;
mod validate;

pub use registry::resolve_model_uri;

use self::rest::http::HttpOptions;
use crate::duck::{Function, Setting};

/// The settings of the mlflow_* functions (and of `bert_sentiment` when it
/// resolves a `models:/` URI). Each defaults to its upper-cased environment
/// variable, as MLflow's own clients read `MLFLOW_TRACKING_URI`; the HTTP
/// ones otherwise to what [`HttpOptions::default`] uses, so the two cannot
/// disagree.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: client::TRACKING_URI,
        description: "Where medallion's mlflow_* functions log: http(s)://host:port (an MLflow \
                      tracking server), file:///dir or a directory (a local MLflow file store); \
                      empty: ./mlruns",
        builtin_default: || None,
    },
    Setting {
        name: client::HTTP_TIMEOUT,
        description: "Seconds an MLflow server may take to connect, answer or move data",
        builtin_default: || Some(HttpOptions::default().timeout.as_secs_f64().to_string()),
    },
    Setting {
        name: client::HTTP_MAX_RETRIES,
        description: "Retries of an MLflow request that failed transiently (connection, 429, 5xx)",
        builtin_default: || Some(HttpOptions::default().max_retries.to_string()),
    },
    Setting {
        name: client::HTTP_BACKOFF_FACTOR,
        description:
            "Seconds before the first retry of an MLflow request; doubled for each next one",
        builtin_default: || Some(HttpOptions::default().backoff.to_string()),
    },
];

/// The twelve mlflow_* SQL functions, grouped as the README lists them.
pub fn functions() -> Vec<Function> {
    use sql::*;
    let runs = vec![scalar::<StartRun>(), scalar::<EndRun>()];
    let params = vec![
        scalar::<LogParam>(),
        scalar::<SetTag>(),
        scalar::<LogParams>(),
    ];
    let metrics = vec![scalar::<LogMetric>(), scalar::<LogMetrics>()];
    let artifacts = vec![scalar::<LogArtifact>(), scalar::<LogConfusionMatrix>()];
    let models = vec![
        scalar::<RegisterModel>(),
        scalar::<SetModelAlias>(),
        scalar::<ResolveModel>(),
    ];
    [runs, params, metrics, artifacts, models]
        .into_iter()
        .flatten()
        .collect()
}
