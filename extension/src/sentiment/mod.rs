//! BERT-style sentiment scoring inside SQL: `bert_sentiment(text [, model])`.
//!
//! The library is plain Rust that knows nothing of DuckDB, so it can be
//! tested and reused on its own: [`model`] turns a model directory into a
//! cached [`model::Model`] and classifies texts; [`graph`] holds its ONNX
//! Runtime sessions, pooled per intra-op thread count; [`threads`] decides
//! how many threads each run gets; [`batch`] sorts, pads and restores order;
//! [`runtime`] finds and loads libonnxruntime once per process; [`error`] is
//! its error type. The SQL binding, [`sql`], reads arguments and settings,
//! checks external access, and writes the STRUCT results.
//!
//! This file declares the capability to `register.rs`: its settings and its
//! SQL functions, as plain data.

pub mod batch;
pub mod error;
pub mod graph;
pub mod model;
pub mod runtime;
pub mod sql;
pub mod threads;

use std::path::PathBuf;

use crate::duck::settings::extension_dir;
use crate::duck::{Function, Setting};

/// Where `make build` puts the shipped models (one directory each, named
/// after the model), relative to the extension file.
pub const SHIPPED_MODELS_DIR: &str = "models";
/// The shipped model used when none is chosen.
pub const DEFAULT_MODEL_DIR: &str = "models/default";

pub const MODEL_SETTING: Setting = Setting {
    name: "bert_sentiment_model",
    description: "bert_sentiment: the model used when no model argument is given: a directory (model.onnx, tokenizer.json, config.json), a models:/ registry URI, or the name of a model shipped next to the extension (default, fast); default: the shipped default model",
    builtin_default: default_model,
};

pub const THREADS_SETTING: Setting = Setting {
    name: "bert_sentiment_threads",
    description: "bert_sentiment: 0 (default) = automatic: DuckDB's `threads` shared by the DuckDB threads scoring at that moment, each core running batches of its own on one ONNX Runtime thread (all cores for a table DuckDB scans with one thread, about one each when every DuckDB thread scores); a positive value N = one batch at a time, each run on N ONNX Runtime intra-op threads",
    builtin_default: || Some("0".to_string()),
};

pub const BATCH_SIZE_SETTING: Setting = Setting {
    name: "bert_sentiment_batch_size",
    description: "bert_sentiment: the most texts per ONNX Runtime run, after sorting a chunk by token length (a batch ends early where padding would cost more than a run); 1 = row at a time (for comparison only)",
    builtin_default: || Some("32".to_string()),
};

pub const LIBRARY_SETTING: Setting = Setting {
    name: "onnxruntime_library",
    description: "bert_sentiment: path of the ONNX Runtime shared library, loaded once per process at first use; default: libonnxruntime.so next to the extension",
    builtin_default: default_library,
};

/// This capability's settings (registered before any function binds).
pub const SETTINGS: &[Setting] = &[
    MODEL_SETTING,
    THREADS_SETTING,
    BATCH_SIZE_SETTING,
    LIBRARY_SETTING,
];

/// This capability's SQL functions.
pub fn functions() -> Vec<Function> {
    vec![
        Function::scalar::<sql::bert_sentiment::BertSentiment>(),
        Function::scalar::<sql::bert_sentiment_model_dir::BertSentimentModelDir>(),
    ]
}

/// The built-in default of `bert_sentiment_model`: `models/default` next to
/// the extension file.
pub fn default_model() -> Option<String> {
    let dir = extension_dir()?;
    Some(dir.join(DEFAULT_MODEL_DIR).to_string_lossy().into_owned())
}

/// The directory of the shipped model called `name` (`default`, `fast`):
/// `models/<name>` next to the extension, when `name` is a bare name (ASCII
/// letters, digits, `-`, `_`) and that directory exists. Lets a user write
/// `SET bert_sentiment_model = 'fast'` without knowing where the extension
/// lives; a directory of the same name elsewhere is reached as `./fast`.
pub fn shipped_model(name: &str) -> Option<PathBuf> {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !bare {
        return None;
    }
    let dir = extension_dir()?.join(SHIPPED_MODELS_DIR).join(name);
    dir.is_dir().then_some(dir)
}

/// The built-in default of `onnxruntime_library`: the ONNX Runtime library
/// next to the extension file.
pub fn default_library() -> Option<String> {
    let dir = extension_dir()?;
    Some(runtime::library_in(&dir).to_string_lossy().into_owned())
}
