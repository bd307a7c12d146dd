#!/usr/bin/env python3
"""Run the SQL pipeline (sql/*.sql) in the real DuckDB CLI, once or as a stream.

`make run` lands the shipped sample in landing/ and runs one pass: bronze
ingests every landing file not yet ingested (exactly once), then silver, gold,
metrics and analyses. A second pass finds nothing new and duplicates nothing.

`make stream-run` (`--follow`) keeps polling the landing directory like a
streaming job: whenever new files have arrived it runs another pass, until
interrupted (Ctrl-C) or `--max-idle` seconds pass without new files.

The layers are plain SQL: this driver only decides when to run them and passes
the paths in as DuckDB variables (`SET VARIABLE`), so the same scripts run in
any host (`.venv/bin/duckdb -unsigned < sql/run.sql` after setting them).
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("00_setup", "10_bronze", "20_silver", "30_gold", "40_metrics", "50_analyses")


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pass_script(args, layers) -> str:
    """The SQL one pass runs: variables, then each layer file in order."""
    variables = {
        "landing": os.path.abspath(args.landing),
        "lake": os.path.abspath(args.lake),
        "reports": os.path.abspath(args.reports),
    }
    lines = [".bail on"]  # a failing layer stops the pass: later layers never see half a batch
    lines += [f"SET VARIABLE {k} = {sql_literal(v)};" for k, v in variables.items()]
    lines += [f".read {sql_literal(os.path.join(REPO, 'sql', layer + '.sql'))}" for layer in layers]
    return "\n".join(lines) + "\n"


def run_pass(args, layers) -> int:
    os.makedirs(args.lake, exist_ok=True)
    os.makedirs(args.reports, exist_ok=True)
    # From the repository root: 00_setup.sql loads build/release/medallion.duckdb_extension
    # and the local MLflow store defaults to ./mlruns.
    proc = subprocess.run([args.cli, "-unsigned", "-batch"], input=pass_script(args, layers), text=True, cwd=REPO)
    return proc.returncode


def landing_files(landing: str) -> list[str]:
    return sorted(glob.glob(os.path.join(landing, "*.json")))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cli", default=os.path.join(REPO, ".venv", "bin", "duckdb"))
    p.add_argument("--landing", default="landing")
    p.add_argument("--lake", default="lake")
    p.add_argument("--reports", default="reports", help="where analysis charts (PNG) are written")
    p.add_argument("--layers", default=",".join(LAYERS[1:]),
                   help="comma-separated layers to run after 00_setup (default: all)")
    p.add_argument("--follow", action="store_true", help="keep polling the landing directory")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between polls with --follow")
    p.add_argument("--max-idle", type=float, default=0,
                   help="with --follow: stop after this many seconds without new files (0: never)")
    args = p.parse_args(argv)
    layers = ["00_setup"] + [x for x in args.layers.split(",") if x]
    unknown = [x for x in layers if x not in LAYERS]
    if unknown:
        p.error(f"unknown layer(s) {unknown}; known: {', '.join(LAYERS)}")
    extension = os.path.join(REPO, "build", "release", "medallion.duckdb_extension")
    if not os.path.isfile(extension):
        print(f"pipeline: extension not found at {extension}: run `make build` first", file=sys.stderr)
        return 2

    if not args.follow:
        return run_pass(args, layers)

    seen: list[str] = []
    idle_since = time.monotonic()
    try:
        while True:
            files = landing_files(args.landing)
            if files != seen:
                rc = run_pass(args, layers)
                if rc != 0:
                    return rc
                seen = files
                idle_since = time.monotonic()
            elif args.max_idle and time.monotonic() - idle_since > args.max_idle:
                print(f"pipeline: no new landing files for {args.max_idle:.0f}s, stopping")
                return 0
            time.sleep(args.poll)
    except KeyboardInterrupt:
        print("pipeline: stopped")
        return 0


if __name__ == "__main__":
    sys.exit(main())
