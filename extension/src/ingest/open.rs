//! Opening a landed file for reading without ever blocking on it.
//!
//! Why the care: `open(2)` on a FIFO blocks until a writer appears, so a
//! FIFO named `x.json` would hang the pass. The type is checked with `stat`
//! before opening (a FIFO, a directory, a socket or a device is a problem,
//! not a file); the open itself uses `O_NONBLOCK`, so a FIFO swapped in
//! between the check and the open returns at once and is caught by the
//! `fstat` after it. Reads of a regular file ignore `O_NONBLOCK`.

use std::fs::{self, File, FileType, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use super::problem::Problem;

/// The regular file at `path`, opened for reading, or why it cannot be read.
pub fn open_regular(path: &str) -> Result<File, Problem> {
    let meta = fs::metadata(path).map_err(|e| stat_problem(path, e))?;
    regular(meta.file_type())?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| stat_problem(path, e))?;
    let meta = file.metadata().map_err(Problem::Unreadable)?;
    regular(meta.file_type())?;
    Ok(file)
}

/// `Ok` for a regular file, else what it is.
fn regular(t: FileType) -> Result<(), Problem> {
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else {
        "unknown type"
    };
    Err(Problem::NotRegular(what))
}

/// A failed `stat` or `open`: gone, a symlink whose target is gone, or
/// unreadable.
fn stat_problem(path: &str, e: std::io::Error) -> Problem {
    if e.kind() != ErrorKind::NotFound {
        return Problem::Unreadable(e);
    }
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Problem::NotRegular("dangling symlink"),
        _ => Problem::Vanished,
    }
}
