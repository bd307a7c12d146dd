#!/usr/bin/env python3
"""Benchmark: bounded memory. One pass over a large backlog under a memory limit.

Generated tweets (`tools/generate.py`, files of 5,000) land all at once and
ONE pass of `tools/pipeline.py` (the tiny test model, so BERT is not what is
measured) takes them through every layer; once without a limit and then with
`--memory-limit 1GB --threads 2`, where DuckDB spills to the temp directory
instead of failing. Reported: the pass's seconds per layer and the peak RSS
of its DuckDB process (what `tools/pipeline.py` prints), and the bytes spilled
to the temp directory at its largest.

Goal (issue 13): 5M tweets pass with `--memory-limit 1GB`. Results go to
docs/benchmarks.md (section "Bounded memory") unless --no-doc.

    make bench
    .venv/bin/python test/bench/bench_memory.py --sizes 1000000
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
TINY = os.path.join(REPO, "test", "fixtures", "models", "tiny-bert")
FILE_ROWS = 5000
LAYERS = ("bronze", "silver", "gold", "metrics", "analyses")


def du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def one_pass(work: str, landing: str, limit: str | None, threads: int | None = None) -> dict:
    """A fresh lake, one pass over everything in `landing` (with a memory
    limit: and `--threads 2` unless `threads` says otherwise)."""
    threads = threads or (2 if limit else None)
    # a directory of its own: a failed run's is left for a look
    run = tempfile.mkdtemp(dir=work, prefix=f"run-{limit or 'none'}-{threads or 'all'}-")
    tmp = os.path.join(run, "spill")
    os.makedirs(tmp)
    cmd = [PY, "tools/pipeline.py", "--landing", landing, "--lake", os.path.join(run, "lake"),
           "--reports", os.path.join(run, "reports"), "--temp-directory", tmp]
    if limit:
        cmd += ["--memory-limit", limit]
    if threads:
        cmd += ["--threads", str(threads)]
    env = dict(os.environ, BERT_SENTIMENT_MODEL=TINY,
               MLFLOW_TRACKING_URI=f"file://{os.path.join(run, 'mlruns')}")
    spilled = [0]
    done = threading.Event()

    def watch():  # the temp directory at its largest
        while not done.wait(0.5):
            spilled[0] = max(spilled[0], du(tmp))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    done.set()
    watcher.join()
    if proc.returncode != 0:
        return {"limit": limit, "failed": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    out = proc.stdout
    rss = re.search(r"peak RSS ([\d,]+) MB", out)
    layers = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+([\d.]+) s", out, re.M)}
    shutil.rmtree(run, ignore_errors=True)
    return {"limit": limit, "seconds": took, "rss_mb": int(rss.group(1).replace(",", "")) if rss else None,
            "spilled_mb": spilled[0] / 2**20, "layers": layers}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,5000000", help="backlog sizes in tweets")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-memory-")
    rows = []
    try:
        for size in [int(s) for s in a.sizes.split(",")]:
            landing = os.path.join(work, f"landing-{size}")
            subprocess.run([PY, "tools/generate.py", "--rows", str(size), "--format", "landing", "--out", landing,
                            "--batch-size", str(FILE_ROWS)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
            limits = [None, "1GB"] if size == int(a.sizes.split(",")[0]) else ["1GB"]
            for limit in limits:
                r = one_pass(work, landing, limit)
                r["size"] = size
                rows.append(r)
                print(r, flush=True)
            shutil.rmtree(landing, ignore_errors=True)
        section = report(rows)
        print(section)
        if not a.no_doc:
            write_section("bench_memory", section)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rows) -> str:
    out = ["## Bounded memory", "",
           f"Command: `make bench` (`test/bench/bench_memory.py`), {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. "
           f"Generated tweets in files of {FILE_ROWS:,} land at once; ONE pass of `tools/pipeline.py` "
           "(tiny test model) takes them through every layer into a new lake. Peak RSS is the pass's DuckDB "
           "process; spilled is the temp directory at its largest (sampled every 0.5 s).", "",
           "| tweets | limit | pass s | " + " | ".join(LAYERS) + " | peak RSS MB | spilled MB |",
           "|---:|---|---:|" + "---:|" * len(LAYERS) + "---:|---:|"]
    for r in rows:
        limit = f"`--memory-limit {r['limit']} --threads 2`" if r["limit"] else "none"
        if "failed" in r:
            out.append(f"| {r['size']:,} | {limit} | failed: {' '.join(r['failed'])} |" + " |" * (len(LAYERS) + 2))
            continue
        out.append(f"| {r['size']:,} | {limit} | {r['seconds']:.1f} | "
                   + " | ".join(f"{r['layers'].get(k, 0):.1f}" for k in LAYERS)
                   + f" | {r['rss_mb']:,} | {r['spilled_mb']:,.0f} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
