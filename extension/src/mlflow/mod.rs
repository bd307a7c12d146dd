//! MLflow from SQL: runs, params, metrics, artifacts (a confusion matrix as
//! a table and a PNG heatmap) and the model registry, logged to an MLflow
//! tracking server or to a local store that stock MLflow reads.
//!
//! The SQL functions (`sql_*.rs`) are thin: they read arguments, group rows
//! by run and call one [`tracking::Tracking`] backend, chosen at bind time
//! from `mlflow_tracking_uri` ([`uri`]): [`rest`] (over [`http`]) or
//! [`local`] (+ [`local_registry`]).

pub mod artifacts;
pub mod http;
pub mod local;
pub mod local_registry;
mod output;
pub mod plot;
pub mod registry;
pub mod rest;
mod rest_support;
pub mod session;
mod sql_artifacts;
mod sql_metrics;
mod sql_registry;
mod sql_runs;
pub mod tracking;
pub mod uri;
mod yaml;

pub use registry::resolve_model_uri;

use crate::error::Result;
use crate::register::Registrar;

/// Registers the mlflow_* SQL functions.
pub fn register(r: &Registrar) -> Result<()> {
    r.bound_scalar::<sql_runs::StartRun>()?;
    r.bound_scalar::<sql_runs::EndRun>()?;
    r.bound_scalar::<sql_runs::LogParam>()?;
    r.bound_scalar::<sql_runs::SetTag>()?;
    r.bound_scalar::<sql_runs::LogParams>()?;
    r.bound_scalar::<sql_metrics::LogMetric>()?;
    r.bound_scalar::<sql_metrics::LogMetrics>()?;
    r.bound_scalar::<sql_artifacts::LogArtifact>()?;
    r.bound_scalar::<sql_artifacts::LogConfusionMatrix>()?;
    r.bound_scalar::<sql_registry::RegisterModel>()?;
    r.bound_scalar::<sql_registry::SetModelAlias>()?;
    r.bound_scalar::<sql_registry::ResolveModel>()?;
    Ok(())
}
