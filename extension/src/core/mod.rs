//! Functions about the extension itself, not tied to one capability.

pub mod medallion_version;

use duckdb::Connection;

use crate::error::Result;
use crate::register::scalar;

/// Registers this module's SQL functions.
pub fn register(con: &Connection) -> Result<()> {
    scalar::<medallion_version::MedallionVersion>(con, medallion_version::NAME)
}
