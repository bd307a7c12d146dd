//! Reading a Delta snapshot: the active file list from the log, partition
//! values from the log (not the files), and a streaming Parquet reader with
//! projection. Plain Rust over arrow 59; `read.rs` binds it to SQL.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow59::array::{new_null_array, ArrayRef, StringArray, UInt32Array};
use arrow59::compute::{cast, take};
use arrow59::datatypes::{Schema, SchemaRef};
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use deltalake::parquet::arrow::ProjectionMask;
use deltalake::DeltaTable;

use super::table::{describe, err, local_dir};
use crate::error::Result;

/// One data file of the snapshot.
#[derive(Debug, Clone)]
pub struct ScanFile {
    pub path: PathBuf,
    pub partition_values: HashMap<String, Option<String>>,
    pub num_records: Option<usize>,
    pub size: i64,
}

/// Everything needed to read one version of a table.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub table: String,
    pub version: i64,
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub files: Vec<ScanFile>,
}

impl ScanPlan {
    pub fn new(function: &'static str, path: &str, t: &DeltaTable) -> Result<ScanPlan> {
        let snap = t
            .snapshot()
            .map_err(|e| err(function, path, describe(&e)))?;
        let meta = snap.metadata();
        if let Some(mode) = meta.configuration().get("delta.columnMapping.mode") {
            if mode != "none" {
                return Err(err(
                    function,
                    path,
                    format!("column mapping mode '{mode}' is not supported"),
                ));
            }
        }
        let schema: Schema = snap
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e| err(function, path, format!("unsupported schema: {e}")))?;
        let root =
            local_dir(t.table_url()).ok_or_else(|| err(function, path, "not a local table"))?;
        let mut files = Vec::new();
        for f in snap.log_data().iter() {
            if f.deletion_vector_descriptor().is_some() {
                return Err(err(function, path, "deletion vectors are not supported"));
            }
            let p = f.path();
            let file = if let Ok(u) = url::Url::parse(&p) {
                u.to_file_path()
                    .map_err(|_| err(function, path, format!("unsupported file URL {p}")))?
            } else {
                root.join(p.as_ref())
            };
            files.push(ScanFile {
                path: file,
                partition_values: f.partition_values_map(),
                num_records: f.num_records(),
                size: f.size(),
            });
        }
        Ok(ScanPlan {
            table: path.to_string(),
            version: t.version().unwrap_or(0) as i64,
            schema: Arc::new(schema),
            partition_columns: meta.partition_columns().to_vec(),
            files,
        })
    }

    pub fn total_rows(&self) -> Option<usize> {
        self.files.iter().map(|f| f.num_records).sum()
    }
}

/// Streams the projected columns of a plan's files, file after file.
pub struct Scanner {
    plan: Arc<ScanPlan>,
    /// Table column indices to produce, in output order.
    projection: Vec<usize>,
    batch_size: usize,
    next_file: usize,
    current: Option<(ParquetRecordBatchReader, usize)>,
}

impl Scanner {
    pub fn new(plan: Arc<ScanPlan>, projection: Vec<usize>, batch_size: usize) -> Scanner {
        Scanner {
            plan,
            projection,
            batch_size,
            next_file: 0,
            current: None,
        }
    }

    fn open(&self, idx: usize, function: &'static str) -> Result<ParquetRecordBatchReader> {
        let plan = &self.plan;
        let f = &plan.files[idx];
        let e = |m: String| {
            err(
                function,
                &plan.table,
                format!("data file {}: {m}", f.path.display()),
            )
        };
        let file = File::open(&f.path).map_err(|x| e(x.to_string()))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|x| e(x.to_string()))?;
        let file_schema = builder.schema().clone();
        let wanted: Vec<usize> = self
            .projection
            .iter()
            .filter(|&&c| c < plan.schema.fields().len())
            .map(|&c| plan.schema.field(c).name())
            .filter_map(|n| file_schema.index_of(n).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
        builder
            .with_projection(mask)
            .with_batch_size(self.batch_size)
            .build()
            .map_err(|x| e(x.to_string()))
    }

    /// The next batch of output columns, or `None` at the end.
    pub fn next_batch(&mut self, function: &'static str) -> Result<Option<Vec<ArrayRef>>> {
        loop {
            if self.current.is_none() {
                if self.next_file >= self.plan.files.len() {
                    return Ok(None);
                }
                let r = self.open(self.next_file, function)?;
                self.current = Some((r, self.next_file));
                self.next_file += 1;
            }
            let (reader, idx) = self.current.as_mut().expect("reader");
            let idx = *idx;
            match reader.next() {
                None => self.current = None,
                Some(Err(x)) => {
                    let f = &self.plan.files[idx];
                    return Err(err(
                        function,
                        &self.plan.table,
                        format!("data file {}: {x}", f.path.display()),
                    ));
                }
                Some(Ok(batch)) if batch.num_rows() == 0 => {}
                Some(Ok(batch)) => return self.shape(&batch, idx, function).map(Some),
            }
        }
    }

    /// Orders, casts and fills the file's columns into the table's types.
    fn shape(
        &self,
        batch: &RecordBatch,
        idx: usize,
        function: &'static str,
    ) -> Result<Vec<ArrayRef>> {
        let plan = &self.plan;
        let n = batch.num_rows();
        let file = &plan.files[idx];
        let mut out = Vec::with_capacity(self.projection.len());
        for &c in &self.projection {
            if c >= plan.schema.fields().len() {
                // e.g. DuckDB's row-id pseudo column: never read, any value.
                out.push(new_null_array(&arrow59::datatypes::DataType::Int64, n));
                continue;
            }
            let field = plan.schema.field(c);
            let e = |m: String| {
                err(
                    function,
                    &plan.table,
                    format!("column `{}`: {m}", field.name()),
                )
            };
            let array = if plan.partition_columns.contains(field.name()) {
                let v = file.partition_values.get(field.name()).cloned().flatten();
                let one: ArrayRef = Arc::new(StringArray::from(vec![v]));
                let typed = cast(&one, field.data_type()).map_err(|x| e(x.to_string()))?;
                take(&typed, &UInt32Array::from(vec![0u32; n]), None)
                    .map_err(|x| e(x.to_string()))?
            } else {
                match batch.column_by_name(field.name()) {
                    Some(a) if a.data_type() == field.data_type() => a.clone(),
                    Some(a) => cast(a, field.data_type()).map_err(|x| e(x.to_string()))?,
                    None => new_null_array(field.data_type(), n),
                }
            };
            out.push(array);
        }
        Ok(out)
    }
}
