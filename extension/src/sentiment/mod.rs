//! BERT-style sentiment scoring inside SQL: `bert_sentiment(text [, model])`.
//!
//! `bert_sentiment.rs` is the SQL binding (chunk in, STRUCT out); `model.rs`
//! turns a model directory into a cached [`model::Model`]; `graph.rs` holds
//! its ONNX Runtime sessions; `batch.rs` sorts, pads and restores order;
//! `runtime.rs` finds and loads libonnxruntime once per process.

pub mod batch;
pub mod bert_sentiment;
pub mod graph;
pub mod model;
pub mod runtime;

use crate::error::Result;
use crate::register::Registrar;
use crate::settings::Setting;

/// Where `make build` puts the shipped model, relative to the extension file.
pub const DEFAULT_MODEL_DIR: &str = "models/default";

pub const MODEL_SETTING: Setting = Setting {
    name: "bert_sentiment_model",
    description: "bert_sentiment: the model directory (model.onnx, tokenizer.json, config.json) used when no model argument is given; default: the model shipped next to the extension",
    builtin_default: default_model,
};

pub const THREADS_SETTING: Setting = Setting {
    name: "bert_sentiment_threads",
    description: "bert_sentiment: ONNX Runtime intra-op threads per session (0 = ONNX Runtime's default, all cores); default 1, since DuckDB already scores one chunk per thread",
    builtin_default: || Some("1".to_string()),
};

pub const BATCH_SIZE_SETTING: Setting = Setting {
    name: "bert_sentiment_batch_size",
    description: "bert_sentiment: texts per ONNX Runtime run, after sorting a chunk by token length; 1 = row at a time (for comparison only)",
    builtin_default: || Some("32".to_string()),
};

pub const LIBRARY_SETTING: Setting = Setting {
    name: "onnxruntime_library",
    description: "bert_sentiment: path of the ONNX Runtime shared library, loaded once per process at first use; default: libonnxruntime.so next to the extension",
    builtin_default: runtime::default_library,
};

/// The built-in default of `bert_sentiment_model`: `models/default` next to
/// the extension file.
pub fn default_model() -> Option<String> {
    let dir = crate::settings::extension_dir()?;
    Some(dir.join(DEFAULT_MODEL_DIR).to_string_lossy().into_owned())
}

/// Registers this module's SQL functions.
pub fn register(r: &Registrar) -> Result<()> {
    r.bound_scalar::<bert_sentiment::BertSentiment>()
}
