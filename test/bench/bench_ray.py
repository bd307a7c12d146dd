#!/usr/bin/env python3
"""Benchmark: gold's scoring in one process vs on a local Ray cluster of two
nodes (`ray start`, one CPU each, 127.0.0.1), same tweets, same model.

For each of a small pass (200 tweets: the fixed cost of a Ray pass) and a
full one (the 20,000 shipped tweets), a fresh lake: bronze and silver as
usual, then gold by `tools/pipeline.py` alone and with `--ray`. Reports
gold's seconds and tweets/s, and for Ray the tasks' part (planning, task
start, DuckDB + model load on each node, scoring, writing files) and the
driver's commit of all their files. Results go to the "Ray" section of
docs/benchmarks.md.

    .venv/bin/python test/bench/bench_ray.py [--no-write]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

PY = sys.executable
RAY = os.path.join(os.path.dirname(PY), "ray")
ENV = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
GOLD = re.compile(r"gold\s+([\d.]+) s\s+([\d,]+) tweets scored.*?(?:\(([\d.]+) s; the commit after them\))?$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray(*args):
    subprocess.run([RAY, *args], env=ENV, check=True, capture_output=True, timeout=180)


def gold_pass(work: str, landing: str, *extra) -> dict:
    run = tempfile.mkdtemp(dir=work)
    env = dict(ENV, MLFLOW_TRACKING_URI=f"file://{os.path.join(run, 'mlruns')}")
    out = subprocess.run([PY, "tools/pipeline.py", "--landing", landing, "--lake", os.path.join(run, "lake"),
                          "--reports", os.path.join(run, "reports"), *extra],
                         cwd=REPO, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench: pipeline {' '.join(extra)} failed:\n{out.stderr[-3000:]}")
    m = GOLD.search(out.stdout)
    seconds, tweets = float(m.group(1)), int(m.group(2).replace(",", ""))
    tasks = float(m.group(3)) if m.group(3) else None
    return {"seconds": seconds, "tweets": tweets, "tasks_s": tasks,
            "commit_s": seconds - tasks if tasks is not None else None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="bench-ray-")
    port = free_port()
    address = f"127.0.0.1:{port}"
    rows = []
    try:
        ray("stop", "--force")
        common = ["--num-cpus", "1", "--disable-usage-stats", "--node-ip-address", "127.0.0.1"]
        ray("start", "--head", "--port", str(port), "--include-dashboard", "false",
            "--temp-dir", os.path.join(work, "ray"), *common)
        ray("start", "--address", address, *common)
        for limit in (200, 20000):
            landing = os.path.join(work, f"landing-{limit}")
            subprocess.run([PY, "tools/stream.py", "--landing", landing, "--limit", str(limit), "--quiet"],
                           cwd=REPO, check=True)
            single = gold_pass(work, landing)
            on_ray = gold_pass(work, landing, "--ray", address)
            print(f"bench: {limit} tweets: one process {single}, Ray {on_ray}", flush=True)
            rows.append((limit, single, on_ray))
    finally:
        subprocess.run([RAY, "stop", "--force"], env=ENV, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    lines = [f"`make bench` (`test/bench/bench_ray.py`), {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores: "
             "gold of one pass over a fresh lake, the shipped model; one process (DuckDB on every core) vs a "
             "local Ray cluster of two nodes with one CPU each (`ray start --num-cpus 1`, both on this machine, "
             "so the two share the same cores the single process uses).", "",
             "| tweets | one process s | tweets/s | Ray s | tweets/s | Ray tasks s | driver commit s |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for limit, s, r in rows:
        lines.append(f"| {s['tweets']:,} | {s['seconds']:.2f} | {s['tweets'] / s['seconds']:,.0f} | "
                     f"{r['seconds']:.2f} | {r['tweets'] / r['seconds']:,.0f} | {r['tasks_s']:.2f} | "
                     f"{r['commit_s']:.2f} |")
    small, full = rows[0], rows[-1]
    fixed = small[2]["tasks_s"] - small[2]["tweets"] / (full[2]["tweets"] / full[2]["tasks_s"])
    lines += ["", f"Fixed cost of a Ray pass (tasks' time at 200 tweets less their scoring at the full pass's "
                  f"rate): ~{fixed:.2f} s; the commit of every task's files: {full[2]['commit_s']:.2f} s at "
                  f"{full[2]['tweets']:,} tweets. README, \"Scaling out\", works these into N nodes."]
    section = "## Ray\n\n" + "\n".join(lines) + "\n"
    print(section)
    if not a.no_write:
        write_section("bench_ray", section)


if __name__ == "__main__":
    main()
