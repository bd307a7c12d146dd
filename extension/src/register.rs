//! The one place that registers every SQL function and setting.
//!
//! Each capability module exposes `register(&Registrar)`; adding a function
//! means adding its file to its module and one line there.

use duckdb::vscalar::VScalar;
use duckdb::{ffi, Connection};

use crate::duck::scalar::{self, BoundScalar};
use crate::error::{Error, Result};

/// The handles registration needs: duckdb-rs's `Connection` for what
/// duckdb-rs can register, and a raw connection for what needs the C API
/// directly (scalar binds, settings, aggregates).
pub struct Registrar {
    con: Connection,
    raw: ffi::duckdb_connection,
    db: ffi::duckdb_database,
}

impl Registrar {
    /// # Safety
    /// `db` must be the live database handle DuckDB passed to the entry point.
    pub unsafe fn new(db: ffi::duckdb_database) -> Result<Self> {
        let con = unsafe { Connection::open_from_raw(db) }.map_err(|source| Error::Register {
            name: "connection",
            source,
        })?;
        let mut raw: ffi::duckdb_connection = std::ptr::null_mut();
        if unsafe { ffi::duckdb_connect(db, &mut raw) } != ffi::DuckDBSuccess {
            return Err(Error::Registration {
                name: "connection",
                reason: "could not open a connection to register functions".into(),
            });
        }
        Ok(Self { con, raw, db })
    }

    /// duckdb-rs's connection, for `register_scalar_function` and friends.
    pub fn connection(&self) -> &Connection {
        &self.con
    }

    /// The raw connection, for C API registrations.
    pub fn raw(&self) -> ffi::duckdb_connection {
        self.raw
    }

    /// The database handle (valid as long as the functions registered on it).
    pub fn database(&self) -> ffi::duckdb_database {
        self.db
    }

    /// Registers a duckdb-rs scalar function.
    pub fn scalar<F: VScalar>(&self, name: &'static str) -> Result<()>
    where
        F::State: Default,
    {
        self.con
            .register_scalar_function::<F>(name)
            .map_err(|source| Error::Register { name, source })
    }

    /// Registers one of our scalar functions with a bind step.
    pub fn bound_scalar<F: BoundScalar>(&self) -> Result<()> {
        scalar::register::<F>(self)
    }
}

impl Drop for Registrar {
    fn drop(&mut self) {
        // Registered functions live in the catalog; the connection used to
        // register them must not keep the database alive.
        unsafe { ffi::duckdb_disconnect(&mut self.raw) }
    }
}

/// Registers every setting and SQL function medallion provides.
pub fn all(r: &Registrar) -> Result<()> {
    crate::settings::register(r, crate::settings::ALL)?;
    crate::core::register(r)?;
    crate::sentiment::register(r)?;
    Ok(())
}
