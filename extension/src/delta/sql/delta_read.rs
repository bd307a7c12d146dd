//! `delta_read(path [, version := N | as_of := TIMESTAMPTZ])` → the table's rows.
//!
//! Bind resolves the snapshot (time travel included) and its file list from
//! the log; the scan streams the Parquet files with projection pushdown and
//! fills partition columns from the log. C API v1 does not pass WHERE filters
//! to table functions, so files cannot be skipped by min/max here: that is
//! what `FROM 'path'` ([`super::from_table_path`]) is for.

use std::sync::Arc;

use arrow59::array::ArrayRef;

use super::args::{self, Use};
use crate::delta::ops::error::err;
use crate::delta::ops::history::earliest;
use crate::delta::ops::scan::{ScanPlan, Scanner};
use crate::delta::ops::table::{block_on, open, At};
use crate::duck::{Bound, TableBind, TableFunction, TypeId};
use crate::error::Result;

pub const NAME: &str = "delta_read";

pub struct DeltaRead;

impl TableFunction for DeltaRead {
    const NAME: &'static str = NAME;
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] =
        &[("version", TypeId::Bigint), ("as_of", TypeId::TimestampTZ)];
    const PROJECTION_PUSHDOWN: bool = true;
    type Bind = Arc<ScanPlan>;
    type Scan = Scanner;

    fn bind(b: &TableBind) -> Result<Bound<Arc<ScanPlan>>> {
        let path = args::path(NAME, b, Use::Read)?;
        let at = args::time_travel(NAME, &path, b)?;
        let plan = read_plan(&path, &at).map_err(|e| e.in_function(NAME))?;
        Ok(Bound {
            schema: plan.schema.clone(),
            rows: plan.total_rows().map(|n| n as u64),
            data: Arc::new(plan),
        })
    }

    fn init(plan: &Arc<ScanPlan>, projection: &[usize]) -> Result<Scanner> {
        Ok(Scanner::new(plan.clone(), projection.to_vec(), 2048))
    }

    fn next(plan: &Arc<ScanPlan>, scanner: &mut Scanner) -> Result<Option<Vec<ArrayRef>>> {
        let _ = plan;
        scanner.next_batch().map_err(|e| e.in_function(NAME))
    }
}

/// The snapshot of `path` at `at`, refusing a time before the first commit
/// (delta-rs answers version 0 for it).
fn read_plan(path: &str, at: &At) -> crate::delta::ops::Result<ScanPlan> {
    if let At::Timestamp(ts) = at {
        let first = earliest(path)?;
        if first
            .timestamp_ms
            .is_some_and(|f| ts.timestamp_millis() < f)
        {
            return Err(err(path, "no version was committed at or before that time"));
        }
    }
    let table = block_on(open(path, at))?;
    ScanPlan::new(path, &table)
}
