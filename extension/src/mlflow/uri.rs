//! `mlflow_tracking_uri`: which backend a call logs to.
//!
//! * `http://host[:port][/prefix]` or `https://...`: an MLflow tracking
//!   server, through its REST API;
//! * `file:///abs/dir`, `file:rel/dir` or a plain path: a local store in
//!   MLflow's file-store layout in that directory;
//! * unset or empty: the local store `./mlruns`, relative to the process's
//!   working directory.
//!
//! Anything else (`sqlite:`, `databricks`, a URL without a host, a typo like
//! `http//host`) is refused with a message saying why, rather than silently
//! becoming a directory name.

use std::path::PathBuf;

use super::tracking::{Failure, Outcome};

/// The default local store when no URI is set (relative to the working dir).
pub const DEFAULT_LOCAL_DIR: &str = "mlruns";

#[derive(Debug, Clone, PartialEq)]
pub enum TrackingUri {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:5000`.
    Server(String),
    /// Absolute directory of a local store.
    Local(PathBuf),
}

impl TrackingUri {
    /// Parses the setting's value (`None`/empty: the default local store).
    pub fn parse(value: Option<&str>) -> Outcome<Self> {
        let text = value.map(str::trim).unwrap_or("");
        if text.is_empty() {
            return Ok(Self::Local(absolute(DEFAULT_LOCAL_DIR.into())));
        }
        let malformed =
            |why: &str| Failure::rejected(format!("malformed mlflow_tracking_uri {text:?}: {why}"));
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let rest = &text[text.find("://").expect("checked") + 3..];
            let authority = rest.split('/').next().unwrap_or("");
            if authority.contains('@') {
                // Never echo it: the part before `@` is a credential.
                return Err(Failure::rejected(
                    "mlflow_tracking_uri must not contain credentials (user:password@): \
                     set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and \
                     MLFLOW_TRACKING_PASSWORD in the environment instead",
                ));
            }
            let (host, port) = match authority.find(']') {
                Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
                None => match authority.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (authority, None),
                },
            };
            if host.is_empty() {
                return Err(malformed("no host after the scheme"));
            }
            if host
                .chars()
                .any(|c| c.is_whitespace() || "?#\\".contains(c))
            {
                return Err(malformed("the host contains characters a host cannot have"));
            }
            if let Some(p) = port {
                if !p.parse::<u16>().is_ok_and(|p| p != 0) {
                    return Err(malformed(&format!(
                        "port {p:?} is not a number in 1..65535"
                    )));
                }
            }
            if rest.contains(['?', '#', ' ']) {
                return Err(malformed("a tracking URI has no query, fragment or spaces"));
            }
            return Ok(Self::Server(text.trim_end_matches('/').to_string()));
        }
        if let Some(path) = lower.strip_prefix("file:").map(|_| &text[5..]) {
            let path = match path.strip_prefix("//") {
                Some(p) if p.starts_with('/') => p.to_string(),
                Some(p) => match p.strip_prefix("localhost/") {
                    Some(p) => format!("/{p}"),
                    None => {
                        return Err(malformed(
                            "a file: URI names a local directory: file:///absolute/path",
                        ))
                    }
                },
                None => path.to_string(),
            };
            if path.is_empty() {
                return Err(malformed("no directory after `file:`"));
            }
            return Ok(Self::Local(absolute(decode(&path).into())));
        }
        if let Some((scheme, _)) = text.split_once(':') {
            let looks_like_scheme = scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
            if looks_like_scheme {
                return Err(Failure::rejected(format!(
                    "unsupported mlflow_tracking_uri scheme `{scheme}:` in {text:?}: use \
                     http(s)://host:port for a tracking server, or file:///dir (or a plain \
                     directory) for a local store"
                )));
            }
        }
        if lower.starts_with("http//") || lower.starts_with("https//") || text.contains("://") {
            return Err(malformed("this looks like a URL with a broken scheme"));
        }
        Ok(Self::Local(absolute(text.into())))
    }
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        return path;
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(&path))
        .unwrap_or(path)
}

/// `%20` and friends in a `file:` URI.
fn decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        TrackingUri::parse(Some(text)).unwrap_err().message
    }

    #[test]
    fn servers() {
        assert_eq!(
            TrackingUri::parse(Some("http://127.0.0.1:5000/")).unwrap(),
            TrackingUri::Server("http://127.0.0.1:5000".into())
        );
        assert_eq!(
            TrackingUri::parse(Some("https://mlflow.example.com/prefix")).unwrap(),
            TrackingUri::Server("https://mlflow.example.com/prefix".into())
        );
    }

    #[test]
    fn local_stores() {
        let cwd = std::env::current_dir().unwrap();
        let cases = [
            (None, cwd.join("mlruns")),
            (Some(""), cwd.join("mlruns")),
            (Some("file:///tmp/a%20b"), "/tmp/a b".into()),
            (Some("file:rel"), cwd.join("rel")),
            (Some("/data/mlruns"), "/data/mlruns".into()),
        ];
        for (text, dir) in cases {
            assert_eq!(
                TrackingUri::parse(text).unwrap(),
                TrackingUri::Local(dir),
                "{text:?}"
            );
        }
    }

    #[test]
    fn malformed_uris_say_why() {
        assert!(err("http://").contains("no host"), "{}", err("http://"));
        assert!(err("http://localhost:50x0").contains("port"));
        assert!(
            err("sqlite:///mlflow.db").contains("unsupported mlflow_tracking_uri scheme `sqlite:`")
        );
        assert!(err("databricks:").contains("unsupported"));
        assert!(err("http//localhost:5000").contains("malformed"));
        assert!(err("file://otherhost/x").contains("malformed"));
    }

    #[test]
    fn credentials_in_the_uri_are_refused_and_not_echoed() {
        let e = err("http://alice:s3cret@localhost:5000");
        assert!(e.contains("must not contain credentials"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }
}
