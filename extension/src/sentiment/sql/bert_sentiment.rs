//! `bert_sentiment(text [, model])` →
//! `STRUCT(label VARCHAR, score FLOAT, probabilities MAP(VARCHAR, FLOAT))`.
//!
//! Bind (once per query) picks the model — the constant second argument,
//! else `SET bert_sentiment_model`, else the model shipped next to the
//! extension — checks that the caller may read it (and the ONNX Runtime
//! library) under `enable_external_access`, and loads it through the
//! process-wide cache, so a bad model is a Binder Error naming its path. It
//! also fixes the query's thread policy: `bert_sentiment_threads`, whose
//! default 0 shares DuckDB's `threads` among the DuckDB threads scoring at
//! that moment, each core running batches of its own (`sentiment::threads`).
//! Each invoke scores a whole DataChunk: tokenize, sort by length, run padded
//! batches, write back in row order.
//!
//! NULL text gives a NULL result. Empty or whitespace-only text is scored
//! like any other: the tokenizer turns it into just the special tokens
//! (`[CLS] [SEP]`, `<s> </s>`), as HuggingFace does. Text longer than the
//! model's maximum is truncated to its first `max_length` tokens (special
//! tokens included).
//!
//! This file is the SQL binding only: arguments, settings, access checks,
//! the error's function name and the result's Arrow shape. Scoring is the
//! library's (`sentiment::model`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow59::array::{Array, ArrayRef, Float32Builder, MapBuilder, StringBuilder, StructArray};
use arrow59::buffer::NullBuffer;
use arrow59::datatypes::{DataType, Field};

use crate::duck::{Access, Bind, BoundScalar, InputChunk, LogicalType, Output, Setting, Signature};
use crate::error::{Error, Result};
use crate::sentiment::error::SentimentError;
use crate::sentiment::model::{self, Model};
use crate::sentiment::threads::Threads;
use crate::sentiment::{
    default_model, BATCH_SIZE_SETTING, LIBRARY_SETTING, MODEL_SETTING, THREADS_SETTING,
};

/// The SQL name; also the context of every error this function raises.
pub const NAME: &str = "bert_sentiment";

/// Where a model argument names a registered model version instead of a
/// directory.
const REGISTRY_SCHEME: &str = "models:/";

pub struct BertSentiment;

/// What a query's calls share: the model, how to batch, and how to thread.
pub struct Bound {
    pub model: Arc<Model>,
    pub batch_size: usize,
    pub threads: Threads,
}

/// The result type, one STRUCT whatever the model's labels.
fn result_type() -> LogicalType {
    LogicalType::structure(&[
        ("label", LogicalType::varchar()),
        ("score", LogicalType::float()),
        (
            "probabilities",
            LogicalType::map(&LogicalType::varchar(), &LogicalType::float()),
        ),
    ])
}

impl BoundScalar for BertSentiment {
    const NAME: &'static str = NAME;
    type Bound = Bound;

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![LogicalType::varchar()],
            || vec![LogicalType::varchar()],
            result_type,
        )
    }

    fn bind(bind: &Bind) -> Result<Bound> {
        let dir = chosen_model(bind, 1)?;
        let threads = Threads::from_setting(
            number(bind, &THREADS_SETTING, 0)?,
            duckdb_threads(bind.setting("threads")),
        );
        let batch_size = number(bind, &BATCH_SIZE_SETTING, 1)?;
        let library = bind.setting_or_default(&LIBRARY_SETTING);
        let access = bind.access();
        // Checked even when a library is already loaded (then the setting
        // has no effect): whether a query is refused must not depend on
        // what ran before it in the process.
        if let Some(library) = &library {
            access.read(library).map_err(|r| r.error(NAME))?;
        }
        let model = model::load(&dir, library.as_deref(), threads.intra_op()).map_err(sql_error)?;
        Ok(Bound {
            model,
            batch_size,
            threads,
        })
    }

    fn invoke(bound: &Bound, input: &InputChunk, output: &mut Output) -> Result<()> {
        let texts = input.column(0).strings()?;
        let (rows, present): (Vec<usize>, Vec<&str>) = texts
            .iter()
            .enumerate()
            .filter_map(|(row, text)| Some((row, text.as_deref()?)))
            .unzip();
        let probabilities = bound
            .model
            .classify(&present, bound.batch_size, bound.threads)
            .map_err(sql_error)?;
        let written = results(&bound.model.labels, texts.len(), &rows, &probabilities)
            .and_then(|array| output.arrow(&array));
        written.map_err(|reason| Error::Output {
            function: NAME,
            reason,
        })
    }
}

/// The model directory a call chooses, checked for access: the constant
/// argument at `index` when the call has it, else `bert_sentiment_model`,
/// else the shipped default. A registry URI is resolved (downloaded once),
/// a shipped model's name becomes its directory.
pub fn chosen_model(bind: &Bind, index: usize) -> Result<PathBuf> {
    let from_setting = bind.argument_count() <= index;
    let uri = if from_setting {
        bind.setting_or_default(&MODEL_SETTING).ok_or_else(|| Error::Model {
            function: NAME,
            path: "(none)".into(),
            problem: "no model: SET bert_sentiment_model = '<model dir>' or pass the directory as the second argument".into(),
        })?
    } else {
        model_argument(bind, index)?
    };
    model_dir(&uri, bind.access(), |uri| {
        crate::mlflow::resolve_model_uri(uri, &|name| bind.setting(name), bind.access())
    })
    .map_err(|e| default_hint(e, from_setting))
}

/// The constant model argument; anything else is a Binder Error.
fn model_argument(bind: &Bind, index: usize) -> Result<String> {
    let invalid = |reason: &str| Error::InvalidArgument {
        function: NAME,
        argument: "model",
        reason: reason.to_string(),
    };
    match bind.constant_argument(index)? {
        None => Err(invalid(
            "must be a constant (one model per query, loaded when the query starts), not a per-row expression",
        )),
        Some(v) => v.text().ok_or_else(|| {
            invalid("is NULL; give a model directory, or leave it out to use bert_sentiment_model")
        }),
    }
}

/// A whole-number setting of at least `min`.
fn number(bind: &Bind, s: &'static Setting, min: usize) -> Result<usize> {
    let text = bind.setting_or_default(s).unwrap_or_default();
    match text.trim().parse::<usize>() {
        Ok(v) if v >= min => Ok(v),
        _ => Err(Error::Setting {
            function: NAME,
            name: s.name,
            value: text,
            problem: format!("expected a whole number >= {min}"),
        }),
    }
}

/// DuckDB's `threads` (what automatic threading shares out); the machine's
/// parallelism if DuckDB does not say.
fn duckdb_threads(setting: Option<String>) -> usize {
    setting
        .and_then(|t| t.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The local directory `uri` names. A `models:/` URI goes to `registry`
/// (MLflow's resolver, which applies the access policy to its own store and
/// server calls); a bare name of a shipped model (`fast`) is its directory
/// next to the extension; any other text is a directory the caller must be
/// allowed to read, checked before anything touches the file system.
fn model_dir(
    uri: &str,
    access: &Access,
    registry: impl FnOnce(&str) -> std::result::Result<PathBuf, String>,
) -> Result<PathBuf> {
    if uri.starts_with(REGISTRY_SCHEME) {
        let dir = registry(uri).map_err(|message| Error::Model {
            function: NAME,
            path: uri.to_string(),
            problem: format!("cannot resolve in the MLflow registry: {message}"),
        })?;
        return model::resolve_dir(&dir.to_string_lossy()).map_err(sql_error);
    }
    if let Some(dir) = crate::sentiment::shipped_model(uri) {
        let dir = dir.to_string_lossy();
        access.read(&dir).map_err(|r| r.error(NAME))?;
        return model::resolve_dir(&dir).map_err(sql_error);
    }
    access.read(uri).map_err(|r| r.error(NAME))?;
    model::resolve_dir(uri).map_err(sql_error)
}

/// The library's error as this function reports it (its name in front).
fn sql_error(e: SentimentError) -> Error {
    match e {
        SentimentError::Model { path, problem } => Error::Model {
            function: NAME,
            path,
            problem,
        },
        SentimentError::OnnxRuntime { path, problem } => Error::OnnxRuntime {
            function: NAME,
            path,
            problem,
        },
    }
}

/// A missing default model (no argument, no setting) gets a hint on how to
/// choose one.
fn default_hint(e: Error, from_setting: bool) -> Error {
    match e {
        Error::Model {
            function,
            path,
            problem,
        } if from_setting && Some(&path) == default_model().as_ref() => Error::Model {
            function,
            path,
            problem: format!("{problem}: the shipped default model is missing (run `make build`), or SET bert_sentiment_model = '<model dir>'"),
        },
        other => other,
    }
}

/// The STRUCT results of a chunk of `n` rows: `rows` (the non-NULL inputs,
/// ascending) get `probabilities[i]` (one per label); every other row is
/// NULL, and so are its members, with an empty map (DuckDB expects a NULL
/// struct's children to be NULL too).
fn results(
    labels: &[String],
    n: usize,
    rows: &[usize],
    probabilities: &[Vec<f32>],
) -> std::result::Result<ArrayRef, String> {
    let mut by_row: Vec<Option<&[f32]>> = vec![None; n];
    for (&row, p) in rows.iter().zip(probabilities) {
        by_row[row] = Some(p);
    }
    let mut label = StringBuilder::with_capacity(n, n * 8);
    let mut score = Float32Builder::with_capacity(n);
    let mut map = MapBuilder::new(
        None,
        StringBuilder::with_capacity(rows.len() * labels.len(), rows.len() * labels.len() * 8),
        Float32Builder::with_capacity(rows.len() * labels.len()),
    );
    for p in &by_row {
        match p {
            Some(p) => {
                let best = crate::sentiment::batch::argmax(p);
                label.append_value(&labels[best]);
                score.append_value(p[best]);
                for (name, &prob) in labels.iter().zip(p.iter()) {
                    map.keys().append_value(name);
                    map.values().append_value(prob);
                }
            }
            None => {
                label.append_null();
                score.append_null();
            }
        }
        map.append(p.is_some()).map_err(|e| e.to_string())?;
    }
    let map = map.finish();
    let fields = vec![
        Field::new("label", DataType::Utf8, true),
        Field::new("score", DataType::Float32, true),
        Field::new("probabilities", map.data_type().clone(), true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(label.finish()),
        Arc::new(score.finish()),
        Arc::new(map),
    ];
    let nulls = NullBuffer::from(by_row.iter().map(Option::is_some).collect::<Vec<bool>>());
    let array =
        StructArray::try_new(fields.into(), columns, Some(nulls)).map_err(|e| e.to_string())?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow59::array::{AsArray, MapArray};
    use arrow59::datatypes::Float32Type;

    fn labels() -> Vec<String> {
        vec!["negative".into(), "positive".into()]
    }

    #[test]
    fn results_fill_valid_rows_and_null_the_others_with_their_members() {
        let p = vec![vec![0.2, 0.8], vec![0.9, 0.1]];
        let array = results(&labels(), 3, &[0, 2], &p).unwrap();
        let s = array.as_struct();
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s.is_valid(0), s.is_valid(1), s.is_valid(2)),
            (true, false, true)
        );
        let label = s.column(0).as_string::<i32>();
        assert_eq!(
            (label.value(0), label.is_null(1), label.value(2)),
            ("positive", true, "negative")
        );
        let score = s.column(1).as_primitive::<Float32Type>();
        assert_eq!(
            (score.value(0), score.is_null(1), score.value(2)),
            (0.8, true, 0.9)
        );
        let map = s.column(2).as_any().downcast_ref::<MapArray>().unwrap();
        assert!(map.is_null(1));
        assert_eq!(map.value_offsets(), &[0, 2, 2, 4]); // NULL row: empty entry
        let keys = map.keys().as_string::<i32>();
        let values = map.values().as_primitive::<Float32Type>();
        assert_eq!((keys.value(2), values.value(2)), ("negative", 0.9));
    }

    #[test]
    fn results_of_an_all_null_or_empty_chunk() {
        let array = results(&labels(), 2, &[], &[]).unwrap();
        assert_eq!(array.null_count(), 2);
        assert_eq!(results(&labels(), 0, &[], &[]).unwrap().len(), 0);
    }

    #[test]
    fn a_directory_is_read_only_where_access_allows_it() {
        let locked = Access::locked(vec![], vec![], None);
        let e = model_dir("/opt/models/x", &locked, |_| unreachable!()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bert_sentiment: cannot read '/opt/models/x': file system access is disabled (enable_external_access = false)"
        );
        // allowed: the check passes and the directory itself is looked at
        let open = Access::locked(vec![PathBuf::from("/nonexistent")], vec![], None);
        let e = model_dir("/nonexistent/m", &open, |_| unreachable!()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bert_sentiment: model `/nonexistent/m`: no such directory"
        );
    }

    #[test]
    fn a_registry_uri_goes_to_the_registry_and_its_failure_names_the_uri() {
        let locked = Access::locked(vec![], vec![], None);
        let e = model_dir("models:/sentiment@champion", &locked, |uri| {
            assert_eq!(uri, "models:/sentiment@champion");
            Err("no model named 'sentiment'".into())
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "bert_sentiment: model `models:/sentiment@champion`: cannot resolve in the MLflow registry: no model named 'sentiment'"
        );
        let tmp = std::env::temp_dir();
        let dir = model_dir("models:/sentiment/1", &Access::unrestricted(), |_| {
            Ok(tmp.clone())
        })
        .unwrap();
        assert_eq!(dir, std::fs::canonicalize(&tmp).unwrap());
    }

    #[test]
    fn library_errors_get_the_function_name() {
        let e = sql_error(SentimentError::model("/m/model.onnx", "corrupt"));
        assert_eq!(
            e.to_string(),
            "bert_sentiment: model `/m/model.onnx`: corrupt"
        );
        let e = sql_error(SentimentError::OnnxRuntime {
            path: "/x/libonnxruntime.so".into(),
            problem: "no such file".into(),
        });
        assert!(
            e.to_string()
                .starts_with("bert_sentiment: ONNX Runtime library `/x/libonnxruntime.so`: no such file (set `onnxruntime_library`"),
            "{e}"
        );
    }

    #[test]
    fn duckdb_threads_come_from_the_setting() {
        assert_eq!(duckdb_threads(Some("6".into())), 6);
        let machine = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(duckdb_threads(None), machine);
        assert_eq!(duckdb_threads(Some("0".into())), machine);
    }
}
