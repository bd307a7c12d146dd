//! `mlflow_start_run(experiment [, run_name [, tags MAP(VARCHAR, VARCHAR)]])`
//! → VARCHAR run id: starts a run in `experiment` (created if missing), one
//! per row, tagged the way MLflow's own clients tag theirs (user, source)
//! so the UI shows where it came from.

use std::collections::HashMap;

use super::rows::{string_map, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, Output, Signature};
use crate::error::Result;
use crate::mlflow::client::Client;
use crate::mlflow::tracking::NewRun;

pub struct StartRun;

impl MlflowFunction for StartRun {
    const NAME: &'static str = "mlflow_start_run";

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![varchar()],
            || vec![varchar(), string_map()],
            varchar,
        )
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let experiments = input.column(0).strings()?;
        let names = input.optional(1, |c| c.strings())?;
        let tags = input.optional(2, |c| c.string_pairs())?;
        // A chunk usually names one experiment: look it up once.
        let mut experiment_ids: HashMap<String, String> = HashMap::new();
        let mut results = Vec::with_capacity(input.len());
        for row in 0..input.len() {
            let Some(experiment) = experiments[row].as_deref() else {
                results.push(None);
                continue;
            };
            let id = match experiment_ids.get(experiment) {
                Some(id) => id.clone(),
                None => {
                    let id = client
                        .tracking()
                        .experiment_id(experiment)
                        .map_err(|f| client.fail(f))?;
                    experiment_ids.insert(experiment.to_string(), id.clone());
                    id
                }
            };
            let name = names[row].as_deref().filter(|n| !n.is_empty());
            let mut all = vec![
                (
                    "mlflow.user".to_string(),
                    std::env::var("USER").unwrap_or_default(),
                ),
                (
                    "mlflow.source.name".to_string(),
                    "medallion (DuckDB)".to_string(),
                ),
                ("mlflow.source.type".to_string(), "LOCAL".to_string()),
            ];
            if let Some(name) = name {
                all.push(("mlflow.runName".to_string(), name.to_string()));
            }
            all.extend(tags[row].clone().unwrap_or_default());
            let run = client
                .tracking()
                .create_run(NewRun {
                    experiment_id: &id,
                    name,
                    tags: &all,
                })
                .map_err(|f| client.fail(f))?;
            results.push(Some(run));
        }
        output.strings(&results);
        Ok(())
    }
}
