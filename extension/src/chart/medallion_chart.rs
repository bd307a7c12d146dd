//! `medallion_chart(path, title, kind, points)` → VARCHAR: draws a bar or
//! line chart of `points` (`LIST(STRUCT(x VARCHAR, y DOUBLE, series VARCHAR))`,
//! usually built with `list({'x': ..., 'y': ..., 'series': ...} ORDER BY ...)`)
//! into the PNG file `path` and returns the path.
//!
//! The file is written whole or not at all (temp file + rename). Like
//! DuckDB's own writers it refuses when `enable_external_access` is false.

use std::path::Path;

use duckdb::vtab::arrow::WritableVector;

use super::draw::{chart_png, Kind, Table};
use crate::duck::chunk::InputChunk;
use crate::duck::output;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::{Error, Result};

pub struct MedallionChart;

const NAME: &str = "medallion_chart";

fn points_type() -> LogicalType {
    LogicalType::list(&LogicalType::structure(&[
        ("x", LogicalType::varchar()),
        ("y", LogicalType::double()),
        ("series", LogicalType::varchar()),
    ]))
}

impl BoundScalar for MedallionChart {
    const NAME: &'static str = NAME;
    type Bound = ();

    fn signatures() -> Vec<Signature> {
        let v = LogicalType::varchar;
        vec![Signature {
            params: vec![v(), v(), v(), points_type()],
            returns: v(),
        }]
    }

    fn bind(b: &Bind) -> Result<()> {
        if b.setting("enable_external_access").as_deref() == Some("false") {
            return Err(Error::InvalidArgument {
                function: NAME,
                argument: "path",
                reason: "writing files is disabled (enable_external_access = false)".into(),
            });
        }
        Ok(())
    }

    fn invoke(_: &(), input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let paths = input.column(0).strings();
        let titles = input.column(1).strings();
        let kinds = input.column(2).strings();
        let lists = input.column(3);
        let (entries, points) = unsafe { (lists.list_entries(), lists.list_child()) };
        let (xs, ys, series) = unsafe {
            (
                points.struct_member(0).strings(),
                points.struct_member(1).values::<f64>(),
                points.struct_member(2).strings(),
            )
        };
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(path), Some(range)) = (paths[row].as_deref(), entries[row].clone()) else {
                continue; // NULL path or NULL points: NULL result, nothing written
            };
            let kind_text = kinds[row].as_deref().unwrap_or("bar");
            let kind = Kind::parse(kind_text).ok_or_else(|| Error::InvalidArgument {
                function: NAME,
                argument: "kind",
                reason: format!("'{kind_text}' is not a chart kind (use 'bar' or 'line')"),
            })?;
            let rows: Vec<(String, f64, String)> = range
                .filter(|&i| points.is_valid(i))
                .filter_map(|i| {
                    let x = xs[i].as_deref().unwrap_or("NULL").to_string();
                    let s = series[i].as_deref().unwrap_or("value").to_string();
                    Some((x, ys[i]?, s))
                })
                .collect();
            let title = titles[row].as_deref().unwrap_or("");
            let png = chart_png(title, kind, &Table::from_points(&rows)).map_err(|reason| {
                Error::Output {
                    function: NAME,
                    reason,
                }
            })?;
            write_atomically(Path::new(path), &png)?;
            results[row] = Some(path.to_string());
        }
        output::strings(output, &results);
        Ok(())
    }

    fn volatile() -> bool {
        true // it writes a file: never fold or deduplicate calls
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source: std::io::Error| Error::Io {
        function: NAME,
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
