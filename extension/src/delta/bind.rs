//! Shared bind-time helpers for the Delta table functions: the path argument
//! (NULL refused), DuckDB's `enable_external_access` (refused when false),
//! and named-parameter readers.

use duckdb::vtab::BindInfo;

use super::table::{err, At};
use crate::error::{Error, Result};

/// Reads the positional path argument and checks file access is allowed.
pub fn path(function: &'static str, bind: &BindInfo) -> Result<String> {
    let v = bind.get_parameter(0);
    if v.is_null() {
        return Err(Error::InvalidArgument {
            function,
            argument: "path",
            reason: "the table path is NULL".into(),
        });
    }
    let path = v.to_string();
    external_access(function, &path, bind)?;
    Ok(path)
}

/// Refuses to run when the database disabled external access.
pub fn external_access(function: &'static str, path: &str, bind: &BindInfo) -> Result<()> {
    if let Some(v) = bind.get_config_option("enable_external_access") {
        let enabled = v.is_null() || v.to_bool();
        crate::access::observe(enabled);
        if !enabled {
            return Err(err(function, path, crate::access::REFUSAL));
        }
    }
    Ok(())
}

/// Optional named BIGINT parameter.
pub fn named_i64(bind: &BindInfo, name: &str) -> Option<i64> {
    bind.get_named_parameter(name)
        .filter(|v| !v.is_null())
        .map(|v| v.to_int64())
}

/// Optional named VARCHAR parameter.
pub fn named_str(bind: &BindInfo, name: &str) -> Option<String> {
    bind.get_named_parameter(name)
        .filter(|v| !v.is_null())
        .map(|v| v.to_string())
}

/// Optional named BOOLEAN parameter.
pub fn named_bool(bind: &BindInfo, name: &str) -> Option<bool> {
    bind.get_named_parameter(name)
        .filter(|v| !v.is_null())
        .map(|v| v.to_bool())
}

/// `version := N` or `as_of := TIMESTAMPTZ` (not both) → which snapshot to read.
pub fn time_travel(function: &'static str, path: &str, bind: &BindInfo) -> Result<At> {
    let version = named_i64(bind, "version");
    let ts = named_str(bind, "as_of");
    match (version, ts) {
        (Some(_), Some(_)) => Err(err(
            function,
            path,
            "give either version or as_of, not both",
        )),
        (Some(v), None) => Ok(At::Version(v)),
        (None, Some(t)) => parse_timestamp(&t).map(At::Timestamp).ok_or_else(|| {
            err(
                function,
                path,
                format!("cannot read timestamp '{t}' (use e.g. '2026-01-31 12:00:00+00')"),
            )
        }),
        (None, None) => Ok(At::Latest),
    }
}

/// RFC 3339, DuckDB's TIMESTAMPTZ text (`2026-01-31 12:00:00.5+00`), or a
/// naive timestamp/date taken as UTC.
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn timestamps_in_the_usual_spellings() {
        let want = parse_timestamp("2026-01-31T12:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-01-31 12:00:00+00").unwrap(), want);
        assert_eq!(parse_timestamp("2026-01-31 13:00:00+01:00").unwrap(), want);
        assert_eq!(parse_timestamp("2026-01-31 12:00:00").unwrap(), want);
        assert!(parse_timestamp("2026-01-31").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
