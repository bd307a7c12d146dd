//! `mlflow_resolve_model(uri)` → VARCHAR: the local directory of a
//! `models:/<name>@<alias>` or `models:/<name>/<version>` URI (downloaded
//! once into the model cache for a tracking server), the same directory
//! `bert_sentiment` loads for that URI.
//!
//! It only reads, so with `enable_external_access = false` a local store
//! needs read access (not write) to its directory.

use super::rows::varchar;
use super::MlflowFunction;
use crate::duck::{InputChunk, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::{Client, Intent};
use crate::mlflow::registry::resolve;

pub struct ResolveModel;

impl MlflowFunction for ResolveModel {
    const NAME: &'static str = "mlflow_resolve_model";
    const INTENT: Intent = Intent::Read;

    fn signatures() -> Vec<Signature> {
        vec![Signature::new(vec![varchar()], varchar())]
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let models = input.column(0).strings()?;
        let mut results = vec![None; input.len()];
        for (row, model) in models.iter().enumerate() {
            let Some(model) = model else { continue };
            let dir =
                resolve(client.tracking(), client.access(), model).map_err(|p| client.fail(p))?;
            results[row] = Some(dir.to_string_lossy().into_owned());
        }
        output.strings(&results);
        Ok(())
    }
}
