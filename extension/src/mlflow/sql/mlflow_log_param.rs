//! `mlflow_log_param(run_id, key, value ANY)` → BOOLEAN: logs a param, the
//! value as text (MLflow params are strings, and write-once: re-logging the
//! same value is fine, another value is refused).

use super::rows::KeyValues;
use crate::mlflow::tracking::Batch;

pub struct LogParam;

impl KeyValues for LogParam {
    const NAME: &'static str = "mlflow_log_param";

    fn batch(pairs: &[(String, String)]) -> Batch<'_> {
        Batch::params(pairs)
    }
}
