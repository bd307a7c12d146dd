//! The write path: appends and overwrites as one Delta commit, as plain Rust
//! over arrow 59.
//!
//! A [`TableWriter`] is one writer (one per DuckDB thread): `start` resolves the
//! table and checks mode, txn key, schema and partitions before any byte is
//! written; `write` streams batches into Parquet files cut at the target size
//! (delta-rs' `RecordBatchWriter`, which also computes the per-file stats);
//! `absorb` merges another writer's finished files; `commit` writes one
//! Delta commit with all of them (create + data for a new table), retrying
//! on concurrent commits. Nothing is visible to readers before that commit.

use arrow59::compute::concat_batches;
use arrow59::datatypes::SchemaRef;
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::Add;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::SaveMode;
use deltalake::writer::RecordBatchWriter;
use deltalake::DeltaTable;
use url::Url;

use super::encoder::{default_workers, EncoderPool};
use super::error::{err, Result};
use super::options::WriteOptions;
use super::schema::{check_append_schema, conform, kernel_schema, widened};
use super::table::{block_on, describe, enter, open_if_exists, snapshot, table_url};

mod commit;
#[cfg(test)]
mod tests;
mod uncommitted;

pub use commit::skip_reason;
use commit::txn_skip;
pub use uncommitted::Uncommitted;

/// Rows buffered before a batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 64 * 1024;

/// What a write did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOutcome {
    /// The committed version, or the current one when nothing was committed.
    pub version: Option<i64>,
    pub rows: u64,
    pub files_added: u64,
    pub files_removed: u64,
    pub bytes_added: u64,
    /// `committed`, `skipped: txn already applied`, `skipped: table exists`, `no rows`.
    pub status: String,
}

/// One writer of one table; see the module docs.
pub struct TableWriter {
    pub path: String,
    url: Url,
    opts: WriteOptions,
    table: Option<DeltaTable>,
    skip: Option<String>,
    schema: SchemaRef,
    partitions: Vec<String>,
    writer: Option<EncoderPool>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    adds: Vec<Add>,
    /// Paths of `adds` another writer wrote ([`Self::take_files`]): a
    /// skipped commit leaves them, as they may be committed already.
    taken: std::collections::HashSet<String>,
    rows: u64,
}

impl TableWriter {
    /// Resolves the target table and validates the write before any data moves.
    pub fn start(path: &str, opts: WriteOptions, mut schema: SchemaRef) -> Result<TableWriter> {
        let _rt = enter();
        let url = table_url(path)?;
        let table = block_on(open_if_exists(path, &url))?;
        let incoming = kernel_schema(path, &schema)?;
        let mut skip = None;
        let partitions;
        match &table {
            Some(t) => {
                let snap = snapshot(path, t)?;
                let existing_parts: Vec<String> = snap.metadata().partition_columns().to_vec();
                match opts.mode {
                    SaveMode::ErrorIfExists => {
                        return Err(err(path, "the table already exists (mode 'error')"))
                    }
                    SaveMode::Ignore => skip = Some("skipped: table exists".to_string()),
                    _ => {}
                }
                if let Some(p) = &opts.partition_by {
                    if *p != existing_parts && opts.mode == SaveMode::Append {
                        return Err(err(
                            path,
                            format!("the table is partitioned by {existing_parts:?}, not {p:?}"),
                        ));
                    }
                }
                partitions = match (&opts.partition_by, opts.mode) {
                    (Some(p), SaveMode::Overwrite) => p.clone(),
                    _ => existing_parts,
                };
                if skip.is_none() {
                    skip = txn_skip(t, &opts).map_err(|e| err(path, e))?;
                }
                if skip.is_none() && opts.mode == SaveMode::Append {
                    check_append_schema(path, &snap.schema(), &incoming, opts.merge_schema)?;
                    schema = widened(path, &snap.schema(), &schema)?;
                }
            }
            None => {
                partitions = opts.partition_by.clone().unwrap_or_default();
                if let Some((_, v)) = &opts.txn {
                    skip = skip_reason(None, *v, opts.txn_from);
                }
            }
        }
        for p in &partitions {
            if schema.field_with_name(p).is_err() {
                let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(err(
                    path,
                    format!(
                        "unknown partition column `{p}` (columns: {})",
                        cols.join(", ")
                    ),
                ));
            }
        }
        if !partitions.is_empty() && partitions.len() == schema.fields().len() {
            return Err(err(
                path,
                "every column is a partition column; at least one data column is needed",
            ));
        }
        Ok(TableWriter {
            path: path.to_string(),
            url,
            opts,
            table,
            skip,
            schema,
            partitions,
            writer: None,
            pending: Vec::new(),
            pending_rows: 0,
            adds: Vec::new(),
            taken: Default::default(),
            rows: 0,
        })
    }

    /// The options this writer was started with.
    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Buffers `batch` and streams full buffers to Parquet.
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if self.skip.is_some() || batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = if batch.schema().fields() == self.schema.fields() {
            batch
        } else {
            conform(&self.path, batch, &self.schema)?
        };
        self.rows += batch.num_rows() as u64;
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= BATCH_ROWS {
            self.drain_pending()?;
        }
        Ok(())
    }

    fn drain_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = concat_batches(&self.schema, &self.pending).map_err(|e| err(&self.path, e))?;
        self.pending.clear();
        self.pending_rows = 0;
        if self.writer.is_none() {
            let props = WriterProperties::builder()
                .set_compression(deltalake::parquet::basic::Compression::SNAPPY)
                .set_max_row_group_row_count(Some(1024 * 1024))
                .build();
            let parts = (!self.partitions.is_empty()).then(|| self.partitions.clone());
            let (url, schema, target) = (
                self.url.clone(),
                self.schema.clone(),
                self.opts.target_file_size,
            );
            let pool = EncoderPool::new(default_workers(), || {
                RecordBatchWriter::try_new(url.as_str(), schema.clone(), parts.clone(), None)
                    .map(|w| {
                        w.with_target_file_size(target)
                            .with_writer_properties(props.clone())
                    })
                    .map_err(|e| describe(&e))
            })
            .map_err(|e| err(&self.path, e))?;
            self.writer = Some(pool);
        }
        let w = self.writer.as_mut().expect("writer");
        w.send(batch).map_err(|e| err(&self.path, e))
    }

    /// Closes the open Parquet files; their `add` actions wait for `commit`.
    pub fn finish_files(&mut self) -> Result<()> {
        self.drain_pending()?;
        if let Some(w) = self.writer.take() {
            let adds = w.finish().map_err(|e| err(&self.path, e))?;
            self.adds.extend(adds);
        }
        Ok(())
    }

    /// Takes over the files and row count of another writer on the same table.
    pub fn absorb(&mut self, mut other: TableWriter) -> Result<()> {
        if other.path != self.path {
            return Err(err(
                &self.path,
                format!(
                    "the path must be the same for every row (also got '{}')",
                    other.path
                ),
            ));
        }
        other.finish_files()?;
        self.adds.append(&mut other.adds);
        self.rows += other.rows;
        Ok(())
    }
}
