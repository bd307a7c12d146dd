//! `mlflow_log_params(run_id, MAP(VARCHAR, VARCHAR))` → BIGINT, the number
//! of params logged: a whole config in one call, e.g. from a query's
//! `map(list(key), list(value))`.

use super::rows::{by_run, string_map, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::Batch;

pub struct LogParams;

impl MlflowFunction for LogParams {
    const NAME: &'static str = "mlflow_log_params";

    fn signatures() -> Vec<Signature> {
        vec![Signature::new(
            vec![varchar(), string_map()],
            LogicalType::bigint(),
        )]
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let runs = input.column(0).strings()?;
        let maps = input.column(1).string_pairs()?;
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut pairs = Vec::new();
            for &row in &rows {
                let map = maps[row].clone().unwrap_or_default();
                results[row] = Some(map.len() as i64);
                pairs.extend(map);
            }
            let logged = client.tracking().log_batch(&run, Batch::params(&pairs));
            client.for_run(&run, logged)?;
        }
        output.bigints(&results);
        Ok(())
    }
}
