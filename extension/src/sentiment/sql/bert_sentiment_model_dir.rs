//! `bert_sentiment_model_dir([model])` → VARCHAR: the local directory of the
//! model `bert_sentiment(text [, model])` would load in the same query: the
//! constant argument, else `SET bert_sentiment_model`, else the shipped
//! default; a shipped model's name (`fast`) or a `models:/` registry URI
//! becomes its directory.
//!
//! Why: SQL that records which model scored a row (the pipeline's gold
//! layer reads the model's `config.json` for its name and version) needs the
//! directory, whatever form the user chose the model in. It resolves exactly
//! as `bert_sentiment`'s bind does, with the same access checks and errors,
//! but loads nothing.

use super::bert_sentiment::chosen_model;
use crate::duck::{Bind, BoundScalar, InputChunk, LogicalType, Output, Signature};
use crate::error::Result;

pub struct BertSentimentModelDir;

impl BoundScalar for BertSentimentModelDir {
    const NAME: &'static str = "bert_sentiment_model_dir";
    type Bound = String;

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            Vec::new,
            || vec![LogicalType::varchar()],
            LogicalType::varchar,
        )
    }

    fn bind(bind: &Bind) -> Result<String> {
        Ok(chosen_model(bind, 0)?.to_string_lossy().into_owned())
    }

    fn invoke(dir: &String, input: &InputChunk, output: &mut Output) -> Result<()> {
        // A call without arguments may still arrive with a chunk of rows.
        output.repeat_str(input.len().max(1), dir);
        Ok(())
    }
}
