//! `delta_changes(path, after_version [, until_version := N])` → the rows
//! that the commits after `after_version` (up to `until_version`, default
//! the latest) added, with `_commit_version` and `_commit_timestamp`: how a
//! streaming consumer reads only what is new. See
//! [`crate::delta::ops::changes`] for what counts as new.

use std::sync::Arc;

use arrow59::array::ArrayRef;
use arrow59::datatypes::{DataType, Field, Schema};

use super::args::{self, Use};
use crate::delta::ops::changes::{changes, ChangePlan, ChangeScanner};
use crate::duck::{Bound, Constant, TableBind, TableFunction, TypeId};
use crate::error::{Error, Result};

pub const NAME: &str = "delta_changes";

pub struct DeltaChanges;

impl TableFunction for DeltaChanges {
    const NAME: &'static str = NAME;
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar, TypeId::Bigint];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] =
        &[("until_version", TypeId::Bigint)];
    const PROJECTION_PUSHDOWN: bool = true;
    type Bind = Arc<ChangePlan>;
    type Scan = ChangeScanner;

    fn bind(b: &TableBind) -> Result<Bound<Arc<ChangePlan>>> {
        let path = args::path(NAME, b, Use::Read)?;
        let after = b
            .positional(1)
            .i64()
            .ok_or_else(|| Error::InvalidArgument {
                function: NAME,
                argument: "after_version",
                reason: "is NULL; give -1 to read from the first version".into(),
            })?;
        let until = b.named_as("until_version", Constant::i64);
        let plan = changes(&path, after, until).map_err(|e| e.in_function(NAME))?;
        let mut fields: Vec<Field> = plan
            .scan
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("_commit_version", DataType::Int64, false));
        fields.push(Field::new("_commit_timestamp", super::timestamp_tz(), true));
        Ok(Bound {
            schema: Arc::new(Schema::new(fields)),
            rows: plan.scan.total_rows().map(|n| n as u64),
            data: Arc::new(plan),
        })
    }

    fn init(plan: &Arc<ChangePlan>, projection: &[usize]) -> Result<ChangeScanner> {
        Ok(ChangeScanner::new(plan.clone(), projection.to_vec(), 2048))
    }

    fn next(_: &Arc<ChangePlan>, scanner: &mut ChangeScanner) -> Result<Option<Vec<ArrayRef>>> {
        scanner.next_batch().map_err(|e| e.in_function(NAME))
    }
}
