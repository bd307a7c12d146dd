//! The JSON shapes of MLflow's REST API that the backend reads and writes
//! (key/value pairs, numbers that may be NaN, model versions, artifact
//! URIs), apart from the calls so they can be tested without a server.

use serde_json::{json, Value};

use crate::mlflow::tracking::ModelVersion;

/// `mlflow-artifacts:/1/abc/artifacts` (or `mlflow-artifacts://host/1/...`)
/// → `1/abc/artifacts`.
pub fn proxy_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("mlflow-artifacts:")?;
    let rest = match rest.strip_prefix("//") {
        Some(r) => r.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => rest,
    };
    Some(rest.trim_matches('/').to_string())
}

/// `[{"key": k, "value": v}, ...]`, MLflow's shape for params and tags.
pub fn pairs(items: &[(String, String)]) -> Vec<Value> {
    items
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// JSON has no NaN or infinities; MLflow's protobuf JSON takes them as strings.
pub fn number(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

/// Whether a metric value the server stored (a number, or a string for
/// NaN and infinities) is `v`: how a retried batch is recognised as landed.
pub fn same_value(stored: &Value, v: f64) -> bool {
    match stored {
        Value::Number(n) => n.as_f64() == Some(v),
        Value::String(s) => s
            .parse::<f64>()
            .is_ok_and(|s| s == v || (s.is_nan() && v.is_nan())),
        _ => false,
    }
}

/// The `model_version` object of an answer, `None` if it lacks a name or
/// version (the version comes as a string from MLflow, a number from some
/// proxies).
pub fn model_version(v: &Value) -> Option<ModelVersion> {
    let version = match &v["version"] {
        Value::String(s) => s.parse().ok()?,
        other => other.as_i64()?,
    };
    Some(ModelVersion {
        name: v["name"].as_str()?.to_string(),
        version,
        source: v["source"].as_str().unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths() {
        assert_eq!(
            proxy_path("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            proxy_path("mlflow-artifacts://h:5000/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(proxy_path("s3://bucket/1/abc"), None);
    }

    #[test]
    fn non_finite_metrics_are_strings() {
        assert_eq!(number(f64::NAN), json!("NaN"));
        assert_eq!(number(0.5), json!(0.5));
        assert!(same_value(&json!("NaN"), f64::NAN));
        assert!(same_value(&json!(0.5), 0.5));
    }
}
