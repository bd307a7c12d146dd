//! Charts for the pipeline's analyses, drawn to PNG files from SQL.

pub mod draw;
pub mod medallion_chart;

use crate::error::Result;
use crate::register::Registrar;

/// Registers this module's SQL functions.
pub fn register(r: &Registrar) -> Result<()> {
    r.bound_scalar::<medallion_chart::MedallionChart>()
}
