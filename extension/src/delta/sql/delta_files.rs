//! `delta_files(path [, version := N])` → the data files of a version, from
//! the log: path, size, row count, partition values and the per-file column
//! statistics (JSON text). DuckDB does not hand WHERE filters to extension
//! table functions, so these statistics let a query (or a person) see which
//! files a filter would need.

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, StringArray};

use super::args::{self, Use};
use crate::delta::ops::files::files;
use crate::delta::ops::table::At;
use crate::duck::{BatchFunction, Constant, TableBind, TypeId};
use crate::error::Result;

pub const NAME: &str = "delta_files";

pub struct DeltaFiles;

pub struct Args {
    path: String,
    at: At,
}

impl BatchFunction for DeltaFiles {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str = "path VARCHAR, size_bytes BIGINT, num_records BIGINT, \
        partition_values VARCHAR, stats VARCHAR";
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[("version", TypeId::Bigint)];
    type Args = Args;

    fn bind(b: &TableBind) -> Result<Args> {
        let path = args::path(NAME, b, Use::Read)?;
        let at = b
            .named_as("version", Constant::i64)
            .map(At::Version)
            .unwrap_or_default();
        Ok(Args { path, at })
    }

    fn run(a: &Args) -> Result<Vec<ArrayRef>> {
        let files = files(&a.path, &a.at).map_err(|e| e.in_function(NAME))?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(files.iter().map(|f| &f.path))),
            Arc::new(Int64Array::from_iter_values(files.iter().map(|f| f.size))),
            Arc::new(Int64Array::from(
                files.iter().map(|f| f.num_records).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(
                files.iter().map(|f| &f.partition_values),
            )),
            Arc::new(StringArray::from(
                files.iter().map(|f| f.stats.clone()).collect::<Vec<_>>(),
            )),
        ];
        Ok(cols)
    }
}
