//! `mlflow_register_model(name, model_dir, run_id [, tags MAP(VARCHAR,
//! VARCHAR) [, alias]])` → `STRUCT(name VARCHAR, version BIGINT, source
//! VARCHAR)`: uploads a model directory into the run's artifacts and
//! registers it as a new version of `name` (created if missing), tagged,
//! with `alias` pointed at it.
//!
//! The model directory is read on the caller's behalf, so with
//! `enable_external_access = false` it must be under `allowed_directories`
//! (checked for every row before any is registered).

use std::path::Path;
use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, StringArray, StructArray};
use arrow59::buffer::NullBuffer;
use arrow59::datatypes::{DataType, Field, Fields};

use super::rows::{string_map, varchar};
use super::MlflowFunction;
use crate::duck::{InputChunk, LogicalType, Output, Signature};
use crate::error::{Error, Result};
use crate::mlflow::client::Client;
use crate::mlflow::registry::register_model;
use crate::mlflow::tracking::ModelVersion;

pub struct RegisterModel;

fn version_struct() -> LogicalType {
    LogicalType::structure(&[
        ("name", varchar()),
        ("version", LogicalType::bigint()),
        ("source", varchar()),
    ])
}

impl MlflowFunction for RegisterModel {
    const NAME: &'static str = "mlflow_register_model";

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![varchar(), varchar(), varchar()],
            || vec![string_map(), varchar()],
            version_struct,
        )
    }

    fn invoke(client: &Client, input: &InputChunk, output: &mut Output) -> Result<()> {
        let names = input.column(0).strings()?;
        let dirs = input.column(1).strings()?;
        let runs = input.column(2).strings()?;
        let tags = input.optional(3, |c| c.string_pairs())?;
        let aliases = input.optional(4, |c| c.strings())?;
        client.check_reads(dirs.iter().flatten().map(|d| d.as_ref()))?;
        let mut versions = Vec::with_capacity(input.len());
        for row in 0..input.len() {
            let (Some(name), Some(dir), Some(run)) = (&names[row], &dirs[row], &runs[row]) else {
                versions.push(None); // NULL argument: NULL result, nothing registered
                continue;
            };
            let run = run.trim();
            let tags = tags[row].clone().unwrap_or_default();
            let alias = aliases[row].as_deref().filter(|a| !a.is_empty());
            let registered = register_model(
                client.tracking(),
                name,
                Path::new(dir.as_ref()),
                run,
                &tags,
                alias,
            );
            versions.push(Some(client.for_run(run, registered)?));
        }
        output
            .arrow(&version_array(&versions))
            .map_err(|reason| Error::Output {
                function: Self::NAME,
                reason,
            })
    }
}

/// The STRUCT result as Arrow: one struct per row, NULL where no version.
fn version_array(versions: &[Option<ModelVersion>]) -> ArrayRef {
    let field = |name: &str, ty: DataType| Arc::new(Field::new(name, ty, true));
    let fields = Fields::from(vec![
        field("name", DataType::Utf8),
        field("version", DataType::Int64),
        field("source", DataType::Utf8),
    ]);
    let names: StringArray = versions
        .iter()
        .map(|v| v.as_ref().map(|v| &v.name))
        .collect();
    let numbers: Int64Array = versions
        .iter()
        .map(|v| v.as_ref().map(|v| v.version))
        .collect();
    let sources: StringArray = versions
        .iter()
        .map(|v| v.as_ref().map(|v| &v.source))
        .collect();
    let valid = NullBuffer::from(versions.iter().map(Option::is_some).collect::<Vec<_>>());
    let columns: Vec<ArrayRef> = vec![Arc::new(names), Arc::new(numbers), Arc::new(sources)];
    Arc::new(StructArray::new(fields, columns, Some(valid)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow59::array::{Array, AsArray};

    #[test]
    fn versions_become_a_struct_array_with_null_rows() {
        let v = ModelVersion {
            name: "bert".into(),
            version: 2,
            source: "file:///m".into(),
        };
        let array = version_array(&[Some(v), None]);
        let s = array.as_struct();
        assert_eq!(s.len(), 2);
        assert!(s.is_valid(0) && s.is_null(1));
        assert_eq!(s.column(0).as_string::<i32>().value(0), "bert");
        assert_eq!(
            s.column(1)
                .as_primitive::<arrow59::datatypes::Int64Type>()
                .value(0),
            2
        );
    }
}
