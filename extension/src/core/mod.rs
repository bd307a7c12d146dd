//! Functions about the extension itself, not tied to one capability. The
//! library side is [`crate::version`].

pub mod sql;

use crate::duck::Function;

/// This capability's SQL functions.
pub fn functions() -> Vec<Function> {
    vec![Function::scalar::<sql::medallion_version::MedallionVersion>()]
}
