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

use std::fs;
use std::path::PathBuf;

use super::local::{file_uri, mkdirs, write_atomic, LocalStore, LOCK};
use super::tracking::{
    check_artifact_path, check_key, now_millis, Failure, ModelVersion, Outcome, Tracking,
    VersionRef,
};
use super::yaml::{self, Scalar};

/// Registered model names become directory names: refuse what could escape.
pub fn check_model_name(name: &str) -> Outcome<()> {
    if name.trim().is_empty()
        || name.contains(['/', '\\', '\0', ':', '@'])
        || name.starts_with('.')
        || name.len() > 256
    {
        return Err(Failure::rejected(format!(
            "invalid registered model name {name:?}: must be non-empty, must not start with \
             `.` nor contain `/ \\ : @`"
        )));
    }
    Ok(())
}

/// MLflow's alias rule: letters, digits, `_` and `-`; `latest` and `v<n>`
/// are reserved.
pub fn check_alias(alias: &str) -> Outcome<()> {
    let reserved = alias.eq_ignore_ascii_case("latest")
        || (alias.len() > 1
            && alias.starts_with(['v', 'V'])
            && alias[1..].chars().all(|c| c.is_ascii_digit()));
    if alias.is_empty()
        || reserved
        || !alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Failure::rejected(format!(
            "invalid model alias {alias:?}: letters, digits, `_` and `-` only; `latest` \
             and `v<number>` are reserved"
        )));
    }
    Ok(())
}

fn model_dir(store: &LocalStore, name: &str) -> PathBuf {
    store.root.join("models").join(name)
}

pub fn create_model_version(
    store: &LocalStore,
    name: &str,
    run_id: &str,
    artifact_path: &str,
    tags: &[(String, String)],
) -> Outcome<ModelVersion> {
    check_model_name(name)?;
    check_artifact_path(artifact_path)?;
    for (key, _) in tags {
        check_key("model version tag", key)?;
    }
    let source_dir = store.run_dir(run_id)?.join("artifacts").join(artifact_path);
    if !source_dir.exists() {
        return Err(Failure::rejected(format!(
            "run '{run_id}' has no artifacts at {artifact_path:?} in {}",
            store.location()
        )));
    }
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    store.ensure_root()?;
    let dir = model_dir(store, name);
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
    let version = versions(store, name)?.into_iter().max().unwrap_or(0) + 1;
    let vdir = dir.join(format!("version-{version}"));
    mkdirs(&vdir)?;
    let source = file_uri(&source_dir);
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
    write_atomic(&vdir.join("meta.yaml"), meta.as_bytes())?;
    Ok(ModelVersion {
        name: name.to_string(),
        version,
        source,
    })
}

fn versions(store: &LocalStore, name: &str) -> Outcome<Vec<i64>> {
    let dir = model_dir(store, name);
    let entries = match fs::read_dir(&dir) {
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

fn not_found(store: &LocalStore, what: String) -> Failure {
    Failure::rejected(format!("{what} in {}", store.location()))
}

pub fn set_alias(store: &LocalStore, name: &str, alias: &str, version: i64) -> Outcome<()> {
    check_model_name(name)?;
    check_alias(alias)?;
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !versions(store, name)?.contains(&version) {
        return Err(not_found(
            store,
            format!("registered model {name:?} has no version {version}"),
        ));
    }
    let path = model_dir(store, name).join("aliases").join(alias);
    write_atomic(&path, version.to_string().as_bytes())
}

pub fn model_version(store: &LocalStore, name: &str, which: &VersionRef) -> Outcome<ModelVersion> {
    check_model_name(name)?;
    let dir = model_dir(store, name);
    if !dir.join("meta.yaml").is_file() {
        return Err(not_found(
            store,
            format!("registered model {name:?} does not exist"),
        ));
    }
    let version = match which {
        VersionRef::Number(v) => *v,
        VersionRef::Alias(alias) => {
            check_alias(alias)?;
            let path = dir.join("aliases").join(alias);
            let text = fs::read_to_string(&path).map_err(|_| {
                not_found(
                    store,
                    format!("registered model {name:?} has no alias {alias:?}"),
                )
            })?;
            text.trim().parse::<i64>().map_err(|_| {
                Failure::rejected(format!("alias file {} is not a version", path.display()))
            })?
        }
    };
    let meta_path = dir.join(format!("version-{version}")).join("meta.yaml");
    let text = fs::read_to_string(&meta_path).map_err(|_| {
        not_found(
            store,
            format!("registered model {name:?} has no version {version}"),
        )
    })?;
    let meta = yaml::read(&text);
    let source = meta
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

/// The local directory a version's `source` names.
pub fn model_dir_of(store: &LocalStore, version: &ModelVersion) -> Outcome<PathBuf> {
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
                version.name,
                version.version,
                version.source,
                store.location()
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
