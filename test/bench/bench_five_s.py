#!/usr/bin/env python3
"""Benchmark: the five classic performance problems of a Spark job (spill,
skew, shuffle, storage, serialization), as they show up in medallion, each
with one experiment that shows the problem and one that shows the fix.

Every figure comes from this one run on this machine; docs/performance.md
explains what each means and docs/benchmarks.md (section "Five S") holds
the tables. Generated tweets (`tools/generate.py`) unless said otherwise;
passes use the tiny test model so that BERT is not what is measured, except
the scoring experiments, which use the shipped model.

    make bench
    .venv/bin/python test/bench/bench_five_s.py --backlog 300000 --no-doc
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_memory import one_pass  # noqa: E402
from bench_sentiment import worker_ort  # noqa: E402
from doc_section import write_section  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
EXT = os.path.join(REPO, "build", "release", "medallion.duckdb_extension")
SHIPPED = os.path.join(REPO, "build", "release", "models", "default")
SAMPLE = os.path.join(REPO, "data", "sentiment140_sample_20k.csv")
MB = 2**20
PARSE_DATE = ("try_strptime(replace(replace(date, ' PDT ', ' -0700 '), ' PST ', ' -0800 '), "
              "'%a %b %d %H:%M:%S %z %Y')")


def connect(threads: int = 2):
    import duckdb

    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    con.execute(f"SET threads = {threads}")
    return con


def timed(fn, repeat: int = 3) -> float:
    """Best of `repeat` wall-clock seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def generate(out: str, rows: int, fmt: str, zipf: float = 1.0, batch: int = 5000) -> str:
    subprocess.run([PY, "tools/generate.py", "--rows", str(rows), "--format", fmt, "--out", out,
                    "--batch-size", str(batch), "--zipf", str(zipf)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return out


def tweets_table(con, ndjson: str) -> None:
    con.execute(f"""CREATE OR REPLACE TABLE tweets AS
        SELECT id AS tweet_id, "user" AS user_name, text, {PARSE_DATE} AS created_at
        FROM read_json('{ndjson}', columns = {{id: 'VARCHAR', date: 'VARCHAR', "user": 'VARCHAR',
                                               text: 'VARCHAR', sentiment: 'VARCHAR'}})""")


def file_rows(con, path: str) -> list[int]:
    return [r[0] for r in con.execute(f"SELECT num_records FROM delta_files('{path}')").fetchall()]


def spread(rows: list[int]) -> str:
    """`files, largest / median rows`."""
    return f"{len(rows):,} files, largest {max(rows) / statistics.median(rows):.1f}× the median"


# ------------------------------------------------------------------ spill
def spill(work: str, landing: str, limits: list[str | None]) -> list[dict]:
    """One pass over the backlog into a fresh lake per memory limit."""
    out = []
    for limit in limits:
        r = one_pass(work, landing, limit)
        print("spill", r, flush=True)
        out.append(r)
    return out


# ------------------------------------------------------------------- skew
def user_skew(work: str, rows: int, exponents: list[float]) -> list[dict]:
    """Per Zipf exponent: the top user's share; the per-user aggregation
    (DuckDB's hash aggregate: no per-key task to straggle); a table
    partitioned by a hash bucket of the user (Spark's shuffle partitions:
    the hot key's bucket holds its share) against the same rows clustered by
    user into files of one target size."""
    out = []
    for s in exponents:
        nd = generate(os.path.join(work, f"zipf-{s}.ndjson"), rows, "ndjson", zipf=s)
        con = connect()
        tweets_table(con, nd)
        top = con.execute("SELECT max(n) / sum(n) FROM (SELECT count(*) AS n FROM tweets GROUP BY user_name)").fetchall()[0][0]
        agg = timed(lambda: con.execute("""CREATE OR REPLACE TEMP TABLE u AS SELECT user_name, count(*) AS n,
            min(created_at), max(created_at) FROM tweets GROUP BY user_name""").fetchall())
        part, clus = os.path.join(work, f"part-{s}"), os.path.join(work, f"clus-{s}")
        con.execute(f"""SELECT delta_write('{part}', t, {{'partition_by': ['bucket']}})
                        FROM (SELECT *, (hash(user_name) % 16)::INTEGER AS bucket FROM tweets) t""").fetchall()
        con.execute(f"SELECT delta_write('{clus}', t) FROM tweets t").fetchall()
        con.execute(f"SELECT * FROM optimize_zorder('{clus}', ['user_name'], target_file_size := {4 * MB})").fetchall()
        r = {"s": s, "top_share": top, "agg_s": agg, "partitioned": file_rows(con, part),
             "clustered": file_rows(con, clus)}
        print("skew", {k: v for k, v in r.items() if k not in ("partitioned", "clustered")}, flush=True)
        out.append(r)
        con.close()
        for p in (nd, part, clus):
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.remove(p)
    return out


def length_skew(n: int = 512, long_share: float = 0.0625) -> list[dict]:
    """Tweets with a long tail of long texts (1 in 16 is eight tweets
    joined, 128 tokens after truncation), scored in batches of 32 in their
    arrival order (each batch padded to its longest text) and sorted by
    token length first (what bert_sentiment does within each chunk)."""
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        sample = [r[5] for r in csv.reader(f)]
    rng = random.Random(7)
    texts = [" ".join(rng.sample(sample, 8)) if rng.random() < long_share else rng.choice(sample)
             for _ in range(n)]
    out = []
    for variant, what in (("ort-input-order", "Python onnxruntime, batches of 32 in arrival order"),
                          ("ort-sorted", "Python onnxruntime, batches of 32 sorted by token length")):
        a = SimpleNamespace(model=SHIPPED, threads=2, variant=variant, batch_size=32)
        secs = min(worker_ort(a, texts)[0] for _ in range(2))
        out.append({"what": what, "per_s": n / secs})
    con = connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS text", [texts])
    con.execute("SELECT bert_sentiment(text) FROM t LIMIT 8").fetchall()
    secs = timed(lambda: con.execute("CREATE OR REPLACE TABLE s AS SELECT bert_sentiment(text) FROM t"), 2)
    out.append({"what": "`bert_sentiment` (sorts each chunk by token length)", "per_s": n / secs})
    print("length skew", out, flush=True)
    return out


# ---------------------------------------------------------------- shuffle
def partitioned_writes(work: str, nd: str) -> list[dict]:
    """The same rows written unpartitioned, partitioned by day (one file per
    day and writer) and by hour; then a one-day query on each."""
    con = connect()
    tweets_table(con, nd)
    out = []
    for name, extra, opts in (("unpartitioned, then clustered by created_at", "", ""),
                              ("partitioned by day", ", created_at::DATE::VARCHAR AS day", ", {'partition_by': ['day']}"),
                              ("partitioned by hour", ", strftime(created_at, '%Y-%m-%d %H') AS hour",
                               ", {'partition_by': ['hour']}")):
        path = os.path.join(work, "shuffle-" + name.split()[0] + name.split()[-1])
        t0 = time.perf_counter()
        con.execute(f"SELECT delta_write('{path}', t{opts}) FROM (SELECT *{extra} FROM tweets) t").fetchall()
        if not opts:
            con.execute(f"SELECT * FROM optimize_zorder('{path}', ['created_at'], target_file_size := {4 * MB})").fetchall()
        write_s = time.perf_counter() - t0
        day = "TIMESTAMPTZ '2009-07-01 00:00:00+00'"
        where = (f"day = '2009-07-01'" if "day" in name else
                 f"hour LIKE '2009-07-01%'" if "hour" in name else
                 f"created_at >= {day} AND created_at < {day} + INTERVAL 1 DAY")
        query_s = timed(lambda: con.execute(f"SELECT count(*) FROM '{path}' WHERE {where}").fetchall())
        rows = file_rows(con, path)
        out.append({"what": name, "write_s": write_s, "files": len(rows), "query_s": query_s,
                    "median_mb": statistics.median(r[0] for r in con.execute(
                        f"SELECT size_bytes FROM delta_files('{path}')").fetchall()) / MB})
        shutil.rmtree(path, ignore_errors=True)
    print("partitioned writes", out, flush=True)
    return out


# ---------------------------------------------------------------- storage
def storage(work: str, nd: str, batches: int = 200) -> dict:
    """`batches` micro-batch appends (what a stream of small passes leaves),
    read back; then OPTIMIZE (Z-order by user) at three target file sizes,
    and VACUUM."""
    con = connect()
    tweets_table(con, nd)
    total = con.execute("SELECT count(*) FROM tweets").fetchall()[0][0]
    per = total // batches
    path = os.path.join(work, "storage")
    con.execute("CREATE TABLE numbered AS SELECT row_number() OVER () - 1 AS i, * FROM tweets")
    for b in range(batches):
        con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT * EXCLUDE (i) FROM numbered "
                    f"WHERE i // {per} = {b}) t").fetchall()
    user = con.execute("SELECT user_name FROM tweets GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 100").fetchall()[0][0]

    def reads(p):
        scan = timed(lambda: con.execute(f"SELECT count(*), sum(length(text)) FROM '{p}'").fetchall())
        point = timed(lambda: con.execute(f"SELECT count(*) FROM '{p}' WHERE user_name = '{user}'").fetchall())
        opened = con.execute(f"""SELECT count(*) FROM delta_files('{p}')
            WHERE json_extract_string(stats, '$.minValues.user_name') <= '{user}'
              AND json_extract_string(stats, '$.maxValues.user_name') >= '{user}'""").fetchall()[0][0]
        return {"files": len(file_rows(con, p)), "scan_s": scan, "point_s": point, "opened": opened}

    out = {"rows": total, "batches": batches, "before": reads(path), "after": []}
    for size in (1, 8, 64):
        copy = os.path.join(work, f"storage-{size}")
        shutil.copytree(path, copy)
        t0 = time.perf_counter()
        con.execute(f"SELECT * FROM optimize_zorder('{copy}', ['user_name'], target_file_size := {size * MB})").fetchall()
        r = {"target_mb": size, "optimize_s": time.perf_counter() - t0, **reads(copy)}
        before = du(copy)
        con.execute(f"SELECT count(*) FROM delta_vacuum('{copy}', retention_hours := 0)").fetchall()
        r["disk_before_mb"], r["disk_after_mb"] = before / MB, du(copy) / MB
        out["after"].append(r)
        shutil.rmtree(copy, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    print("storage", out, flush=True)
    return out


def du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


# ---------------------------------------------------------- serialization
def scoring(n: int = 1000) -> list[dict]:
    """bert_sentiment vectorized (batches of 32 per ONNX Runtime run) and
    row at a time (batch size 1), same texts."""
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        texts = [r[5] for r in csv.reader(f)][:n]
    con = connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS text", [texts])
    con.execute("SELECT bert_sentiment(text) FROM t LIMIT 8").fetchall()
    out = []
    for batch in (1, 32):
        con.execute(f"SET bert_sentiment_batch_size = {batch}")
        secs = timed(lambda: con.execute("CREATE OR REPLACE TABLE s AS SELECT bert_sentiment(text) FROM t"), 2)
        out.append({"batch": batch, "per_s": n / secs})
    print("scoring", out, flush=True)
    return out


def conversion(nd: str) -> list[dict]:
    """Getting a query's rows into Python: as Arrow (columnar, zero-copy
    buffers), as Python tuples, and through a Python UDF called row at a
    time vs on Arrow arrays."""
    import pyarrow.compute as pc
    from duckdb.sqltypes import BIGINT, VARCHAR

    con = connect()
    tweets_table(con, nd)
    n = con.execute("SELECT count(*) FROM tweets").fetchall()[0][0]
    q = "SELECT tweet_id, user_name, text, created_at FROM tweets"
    con.create_function("py_len_rows", lambda s: len(s), [VARCHAR], BIGINT, type="native")
    con.create_function("py_len_arrow", lambda s: pc.utf8_length(s), [VARCHAR], BIGINT, type="arrow")
    out = [
        {"what": "`.to_arrow_table()`: Arrow (columnar buffers)", "s": timed(lambda: con.sql(q).to_arrow_table())},
        {"what": "`.fetchall()`: one Python tuple per row", "s": timed(lambda: con.sql(q).fetchall())},
        {"what": "Python UDF, row at a time (`type='native'`)",
         "s": timed(lambda: con.execute("SELECT sum(py_len_rows(text)) FROM tweets").fetchall())},
        {"what": "Python UDF on Arrow arrays (`type='arrow'`)",
         "s": timed(lambda: con.execute("SELECT sum(py_len_arrow(text)) FROM tweets").fetchall())},
        {"what": "built-in `length(text)`",
         "s": timed(lambda: con.execute("SELECT sum(length(text)) FROM tweets").fetchall())},
    ]
    for r in out:
        r["rows"] = n
    print("conversion", out, flush=True)
    return out


# ----------------------------------------------------------------- report
def report(a, spills, threads, skews, lengths, parts, store, scores, conv) -> str:
    base = next(r for r in spills if r["limit"] is None)
    L = ["## Five S", "",
         f"Command: `make bench` (`test/bench/bench_five_s.py`), {time.strftime('%Y-%m-%d')}, "
         f"{os.cpu_count()} cores; what the figures mean: [performance.md](performance.md).", "",
         f"**Spill.** One pass of `tools/pipeline.py` (tiny test model) over a backlog of {a.backlog:,} "
         "generated tweets into a fresh lake, per memory limit (`--memory-limit`, `--threads 2`):", "",
         "| memory limit | pass s | peak RSS MB | spilled MB |", "|---|---:|---:|---:|"]
    for r in spills:
        lim = r["limit"] or "none"
        if "failed" in r:
            L.append(f"| {lim} | failed: {' '.join(r['failed'])} | | |")
        else:
            L.append(f"| {lim} | {r['seconds']:.1f} | {r['rss_mb']:,} | {r['spilled_mb']:,.0f} |")
    L += ["", f"**Skew (users).** {a.skew_rows:,} generated tweets, 50,000 users drawn with Zipf exponent s; "
          "per-user aggregation (best of 3); the table written partitioned by `hash(user_name) % 16` "
          "against written whole and Z-ordered by `user_name` into 4 MiB files:", "",
          "| s | top user's share | per-user aggregation s | 16 hash partitions | clustered by user |",
          "|---:|---:|---:|---|---|"]
    for r in skews:
        L.append(f"| {r['s']} | {100 * r['top_share']:.1f}% | {r['agg_s']:.3f} | {spread(r['partitioned'])} | "
                 f"{spread(r['clustered'])} |")
    L += ["", f"**Skew (text length).** {512} tweets of which about 1 in 16 is eight tweets joined "
          "(truncated to 128 tokens), shipped model, 2 threads:", "", "| scoring | tweets/s |", "|---|---:|"]
    L += [f"| {r['what']} | {r['per_s']:.0f} |" for r in lengths]
    L += ["", f"**Shuffle (threads).** The spill experiment's pass without a limit, `--threads 1` vs `--threads 2`:", "",
          "| threads | pass s | bronze | silver | gold | metrics | analyses |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for t, r in threads:
        L.append(f"| {t} | {r['seconds']:.1f} | " + " | ".join(f"{r['layers'].get(k, 0):.1f}" for k in
                                                             ("bronze", "silver", "gold", "metrics", "analyses")) + " |")
    L += ["", f"**Shuffle (partitioned writes).** {a.skew_rows:,} generated tweets over 365 days, one `delta_write`; "
          "then a query counting one day's tweets through `FROM 'path'` (best of 3):", "",
          "| layout | write s | files | median file MB | one-day query s |", "|---|---:|---:|---:|---:|"]
    L += [f"| {r['what']} | {r['write_s']:.2f} | {r['files']:,} | {r['median_mb']:.2f} | {r['query_s']:.3f} |"
          for r in parts]
    b = store["before"]
    L += ["", f"**Storage.** {store['rows']:,} tweets appended in {store['batches']} micro-batches (one file each), "
          "then OPTIMIZE (`optimize_zorder` by `user_name`) at three target file sizes and `delta_vacuum` "
          "(retention 0); full scan and a one-user filter through `FROM 'path'` (best of 3):", "",
          "| table | files | full scan s | one-user filter s | files the filter opens | optimize s | on disk MB (after vacuum) |",
          "|---|---:|---:|---:|---:|---:|---|",
          f"| {store['batches']} micro-batches | {b['files']} | {b['scan_s']:.3f} | {b['point_s']:.3f} | {b['opened']} | | |"]
    for r in store["after"]:
        L.append(f"| OPTIMIZE, target {r['target_mb']} MiB | {r['files']} | {r['scan_s']:.3f} | {r['point_s']:.3f} | "
                 f"{r['opened']} | {r['optimize_s']:.2f} | {r['disk_before_mb']:.1f} ({r['disk_after_mb']:.1f}) |")
    L += ["", "**Serialization (scoring).** 1,000 Sentiment140 tweets, shipped model, `SET threads = 2`:", "",
          "| bert_sentiment | tweets/s |", "|---|---:|"]
    L += [f"| `bert_sentiment_batch_size = {r['batch']}`{' (row at a time)' if r['batch'] == 1 else ' (default)'} "
          f"| {r['per_s']:.0f} |" for r in scores]
    L += ["", f"**Serialization (rows into Python).** {conv[0]['rows']:,} tweets (4 columns), best of 3:", "",
          "| how | s |", "|---|---:|"]
    L += [f"| {r['what']} | {r['s']:.3f} |" for r in conv]
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backlog", type=int, default=300_000, help="tweets in the spill/threads backlog")
    ap.add_argument("--skew-rows", type=int, default=500_000, help="tweets per skew/shuffle/storage table")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-five-s-")
    try:
        landing = generate(os.path.join(work, "landing"), a.backlog, "landing")
        spills = spill(work, landing, [None, "1GB", "512MB", "256MB"])
        threads = [(1, one_pass(work, landing, None, threads=1)), (2, one_pass(work, landing, None, threads=2))]
        shutil.rmtree(landing, ignore_errors=True)
        skews = user_skew(work, a.skew_rows, [0.8, 1.0, 1.2, 1.5])
        lengths = length_skew()
        nd = generate(os.path.join(work, "tweets.ndjson"), a.skew_rows, "ndjson")
        parts = partitioned_writes(work, nd)
        store = storage(work, nd)
        scores = scoring()
        conv = conversion(nd)
        section = report(a, spills, threads, skews, lengths, parts, store, scores, conv)
        print(section)
        if not a.no_doc:
            write_section("bench_five_s", section)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
