//! The model registry of a local store, in MLflow's file-store layout:
//!
//! ```text
//! <root>/models/<name>/meta.yaml                     name, timestamps
//! <root>/models/<name>/aliases/<alias>               the version number
//! <root>/models/<name>/version-<n>/meta.yaml         source, run_id, status READY, ...
//! <root>/models/<name>/version-<n>/tags/<key>        the value
//! ```
//!
//! A version's `source` is the `file://` URI of the run's artifact directory
//! the model was logged to, so MLflow's `download_artifacts("models:/...")`
//! finds the files, and so do we.
//!
//! [`Registry`] only knows its own directory: the store ([`super::LocalStore`])
//! finds the run, holds the store's lock and creates the store before it
//! calls in here, so imports run one way (store → registry).

use std::fs;
use std::path::{Path, PathBuf};

use super::fs::{file_uri, mkdirs, write_atomic};
use super::yaml::{self, Scalar};
use crate::mlflow::tracking::{now_millis, Failure, ModelVersion, NewVersion, Outcome, VersionRef};
use crate::mlflow::validate::{check_alias, check_key, check_model_name};

/// The `models/` directory of one local store.
pub struct Registry {
    dir: PathBuf,
    /// How the store is named in messages (`local store /x/mlruns`).
    location: String,
}

impl Registry {
    pub fn new(dir: PathBuf, location: String) -> Self {
        Self { dir, location }
    }

    fn model_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn not_found(&self, what: String) -> Failure {
        Failure::rejected(format!("{what} in {}", self.location))
    }

    /// Adds a version of model `new.name` (created if missing) whose files
    /// are `source_dir` (the run's artifacts under `new.artifact_path`,
    /// found by the store). The caller holds the store's lock.
    pub fn create_version(&self, new: NewVersion<'_>, source_dir: &Path) -> Outcome<ModelVersion> {
        let NewVersion {
            name, run_id, tags, ..
        } = new;
        check_model_name(name)?;
        for (key, _) in tags {
            check_key("model version tag", key)?;
        }
        let dir = self.model_dir(name);
        let now = now_millis();
        if !dir.join("meta.yaml").exists() {
            let meta = yaml::write(&[
                ("creation_timestamp", Scalar::Int(now)),
                ("description", Scalar::Null),
                ("last_updated_timestamp", Scalar::Int(now)),
                ("name", Scalar::Str(name)),
            ]);
            write_atomic(&dir.join("meta.yaml"), meta.as_bytes())?;
        }
        let version = self.versions(name)?.into_iter().max().unwrap_or(0) + 1;
        let vdir = dir.join(format!("version-{version}"));
        mkdirs(&vdir)?;
        let source = file_uri(source_dir);
        let meta = yaml::write(&[
            ("creation_timestamp", Scalar::Int(now)),
            ("current_stage", Scalar::Str("None")),
            ("description", Scalar::Null),
            ("last_updated_timestamp", Scalar::Int(now)),
            ("name", Scalar::Str(name)),
            ("run_id", Scalar::Str(run_id)),
            ("run_link", Scalar::Null),
            ("source", Scalar::Str(&source)),
            ("status", Scalar::Str("READY")),
            ("status_message", Scalar::Null),
            ("storage_location", Scalar::Str(&source)),
            ("user_id", Scalar::Null),
            ("version", Scalar::Int(version)),
        ]);
        for (key, value) in tags {
            write_atomic(&vdir.join("tags").join(key), value.as_bytes())?;
        }
        // meta.yaml last: a version directory without it is not a version yet.
        write_atomic(&vdir.join("meta.yaml"), meta.as_bytes())?;
        Ok(ModelVersion {
            name: name.to_string(),
            version,
            source,
        })
    }

    fn versions(&self, name: &str) -> Outcome<Vec<i64>> {
        let entries = match fs::read_dir(self.model_dir(name)) {
            Ok(entries) => entries,
            Err(_) => return Ok(vec![]),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix("version-")?.parse::<i64>().ok()
            })
            .collect())
    }

    /// Points `alias` at an existing `version`. The caller holds the lock.
    pub fn set_alias(&self, name: &str, alias: &str, version: i64) -> Outcome<()> {
        check_model_name(name)?;
        check_alias(alias)?;
        if !self.versions(name)?.contains(&version) {
            return Err(self.not_found(format!(
                "registered model {name:?} has no version {version}"
            )));
        }
        let path = self.model_dir(name).join("aliases").join(alias);
        write_atomic(&path, version.to_string().as_bytes())
    }

    /// The version `which` names (a number, or an alias read from its file).
    pub fn version(&self, name: &str, which: &VersionRef) -> Outcome<ModelVersion> {
        check_model_name(name)?;
        let dir = self.model_dir(name);
        if !dir.join("meta.yaml").is_file() {
            return Err(self.not_found(format!("registered model {name:?} does not exist")));
        }
        let version = match which {
            VersionRef::Number(v) => *v,
            VersionRef::Alias(alias) => {
                check_alias(alias)?;
                let path = dir.join("aliases").join(alias);
                let text = fs::read_to_string(&path).map_err(|_| {
                    self.not_found(format!("registered model {name:?} has no alias {alias:?}"))
                })?;
                text.trim().parse::<i64>().map_err(|_| {
                    Failure::rejected(format!("alias file {} is not a version", path.display()))
                })?
            }
        };
        let meta_path = dir.join(format!("version-{version}")).join("meta.yaml");
        let text = fs::read_to_string(&meta_path).map_err(|_| {
            self.not_found(format!(
                "registered model {name:?} has no version {version}"
            ))
        })?;
        let source = yaml::read(&text)
            .get("source")
            .cloned()
            .flatten()
            .ok_or_else(|| Failure::rejected(format!("{} has no `source`", meta_path.display())))?;
        Ok(ModelVersion {
            name: name.to_string(),
            version,
            source,
        })
    }

    /// The local directory a version's `source` names (a `file://` URI or an
    /// absolute path, as MLflow writes either).
    pub fn files_of(&self, version: &ModelVersion) -> Outcome<PathBuf> {
        let path = match version.source.strip_prefix("file://") {
            Some(p) => PathBuf::from(
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
            None if version.source.starts_with('/') => PathBuf::from(&version.source),
            None => {
                return Err(Failure::rejected(format!(
                    "model {:?} version {} has source {:?}, which is not a local path ({})",
                    version.name, version.version, version.source, self.location
                )))
            }
        };
        if !path.is_dir() {
            return Err(Failure::rejected(format!(
                "model {:?} version {}: its files are missing at {}",
                version.name,
                version.version,
                path.display()
            )));
        }
        Ok(path)
    }
}
