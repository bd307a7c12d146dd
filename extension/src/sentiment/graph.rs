//! A `model.onnx` graph: its declared inputs, and a small pool of ONNX
//! Runtime sessions so DuckDB's threads can run it at the same time.
//!
//! `Session::run` needs `&mut Session`, so each running thread takes a session
//! out of the pool and puts it back afterwards; when all are busy a new one is
//! made. The pool therefore grows to the number of DuckDB threads that score
//! at once and no further. Each session uses `threads` intra-op threads with
//! spinning off (DuckDB already runs one chunk per thread; spinning ORT
//! threads would steal its cores).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::batch::Padded;
use crate::error::{Error, Result};

/// The inputs `bert_sentiment` knows how to feed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    Ids,
    AttentionMask,
    TokenTypeIds,
}

impl Input {
    const ALL: [(&'static str, Input); 3] = [
        ("input_ids", Input::Ids),
        ("attention_mask", Input::AttentionMask),
        ("token_type_ids", Input::TokenTypeIds),
    ];
    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, i)| *i == self)
            .expect("listed")
            .0
    }
}

pub struct Graph {
    path: PathBuf,
    threads: usize,
    env: ort::environment::Environment,
    /// The graph's inputs in its declared order.
    inputs: Vec<Input>,
    output: String,
    pool: Mutex<Vec<Session>>,
}

impl Graph {
    /// Opens `path`, checks its inputs and output, and keeps the first session.
    pub fn open(
        path: &Path,
        labels: usize,
        threads: usize,
        env: ort::environment::Environment,
    ) -> Result<Self> {
        let fail = |problem: String| Error::Model {
            path: path.display().to_string(),
            problem,
        };
        let session = new_session(path, threads, &env)?;
        let mut inputs = Vec::new();
        for outlet in session.inputs() {
            let name = outlet.name();
            let input = Input::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, i)| *i)
                .ok_or_else(|| {
                    fail(format!(
                        "unsupported graph input `{name}`: bert_sentiment feeds input_ids, attention_mask and token_type_ids (BERT- or RoBERTa-style graphs)"
                    ))
                })?;
            if outlet.dtype().tensor_type() != Some(TensorElementType::Int64) {
                return Err(fail(format!(
                    "graph input `{name}` has type {:?}; bert_sentiment feeds int64 tensors",
                    outlet.dtype()
                )));
            }
            inputs.push(input);
        }
        if !inputs.contains(&Input::Ids) {
            return Err(fail("the graph has no `input_ids` input".into()));
        }
        let outlet = session
            .outputs()
            .iter()
            .find(|o| o.name() == "logits")
            .or_else(|| session.outputs().first())
            .ok_or_else(|| fail("the graph has no outputs".into()))?;
        let output = outlet.name().to_string();
        match outlet.dtype() {
            ValueType::Tensor { ty, shape, .. } => {
                if *ty != TensorElementType::Float32 {
                    return Err(fail(format!(
                        "output `{output}` is {ty:?}; expected float32 logits"
                    )));
                }
                let classes = shape.last().copied().unwrap_or(-1);
                if shape.len() != 2 || (classes > 0 && classes as usize != labels) {
                    return Err(fail(format!(
                        "output `{output}` has shape {shape:?}; expected [batch, {labels}] (one logit per id2label entry in config.json)"
                    )));
                }
            }
            other => {
                return Err(fail(format!(
                    "output `{output}` is {other:?}; expected a float32 tensor"
                )))
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            threads,
            env,
            inputs,
            output,
            pool: Mutex::new(vec![session]),
        })
    }

    pub fn inputs(&self) -> Vec<&'static str> {
        self.inputs.iter().map(|i| i.name()).collect()
    }

    /// Logits `[rows][classes]` for one padded batch.
    pub fn run(&self, batch: &Padded) -> Result<Vec<Vec<f32>>> {
        let fail = |problem: String| Error::Model {
            path: self.path.display().to_string(),
            problem,
        };
        let mut session = self.checkout()?;
        let shape = [batch.rows, batch.cols];
        let mut feeds: Vec<(&str, SessionInputValue<'_>)> = Vec::with_capacity(3);
        for input in &self.inputs {
            let data: &[i64] = match input {
                Input::Ids => &batch.input_ids,
                Input::AttentionMask => &batch.attention_mask,
                Input::TokenTypeIds => &batch.token_type_ids,
            };
            let tensor = TensorRef::from_array_view((shape, data))
                .map_err(|e| fail(format!("cannot build the `{}` tensor: {e}", input.name())))?;
            feeds.push((input.name(), tensor.into()));
        }
        let result = (|| {
            let outputs = session.run(feeds).map_err(|e| {
                fail(format!(
                    "ONNX Runtime failed to run the model: {e} (does tokenizer.json belong to this model.onnx?)"
                ))
            })?;
            let value = outputs
                .get(&self.output)
                .ok_or_else(|| fail(format!("the run returned no `{}`", self.output)))?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(format!("output `{}`: {e}", self.output)))?;
            let classes = shape.last().copied().unwrap_or(0).max(0) as usize;
            if shape.len() != 2 || shape[0] as usize != batch.rows || classes == 0 {
                return Err(fail(format!(
                    "output `{}` has shape {shape:?} for a batch of {}",
                    self.output, batch.rows
                )));
            }
            Ok(data.chunks(classes).map(|c| c.to_vec()).collect())
        })();
        self.checkin(session);
        result
    }

    fn checkout(&self) -> Result<Session> {
        let free = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match free {
            Some(s) => Ok(s),
            None => new_session(&self.path, self.threads, &self.env),
        }
    }

    fn checkin(&self, session: Session) {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(session);
    }
}

fn new_session(
    path: &Path,
    threads: usize,
    env: &ort::environment::Environment,
) -> Result<Session> {
    let fail = |problem: String| Error::Model {
        path: path.display().to_string(),
        problem,
    };
    let opts = |e: ort::Error<_>| fail(format!("cannot configure an ONNX Runtime session: {e}"));
    Session::builder(env)
        .map_err(|e| fail(format!("cannot configure an ONNX Runtime session: {e}")))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(opts)?
        .with_intra_threads(threads)
        .map_err(opts)?
        .with_inter_threads(1)
        .map_err(opts)?
        .with_intra_op_spinning(false)
        .map_err(opts)?
        .with_inter_op_spinning(false)
        .map_err(opts)?
        .commit_from_file(path)
        .map_err(|e| fail(format!("ONNX Runtime cannot load the graph: {e}")))
}
