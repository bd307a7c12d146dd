//! The sentiment core's own error: what went wrong with a model directory or
//! the ONNX Runtime library, with no SQL in it. The SQL binding
//! (`sql::bert_sentiment`) turns it into the crate's error, adding the name
//! of the function that was called.

/// A model or runtime that cannot be used, naming the path at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentimentError {
    /// A model directory (or one of its files) is missing, unreadable,
    /// corrupt, or not a graph the scorer can feed.
    #[error("model `{path}`: {problem}")]
    Model { path: String, problem: String },
    /// The ONNX Runtime shared library could not be loaded or initialised.
    #[error("ONNX Runtime library `{path}`: {problem}")]
    OnnxRuntime { path: String, problem: String },
}

impl SentimentError {
    /// A problem with the model file or directory at `path`.
    pub fn model(path: impl std::fmt::Display, problem: impl Into<String>) -> Self {
        SentimentError::Model {
            path: path.to_string(),
            problem: problem.into(),
        }
    }
}

pub type Result<T, E = SentimentError> = std::result::Result<T, E>;
