#!/usr/bin/env python3
"""landing_lines vs DuckDB's read_text + string_split + unnest, in one run.

Both split the same landing files into their non-blank lines with a line
number (what bronze needs), and the query consumes every line's text
(count and total length), so neither can skip the work:

* ``landing_lines(files, sizes := ...)``: medallion's streaming reader (one
  thread; a line at a time; problems as rows);
* ``read_text(files)`` + ``string_split(content, chr(10))`` + ``unnest``
  with ``trim(line) <> ''``: the query bronze runs today (whole files in
  memory; fails on invalid UTF-8).

Input: 200 landing files of 5,000 tweets (``tools/generate.py --format
landing``), generated into a temp dir unless ``--landing`` names one.
Prints lines/s per method (best of ``--repeat`` runs) at each thread count.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import duckdb

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXT = os.path.join(REPO, "build/release/medallion.duckdb_extension")

QUERIES = {
    "landing_lines": """
        SELECT count(*), sum(length(line)) FROM landing_lines(getvariable('files'), sizes := getvariable('sizes'))
    """,
    "read_text+string_split+unnest": """
        SELECT count(*), sum(length(line)) FROM (
            SELECT unnest(range(1, len(lines) + 1)) AS line_no, unnest(lines) AS line
            FROM (SELECT string_split(content, chr(10)) AS lines FROM read_text(getvariable('files')))
        ) WHERE trim(line) <> ''
    """,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--landing", help="existing landing dir (default: generate 200 x 5,000 tweets)")
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--per-file", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", default="1,2", help="DuckDB thread counts to run at")
    p.add_argument("--extension", default=EXT)
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-landing-") as tmp:
        landing = args.landing or os.path.join(tmp, "landing")
        if not args.landing:
            subprocess.run([sys.executable, os.path.join(REPO, "tools/generate.py"), "--format", "landing",
                            "--rows", str(args.files * args.per_file), "--batch-size", str(args.per_file),
                            "--out", landing], check=True, stdout=subprocess.DEVNULL)
        con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
        con.execute(f"LOAD '{args.extension}'")
        pattern = landing.replace("'", "''") + "/*.json"
        con.execute(f"SET VARIABLE files = (SELECT list(file ORDER BY file) FROM landing_files('{pattern}'))")
        con.execute(f"SET VARIABLE sizes = (SELECT list(size_bytes ORDER BY file) FROM landing_files('{pattern}'))")
        n_files, n_bytes = con.execute(
            f"SELECT count(*), sum(size_bytes) FROM landing_files('{pattern}')").fetchone()
        print(f"{n_files} files, {n_bytes / 2**20:.1f} MiB; best of {args.repeat}")
        results = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            con.execute(f"SET threads = {threads}")
            for name, sql in QUERIES.items():
                best, rows = float("inf"), None
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    rows = con.execute(sql).fetchone()
                    best = min(best, time.perf_counter() - t0)
                results.setdefault(name, {})[threads] = rows
                print(f"threads={threads}  {name:32s} {rows[0]:>9,} lines  {best:6.3f} s  "
                      f"{rows[0] / best / 1e6:6.2f} M lines/s  {n_bytes / best / 2**20:7.1f} MiB/s")
        distinct = {tuple(r) for per in results.values() for r in per.values()}
        if len(distinct) != 1:
            print(f"MISMATCH (lines, bytes) between methods: {results}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
