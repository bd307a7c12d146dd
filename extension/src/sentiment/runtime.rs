//! Finding and loading ONNX Runtime, once per process.
//!
//! `ort` is built with `load-dynamic`: nothing of ONNX Runtime is linked, and
//! the shared library is opened at the first use of `bert_sentiment`, from the
//! `onnxruntime_library` setting (default: `libonnxruntime.so` next to the
//! extension file, where `make build` puts it). ONNX Runtime allows one
//! environment per process, so the environment lives in a process-wide static
//! and every session is built on it. A failed load is not remembered: after
//! fixing the setting, the next query tries again. Once loaded, the library
//! stays loaded; a different `onnxruntime_library` later has no effect.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use crate::error::{guard, Error, Result};

/// The file name `make build` gives ONNX Runtime next to the extension.
pub const LIBRARY_NAMES: &[&str] = &["libonnxruntime.so", "libonnxruntime.so.1.32.0"];

/// The built-in default of `onnxruntime_library`: the first of
/// [`LIBRARY_NAMES`] that exists next to the extension (else the first name
/// there, so that the error names where it was looked for).
pub fn default_library() -> Option<String> {
    let dir = crate::settings::extension_dir()?;
    let found = LIBRARY_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| dir.join(LIBRARY_NAMES[0]));
    Some(found.to_string_lossy().into_owned())
}

struct Loaded {
    env: Environment,
    path: PathBuf,
}

static RUNTIME: Mutex<Option<Loaded>> = Mutex::new(None);

/// The process's ONNX Runtime environment, loading the library from
/// `library` if no load has succeeded yet.
pub fn environment(library: Option<&str>) -> Result<Environment> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(loaded) = slot.as_ref() {
        return Ok(loaded.env.clone());
    }
    let library = library.ok_or_else(|| Error::OnnxRuntime {
        path: "(not set)".into(),
        problem: "no library path: the extension's own directory is unknown".into(),
    })?;
    let path = absolute(Path::new(library));
    let env = load(&path)?;
    *slot = Some(Loaded {
        env: env.clone(),
        path,
    });
    Ok(env)
}

/// The library that was loaded, if any (for diagnostics and tests).
pub fn loaded_library() -> Option<PathBuf> {
    let slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    slot.as_ref().map(|l| l.path.clone())
}

fn load(path: &Path) -> Result<Environment> {
    let shown = path.display().to_string();
    let err = |problem: String| Error::OnnxRuntime {
        path: shown.clone(),
        problem,
    };
    if !path.exists() {
        return Err(err("no such file".into()));
    }
    // `ort` panics on some load failures (and dlopen of a foreign file can
    // fail in odd ways): keep it all behind the guard.
    let env = guard("bert_sentiment", || {
        let builder = ort::init_from(path).map_err(|e| err(format!("cannot load: {e}")))?;
        builder
            .with_name("medallion")
            .with_telemetry(false)
            .build()
            .map_err(|e| err(format!("cannot create an ONNX Runtime environment: {e}")))
    });
    env.map_err(|e| match e {
        Error::Panic { message, .. } => err(format!("loading panicked: {message}")),
        other => other,
    })
}

/// `path` made absolute against the current directory (a relative path would
/// otherwise be resolved against the host executable's directory by `ort`).
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}
