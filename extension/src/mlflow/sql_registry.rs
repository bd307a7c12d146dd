//! The model registry from SQL:
//!
//! * `mlflow_register_model(name, model_dir, run_id [, tags MAP(VARCHAR, VARCHAR) [, alias]])`
//!   → `STRUCT(name VARCHAR, version BIGINT, source VARCHAR)`;
//! * `mlflow_set_model_alias(name, alias, version BIGINT)` → BOOLEAN;
//! * `mlflow_resolve_model(uri)` → VARCHAR: the local directory of a
//!   `models:/<name>@<alias>` or `models:/<name>/<version>` URI (downloaded
//!   once into the model cache for a tracking server).

use std::path::Path;

use duckdb::core::Inserter;
use duckdb::vtab::arrow::WritableVector;

use super::output;
use super::registry::{register_model, resolve_model_uri};
use super::session::Session;
use crate::duck::chunk::InputChunk;
use crate::duck::nested::string_pairs;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::Result;

fn varchar() -> LogicalType {
    LogicalType::varchar()
}

pub struct RegisterModel;

fn version_struct() -> LogicalType {
    LogicalType::structure(&[
        ("name", varchar()),
        ("version", LogicalType::bigint()),
        ("source", varchar()),
    ])
}

impl BoundScalar for RegisterModel {
    const NAME: &'static str = "mlflow_register_model";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        let base = || vec![varchar(), varchar(), varchar()];
        let map = || LogicalType::map(&varchar(), &varchar());
        let mut tags = base();
        tags.push(map());
        let mut alias = base();
        alias.extend([map(), varchar()]);
        [base(), tags, alias]
            .into_iter()
            .map(|params| Signature {
                params,
                returns: version_struct(),
            })
            .collect()
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let n = input.len();
        let names = input.column(0).strings();
        let dirs = input.column(1).strings();
        let runs = input.column(2).strings();
        let tags = input.optional(3, |c| unsafe { string_pairs(&c) });
        let aliases = input.optional(4, |c| c.strings());
        let mut out = output.struct_vector();
        let (name_out, mut version_out, source_out) =
            (out.child(0, n), out.child(1, n), out.child(2, n));
        for row in 0..n {
            let (Some(name), Some(dir), Some(run)) = (&names[row], &dirs[row], &runs[row]) else {
                out.set_null(row);
                continue;
            };
            let run = run.trim();
            let tags = tags[row].clone().unwrap_or_default();
            let alias = aliases[row].as_deref().filter(|a| !a.is_empty());
            let registered = register_model(
                &*s.tracking,
                name,
                Path::new(dir.as_ref()),
                run,
                &tags,
                alias,
            );
            let v = s.for_run(run, registered)?;
            name_out.insert(row, v.name.as_str());
            unsafe { version_out.as_mut_slice::<i64>()[row] = v.version };
            source_out.insert(row, v.source.as_str());
        }
        Ok(())
    }
}

pub struct SetModelAlias;

impl BoundScalar for SetModelAlias {
    const NAME: &'static str = "mlflow_set_model_alias";
    type Bound = Session;

    fn signatures() -> Vec<Signature> {
        vec![Signature {
            params: vec![varchar(), varchar(), LogicalType::bigint()],
            returns: LogicalType::boolean(),
        }]
    }
    fn bind(bind: &Bind) -> Result<Session> {
        Session::bind(Self::NAME, bind)
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(s: &Session, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let names = input.column(0).strings();
        let aliases = input.column(1).strings();
        let versions = unsafe { input.column(2).values::<i64>() };
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(name), Some(alias), Some(version)) =
                (&names[row], &aliases[row], versions[row])
            else {
                continue;
            };
            super::local_registry::check_alias(alias).map_err(|f| s.fail(f))?;
            s.tracking
                .set_alias(name, alias, version)
                .map_err(|f| s.fail(f))?;
            results[row] = Some(true);
        }
        output::bools(output, &results);
        Ok(())
    }
}

/// Bind state of `mlflow_resolve_model`: the tracking URI in force.
pub struct ResolveModel;

impl BoundScalar for ResolveModel {
    const NAME: &'static str = "mlflow_resolve_model";
    type Bound = Option<String>;

    fn signatures() -> Vec<Signature> {
        vec![Signature {
            params: vec![varchar()],
            returns: varchar(),
        }]
    }
    fn bind(bind: &Bind) -> Result<Option<String>> {
        Session::bind(Self::NAME, bind)?; // refuses a malformed URI at bind
        Ok(bind.setting("mlflow_tracking_uri"))
    }
    fn volatile() -> bool {
        true
    }

    fn invoke(
        uri: &Option<String>,
        input: &InputChunk,
        output: &mut dyn WritableVector,
    ) -> Result<()> {
        let models = input.column(0).strings();
        let mut results = vec![None; input.len()];
        for (row, model) in models.iter().enumerate() {
            let Some(model) = model else { continue };
            let dir = resolve_model_uri(model, Some(uri.as_deref().unwrap_or(""))).map_err(
                |e| match e {
                    crate::error::Error::Mlflow { problem, .. } => crate::error::Error::Mlflow {
                        function: Self::NAME,
                        problem,
                    },
                    other => other,
                },
            )?;
            results[row] = Some(dir.to_string_lossy().into_owned());
        }
        output::strings(output, &results);
        Ok(())
    }
}
