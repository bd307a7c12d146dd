//! The REST backend: an MLflow tracking server through `/api/2.0/mlflow/...`,
//! artifacts through its `mlflow-artifacts` proxy (`mlflow server
//! --serve-artifacts`, the default since MLflow 2).
//!
//! No write is applied twice by a retry (see [`http`] for the policy):
//! params, tags, run updates, aliases and artifact uploads are idempotent and
//! re-sent freely; a metric batch whose first attempt may have landed is
//! re-sent only after `metrics/get-history` shows none of its values
//! (we set each value's timestamp, so a landed value is recognisable); run
//! creation and model-version creation are not re-sent after an ambiguous
//! failure (the error says so).

mod download;
pub mod http;
mod json;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use self::download::download_tree;
use self::http::{escape_path, Answer, Body, Http, HttpOptions, Replay, ARTIFACTS};
use self::json::{model_version, number, pairs, proxy_path, same_value};
use super::tracking::{
    now_millis, Batch, Failure, Metric, ModelVersion, NewRun, NewVersion, Outcome, RunStatus,
    Tracking, Upload, VersionRef,
};
use super::validate::{check_artifact_path, check_run_id};

const API: &str = "/api/2.0/mlflow";

pub struct RestStore {
    http: Http,
    /// run id → artifact root path under the proxy (`<exp>/<run>/artifacts`).
    artifact_roots: Mutex<HashMap<String, String>>,
}

impl RestStore {
    pub fn new(base: &str, options: HttpOptions) -> Self {
        Self {
            http: Http::new(base, options),
            artifact_roots: Mutex::new(HashMap::new()),
        }
    }

    fn post(&self, what: &str, endpoint: &str, body: &Value, replay: Replay<'_>) -> Outcome<Value> {
        let path = format!("{API}/{endpoint}");
        match self
            .http
            .call(what, "POST", &path, &[], Body::Json(body), replay)?
        {
            Answer::Json(v) => Ok(v),
            _ => Ok(Value::Null),
        }
    }

    fn get(&self, what: &str, endpoint: &str, query: &[(&str, &str)]) -> Outcome<Value> {
        let path = format!("{API}/{endpoint}");
        match self
            .http
            .call(what, "GET", &path, query, Body::Empty, Replay::Safe)?
        {
            Answer::Json(v) => Ok(v),
            _ => Err(self.http.unexpected(what, "a non-JSON answer")),
        }
    }

    fn run(&self, run_id: &str) -> Outcome<Value> {
        check_run_id(run_id)?;
        let v = self.get(
            &format!("reading run '{run_id}'"),
            "runs/get",
            &[("run_id", run_id)],
        )?;
        Ok(v["run"].clone())
    }

    /// The run's artifact root as a path under the artifacts proxy.
    fn artifact_root(&self, run_id: &str) -> Outcome<String> {
        if let Some(root) = self
            .artifact_roots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(run_id)
        {
            return Ok(root.clone());
        }
        let uri = self.run(run_id)?["info"]["artifact_uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let root = proxy_path(&uri).ok_or_else(|| {
            Failure::rejected(format!(
                "run '{run_id}' stores artifacts at {uri:?}, which {} does not proxy: start \
                 the server with `mlflow server --serve-artifacts` (artifacts must be \
                 `mlflow-artifacts:` URIs)",
                self.http.base()
            ))
        })?;
        self.artifact_roots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run_id.to_string(), root.clone());
        Ok(root)
    }

    /// Whether every metric of `batch` is already in the run's history:
    /// `Ok(true)` all, `Ok(false)` none, `Err` some (a partial batch cannot be
    /// completed without risking duplicates).
    fn metrics_landed(&self, run_id: &str, batch: &[Metric]) -> Outcome<bool> {
        let mut histories: HashMap<&str, Vec<Value>> = HashMap::new();
        let mut found = 0;
        for m in batch {
            if !histories.contains_key(m.key.as_str()) {
                let v = self.get(
                    &format!("checking metric {:?} of run '{run_id}'", m.key),
                    "metrics/get-history",
                    &[("run_id", run_id), ("metric_key", &m.key)],
                )?;
                let list = v["metrics"].as_array().cloned().unwrap_or_default();
                histories.insert(&m.key, list);
            }
            let landed = histories[m.key.as_str()].iter().any(|h| {
                h["timestamp"].as_i64() == Some(m.timestamp)
                    && h["step"].as_i64().unwrap_or(0) == m.step
                    && same_value(&h["value"], m.value)
            });
            found += landed as usize;
        }
        match found {
            0 => Ok(false),
            n if n == batch.len() => Ok(true),
            n => Err(Failure::rejected(format!(
                "logging metrics to run '{run_id}' ({}): {n} of {} values of a batch were \
                 stored before the server failed; not retried to avoid duplicates",
                self.http.base(),
                batch.len()
            ))),
        }
    }
}

impl Tracking for RestStore {
    fn location(&self) -> String {
        format!("MLflow server {}", self.http.base())
    }

    fn experiment_id(&self, name: &str) -> Outcome<String> {
        let what = format!("finding experiment {name:?}");
        let lookup = || -> Outcome<Option<String>> {
            let path = format!("{API}/experiments/get-by-name");
            let q = [("experiment_name", name)];
            match self
                .http
                .call(&what, "GET", &path, &q, Body::Empty, Replay::Safe)
            {
                Ok(Answer::Json(v)) => {
                    let e = &v["experiment"];
                    if e["lifecycle_stage"].as_str() == Some("deleted") {
                        return Err(Failure::rejected(format!(
                            "experiment {name:?} is deleted on {}",
                            self.http.base()
                        )));
                    }
                    Ok(e["experiment_id"].as_str().map(str::to_string))
                }
                Ok(_) => Ok(None),
                Err(f) if f.message.contains("RESOURCE_DOES_NOT_EXIST") => Ok(None),
                Err(f) => Err(f),
            }
        };
        if let Some(id) = lookup()? {
            return Ok(id);
        }
        let body = json!({ "name": name });
        match self.post(
            &format!("creating experiment {name:?}"),
            "experiments/create",
            &body,
            Replay::Safe,
        ) {
            Ok(v) => v["experiment_id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| {
                    self.http
                        .unexpected("creating an experiment", "no experiment_id")
                }),
            // Created meanwhile (by a retry or someone else): look it up.
            Err(f) if f.message.contains("RESOURCE_ALREADY_EXISTS") => lookup()?.ok_or(f),
            Err(f) => Err(f),
        }
    }

    fn create_run(&self, new: NewRun<'_>) -> Outcome<String> {
        let experiment_id = new.experiment_id;
        let mut body = json!({
            "experiment_id": experiment_id,
            "start_time": now_millis(),
            "tags": pairs(new.tags),
        });
        if let Some(name) = new.name {
            body["run_name"] = json!(name);
        }
        let what = format!("creating a run in experiment {experiment_id}");
        let v = self.post(&what, "runs/create", &body, Replay::Never)?;
        let info = &v["run"]["info"];
        let run_id = info["run_id"]
            .as_str()
            .ok_or_else(|| self.http.unexpected(&what, "no run id"))?
            .to_string();
        if let Some(root) = info["artifact_uri"].as_str().and_then(proxy_path) {
            self.artifact_roots
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(run_id.clone(), root);
        }
        Ok(run_id)
    }

    fn log_batch(&self, run_id: &str, batch: Batch<'_>) -> Outcome<()> {
        check_run_id(run_id)?;
        // MLflow's limits per request: 100 params, 100 tags, 1000 metrics.
        let keyed = [
            ("params", "logging params to", batch.params),
            ("tags", "setting tags of", batch.tags),
        ];
        for (field, doing, items) in keyed {
            for chunk in items.chunks(100) {
                let body = json!({ "run_id": run_id, field: pairs(chunk) });
                let what = format!("{doing} run '{run_id}'");
                self.post(&what, "runs/log-batch", &body, Replay::Safe)?;
            }
        }
        for chunk in batch.metrics.chunks(1000) {
            let list: Vec<Value> = chunk
                .iter()
                .map(|m| json!({"key": m.key, "value": number(m.value), "timestamp": m.timestamp, "step": m.step}))
                .collect();
            let body = json!({ "run_id": run_id, "metrics": list });
            let check = || self.metrics_landed(run_id, chunk);
            self.post(
                &format!("logging metrics to run '{run_id}'"),
                "runs/log-batch",
                &body,
                Replay::Check(&check),
            )?;
        }
        Ok(())
    }

    fn get_tag(&self, run_id: &str, key: &str) -> Outcome<Option<String>> {
        let run = self.run(run_id)?;
        let tags = run["data"]["tags"].as_array().cloned().unwrap_or_default();
        Ok(tags
            .iter()
            .find(|t| t["key"].as_str() == Some(key))
            .and_then(|t| t["value"].as_str().map(str::to_string)))
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Outcome<()> {
        check_run_id(run_id)?;
        let body = json!({"run_id": run_id, "status": status.name(), "end_time": now_millis()});
        let what = format!("ending run '{run_id}' as {}", status.name());
        self.post(&what, "runs/update", &body, Replay::Safe)
            .map(|_| ())
    }

    fn put_artifact(&self, run_id: &str, path: &str, data: Upload<'_>) -> Outcome<String> {
        check_artifact_path(path)?;
        let root = self.artifact_root(run_id)?;
        let url_path = format!("{ARTIFACTS}/{}/{}", escape_path(&root), escape_path(path));
        let body = match data {
            Upload::Bytes(b) => Body::Bytes(b),
            Upload::File(p) => Body::File(p),
        };
        let what = format!("uploading artifact {path:?} of run '{run_id}'");
        self.http
            .call(&what, "PUT", &url_path, &[], body, Replay::Safe)?;
        Ok(format!("mlflow-artifacts:/{root}/{path}"))
    }

    fn create_model_version(&self, new: NewVersion<'_>) -> Outcome<ModelVersion> {
        let NewVersion {
            name,
            run_id,
            artifact_path,
            tags,
        } = new;
        let root = self.artifact_root(run_id)?;
        let what = format!("registering model {name:?}");
        match self.post(
            &what,
            "registered-models/create",
            &json!({"name": name}),
            Replay::Safe,
        ) {
            Err(f) if !f.message.contains("RESOURCE_ALREADY_EXISTS") => return Err(f),
            _ => {}
        }
        let source = format!("mlflow-artifacts:/{root}/{artifact_path}");
        let body = json!({"name": name, "source": source, "run_id": run_id, "tags": pairs(tags)});
        let v = self.post(
            &format!("creating a version of model {name:?}"),
            "model-versions/create",
            &body,
            Replay::Never,
        )?;
        model_version(&v["model_version"])
            .ok_or_else(|| self.http.unexpected(&what, "no model version"))
    }

    fn set_alias(&self, name: &str, alias: &str, version: i64) -> Outcome<()> {
        let body = json!({"name": name, "alias": alias, "version": version.to_string()});
        let what = format!("setting alias {alias:?} of model {name:?} to version {version}");
        self.post(&what, "registered-models/alias", &body, Replay::Safe)
            .map(|_| ())
    }

    fn model_version(&self, name: &str, which: &VersionRef) -> Outcome<ModelVersion> {
        let v = match which {
            VersionRef::Alias(alias) => self.get(
                &format!("resolving models:/{name}@{alias}"),
                "registered-models/alias",
                &[("name", name), ("alias", alias)],
            )?,
            VersionRef::Number(n) => self.get(
                &format!("resolving models:/{name}/{n}"),
                "model-versions/get",
                &[("name", name), ("version", &n.to_string())],
            )?,
        };
        model_version(&v["model_version"]).ok_or_else(|| {
            self.http
                .unexpected("resolving a model", "no model version")
        })
    }

    fn fetch_model(&self, version: &ModelVersion, cache: &Path) -> Outcome<PathBuf> {
        let root = match version.source.strip_prefix("runs:/") {
            Some(rest) => {
                let (run_id, path) = rest.split_once('/').unwrap_or((rest, ""));
                format!("{}/{path}", self.artifact_root(run_id)?)
            }
            None => proxy_path(&version.source).ok_or_else(|| {
                Failure::rejected(format!(
                    "model {:?} version {} has source {:?}, which {} cannot serve through \
                     its artifacts proxy",
                    version.name,
                    version.version,
                    version.source,
                    self.http.base()
                ))
            })?,
        };
        download_tree(&self.http, root.trim_end_matches('/'), "", cache)?;
        Ok(cache.to_path_buf())
    }

    fn is_local(&self) -> bool {
        false
    }
}
