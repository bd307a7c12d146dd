//! `landing_files(pattern [, known := [...]])` → `file, size_bytes,
//! modified, kind, complete`: what is in the landing directory, described
//! without opening anything but a regular file's last byte (see
//! [`crate::ingest::listing`]); paths in `known` (what a caller has taken
//! already) are left out unlooked-at. Bronze records `size_bytes` and hands
//! it to `landing_lines` so a file that grows later is read as listed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow59::array::{ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};

use crate::duck::{BatchFunction, TableBind, TypeId};
use crate::error::{Error, Result};
use crate::ingest::listing::list;
use crate::ingest::pattern::Pattern;

pub const NAME: &str = "landing_files";

pub struct LandingFiles;

impl BatchFunction for LandingFiles {
    const NAME: &'static str = NAME;
    const COLUMNS: &'static str =
        "file VARCHAR, size_bytes BIGINT, modified TIMESTAMPTZ, kind VARCHAR, complete BOOLEAN";
    const PARAMETERS: &'static [TypeId] = &[TypeId::Varchar];
    /// ANY: a LIST id names no child type; bind reads it as text items.
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[("known", TypeId::Any)];
    type Args = (Pattern, HashSet<String>);

    fn bind(b: &TableBind) -> Result<(Pattern, HashSet<String>)> {
        let Some(text) = b.positional(0).text() else {
            return Err(Error::InvalidArgument {
                function: NAME,
                argument: "pattern",
                reason:
                    "is NULL (give a directory and a file-name pattern, as in 'landing/*.json')"
                        .into(),
            });
        };
        let pattern = Pattern::parse(&text).map_err(|e| e.in_function(NAME, "pattern"))?;
        b.access()
            .read(pattern.directory())
            .map_err(|r| r.error(NAME))?;
        let known = match b.named("known") {
            None => HashSet::new(),
            Some(v) => v
                .texts()
                .ok_or_else(|| Error::InvalidArgument {
                    function: NAME,
                    argument: "known",
                    reason: "must be a list of paths (VARCHAR[])".into(),
                })?
                .into_iter()
                .collect(),
        };
        Ok((pattern, known))
    }

    fn run((pattern, known): &(Pattern, HashSet<String>)) -> Result<Vec<ArrayRef>> {
        let entries = list(pattern, known).map_err(|e| e.in_function(NAME, "pattern"))?;
        Ok(vec![
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| &e.path),
            )),
            Arc::new(Int64Array::from_iter(
                entries.iter().map(|e| e.size.map(|s| s as i64)),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter(
                    entries.iter().map(|e| e.modified.map(micros)),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| e.kind.as_str()),
            )),
            Arc::new(BooleanArray::from_iter(
                entries.iter().map(|e| Some(e.complete)),
            )),
        ])
    }
}

/// Microseconds since the Unix epoch (negative before it).
fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}
