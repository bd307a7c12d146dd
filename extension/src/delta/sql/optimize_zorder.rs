//! `optimize_zorder(path, columns [, target_file_size := bytes]
//! [, incremental := true] [, min_files := n] [, min_bytes := n]
//! [, min_cube_size := bytes])` → one row: the commit's version and what it
//! rewrote. `incremental` clusters only the files not clustered yet, merging
//! the cubes smaller than `min_cube_size` into the new one; `min_files` /
//! `min_bytes` make a run wait until that many new files or bytes have
//! gathered. See
//! [`crate::delta::ops::optimize`].

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array};

use super::args::{self, Use};
use crate::delta::ops::error::err;
use crate::delta::ops::optimize::{optimize_zorder, Input, DEFAULT_TARGET};
use crate::duck::{BatchFunction, Constant, TableBind, TypeId};
use crate::error::Result;

pub const NAME: &str = "optimize_zorder";

pub struct OptimizeZorder;

pub struct Args {
    path: String,
    columns: Vec<String>,
    target: u64,
    input: Input,
}

impl BatchFunction for OptimizeZorder {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str = "version BIGINT, files_removed BIGINT, files_added BIGINT, \
        bytes_removed BIGINT, bytes_added BIGINT, rows BIGINT, partitions_optimized BIGINT";
    /// ANY: a list (`['user', 'ts']`) or a comma-separated string (`'user, ts'`).
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar, TypeId::Any];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[
        ("target_file_size", TypeId::Bigint),
        ("incremental", TypeId::Boolean),
        ("min_files", TypeId::Bigint),
        ("min_bytes", TypeId::Bigint),
        ("min_cube_size", TypeId::Bigint),
    ];
    type Args = Args;

    fn bind(b: &TableBind) -> Result<Args> {
        let path = args::path(NAME, b, Use::Write)?;
        let v = b.positional(1);
        let columns: Vec<String> = match v.texts() {
            _ if v.is_null() => Vec::new(),
            Some(items) => items,
            None => v
                .text()
                .unwrap_or_default()
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        };
        let target = b
            .named_as("target_file_size", Constant::i64)
            .unwrap_or(DEFAULT_TARGET as i64);
        if target < 1024 {
            return Err(err(
                &path,
                format!("target_file_size must be at least 1024 bytes, got {target}"),
            )
            .in_function(NAME));
        }
        Ok(Args {
            path,
            columns,
            target: target as u64,
            input: Input {
                incremental: b.named_as("incremental", Constant::bool).unwrap_or(false),
                min_files: b
                    .named_as("min_files", Constant::i64)
                    .map(|n| n.max(0) as u64),
                min_bytes: b
                    .named_as("min_bytes", Constant::i64)
                    .map(|n| n.max(0) as u64),
                min_cube_bytes: b
                    .named_as("min_cube_size", Constant::i64)
                    .map(|n| n.max(0) as u64),
            },
        })
    }

    fn run(a: &Args) -> Result<Vec<ArrayRef>> {
        let r = optimize_zorder(&a.path, &a.columns, a.target, &a.input)
            .map_err(|e| e.in_function(NAME))?;
        let i = |v: u64| -> ArrayRef { Arc::new(Int64Array::from(vec![v as i64])) };
        Ok(vec![
            Arc::new(Int64Array::from(vec![r.version])),
            i(r.files_removed),
            i(r.files_added),
            i(r.bytes_removed),
            i(r.bytes_added),
            i(r.rows),
            i(r.partitions),
        ])
    }
}
