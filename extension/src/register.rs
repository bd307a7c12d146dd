//! The one place that registers every SQL function and setting: each
//! capability hands its own over as plain data (`functions()`, `SETTINGS`),
//! and this loops over them. Adding a function means adding its file to its
//! capability and one entry to that capability's `functions()`.

use crate::duck::{Function, Registrar, Setting};
use crate::error::Result;

/// Every capability's settings and SQL functions, in registration order.
pub fn capabilities() -> Vec<(&'static [Setting], Vec<Function>)> {
    vec![
        (&[], crate::core::functions()),
        (&[], crate::chart::functions()),
        (&[], crate::delta::functions()),
        (&[], crate::ingest::functions()),
        (crate::mlflow::SETTINGS, crate::mlflow::functions()),
        (crate::sentiment::SETTINGS, crate::sentiment::functions()),
    ]
}

/// Registers every setting and SQL function medallion provides.
pub fn all(r: &Registrar) -> Result<()> {
    let capabilities = capabilities();
    // Settings first: a function's bind may read any of them.
    for (settings, _) in &capabilities {
        for s in settings.iter() {
            r.setting(s)?;
        }
    }
    for (_, functions) in &capabilities {
        for f in functions {
            r.function(f)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duck::Kind;

    fn names(kind: Option<Kind>) -> Vec<&'static str> {
        capabilities()
            .iter()
            .flat_map(|(_, fs)| fs.iter())
            .filter(|f| kind.is_none_or(|k| f.kind() == k))
            .map(|f| f.name())
            .collect()
    }

    #[test]
    fn every_function_and_setting_name_is_unique() {
        let mut all = names(None);
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a function is listed twice: {all:?}");
        let mut settings: Vec<&str> = capabilities()
            .iter()
            .flat_map(|(s, _)| s.iter().map(|s| s.name))
            .collect();
        let n = settings.len();
        settings.sort();
        settings.dedup();
        assert_eq!(settings.len(), n);
    }

    #[test]
    fn every_function_passes_its_checks_before_load() {
        for (_, functions) in capabilities() {
            for f in functions {
                if let Err(e) = f.check() {
                    panic!("{e}");
                }
            }
        }
    }

    #[test]
    fn every_sql_function_and_setting_is_in_the_readme_reference() {
        let readme = include_str!("../../README.md");
        for kind in [Kind::Scalar, Kind::Aggregate, Kind::Table] {
            for name in names(Some(kind)) {
                assert!(
                    readme.contains(&format!("`{name}(")),
                    "README.md does not document `{name}(...)`"
                );
            }
        }
        for (settings, _) in capabilities() {
            for s in settings {
                assert!(
                    readme.contains(s.name),
                    "README.md does not mention {}",
                    s.name
                );
            }
        }
    }
}
