//! A `model.onnx` graph: its declared inputs, and a pool of ONNX Runtime
//! sessions so that DuckDB's threads can run it at the same time, each with
//! the intra-op thread count it asks for.
//!
//! `Session::run` needs `&mut Session`, so each run takes an idle session out
//! of the pool and puts it back afterwards; when none is idle a new one is
//! made. ONNX Runtime fixes a session's intra-op threads when the session is
//! created, so the pool keeps sessions per thread count (`threads::Threads`
//! says which count a run wants): it grows to the number of runs that use a
//! count at once and no further. A new session of the shipped model takes
//! about 50 ms to make (2 cores; the graph is already in the page cache),
//! less than one batch of 32, so a count first asked for at the tail of a
//! scan costs little. Intra-op spinning is off, so a session's idle pool
//! threads sleep instead of taking cores from DuckDB.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::batch::Padded;
use super::error::{Result, SentimentError};

/// The inputs the scorer knows how to feed.
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
    env: ort::environment::Environment,
    /// The graph's inputs in its declared order.
    inputs: Vec<Input>,
    output: String,
    /// Idle sessions with their intra-op thread counts.
    pool: Mutex<Vec<(usize, Session)>>,
}

impl Graph {
    /// Opens `path`, checks its inputs and output, and keeps the session it
    /// checked them with (of `first_threads` intra-op threads: the count the
    /// first run will most likely ask for).
    pub fn open(
        path: &Path,
        labels: usize,
        first_threads: usize,
        env: ort::environment::Environment,
    ) -> Result<Self> {
        let fail = |problem: String| SentimentError::model(path.display(), problem);
        let session = new_session(path, first_threads, &env)?;
        let mut inputs = Vec::new();
        for outlet in session.inputs() {
            let name = outlet.name();
            let input = Input::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, i)| *i)
                .ok_or_else(|| {
                    fail(format!(
                        "unsupported graph input `{name}`: only input_ids, attention_mask and token_type_ids can be fed (BERT- or RoBERTa-style graphs)"
                    ))
                })?;
            if outlet.dtype().tensor_type() != Some(TensorElementType::Int64) {
                return Err(fail(format!(
                    "graph input `{name}` has type {:?}; only int64 tensors can be fed",
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
            env,
            inputs,
            output,
            pool: Mutex::new(vec![(first_threads, session)]),
        })
    }

    pub fn inputs(&self) -> Vec<&'static str> {
        self.inputs.iter().map(|i| i.name()).collect()
    }

    /// Logits `[rows][classes]` for one padded batch, run on a session of
    /// `threads` intra-op threads.
    pub fn run(&self, batch: &Padded, threads: usize) -> Result<Vec<Vec<f32>>> {
        let fail = |problem: String| SentimentError::model(self.path.display(), problem);
        let mut session = self.checkout(threads)?;
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
        self.checkin(threads, session);
        result
    }

    /// An idle session of `threads` intra-op threads, else a new one (made
    /// outside the lock: other runs go on meanwhile).
    fn checkout(&self, threads: usize) -> Result<Session> {
        let idle = {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            let at = pool.iter().rposition(|(n, _)| *n == threads);
            at.map(|i| pool.swap_remove(i).1)
        };
        match idle {
            Some(session) => Ok(session),
            None => new_session(&self.path, threads, &self.env),
        }
    }

    fn checkin(&self, threads: usize, session: Session) {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((threads, session));
    }
}

fn new_session(
    path: &Path,
    threads: usize,
    env: &ort::environment::Environment,
) -> Result<Session> {
    let fail = |problem: String| SentimentError::model(path.display(), problem);
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
