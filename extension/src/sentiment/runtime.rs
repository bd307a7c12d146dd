//! Finding and loading ONNX Runtime, once per process.
//!
//! `ort` is built with `load-dynamic`: nothing of ONNX Runtime is linked, and
//! the shared library is opened when the first model is loaded, from the path
//! the caller gives (the binding's `onnxruntime_library` setting; by default
//! [`library_in`] the extension's directory, where `make build` puts it).
//! ONNX Runtime allows one environment per process, so the environment lives
//! in a process-wide static and every session is built on it. A failed load
//! is not remembered: after fixing the path, the next call tries again. Once
//! loaded, the library stays loaded; a different path later has no effect.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::error::{Result, SentimentError};

/// The file names `make build` gives ONNX Runtime next to the extension.
pub const LIBRARY_NAMES: &[&str] = &["libonnxruntime.so", "libonnxruntime.so.1.32.0"];

/// The ONNX Runtime library in `dir`: the first of [`LIBRARY_NAMES`] that
/// exists there (else the first name, so that an error names where it was
/// looked for).
pub fn library_in(dir: &Path) -> PathBuf {
    LIBRARY_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| dir.join(LIBRARY_NAMES[0]))
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
    let library = library.ok_or_else(|| SentimentError::OnnxRuntime {
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
    let err = |problem: String| SentimentError::OnnxRuntime {
        path: shown.clone(),
        problem,
    };
    if !path.exists() {
        return Err(err("no such file".into()));
    }
    // `ort` panics on some load failures (and dlopen of a foreign file can
    // fail in odd ways): keep it all behind the crate's panic guard.
    let loaded = crate::error::guard("ONNX Runtime", || {
        let env = ort::init_from(path)
            .map_err(|e| err(format!("cannot load: {e}")))
            .and_then(|builder| {
                builder
                    .with_name("medallion")
                    .with_telemetry(false)
                    .build()
                    .map_err(|e| err(format!("cannot create an ONNX Runtime environment: {e}")))
            });
        Ok(env)
    });
    match loaded {
        Ok(env) => env,
        Err(crate::error::Error::Panic { message, .. }) => {
            Err(err(format!("loading panicked: {message}")))
        }
        Err(other) => Err(err(other.to_string())),
    }
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
