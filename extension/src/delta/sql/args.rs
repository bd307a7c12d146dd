//! What the Delta SQL functions share at bind: the table path argument
//! (NULL refused, external access checked), time travel, and the shape of
//! their errors (`fn: table 'path': message`).

use crate::delta::ops::error::err;
use crate::delta::ops::table::{parse_timestamp, At};
use crate::duck::{Access, Constant, Refused, TableBind};
use crate::error::{Error, Result};

/// What a function does with the table at its path.
#[derive(Clone, Copy)]
pub enum Use {
    Read,
    Write,
}

/// Checks `use_` of the table at `path` against `access`; a refusal reads
/// `function: table 'path': file system access is disabled (...)`.
pub fn check(function: &'static str, access: &Access, path: &str, use_: Use) -> Result<()> {
    let allowed = match use_ {
        Use::Read => access.read(path),
        Use::Write => access.write(path),
    };
    allowed.map_err(|r| refused(function, path, &r))
}

/// A refusal in the shape of every Delta error.
pub fn refused(function: &'static str, path: &str, r: &Refused) -> Error {
    err(path, r).in_function(function)
}

/// The positional path argument, after the access check.
pub fn path(function: &'static str, b: &TableBind, use_: Use) -> Result<String> {
    let Some(path) = b.positional(0).text() else {
        return Err(Error::InvalidArgument {
            function,
            argument: "path",
            reason: "the table path is NULL".into(),
        });
    };
    check(function, b.access(), &path, use_)?;
    Ok(path)
}

/// `version := N` or `as_of := TIMESTAMPTZ` (not both) → which snapshot to read.
pub fn time_travel(function: &'static str, path: &str, b: &TableBind) -> Result<At> {
    let version = b.named_as("version", Constant::i64);
    let ts = b.named_as("as_of", Constant::text);
    let fail = |m: String| err(path, m).in_function(function);
    match (version, ts) {
        (Some(_), Some(_)) => Err(fail("give either version or as_of, not both".into())),
        (Some(v), None) => Ok(At::Version(v)),
        (None, Some(t)) => parse_timestamp(&t).map(At::Timestamp).ok_or_else(|| {
            fail(format!(
                "cannot read timestamp '{t}' (use e.g. '2026-01-31 12:00:00+00')"
            ))
        }),
        (None, None) => Ok(At::Latest),
    }
}
