//! A table function's result written the way SQL writes a column list
//! (`version BIGINT, path VARCHAR`), turned into the Arrow schema its
//! batches must follow.
//!
//! One string per function reads like the result it describes (and like
//! DuckDB's `DESCRIBE` of it), where a slice of `(name, type)` tuples spent
//! a line on each column and looked the same in every function.

use std::sync::Arc;

use arrow59::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};

/// The Arrow type of a declared column's SQL type (any case); `None` for a
/// type no batch function needs.
fn arrow_type(sql: &str) -> Option<DataType> {
    Some(match sql.to_ascii_uppercase().as_str() {
        "BIGINT" => DataType::Int64,
        "DOUBLE" => DataType::Float64,
        "BOOLEAN" => DataType::Boolean,
        "VARCHAR" => DataType::Utf8,
        "TIMESTAMPTZ" => timestamp_tz(),
        _ => return None,
    })
}

/// DuckDB's TIMESTAMPTZ as an Arrow type (microseconds, UTC).
pub fn timestamp_tz() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Parses `columns` (`name TYPE, name TYPE, ...`; types as in
/// [`arrow_type`]) into a schema of nullable fields, in order. A malformed
/// list or an unknown type is our own bug, reported as an internal error of
/// `function`.
pub fn parse(function: &str, columns: &str) -> Result<SchemaRef> {
    let fail = |message: String| Error::Internal {
        context: function.to_string(),
        message: format!("result columns `{columns}`: {message}"),
    };
    let fields = columns
        .split(',')
        .map(|column| {
            let words: Vec<&str> = column.split_whitespace().collect();
            let [name, sql] = words[..] else {
                return Err(fail(format!("`{}` is not `name TYPE`", column.trim())));
            };
            let arrow = arrow_type(sql)
                .ok_or_else(|| fail(format!("unknown type `{sql}` of column `{name}`")))?;
            Ok(Field::new(name, arrow, true))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(columns: &str) -> Vec<(String, DataType)> {
        let schema = parse("f", columns).unwrap();
        let fields = schema.fields().iter();
        fields
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    }

    #[test]
    fn every_type_reads_as_its_arrow_type_in_order() {
        let got = described("v BIGINT, x double,ok BOOLEAN,  s VARCHAR, t TIMESTAMPTZ");
        let want = [
            ("v", DataType::Int64),
            ("x", DataType::Float64),
            ("ok", DataType::Boolean),
            ("s", DataType::Utf8),
            ("t", timestamp_tz()),
        ]
        .map(|(n, t)| (n.to_string(), t));
        assert_eq!(got, want);
        assert!(parse("f", "v BIGINT").unwrap().field(0).is_nullable());
    }

    #[test]
    fn a_malformed_list_or_unknown_type_is_an_internal_error_naming_it() {
        for (columns, says) in [
            ("v INTEGER", "unknown type `INTEGER` of column `v`"),
            ("v BIGINT, ", "`` is not `name TYPE`"),
            ("v", "`v` is not `name TYPE`"),
            (
                "v BIGINT NOT NULL",
                "`v BIGINT NOT NULL` is not `name TYPE`",
            ),
        ] {
            let e = parse("delta_files", columns).unwrap_err().to_string();
            let want = format!("delta_files: internal error: result columns `{columns}`: {says}");
            assert_eq!(e, want);
        }
    }
}
