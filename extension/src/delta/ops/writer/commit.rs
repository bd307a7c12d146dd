//! Committing a [`TableWriter`]'s files: one Delta version, exactly once
//! under its `txn` (see [`TableWriter::commit`]).

use std::future::IntoFuture;

use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, MetadataExt, StructType, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{DeltaTable, DeltaTableBuilder};

use super::{TableWriter, WriteOutcome};
use crate::delta::ops::error::{err, Result};
use crate::delta::ops::options::{mode_name, WriteOptions};
use crate::delta::ops::schema::{check_append_schema, kernel_schema, merged};
use crate::delta::ops::table::{block_on, describe, enter, is_conflict, open_if_exists, snapshot};

impl TableWriter {
    /// Commits everything written as one Delta version.
    ///
    /// Exactly once with a `txn`: the app's recorded version is checked when
    /// the writer starts, again on the latest snapshot right before the
    /// commit, and delta-rs' conflict checker fails a commit whose window saw
    /// a commit of the same app id; such a conflict is re-checked here and
    /// becomes a skip, never a second copy. A table that a concurrent writer
    /// created meanwhile is appended to, after the same checks. Files of a
    /// skipped write are deleted (they were never committed).
    pub fn commit(mut self) -> Result<WriteOutcome> {
        let _rt = enter();
        self.finish_files()?;
        let current = self
            .table
            .as_ref()
            .and_then(|t| t.version())
            .map(|v| v as i64);
        if let Some(reason) = self.skip.take() {
            return Ok(self.skipped(current, reason));
        }
        // Appending nothing to an existing table is not a version, unless it
        // records a txn: a streaming consumer that read input yielding no
        // rows still records how far it read. (An empty overwrite is a
        // version: it removes every file. A missing table is created.)
        if self.rows == 0
            && self.table.is_some()
            && self.opts.mode != SaveMode::Overwrite
            && self.opts.txn.is_none()
        {
            return Ok(WriteOutcome {
                version: current,
                status: "no rows".into(),
                ..Default::default()
            });
        }
        let incoming = kernel_schema(&self.path, &self.schema)?;
        if self.table.is_none() {
            match self.create(&incoming) {
                Ok(version) => return Ok(self.committed(version, 0)),
                Err(e) => match block_on(open_if_exists(&self.path, &self.url))? {
                    // Someone else created it first: write into theirs.
                    Some(t) => {
                        if let Some(outcome) = self.adopt(t, &incoming)? {
                            return Ok(outcome);
                        }
                    }
                    None => return Err(e),
                },
            }
        }
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let t = self.table.as_mut().expect("an existing table");
            block_on(t.update_state()).map_err(|e| err(&self.path, describe(&e)))?;
            let seen = t.version().map(|v| v as i64);
            if let Some(reason) = txn_skip(t, &self.opts).map_err(|e| err(&self.path, e))? {
                return Ok(self.skipped(seen, reason));
            }
            match self.commit_to_existing(&incoming) {
                Ok((version, removed)) => return Ok(self.committed(version, removed)),
                // A concurrent commit conflicts with ours: re-read, re-check.
                Err(e) if is_conflict(&e) && attempt < ATTEMPTS => continue,
                Err(e) => return Err(err(&self.path, describe(&e))),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Creates the table with this write's files as version 0.
    ///
    /// No retry: when a concurrent writer committed version 0 first,
    /// delta-rs would commit this one as version 1 without checking it
    /// against version 0 (its conflict check only covers commits made after
    /// the snapshot it re-reads, and version 0 is in it), so a second
    /// "create" with the same `txn` would land. Failing here sends the write
    /// through [`Self::adopt`] and the txn checks instead.
    fn create(&self, incoming: &StructType) -> Result<i64> {
        let base = DeltaTableBuilder::from_url(self.url.clone())
            .and_then(|b| b.build())
            .map_err(|e| err(&self.path, describe(&e)))?;
        let adds: Vec<Action> = self.adds.iter().cloned().map(Action::Add).collect();
        let t = block_on(
            base.create()
                .with_columns(incoming.fields().cloned())
                .with_partition_columns(self.partitions.clone())
                .with_configuration(
                    self.opts
                        .checkpoint_interval
                        .map(|n| ("delta.checkpointInterval".to_string(), Some(n.to_string()))),
                )
                .with_actions(adds)
                .with_commit_properties(self.commit_properties().with_max_retries(0))
                .with_save_mode(SaveMode::ErrorIfExists)
                .into_future(),
        )
        .map_err(|e| err(&self.path, describe(&e)))?;
        Ok(t.version().unwrap_or(0) as i64)
    }

    /// Takes over a table a concurrent writer created after `start`: what
    /// `start` would have decided for it, as an outcome when that is not a
    /// write.
    fn adopt(&mut self, t: DeltaTable, incoming: &StructType) -> Result<Option<WriteOutcome>> {
        let version = t.version().map(|v| v as i64);
        match self.opts.mode {
            SaveMode::ErrorIfExists => {
                self.discard_files();
                return Err(err(&self.path, "the table already exists (mode 'error')"));
            }
            SaveMode::Ignore => {
                return Ok(Some(self.skipped(version, "skipped: table exists".into())))
            }
            SaveMode::Append => {
                let snap = snapshot(&self.path, &t)?;
                check_append_schema(&self.path, &snap.schema(), incoming, self.opts.merge_schema)?;
            }
            SaveMode::Overwrite => {}
        }
        self.table = Some(t);
        Ok(None)
    }

    /// One commit attempt on the existing table's current snapshot; returns
    /// the version and how many files it removed.
    fn commit_to_existing(
        &self,
        incoming: &StructType,
    ) -> std::result::Result<(i64, u64), deltalake::DeltaTableError> {
        let t = self.table.as_ref().expect("an existing table");
        let snap = t.snapshot()?;
        let mut actions: Vec<Action> = self.adds.iter().cloned().map(Action::Add).collect();
        let mut removed = 0;
        if self.opts.mode == SaveMode::Overwrite {
            for f in snap.log_data().iter() {
                actions.push(Action::Remove(f.remove_action(true)));
            }
            removed = snap.log_data().num_files() as u64;
        }
        let meta = snap.metadata().clone();
        let current_schema = snap.schema();
        let new_schema = match self.opts.mode {
            SaveMode::Overwrite => Some(incoming.clone()),
            _ if self.opts.merge_schema => Some(
                merged(&current_schema, incoming)
                    .map_err(|e| deltalake::DeltaTableError::Generic(e.message))?,
            ),
            _ => None,
        };
        let parts_changed = meta.partition_columns() != self.partitions.as_slice();
        if let Some(s) = new_schema.filter(|s| s != current_schema.as_ref() || parts_changed) {
            let m = if parts_changed {
                deltalake::kernel::new_metadata(
                    &s,
                    self.partitions.clone(),
                    meta.configuration().clone(),
                )
            } else {
                meta.with_schema(&s)
            }?;
            actions.push(Action::Metadata(m));
        }
        let op = DeltaOperation::Write {
            mode: self.opts.mode,
            partition_by: (!self.partitions.is_empty()).then(|| self.partitions.clone()),
            predicate: None,
        };
        let done = block_on(
            CommitBuilder::from(self.commit_properties())
                .with_actions(actions)
                .build(Some(snap), t.log_store(), op)
                .into_future(),
        )?;
        Ok((done.version() as i64, removed))
    }

    fn committed(&self, version: i64, files_removed: u64) -> WriteOutcome {
        WriteOutcome {
            version: Some(version),
            rows: self.rows,
            files_added: self.adds.len() as u64,
            files_removed,
            bytes_added: self.bytes() as u64,
            status: "committed".into(),
        }
    }

    fn skipped(&mut self, version: Option<i64>, reason: String) -> WriteOutcome {
        self.discard_files();
        WriteOutcome {
            version,
            status: reason,
            ..Default::default()
        }
    }

    /// Deletes the data files this writer wrote but will not commit (best
    /// effort: vacuum removes whatever is left). Files taken from other
    /// writers stay: the same files may have been committed before.
    fn discard_files(&mut self) {
        let adds: Vec<_> = self.adds.drain(..).collect();
        let own = adds.iter().map(|a| a.path.as_str());
        let own = own.filter(|p| !self.taken.contains(*p));
        crate::delta::ops::store::discard(&self.url, own);
    }

    fn bytes(&self) -> i64 {
        self.adds.iter().map(|a| a.size).sum()
    }

    fn commit_properties(&self) -> CommitProperties {
        let bytes = self.bytes();
        let mut meta: Vec<(String, serde_json::Value)> = vec![
            ("engineInfo".into(), crate::version::engine_info().into()),
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

/// Why a write with `opts`' txn must not be committed to `t` now, if so.
pub(super) fn txn_skip(
    t: &DeltaTable,
    opts: &WriteOptions,
) -> std::result::Result<Option<String>, String> {
    let Some((app, v)) = &opts.txn else {
        return Ok(None);
    };
    let snap = t.snapshot().map_err(|e| describe(&e))?;
    let seen = block_on(snap.transaction_version(t.log_store().as_ref(), app))
        .map_err(|e| describe(&e))?;
    Ok(skip_reason(seen, *v, opts.txn_from))
}

/// The txn rules: a recorded version ≥ ours means our work is already in
/// the table; with `txn_from_version`, any other recorded version than the
/// one the writer read means someone else moved the app on meanwhile.
pub fn skip_reason(seen: Option<i64>, version: i64, from: Option<i64>) -> Option<String> {
    if seen.is_some_and(|s| s >= version) {
        return Some("skipped: txn already applied".into());
    }
    let found = seen.unwrap_or(-1);
    match from {
        Some(expected) if expected != found => Some(format!(
            "skipped: txn moved on (read {expected}, found {found})"
        )),
        _ => None,
    }
}
