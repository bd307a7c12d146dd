//! Listing a landing directory without opening anything in it.
//!
//! Why not DuckDB's `glob`: it says nothing about what an entry is, so a
//! directory or a FIFO named `x.json` reaches the reader, which fails or
//! blocks. Here each entry is described from its metadata (`stat`, which
//! never opens the entry): kind, size and modification time, so the caller
//! can record the size it saw and route non-files to quarantine.

use std::collections::HashSet;
use std::fs::{self, FileType, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::time::SystemTime;

use super::error::{IngestError, Result};
use super::pattern::Pattern;

/// What a directory entry is (a symlink is followed; only one whose target
/// is missing, or that loops, is reported as a symlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
    Fifo,
    Symlink,
    Other,
}

impl Kind {
    /// The lower-case name the listing reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Directory => "directory",
            Kind::Fifo => "fifo",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }

    fn of(t: FileType) -> Kind {
        if t.is_file() {
            Kind::File
        } else if t.is_dir() {
            Kind::Directory
        } else if t.is_fifo() {
            Kind::Fifo
        } else if t.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        }
    }
}

/// One matching directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file name (not valid UTF-8: with U+FFFD in place of the bad
    /// bytes; such a path cannot be opened by that name).
    pub name: String,
    /// `<directory as given>/<name>`.
    pub path: String,
    pub kind: Kind,
    /// Length in bytes for a file; `None` for anything else (a directory's
    /// length says nothing about data).
    pub size: Option<u64>,
    /// Modification time (of the target for a followed symlink).
    pub modified: Option<SystemTime>,
    /// A file that is not empty and ends with a newline: complete as far as
    /// a line-oriented reader can tell (a writer that has not finished
    /// usually stops mid-line). False for anything but a file.
    pub complete: bool,
}

/// The entries of `pattern`'s directory whose names match it, sorted by
/// name; names starting with `.` (in-flight temporary files such as
/// `.tweets-000000001.json.tmp`) are skipped. A missing directory (or a path
/// that is not a directory) lists nothing, as DuckDB's `glob` does; one that
/// cannot be read is an error. Entries whose path is in `known` are left
/// out before anything about them is looked up: a caller that has taken
/// most of a big directory already pays only a directory read for them.
pub fn list(pattern: &Pattern, known: &HashSet<String>) -> Result<Vec<Entry>> {
    let directory = pattern.directory();
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(Vec::new())
        }
        Err(source) => return Err(list_error(directory, source)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| list_error(directory, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !pattern.matches(&name) {
            continue;
        }
        let path = pattern.path_of(&name);
        if known.contains(&path) {
            continue;
        }
        let Some((kind, meta)) = describe(&entry.path())? else {
            continue; // removed since read_dir saw it
        };
        let complete = kind == Kind::File && ends_with_newline(&path, meta.len());
        out.push(Entry {
            path,
            name,
            kind,
            size: (kind == Kind::File).then_some(meta.len()),
            modified: meta.modified().ok(),
            complete,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Whether the regular file at `path` (of `size` bytes) ends with `\n`:
/// one byte read at its end (opened as `open_regular` does, so a FIFO that
/// replaced it meanwhile is not waited on).
fn ends_with_newline(path: &str, size: u64) -> bool {
    use std::os::unix::fs::FileExt;
    if size == 0 {
        return false;
    }
    let Ok(file) = super::open::open_regular(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    matches!(file.read_at(&mut last, size - 1), Ok(1)) && last[0] == b'\n'
}

/// An entry's kind and metadata, following a symlink (`stat`, then `lstat`
/// when the target is missing); `None` when the entry itself is gone.
fn describe(path: &std::path::Path) -> Result<Option<(Kind, Metadata)>> {
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(list_error(&path.to_string_lossy(), source)),
    };
    if !link.file_type().is_symlink() {
        return Ok(Some((Kind::of(link.file_type()), link)));
    }
    Ok(Some(match fs::metadata(path) {
        Ok(target) => (Kind::of(target.file_type()), target),
        // Dangling, looping, or pointing somewhere we may not look.
        Err(_) => (Kind::Symlink, link),
    }))
}

fn list_error(directory: &str, source: std::io::Error) -> IngestError {
    IngestError::List {
        directory: directory.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_all(pattern: &Pattern) -> Result<Vec<Entry>> {
        list(pattern, &HashSet::new())
    }

    #[test]
    fn known_paths_are_left_out() {
        let d = TempDir::new("listing-known");
        d.write("a.json", b"{}\n");
        d.write("b.json", b"{}\n");
        let pattern = Pattern::parse(&format!("{}/*.json", d.root())).unwrap();
        let known: HashSet<String> = [pattern.path_of("a.json")].into();
        let names: Vec<String> = list(&pattern, &known)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["b.json"]);
    }
    use crate::ingest::testing::{mkfifo, TempDir};

    fn listed(pattern: &str) -> Vec<(String, &'static str, Option<u64>)> {
        list_all(&Pattern::parse(pattern).unwrap())
            .unwrap()
            .into_iter()
            .map(|e| (e.path, e.kind.as_str(), e.size))
            .collect()
    }

    /// How a test makes a directory entry.
    enum Make {
        File(&'static [u8]),
        Dir,
        Fifo,
        Symlink(&'static str),
    }

    fn make(d: &TempDir, name: &str, how: &Make) {
        match how {
            Make::File(bytes) => drop(d.write(name, bytes)),
            Make::Dir => std::fs::create_dir(d.path(name)).unwrap(),
            Make::Fifo => mkfifo(&d.path(name)),
            Make::Symlink(to) => std::os::unix::fs::symlink(d.path(to), d.path(name)).unwrap(),
        }
    }

    #[test]
    fn lists_matching_entries_sorted_with_their_kind_and_skips_dot_files() {
        use Make::{Dir, Fifo, File, Symlink};
        // Each entry, in the order made, and how `*.json` lists it (`None`:
        // not at all).
        let entries = [
            ("b.json", File(b"{}\n"), Some(("file", Some(3)))),
            ("a.json", File(b""), Some(("file", Some(0)))),
            ("c.txt", File(b"x"), None),
            (".a.json.tmp", File(b"x"), None),
            (".hidden.json", File(b"x"), None),
            ("dir.json", Dir, Some(("directory", None))),
            ("pipe.json", Fifo, Some(("fifo", None))),
            ("link.json", Symlink("b.json"), Some(("file", Some(3)))),
            ("dangling.json", Symlink("gone"), Some(("symlink", None))),
            (
                "linkdir.json",
                Symlink("dir.json"),
                Some(("directory", None)),
            ),
        ];
        let d = TempDir::new("listing");
        for (name, how, _) in &entries {
            make(&d, name, how);
        }
        let dir = d.root();
        let got = listed(&format!("{dir}/*.json"));
        let mut want: Vec<_> = entries
            .iter()
            .filter_map(|(n, _, listed)| listed.map(|(k, s)| (format!("{dir}/{n}"), k, s)))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_socket_is_other_and_a_name_that_is_not_utf8_is_reported_lossily() {
        use std::os::unix::ffi::OsStrExt;
        let d = TempDir::new("listing-odd");
        let _socket = std::os::unix::net::UnixListener::bind(d.path("sock.json")).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"bad\xff.json");
        std::fs::write(d.path("x").with_file_name(odd), b"{}").unwrap();
        let dir = d.root();
        assert_eq!(
            listed(&format!("{dir}/*.json")),
            [
                (format!("{dir}/bad\u{fffd}.json"), "file", Some(2)),
                (format!("{dir}/sock.json"), "other", None),
            ]
        );
    }

    #[test]
    fn a_file_is_complete_when_it_ends_with_a_newline() {
        use Make::{Dir, File};
        let entries = [
            ("done.json", File(b"{}\n"), true),
            ("partial.json", File(b"{}\n{\"a\""), false),
            ("empty.json", File(b""), false),
            ("dir.json", Dir, false),
        ];
        let d = TempDir::new("listing-complete");
        for (name, how, _) in &entries {
            make(&d, name, how);
        }
        let got: Vec<(String, bool)> =
            list_all(&Pattern::parse(&format!("{}/*.json", d.root())).unwrap())
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.complete))
                .collect();
        let mut want: Vec<_> = entries.map(|(n, _, c)| (n.to_string(), c)).to_vec();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn reports_the_modification_time() {
        let d = TempDir::new("listing-mtime");
        d.write("a.json", b"{}");
        let before = SystemTime::now() - std::time::Duration::from_secs(5);
        let e = &list_all(&Pattern::parse(&format!("{}/*", d.root())).unwrap()).unwrap()[0];
        assert!(e.modified.unwrap() > before);
    }

    #[test]
    fn a_missing_directory_or_a_file_lists_nothing() {
        let d = TempDir::new("listing-missing");
        assert!(listed(&format!("{}/nope/*.json", d.root())).is_empty());
        d.write("plain", b"x");
        assert!(listed(&format!("{}/plain/*.json", d.root())).is_empty());
    }

    #[test]
    fn an_unreadable_directory_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let d = TempDir::new("listing-denied");
        let locked = d.path("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let result = list_all(&Pattern::parse(&format!("{}/*.json", locked.display())).unwrap());
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        let Err(e) = result else {
            return; // privileged (root): a mode-000 directory is readable
        };
        let e = e.to_string();
        assert!(e.starts_with("cannot list directory '"), "{e}");
        assert!(e.contains("Permission denied"), "{e}");
    }
}
