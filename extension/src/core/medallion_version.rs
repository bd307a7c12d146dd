//! `medallion_version()` → VARCHAR: the extension version and the git commit
//! it was built from, e.g. `0.1.0 (3f2a9c1d4e5b)`.
//!
//! Users paste this into bug reports; tests use it to prove the extension
//! loaded.

use duckdb::core::{DataChunkHandle, Inserter, LogicalTypeId};
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

use crate::error::guard;

pub const NAME: &str = "medallion_version";

/// The crate version from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit recorded by build.rs (`unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("MEDALLION_GIT_COMMIT");

/// The text `medallion_version()` returns.
pub fn version_string() -> String {
    format!("{VERSION} ({GIT_COMMIT})")
}

pub struct MedallionVersion;

impl VScalar for MedallionVersion {
    type State = ();

    fn invoke(
        _: &Self::State,
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn std::error::Error>> {
        guard(NAME, || {
            let text = version_string();
            let out = output.flat_vector();
            // A constant function may still be called with a chunk of rows
            // (e.g. `SELECT medallion_version() FROM range(5)` when not folded).
            for row in 0..input.len().max(1) {
                out.insert(row, text.as_str());
            }
            Ok(())
        })?;
        Ok(())
    }

    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![],
            LogicalTypeId::Varchar.into(),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_string_holds_the_crate_version_and_a_commit() {
        let v = version_string();
        assert!(v.starts_with(&format!("{VERSION} (")), "{v}");
        assert!(v.ends_with(')'), "{v}");
        assert!(!GIT_COMMIT.is_empty());
    }
}
