//! The write path behind `delta_write`, as plain Rust over arrow 59.
//!
//! A [`Session`] is one writer (one per DuckDB thread): `start` resolves the
//! table and checks mode, txn key, schema and partitions before any byte is
//! written; `write` streams batches into Parquet files cut at the target size
//! (delta-rs' `RecordBatchWriter`, which also computes the per-file stats);
//! `absorb` merges another session's finished files; `commit` writes one
//! Delta commit with all of them (create + data for a new table), retrying
//! on concurrent commits. Nothing is visible to readers before that commit.

use std::future::IntoFuture;

use arrow59::compute::concat_batches;

use arrow59::datatypes::SchemaRef;
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, MetadataExt, Transaction};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::RecordBatchWriter;
use deltalake::{DeltaTable, DeltaTableBuilder};
use url::Url;

use super::encoder::{default_workers, EncoderPool};
use super::options::{mode_name, WriteOptions};
use super::schema::{check_append_schema, conform, kernel_schema, merged, widened};
use super::table::{block_on, describe, enter, err, open_if_exists, table_url};
use crate::error::Result;

const F: &str = "delta_write";
/// Rows buffered before a batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 64 * 1024;

/// What a write did, returned to SQL.
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

pub struct Session {
    pub path: String,
    url: Url,
    opts: WriteOptions,
    table: Option<DeltaTable>,
    skip: Option<&'static str>,
    schema: SchemaRef,
    partitions: Vec<String>,
    writer: Option<EncoderPool>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    adds: Vec<Add>,
    rows: u64,
}

impl Session {
    /// Resolves the target table and validates the write before any data moves.
    pub fn start(path: &str, opts: WriteOptions, mut schema: SchemaRef) -> Result<Session> {
        let _rt = enter();
        let url = table_url(F, path)?;
        let table = block_on(open_if_exists(F, path, &url))?;
        let incoming = kernel_schema(path, &schema)?;
        let mut skip = None;
        let partitions;
        match &table {
            Some(t) => {
                let snap = t.snapshot().map_err(|e| err(F, path, describe(&e)))?;
                let existing_parts: Vec<String> = snap.metadata().partition_columns().to_vec();
                match opts.mode {
                    SaveMode::ErrorIfExists => {
                        return Err(err(F, path, "the table already exists (mode 'error')"))
                    }
                    SaveMode::Ignore => skip = Some("skipped: table exists"),
                    _ => {}
                }
                if let Some(p) = &opts.partition_by {
                    if *p != existing_parts && opts.mode == SaveMode::Append {
                        return Err(err(
                            F,
                            path,
                            format!("the table is partitioned by {existing_parts:?}, not {p:?}"),
                        ));
                    }
                }
                partitions = match (&opts.partition_by, opts.mode) {
                    (Some(p), SaveMode::Overwrite) => p.clone(),
                    _ => existing_parts,
                };
                if let Some((app, v)) = &opts.txn {
                    if txn_applied(t, app, *v).map_err(|e| err(F, path, e))? {
                        skip = Some("skipped: txn already applied");
                    }
                }
                if skip.is_none() && opts.mode == SaveMode::Append {
                    check_append_schema(path, &snap.schema(), &incoming, opts.merge_schema)?;
                    schema = widened(path, &snap.schema(), &schema)?;
                }
            }
            None => partitions = opts.partition_by.clone().unwrap_or_default(),
        }
        for p in &partitions {
            if schema.field_with_name(p).is_err() {
                let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(err(
                    F,
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
                F,
                path,
                "every column is a partition column; at least one data column is needed",
            ));
        }
        Ok(Session {
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
            rows: 0,
        })
    }

    /// The options this session was started with.
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
        let batch =
            concat_batches(&self.schema, &self.pending).map_err(|e| err(F, &self.path, e))?;
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
            .map_err(|e| err(F, &self.path, e))?;
            self.writer = Some(pool);
        }
        let w = self.writer.as_mut().expect("writer");
        w.send(batch).map_err(|e| err(F, &self.path, e))
    }

    /// Closes the open Parquet files; their `add` actions wait for `commit`.
    pub fn finish_files(&mut self) -> Result<()> {
        self.drain_pending()?;
        if let Some(w) = self.writer.take() {
            let adds = w.finish().map_err(|e| err(F, &self.path, e))?;
            self.adds.extend(adds);
        }
        Ok(())
    }

    /// Takes over the files and row count of another session on the same table.
    pub fn absorb(&mut self, mut other: Session) -> Result<()> {
        if other.path != self.path {
            return Err(err(
                F,
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

    /// Commits everything written as one Delta version.
    pub fn commit(mut self) -> Result<WriteOutcome> {
        let _rt = enter();
        self.finish_files()?;
        let path = self.path.clone();
        let current = self
            .table
            .as_ref()
            .and_then(|t| t.version())
            .map(|v| v as i64);
        if let Some(reason) = self.skip {
            return Ok(WriteOutcome {
                version: current,
                status: reason.into(),
                ..Default::default()
            });
        }
        // Appending nothing to an existing table is not a version. (An empty
        // overwrite is: it removes every file. A missing table is created.)
        if self.rows == 0 && self.table.is_some() && self.opts.mode != SaveMode::Overwrite {
            return Ok(WriteOutcome {
                version: current,
                status: "no rows".into(),
                ..Default::default()
            });
        }
        let bytes: i64 = self.adds.iter().map(|a| a.size).sum();
        let mut outcome = WriteOutcome {
            rows: self.rows,
            files_added: self.adds.len() as u64,
            bytes_added: bytes as u64,
            status: "committed".into(),
            ..Default::default()
        };
        let props = self.commit_properties(bytes);
        let adds: Vec<Action> = self.adds.drain(..).map(Action::Add).collect();
        let incoming = kernel_schema(&path, &self.schema)?;
        let version = match self.table.take() {
            None => {
                let base = DeltaTableBuilder::from_url(self.url.clone())
                    .and_then(|b| b.build())
                    .map_err(|e| err(F, &path, describe(&e)))?;
                let t =
                    block_on(
                        base.create()
                            .with_columns(incoming.fields().cloned())
                            .with_partition_columns(self.partitions.clone())
                            .with_configuration(self.opts.checkpoint_interval.map(|n| {
                                ("delta.checkpointInterval".to_string(), Some(n.to_string()))
                            }))
                            .with_actions(adds)
                            .with_commit_properties(props)
                            .with_save_mode(SaveMode::ErrorIfExists)
                            .into_future(),
                    )
                    .map_err(|e| err(F, &path, describe(&e)))?;
                t.version().unwrap_or(0) as i64
            }
            Some(mut t) => {
                // Re-read the log: a concurrent writer may have applied our txn.
                block_on(t.update_state()).map_err(|e| err(F, &path, describe(&e)))?;
                if let Some((app, v)) = &self.opts.txn {
                    if txn_applied(&t, app, *v).map_err(|e| err(F, &path, e))? {
                        return Ok(WriteOutcome {
                            version: t.version().map(|v| v as i64),
                            status: "skipped: txn already applied".into(),
                            ..Default::default()
                        });
                    }
                }
                let snap = t.snapshot().map_err(|e| err(F, &path, describe(&e)))?;
                let mut actions = adds;
                if self.opts.mode == SaveMode::Overwrite {
                    for f in snap.log_data().iter() {
                        actions.push(Action::Remove(f.remove_action(true)));
                    }
                    outcome.files_removed = snap.log_data().num_files() as u64;
                }
                let meta = snap.metadata().clone();
                let current_schema = snap.schema();
                let new_schema = match self.opts.mode {
                    SaveMode::Overwrite => Some(incoming.clone()),
                    _ if self.opts.merge_schema => Some(merged(&current_schema, &incoming)?),
                    _ => None,
                };
                let parts_changed = meta.partition_columns() != self.partitions.as_slice();
                if let Some(s) =
                    new_schema.filter(|s| s != current_schema.as_ref() || parts_changed)
                {
                    let m = if parts_changed {
                        deltalake::kernel::new_metadata(
                            &s,
                            self.partitions.clone(),
                            meta.configuration().clone(),
                        )
                    } else {
                        meta.with_schema(&s)
                    }
                    .map_err(|e| err(F, &path, e))?;
                    actions.push(Action::Metadata(m));
                }
                let op = DeltaOperation::Write {
                    mode: self.opts.mode,
                    partition_by: (!self.partitions.is_empty()).then(|| self.partitions.clone()),
                    predicate: None,
                };
                let done = block_on(
                    CommitBuilder::from(props)
                        .with_actions(actions)
                        .build(Some(snap), t.log_store(), op)
                        .into_future(),
                )
                .map_err(|e| err(F, &path, describe(&e)))?;
                done.version() as i64
            }
        };
        outcome.version = Some(version);
        Ok(outcome)
    }

    fn commit_properties(&self, bytes: i64) -> CommitProperties {
        let mut meta: Vec<(String, serde_json::Value)> = vec![
            (
                "engineInfo".into(),
                format!(
                    "medallion {}",
                    crate::core::medallion_version::version_string()
                )
                .into(),
            ),
            (
                "operationMetrics".into(),
                serde_json::json!({
                    "numFiles": self.adds.len(),
                    "numOutputRows": self.rows,
                    "numOutputBytes": bytes,
                }),
            ),
            ("writeMode".into(), mode_name(self.opts.mode).into()),
        ];
        if let Some(m) = &self.opts.user_metadata {
            meta.push(("userMetadata".into(), m.clone().into()));
        }
        let mut p = CommitProperties::default().with_metadata(meta);
        if let Some((app, v)) = &self.opts.txn {
            p = p.with_application_transaction(Transaction::new(app, *v));
        }
        p
    }
}

fn txn_applied(t: &DeltaTable, app: &str, v: i64) -> std::result::Result<bool, String> {
    let snap = t.snapshot().map_err(|e| describe(&e))?;
    let seen = block_on(snap.transaction_version(t.log_store().as_ref(), app))
        .map_err(|e| describe(&e))?;
    Ok(seen.is_some_and(|s| s >= v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow59::array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;

    fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone()));
        let s: ArrayRef = Arc::new(StringArray::from_iter_values(
            ids.map(|i| format!("u{}", i % 3)),
        ));
        RecordBatch::try_from_iter(vec![("id", id), ("who", s)]).unwrap()
    }

    fn tmp(name: &str) -> String {
        let d =
            std::env::temp_dir().join(format!("medallion-writer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.to_string_lossy().into_owned()
    }

    fn write(path: &str, opts: WriteOptions, b: RecordBatch) -> Result<WriteOutcome> {
        let mut s = Session::start(path, opts, b.schema())?;
        s.write(b)?;
        s.commit()
    }

    #[test]
    fn create_append_and_txn_idempotency() {
        let p = tmp("txn");
        let o = WriteOptions {
            txn: Some(("app".into(), 1)),
            ..Default::default()
        };
        let r = write(&p, o.clone(), batch(0..100)).unwrap();
        assert_eq!(
            (r.version, r.rows, r.status.as_str()),
            (Some(0), 100, "committed")
        );
        let again = write(&p, o, batch(0..100)).unwrap();
        assert_eq!((again.version, again.rows), (Some(0), 0));
        assert_eq!(again.status, "skipped: txn already applied");
        let o2 = WriteOptions {
            txn: Some(("app".into(), 2)),
            ..Default::default()
        };
        assert_eq!(write(&p, o2, batch(100..110)).unwrap().version, Some(1));
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn two_sessions_commit_once() {
        let p = tmp("absorb");
        let b = batch(0..10);
        let mut a = Session::start(&p, WriteOptions::default(), b.schema()).unwrap();
        let mut c = Session::start(&p, WriteOptions::default(), b.schema()).unwrap();
        a.write(batch(0..10)).unwrap();
        c.write(batch(10..30)).unwrap();
        a.absorb(c).unwrap();
        let r = a.commit().unwrap();
        assert_eq!((r.version, r.rows, r.files_added), (Some(0), 30, 2));
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn schema_mismatch_is_refused_before_writing() {
        let p = tmp("schema");
        write(&p, WriteOptions::default(), batch(0..5)).unwrap();
        let id: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let bad = RecordBatch::try_from_iter(vec![("id", id)]).unwrap();
        let e = Session::start(&p, WriteOptions::default(), bad.schema())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("schema mismatch: column `id`"), "{e}");
        let _ = std::fs::remove_dir_all(&p);
    }
}
