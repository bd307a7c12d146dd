#!/usr/bin/env python3
"""Benchmark: a streaming pass costs what is new, not what the lake holds.

For lakes of 20k, 1M and 5M generated tweets (built through the pipeline
itself, with the tiny test model so that building is quick), one new landing
file of 500 tweets arrives and one pass is timed, per layer; once with the
tiny model (so BERT does not dominate) and once with the shipped model. Then
a pass with nothing new is timed. Also reported: how many of silver's files a
one-mention filter opens after all those passes (data skipping with
incremental clustering).

Goal (issue 11): the 5M-lake pass costs at most 1.5x the 20k-lake pass; a
pass with nothing new stays under 1 s. Results go to docs/benchmarks.md
(section "Streaming passes") unless --no-doc.

    make bench
    .venv/bin/python test/bench/bench_stream.py --sizes 20000,1000000
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import pipeline  # noqa: E402

PY = sys.executable
CLI = os.path.join(REPO, ".venv", "bin", "duckdb")
EXT = os.path.join(REPO, "build", "release", "medallion.duckdb_extension")
TINY = os.path.join(REPO, "test", "fixtures", "models", "tiny-bert")
SHIPPED = os.path.join(REPO, "build", "release", "models", "default")
FILE_ROWS = 500
BUILD_FILES_PER_PASS = 1000  # 500k tweets per pass while building a lake
STREAM_PASSES = 100  # ... and then one file per pass
REPEAT = 3  # timed passes per (lake, model), each with its own new file: the median is reported
LAYERS = ["00_setup", "10_bronze", "20_silver", "30_gold", "40_metrics", "50_analyses"]


def run_pass(work, model):
    args = SimpleNamespace(cli=CLI, landing=os.path.join(work, "landing"), lake=os.path.join(work, "lake"),
                           reports=os.path.join(work, "reports"), settle_seconds=0.0, memory_limit=None,
                           temp_directory=os.path.join(work, "tmp"), threads=None)
    os.environ["BERT_SENTIMENT_MODEL"] = model
    os.environ["MLFLOW_TRACKING_URI"] = f"file://{os.path.join(work, 'mlruns')}"
    start = time.perf_counter()
    summary = pipeline.run_until_settled(SimpleNamespace(**vars(args), quiet=True), LAYERS)
    return time.perf_counter() - start, summary


def median(timed):
    """The (seconds, summary) of the median pass."""
    return sorted(timed, key=lambda t: t[0])[len(timed) // 2]


def layer_seconds(summary):
    return {layer: pipeline.seconds(summary[layer]) or 0.0
            for layer in ("bronze", "silver", "gold", "metrics", "analyses") if layer in summary}


def skipping(table):
    """What a filter on one mention opens of a silver table (by the files'
    min/max), for the most frequent and the median mention: files, and the
    share of the table's rows those files hold (what the filter reads)."""
    sql = f"""LOAD '{EXT}';
    CREATE TABLE f AS SELECT path, num_records AS n, json_extract_string(stats, '$.minValues.mention') AS lo,
        json_extract_string(stats, '$.maxValues.mention') AS hi FROM delta_files('{table}');
    CREATE TABLE m AS SELECT mention, count(*) AS n FROM '{table}' WHERE mention IS NOT NULL
        GROUP BY 1 ORDER BY n DESC, mention;
    CREATE TABLE pick AS SELECT 'top' AS which, mention FROM (SELECT mention FROM m LIMIT 1)
        UNION ALL SELECT 'median', mention FROM (SELECT mention FROM m LIMIT 1 OFFSET (SELECT count(*) // 2 FROM m));
    SELECT (SELECT count(*) FROM f) AS files,
        count(*) FILTER (WHERE which = 'top') AS top,
        count(*) FILTER (WHERE which = 'median') AS median,
        sum(n) FILTER (WHERE which = 'top') / (SELECT sum(n) FROM f) AS top_rows,
        sum(n) FILTER (WHERE which = 'median') / (SELECT sum(n) FROM f) AS median_rows
    FROM f, pick WHERE pick.mention BETWEEN lo AND hi;"""
    out = subprocess.run([CLI, "-unsigned", "-batch", "-json", "-c", sql], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def fully_clustered(work):
    """A copy of silver clustered whole, by the pipeline's key and into the
    pipeline's file size: the skipping a full OPTIMIZE gives, to compare
    with incremental clustering."""
    copy = os.path.join(work, "silver-full")
    shutil.copytree(os.path.join(work, "lake", "silver"), copy)
    sql = (f"LOAD '{EXT}'; SELECT * FROM optimize_zorder('{copy}', ['mention'], "
           "target_file_size := 4194304);")
    subprocess.run([CLI, "-unsigned", "-batch", "-c", sql], capture_output=True, check=True)
    return skipping(copy)


def grow(work, files, upto):
    """Lands generated files until the landing directory holds `upto` of them:
    in bulk passes of BUILD_FILES_PER_PASS files, then the last STREAM_PASSES
    files one pass each, as a stream brings them (so the lake is in the
    state many small passes leave, unclustered files and cubes included)."""
    landing = os.path.join(work, "landing")
    have = len(glob.glob(os.path.join(landing, "*.json")))
    bulk_until = max(have, upto - STREAM_PASSES)
    while have < upto:
        step = BUILD_FILES_PER_PASS if have < bulk_until else 1
        end = min(bulk_until if have < bulk_until else upto, have + step)
        for f in files[have:end]:
            shutil.copy(f, landing)
        have = end
        run_pass(work, TINY)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000,1000000,5000000", help="lake sizes in tweets")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="bench-stream-")
    try:
        gen = os.path.join(work, "generated")
        held = 2 * REPEAT * len(sizes)  # REPEAT new files per (size, model)
        total = max(sizes) + held * FILE_ROWS
        subprocess.run([PY, "tools/generate.py", "--rows", str(total), "--format", "landing", "--out", gen,
                        "--batch-size", str(FILE_ROWS)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        files = sorted(glob.glob(os.path.join(gen, "*.json")))
        base, new = files[:-held], files[-held:]
        os.makedirs(os.path.join(work, "landing"))
        rows = []
        for size in sizes:
            grow(work, base, size // FILE_ROWS)
            for model_name, model in (("tiny test model", TINY), ("shipped model", SHIPPED)):
                timed = []
                for _ in range(REPEAT):
                    shutil.copy(new.pop(0), os.path.join(work, "landing"))
                    timed.append(run_pass(work, model))
                took, summary = median(timed)
                rows.append((size, model_name, took, layer_seconds(summary), summary))
                print(f"{size:>9,} {model_name}: {took:.2f} s (of {[round(t, 2) for t, _ in timed]}) "
                      f"{layer_seconds(summary)}", flush=True)
            idle, summary = median([run_pass(work, TINY) for _ in range(REPEAT)])
            rows.append((size, "nothing new", idle, layer_seconds(summary), summary))
            print(f"{size:>9,} nothing new: {idle:.2f} s", flush=True)
        skip = (skipping(os.path.join(work, "lake", "silver")), fully_clustered(work))
        section = report(rows, skip, max(sizes))
        print(section)
        if not a.no_doc:
            write_section("bench_stream", section)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rows, skip, biggest) -> str:
    out = ["## Streaming passes", "",
           f"Command: `make bench` (`test/bench/bench_stream.py`), {time.strftime('%Y-%m-%d')}, "
           f"{os.cpu_count()} cores. Lakes built through the pipeline with generated tweets "
           f"(`tools/generate.py`, files of {FILE_ROWS}) and the tiny test model, in passes of "
           f"{BUILD_FILES_PER_PASS * FILE_ROWS:,} tweets and then {STREAM_PASSES} passes of one file each; then ONE new file of "
           f"{FILE_ROWS} tweets lands and one pass (`tools/pipeline.py`, DuckDB CLI start and LOAD included) "
           f"is timed, {REPEAT} times (each with its own new file); the median pass is shown. "
           "Layer columns are seconds inside that pass.", "",
           "| lake (tweets) | pass | total s | bronze | silver | gold | metrics | analyses | notes |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for size, what, took, layers, summary in rows:
        clustered = summary.get("silver", {}).get("clustered_files")
        notes = f"clustered {int(clustered)} files" if clustered else ""
        out.append(f"| {size:,} | {what} | {took:.2f} | " +
                   " | ".join(f"{layers.get(k, 0):.2f}" for k in ("bronze", "silver", "gold", "metrics", "analyses")) +
                   f" | {notes} |")
    small = next(t for s, w, t, _, _ in rows if w == "tiny test model")
    large = [t for s, w, t, _, _ in rows if w == "tiny test model"][-1]
    idle = max(t for s, w, t, _, _ in rows if w == "nothing new")
    out += ["", f"Largest lake vs smallest, tiny model: **{large / small:.2f}×** (goal ≤ 1.5×); "
                f"slowest pass with nothing new: **{idle:.2f} s** (goal < 1 s).",
            "Data skipping on silver after all passes ({:,}-tweet lake): what a filter on one mention opens "
            "by the files' min/max, as files and as the share of the table's rows those files hold "
            "(what the filter reads):".format(biggest), "",
            "| silver | files | most frequent mention: files | rows read | median mention: files | rows read |",
            "|---|---:|---:|---:|---:|---:|"]
    for name, k in (("clustered incrementally by the passes", skip[0]),
                    ("the same rows clustered whole (one full OPTIMIZE, same key and file size)", skip[1])):
        out.append(f"| {name} | {k['files']} | {k['top']} ({100 * k['top'] / max(k['files'], 1):.0f}%) | "
                   f"{100 * (k['top_rows'] or 0):.1f}% | "
                   f"{k['median']} ({100 * k['median'] / max(k['files'], 1):.0f}%) | "
                   f"{100 * (k['median_rows'] or 0):.1f}% |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
