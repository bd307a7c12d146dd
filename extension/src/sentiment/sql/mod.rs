//! SQL bindings, one file per function.

pub mod bert_sentiment;
