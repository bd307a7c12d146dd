//! `delta_vacuum(path [, retention_hours := H, dry_run := true])` → one row
//! per file deleted (or, on a dry run, that would be): path, size, deleted.
//! See [`crate::delta::ops::vacuum`] for what is kept and why.

use std::sync::Arc;

use arrow59::array::{ArrayRef, BooleanArray, Int64Array, StringArray};

use super::args::{self, Use};
use crate::delta::ops::vacuum::{vacuum, DEFAULT_RETENTION_HOURS};
use crate::duck::{BatchFunction, Constant, TableBind, TypeId};
use crate::error::Result;

pub const NAME: &str = "delta_vacuum";

pub struct DeltaVacuum;

pub struct Args {
    path: String,
    retention_hours: f64,
    dry_run: bool,
}

impl BatchFunction for DeltaVacuum {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str = "path VARCHAR, size_bytes BIGINT, deleted BOOLEAN";
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[
        ("retention_hours", TypeId::Double),
        ("dry_run", TypeId::Boolean),
    ];
    type Args = Args;

    fn bind(b: &TableBind) -> Result<Args> {
        Ok(Args {
            path: args::path(NAME, b, Use::Write)?,
            retention_hours: b
                .named_as("retention_hours", Constant::f64)
                .unwrap_or(DEFAULT_RETENTION_HOURS),
            dry_run: b.named_as("dry_run", Constant::bool).unwrap_or(false),
        })
    }

    fn run(a: &Args) -> Result<Vec<ArrayRef>> {
        let v = vacuum(&a.path, a.retention_hours, a.dry_run).map_err(|e| e.in_function(NAME))?;
        Ok(vec![
            Arc::new(StringArray::from_iter_values(v.iter().map(|x| &x.path))),
            Arc::new(Int64Array::from_iter_values(v.iter().map(|x| x.size))),
            Arc::new(BooleanArray::from(
                v.iter().map(|x| x.deleted).collect::<Vec<_>>(),
            )),
        ])
    }
}
