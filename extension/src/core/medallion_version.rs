//! `medallion_version()` → VARCHAR: the extension version and the git commit
//! it was built from, e.g. `0.1.0 (3f2a9c1d4e5b)`.
//!
//! Users paste this into bug reports; tests use it to prove the extension
//! loaded. It goes through [`BoundScalar`], so every test that calls it also
//! exercises our raw bind/invoke path and its panic guard.

use duckdb::core::Inserter;
use duckdb::vtab::arrow::WritableVector;

use crate::duck::chunk::InputChunk;
use crate::duck::scalar::{Bind, BoundScalar, Signature};
use crate::duck::types::LogicalType;
use crate::error::Result;

/// The crate version from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit recorded by build.rs (`unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("MEDALLION_GIT_COMMIT");

/// The text `medallion_version()` returns.
pub fn version_string() -> String {
    format!("{VERSION} ({GIT_COMMIT})")
}

pub struct MedallionVersion;

impl BoundScalar for MedallionVersion {
    const NAME: &'static str = "medallion_version";
    type Bound = String;

    fn signatures() -> Vec<Signature> {
        vec![Signature {
            params: vec![],
            returns: LogicalType::varchar(),
        }]
    }

    fn bind(_: &Bind) -> Result<String> {
        Ok(version_string())
    }

    fn invoke(text: &String, input: &InputChunk, output: &mut dyn WritableVector) -> Result<()> {
        let out = output.flat_vector();
        // A zero-argument call may still arrive with a chunk of rows.
        for row in 0..input.len().max(1) {
            out.insert(row, text.as_str());
        }
        Ok(())
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
