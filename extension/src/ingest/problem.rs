//! What can be wrong with a landed line or file, as the text a row carries.
//!
//! Why rows and not errors: one bad byte or one odd entry in the landing
//! directory must not stop the stream (issue 11, point 5). The reader
//! reports each problem where it is (file, line, byte offset) and goes on;
//! the pipeline quarantines it with this text as the reason. The texts are
//! part of the interface: tests pin them and quarantine keeps them.

use std::fmt;

/// A problem with one line (the row keeps its line number and offset) or
/// with a whole file (the row has neither).
#[derive(Debug)]
pub enum Problem {
    /// The line is not UTF-8; `at` is the file offset of the first bad byte.
    InvalidUtf8 { at: u64 },
    /// The line holds more than `max` bytes (its end not counted).
    TooLong { max: u64 },
    /// The file is gone.
    Vanished,
    /// The path is something other than a regular file: `directory`,
    /// `FIFO`, `socket`, `character device`, `block device`, `dangling
    /// symlink`.
    NotRegular(&'static str),
    /// Opening or reading failed.
    Unreadable(std::io::Error),
    /// The file ended at `now` bytes, before the `listed` size.
    Shrank { listed: u64, now: u64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::InvalidUtf8 { at } => write!(f, "invalid UTF-8 at byte {at}"),
            Problem::TooLong { max } => write!(f, "line is longer than max_line_bytes ({max})"),
            Problem::Vanished => f.write_str("no such file (it vanished after it was listed)"),
            Problem::NotRegular(what) => write!(f, "not a regular file ({what})"),
            Problem::Unreadable(e) => write!(f, "cannot read: {e}"),
            Problem::Shrank { listed, now } => write!(
                f,
                "the file shrank from {listed} to {now} bytes after it was listed"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_are_the_documented_ones() {
        let cases = [
            (Problem::InvalidUtf8 { at: 17 }, "invalid UTF-8 at byte 17"),
            (
                Problem::TooLong { max: 1024 },
                "line is longer than max_line_bytes (1024)",
            ),
            (
                Problem::Vanished,
                "no such file (it vanished after it was listed)",
            ),
            (Problem::NotRegular("FIFO"), "not a regular file (FIFO)"),
            (
                Problem::Unreadable(std::io::Error::from_raw_os_error(13)),
                "cannot read: Permission denied (os error 13)",
            ),
            (
                Problem::Shrank { listed: 10, now: 4 },
                "the file shrank from 10 to 4 bytes after it was listed",
            ),
        ];
        for (p, text) in cases {
            assert_eq!(p.to_string(), text);
        }
    }
}
