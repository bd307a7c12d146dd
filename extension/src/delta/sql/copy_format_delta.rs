//! `COPY (SELECT t FROM (SELECT ...) t) TO 'lake/x' (FORMAT delta, MODE 'append', ...)`:
//! the COPY form of `delta_write`, for tools that speak COPY and for
//! databases that run with `enable_external_access = false` (COPY sees the
//! client context, so its check never depends on the latch).
//!
//! DuckDB gives a COPY function the column types but not their names, so
//! the row must arrive as ONE STRUCT column (`SELECT t FROM (...) t`), whose
//! field names become the table's column names. Options are `delta_write`'s,
//! except that partitions are `PARTITION_COLUMNS` (DuckDB keeps `PARTITION_BY`
//! for itself). Sinks write through one shared writer; finalize commits once.
//! Unlike the aggregate, COPY knows the path and the row type up front, so a
//! query with no rows still overwrites (empties) a table or creates it.

use std::sync::{Arc, Mutex};

use arrow59::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow59::compute::filter_record_batch;
use arrow59::datatypes::{DataType, Schema, SchemaRef};
use arrow59::record_batch::RecordBatch;

use super::args::{check, Use};
use crate::delta::ops::error::err;
use crate::delta::ops::options::{self, WriteOptions};
use crate::delta::ops::writer::TableWriter;
use crate::duck::{Access, CopyBind, CopyTo};
use crate::error::{Error, Result};

pub const NAME: &str = "COPY TO (FORMAT delta)";

pub struct CopyFormatDelta;

pub struct Args {
    options: WriteOptions,
    /// The row STRUCT's fields: a query with no rows still has a schema,
    /// so `MODE 'overwrite'` can empty a table and a new table can be created.
    schema: SchemaRef,
    access: Access,
}

pub struct Global {
    path: String,
    options: WriteOptions,
    schema: SchemaRef,
    writer: Mutex<Option<TableWriter>>,
}

impl CopyTo for CopyFormatDelta {
    const FORMAT: &'static str = "delta";
    const NAME: &'static str = NAME;
    type Bind = Args;
    type Global = Global;

    fn bind(b: &CopyBind) -> Result<Args> {
        let schema = match b.columns() {
            [row] => match row.data_type() {
                DataType::Struct(fields) => Some(Arc::new(Schema::new(fields.clone()))),
                _ => None,
            },
            _ => None,
        };
        let Some(schema) = schema else {
            return Err(Error::InvalidArgument {
                function: NAME,
                argument: "query",
                reason: "DuckDB does not pass column names to COPY functions: select the row as one STRUCT, \
                         e.g. COPY (SELECT t FROM (SELECT ...) t) TO 'lake/x' (FORMAT delta)"
                    .into(),
            });
        };
        let pairs = b
            .options()
            .iter()
            .map(|(k, v)| {
                let key = if k.eq_ignore_ascii_case("partition_columns") {
                    "partition_by".to_string()
                } else {
                    k.clone()
                };
                (key, v.clone())
            })
            .collect();
        let options = options::from_text(pairs).map_err(|m| err("", m).in_function(NAME))?;
        Ok(Args {
            options,
            schema,
            access: b.access().clone(),
        })
    }

    fn init(args: &Args, path: &str) -> Result<Global> {
        check(NAME, &args.access, path, Use::Write)?;
        Ok(Global {
            path: path.to_string(),
            options: args.options.clone(),
            schema: args.schema.clone(),
            writer: Mutex::new(None),
        })
    }

    fn sink(g: &Global, columns: Vec<ArrayRef>) -> Result<()> {
        let [row] = columns.as_slice() else {
            return Err(err(&g.path, "expected one STRUCT column").in_function(NAME));
        };
        let DataType::Struct(fields) = row.data_type().clone() else {
            return Err(err(&g.path, "expected a STRUCT row").in_function(NAME));
        };
        let rows = row.as_struct();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), rows.columns().to_vec())
            .map_err(|e| err(&g.path, e).in_function(NAME))?;
        // A NULL row is not a row (as for `delta_write`).
        let batch = match rows.nulls().filter(|n| n.null_count() > 0) {
            Some(n) => {
                let present = BooleanArray::new(n.inner().clone(), None);
                filter_record_batch(&batch, &present)
                    .map_err(|e| err(&g.path, e).in_function(NAME))?
            }
            None => batch,
        };
        let mut w = g.writer.lock().unwrap_or_else(|p| p.into_inner());
        if w.is_none() {
            let writer = TableWriter::start(&g.path, g.options.clone(), batch.schema())
                .map_err(|e| e.in_function(NAME))?;
            *w = Some(writer);
        }
        w.as_mut()
            .expect("writer")
            .write(batch)
            .map_err(|e| e.in_function(NAME))
    }

    fn finalize(g: &Global) -> Result<()> {
        let writer = g.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        // No rows reached a sink: still commit what an empty write means
        // (an overwrite empties the table; a missing table is created).
        let writer = match writer {
            Some(w) => w,
            None => TableWriter::start(&g.path, g.options.clone(), g.schema.clone())
                .map_err(|e| e.in_function(NAME))?,
        };
        writer.commit().map_err(|e| e.in_function(NAME))?;
        Ok(())
    }
}
