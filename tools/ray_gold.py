"""Gold's BERT scoring spread over a Ray cluster (`tools/pipeline.py --ray ADDRESS`).

A pass writes gold the way Spark writes a Delta table:

1. The driver runs bronze and silver as usual and fixes gold's plan: the
   silver version gold consumed (its `txn`) and silver's latest version.
2. One Ray task per share runs `sql/30_gold.sql` in the DuckDB CLI with
   medallion on its node, on the new silver rows whose tweet id hashes to
   its share, with `gold_commit = false`: it scores them with
   `bert_sentiment` and writes Parquet data files into gold's directory
   WITHOUT committing (`delta_write_files`), and returns the files (JSON).
3. The driver runs `sql/30_gold.sql` with no share of its own and every
   task's files (`gold_task_files`): `delta_commit_files` commits them all
   as ONE Delta version carrying gold's txn, compare-and-set on the planned
   version, then metrics and analyses run as usual.

Exactly once: a task that dies is retried by Ray (its half-written files are
in no commit); the driver commits only the files of tasks that finished; a
pass that another pass beat to the commit is skipped (its files are in no
version and `delta_vacuum` removes them);
a driver killed before the commit leaves gold as it was (the next pass does
the work again) and the files in no commit, which `delta_vacuum` removes.

Every node needs medallion where the task looks for it: the repository with
`make build` done and the DuckDB CLI (`.venv/bin/duckdb`), at the driver's
path or at `$MEDALLION_HOME` on that node. The lake must be reachable at the
same path from every node (a shared filesystem), and the model too (a
shipped name, a shared directory, or a `models:/` URI each node resolves):
the driver's BERT_SENTIMENT_MODEL, BERT_SENTIMENT_BATCH_SIZE and
MLFLOW_TRACKING_URI go with each task (see PASSED_ENV).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

# What the driver reads after bronze and silver: gold's plan for this pass.
PLAN = ["INSERT INTO pass_summary "
        "SELECT 'plan', 'gold_from', consumed(getvariable('gold'), 'gold'), NULL "
        "UNION ALL SELECT 'plan', 'silver_until', delta_version(getvariable('silver')), NULL;"]
# What a task prints: its files and how many tweets it scored.
TASK_TAIL = [".mode json",
             "SELECT 'files' AS kind, files AS value FROM gold_files WHERE files IS NOT NULL "
             "UNION ALL SELECT 'scored', count(*)::VARCHAR FROM scored;"]


# The driver's settings a task takes with it (medallion reads a setting's
# upper-case name from the environment), so that the tasks score with the
# model the driver was told to use. Not secrets: a node's credentials are
# its own to configure (a tracking URI with a password in it stays behind).
PASSED_ENV = ("BERT_SENTIMENT_MODEL", "BERT_SENTIMENT_BATCH_SIZE", "MLFLOW_TRACKING_URI")


def passed_env() -> dict:
    from urllib.parse import urlsplit

    env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    if "MLFLOW_TRACKING_URI" in env and urlsplit(env["MLFLOW_TRACKING_URI"]).password:
        del env["MLFLOW_TRACKING_URI"]
    return env


def score_share(script: str, cli: str, repo: str, env: dict) -> dict:
    """A Ray task: `script` (30_gold on one share) in the DuckDB CLI on this node."""
    home = os.environ.get("MEDALLION_HOME", repo)
    if cli.startswith(repo) and home != repo:
        cli = os.path.join(home, os.path.relpath(cli, repo))
    proc = subprocess.run([cli, "-unsigned", "-batch"], input=script, text=True, cwd=home, capture_output=True,
                          env={**os.environ, **env})
    if proc.returncode != 0:
        raise RuntimeError(f"gold task failed on {os.uname().nodename}: {(proc.stderr or proc.stdout).strip()}")
    rows = json.loads(proc.stdout.strip() or "[]")
    return {"files": [r["value"] for r in rows if r["kind"] == "files"],
            "scored": sum(int(r["value"]) for r in rows if r["kind"] == "scored")}


def sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]::VARCHAR[]"


class RayGoldFailed(Exception):
    """Gold could not run on the cluster; nothing of this pass's gold was committed."""


def reachable(address: str) -> bool:
    """Whether something listens at host:port (Ray would retry for a minute before saying no)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return True  # `auto` and the like: Ray finds the cluster itself
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
        return True
    except OSError:
        return False


def connect(address: str):
    # Ray's warning that it will stop overriding CUDA_VISIBLE_DEVICES: the
    # tasks use no GPU either way
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        import ray
        from ray import cloudpickle
    except ImportError:
        raise RayGoldFailed("--ray needs the `ray` package: make venv (test/requirements.txt pins it), "
                            "or pip install the version pinned there") from None
    if not reachable(address):
        raise RayGoldFailed(f"--ray {address}: no Ray cluster answers there (start one with "
                            f"`ray start --head --port {address.rpartition(':')[2]}`)")
    if not ray.is_initialized():
        try:
            ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        except Exception as e:  # Ray raises ConnectionError, RuntimeError, ...
            raise RayGoldFailed(f"--ray {address}: cannot join the Ray cluster: {e}") from None
    # the tasks' code travels by value: workers need not import tools/
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return ray


def score_on_ray(args, plan: dict, pass_script) -> dict:
    """Runs the shares as Ray tasks; returns their files and scored count."""
    ray = connect(args.ray)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    shares = args.ray_tasks or max(1, cpus // args.ray_task_cpus)
    task = ray.remote(num_cpus=args.ray_task_cpus, max_retries=args.ray_retries)(score_share)
    pending, env = [], passed_env()
    for k in range(shares):
        script = pass_script(args, ["00_setup", "30_gold"], raw={
            **plan, "gold_shares": str(shares), "gold_share": str(k), "gold_commit": "false",
        }, threads=args.ray_task_cpus, tail=TASK_TAIL)
        pending.append(task.remote(script, args.cli, args.repo, env))
    try:
        results = ray.get(pending)
    except ray.exceptions.RayError as e:
        # a task that failed after its retries: nothing was committed, its
        # files (and the other tasks') are in no version
        raise RayGoldFailed(f"a gold task failed on the Ray cluster: {e}") from None
    return {"files": [f for r in results for f in r["files"]],
            "scored": sum(r["scored"] for r in results), "tasks": shares}


def run_pass(args, layers: list[str], pass_script, run_script) -> dict:
    """One pass with gold's scoring on Ray; the summary as `run_script` gives it."""
    before = [x for x in layers if x < "30_gold"]
    after = [x for x in layers if x > "30_gold"]
    summary = run_script(pass_script(args, before, extra=PLAN))
    plan_row = summary.pop("plan", {})
    if "30_gold" not in layers:
        if after:
            summary.update(run_script(pass_script(args, ["00_setup"] + after)))
        return summary
    gold_from, silver_until = plan_row.get("gold_from"), plan_row.get("silver_until")
    if silver_until is None:  # no silver yet: nothing to score, and no plan to commit
        if after:
            summary.update(run_script(pass_script(args, ["00_setup"] + after)))
        return summary
    plan = {"gold_plan_from": str(int(gold_from)), "gold_plan_until": str(int(silver_until))}
    work = {"files": [], "scored": 0, "tasks": 0}
    started = time.time()
    if silver_until > gold_from:
        work = score_on_ray(args, plan, pass_script)
    tasks_s = time.time() - started
    rest = run_script(pass_script(args, ["00_setup", "30_gold"] + after, raw={
        **plan, "gold_shares": "0", "gold_task_files": sql_list(work["files"]),
    }))
    gold = rest.setdefault("gold", {})
    if gold.get("scored") is not None:  # the commit went in: the tasks' tweets are gold's
        gold["scored"] = work["scored"]
    gold["ray_tasks"] = work["tasks"]
    gold["ray_tasks_s"] = tasks_s
    gold["started"] = started  # gold's time includes the tasks'
    summary.update(rest)
    return summary
