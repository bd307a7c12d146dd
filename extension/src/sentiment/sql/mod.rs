//! SQL bindings, one file per function.

pub mod bert_sentiment;
pub mod bert_sentiment_model_dir;
