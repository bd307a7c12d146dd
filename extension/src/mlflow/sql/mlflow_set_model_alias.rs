//! `mlflow_set_model_alias(name, alias, version BIGINT)` → BOOLEAN: points
//! an alias (`champion`) at an existing version, so consumers that resolve
//! `models:/<name>@<alias>` pick the new one up without a code change.

use super::rows::varchar;
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::validate::check_alias;

pub struct SetModelAlias;

impl MlflowFunction for SetModelAlias {
    const NAME: &'static str = "mlflow_set_model_alias";

    fn signatures() -> Vec<Signature> {
        vec![Signature::new(
            vec![varchar(), varchar(), LogicalType::bigint()],
            LogicalType::boolean(),
        )]
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let names = input.column(0).strings()?;
        let aliases = input.column(1).strings()?;
        let versions = input.column(2).i64s()?;
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(name), Some(alias), Some(version)) =
                (&names[row], &aliases[row], versions[row])
            else {
                continue;
            };
            // Checked here too: a server would accept `latest` as an alias.
            check_alias(alias).map_err(|f| client.fail(f))?;
            client
                .tracking()
                .set_alias(name, alias, version)
                .map_err(|f| client.fail(f))?;
            results[row] = Some(true);
        }
        output.bools(&results);
        Ok(())
    }
}
