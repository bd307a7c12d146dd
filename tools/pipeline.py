#!/usr/bin/env python3
"""Run the SQL pipeline (sql/*.sql) in the real DuckDB CLI, once or as a stream.

`make run` lands the shipped sample in landing/ and runs one pass: bronze
claims and ingests every landing file not yet ingested (exactly once), then
silver, gold, metrics and analyses each take what their input committed
since they last ran. A second pass finds nothing new and writes nothing.

`make stream-run` (`--follow`) keeps polling the landing directory like a
streaming job: whenever new files have arrived it runs another pass, one
line per pass, until interrupted (Ctrl-C) or `--max-idle` seconds pass
without new files.

The layers are plain SQL: this driver only decides when to run them and passes
the paths and limits in as DuckDB variables and settings, so the same scripts
run in any host. Several drivers may run at once on the same landing
directory and lake (another process, another machine on a shared
filesystem): every layer commits with a compare-and-set on the version it
read, so a pass that lost a race writes nothing, and this driver runs
another pass to pick up what is left.

`--ray ADDRESS` spreads gold's scoring over a Ray cluster: tasks write
gold's data files, this driver commits them as one version (tools/ray_gold.py).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import resource
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("00_setup", "10_bronze", "20_silver", "30_gold", "40_metrics", "50_analyses")
# A pass that lost a race to a concurrent pass is run again, at most this often.
MAX_CONTENDED_RERUNS = 5


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def is_s3(location: str) -> bool:
    """An s3://bucket/prefix lake (the Delta functions reach it through the
    AWS_* environment: credentials, AWS_REGION, AWS_ENDPOINT_URL)."""
    return location[:5].lower() == "s3://"


def lake_location(lake: str) -> str:
    """The lake as the SQL sees it: an s3:// URL unchanged, a local path absolute."""
    return lake if is_s3(lake) else os.path.abspath(lake)


def pass_script(args, layers, raw=None, threads=None, extra=None, tail=None) -> str:
    """The SQL one pass runs: settings, variables, each layer file, the summary.

    `raw`: more variables, as SQL expressions; `threads`: DuckDB threads
    instead of --threads; `extra`: lines run after the layers; `tail`: lines
    instead of printing the summary."""
    variables = {
        "landing": os.path.abspath(args.landing),
        "lake": lake_location(args.lake),
        "reports": os.path.abspath(args.reports),
        "settle_seconds": str(args.settle_seconds),
    }
    for name in ("cluster_min_files", "cluster_min_bytes"):
        if getattr(args, name, None) is not None:
            variables[name] = str(int(getattr(args, name)))
    lines = [".bail on"]  # a failing layer stops the pass: later layers never see half a batch
    if args.memory_limit:
        lines.append(f"SET memory_limit = {sql_literal(args.memory_limit)};")
        lines.append(f"SET temp_directory = {sql_literal(os.path.abspath(args.temp_directory))};")
    if threads or args.threads:
        lines.append(f"SET threads = {int(threads or args.threads)};")
    lines += [f"SET VARIABLE {k} = {sql_literal(v)};" for k, v in variables.items()]
    lines += [f"SET VARIABLE {k} = {v};" for k, v in (raw or {}).items()]
    lines += [f".read {sql_literal(os.path.join(REPO, 'sql', layer + '.sql'))}" for layer in layers]
    lines += extra or []
    lines += tail or [".mode json", "SELECT layer, item, value, note FROM pass_summary;"]
    return "\n".join(lines) + "\n"


class PassFailed(Exception):
    pass


def run_pass(args, layers) -> dict:
    """One pass; returns {layer: {item: value or note}}."""
    if not is_s3(args.lake):  # an object store has no directories to create
        os.makedirs(args.lake, exist_ok=True)
    os.makedirs(args.reports, exist_ok=True)
    if getattr(args, "ray", None):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ray_gold  # tools/: imports ray, which only a --ray run needs

        try:
            return ray_gold.run_pass(args, layers, pass_script, lambda script: run_script(args, script))
        except ray_gold.RayGoldFailed as e:
            raise PassFailed(str(e)) from None
    return run_script(args, pass_script(args, layers))


def run_script(args, script: str) -> dict:
    """A pass script in the DuckDB CLI; its summary as {layer: {item: value or note}}."""
    # From the repository root: 00_setup.sql loads build/release/medallion.duckdb_extension
    # and the local MLflow store defaults to ./mlruns.
    proc = subprocess.run([args.cli, "-unsigned", "-batch"], input=script,
                          text=True, cwd=REPO, capture_output=True)
    if proc.returncode != 0:
        raise PassFailed((proc.stderr or proc.stdout).strip() or f"duckdb exited with {proc.returncode}")
    rows = json.loads(proc.stdout.strip() or "[]")
    summary: dict = {}
    for r in rows:
        summary.setdefault(r["layer"], {})[r["item"]] = r["note"] if r["note"] is not None else r["value"]
    return summary


def contended(summary: dict) -> list[str]:
    return [f"{layer}: {items['contended']}" for layer, items in summary.items()
            if items.get("contended")]


def seconds(items: dict) -> float | None:
    if items.get("started") is None or items.get("finished") is None:
        return None
    return items["finished"] - items["started"]


def count(value) -> str:
    return f"{int(value or 0):,}"


def describe(layer: str, items: dict) -> str:
    """One line about what a layer did."""
    if layer == "bronze":
        return (f"{count(items.get('files'))} files, {count(items.get('records'))} records, "
                f"{count(items.get('quarantined'))} quarantined")
    if layer == "silver":
        text = f"{count(items.get('tweets'))} new tweets ({count(items.get('duplicates'))} duplicates dropped)"
        if items.get("clustered_files"):
            text += f", clustered {count(items['clustered_files'])} files"
        return text
    if layer == "gold":
        text = f"{count(items.get('scored'))} tweets scored with {items.get('model') or '?'}"
        if items.get("ray_tasks"):
            text += f" in {int(items['ray_tasks'])} Ray tasks ({items['ray_tasks_s']:.2f} s; the commit after them)"
        return text
    if layer == "metrics":
        if items.get("run") is None:
            return "nothing new to evaluate"
        text = (f"accuracy {items.get('accuracy', 0):.4f}, macro-F1 {items.get('macro_f1', 0):.4f} "
                f"over {count(items.get('tweets'))} tweets (MLflow run {items['run']})")
        if items.get("champion"):
            text += f"; model version {int(items['champion'])} is the new champion"
        return text
    if layer == "analyses":
        if items.get("mentions") is None:
            return "nothing new"
        return (f"{count(items.get('mentions'))} mentions, {count(items.get('users'))} users, "
                f"{count(items.get('charts'))} charts redrawn")
    return ""


def peak_rss_mb() -> float:
    """The largest resident set of any pass's DuckDB process so far."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def print_summary(summary: dict, reports: str) -> None:
    if "setup" in summary:
        print(f"medallion {summary['setup'].get('medallion')} (peak RSS {peak_rss_mb():,.0f} MB)")
    for layer in ("bronze", "silver", "gold", "metrics", "analyses"):
        if layer in summary:
            took = seconds(summary[layer])
            took_text = f"{took:7.2f} s" if took is not None else ""
            print(f"  {layer:<9} {took_text}  {describe(layer, summary[layer])}")
    if summary.get("analyses", {}).get("charts"):
        print(f"  charts in {os.path.abspath(reports)}")


def pass_line(n: int, summary: dict, took: float) -> str:
    b, g = summary.get("bronze", {}), summary.get("gold", {})
    line = (f"pass {n}: {count(b.get('files'))} files, {count(b.get('records'))} records, "
            f"{count(b.get('quarantined'))} quarantined, {count(g.get('scored'))} scored")
    if g.get("latency_s") is not None:
        line += f", landing->gold {g['latency_s']:.1f} s"
    return line + f" (pass {took:.1f} s)"


def run_until_settled(args, layers) -> dict:
    """A pass, and again while a concurrent pass won a race (what it left is picked up)."""
    summary = run_pass(args, layers)
    for _ in range(MAX_CONTENDED_RERUNS):
        lost = contended(summary)
        if not lost:
            break
        if not args.quiet:
            print(f"pipeline: a concurrent pass committed first ({'; '.join(lost)}); running again")
        summary = run_pass(args, layers)
    return summary


def landing_files(landing: str) -> list[str]:
    return sorted(glob.glob(os.path.join(landing, "*.json")))


def print_progress(args) -> int:
    lake = sql_literal(lake_location(args.lake))
    script = (f"SET VARIABLE lake = {lake};\n"
              f".read {sql_literal(os.path.join(REPO, 'sql', '00_setup.sql'))}\n"
              f"SELECT * FROM pipeline_progress({lake});\n")
    proc = subprocess.run([args.cli, "-unsigned", "-batch", "-box"], input=script, text=True, cwd=REPO)
    return proc.returncode


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cli", default=os.path.join(REPO, ".venv", "bin", "duckdb"))
    p.add_argument("--landing", default="landing")
    p.add_argument("--lake", default="lake",
                   help="where the Delta tables live: a directory, or s3://bucket/prefix (credentials, "
                        "AWS_REGION and AWS_ENDPOINT_URL from the AWS_* environment)")
    p.add_argument("--reports", default="reports", help="where analysis charts (PNG) are written")
    p.add_argument("--layers", default=",".join(LAYERS[1:]),
                   help="comma-separated layers to run after 00_setup (default: all)")
    p.add_argument("--follow", action="store_true", help="keep polling the landing directory")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between polls with --follow")
    p.add_argument("--max-idle", type=float, default=0,
                   help="with --follow: stop after this many seconds without new files (0: never)")
    p.add_argument("--settle-seconds", type=float, default=5.0,
                   help="a landing file without a final newline is taken once unchanged this long (default: 5)")
    p.add_argument("--cluster-min-files", type=int,
                   help="cluster silver once this many unclustered files have gathered (default: 64)")
    p.add_argument("--cluster-min-bytes", type=int,
                   help="... or this many bytes of them (default: 16 MiB)")
    p.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 1GB; spills to --temp-directory")
    p.add_argument("--temp-directory", default=".tmp", help="where DuckDB spills (default: .tmp)")
    p.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="score gold on this Ray cluster (host:port of its head; `auto`: the local one); "
                        "see tools/ray_gold.py")
    p.add_argument("--ray-tasks", type=int, help="gold shares, one Ray task each (default: the cluster's CPUs "
                   "divided by --ray-task-cpus)")
    p.add_argument("--ray-task-cpus", type=int, default=1, help="CPUs (and DuckDB threads) per Ray task (default: 1)")
    p.add_argument("--ray-retries", type=int, default=3, help="times Ray retries a task whose worker died")
    p.add_argument("--progress", action="store_true",
                   help="print how far each layer has consumed its input, and exit")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = p.parse_args(argv)
    args.repo = REPO
    layers = ["00_setup"] + [x for x in args.layers.split(",") if x]
    unknown = [x for x in layers if x not in LAYERS]
    if unknown:
        p.error(f"unknown layer(s) {unknown}; known: {', '.join(LAYERS)}")
    for flag, value in (("--lake", args.lake), ("--landing", args.landing), ("--reports", args.reports)):
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        if scheme and not (flag == "--lake" and is_s3(value)):
            # Without this a URL would silently become a local directory named 's3:'.
            print(f"pipeline: {flag} {value!r}: {scheme.group(1)}:// is not supported yet; "
                  "the lake must be a local (or mounted) directory or an s3:// URL, "
                  "the landing and reports local (or mounted) directories", file=sys.stderr)
            return 2
    extension = os.path.join(REPO, "build", "release", "medallion.duckdb_extension")
    if not os.path.isfile(extension):
        print(f"pipeline: extension not found at {extension}: run `make build` first", file=sys.stderr)
        return 2
    if args.progress:
        return print_progress(args)

    if not args.follow:
        try:
            summary = run_until_settled(args, layers)
        except PassFailed as e:
            print(f"pipeline: the pass failed, nothing of the failing step was committed:\n{e}", file=sys.stderr)
            return 1
        if not args.quiet:
            print_summary(summary, args.reports)
        return 0

    seen: list[str] = []
    idle_since = time.monotonic()
    passes = 0
    try:
        while True:
            files = landing_files(args.landing)
            if files != seen:
                started = time.monotonic()
                try:
                    summary = run_until_settled(args, layers)
                except PassFailed as e:
                    print(f"pipeline: pass {passes + 1} failed, nothing of the failing step was committed:\n{e}",
                          file=sys.stderr)
                    return 1
                passes += 1
                if not args.quiet:
                    print(pass_line(passes, summary, time.monotonic() - started), flush=True)
                seen = files
                idle_since = time.monotonic()
            elif args.max_idle and time.monotonic() - idle_since > args.max_idle:
                if not args.quiet:
                    print(f"pipeline: no new landing files for {args.max_idle:.0f}s, stopping")
                return 0
            time.sleep(args.poll)
    except KeyboardInterrupt:
        if not args.quiet:
            print("pipeline: stopped")
        return 0


if __name__ == "__main__":
    sys.exit(main())
