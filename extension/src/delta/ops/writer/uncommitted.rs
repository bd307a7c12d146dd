//! Data files written without a commit, for another process to commit: how
//! a cluster writes one Delta version from many processes (Spark's tasks
//! write files, its driver commits them). A worker's writer ends in
//! [`TableWriter::into_uncommitted`] instead of `commit`; the driver starts
//! a writer from the files' schema ([`Uncommitted::arrow_schema`]), takes
//! every worker's files ([`TableWriter::take_files`]) and commits them all as one
//! version, with the driver's `txn` and compare-and-set. Files nobody
//! commits (a worker that died, a driver whose commit lost) are in no
//! version: readers never see them and vacuum removes them.
//!
//! On the wire it is JSON: the table as the worker named it, its Delta
//! schema, partition columns, row count and the `add` actions as the Delta
//! log writes them.

use arrow59::datatypes::{Schema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::{Add, StructType};
use serde_json::{json, Value};

use super::TableWriter;
use crate::delta::ops::error::{err, Result};
use crate::delta::ops::schema::kernel_schema;
use crate::delta::ops::table::table_url;

/// A worker's files: what `delta_write_files` returns and
/// `delta_commit_files` commits.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncommitted {
    /// The table the files were written into, as the worker named it.
    pub table: String,
    pub schema: StructType,
    pub partition_columns: Vec<String>,
    pub rows: u64,
    pub files: Vec<Add>,
}

impl Uncommitted {
    pub fn to_json(&self) -> String {
        json!({
            "table": self.table,
            "schema": self.schema,
            "partition_columns": self.partition_columns,
            "rows": self.rows,
            "files": self.files,
        })
        .to_string()
    }

    /// Parses what [`Self::to_json`] wrote; the error says which part is wrong.
    pub fn from_json(text: &str) -> std::result::Result<Uncommitted, String> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| format!("not the JSON of written files: {e}"))?;
        let part = |name: &str| {
            v.get(name)
                .cloned()
                .ok_or_else(|| format!("written files without `{name}`"))
        };
        let field = |name: &str, e: serde_json::Error| format!("written files: bad `{name}`: {e}");
        Ok(Uncommitted {
            table: serde_json::from_value(part("table")?).map_err(|e| field("table", e))?,
            schema: serde_json::from_value(part("schema")?).map_err(|e| field("schema", e))?,
            partition_columns: serde_json::from_value(part("partition_columns")?)
                .map_err(|e| field("partition_columns", e))?,
            rows: serde_json::from_value(part("rows")?).map_err(|e| field("rows", e))?,
            files: serde_json::from_value(part("files")?).map_err(|e| field("files", e))?,
        })
    }

    /// The files' schema in Arrow, to start the committing writer with.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        let schema: Schema = (&self.schema)
            .try_into_arrow()
            .map_err(|e| err(&self.table, format!("unsupported schema: {e}")))?;
        Ok(std::sync::Arc::new(schema))
    }
}

impl TableWriter {
    /// Closes the files and hands them over instead of committing them.
    pub fn into_uncommitted(mut self) -> Result<Uncommitted> {
        if let Some(reason) = self.skip.take() {
            return Err(err(&self.path, format!("nothing was written ({reason})")));
        }
        self.finish_files()?;
        Ok(Uncommitted {
            table: self.path.clone(),
            schema: kernel_schema(&self.path, &self.schema)?,
            partition_columns: self.partitions.clone(),
            rows: self.rows,
            files: std::mem::take(&mut self.adds),
        })
    }

    /// Takes over files another writer wrote into this table (same table,
    /// schema and partitioning), to commit them with this writer's own.
    pub fn take_files(&mut self, files: Uncommitted) -> Result<()> {
        if table_url(&files.table)? != self.url {
            return Err(err(
                &self.path,
                format!(
                    "the files were written into another table ('{}')",
                    files.table
                ),
            ));
        }
        if files.partition_columns != self.partitions {
            return Err(err(
                &self.path,
                format!(
                    "the files are partitioned by {:?}, this write by {:?}",
                    files.partition_columns, self.partitions
                ),
            ));
        }
        if files.schema != kernel_schema(&self.path, &self.schema)? {
            return Err(err(
                &self.path,
                "the files were written with another schema than the first ones",
            ));
        }
        self.rows += files.rows;
        self.taken
            .extend(files.files.iter().map(|a| a.path.clone()));
        self.adds.extend(files.files);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::files::files;
    use crate::delta::ops::options::WriteOptions;
    use crate::delta::ops::table::At;
    use crate::delta::ops::testing::{rows, scratch};

    /// What a worker does: write `ids` into `path` and hand the files over.
    fn worker(path: &str, ids: std::ops::Range<i64>) -> Uncommitted {
        let b = rows(ids);
        let mut w = TableWriter::start(path, WriteOptions::default(), b.schema()).unwrap();
        w.write(b).unwrap();
        w.into_uncommitted().unwrap()
    }

    /// What the driver does: one commit of every worker's files.
    fn driver(
        path: &str,
        opts: WriteOptions,
        parts: Vec<Uncommitted>,
    ) -> super::super::WriteOutcome {
        let schema = parts[0].arrow_schema().unwrap();
        let mut w = TableWriter::start(path, opts, schema).unwrap();
        for p in parts {
            w.take_files(Uncommitted::from_json(&p.to_json()).unwrap())
                .unwrap();
        }
        w.commit().unwrap()
    }

    fn rows_in(path: &str) -> i64 {
        files(path, &At::Latest)
            .unwrap()
            .iter()
            .map(|f| f.num_records.unwrap())
            .sum()
    }

    #[test]
    fn workers_files_become_one_version_only_when_the_driver_commits() {
        let p = scratch("uncommitted");
        let a = worker(&p, 0..100);
        let b = worker(&p, 100..250);
        assert_eq!((a.rows, b.rows), (100, 150));
        // written, not committed: no table yet
        assert!(!std::path::Path::new(&p).join("_delta_log").exists());
        let opts = WriteOptions {
            txn: Some(("medallion.gold".into(), 7)),
            ..Default::default()
        };
        let out = driver(&p, opts.clone(), vec![a, b]);
        assert_eq!(
            (out.version, out.rows, out.status.as_str()),
            (Some(0), 250, "committed")
        );
        assert_eq!(out.files_added, 2);
        assert_eq!(rows_in(&p), 250);
        // the same txn again (a retried pass): skipped; the files it was
        // given stay (they might be committed already), vacuum's to remove
        let c = worker(&p, 0..100);
        let orphan = std::path::Path::new(&p).join(&c.files[0].path);
        let again = driver(&p, opts.clone(), vec![c]);
        assert_eq!(again.status, "skipped: txn already applied");
        assert!(orphan.exists());
        assert_eq!(rows_in(&p), 250);
        // the very same files committed twice: the second is skipped and
        // the table keeps every file it references
        let d = worker(&p, 300..310);
        let opts9 = WriteOptions {
            txn: Some(("medallion.gold".into(), 9)),
            ..Default::default()
        };
        assert_eq!(
            driver(&p, opts9.clone(), vec![d.clone()]).status,
            "committed"
        );
        assert_eq!(
            driver(&p, opts9, vec![d]).status,
            "skipped: txn already applied"
        );
        assert_eq!(rows_in(&p), 260);
        assert!(files(&p, &At::Latest)
            .unwrap()
            .iter()
            .all(|f| std::path::Path::new(&p).join(&f.path).exists()));
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn files_of_another_table_or_schema_are_refused() {
        let p = scratch("uncommitted-mix");
        let q = scratch("uncommitted-other");
        let a = worker(&p, 0..10);
        let mut w =
            TableWriter::start(&q, WriteOptions::default(), a.arrow_schema().unwrap()).unwrap();
        let e = w.take_files(a.clone()).unwrap_err().to_string();
        assert!(e.contains("written into another table"), "{e}");
        let mut other = a.clone();
        other.table = q.clone();
        other.schema = crate::delta::ops::schema::kernel_schema(
            &q,
            &std::sync::Arc::new(Schema::new(vec![arrow59::datatypes::Field::new(
                "x",
                arrow59::datatypes::DataType::Utf8,
                true,
            )])),
        )
        .unwrap();
        let e = w.take_files(other).unwrap_err().to_string();
        assert!(e.contains("another schema"), "{e}");
        let _ = std::fs::remove_dir_all(&p);
        let _ = std::fs::remove_dir_all(&q);
    }

    #[test]
    fn bad_json_names_the_part() {
        assert!(Uncommitted::from_json("{")
            .unwrap_err()
            .contains("not the JSON"));
        let e = Uncommitted::from_json(r#"{"table": "t"}"#).unwrap_err();
        assert!(e.contains("without `schema`"), "{e}");
    }
}
