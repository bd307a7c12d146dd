//! Schema rules of `delta_write` appends: which query columns a table
//! accepts (same type, or a lossless widening; new columns only with
//! `merge_schema`), and the casts that apply them. Plain Rust.

use std::sync::Arc;

use arrow59::datatypes::{Field, Schema, SchemaRef};
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::engine::arrow_conversion::{TryIntoArrow, TryIntoKernel};
use deltalake::kernel::{DataType, PrimitiveType, StructField, StructType};

use super::error::{err, Result};

/// The Delta schema of an Arrow schema.
pub fn kernel_schema(path: &str, schema: &SchemaRef) -> Result<StructType> {
    schema
        .as_ref()
        .try_into_kernel()
        .map_err(|e| err(path, format!("unsupported column type: {e}")))
}

/// Append compatibility: every incoming column must exist with the same type,
/// unless `merge` allows new ones. Table columns missing from the query are
/// written as NULL.
pub fn check_append_schema(
    path: &str,
    table: &StructType,
    incoming: &StructType,
    merge: bool,
) -> Result<()> {
    let mut new_cols = Vec::new();
    for f in incoming.fields() {
        match table.field(f.name()) {
            Some(tf)
                if tf.data_type() != f.data_type() && !widens(f.data_type(), tf.data_type()) =>
            {
                return Err(err(
                    path,
                    format!(
                        "schema mismatch: column `{}` is {} in the table but {} in the query",
                        f.name(),
                        tf.data_type(),
                        f.data_type()
                    ),
                ))
            }
            Some(_) => {}
            None => new_cols.push(f.name().to_string()),
        }
    }
    if !new_cols.is_empty() && !merge {
        return Err(err(path, format!(
            "schema mismatch: column(s) {} are not in the table; pass merge_schema := true to add them",
            new_cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

/// Whether values of `from` convert to `to` without loss (appends cast them).
pub fn widens(from: &DataType, to: &DataType) -> bool {
    use PrimitiveType::*;
    match (from, to) {
        (DataType::Primitive(a), DataType::Primitive(b)) => matches!(
            (a, b),
            (Byte, Short | Integer | Long | Double)
                | (Short, Integer | Long | Double)
                | (Integer, Long | Double)
                | (Float, Double)
        ),
        _ => false,
    }
}

/// The query's schema with widened columns given the table's (arrow) type.
pub fn widened(path: &str, table: &StructType, incoming: &SchemaRef) -> Result<SchemaRef> {
    let table_arrow: Schema = table
        .try_into_arrow()
        .map_err(|e| err(path, format!("unsupported table schema: {e}")))?;
    let fields: Vec<Field> = incoming
        .fields()
        .iter()
        .map(|f| match table_arrow.field_with_name(f.name()) {
            Ok(tf)
                if tf.data_type() != f.data_type()
                    && tf.data_type().is_numeric()
                    && f.data_type().is_numeric() =>
            {
                f.as_ref().clone().with_data_type(tf.data_type().clone())
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// Casts a batch's columns to `schema` (same columns, possibly wider types).
pub fn conform(path: &str, batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(err(path, "the row type changed during the write"));
    }
    let cols = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| arrow59::compute::cast(c, f.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| err(path, e))?;
    RecordBatch::try_new(schema.clone(), cols).map_err(|e| err(path, e))
}

/// The table schema with the query's new columns appended.
pub fn merged(table: &StructType, incoming: &StructType) -> Result<StructType> {
    let mut fields: Vec<_> = table.fields().cloned().collect();
    for f in incoming.fields() {
        if table.field(f.name()).is_none() {
            fields.push(StructField::new(
                f.name().clone(),
                f.data_type().clone(),
                true,
            ));
        }
    }
    StructType::try_new(fields).map_err(|e| err("", e))
}
