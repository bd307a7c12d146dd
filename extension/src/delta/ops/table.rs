//! Opening Delta tables: path → URL, the async runtime, time travel, and the
//! error wording shared by every Delta function. Plain Rust, no DuckDB.

use std::future::Future;
use std::path::Path;
use std::sync::OnceLock;

use deltalake::table::state::DeltaTableState;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use url::Url;

use super::error::{err, Result};

/// One multi-threaded runtime for the whole process. DuckDB threads call
/// [`block_on`] concurrently; CPU work (Parquet encoding) runs on the calling
/// thread inside the future, so DuckDB's parallelism is kept.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("medallion-io")
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// Enters the runtime's context for synchronous delta-rs calls that spawn or
/// build streams (they panic outside a runtime).
pub fn enter() -> tokio::runtime::EnterGuard<'static> {
    runtime().enter()
}

/// Runs a future to completion from a (non-async) DuckDB callback thread.
pub fn block_on<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// The URL schemes a table may live under (s3a is Hadoop's name for s3).
pub const SCHEMES: &[&str] = &["file", "s3", "s3a"];

/// Turns a table location as written in SQL into a URL. Plain paths are local
/// (relative to the working directory); `file://` and other URLs pass through.
pub fn table_url(path: &str) -> Result<Url> {
    if path.trim().is_empty() {
        return Err(err(path, "the table path is empty"));
    }
    if path.contains("://") {
        let url = Url::parse(path).map_err(|e| err(path, format!("invalid URL: {e}")))?;
        if !SCHEMES.contains(&url.scheme()) {
            return Err(err(
                path,
                format!(
                    "the `{}` scheme is not supported (local paths, file:// and s3:// only)",
                    url.scheme()
                ),
            ));
        }
        return Ok(ensure_dir_url(url));
    }
    let abs = std::path::absolute(Path::new(path))
        .map_err(|e| err(path, format!("invalid path: {e}")))?;
    if abs.is_file() {
        return Err(err(path, "the path is a file, not a Delta table directory"));
    }
    Url::from_directory_path(&abs).map_err(|_| err(path, "invalid path"))
}

fn ensure_dir_url(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

/// The local directory of a `file://` table URL.
pub fn local_dir(url: &Url) -> Option<std::path::PathBuf> {
    url.to_file_path().ok()
}

/// Which version of a table to open.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum At {
    #[default]
    Latest,
    Version(i64),
    /// An RFC 3339 timestamp: the latest version committed at or before it.
    Timestamp(chrono::DateTime<chrono::Utc>),
}

/// A point in time as users write it: RFC 3339, DuckDB's TIMESTAMPTZ text
/// (`2026-01-31 12:00:00.5+00`), or a naive timestamp or date taken as UTC.
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// The last version application `app_id` recorded in the table at `path`
/// (its Delta `txn`); `None` when it recorded none or there is no table.
pub fn txn_version(path: &str, app_id: &str) -> Result<Option<i64>> {
    let _rt = enter();
    let url = table_url(path)?;
    let Some(table) = block_on(open_if_exists(path, &url))? else {
        return Ok(None);
    };
    let snap = snapshot(path, &table)?;
    block_on(snap.transaction_version(table.log_store().as_ref(), app_id))
        .map_err(|e| err(path, describe(&e)))
}

/// Whether a commit failed because a concurrent commit conflicts with it
/// (Delta's optimistic concurrency): the caller re-reads and decides.
pub fn is_conflict(e: &DeltaTableError) -> bool {
    matches!(
        e,
        DeltaTableError::Transaction {
            source: deltalake::kernel::transaction::TransactionError::CommitConflict(_)
        }
    )
}

/// Whether a commit made with `max_retries = 0` failed only because another
/// commit took its version first: the caller re-reads and decides whether
/// to try again.
pub fn lost_the_version(e: &DeltaTableError) -> bool {
    use deltalake::kernel::transaction::TransactionError as T;
    is_conflict(e)
        || matches!(e, DeltaTableError::VersionAlreadyExists(_))
        || matches!(
            e,
            DeltaTableError::Transaction {
                source: T::MaxCommitAttempts(_) | T::VersionAlreadyExists(_)
            }
        )
}

/// Whether a load error means "there is no table here" (as opposed to a broken one).
pub fn is_missing(e: &DeltaTableError) -> bool {
    matches!(e, DeltaTableError::NotATable(_))
        || e.to_string().contains("No files in log segment")
        || e.to_string().contains("not a Delta table")
        || e.to_string().contains("Path does not exist")
}

/// Opens an existing table at `at`; a missing table or bad version is an error
/// naming the table.
pub async fn open(path: &str, at: &At) -> Result<DeltaTable> {
    let url = table_url(path)?;
    let mut builder = DeltaTableBuilder::from_url(url).map_err(|e| err(path, e))?;
    builder = match at {
        At::Latest => builder,
        At::Version(v) => {
            if *v < 0 {
                return Err(err(path, format!("version {v} is negative")));
            }
            builder.with_version(*v as _)
        }
        At::Timestamp(ts) => builder.with_timestamp(*ts),
    };
    match builder.load().await {
        Ok(t) => Ok(t),
        Err(e) if is_missing(&e) => Err(err(path, "no Delta table at this path (no _delta_log)")),
        Err(e) if *at != At::Latest => {
            // Name the versions that exist instead of the kernel's log-segment text.
            let latest = match DeltaTableBuilder::from_url(table_url(path)?) {
                Ok(b) => b.load().await.ok().and_then(|t| t.version()),
                Err(_) => None,
            };
            Err(err(
                path,
                match (at, latest) {
                    (At::Version(v), Some(l)) => {
                        format!("version {v} does not exist (the latest is {l})")
                    }
                    (At::Timestamp(_), Some(l)) => format!(
                        "no version was committed at or before that time (versions 0 to {l} exist)"
                    ),
                    _ => describe(&e),
                },
            ))
        }
        Err(e) => Err(err(path, describe(&e))),
    }
}

/// The loaded state of `table` (opened from `path`), whose absence is an
/// error naming the table like every other.
pub fn snapshot<'t>(path: &str, table: &'t DeltaTable) -> Result<&'t DeltaTableState> {
    table.snapshot().map_err(|e| err(path, describe(&e)))
}

/// Opens the latest version if a table exists; `Ok(None)` when there is none.
pub async fn open_if_exists(path: &str, url: &Url) -> Result<Option<DeltaTable>> {
    let builder = DeltaTableBuilder::from_url(url.clone()).map_err(|e| err(path, e))?;
    let table = builder.build().map_err(|e| err(path, e))?;
    let exists = table
        .verify_deltatable_existence()
        .await
        .map_err(|e| err(path, describe(&e)))?;
    if !exists {
        return Ok(None);
    }
    let mut table = table;
    match table.load().await {
        Ok(()) => Ok(Some(table)),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(err(path, describe(&e))),
    }
}

/// delta-rs error text, with the wording made specific for common cases.
pub fn describe(e: &DeltaTableError) -> String {
    describe_text(&e.to_string())
}

/// The wording of [`describe`], on error text: drops a captured backtrace
/// (kernel errors carry one when `RUST_BACKTRACE` is set) and names the two
/// problems users meet most: a location they cannot write, a corrupt log.
pub fn describe_text(full: &str) -> String {
    let is_frame = |l: &str| {
        let t = l.trim_start();
        t.split_once(": ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            || t.starts_with("at ")
            || t == "Stack backtrace:"
    };
    let s = full
        .lines()
        .take_while(|l| !is_frame(l))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match KNOWN
        .iter()
        .find(|(signs, _)| signs.iter().any(|m| s.contains(m)))
    {
        Some((_, problem)) => format!("{problem}: {s}"),
        None => s,
    }
}

/// The problems users meet most, each by the texts that give it away.
const KNOWN: &[(&[&str], &str)] = &[
    (
        &[
            "Permission denied",
            "Operation not permitted",
            "Read-only file system",
            "Unable to create dir",
        ],
        "cannot write to this location",
    ),
    (
        &[
            "Json error",
            "Invalid JSON",
            "invalid json",
            "expected value",
            "EOF while parsing",
        ],
        "the transaction log (_delta_log) is corrupt",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_drops_backtraces_and_names_common_problems() {
        let t = describe_text("Kernel error: Json error: Encountered unexpected 'b'\n   0: <unknown>\n   1: <unknown>");
        assert_eq!(t, "the transaction log (_delta_log) is corrupt: Kernel error: Json error: Encountered unexpected 'b'");
        let w = describe_text("Generic LocalFileSystem error: Unable to create dir /sys/x: Operation not permitted (os error 1)");
        assert!(w.starts_with("cannot write to this location: "), "{w}");
    }

    #[test]
    fn timestamps_in_the_usual_spellings() {
        let want = parse_timestamp("2026-01-31T12:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-01-31 12:00:00+00").unwrap(), want);
        assert_eq!(parse_timestamp("2026-01-31 13:00:00+01:00").unwrap(), want);
        assert_eq!(parse_timestamp("2026-01-31 12:00:00").unwrap(), want);
        assert!(parse_timestamp("2026-01-31").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn local_paths_become_directory_urls() {
        let u = table_url("lake/bronze").unwrap();
        assert_eq!(u.scheme(), "file");
        assert!(u.path().ends_with("/lake/bronze/"), "{u}");
    }

    #[test]
    fn file_and_s3_urls_pass_and_other_schemes_are_refused() {
        assert!(table_url("file:///tmp/x").unwrap().path().ends_with("/x/"));
        assert_eq!(
            table_url("s3://bucket/t").unwrap().as_str(),
            "s3://bucket/t/"
        );
        let e = table_url("gs://bucket/t").unwrap_err().to_string();
        assert_eq!(
            e,
            "table 'gs://bucket/t': the `gs` scheme is not supported (local paths, file:// and s3:// only)"
        );
    }

    #[test]
    fn txn_versions_are_read_per_app_and_missing_ones_are_none() {
        use crate::delta::ops::options::WriteOptions;
        use crate::delta::ops::testing::{rows, scratch};
        use crate::delta::ops::writer::TableWriter;
        let t = scratch("txn-version");
        assert_eq!(txn_version(&t, "silver").unwrap(), None);
        let b = rows(0..3);
        let opts = WriteOptions {
            txn: Some(("silver".into(), 7)),
            ..Default::default()
        };
        let mut w = TableWriter::start(&t, opts, b.schema()).unwrap();
        w.write(b).unwrap();
        w.commit().unwrap();
        assert_eq!(txn_version(&t, "silver").unwrap(), Some(7));
        assert_eq!(txn_version(&t, "gold").unwrap(), None);
    }

    #[test]
    fn a_file_is_not_a_table() {
        let dir = std::env::temp_dir().join(format!("medallion-file-{}", std::process::id()));
        std::fs::write(&dir, b"x").unwrap();
        let e = table_url(dir.to_str().unwrap()).unwrap_err().to_string();
        std::fs::remove_file(&dir).unwrap();
        assert!(e.contains("is a file"), "{e}");
    }

    #[test]
    fn opening_a_missing_table_names_it() {
        let dir = std::env::temp_dir().join(format!("medallion-missing-{}", std::process::id()));
        let p = dir.to_str().unwrap().to_string();
        let e = block_on(open(&p, &At::Latest)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("table '{p}': ")), "{e}");
    }
}
