//! The file operations of the local store, each failing with a [`Failure`]
//! that names the path: MLflow's file store is read by other processes
//! (`mlflow ui`, `MlflowClient`) while we write it, so whole files appear by
//! rename and metric files only grow.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::mlflow::tracking::{Failure, Outcome};

/// `file:///abs/path` with the characters a URI cannot hold escaped: how
/// MLflow's `meta.yaml` files name artifact locations and model sources.
pub fn file_uri(path: &Path) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = path.to_string_lossy();
    format!(
        "file://{}",
        percent_encoding::utf8_percent_encode(&text, KEEP)
    )
}

pub fn mkdirs(dir: &Path) -> Outcome<()> {
    fs::create_dir_all(dir).map_err(|e| Failure::io("cannot create directory", dir, &e))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Outcome<()> {
    if let Some(parent) = path.parent() {
        mkdirs(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    fs::write(&tmp, bytes).map_err(|e| Failure::io("cannot write", &tmp, &e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Failure::io("cannot write", path, &e)
    })
}

/// Appends `bytes` to `path` (created if missing): MLflow's metric files are
/// one line per value, and appending keeps earlier lines untouched.
pub fn append(path: &Path, bytes: &[u8]) -> Outcome<()> {
    if let Some(parent) = path.parent() {
        mkdirs(parent)?;
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Failure::io("cannot append to", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_escape_what_a_uri_cannot_hold() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/m%1")),
            "file:///tmp/a%20b/m%251"
        );
        assert_eq!(file_uri(Path::new("/x/y-z_1.~")), "file:///x/y-z_1.~");
    }
}
