//! The local backend: a directory in MLflow's file-store layout, which stock
//! MLflow reads (`mlflow ui --backend-store-uri <dir>`, `MlflowClient`,
//! `mlflow.search_runs`; MLflow 3 wants `MLFLOW_ALLOW_FILE_STORE=true` for it):
//!
//! ```text
//! <root>/0/meta.yaml                       the Default experiment
//! <root>/<exp_id>/meta.yaml                name, artifact_location, ...
//! <root>/<exp_id>/<run_id>/meta.yaml       status (1 running, 3 finished, 4 failed, 5 killed), times
//! <root>/<exp_id>/<run_id>/params/<key>    the value
//! <root>/<exp_id>/<run_id>/metrics/<key>   one "timestamp value step" line per logged value
//! <root>/<exp_id>/<run_id>/tags/<key>      the value
//! <root>/<exp_id>/<run_id>/artifacts/...   the files
//! <root>/models/...                        the model registry (see registry.rs)
//! ```
//!
//! Writes that read-modify-write (experiment creation, params, the registry)
//! hold one process-wide lock; files are written to a temporary name and
//! renamed, so a reader never sees half a file ([`fs`]).

mod fs;
mod registry;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use self::fs::{append, file_uri, mkdirs, write_atomic};
use self::registry::Registry;
use self::yaml::Scalar;
use super::tracking::{
    now_millis, Batch, Failure, ModelVersion, NewRun, NewVersion, Outcome, RunStatus, Tracking,
    Upload, VersionRef,
};
use super::validate::{check_artifact_path, check_key, check_run_id};

/// Serialises read-modify-write sequences on local stores in this process.
static LOCK: Mutex<()> = Mutex::new(());

/// Takes [`LOCK`]; a panic while it was held poisons nothing we rely on
/// (every write is a rename), so a poisoned lock is taken anyway.
fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn registry(&self) -> Registry {
        Registry::new(self.root.join("models"), self.location())
    }

    /// Creates the store (with MLflow's Default experiment) if it is new.
    fn ensure_root(&self) -> Outcome<()> {
        if self.root.join("0").join("meta.yaml").exists() {
            return Ok(());
        }
        mkdirs(&self.root.join(".trash"))?;
        self.write_experiment("0", "Default")
    }

    fn write_experiment(&self, id: &str, name: &str) -> Outcome<()> {
        let dir = self.root.join(id);
        mkdirs(&dir)?;
        let now = now_millis();
        let location = file_uri(&dir);
        let meta = yaml::write(&[
            ("artifact_location", Scalar::Str(&location)),
            ("creation_time", Scalar::Int(now)),
            ("experiment_id", Scalar::Str(id)),
            ("last_update_time", Scalar::Int(now)),
            ("lifecycle_stage", Scalar::Str("active")),
            ("name", Scalar::Str(name)),
        ]);
        write_atomic(&dir.join("meta.yaml"), meta.as_bytes())
    }

    /// The run's directory, found by scanning the experiments.
    fn run_dir(&self, run_id: &str) -> Outcome<PathBuf> {
        check_run_id(run_id)?;
        let entries = std::fs::read_dir(&self.root)
            .map_err(|e| Failure::io("cannot read the local MLflow store", &self.root, &e))?;
        for entry in entries.flatten() {
            if entry.file_name() == "models" || entry.file_name() == ".trash" {
                continue; // the registry and deleted experiments hold no live runs
            }
            let dir = entry.path().join(run_id);
            if dir.join("meta.yaml").is_file() {
                return Ok(dir);
            }
        }
        Err(Failure::rejected(format!(
            "run '{run_id}' not found in local store {}",
            self.root.display()
        )))
    }

    fn read_meta(path: &Path) -> Outcome<std::collections::HashMap<String, Option<String>>> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::io("cannot read", path, &e))?;
        Ok(yaml::read(&text))
    }
}

impl Tracking for LocalStore {
    fn location(&self) -> String {
        format!("local store {}", self.root.display())
    }

    fn experiment_id(&self, name: &str) -> Outcome<String> {
        if name.trim().is_empty() {
            return Err(Failure::rejected("experiment name is empty"));
        }
        let _guard = lock();
        self.ensure_root()?;
        let entries = std::fs::read_dir(&self.root)
            .map_err(|e| Failure::io("cannot read the local MLflow store", &self.root, &e))?;
        for entry in entries.flatten() {
            let meta = entry.path().join("meta.yaml");
            if !meta.is_file() {
                continue;
            }
            let m = Self::read_meta(&meta)?;
            if m.get("name").cloned().flatten().as_deref() == Some(name) {
                if m.get("lifecycle_stage").cloned().flatten().as_deref() == Some("deleted") {
                    return Err(Failure::rejected(format!(
                        "experiment {name:?} is deleted in {}",
                        self.location()
                    )));
                }
                return Ok(entry.file_name().to_string_lossy().into_owned());
            }
        }
        // MLflow's file store uses random positive 63-bit integers as ids.
        let id = (uuid::Uuid::new_v4().as_u64_pair().0 >> 1).to_string();
        self.write_experiment(&id, name)?;
        Ok(id)
    }

    fn create_run(&self, new: NewRun<'_>) -> Outcome<String> {
        let NewRun {
            experiment_id,
            name,
            tags,
        } = new;
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let exp_dir = self.root.join(experiment_id);
        let dir = exp_dir.join(&run_id);
        for sub in ["metrics", "params", "tags", "artifacts"] {
            mkdirs(&dir.join(sub))?;
        }
        let artifact_uri = file_uri(&dir.join("artifacts"));
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let meta = yaml::write(&[
            ("artifact_uri", Scalar::Str(&artifact_uri)),
            ("end_time", Scalar::Null),
            ("entry_point_name", Scalar::Str("")),
            ("experiment_id", Scalar::Str(experiment_id)),
            ("lifecycle_stage", Scalar::Str("active")),
            ("run_id", Scalar::Str(&run_id)),
            ("run_name", Scalar::Str(name.unwrap_or(""))),
            ("source_name", Scalar::Str("")),
            ("source_type", Scalar::Int(4)),
            ("source_version", Scalar::Str("")),
            ("start_time", Scalar::Int(now_millis())),
            ("status", Scalar::Int(RunStatus::Running as i64)),
            ("user_id", Scalar::Str(&user)),
        ]);
        write_atomic(
            &dir.join("meta.yaml"),
            format!("{meta}tags: []\n").as_bytes(),
        )?;
        self.log_batch(&run_id, Batch::tags(tags))?;
        Ok(run_id)
    }

    fn log_batch(&self, run_id: &str, batch: Batch<'_>) -> Outcome<()> {
        // Check every key first: a bad one logs nothing.
        let keys = (batch.params.iter().map(|(k, _)| ("param", k)))
            .chain(batch.metrics.iter().map(|m| ("metric", &m.key)))
            .chain(batch.tags.iter().map(|(k, _)| ("tag", k)));
        for (kind, key) in keys {
            check_key(kind, key)?;
        }
        let dir = self.run_dir(run_id)?;
        let _guard = lock();
        for (key, value) in batch.params {
            let path = dir.join("params").join(key);
            match std::fs::read_to_string(&path) {
                Ok(old) if old == *value => continue,
                Ok(old) => {
                    return Err(Failure::rejected(format!(
                        "param {key:?} of run '{run_id}' is already {old:?}; MLflow params \
                         cannot change (refused {value:?}) in {}",
                        self.location()
                    )))
                }
                Err(_) => write_atomic(&path, value.as_bytes())?,
            }
        }
        for m in batch.metrics {
            let path = dir.join("metrics").join(&m.key);
            let line = format!("{} {} {}\n", m.timestamp, m.value, m.step);
            append(&path, line.as_bytes())?;
        }
        for (key, value) in batch.tags {
            write_atomic(&dir.join("tags").join(key), value.as_bytes())?;
        }
        Ok(())
    }

    fn get_tag(&self, run_id: &str, key: &str) -> Outcome<Option<String>> {
        check_key("tag", key)?;
        let path = self.run_dir(run_id)?.join("tags").join(key);
        Ok(std::fs::read_to_string(path).ok())
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Outcome<()> {
        let path = self.run_dir(run_id)?.join("meta.yaml");
        let _guard = lock();
        let text =
            std::fs::read_to_string(&path).map_err(|e| Failure::io("cannot read", &path, &e))?;
        let updated: String = text
            .lines()
            .map(|line| {
                if line.starts_with("status:") {
                    format!("status: {}\n", status as i64)
                } else if line.starts_with("end_time:") {
                    format!("end_time: {}\n", now_millis())
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        write_atomic(&path, updated.as_bytes())
    }

    fn put_artifact(&self, run_id: &str, path: &str, data: Upload<'_>) -> Outcome<String> {
        check_artifact_path(path)?;
        let target = self.run_dir(run_id)?.join("artifacts").join(path);
        match data {
            Upload::Bytes(bytes) => write_atomic(&target, bytes)?,
            Upload::File(source) => {
                let bytes =
                    std::fs::read(source).map_err(|e| Failure::io("cannot read", source, &e))?;
                write_atomic(&target, &bytes)?;
            }
        }
        Ok(file_uri(&target))
    }

    fn create_model_version(&self, new: NewVersion<'_>) -> Outcome<ModelVersion> {
        check_artifact_path(new.artifact_path)?;
        let artifacts = self.run_dir(new.run_id)?.join("artifacts");
        let source_dir = artifacts.join(new.artifact_path);
        if !source_dir.exists() {
            let (run, path) = (new.run_id, new.artifact_path);
            let location = self.location();
            let problem = format!("run '{run}' has no artifacts at {path:?} in {location}");
            return Err(Failure::rejected(problem));
        }
        let _guard = lock();
        self.ensure_root()?;
        self.registry().create_version(new, &source_dir)
    }

    fn set_alias(&self, name: &str, alias: &str, version: i64) -> Outcome<()> {
        let _guard = lock();
        self.registry().set_alias(name, alias, version)
    }

    fn model_version(&self, name: &str, which: &VersionRef) -> Outcome<ModelVersion> {
        self.registry().version(name, which)
    }

    fn fetch_model(&self, version: &ModelVersion, _cache: &Path) -> Outcome<PathBuf> {
        self.registry().files_of(version)
    }

    fn is_local(&self) -> bool {
        true
    }
}
