//! Opening Delta tables: path → URL, the async runtime, time travel, and the
//! error wording shared by every Delta function. Plain Rust, no DuckDB.

use std::future::Future;
use std::path::Path;
use std::sync::OnceLock;

use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use url::Url;

use crate::error::Error;

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

/// Builds the error every Delta function reports: `fn: table 'path': message`.
pub fn err(function: &'static str, table: &str, message: impl std::fmt::Display) -> Error {
    Error::Delta {
        function,
        table: table.to_string(),
        message: message.to_string(),
    }
}

/// Turns a table location as written in SQL into a URL. Plain paths are local
/// (relative to the working directory); `file://` and other URLs pass through.
pub fn table_url(function: &'static str, path: &str) -> Result<Url, Error> {
    if path.trim().is_empty() {
        return Err(err(function, path, "the table path is empty"));
    }
    if path.contains("://") {
        let url = Url::parse(path).map_err(|e| err(function, path, format!("invalid URL: {e}")))?;
        if url.scheme() != "file" {
            return Err(err(
                function,
                path,
                format!(
                    "the `{}` scheme is not supported by this build (local paths and file:// only)",
                    url.scheme()
                ),
            ));
        }
        return Ok(ensure_dir_url(url));
    }
    let abs = std::path::absolute(Path::new(path))
        .map_err(|e| err(function, path, format!("invalid path: {e}")))?;
    if abs.is_file() {
        return Err(err(
            function,
            path,
            "the path is a file, not a Delta table directory",
        ));
    }
    Url::from_directory_path(&abs).map_err(|_| err(function, path, "invalid path"))
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

/// Whether a load error means "there is no table here" (as opposed to a broken one).
pub fn is_missing(e: &DeltaTableError) -> bool {
    matches!(e, DeltaTableError::NotATable(_))
        || e.to_string().contains("No files in log segment")
        || e.to_string().contains("not a Delta table")
        || e.to_string().contains("Path does not exist")
}

/// Opens an existing table at `at`; a missing table or bad version is an error
/// naming the table.
pub async fn open(function: &'static str, path: &str, at: &At) -> Result<DeltaTable, Error> {
    let url = table_url(function, path)?;
    let mut builder = DeltaTableBuilder::from_url(url).map_err(|e| err(function, path, e))?;
    builder = match at {
        At::Latest => builder,
        At::Version(v) => {
            if *v < 0 {
                return Err(err(function, path, format!("version {v} is negative")));
            }
            builder.with_version(*v as _)
        }
        At::Timestamp(ts) => builder.with_timestamp(*ts),
    };
    match builder.load().await {
        Ok(t) => Ok(t),
        Err(e) if is_missing(&e) => Err(err(
            function,
            path,
            "no Delta table at this path (no _delta_log)",
        )),
        Err(e) if *at != At::Latest => {
            // Name the versions that exist instead of the kernel's log-segment text.
            let latest = match DeltaTableBuilder::from_url(url_again(function, path)?) {
                Ok(b) => b.load().await.ok().and_then(|t| t.version()),
                Err(_) => None,
            };
            Err(err(
                function,
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
        Err(e) => Err(err(function, path, describe(&e))),
    }
}

fn url_again(function: &'static str, path: &str) -> Result<Url, Error> {
    table_url(function, path)
}

/// Opens the latest version if a table exists; `Ok(None)` when there is none.
pub async fn open_if_exists(
    function: &'static str,
    path: &str,
    url: &Url,
) -> Result<Option<DeltaTable>, Error> {
    let builder = DeltaTableBuilder::from_url(url.clone()).map_err(|e| err(function, path, e))?;
    let table = builder.build().map_err(|e| err(function, path, e))?;
    let exists = table
        .verify_deltatable_existence()
        .await
        .map_err(|e| err(function, path, describe(&e)))?;
    if !exists {
        return Ok(None);
    }
    let mut table = table;
    match table.load().await {
        Ok(()) => Ok(Some(table)),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(err(function, path, describe(&e))),
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
    let cannot_write = [
        "Permission denied",
        "Operation not permitted",
        "Read-only file system",
        "Unable to create dir",
    ];
    if cannot_write.iter().any(|m| s.contains(m)) {
        return format!("cannot write to this location: {s}");
    }
    let corrupt = [
        "Json error",
        "Invalid JSON",
        "invalid json",
        "expected value",
        "EOF while parsing",
    ];
    if corrupt.iter().any(|m| s.contains(m)) {
        return format!("the transaction log (_delta_log) is corrupt: {s}");
    }
    s
}

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
    fn local_paths_become_directory_urls() {
        let u = table_url("t", "lake/bronze").unwrap();
        assert_eq!(u.scheme(), "file");
        assert!(u.path().ends_with("/lake/bronze/"), "{u}");
    }

    #[test]
    fn file_urls_pass_and_other_schemes_are_refused() {
        assert!(table_url("t", "file:///tmp/x")
            .unwrap()
            .path()
            .ends_with("/x/"));
        let e = table_url("delta_read", "s3://bucket/t")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("delta_read: table 's3://bucket/t': "), "{e}");
        assert!(e.contains("s3"), "{e}");
    }

    #[test]
    fn a_file_is_not_a_table() {
        let dir = std::env::temp_dir().join(format!("medallion-file-{}", std::process::id()));
        std::fs::write(&dir, b"x").unwrap();
        let e = table_url("delta_write", dir.to_str().unwrap())
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&dir).unwrap();
        assert!(e.contains("is a file"), "{e}");
    }

    #[test]
    fn opening_a_missing_table_names_it() {
        let dir = std::env::temp_dir().join(format!("medallion-missing-{}", std::process::id()));
        let p = dir.to_str().unwrap().to_string();
        let e = block_on(open("delta_read", &p, &At::Latest))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("delta_read: table '{p}': ")), "{e}");
    }
}
