//! A table's files through its object store: the local filesystem or S3,
//! whichever the table's URL names (delta-rs builds the store; for S3 from
//! the standard `AWS_*` variables: keys, region, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP`). What the Delta log does not say — which commit files
//! exist, their bytes and times, data files nobody references — is read and
//! deleted here, so every operation works on both without a local path.
//! Paths are relative to the table's root, as the log writes them.

use std::sync::Arc;

use deltalake::logstore::object_store::path::Path as StorePath;
use deltalake::logstore::object_store::{self, ObjectMeta, ObjectStore, ObjectStoreExt};
use deltalake::DeltaTableBuilder;
use futures::TryStreamExt;
use url::Url;

use super::error::{err, Result};
use super::table::{block_on, describe, enter, table_url};

/// One table's object store, rooted at the table.
pub struct TableStore {
    path: String,
    pub url: Url,
    store: Arc<dyn ObjectStore>,
}

/// A file under the table's root: its path relative to the root, size and
/// last modification time (ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub path: String,
    pub size: u64,
    pub modified_ms: i64,
}

impl TableStore {
    /// The store of the table at `path` (the table need not exist).
    pub fn open(path: &str) -> Result<TableStore> {
        let url = table_url(path)?;
        TableStore::at(path, url)
    }

    /// The store of the table at `url` (`path`: how the caller named it).
    pub fn at(path: &str, url: Url) -> Result<TableStore> {
        let _rt = enter();
        let table = DeltaTableBuilder::from_url(url.clone())
            .and_then(|b| b.build())
            .map_err(|e| err(path, describe(&e)))?;
        Ok(TableStore {
            path: path.to_string(),
            url,
            store: table.log_store().object_store(None),
        })
    }

    /// Every file under `prefix` (relative to the root, e.g. `_delta_log`;
    /// empty: the whole table), in no particular order. A prefix with no
    /// files (or none at all) lists nothing.
    pub fn list(&self, prefix: &str) -> Result<Vec<StoredFile>> {
        let _rt = enter();
        let prefix = (!prefix.is_empty()).then(|| StorePath::from(prefix));
        let metas: Vec<ObjectMeta> = block_on(self.store.list(prefix.as_ref()).try_collect())
            .map_err(|e| err(&self.path, format!("cannot list the table's files: {e}")))?;
        Ok(metas
            .into_iter()
            .map(|m| StoredFile {
                path: m.location.to_string(),
                size: m.size,
                modified_ms: m.last_modified.timestamp_millis(),
            })
            .collect())
    }

    /// The bytes of `file`; `None` when it does not exist.
    pub fn read(&self, file: &str) -> Result<Option<bytes::Bytes>> {
        let _rt = enter();
        let location = StorePath::from(file);
        let got = block_on(async {
            match self.store.get(&location).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        got.map_err(|e| err(&self.path, format!("cannot read {file}: {e}")))
    }

    /// Deletes `file` (already gone is fine).
    pub fn delete(&self, file: &str) -> Result<()> {
        let _rt = enter();
        match block_on(self.store.delete(&StorePath::from(file))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(&self.path, format!("cannot delete {file}: {e}"))),
        }
    }
}

/// Deletes data files that will not be committed (best effort: what is left
/// is in no version, and `delta_vacuum` removes it).
pub fn discard<'a>(url: &Url, files: impl IntoIterator<Item = &'a str>) {
    if let Ok(store) = TableStore::at(url.as_str(), url.clone()) {
        for f in files {
            let _ = store.delete(f);
        }
    }
}
