//! The model registry, independent of the backend: register a model
//! directory as a new version, and resolve `models:/` URIs to a local
//! directory ([`resolve_model_uri`], what `bert_sentiment` calls).

use std::path::{Path, PathBuf};

use super::artifacts::log_path;
use super::local_registry::{check_alias, check_model_name};
use super::session::{http_options, open};
use super::tracking::{Failure, ModelVersion, Outcome, Tracking, VersionRef};
use crate::error::Result;

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
    let version = t.create_model_version(name, run, name, tags)?;
    if let Some(alias) = alias {
        t.set_alias(name, alias, version.version)?;
    }
    Ok(version)
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

/// Resolves a `models:/<name>@<alias>` or `models:/<name>/<version>` URI to a
/// local directory holding the version's files.
///
/// `tracking_uri` is the value of `mlflow_tracking_uri` (`None`: the
/// `MLFLOW_TRACKING_URI` environment variable, else `./mlruns`). For a
/// tracking server the files are downloaded once into
/// `<cache>/<server>/<name>/<version>/` (`<cache>`: `$MEDALLION_MODEL_CACHE`,
/// else `~/.cache/medallion/models`), written to a temporary directory first
/// and renamed into place, so a directory that exists is complete; later
/// calls only resolve the alias. For a local store the store's own directory
/// is returned.
pub fn resolve_model_uri(uri: &str, tracking_uri: Option<&str>) -> Result<PathBuf> {
    const FN: &str = "resolve_model_uri";
    let fail = |f: Failure| super::session::fail(FN, f);
    let (name, which) = parse_model_uri(uri).map_err(fail)?;
    let env_uri = std::env::var("MLFLOW_TRACKING_URI").ok();
    let tracking_uri = tracking_uri.or(env_uri.as_deref());
    let options = http_options(FN, |setting| {
        std::env::var(setting.to_ascii_uppercase()).ok()
    })?;
    let t = open(tracking_uri, options).map_err(fail)?;
    let version = t.model_version(&name, &which).map_err(|f| {
        let mut f = f;
        f.message = format!("resolving {uri}: {}", f.message);
        fail(f)
    })?;
    if t.is_local() {
        return t.fetch_model(&version, Path::new("")).map_err(fail);
    }
    let target = cache_root()
        .join(super::http::escape(&t.location()))
        .join(super::http::escape(&name))
        .join(version.version.to_string());
    if target.is_dir() {
        return Ok(target);
    }
    let parent = target.parent().expect("has a parent");
    std::fs::create_dir_all(parent).map_err(|e| fail(Failure::io("cannot create", parent, &e)))?;
    let partial = parent.join(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
    let fetched = t.fetch_model(&version, &partial);
    if let Err(f) = fetched {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(fail(f));
    }
    if std::fs::rename(&partial, &target).is_err() {
        // Someone else published it first: theirs is complete, drop ours.
        let _ = std::fs::remove_dir_all(&partial);
        if !target.is_dir() {
            return Err(fail(Failure::rejected(format!(
                "cannot move the downloaded model into {}",
                target.display()
            ))));
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
    use crate::mlflow::local::LocalStore;

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
        let run = store.create_run(&exp, Some("train"), &[]).unwrap();
        let tags = [("f1".to_string(), "0.81".to_string())];
        let v = register_model(&store, "bert", &model, &run, &tags, Some("champion")).unwrap();
        assert_eq!(v.version, 1);

        let uri = format!("file://{}", store_dir.display());
        for model_uri in ["models:/bert@champion", "models:/bert/1"] {
            let dir = resolve_model_uri(model_uri, Some(&uri)).unwrap();
            assert_eq!(
                std::fs::read(dir.join("model.onnx")).unwrap(),
                onnx,
                "{model_uri}"
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("tokenizer/vocab.txt")).unwrap(),
                "[PAD]\nhello\n"
            );
        }
        let err = resolve_model_uri("models:/bert@nobody", Some(&uri))
            .unwrap_err()
            .to_string();
        assert!(err.contains("resolve_model_uri: resolving models:/bert@nobody: registered model \"bert\" has no alias \"nobody\""), "{err}");
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
