"""No input stops the pipeline: whatever lands in the landing directory,
passes succeed, bronze stays raw, and quarantine says what was wrong and
where (file, line, byte). Runs the real pipeline in the DuckDB CLI."""
from __future__ import annotations

import json
import os
import time

import pytest

from stream_util import land, pipeline, table, versions


def record(i, **over):
    r = {"id": str(9_000_000_000 + i), "date": "Mon Apr 06 22:19:45 PDT 2009", "user": f"u{i}",
         "text": f"tweet number {i} @someone", "sentiment": "4"}
    r.update(over)
    return json.dumps(r)


@pytest.fixture(scope="module")
def odd_lake(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("odd")
    landing = tmp / "landing"
    land(landing, 100)  # a normal file: 100 tweets, 2 malformed
    (landing / "bom.json").write_bytes(b"\xef\xbb\xbf" + record(1).encode() + b"\n")
    (landing / "crlf.json").write_bytes((record(2) + "\r\n" + record(3) + "\r\n").encode())
    (landing / "empty.json").write_bytes(b"")
    # an empty file has no final newline, so it is taken once settled (5 s):
    # make it old, so the first pass takes it and later ones find nothing
    os.utime(landing / "empty.json", (time.time() - 60, time.time() - 60))
    utf8_lines = [record(4).encode(), record(5).encode().replace(b"tweet", b"tw\xffeet"), record(6).encode()]
    (landing / "invalid-utf8.json").write_bytes(b"\n".join(utf8_lines) + b"\n")
    (landing / "types.json").write_text("\n".join([
        record(7, text={"a": 1}), record(8, user=42), record(9, date="yesterday"),
        record(10, sentiment=["4"]), "[1, 2]", record(11)]) + "\n")
    big = record(12, text="big " + "x" * (10 * 1024 * 1024))
    (landing / "big-line.json").write_text(big + "\n")
    (landing / "dir.json").mkdir()
    os.mkfifo(landing / "fifo.json")
    (landing / "dangling.json").symlink_to(landing / "no-such-target")
    # still being written: no final newline and just modified, so not claimed yet
    (landing / "partial.json").write_text(record(13) + "\n" + record(14)[:30])
    first = pipeline(tmp, timeout=600)
    return tmp, first


def reasons(tmp):
    return {(os.path.basename(r["source_file"]), r["line_no"], r["reason"])
            for r in table(tmp, "quarantine").to_pylist()}


def test_the_pass_succeeds_and_keeps_every_good_record(odd_lake):
    tmp, _ = odd_lake
    bronze = table(tmp, "bronze").to_pylist()
    ids = {r["id"] for r in bronze}
    for i in (1, 2, 3, 4, 6, 11, 12):
        assert str(9_000_000_000 + i) in ids, i
    # a CRLF line ends without its \r; the BOM is gone; the 10 MB text is whole
    texts = {r["id"]: r["text"] for r in bronze}
    assert texts[str(9_000_000_002)] == "tweet number 2 @someone"
    assert len(texts[str(9_000_000_012)]) == 4 + 10 * 1024 * 1024
    assert str(9_000_000_013) not in ids  # the partial file is not claimed yet


def test_quarantine_says_what_and_where(odd_lake):
    tmp, _ = odd_lake
    got = reasons(tmp)
    offset = len(record(4)) + 1 + len(b'{"id": "9000000005", "date": "Mon Apr 06 22:19:45 PDT 2009", "user": "u5", "text": "tw')
    assert ("invalid-utf8.json", 2, f"invalid UTF-8 at byte {offset}") in got, got
    assert ("types.json", 1, "field `text` is an object, not a string") in got
    assert ("types.json", 2, "field `user` is a number, not a string") in got
    assert ("types.json", 3, "field `date`: 'yesterday' is not a date like 'Mon Apr 06 22:19:45 PDT 2009'") in got
    assert ("types.json", 4, "field `sentiment` is an array, not a label") in got
    assert ("types.json", 5, "not a JSON object") in got
    assert ("dir.json", None, "not a regular file (directory)") in got
    assert ("fifo.json", None, "not a regular file (FIFO)") in got
    assert ("dangling.json", None, "not a regular file (dangling symlink)") in got
    assert not any(f in ("empty.json", "bom.json", "crlf.json") for f, _, _ in got), got


def test_a_file_still_being_written_is_taken_once_complete(odd_lake):
    tmp, _ = odd_lake
    partial = tmp / "landing" / "partial.json"
    partial.write_text(record(13) + "\n" + record(14) + "\n")
    pipeline(tmp)
    ids = {r["id"] for r in table(tmp, "bronze").to_pylist()}
    assert {str(9_000_000_013), str(9_000_000_014)} <= ids
    assert not any(f == "partial.json" for f, _, _ in reasons(tmp))


def test_what_was_quarantined_is_not_read_again(odd_lake):
    tmp, _ = odd_lake
    before = versions(tmp)
    quarantined = table(tmp, "quarantine").num_rows
    pipeline(tmp)
    assert versions(tmp) == before
    assert table(tmp, "quarantine").num_rows == quarantined


def test_a_file_that_ends_without_a_newline_is_taken_after_it_settles(tmp_path):
    landing = tmp_path / "landing"
    land(landing, 100)
    last = landing / "no-final-newline.json"
    last.write_text(record(20))
    old = time.time() - 60
    os.utime(last, (old, old))
    pipeline(tmp_path)
    ids = {r["id"] for r in table(tmp_path, "bronze").to_pylist()}
    assert str(9_000_000_020) in ids
