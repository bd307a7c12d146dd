//! The extension's version and the commit it was built from: what
//! `medallion_version()` returns and what every commit medallion writes to a
//! Delta log records as its engine.

/// The crate version from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit recorded by build.rs (`unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("MEDALLION_GIT_COMMIT");

/// `0.1.0 (3f2a9c1d4e5b)`.
pub fn version_string() -> String {
    format!("{VERSION} ({GIT_COMMIT})")
}

/// The engine name written into Delta commits (`engineInfo`).
pub fn engine_info() -> String {
    format!("medallion {}", version_string())
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
        assert_eq!(engine_info(), format!("medallion {v}"));
    }
}
