//! The one place that registers every SQL function and setting.
//!
//! Each capability module exposes `register(&Registrar)`; adding a function
//! means adding its file to its module and one line there.

use duckdb::vscalar::VScalar;
use duckdb::{ffi, Connection};

use crate::duck::raw::RawConnection;
use crate::duck::scalar::{self, BoundScalar};
use crate::error::{Error, Result};

/// The handles registration needs: duckdb-rs's `Connection` for what
/// duckdb-rs can register, and a raw connection for what needs the C API
/// directly (scalar binds, settings, aggregates).
pub struct Registrar {
    con: Connection,
    raw: RawConnection,
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
        let raw = unsafe { RawConnection::open(db) }.map_err(|reason| Error::Registration {
            name: "connection",
            reason,
        })?;
        Ok(Self { con, raw, db })
    }

    /// duckdb-rs's connection, for `register_scalar_function` and friends.
    pub fn connection(&self) -> &Connection {
        &self.con
    }

    /// The raw connection, for C API registrations. Valid only during LOAD:
    /// the database handle DuckDB gives the entry point is freed when LOAD
    /// returns, so nothing registered may keep either.
    pub fn raw(&self) -> ffi::duckdb_connection {
        self.raw.0
    }

    /// The database handle, for registrations made on the database rather
    /// than a connection (replacement scans). Valid only during LOAD.
    pub fn database(&self) -> ffi::duckdb_database {
        self.db
    }

    /// The same connection as its owning wrapper, for helpers that take it.
    pub fn raw_connection(&self) -> &RawConnection {
        &self.raw
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

/// Registers every setting and SQL function medallion provides.
pub fn all(r: &Registrar) -> Result<()> {
    crate::settings::register(r, crate::settings::ALL)?;
    crate::core::register(r)?;
    crate::chart::register(r)?;
    crate::delta::register(r)?;
    crate::mlflow::register(r)?;
    crate::sentiment::register(r)?;
    Ok(())
}
