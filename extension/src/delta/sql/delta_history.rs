//! `delta_history(path [, max_versions := N])` → one row per version, newest
//! first: version, timestamp, operation, parameters and metrics (JSON text),
//! user metadata, engine, read version, blind append.

use std::sync::Arc;

use arrow59::array::{ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};

use super::args::{self, Use};
use crate::delta::ops::history::{history, Commit};
use crate::duck::{BatchFunction, Constant, TableBind, TypeId};
use crate::error::Result;

pub const NAME: &str = "delta_history";

pub struct DeltaHistory;

pub struct Args {
    path: String,
    limit: Option<usize>,
}

impl BatchFunction for DeltaHistory {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str = "version BIGINT, timestamp TIMESTAMPTZ, operation VARCHAR, \
        operation_parameters VARCHAR, operation_metrics VARCHAR, user_metadata VARCHAR, \
        engine_info VARCHAR, read_version BIGINT, is_blind_append BOOLEAN";
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[("max_versions", TypeId::Bigint)];
    type Args = Args;

    fn bind(b: &TableBind) -> Result<Args> {
        let path = args::path(NAME, b, Use::Read)?;
        let limit = b
            .named_as("max_versions", Constant::i64)
            .map(|l| l.max(0) as usize);
        Ok(Args { path, limit })
    }

    fn run(a: &Args) -> Result<Vec<ArrayRef>> {
        let h = history(&a.path, a.limit).map_err(|e| e.in_function(NAME))?;
        let strs = |f: fn(&Commit) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(h.iter().map(f).collect::<Vec<_>>()))
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(h.iter().map(|c| c.version))),
            Arc::new(
                TimestampMicrosecondArray::from(
                    h.iter()
                        .map(|c| c.timestamp_ms.map(|t| t * 1000))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            strs(|c| c.operation.clone()),
            strs(|c| c.parameters.clone()),
            strs(|c| c.metrics.clone()),
            strs(|c| c.user_metadata.clone()),
            strs(|c| c.engine_info.clone()),
            Arc::new(Int64Array::from(
                h.iter().map(|c| c.read_version).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                h.iter().map(|c| c.is_blind_append).collect::<Vec<_>>(),
            )),
        ];
        Ok(cols)
    }
}
