//! Runs, params and tags from SQL:
//!
//! * `mlflow_start_run(experiment [, run_name [, tags MAP(VARCHAR, VARCHAR)]])` → run id
//! * `mlflow_end_run(run_id [, status])` → BOOLEAN (status FINISHED, FAILED or KILLED)
//! * `mlflow_log_param(run_id, key, value ANY)` / `mlflow_set_tag(...)` → BOOLEAN
//! * `mlflow_log_params(run_id, MAP(VARCHAR, VARCHAR))` → BIGINT (params logged)
//!
//! All are volatile (every row is a call) and work on any number of rows;
//! rows of one run in a chunk go to the backend in one batch.

use std::collections::HashMap;

use duckdb::vtab::arrow::WritableVector;

use super::output::{self, by_run};
use super::session::Session;
use super::tracking::{Failure, RunStatus};
use crate::duck::chunk::InputChunk;
use crate::duck::nested::string_pairs;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::Result;

fn varchar() -> LogicalType {
    LogicalType::varchar()
}

fn string_map() -> LogicalType {
    LogicalType::map(&varchar(), &varchar())
}

pub struct StartRun;

impl BoundScalar for StartRun {
    const NAME: &'static str = "mlflow_start_run";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        vec![
            Signature {
                params: vec![varchar()],
                returns: varchar(),
            },
            Signature {
                params: vec![varchar(), varchar()],
                returns: varchar(),
            },
            Signature {
                params: vec![varchar(), varchar(), string_map()],
                returns: varchar(),
            },
        ]
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let n = input.len();
        let experiments = input.column(0).strings();
        let names = input.optional(1, |c| c.strings());
        let tags = input.optional(2, |c| unsafe { string_pairs(&c) });
        let mut experiment_ids: HashMap<String, String> = HashMap::new();
        let mut results = Vec::with_capacity(n);
        for row in 0..n {
            let Some(experiment) = experiments[row].as_deref() else {
                results.push(None);
                continue;
            };
            let id = match experiment_ids.get(experiment) {
                Some(id) => id.clone(),
                None => {
                    let id = s
                        .tracking
                        .experiment_id(experiment)
                        .map_err(|f| s.fail(f))?;
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
            let run = s
                .tracking
                .create_run(&id, name, &all)
                .map_err(|f| s.fail(f))?;
            results.push(Some(run));
        }
        output::strings(output, &results);
        Ok(())
    }
}

pub struct EndRun;

impl BoundScalar for EndRun {
    const NAME: &'static str = "mlflow_end_run";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        let b = LogicalType::boolean;
        vec![
            Signature {
                params: vec![varchar()],
                returns: b(),
            },
            Signature {
                params: vec![varchar(), varchar()],
                returns: b(),
            },
        ]
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let runs = input.column(0).strings();
        let statuses = input.optional(1, |c| c.strings());
        let mut results = vec![None; input.len()];
        for (row, run) in runs.iter().enumerate() {
            let Some(run) = run.as_deref() else { continue };
            let text = statuses[row].as_deref().unwrap_or("FINISHED");
            let status = RunStatus::parse(text)
                .filter(|s| *s != RunStatus::Running)
                .ok_or_else(|| {
                    s.fail(Failure::rejected(format!(
                        "invalid run status {text:?}: use 'FINISHED', 'FAILED' or 'KILLED'"
                    )))
                })?;
            s.tracking
                .end_run(run.trim(), status)
                .map_err(|f| s.fail(f))?;
            results[row] = Some(true);
        }
        output::bools(output, &results);
        Ok(())
    }
}

/// `mlflow_log_param` and `mlflow_set_tag`: (run_id, key, value ANY) per row.
fn log_pairs(
    s: &Session,
    input: &InputChunk,
    output: &mut dyn WritableVector,
    as_tags: bool,
) -> Result<()> {
    let runs = input.column(0).strings();
    let keys = input.column(1).strings();
    let values = input.column(2).as_text().map_err(|t| {
        s.fail(Failure::rejected(format!(
            "cannot log {t} as text: cast the value to VARCHAR"
        )))
    })?;
    let mut results = vec![None; input.len()];
    for (run, rows) in by_run(&runs) {
        let mut pairs = Vec::new();
        for &row in &rows {
            if let (Some(k), Some(v)) = (&keys[row], &values[row]) {
                pairs.push((k.to_string(), v.clone()));
                results[row] = Some(true);
            }
        }
        let outcome = match as_tags {
            true => s.tracking.log_batch(&run, &[], &[], &pairs),
            false => s.tracking.log_batch(&run, &pairs, &[], &[]),
        };
        s.for_run(&run, outcome)?;
    }
    output::bools(output, &results);
    Ok(())
}

fn key_value_signature() -> Vec<Signature> {
    vec![Signature {
        params: vec![varchar(), varchar(), LogicalType::any()],
        returns: LogicalType::boolean(),
    }]
}

pub struct LogParam;

impl BoundScalar for LogParam {
    const NAME: &'static str = "mlflow_log_param";
    type Bound = Session;
    fn signatures() -> Vec<Signature> {
        key_value_signature()
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }
    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        log_pairs(s, input, output, false)
    }
}

pub struct SetTag;

impl BoundScalar for SetTag {
    const NAME: &'static str = "mlflow_set_tag";
    type Bound = Session;
    fn signatures() -> Vec<Signature> {
        key_value_signature()
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }
    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        log_pairs(s, input, output, true)
    }
}

pub struct LogParams;

impl BoundScalar for LogParams {
    const NAME: &'static str = "mlflow_log_params";
    type Bound = Session;
    fn signatures() -> Vec<Signature> {
        vec![Signature {
            params: vec![varchar(), string_map()],
            returns: LogicalType::bigint(),
        }]
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }
    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let runs = input.column(0).strings();
        let maps = unsafe { string_pairs(&input.column(1)) };
        let mut results = vec![None; input.len()];
        for (run, rows) in by_run(&runs) {
            let mut pairs = Vec::new();
            for &row in &rows {
                let map = maps[row].clone().unwrap_or_default();
                results[row] = Some(map.len() as i64);
                pairs.extend(map);
            }
            s.for_run(&run, s.tracking.log_batch(&run, &pairs, &[], &[]))?;
        }
        output::bigints(output, &results);
        Ok(())
    }
}
