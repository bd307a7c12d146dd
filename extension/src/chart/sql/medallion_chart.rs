//! `medallion_chart(path, title, kind, points)` → VARCHAR: draws a bar or
//! line chart of `points` (`LIST(STRUCT(x VARCHAR, y DOUBLE, series VARCHAR))`,
//! usually built with `list({'x': ..., 'y': ..., 'series': ...} ORDER BY ...)`)
//! into the PNG file `path` and returns the path.
//!
//! The file is written whole or not at all. Like DuckDB's own writers it
//! refuses when `enable_external_access` is false, unless the path is under
//! `allowed_directories`.

use std::borrow::Cow;
use std::path::Path;

use crate::chart::draw::{chart_png, Kind, Table};
use crate::chart::file::write_atomically;
use crate::duck::{Access, Bind, BoundScalar, InputChunk, LogicalType, Output, Signature};
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
    type Bound = Access;

    fn signatures() -> Vec<Signature> {
        let v = LogicalType::varchar;
        vec![Signature::new(vec![v(), v(), v(), points_type()], v())]
    }

    fn bind(b: &Bind) -> Result<Access> {
        Ok(b.access().clone())
    }

    fn invoke(access: &Access, input: &InputChunk, output: &mut Output) -> Result<()> {
        let paths = input.column(0).strings()?;
        let titles = input.column(1).strings()?;
        let kinds = input.column(2).strings()?;
        let points = input.column(3).struct_lists::<Cow<str>, f64, Cow<str>>()?;
        let mut results = vec![None; input.len()];
        for row in 0..input.len() {
            let (Some(path), Some(points)) = (paths[row].as_deref(), &points[row]) else {
                continue; // NULL path or NULL points: NULL result, nothing written
            };
            access.write(path).map_err(|r| r.error(NAME))?;
            let kind_text = kinds[row].as_deref().unwrap_or("bar");
            let kind = Kind::parse(kind_text).ok_or_else(|| Error::InvalidArgument {
                function: NAME,
                argument: "kind",
                reason: format!("'{kind_text}' is not a chart kind (use 'bar' or 'line')"),
            })?;
            let rows: Vec<(String, f64, String)> = points
                .iter()
                .filter_map(|(x, y, series)| {
                    let x = x.as_deref().unwrap_or("NULL").to_string();
                    let series = series.as_deref().unwrap_or("value").to_string();
                    Some((x, (*y)?, series))
                })
                .collect();
            let title = titles[row].as_deref().unwrap_or("");
            let png = chart_png(title, kind, &Table::from_points(&rows)).map_err(|reason| {
                Error::Output {
                    function: NAME,
                    reason,
                }
            })?;
            write_atomically(Path::new(path), &png).map_err(|source| Error::Io {
                function: NAME,
                path: path.to_string(),
                source,
            })?;
            results[row] = Some(path.to_string());
        }
        output.strings(&results);
        Ok(())
    }

    fn volatile() -> bool {
        true // it writes a file: never fold or deduplicate calls
    }
}
