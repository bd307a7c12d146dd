"""landing_files / landing_lines in the real Python host, for what SQL
fixtures cannot hold: a FIFO and a directory named *.json, a 10 MB line, a
file that grows or vanishes after it was listed, and a 100 MB file read in
bounded memory.

Queries that could block (a FIFO) or whose memory is measured run in a
child Python process with a timeout, so a regression fails the test instead
of hanging it or skewing the parent's peak RSS."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from conftest import EXT

# Peak RSS is read from /proc/self/status (VmHWM, the peak of this process's
# own address space), not resource.getrusage: Linux carries ru_maxrss across
# fork + exec, so a child of a big pytest process would start at the
# parent's peak and show no growth at all.
CHILD = textwrap.dedent("""
    import json, sys
    import duckdb

    def peak_kib():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))

    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute("LOAD '" + sys.argv[1] + "'")
    *setup, query = json.loads(sys.argv[2])
    for statement in setup:
        con.execute(statement)
    before = peak_kib()
    rows = con.execute(query).fetchall()
    print(json.dumps({"rows": rows, "rss_growth_kib": peak_kib() - before}, default=str))
""")


def child(*statements: str, timeout: float = 60) -> dict:
    """Runs `statements` in a fresh Python host; the last one's rows and the
    peak-RSS growth while it ran."""
    out = subprocess.run([sys.executable, "-c", CHILD, EXT, json.dumps(statements)],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def listed(con, pattern: str) -> list[tuple]:
    return con.execute(
        f"SELECT file, size_bytes, kind FROM landing_files({q(pattern)})").fetchall()


def test_a_fifo_and_a_directory_named_json_are_listed_and_reported_without_blocking(con, tmp_path):
    (tmp_path / "a.json").write_bytes(b'{"id": 1}\n')
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "dir.json").mkdir()
    d = str(tmp_path)
    assert listed(con, f"{d}/*.json") == [
        (f"{d}/a.json", 10, "file"),
        (f"{d}/dir.json", None, "directory"),
        (f"{d}/pipe.json", None, "fifo"),
    ]
    # Listing happened in this process without blocking; reading must not
    # block either (a child with a timeout: a blocked open would hang it).
    got = child(
        f"SET VARIABLE files = (SELECT list(file ORDER BY file) FROM landing_files({q(d + '/*.json')}))",
        "SELECT parse_filename(file), line_no, line, problem FROM landing_lines(getvariable('files'))",
        timeout=30)["rows"]
    assert got == [
        ["a.json", 1, '{"id": 1}', None],
        ["dir.json", None, None, "not a regular file (directory)"],
        ["pipe.json", None, None, "not a regular file (FIFO)"],
    ]


def test_a_ten_megabyte_line_is_returned_whole(con, tmp_path):
    big = '{"text": "' + "x" * (10 << 20) + '"}'
    f = tmp_path / "big.json"
    f.write_text(big + "\n" + '{"id": 2}\n')
    rows = con.execute(
        f"SELECT line_no, byte_offset, length(line), md5(line) = md5({q(big)}), problem "
        f"FROM landing_lines([{q(str(f))}])").fetchall()
    assert rows == [(1, 0, len(big), True, None), (2, len(big) + 1, 9, False, None)]


def test_a_line_over_max_line_bytes_is_a_problem_row_and_the_rest_is_read(con, tmp_path):
    f = tmp_path / "long.json"
    f.write_text("short\n" + "y" * 5000 + "\nafter\n")
    rows = con.execute(
        f"SELECT line_no, byte_offset, line, problem FROM landing_lines([{q(str(f))}], max_line_bytes := 1000)"
    ).fetchall()
    assert rows == [
        (1, 0, "short", None),
        (2, 6, None, "line is longer than max_line_bytes (1000)"),
        (3, 5007, "after", None),
    ]


def test_a_file_that_grows_after_listing_is_read_as_listed(con, tmp_path):
    f = tmp_path / "growing.json"
    f.write_text('{"id": 1}\n{"id": 2}\n')
    [(path, size, kind)] = listed(con, f"{tmp_path}/*.json")
    assert (size, kind) == (20, "file")
    with open(f, "a") as out:
        out.write('{"id": 3}\n')
    as_listed = con.execute(
        f"SELECT line FROM landing_lines([{q(path)}], sizes := [{size}])").fetchall()
    assert as_listed == [('{"id": 1}',), ('{"id": 2}',)]
    whole = con.execute(f"SELECT count(*) FROM landing_lines([{q(path)}])").fetchone()
    assert whole == (3,)


def test_a_file_deleted_after_listing_is_one_vanished_row(con, tmp_path):
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text('{"id": 1}\n')
    files = listed(con, f"{tmp_path}/*.json")
    os.remove(tmp_path / "a.json")
    paths = "[" + ", ".join(q(f) for f, _, _ in files) + "]"
    sizes = "[" + ", ".join(str(s) for _, s, _ in files) + "]"
    rows = con.execute(
        f"SELECT parse_filename(file), line_no, byte_offset, line, problem "
        f"FROM landing_lines({paths}, sizes := {sizes})").fetchall()
    assert rows == [
        ("a.json", None, None, None, "no such file (it vanished after it was listed)"),
        ("b.json", 1, 0, '{"id": 1}', None),
    ]


def test_a_100_mb_file_is_streamed_in_bounded_memory(tmp_path):
    line = json.dumps({"id": 1, "text": "z" * 180}) + "\n"
    n = (100 << 20) // len(line) + 1
    f = tmp_path / "huge.json"
    with open(f, "w") as out:
        for _ in range(n // 1000):
            out.write(line * 1000)
        out.write(line * (n % 1000))
    size = os.path.getsize(f)
    assert size > 100 << 20
    got = child(f"SELECT count(*), sum(length(line)) FROM landing_lines([{q(str(f))}])")
    assert got["rows"] == [[n, n * (len(line) - 1)]]
    growth_mib = got["rss_growth_kib"] / 1024
    print(f"landing_lines on {size / 2**20:.0f} MiB: peak RSS grew {growth_mib:.1f} MiB")
    assert growth_mib < 32, f"peak RSS grew {growth_mib:.1f} MiB reading a {size >> 20} MiB file"
    # The measurement can see a whole-file reader: read_text holds it all.
    control = child(f"SELECT length(content) FROM read_text({q(str(f))})")
    assert control["rows"] == [[size]]
    assert control["rss_growth_kib"] / 1024 > 100, control
