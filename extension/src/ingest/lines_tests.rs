//! The rules of [`super::LandingLines`], over temp files: the content
//! rules as one table, the rest (files, sizes, memory) one test each.

use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::ingest::testing::{mkfifo, TempDir};

/// A row as comparable values: file index, line number, offset, and the
/// line (`Ok`) or the problem text (`Err`).
type Got = (usize, Option<u64>, Option<u64>, Result<String, String>);

fn read_sources(sources: Vec<Source>, max: u64) -> Vec<Got> {
    let mut reader = LandingLines::new(sources.into(), max);
    let mut out = Vec::new();
    while let Some(row) = reader.next_row() {
        let content = match row.content {
            Content::Text(t) => Ok(t.to_string()),
            Content::Problem(p) => Err(p.to_string()),
        };
        out.push((row.file, row.line_no, row.byte_offset, content));
    }
    out
}

fn read(paths: &[impl AsRef<str>]) -> Vec<Got> {
    read_sources(
        paths.iter().map(|p| source(p.as_ref(), None)).collect(),
        MAX,
    )
}

fn source(path: &str, size: Option<u64>) -> Source {
    Source {
        path: path.to_string(),
        size,
    }
}

fn line(file: usize, no: u64, offset: u64, text: &str) -> Got {
    (file, Some(no), Some(offset), Ok(text.to_string()))
}

fn bad_file(file: usize, problem: &str) -> Got {
    (file, None, None, Err(problem.to_string()))
}

/// Reads `bytes` as one file, lines up to `max` bytes; each row as
/// `line_no@offset text` or `line_no@offset !problem`.
fn lines_of(bytes: &[u8], max: u64) -> Vec<String> {
    let d = TempDir::new("lines-rules");
    let rows = read_sources(vec![source(&d.write("a.json", bytes), None)], max);
    rows.into_iter()
        .map(|(_, no, offset, content)| {
            let at = format!("{}@{}", no.unwrap_or_default(), offset.unwrap_or_default());
            match content {
                Ok(text) => format!("{at} {text}"),
                Err(problem) => format!("{at} !{problem}"),
            }
        })
        .collect()
}

const MAX: u64 = DEFAULT_MAX_LINE_BYTES;

/// The rules about a file's content, one per line: (rule, the file's bytes,
/// max_line_bytes, the rows). Offsets count every byte of the file.
#[rustfmt::skip]
const CONTENT_RULES: &[(&str, &[u8], u64, &[&str])] = &[
    ("blank lines count but are not returned; a last line needs no \\n",
        b"{\"a\":1}\n\n  \t\n{\"b\":2}\n\r\n{\"c\":3}", MAX, &["1@0 {\"a\":1}", "4@13 {\"b\":2}", "6@23 {\"c\":3}"]),
    ("a byte-order mark at the start is dropped, elsewhere kept",
        b"\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBFx\n", MAX, &["1@3 {\"a\":1}", "2@11 \u{feff}x"]),
    ("a byte-order mark alone is a blank line", b"\xEF\xBB\xBF\n", MAX, &[]),
    ("CRLF ends are dropped, inner carriage returns kept",
        b"one\r\ntw\ro\r\nthree\r", MAX, &["1@0 one", "2@5 tw\ro", "3@11 three"]),
    ("invalid UTF-8 names the file offset of the bad byte; other lines stay",
        b"\xEF\xBB\xBFok\nab\xFFcd\n\xC3\xA9t\xC3\xA9\n\xC3\n", MAX,
        &["1@3 ok", "2@6 !invalid UTF-8 at byte 8", "3@12 été", "4@18 !invalid UTF-8 at byte 18"]),
    ("lines over the limit (LF, CRLF, last) are reported and the rest read",
        b"yyyyyyyyyy\nxxxxxxxxxxx\nyyyyyyyyyy\r\nxxxxxxxxxxx\r\nz\nxxxxxxxxxxx", 10,
        &["1@0 yyyyyyyyyy", "2@11 !line is longer than max_line_bytes (10)",
          "3@23 yyyyyyyyyy", "4@35 !line is longer than max_line_bytes (10)",
          "5@48 z", "6@50 !line is longer than max_line_bytes (10)"]),
    ("a leading byte-order mark does not count towards the limit",
        "\u{feff}yyyyyyyyyy\n\u{feff}yyyyyyyyyy\n".as_bytes(), 10, &["1@3 yyyyyyyyyy", "2@14 !line is longer than max_line_bytes (10)"]),
    ("a first line far over the limit starts after the byte-order mark",
        "\u{feff}xxxxxxxxxxxxxxxxxxxx\nz".as_bytes(), 10, &["1@3 !line is longer than max_line_bytes (10)", "2@24 z"]),
    ("an empty file gives no rows", b"", MAX, &[]),
    ("a file of blank lines gives no rows", b"\n\r\n \n", MAX, &[]),
];

#[test]
fn each_content_rule_gives_the_documented_rows() {
    for (rule, bytes, max, want) in CONTENT_RULES {
        assert_eq!(lines_of(bytes, *max), *want, "{rule}");
    }
}

#[test]
fn a_long_line_is_skipped_without_being_buffered() {
    let d = TempDir::new("lines-long-memory");
    let mut body = vec![b'x'; 8 << 20];
    body.extend_from_slice(b"\nafter\n");
    let f = d.write("a.json", &body);
    let mut reader = LandingLines::new(vec![source(&f, None)].into(), 1000);
    let first = reader.next_row().unwrap();
    assert!(matches!(
        first.content,
        Content::Problem(Problem::TooLong { max: 1000 })
    ));
    assert!(
        reader.buffer_capacity() < 64 << 10,
        "{}",
        reader.buffer_capacity()
    );
    let next = reader.next_row().unwrap();
    assert_eq!(
        (next.line_no, next.byte_offset),
        (Some(2), Some(8 << 20 | 1))
    );
    assert!(matches!(next.content, Content::Text("after")));
}

#[test]
fn a_ten_megabyte_line_is_returned_whole_by_default() {
    let d = TempDir::new("lines-ten-mb");
    let text = "é".repeat(5 << 20);
    let f = d.write("a.json", format!("{text}\nshort\n").as_bytes());
    let got = read(&[&f]);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].3.as_deref(), Ok(text.as_str()));
    assert_eq!(got[1], line(0, 2, (10 << 20) + 1, "short"));
}

#[test]
fn files_are_read_in_order_each_numbered_from_one() {
    let d = TempDir::new("lines-order");
    let a = d.write("a.json", b"a1\na2\n");
    let b = d.write("b.json", b"b1\n");
    assert_eq!(
        read(&[&b, &a, &b]),
        [
            line(0, 1, 0, "b1"),
            line(1, 1, 0, "a1"),
            line(1, 2, 3, "a2"),
            line(2, 1, 0, "b1"),
        ]
    );
}

#[test]
fn a_vanished_file_a_directory_a_dangling_symlink_and_a_socket_are_one_row_each() {
    let d = TempDir::new("lines-kinds");
    let text = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    std::fs::create_dir(d.path("dir.json")).unwrap();
    std::os::unix::fs::symlink(d.path("nowhere"), d.path("dangling.json")).unwrap();
    let ok = d.write("ok.json", b"1\n");
    std::os::unix::fs::symlink(&ok, d.path("link.json")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(d.path("sock.json")).unwrap();
    let names = [
        "gone.json",
        "dir.json",
        "dangling.json",
        "ok.json",
        "link.json",
    ];
    let paths = names.map(|n| text(d.path(n)));
    assert_eq!(
        read(&paths),
        [
            bad_file(0, "no such file (it vanished after it was listed)"),
            bad_file(1, "not a regular file (directory)"),
            bad_file(2, "not a regular file (dangling symlink)"),
            line(3, 1, 0, "1"),
            line(4, 1, 0, "1"),
        ]
    );
    assert_eq!(
        read(&[text(d.path("sock.json"))]),
        [bad_file(0, "not a regular file (socket)")]
    );
}

#[test]
fn a_fifo_is_reported_without_being_opened() {
    let d = TempDir::new("lines-fifo");
    let fifo = d.path("pipe.json");
    mkfifo(&fifo);
    let path = fifo.to_string_lossy().into_owned();
    let (tx, rx) = mpsc::channel();
    // On a thread: if the FIFO were opened the read would block forever.
    std::thread::spawn(move || tx.send(read(&[path])).unwrap());
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("reading a FIFO must not block");
    assert_eq!(got, [bad_file(0, "not a regular file (FIFO)")]);
}

#[test]
fn an_unreadable_file_is_one_row_with_the_os_error() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("lines-unreadable");
    let plain = d.write("plain", b"x\n");
    let through = format!("{plain}/a.json");
    assert_eq!(
        read(&[&through]),
        [bad_file(0, "cannot read: Not a directory (os error 20)")]
    );
    let locked = d.write("locked.json", b"x\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        return; // privileged (root): permissions do not apply
    }
    assert_eq!(
        read(&[&locked]),
        [bad_file(0, "cannot read: Permission denied (os error 13)")]
    );
}

/// Reads `files` with their listed sizes.
fn read_sized(files: &[(&str, Option<u64>)]) -> Vec<Got> {
    read_sources(files.iter().map(|(p, s)| source(p, *s)).collect(), MAX)
}

#[test]
fn a_listed_size_reads_a_grown_file_as_listed() {
    let d = TempDir::new("lines-grown");
    let f = d.write("a.json", b"one\ntwo\nthree\n");
    let mut want = vec![line(0, 1, 0, "one"), line(0, 2, 4, "two")];
    assert_eq!(read_sized(&[(&f, Some(8))]), want);
    // A size inside a line ends the line there; zero reads nothing.
    want.push(line(0, 3, 8, "th"));
    assert_eq!(read_sized(&[(&f, Some(10)), (&f, Some(0))]), want);
}

#[test]
fn a_file_shorter_than_listed_gives_its_lines_then_a_row() {
    let d = TempDir::new("lines-shrank");
    let shrank = |from, to| {
        let text = format!("the file shrank from {from} to {to} bytes after it was listed");
        bad_file(0, &text)
    };
    let f = d.write("a.json", b"one\ntwo");
    let want = [line(0, 1, 0, "one"), line(0, 2, 4, "two"), shrank(100, 7)];
    assert_eq!(read_sized(&[(&f, Some(100))]), want);
    let empty = d.write("b.json", b"");
    assert_eq!(read_sized(&[(&empty, Some(5))]), [shrank(5, 0)]);
}

#[test]
fn a_file_can_be_read_while_the_reader_is_mid_way_through_another() {
    // The reader holds one file open at a time: the next is opened (and
    // checked) only when the previous one ends.
    let d = TempDir::new("lines-lazy");
    let a = d.write("a.json", b"a\n");
    let b = d.path("b.json").to_string_lossy().into_owned();
    let mut reader = LandingLines::new(vec![source(&a, None), source(&b, None)].into(), 100);
    assert!(matches!(
        reader.next_row().unwrap().content,
        Content::Text("a")
    ));
    std::fs::write(&b, b"b\n").unwrap();
    assert!(matches!(
        reader.next_row().unwrap().content,
        Content::Text("b")
    ));
    assert!(reader.next_row().is_none());
}
