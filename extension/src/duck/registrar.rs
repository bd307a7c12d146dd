//! The handles registration needs while `LOAD` runs, and the one method
//! that registers a capability's [`Function`] or [`Setting`].

use duckdb::{ffi, Connection};

use super::function::Function;
use super::settings::{self, Setting};
use crate::error::{Error, Result};

/// duckdb-rs's `Connection` for what duckdb-rs can register (table
/// functions), a raw connection for what needs the C API directly (scalar
/// binds, settings, aggregates, COPY), and the database handle (replacement
/// scans). Valid only during LOAD: the database handle DuckDB gives the entry
/// point is freed when LOAD returns, so nothing registered may keep any.
pub struct Registrar {
    con: Connection,
    raw: RawConnection,
    db: ffi::duckdb_database,
}

impl Registrar {
    /// # Safety
    /// `db` must be the live database handle DuckDB passed to the entry point.
    pub(crate) unsafe fn new(db: ffi::duckdb_database) -> Result<Self> {
        let failed = |reason: String| Error::Registration {
            name: "connection".into(),
            reason,
        };
        // SAFETY: `db` is live (caller's contract).
        let con = unsafe { Connection::open_from_raw(db) }.map_err(|e| failed(e.to_string()))?;
        // SAFETY: as above.
        let raw = unsafe { RawConnection::open(db) }.map_err(failed)?;
        Ok(Self { con, raw, db })
    }

    /// Registers one SQL function (scalar, aggregate, table, COPY format or
    /// replacement scan).
    pub fn function(&self, f: &Function) -> Result<()> {
        f.register(self)
    }

    /// Registers one setting as a DuckDB config option.
    pub fn setting(&self, s: &Setting) -> Result<()> {
        settings::register(self, s)
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.con
    }

    pub(crate) fn raw(&self) -> ffi::duckdb_connection {
        self.raw.0
    }

    pub(crate) fn database(&self) -> ffi::duckdb_database {
        self.db
    }
}

/// A connection opened on the database that is loading the extension, used
/// only during `LOAD`; disconnected on drop.
pub(crate) struct RawConnection(pub ffi::duckdb_connection);

impl RawConnection {
    /// # Safety
    /// `db` must be the live database handle passed to the entry point.
    unsafe fn open(db: ffi::duckdb_database) -> std::result::Result<Self, String> {
        let mut con: ffi::duckdb_connection = std::ptr::null_mut();
        // SAFETY: `db` is live (caller's contract); `con` is written on success.
        if unsafe { ffi::duckdb_connect(db, &mut con) } != ffi::DuckDBSuccess {
            return Err("duckdb_connect failed".into());
        }
        Ok(Self(con))
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: opened by `duckdb_connect`, disconnected once.
        unsafe { ffi::duckdb_disconnect(&mut self.0) };
    }
}

/// The error of a registration DuckDB refused.
pub(crate) fn refused(name: &str, what: &str) -> Error {
    Error::Registration {
        name: name.to_string(),
        reason: what.to_string(),
    }
}
