//! The REST backend's helpers: downloading a tree of artifacts through the
//! proxy, and the JSON shapes of MLflow's API (pairs, numbers, versions).

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use super::http::{escape_path, Answer, Body, Replay};
use super::rest::{RestStore, ARTIFACTS};
use super::tracking::{check_artifact_path, Failure, ModelVersion, Outcome};

impl RestStore {
    /// Downloads everything under `root/rel` into `dest/rel`.
    pub(super) fn download_tree(&self, root: &str, rel: &str, dest: &Path) -> Outcome<()> {
        let dir = if rel.is_empty() {
            root.to_string()
        } else {
            format!("{root}/{rel}")
        };
        let what = format!("listing artifacts {dir:?}");
        let listing = match self.http.call(
            &what,
            "GET",
            ARTIFACTS,
            &[("path", &dir)],
            Body::Empty,
            Replay::Safe,
        )? {
            Answer::Json(v) => v,
            _ => return Err(self.unexpected(&what, "a non-JSON answer")),
        };
        for file in listing["files"].as_array().cloned().unwrap_or_default() {
            let name = file["path"].as_str().unwrap_or_default();
            let name = name.rsplit('/').next().unwrap_or(name);
            let child = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            check_artifact_path(&child)?;
            if file["is_dir"].as_bool() == Some(true) {
                self.download_tree(root, &child, dest)?;
                continue;
            }
            let what = format!("downloading artifact {root}/{child}");
            let url = format!("{ARTIFACTS}/{}/{}", escape_path(root), escape_path(&child));
            let target = dest.join(&child);
            match self
                .http
                .call(&what, "GET", &url, &[], Body::Empty, Replay::Safe)?
            {
                Answer::Stream(mut reader) => {
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent)
                            .map_err(|e| Failure::io("cannot create", parent, &e))?;
                    }
                    let mut out = fs::File::create(&target)
                        .map_err(|e| Failure::io("cannot write", &target, &e))?;
                    std::io::copy(&mut reader, &mut out)
                        .map_err(|e| Failure::io(&what, &target, &e))?;
                }
                _ => return Err(self.unexpected(&what, "no file")),
            }
        }
        Ok(())
    }
}

/// `mlflow-artifacts:/1/abc/artifacts` (or `mlflow-artifacts://host/1/...`)
/// → `1/abc/artifacts`.
pub(super) fn proxy_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("mlflow-artifacts:")?;
    let rest = match rest.strip_prefix("//") {
        Some(r) => r.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => rest,
    };
    Some(rest.trim_matches('/').to_string())
}

pub(super) fn pairs(items: &[(String, String)]) -> Vec<Value> {
    items
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// JSON has no NaN or infinities; MLflow's protobuf JSON takes them as strings.
pub(super) fn number(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

pub(super) fn same_value(stored: &Value, v: f64) -> bool {
    match stored {
        Value::Number(n) => n.as_f64() == Some(v),
        Value::String(s) => s
            .parse::<f64>()
            .is_ok_and(|s| s == v || (s.is_nan() && v.is_nan())),
        _ => false,
    }
}

pub(super) fn model_version(v: &Value) -> Option<ModelVersion> {
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
