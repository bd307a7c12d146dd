//! `delta_checkpoint(path)` → (version, checkpoint): writes a checkpoint of
//! the latest version on demand.

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, StringArray};

use super::args::{self, Use};
use crate::delta::ops::checkpoint::checkpoint;
use crate::duck::{BatchFunction, TableBind, TypeId};
use crate::error::Result;

pub const NAME: &str = "delta_checkpoint";

pub struct DeltaCheckpoint;

impl BatchFunction for DeltaCheckpoint {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str = "version BIGINT, checkpoint VARCHAR";
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    type Args = String;

    fn bind(b: &TableBind) -> Result<String> {
        args::path(NAME, b, Use::Write)
    }

    fn run(path: &String) -> Result<Vec<ArrayRef>> {
        let (v, file) = checkpoint(path).map_err(|e| e.in_function(NAME))?;
        Ok(vec![
            Arc::new(Int64Array::from(vec![v])),
            Arc::new(StringArray::from(vec![file])),
        ])
    }
}
