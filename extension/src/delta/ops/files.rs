//! The data files of a version, from the log: path, size, row count,
//! partition values and the per-file column statistics
//! (`{"numRecords", "minValues", "maxValues", "nullCount"}`, JSON text).

use super::error::Result;
use super::table::{block_on, enter, open, snapshot, At};

/// One data file of a version.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Relative to the table root, as the log writes it.
    pub path: String,
    pub size: i64,
    pub num_records: Option<i64>,
    /// JSON object text: partition column → value.
    pub partition_values: String,
    /// JSON text of the `add` action's stats, if it has any.
    pub stats: Option<String>,
}

/// The files of the table at `path` in version `at`.
pub fn files(path: &str, at: &At) -> Result<Vec<DataFile>> {
    let _rt = enter();
    let t = block_on(open(path, at))?;
    let snap = snapshot(path, &t)?;
    Ok(snap
        .log_data()
        .iter()
        .map(|f| DataFile {
            path: f.path().to_string(),
            size: f.size(),
            num_records: f.num_records().map(|n| n as i64),
            partition_values: serde_json::to_string(&f.partition_values_map()).unwrap_or_default(),
            stats: f.stats(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::testing::table_of;

    #[test]
    fn each_version_lists_its_files_with_counts_and_stats() {
        let t = table_of("files", &[10, 5]);
        let v0 = files(&t, &At::Version(0)).unwrap();
        let now = files(&t, &At::Latest).unwrap();
        assert_eq!(v0.len(), 1);
        assert_eq!(now.len(), 2);
        let rows: i64 = now.iter().filter_map(|f| f.num_records).sum();
        assert_eq!(rows, 15);
        assert!(now
            .iter()
            .all(|f| f.stats.as_deref().is_some_and(|s| s.contains("minValues"))));
        assert_eq!(now[0].partition_values, "{}");
    }
}
