//! `delta_version(path)` → BIGINT: the table's latest committed version,
//! NULL when there is no table yet. Reads only the log's file names, so a
//! streaming layer can pin the range it is about to read
//! (`delta_changes(path, n, until_version := delta_version(path))`) cheaply.

use super::lookup::Lookup;
use crate::delta::ops;
use crate::delta::ops::log::latest_version;

pub struct DeltaVersion;

impl Lookup for DeltaVersion {
    const NAME: &'static str = "delta_version";
    const ARGUMENTS: &'static [&'static str] = &["path"];

    fn lookup(args: &[&str]) -> ops::Result<Option<i64>> {
        latest_version(args[0])
    }
}
