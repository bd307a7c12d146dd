#!/usr/bin/env python3
"""Benchmark: Delta tables on local disk vs on a local S3 server (moto, the
`moto[server]` pin of test/requirements.txt, on 127.0.0.1), same data, same
functions: one `delta_write` of N generated rows, a full `delta_read` scan,
`delta_version`, and one pipeline pass (tiny test model) over 20,000
shipped tweets with `--lake` local vs `s3://`. moto keeps objects in memory
in one Python process, so this measures medallion's object-store path plus
a slow server, not S3 itself: read it as an upper bound of the overhead.
Results go to the "S3" section of docs/benchmarks.md.

    .venv/bin/python test/bench/bench_s3.py [--rows N] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "test", "python"))
from bench_five_s import timed  # noqa: E402  (best of N wall-clock seconds)
from doc_section import write_section  # noqa: E402
from s3_server import running_s3  # noqa: E402

import duckdb  # noqa: E402

PY = sys.executable
EXT = os.path.join(REPO, "build", "release", "medallion.duckdb_extension")
TINY = os.path.join(REPO, "test", "fixtures", "models", "tiny-bert")
PASS_LINE = re.compile(r"^\s+(bronze|silver|gold|metrics|analyses)\s+([\d.]+) s", re.M)


def table_ops(table: str, rows: int) -> dict:
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    con.execute(f"CREATE TABLE src AS SELECT i AS id, 'user' || (i % 5000) AS user_name, "
                f"'tweet text number ' || i AS text, i * 0.5 AS score FROM range({rows}) r(i)")
    n = [0]

    def write():
        n[0] += 1
        con.execute(f"SELECT delta_write('{table}/w{n[0]}', t) FROM src t").fetchall()

    out = {"write_s": timed(write)}
    out["read_s"] = timed(lambda: con.execute(f"SELECT count(*), sum(score) FROM delta_read('{table}/w1')").fetchall())
    out["version_s"] = timed(lambda: con.execute(f"SELECT delta_version('{table}/w1')").fetchall())
    return out


def pipeline_pass(landing: str, lake: str, work: str) -> dict:
    env = dict(os.environ, BERT_SENTIMENT_MODEL=TINY, MLFLOW_TRACKING_URI=f"file://{tempfile.mkdtemp(dir=work)}")
    t0 = time.perf_counter()
    out = subprocess.run([PY, "tools/pipeline.py", "--landing", landing, "--lake", lake,
                          "--reports", tempfile.mkdtemp(dir=work)], cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"bench: pipeline on {lake} failed:\n{out.stderr[-3000:]}")
    layers = {m.group(1): float(m.group(2)) for m in PASS_LINE.finditer(out.stdout)}
    return {"seconds": seconds, **layers}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="bench-s3-")
    try:
        landing = os.path.join(work, "landing")
        subprocess.run([PY, "tools/stream.py", "--landing", landing, "--quiet"], cwd=REPO, check=True)
        local = table_ops(os.path.join(work, "local"), a.rows)
        local_pass = pipeline_pass(landing, os.path.join(work, "lake"), work)
        with running_s3() as s3:
            saved = {k: os.environ.get(k) for k in s3.env}
            os.environ.update(s3.env)
            try:
                remote = table_ops(s3.url("t"), a.rows)
                remote_pass = pipeline_pass(landing, s3.url("lake"), work)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def ratio(x, y):
        return f"{y / x:.1f}×"

    lines = [f"`make bench` (`test/bench/bench_s3.py --rows {a.rows}`), {time.strftime('%Y-%m-%d')}, "
             f"{os.cpu_count()} cores: the same tables on local disk and on a local S3 server (moto on 127.0.0.1: "
             "objects in memory, one Python process, HTTP): an upper bound of what the object-store path costs, "
             "not a measure of AWS. Best of 3 for the table operations.", "",
             "| operation | local disk s | local S3 server s | S3 ÷ local |", "|---|---:|---:|---:|"]
    for key, label in (("write_s", f"`delta_write` of {a.rows:,} rows"),
                       ("read_s", f"`delta_read` full scan of {a.rows:,} rows"),
                       ("version_s", "`delta_version` (lists the log)")):
        lines.append(f"| {label} | {local[key]:.3f} | {remote[key]:.3f} | {ratio(local[key], remote[key])} |")
    for key in ("bronze", "silver", "gold", "metrics", "analyses"):
        if key in local_pass and key in remote_pass:
            lines.append(f"| pipeline pass, 20,000 tweets (tiny model): {key} | {local_pass[key]:.2f} | "
                         f"{remote_pass[key]:.2f} | {ratio(local_pass[key], remote_pass[key])} |")
    lines.append(f"| pipeline pass, 20,000 tweets (tiny model): whole pass | {local_pass['seconds']:.2f} | "
                 f"{remote_pass['seconds']:.2f} | {ratio(local_pass['seconds'], remote_pass['seconds'])} |")
    section = "## S3\n\n" + "\n".join(lines) + "\n"
    print(section)
    if not a.no_write:
        write_section("bench_s3", section)


if __name__ == "__main__":
    main()
