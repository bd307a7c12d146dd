//! The one place that registers every SQL function of the extension.
//!
//! Each capability module exposes `register(&Connection)`; adding a function
//! means adding its file to its module and one line there.

use duckdb::vscalar::VScalar;
use duckdb::Connection;

use crate::duck::raw::RawConnection;
use crate::error::{Error, Result};

/// Registers every SQL function medallion provides. `raw` is a raw connection
/// to the same database for what duckdb-rs cannot register (aggregates).
pub fn all(con: &Connection, raw: &RawConnection) -> Result<()> {
    crate::core::register(con)?;
    crate::delta::register(con, raw)?;
    Ok(())
}

/// Registers one scalar function, attaching its name to any failure.
pub fn scalar<F: VScalar>(con: &Connection, name: &'static str) -> Result<()>
where
    F::State: Default,
{
    con.register_scalar_function::<F>(name)
        .map_err(|source| Error::Register { name, source })
}
