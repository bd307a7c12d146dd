//! Landed files split into lines, every problem reported as a row.
//!
//! Why not `read_text` + `string_split`: `read_text` holds each file whole
//! in memory and fails the whole query on one invalid UTF-8 byte, so one bad
//! file stops every later pass too. [`LandingLines`] streams each file
//! through a fixed buffer and keeps at most one line (up to
//! `max_line_bytes`) in memory; a bad line or a bad file becomes a row
//! saying what and where ([`Problem`]), and the next line or file is read.
//!
//! The rules, per file, in order:
//! - lines end at `\n`; a `\r` before the end is dropped (CRLF), and a last
//!   line without `\n` is a line;
//! - a UTF-8 byte-order mark at the very start of the file is dropped (as
//!   JSON readers do); the first line's offset is then 3;
//! - line numbers are 1-based over all lines, blank ones (only spaces, tabs
//!   or `\r`) included, but blank lines are not returned;
//! - a line over `max_line_bytes` is skipped unread past that many bytes and
//!   reported; a line that is not UTF-8 is reported with the file offset of
//!   its first bad byte;
//! - a file that is gone, not a regular file, or unreadable gives one row;
//!   with a listed size, only that many bytes are read (a file that grew is
//!   read as listed) and a file that ends before it gets a row after its
//!   lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Take};
use std::ops::Range;
use std::sync::Arc;

use super::open::open_regular;
use super::problem::Problem;

/// The default longest line, in bytes: far above any tweet, small enough
/// that one line cannot exhaust memory.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 64 << 20;

/// How much of a file one read asks for.
const READ_BUFFER: usize = 256 << 10;
/// A line buffer grown beyond this by a long line is released afterwards.
const KEEP_BUFFER: usize = 8 << 20;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One file to read: its path, and how many bytes of it (`None`: all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub size: Option<u64>,
}

/// What a row holds: the line's text, or what is wrong.
#[derive(Debug)]
pub enum Content<'a> {
    Text(&'a str),
    Problem(Problem),
}

/// One row: file `file` (an index into the sources), its line number and
/// byte offset (both `None` for a problem with the whole file).
#[derive(Debug)]
pub struct Row<'a> {
    pub file: usize,
    pub line_no: Option<u64>,
    pub byte_offset: Option<u64>,
    pub content: Content<'a>,
}

/// A file being read.
struct Reading {
    file: usize,
    reader: BufReader<Take<File>>,
    listed: Option<u64>,
    /// Bytes consumed so far: the offset of the next line.
    offset: u64,
    /// Lines seen so far, blank ones included.
    line_no: u64,
}

/// What one step of the reader produced.
enum Step {
    /// Nothing to return (a blank line, a file opened or finished).
    Skip,
    /// A finished row (a problem).
    Row(Row<'static>),
    /// A line whose bytes are `range` of the line buffer.
    Line {
        file: usize,
        line_no: u64,
        offset: u64,
        range: Range<usize>,
    },
}

/// The rows of a list of files, in order, one at a time.
pub struct LandingLines {
    sources: Arc<[Source]>,
    max_line_bytes: u64,
    /// The next source to open.
    next: usize,
    current: Option<Reading>,
    buf: Vec<u8>,
}

impl LandingLines {
    pub fn new(sources: Arc<[Source]>, max_line_bytes: u64) -> LandingLines {
        LandingLines {
            sources,
            max_line_bytes,
            next: 0,
            current: None,
            buf: Vec::new(),
        }
    }

    /// The next row, `None` after the last file.
    pub fn next_row(&mut self) -> Option<Row<'_>> {
        loop {
            match self.step()? {
                Step::Skip => continue,
                Step::Row(row) => return Some(row),
                Step::Line {
                    file,
                    line_no,
                    offset,
                    range,
                } => {
                    let content = match std::str::from_utf8(&self.buf[range]) {
                        Ok(text) => Content::Text(text),
                        Err(e) => Content::Problem(Problem::InvalidUtf8 {
                            at: offset + e.valid_up_to() as u64,
                        }),
                    };
                    return Some(Row {
                        file,
                        line_no: Some(line_no),
                        byte_offset: Some(offset),
                        content,
                    });
                }
            }
        }
    }

    /// Opens the next file or reads one line of the current one.
    fn step(&mut self) -> Option<Step> {
        let Some(cur) = self.current.as_mut() else {
            let file = self.next;
            let source = self.sources.get(file)?;
            self.next += 1;
            return Some(match open_regular(&source.path) {
                Ok(f) => {
                    let limit = source.size.unwrap_or(u64::MAX);
                    self.current = Some(Reading {
                        file,
                        reader: BufReader::with_capacity(READ_BUFFER, f.take(limit)),
                        listed: source.size,
                        offset: 0,
                        line_no: 0,
                    });
                    Step::Skip
                }
                Err(problem) => Step::Row(file_row(file, problem)),
            });
        };
        let (file, start) = (cur.file, cur.offset);
        // Room for the longest allowed line, its `\r\n`, and a leading BOM.
        let slack = if start == 0 { 2 + BOM.len() } else { 2 };
        let limit = self.max_line_bytes.saturating_add(slack as u64);
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        }
        self.buf.clear();
        let n = match (&mut cur.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
        {
            Ok(n) => n as u64,
            Err(e) => return Some(self.finish(Some(Problem::Unreadable(e)))),
        };
        if n == 0 {
            let shrank = match cur.listed {
                Some(listed) if start < listed => Some(Problem::Shrank { listed, now: start }),
                _ => None,
            };
            return Some(self.finish(shrank));
        }
        cur.offset += n;
        cur.line_no += 1;
        let line_no = cur.line_no;
        let max = self.max_line_bytes;
        let too_long = |offset| {
            Step::Row(Row {
                file,
                line_no: Some(line_no),
                byte_offset: Some(offset),
                content: Content::Problem(Problem::TooLong { max }),
            })
        };
        // A byte-order mark opening the file is not part of its first line.
        let begin = if start == 0 && self.buf.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let offset = start + begin as u64;
        let ended = self.buf.last() == Some(&b'\n');
        if !ended && n == limit {
            // Longer than any allowed line: skip the rest without keeping it.
            return Some(match cur.reader.skip_until(b'\n') {
                Ok(skipped) => {
                    cur.offset += skipped as u64;
                    too_long(offset)
                }
                Err(e) => self.finish(Some(Problem::Unreadable(e))),
            });
        }
        let mut end = self.buf.len() - usize::from(ended);
        if self.buf[..end].ends_with(b"\r") {
            end -= 1;
        }
        if (end - begin) as u64 > max {
            return Some(too_long(offset));
        }
        if self.buf[begin..end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
        {
            return Some(Step::Skip);
        }
        Some(Step::Line {
            file,
            line_no,
            offset,
            range: begin..end,
        })
    }

    /// Closes the current file, with a row for `problem` if there is one.
    fn finish(&mut self, problem: Option<Problem>) -> Step {
        let file = self.current.take().map(|c| c.file).unwrap_or_default();
        match problem {
            Some(p) => Step::Row(file_row(file, p)),
            None => Step::Skip,
        }
    }

    /// The line buffer's capacity (tests check it stays bounded).
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// A row about a whole file.
fn file_row(file: usize, problem: Problem) -> Row<'static> {
    Row {
        file,
        line_no: None,
        byte_offset: None,
        content: Content::Problem(problem),
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
