//! DuckDB's `enable_external_access`, for every file and network access of
//! ours.
//!
//! Each bind wrapper in `duck` reads the policy once from the caller's
//! client context ([`Access`]: the switch, plus DuckDB's
//! `allowed_directories` and `allowed_paths`) and hands it to the function,
//! which checks every path it reads or writes and every server it calls
//! with [`Access::read`], [`Access::write`] or [`Access::connect`] — at bind
//! for what the arguments fix, at run time for per-row paths. A refusal
//! always reads the same ([`FILES_REFUSED`], [`NETWORK_REFUSED`]).
//!
//! What stays allowed with access off: paths under `allowed_directories` or
//! equal to one of `allowed_paths` (as DuckDB's own readers allow them), and
//! reads of what ships next to the extension file (the default model, the
//! ONNX Runtime library).
//!
//! Two shapes get no client context in C API v1: an aggregate
//! (`delta_write`) and a replacement scan (`FROM 'lake/x'`); the database
//! handle is freed when `LOAD` returns, so they cannot ask the database
//! either. For them the policy is latched: while a database runs the option
//! can only go from `true` to `false` (DuckDB refuses to re-enable it, and to
//! change the allowed lists once it is off), so every bind that reads
//! `false` records its policy here and the context-less paths use it from
//! then on. The latch is per process, not per database (fail closed). What
//! it cannot see: a `SET enable_external_access = false` that no medallion
//! bind has read yet (README, "Security").

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::constant::Constant;
use crate::error::Error;

/// The reason of every refused file access.
pub const FILES_REFUSED: &str = "file system access is disabled (enable_external_access = false)";
/// The reason of every refused network call.
pub const NETWORK_REFUSED: &str = "network access is disabled (enable_external_access = false)";

/// What a function is about to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
    Connect,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Connect => "connect to",
        }
    }
}

/// A refused access: what was asked, and of what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub op: Op,
    pub target: String,
}

impl Refused {
    /// The one text every refusal of this kind uses.
    pub fn reason(&self) -> &'static str {
        match self.op {
            Op::Connect => NETWORK_REFUSED,
            Op::Read | Op::Write => FILES_REFUSED,
        }
    }

    /// The error `function` reports: `function: cannot read 'x': <reason>`.
    pub fn error(&self, function: &'static str) -> Error {
        Error::Refused {
            function,
            op: self.op.verb(),
            target: self.target.clone(),
            reason: self.reason().to_string(),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// The external-access policy in force for one query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Access {
    locked: bool,
    allowed_dirs: Vec<PathBuf>,
    allowed_paths: Vec<PathBuf>,
    shipped: Option<PathBuf>,
}

impl Access {
    /// Everything allowed (`enable_external_access = true`).
    pub fn unrestricted() -> Access {
        Access::default()
    }

    /// Access off, with DuckDB's allow lists and the extension's directory
    /// (whose files may be read).
    pub fn locked(
        allowed_dirs: Vec<PathBuf>,
        allowed_paths: Vec<PathBuf>,
        shipped: Option<PathBuf>,
    ) -> Access {
        Access {
            locked: true,
            allowed_dirs: allowed_dirs.iter().map(|p| normalize(p)).collect(),
            allowed_paths: allowed_paths.iter().map(|p| normalize(p)).collect(),
            shipped: shipped.map(|p| normalize(&p)),
        }
    }

    /// Whether external access is on.
    pub fn is_enabled(&self) -> bool {
        !self.locked
    }

    /// May `path` (a local path or a `file://` URL) be read?
    pub fn read(&self, path: impl AsRef<str>) -> Result<(), Refused> {
        self.file(Op::Read, path.as_ref())
    }

    /// May `path` (a local path or a `file://` URL) be written?
    pub fn write(&self, path: impl AsRef<str>) -> Result<(), Refused> {
        self.file(Op::Write, path.as_ref())
    }

    /// May the server at `url` be called?
    pub fn connect(&self, url: &str) -> Result<(), Refused> {
        if self.locked {
            return Err(Refused {
                op: Op::Connect,
                target: url.to_string(),
            });
        }
        Ok(())
    }

    fn file(&self, op: Op, target: &str) -> Result<(), Refused> {
        if !self.locked {
            return Ok(());
        }
        let refused = || Refused {
            op,
            target: target.to_string(),
        };
        let Some(path) = local_path(target) else {
            // Another scheme (s3://, http://): a network call.
            return Err(Refused {
                op: Op::Connect,
                target: target.to_string(),
            });
        };
        let path = normalize(&path);
        let allowed = self.allowed_dirs.iter().any(|d| path.starts_with(d))
            || self.allowed_paths.contains(&path)
            || (op == Op::Read && self.shipped.as_ref().is_some_and(|d| path.starts_with(d)));
        if allowed {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// The local path a table location or file names: a plain path, or a
/// `file://` URL; `None` for other URL schemes.
fn local_path(target: &str) -> Option<PathBuf> {
    match target.split_once("://") {
        None => Some(PathBuf::from(target)),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => {
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            Some(PathBuf::from(
                percent_encoding::percent_decode_str(rest)
                    .decode_utf8_lossy()
                    .into_owned(),
            ))
        }
        Some(_) => None,
    }
}

/// `path` made absolute (against the working directory) with `.` and `..`
/// resolved lexically, as DuckDB compares paths with its allow lists.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The policy of a client context, read through `option` (the value of a
/// DuckDB option by name). Records a locked policy in the latch.
pub(crate) fn from_options(option: impl Fn(&str) -> Option<Constant>) -> Access {
    let enabled = option("enable_external_access")
        .and_then(|v| v.text())
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    if enabled {
        return Access::unrestricted();
    }
    let list = |name: &str| -> Vec<PathBuf> {
        option(name)
            .and_then(|v| v.texts())
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect()
    };
    let access = Access::locked(
        list("allowed_directories"),
        list("allowed_paths"),
        super::settings::extension_dir(),
    );
    observe(&access);
    access
}

static LATCH: Mutex<Option<Access>> = Mutex::new(None);

/// Records a locked policy (the first one seen; DuckDB freezes the allow
/// lists once access is off).
fn observe(access: &Access) {
    if access.locked {
        let mut latch = LATCH.lock().unwrap_or_else(|p| p.into_inner());
        if latch.is_none() {
            *latch = Some(access.clone());
        }
    }
}

/// For paths without a client context: the policy a bind of this process
/// last saw locked, else unrestricted.
pub fn latched() -> Access {
    LATCH
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(dirs: &[&str], paths: &[&str]) -> Access {
        Access::locked(
            dirs.iter().map(PathBuf::from).collect(),
            paths.iter().map(PathBuf::from).collect(),
            Some(PathBuf::from("/opt/medallion")),
        )
    }

    #[test]
    fn locked_refuses_files_and_network_with_one_text_each() {
        let a = locked(&[], &[]);
        let e = a.read("/etc/passwd").unwrap_err();
        assert_eq!(e.to_string(), FILES_REFUSED);
        assert_eq!(
            e.error("mlflow_log_artifact").to_string(),
            format!("mlflow_log_artifact: cannot read '/etc/passwd': {FILES_REFUSED}")
        );
        assert_eq!(
            a.connect("http://x").unwrap_err().to_string(),
            NETWORK_REFUSED
        );
        assert_eq!(a.write("s3://bucket/t").unwrap_err().op, Op::Connect);
    }

    /// One check of a policy: the operation, its target, whether allowed.
    type Check<'a> = (Op, &'a str, bool);

    /// Whether `access` allows `op` on `target`.
    fn allows(access: &Access, op: Op, target: &str) -> bool {
        match op {
            Op::Read => access.read(target),
            Op::Write => access.write(target),
            Op::Connect => access.connect(target),
        }
        .is_ok()
    }

    #[test]
    fn each_policy_allows_exactly_what_it_should() {
        use Op::{Connect, Read, Write};
        let model = "/opt/medallion/models/default/model.onnx";
        let cwd = std::env::current_dir().unwrap();
        let cases: [(&str, Access, &[Check]); 4] = [
            (
                "unrestricted: everything",
                Access::unrestricted(),
                &[
                    (Read, "/etc/passwd", true),
                    (Write, "lake/x", true),
                    (Connect, "http://127.0.0.1:5000", true),
                ],
            ),
            (
                "allowed directories and paths, without escapes",
                locked(&["/data/lake/"], &["/etc/hostname"]),
                &[
                    (Write, "/data/lake/silver", true),
                    (Write, "file:///data/lake/gold", true),
                    (Read, "/etc/hostname", true),
                    (Read, "/data/lake/../secrets", false),
                    (Read, "/data/lakehouse", false),
                    (Read, "/etc/passwd", false),
                ],
            ),
            (
                "what ships next to the extension: read, not written",
                locked(&[], &[]),
                &[(Read, model, true), (Write, model, false)],
            ),
            (
                "relative paths, against the working directory",
                Access::locked(vec![cwd.join("lake")], vec![], None),
                &[
                    (Write, "lake/bronze", true),
                    (Write, "./lake/../lake/bronze", true),
                    (Write, "other", false),
                ],
            ),
        ];
        for (policy, access, checks) in &cases {
            for &(op, target, allowed) in checks.iter() {
                let what = format!("{policy}: {op:?} {target}");
                assert_eq!(allows(access, op, target), allowed, "{what}");
            }
        }
    }
}
