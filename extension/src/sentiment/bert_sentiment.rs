//! `bert_sentiment(text [, model])` →
//! `STRUCT(label VARCHAR, score FLOAT, probabilities MAP(VARCHAR, FLOAT))`.
//!
//! Bind (once per query) picks the model — the constant second argument,
//! else `SET bert_sentiment_model`, else the model shipped next to the
//! extension — and loads it through the process-wide cache, so a bad model is
//! a Binder Error naming its path. Each invoke scores a whole DataChunk:
//! tokenize, sort by length, run padded batches, write back in row order.
//!
//! NULL text gives a NULL result. Empty or whitespace-only text is scored
//! like any other: the tokenizer turns it into just the special tokens
//! (`[CLS] [SEP]`, `<s> </s>`), as HuggingFace does. Text longer than the
//! model's maximum is truncated to its first `max_length` tokens (special
//! tokens included).

use std::sync::Arc;

use duckdb::core::Inserter;
use duckdb::vtab::arrow::WritableVector;

use super::model::{self, Model};
use crate::duck::chunk::InputChunk;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::{Error, Result};
use crate::settings::Setting;

const NAME: &str = "bert_sentiment";

pub struct BertSentiment;

/// What a query's calls share: the model and how to batch.
pub struct Bound {
    pub model: Arc<Model>,
    pub batch_size: usize,
}

/// The result type, one STRUCT whatever the model's labels.
pub fn result_type() -> LogicalType {
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
        vec![
            Signature {
                params: vec![LogicalType::varchar()],
                returns: result_type(),
            },
            Signature {
                params: vec![LogicalType::varchar(), LogicalType::varchar()],
                returns: result_type(),
            },
        ]
    }

    fn bind(bind: &Bind) -> Result<Bound> {
        let uri = if bind.argument_count() >= 2 {
            model_argument(bind)?
        } else {
            setting(bind, &super::MODEL_SETTING).ok_or_else(|| Error::Model {
                path: "(none)".into(),
                problem: "no model: SET bert_sentiment_model = '<model dir>' or pass the directory as the second argument".into(),
            })?
        };
        let threads = number(bind, &super::THREADS_SETTING, 0)?;
        let batch_size = number(bind, &super::BATCH_SIZE_SETTING, 1)?;
        let library = setting(bind, &super::LIBRARY_SETTING);
        let tracking_uri = bind.setting("mlflow_tracking_uri");
        let dir = model::resolve_model_uri(&uri, tracking_uri.as_deref())
            .map_err(|e| default_hint(e, bind))?;
        let model = model::load(&dir, threads, library.as_deref())?;
        Ok(Bound { model, batch_size })
    }

    fn invoke(bound: &Bound, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let n = input.len();
        let texts = input.column(0).strings();
        let rows: Vec<usize> = (0..n).filter(|&r| texts[r].is_some()).collect();
        let valid: Vec<&str> = rows
            .iter()
            .map(|&r| texts[r].as_deref().unwrap_or(""))
            .collect();
        let probabilities = bound.model.classify(&valid, bound.batch_size)?;
        write(&bound.model.labels, n, &rows, &probabilities, output);
        Ok(())
    }
}

/// The constant second argument; anything else is a Binder Error.
fn model_argument(bind: &Bind) -> Result<String> {
    let invalid = |reason: &str| Error::InvalidArgument {
        function: NAME,
        argument: "model",
        reason: reason.to_string(),
    };
    match bind.constant_argument(1)? {
        None => Err(invalid(
            "must be a constant (one model per query, loaded when the query starts), not a per-row expression",
        )),
        Some(v) => v.to_text().ok_or_else(|| {
            invalid("is NULL; give a model directory, or leave it out to use bert_sentiment_model")
        }),
    }
}

/// A setting's current value, else its default (env var, built-in).
fn setting(bind: &Bind, s: &Setting) -> Option<String> {
    bind.setting(s.name).or_else(|| s.default_value())
}

fn number(bind: &Bind, s: &'static Setting, min: usize) -> Result<usize> {
    let text = setting(bind, s).unwrap_or_default();
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

/// A missing default model gets a hint on how to choose one.
fn default_hint(e: Error, bind: &Bind) -> Error {
    match e {
        Error::Model { path, problem }
            if bind.argument_count() < 2
                && Some(&path) == super::default_model().as_ref() =>
        {
            Error::Model {
                path,
                problem: format!("{problem}: the shipped default model is missing (run `make build`), or SET bert_sentiment_model = '<model dir>'"),
            }
        }
        other => other,
    }
}

/// Writes the STRUCT result: `rows` (valid input rows, ascending) get
/// `probabilities[i]`, every other row is NULL.
fn write(
    labels: &[String],
    n: usize,
    rows: &[usize],
    probabilities: &[Vec<f32>],
    output: &mut dyn WritableVector,
) {
    let k = labels.len();
    let mut out = output.struct_vector();
    let mut label = out.child(0, n);
    let mut score = out.child(1, n);
    let mut map = out.list_vector_child(2);
    let total = rows.len() * k;
    let entries = map.struct_child(total.max(1));
    let keys = entries.child(0, total.max(1));
    let mut values = entries.child(1, total.max(1));
    {
        // SAFETY: FLOAT children hold f32; the slices cover the reserved rows.
        let value_slice = unsafe { values.as_mut_slice::<f32>() };
        let score_slice = unsafe { score.as_mut_slice::<f32>() };
        for (i, (&row, p)) in rows.iter().zip(probabilities).enumerate() {
            let best = super::batch::argmax(p);
            label.insert(row, labels[best].as_str());
            score_slice[row] = p[best];
            let offset = i * k;
            for (j, (name, &prob)) in labels.iter().zip(p.iter()).enumerate() {
                keys.insert(offset + j, name.as_str());
                value_slice[offset + j] = prob;
            }
            map.set_entry(row, offset, k);
        }
    }
    let mut valid = rows.iter().peekable();
    for row in 0..n {
        if valid.peek() == Some(&&row) {
            valid.next();
            continue;
        }
        out.set_null(row);
        label.set_null(row);
        score.set_null(row);
        map.set_entry(row, 0, 0);
        map.set_null(row);
    }
    map.set_len(total);
}
