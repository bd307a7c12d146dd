//! `landing_lines(files [, sizes := [...]] [, max_line_bytes := n])` →
//! `file, line_no, byte_offset, line, problem`: the non-blank lines of each
//! file, and a row for every problem instead of an error (see
//! [`crate::ingest::lines`] for the rules).
//!
//! Arguments are checked at bind, as is external access for every file (a
//! refused file fails the query: that is policy, not data). The scan streams:
//! batches of at most 2,048 rows and about 16 MiB of line text.

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Builder, StringBuilder};

use crate::duck::{columns, Bound, Constant, TableBind, TableFunction, TypeId};
use crate::error::{Error, Result};
use crate::ingest::lines::{Content, LandingLines, Source, DEFAULT_MAX_LINE_BYTES};

pub const NAME: &str = "landing_lines";

/// The largest `max_line_bytes` accepted: a line must fit one Arrow string
/// column (32-bit offsets) together with the rest of its batch.
const MAX_LINE_BYTES_LIMIT: i64 = 1 << 30;
const BATCH_ROWS: usize = 2048;
/// A batch ends once its lines hold this many bytes.
const BATCH_BYTES: usize = 16 << 20;

pub struct LandingLinesFn;

pub struct Args {
    sources: Arc<[Source]>,
    max_line_bytes: u64,
}

impl TableFunction for LandingLinesFn {
    const NAME: &'static str = NAME;
    /// ANY: table function parameters are declared by type id, and a LIST id
    /// names no child type; bind checks it is a list.
    const PARAMETERS: &'static [TypeId] = &[TypeId::Any];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] =
        &[("sizes", TypeId::Any), ("max_line_bytes", TypeId::Bigint)];
    type Bind = Args;
    type Scan = LandingLines;

    fn bind(b: &TableBind) -> Result<Bound<Args>> {
        let files = list("files", &b.positional(0))?;
        let paths = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                f.text()
                    .ok_or_else(|| invalid("files", format!("item {} is NULL", i + 1)))
            })
            .collect::<Result<Vec<String>>>()?;
        let sizes = match b.named("sizes") {
            None => vec![None; paths.len()],
            Some(c) => sizes(&list("sizes", &c)?, paths.len())?,
        };
        let max_line_bytes = match b.named_as("max_line_bytes", Constant::i64) {
            None => DEFAULT_MAX_LINE_BYTES,
            Some(n) if (1..=MAX_LINE_BYTES_LIMIT).contains(&n) => n as u64,
            Some(n) => {
                return Err(invalid(
                    "max_line_bytes",
                    format!("is {n}; it must be between 1 and {MAX_LINE_BYTES_LIMIT}"),
                ))
            }
        };
        for path in &paths {
            b.access().read(path).map_err(|r| r.error(NAME))?;
        }
        let sources: Arc<[Source]> = paths
            .into_iter()
            .zip(sizes)
            .map(|(path, size)| Source { path, size })
            .collect();
        Ok(Bound {
            schema: columns::parse(
                NAME,
                "file VARCHAR, line_no BIGINT, byte_offset BIGINT, line VARCHAR, problem VARCHAR",
            )?,
            rows: None,
            data: Args {
                sources,
                max_line_bytes,
            },
        })
    }

    fn init(args: &Args, _projection: &[usize]) -> Result<LandingLines> {
        Ok(LandingLines::new(args.sources.clone(), args.max_line_bytes))
    }

    fn next(args: &Args, reader: &mut LandingLines) -> Result<Option<Vec<ArrayRef>>> {
        let mut file = StringBuilder::new();
        let mut line_no = Int64Builder::with_capacity(BATCH_ROWS);
        let mut offset = Int64Builder::with_capacity(BATCH_ROWS);
        let mut line = StringBuilder::new();
        let mut problem = StringBuilder::new();
        let (mut rows, mut bytes) = (0, 0);
        while rows < BATCH_ROWS && bytes < BATCH_BYTES {
            let Some(row) = reader.next_row() else { break };
            file.append_value(&args.sources[row.file].path);
            line_no.append_option(row.line_no.map(|n| n as i64));
            offset.append_option(row.byte_offset.map(|n| n as i64));
            match row.content {
                Content::Text(text) => {
                    bytes += text.len();
                    line.append_value(text);
                    problem.append_null();
                }
                Content::Problem(p) => {
                    line.append_null();
                    problem.append_value(p.to_string());
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        Ok(Some(vec![
            Arc::new(file.finish()),
            Arc::new(line_no.finish()),
            Arc::new(offset.finish()),
            Arc::new(line.finish()),
            Arc::new(problem.finish()),
        ]))
    }
}

/// The items of LIST argument `argument` (NULL items kept, in place).
fn list(argument: &'static str, value: &Constant) -> Result<Vec<Constant>> {
    if value.is_null() {
        return Err(invalid(argument, "is NULL; give a list (VARCHAR[])".into()));
    }
    value.items().ok_or_else(|| {
        invalid(
            argument,
            format!(
                "must be a list, as in ['landing/a.json'], got '{}'",
                value.text().unwrap_or_default()
            ),
        )
    })
}

/// `sizes`: one per file, each NULL (the whole file) or at least 0.
fn sizes(items: &[Constant], files: usize) -> Result<Vec<Option<u64>>> {
    if items.len() != files {
        return Err(invalid(
            "sizes",
            format!(
                "has {} items but files has {files}; give one size (or NULL) per file",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.i64() {
            None => Ok(None),
            Some(n) if n >= 0 => Ok(Some(n as u64)),
            Some(i64::MIN) => Err(invalid("sizes", format!("item {} is not a BIGINT", i + 1))),
            Some(n) => Err(invalid(
                "sizes",
                format!("item {} is {n}; a size cannot be negative", i + 1),
            )),
        })
        .collect()
}

fn invalid(argument: &'static str, reason: String) -> Error {
    Error::InvalidArgument {
        function: NAME,
        argument,
        reason,
    }
}
