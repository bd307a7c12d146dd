//! Functions about the extension itself, not tied to one capability.

pub mod medallion_version;

use crate::error::Result;
use crate::register::Registrar;

/// Registers this module's SQL functions.
pub fn register(r: &Registrar) -> Result<()> {
    r.bound_scalar::<medallion_version::MedallionVersion>()
}
