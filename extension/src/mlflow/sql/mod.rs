//! The mlflow_* SQL functions, one file each, named after the function.
//!
//! They are thin: read the arguments, group rows by run ([`rows`]), call the
//! backend through the [`Client`] chosen at bind, write the results. Every
//! one of them binds the same way (settings → backend, access checks) and is
//! volatile (each row is a call to the tracking store, never folded or
//! deduplicated), so a function states only what differs
//! ([`MlflowFunction`]) and one adapter ([`Mlflow`]) turns it into a
//! [`BoundScalar`].

mod mlflow_end_run;
mod mlflow_log_artifact;
mod mlflow_log_confusion_matrix;
mod mlflow_log_metric;
mod mlflow_log_metrics;
mod mlflow_log_param;
mod mlflow_log_params;
mod mlflow_register_model;
mod mlflow_resolve_model;
mod mlflow_set_model_alias;
mod mlflow_set_tag;
mod mlflow_start_run;
mod rows;

use std::marker::PhantomData;

pub use mlflow_end_run::EndRun;
pub use mlflow_log_artifact::LogArtifact;
pub use mlflow_log_confusion_matrix::LogConfusionMatrix;
pub use mlflow_log_metric::LogMetric;
pub use mlflow_log_metrics::LogMetrics;
pub use mlflow_log_param::LogParam;
pub use mlflow_log_params::LogParams;
pub use mlflow_register_model::RegisterModel;
pub use mlflow_resolve_model::ResolveModel;
pub use mlflow_set_model_alias::SetModelAlias;
pub use mlflow_set_tag::SetTag;
pub use mlflow_start_run::StartRun;

use super::client::{Client, Intent};
use crate::duck::{Bind, BoundScalar, Function, InputChunk, Output, Signature};
use crate::error::Result;

/// What one mlflow_* SQL function adds to the shared bind.
pub trait MlflowFunction: 'static {
    /// The SQL name; also the context of every error it raises.
    const NAME: &'static str;
    /// What it does to the store: the access it needs when
    /// `enable_external_access` is off.
    const INTENT: Intent = Intent::Write;
    /// The overloads; `invoke` must handle each of them.
    fn signatures() -> Vec<Signature>;
    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()>;
}

/// Any [`MlflowFunction`] as a DuckDB scalar: binds a [`Client`] from the
/// caller's settings and access policy, and is volatile.
pub struct Mlflow<F>(PhantomData<fn() -> F>);

impl<F: MlflowFunction> BoundScalar for Mlflow<F> {
    const NAME: &'static str = F::NAME;
    type Bound = Client;

    fn signatures() -> Vec<Signature> {
        F::signatures()
    }

    fn bind(bind: &Bind) -> Result<Client> {
        Client::bind(
            F::NAME,
            &|name| bind.setting(name),
            bind.access(),
            F::INTENT,
        )
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        F::invoke(client, input, output)
    }

    fn volatile() -> bool {
        true // every call logs to (or reads) the tracking store
    }
}

/// The [`Function`] that registers `F`.
pub fn scalar<F: MlflowFunction>() -> Function {
    Function::scalar::<Mlflow<F>>()
}
