//! The model registry, independent of the backend: register a model
//! directory as a new version, and resolve `models:/` URIs to a local
//! directory ([`resolve_model_uri`], what `bert_sentiment` calls).

use std::path::{Path, PathBuf};

use super::artifacts::log_path;
use super::client::{open, Intent, Problem};
use super::pyfunc;
use super::rest::http::escape;
use super::tracking::{Failure, ModelVersion, NewVersion, Outcome, Tracking, Upload, VersionRef};
use super::validate::{check_alias, check_model_name};
use crate::duck::Access;

/// Uploads `model_dir` (ONNX, tokenizer, config, ...) into the run's
/// artifacts under `<name>/`, registers it as a new version of model `name`
/// (created if missing) with `tags`, and points `alias` at it.
pub fn register_model(
    t: &dyn Tracking,
    name: &str,
    model_dir: &Path,
    run: &str,
    tags: &[(String, String)],
    alias: Option<&str>,
) -> Outcome<ModelVersion> {
    check_model_name(name)?;
    if let Some(alias) = alias {
        check_alias(alias)?;
    }
    if !model_dir.is_dir() {
        return Err(Failure::rejected(format!(
            "model directory {} does not exist or is not a directory",
            model_dir.display()
        )));
    }
    log_path(t, run, model_dir, Some(name))?;
    if !model_dir.join("MLmodel").exists() {
        log_flavor(t, run, model_dir, name)?;
    }
    let version = t.create_model_version(NewVersion {
        name,
        run_id: run,
        artifact_path: name,
        tags,
    })?;
    if let Some(alias) = alias {
        t.set_alias(name, alias, version.version)?;
    }
    Ok(version)
}

/// Adds the `python_function` flavor files next to the uploaded model (a
/// directory that is already an MLflow model keeps its own `MLmodel`).
fn log_flavor(t: &dyn Tracking, run: &str, model_dir: &Path, name: &str) -> Outcome<()> {
    let config = std::fs::read_to_string(model_dir.join("config.json")).ok();
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    let created = chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    for (rel, text) in pyfunc::flavor_files(name, config.as_deref(), &uuid, &created) {
        t.put_artifact(
            run,
            &format!("{name}/{rel}"),
            Upload::Bytes(text.as_bytes()),
        )?;
    }
    Ok(())
}

/// Parses `models:/<name>/<version>` or `models:/<name>@<alias>`.
pub fn parse_model_uri(uri: &str) -> Outcome<(String, VersionRef)> {
    let bad = |why: &str| {
        Failure::rejected(format!(
            "malformed model URI {uri:?}: {why} (expected models:/<name>/<version> or \
             models:/<name>@<alias>)"
        ))
    };
    let rest = uri
        .strip_prefix("models:/")
        .ok_or_else(|| bad("it does not start with models:/"))?;
    let rest = rest.trim_start_matches('/');
    if let Some((name, alias)) = rest.rsplit_once('@') {
        check_model_name(name).map_err(|_| bad("bad model name"))?;
        check_alias(alias).map_err(|f| bad(&f.message))?;
        return Ok((name.to_string(), VersionRef::Alias(alias.to_string())));
    }
    let (name, version) = rest
        .rsplit_once('/')
        .ok_or_else(|| bad("no version or alias"))?;
    check_model_name(name).map_err(|_| bad("bad model name"))?;
    let version = version
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| bad("the version is not a positive number"))?;
    Ok((name.to_string(), VersionRef::Number(version)))
}

/// Resolves a `models:/<name>@<alias>` or `models:/<name>/<version>` URI to
/// a local directory holding the version's files: the one function the
/// `sentiment` capability calls (`bert_sentiment(text, 'models:/...')`).
///
/// `setting(name)` is the caller's value of a DuckDB setting
/// (`mlflow_tracking_uri`, `mlflow_http_request_*`; `None` when unset), so
/// the backend is opened exactly as the mlflow_* SQL functions open it, and
/// `access` is the caller's external-access policy: a tracking server needs
/// `connect` (nothing is downloaded or cached before it is allowed), a local
/// store `read` of its directory and of the version's files.
///
/// For a tracking server the files are downloaded once into
/// `<cache>/<server>/<name>/<version>/` (`<cache>`: `$MEDALLION_MODEL_CACHE`,
/// else `~/.cache/medallion/models`), written to a temporary directory first
/// and renamed into place, so a directory that exists is complete; later
/// calls only resolve the alias. For a local store the store's own directory
/// is returned.
///
/// `Err` is the message without a SQL function name (the caller adds its
/// own), e.g. `resolving models:/bert@nobody: registered model "bert" has no
/// alias "nobody" in local store /x/mlruns`.
pub fn resolve_model_uri(
    uri: &str,
    setting: &dyn Fn(&str) -> Option<String>,
    access: &Access,
) -> std::result::Result<PathBuf, String> {
    let resolved = parse_model_uri(uri)
        .map_err(Problem::from)
        .and_then(|_| open(setting, access, Intent::Read))
        .and_then(|tracking| resolve(&*tracking, access, uri));
    resolved.map_err(|p| p.message())
}

/// [`resolve_model_uri`] on an open backend: what `mlflow_resolve_model`
/// runs for each row.
pub fn resolve(
    t: &dyn Tracking,
    access: &Access,
    uri: &str,
) -> std::result::Result<PathBuf, Problem> {
    let (name, which) = parse_model_uri(uri)?;
    let version = t.model_version(&name, &which).map_err(|mut f| {
        f.message = format!("resolving {uri}: {}", f.message);
        f
    })?;
    if t.is_local() {
        let dir = t.fetch_model(&version, Path::new(""))?;
        // A version's files may live outside the store (its `source`).
        access.read(&*dir.to_string_lossy())?;
        return Ok(dir);
    }
    Ok(cached(t, &name, &version)?)
}

/// A remote version's files in the model cache, downloaded if missing.
fn cached(t: &dyn Tracking, name: &str, version: &ModelVersion) -> Outcome<PathBuf> {
    let target = cache_root()
        .join(escape(&t.location()))
        .join(escape(name))
        .join(version.version.to_string());
    if target.is_dir() {
        return Ok(target);
    }
    let parent = target.parent().expect("has a parent");
    std::fs::create_dir_all(parent).map_err(|e| Failure::io("cannot create", parent, &e))?;
    let partial = parent.join(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
    if let Err(f) = t.fetch_model(version, &partial) {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(f);
    }
    if std::fs::rename(&partial, &target).is_err() {
        // Someone else published it first: theirs is complete, drop ours.
        let _ = std::fs::remove_dir_all(&partial);
        if !target.is_dir() {
            return Err(Failure::rejected(format!(
                "cannot move the downloaded model into {}",
                target.display()
            )));
        }
    }
    Ok(target)
}

/// Where downloaded models are kept.
pub fn cache_root() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("MEDALLION_MODEL_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|c| c.join("medallion").join("models")))
        .or_else(|| env("HOME").map(|h| h.join(".cache").join("medallion").join("models")))
        .unwrap_or_else(|| std::env::temp_dir().join("medallion-models"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlflow::client::TRACKING_URI;
    use crate::mlflow::local::LocalStore;
    use crate::mlflow::tracking::NewRun;

    /// Registers a model directory in a local store and resolves it back,
    /// by alias and by version, to the same bytes.
    #[test]
    fn register_then_resolve_in_a_local_store() {
        let tmp = std::env::temp_dir().join(format!(
            "medallion-registry-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let model = tmp.join("model");
        std::fs::create_dir_all(model.join("tokenizer")).unwrap();
        let onnx: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(model.join("model.onnx"), &onnx).unwrap();
        std::fs::write(model.join("tokenizer/vocab.txt"), "[PAD]\nhello\n").unwrap();
        let store_dir = tmp.join("mlruns");
        let store = LocalStore::new(store_dir.clone());
        let exp = store.experiment_id("registry").unwrap();
        let new = NewRun {
            experiment_id: &exp,
            name: Some("train"),
            tags: &[],
        };
        let run = store.create_run(new).unwrap();
        let tags = [("f1".to_string(), "0.81".to_string())];
        let v = register_model(&store, "bert", &model, &run, &tags, Some("champion")).unwrap();
        assert_eq!(v.version, 1);

        let uri = format!("file://{}", store_dir.display());
        let setting = |name: &str| (name == TRACKING_URI).then(|| uri.clone());
        let open = Access::unrestricted();
        for model_uri in ["models:/bert@champion", "models:/bert/1"] {
            let dir = resolve_model_uri(model_uri, &setting, &open).unwrap();
            assert_eq!(
                std::fs::read(dir.join("model.onnx")).unwrap(),
                onnx,
                "{model_uri}"
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("tokenizer/vocab.txt")).unwrap(),
                "[PAD]\nhello\n"
            );
            // The registered directory is an MLflow model too.
            let mlmodel = std::fs::read_to_string(dir.join("MLmodel")).unwrap();
            assert!(mlmodel.starts_with("artifact_path: 'bert'\n"), "{mlmodel}");
            assert!(dir.join("code/medallion_pyfunc.py").is_file());
        }
        // The message carries no SQL function name: the caller adds its own.
        let err = resolve_model_uri("models:/bert@nobody", &setting, &open).unwrap_err();
        let want = format!(
            "resolving models:/bert@nobody: registered model \"bert\" has no alias \"nobody\" \
             in local store {}",
            store_dir.display()
        );
        assert_eq!(err, want);

        // With external access off, the store (and the files) must be readable.
        let locked = Access::locked(vec![], vec![], None);
        let err = resolve_model_uri("models:/bert@champion", &setting, &locked).unwrap_err();
        assert_eq!(
            err,
            format!(
                "cannot read '{}': file system access is disabled (enable_external_access = false)",
                store_dir.display()
            )
        );
        let allowed = Access::locked(vec![tmp.clone()], vec![], None);
        assert!(resolve_model_uri("models:/bert@champion", &setting, &allowed).is_ok());

        // A server is not contacted when network access is off.
        let server = |name: &str| (name == TRACKING_URI).then(|| "http://127.0.0.1:9".to_string());
        let err = resolve_model_uri("models:/bert@champion", &server, &locked).unwrap_err();
        assert!(
            err.starts_with("cannot connect to 'http://127.0.0.1:9': network access is disabled"),
            "{err}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn model_uris() {
        assert_eq!(
            parse_model_uri("models:/bert@champion").unwrap(),
            ("bert".into(), VersionRef::Alias("champion".into()))
        );
        assert_eq!(
            parse_model_uri("models:/bert sentiment/3").unwrap(),
            ("bert sentiment".into(), VersionRef::Number(3))
        );
        for bad in [
            "bert/1",
            "models:/bert",
            "models:/bert/0",
            "models:/bert@",
            "models:/@x",
            "models:/a/b/1",
        ] {
            let e = parse_model_uri(bad).unwrap_err();
            assert!(e.message.contains("malformed model URI"), "{bad}: {e}");
        }
    }
}
