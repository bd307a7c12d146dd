//! Every name and path a user hands to MLflow, checked the same way whatever
//! the backend: keys, artifact paths, run ids, registered model names and
//! aliases.
//!
//! They live in one place because two backends need them for different
//! reasons: the local store turns these names into file and directory names
//! (so a check is what keeps `../` from escaping a run's directory), and the
//! REST backend uses them to refuse what a server would refuse anyway before
//! a request goes out, or to keep a downloaded tree inside its target.

use super::tracking::{Failure, Outcome};

/// Checks a param/metric/tag key the way MLflow does (letters, digits and
/// `_ - . / :` and spaces; no `..` segment, no leading `/`), so a key can
/// never escape a run's directory in the file store. `kind` names the key in
/// the message (`metric`, `tag`, ...).
pub fn check_key(kind: &str, key: &str) -> Outcome<()> {
    let bad_char = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || "_-. /:".contains(*c)));
    let problem = if key.is_empty() {
        Some("is empty".to_string())
    } else if key.len() > 250 {
        Some("is longer than 250 characters".to_string())
    } else if let Some(c) = bad_char {
        Some(format!(
            "contains {c:?} (allowed: letters, digits, `_-./:` and spaces)"
        ))
    } else if key.starts_with('/') || key.split('/').any(|s| s == ".." || s == ".") {
        Some("must be a relative path without `.` or `..` segments".to_string())
    } else {
        None
    };
    match problem {
        Some(p) => Err(Failure::rejected(format!(
            "invalid {kind} name {key:?}: {p}"
        ))),
        None => Ok(()),
    }
}

/// Checks a relative artifact path (`dir/file.png`): no absolute path, no
/// `..`, no empty segments.
pub fn check_artifact_path(path: &str) -> Outcome<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == ".." || s == ".")
    {
        return Err(Failure::rejected(format!(
            "invalid artifact path {path:?}: must be relative, `/`-separated, without `.` or `..`"
        )));
    }
    Ok(())
}

/// MLflow run ids: 32 hex digits from us, but MLflow accepts `[A-Za-z0-9_-]`.
/// A run id becomes a directory name in the local store and a query value
/// on a server.
pub fn check_run_id(run_id: &str) -> Outcome<()> {
    let ok = !run_id.is_empty()
        && run_id.len() <= 256
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Failure::rejected(format!("invalid run id {run_id:?}")))
    }
}

/// Registered model names become directory names: refuse what could escape.
pub fn check_model_name(name: &str) -> Outcome<()> {
    if name.trim().is_empty()
        || name.contains(['/', '\\', '\0', ':', '@'])
        || name.starts_with('.')
        || name.len() > 256
    {
        return Err(Failure::rejected(format!(
            "invalid registered model name {name:?}: must be non-empty, must not start with \
             `.` nor contain `/ \\ : @`"
        )));
    }
    Ok(())
}

/// MLflow's alias rule: letters, digits, `_` and `-`; `latest` and `v<n>`
/// are reserved (they already mean a version in a `models:/` URI).
pub fn check_alias(alias: &str) -> Outcome<()> {
    let reserved = alias.eq_ignore_ascii_case("latest")
        || (alias.len() > 1
            && alias.starts_with(['v', 'V'])
            && alias[1..].chars().all(|c| c.is_ascii_digit()));
    if alias.is_empty()
        || reserved
        || !alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Failure::rejected(format!(
            "invalid model alias {alias:?}: letters, digits, `_` and `-` only; `latest` \
             and `v<number>` are reserved"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_run_directory() {
        assert!(check_key("metric", "f1").is_ok());
        assert!(check_key("metric", "eval/f1 macro:pos").is_ok());
        for bad in ["", "../x", "a/../b", "/abs", "a\nb", "x;y", "./x"] {
            let e = check_key("metric", bad).unwrap_err();
            assert!(e.message.contains("invalid metric name"), "{bad}: {e}");
        }
    }

    #[test]
    fn artifact_paths_are_relative() {
        assert!(check_artifact_path("plots/cm.png").is_ok());
        for bad in ["", "/etc/passwd", "a/../../b", "a//b", "a\\b"] {
            assert!(check_artifact_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_ids_are_plain_names() {
        assert!(check_run_id("0123456789abcdef0123456789abcdef").is_ok());
        assert!(check_run_id("my_run-1").is_ok());
        for bad in ["", "../../etc", "a/b", "a b", &"x".repeat(257)] {
            assert!(check_run_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn model_names_cannot_escape_the_registry() {
        assert!(check_model_name("bert sentiment").is_ok());
        for bad in ["", " ", "a/b", "..", ".hidden", "a:b", "a@b", "a\\b"] {
            assert!(check_model_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_follow_mlflow_and_reserve_latest_and_versions() {
        assert!(check_alias("champion").is_ok());
        assert!(check_alias("v1-candidate").is_ok());
        for bad in ["", "latest", "LATEST", "v1", "V12", "a b", "a/b"] {
            assert!(check_alias(bad).is_err(), "{bad}");
        }
    }
}
