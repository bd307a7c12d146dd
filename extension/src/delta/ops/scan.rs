//! Reading a Delta snapshot: the active file list from the log, partition
//! values from the log (not the files), and a streaming Parquet reader with
//! projection; and whether a snapshot is a plain list of Parquet files that
//! any Parquet reader can scan ([`parquet_files`]). Plain Rust over arrow 59.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
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

use super::error::{err, Result};
use super::store::TableStore;
use super::table::{block_on, local_dir, open, snapshot, At};

/// One data file of the snapshot.
#[derive(Debug, Clone)]
pub struct ScanFile {
    /// Where the file is: an absolute local path, or for a table in object
    /// storage its path relative to the table's root (see `remote`).
    pub path: PathBuf,
    /// For a table in object storage: the file's path relative to the root,
    /// read through the table's store.
    pub remote: Option<String>,
    pub partition_values: HashMap<String, Option<String>>,
    pub num_records: Option<usize>,
    pub size: i64,
}

/// Everything needed to read one version of a table.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub table: String,
    pub url: url::Url,
    pub version: i64,
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub files: Vec<ScanFile>,
}

impl ScanPlan {
    /// The table's column names, in schema order.
    pub fn column_names(&self) -> Vec<&str> {
        let fields = self.schema.fields().iter();
        fields.map(|f| f.name().as_str()).collect()
    }

    pub fn new(path: &str, t: &DeltaTable) -> Result<ScanPlan> {
        let snap = snapshot(path, t)?;
        let meta = snap.metadata();
        if let Some(mode) = meta.configuration().get("delta.columnMapping.mode") {
            if mode != "none" {
                return Err(err(
                    path,
                    format!("column mapping mode '{mode}' is not supported"),
                ));
            }
        }
        let schema: Schema = snap
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e| err(path, format!("unsupported schema: {e}")))?;
        let root = local_dir(t.table_url());
        let mut files = Vec::new();
        for f in snap.log_data().iter() {
            if f.deletion_vector_descriptor().is_some() {
                return Err(err(path, "deletion vectors are not supported"));
            }
            let (file, remote) = data_file(path, root.as_deref(), &f.path())?;
            files.push(ScanFile {
                path: file,
                remote,
                partition_values: f.partition_values_map(),
                num_records: f.num_records(),
                size: f.size(),
            });
        }
        Ok(ScanPlan {
            table: path.to_string(),
            url: t.table_url().clone(),
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

/// Where a data file the log names (`p`: relative to the table's root, or a
/// URL) is: a local path, or for a table in object storage (`root` None)
/// the relative path to read through the table's store.
pub fn data_file(path: &str, root: Option<&Path>, p: &str) -> Result<(PathBuf, Option<String>)> {
    match (url::Url::parse(p), root) {
        (Ok(u), _) if u.scheme() == "file" => Ok((
            u.to_file_path()
                .map_err(|_| err(path, format!("unsupported file URL {p}")))?,
            None,
        )),
        (Ok(_), _) => Err(err(
            path,
            format!("data file {p}: files outside the table's root are not supported"),
        )),
        (Err(_), Some(root)) => Ok((root.join(p), None)),
        (Err(_), None) => Ok((PathBuf::from(p), Some(p.to_string()))),
    }
}

/// The latest version of the table at `path` as absolute Parquet file
/// paths, when a plain Parquet reader would read exactly its rows; `None`
/// when it needs a Delta reader: partition values live in the log; deletion
/// vectors or column mapping; files that lack a column after a
/// `merge_schema` (found from each file's `nullCount` stats); no files at
/// all; paths a reader would take for a glob or a hive partition; or any
/// problem opening it (the Delta reader then says what).
pub fn parquet_files(path: &str) -> Option<Vec<String>> {
    let table = block_on(open(path, &At::Latest)).ok()?;
    let scan = ScanPlan::new(path, &table).ok()?;
    // a table in object storage: DuckDB's reader would need httpfs
    if !scan.partition_columns.is_empty()
        || scan.files.is_empty()
        || scan.files.iter().any(|f| f.remote.is_some())
    {
        return None;
    }
    let snap = table.snapshot().ok()?;
    let columns = scan.column_names();
    if !snap
        .log_data()
        .iter()
        .all(|f| file_has_columns(f.stats().as_deref(), &columns))
    {
        return None;
    }
    let files: Vec<String> = scan
        .files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    files.iter().all(|f| plain_file_path(f)).then_some(files)
}

/// A file's `add.stats` names every column (its `nullCount` does, for up to
/// 32 indexed columns): a file without one of them was written before a
/// `merge_schema`, which a reader without union-by-name rejects.
/// No stats, or too many columns to tell: not provable, so `false`.
fn file_has_columns(stats: Option<&str>, columns: &[&str]) -> bool {
    let Some(stats) = stats else { return false };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(stats) else {
        return false;
    };
    let Some(counts) = v.get("nullCount").and_then(|c| c.as_object()) else {
        return false;
    };
    let present: HashSet<&str> = counts.keys().map(|k| k.as_str()).collect();
    columns.iter().all(|c| present.contains(c))
}

/// Parquet readers glob `*?[{` and take `key=value` directories for hive
/// partitions (adding columns): such paths need the Delta reader.
fn plain_file_path(p: &str) -> bool {
    !p.contains(['*', '?', '[', '{'])
        && !Path::new(p)
            .iter()
            .any(|c| c.to_string_lossy().contains('='))
}

/// Streams the projected columns of a plan's files, file after file.
pub struct Scanner {
    plan: Arc<ScanPlan>,
    /// Table column indices to produce, in output order.
    projection: Vec<usize>,
    batch_size: usize,
    next_file: usize,
    current: Option<(ParquetRecordBatchReader, usize)>,
    /// The table's object store, opened for its first remote file.
    store: Option<TableStore>,
}

impl Scanner {
    pub fn new(plan: Arc<ScanPlan>, projection: Vec<usize>, batch_size: usize) -> Scanner {
        Scanner {
            plan,
            projection,
            batch_size,
            next_file: 0,
            current: None,
            store: None,
        }
    }

    fn open(&mut self, idx: usize) -> Result<ParquetRecordBatchReader> {
        let plan = Arc::clone(&self.plan);
        let f = &plan.files[idx];
        let e = |m: String| err(&plan.table, format!("data file {}: {m}", f.path.display()));
        match &f.remote {
            None => {
                let file = File::open(&f.path).map_err(|x| e(x.to_string()))?;
                let builder =
                    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|x| e(x.to_string()))?;
                self.reader(builder, &e)
            }
            Some(location) => {
                if self.store.is_none() {
                    self.store = Some(TableStore::at(&plan.table, plan.url.clone())?);
                }
                let store = self.store.as_ref().expect("opened");
                let bytes = store
                    .read(location)?
                    .ok_or_else(|| e("no such file in the table's storage".into()))?;
                let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
                    .map_err(|x| e(x.to_string()))?;
                self.reader(builder, &e)
            }
        }
    }

    /// The projected, batched reader of one file.
    fn reader<T: deltalake::parquet::file::reader::ChunkReader + 'static>(
        &self,
        builder: ParquetRecordBatchReaderBuilder<T>,
        e: &dyn Fn(String) -> super::error::DeltaError,
    ) -> Result<ParquetRecordBatchReader> {
        let plan = &self.plan;
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
    pub fn next_batch(&mut self) -> Result<Option<Vec<ArrayRef>>> {
        Ok(self.next_file_batch()?.map(|(_, columns)| columns))
    }

    /// The next batch of output columns with the index (in the plan) of the
    /// file it came from, or `None` at the end.
    pub fn next_file_batch(&mut self) -> Result<Option<(usize, Vec<ArrayRef>)>> {
        loop {
            if self.current.is_none() {
                if self.next_file >= self.plan.files.len() {
                    return Ok(None);
                }
                let r = self.open(self.next_file)?;
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
                        &self.plan.table,
                        format!("data file {}: {x}", f.path.display()),
                    ));
                }
                Some(Ok(batch)) if batch.num_rows() == 0 => {}
                Some(Ok(batch)) => return self.shape(&batch, idx).map(|c| Some((idx, c))),
            }
        }
    }

    /// Orders, casts and fills the file's columns into the table's types.
    fn shape(&self, batch: &RecordBatch, idx: usize) -> Result<Vec<ArrayRef>> {
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
            let e = |m: String| err(&plan.table, format!("column `{}`: {m}", field.name()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::testing::{scratch, table_of};

    #[test]
    fn a_file_missing_a_column_is_not_read_as_plain_parquet() {
        let s = r#"{"numRecords":2,"nullCount":{"a":0,"b":1}}"#;
        assert!(file_has_columns(Some(s), &["a", "b"]));
        assert!(!file_has_columns(Some(s), &["a", "b", "c"]));
        assert!(!file_has_columns(None, &["a"]));
        assert!(!file_has_columns(Some("{}"), &["a"]));
    }

    #[test]
    fn glob_and_hive_looking_paths_are_not_plain() {
        assert!(plain_file_path("/lake/t/part-0.parquet"));
        assert!(!plain_file_path("/lake/[x]/part-0.parquet"));
        assert!(!plain_file_path("/lake/env=prod/t/part-0.parquet"));
    }

    #[test]
    fn a_plain_table_is_its_file_list_and_the_scanner_reads_every_row() {
        let t = table_of("scan", &[10, 15]);
        let files = parquet_files(&t).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files
            .iter()
            .all(|f| f.starts_with('/') && f.ends_with(".parquet")));
        assert_eq!(parquet_files(&scratch("scan-none")), None);
        let table = block_on(open(&t, &At::Latest)).unwrap();
        let plan = std::sync::Arc::new(ScanPlan::new(&t, &table).unwrap());
        assert_eq!(plan.total_rows(), Some(25));
        let mut scanner = Scanner::new(plan, vec![1, 0], 7);
        let mut rows = 0;
        while let Some(cols) = scanner.next_batch().unwrap() {
            assert_eq!(cols.len(), 2);
            assert!(cols[0].len() <= 7);
            rows += cols[0].len();
        }
        assert_eq!(rows, 25);
    }
}
