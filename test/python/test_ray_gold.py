"""Gold on a real Ray cluster: a head and a second node (`ray start`, one CPU
each, on 127.0.0.1), started and stopped here; `tools/pipeline.py --ray`.

Checks that the Ray run gives the same gold (tweet id -> label and
probability) as the single-process run, in ONE gold commit per pass that
carries gold's txn; that a second pass writes nothing; and that SIGKILLing
a Ray worker in the middle of a pass still leaves every tweet in gold
exactly once (Ray retries the task; the dead task's files are in no commit).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from deltalake import DeltaTable

ray = pytest.importorskip("ray", reason="ray is in test/requirements.txt: make venv")

from test_pipeline import pipeline, stream, table  # noqa: E402

BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_cli(*args, check=True):
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.run([os.path.join(BIN, "ray"), *args], env=env, capture_output=True, text=True,
                          check=check, timeout=180)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node and a worker node, one CPU each, on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("ray")
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    ray_cli("stop", "--force", check=False)
    ray_cli("start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
            "--include-dashboard", "false", "--temp-dir", str(tmp / "ray"), *common)
    try:
        ray_cli("start", "--address", address, "--node-ip-address", "127.0.0.1", *common)
        yield address
    finally:
        ray_cli("stop", "--force", check=False)


def gold_by_id(tmp):
    """tweet id -> (label, score in percent)."""
    g = table(tmp, "gold")
    return {t: (label, score) for t, label, score in
            zip(g["tweet_id"].to_pylist(), g["predicted_sentiment"].to_pylist(), g["predicted_score"].to_pylist())}


def assert_same_gold(tmp, reference):
    """Same tweets, same labels, same scores (batches differ: 1e-5 in probability, then rounded)."""
    mine, theirs = gold_by_id(tmp), gold_by_id(reference)
    assert mine.keys() == theirs.keys()
    assert {t: v[0] for t, v in mine.items()} == {t: v[0] for t, v in theirs.items()}
    assert max(abs(mine[t][1] - theirs[t][1]) for t in mine) <= 0.011


def gold_writes(tmp):
    """Gold's history: (version, operation) per commit, oldest first."""
    history = DeltaTable(str(tmp / "lake" / "gold")).history()
    return sorted((h["version"], h["operation"]) for h in history)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    stream(tmp / "landing")
    pipeline(tmp)
    return tmp


def test_gold_on_two_ray_nodes_equals_the_single_process_run_in_one_commit(cluster, single, tmp_path):
    stream(tmp_path / "landing")
    out = pipeline(tmp_path, "--ray", cluster)
    assert "in 2 Ray tasks" in out, out
    assert_same_gold(tmp_path, single)
    g = table(tmp_path, "gold")
    assert g.num_rows == table(single, "gold").num_rows
    assert len(set(g["tweet_id"].to_pylist())) == len(gold_by_id(single))
    # one commit: the table's creation with every task's files
    assert gold_writes(tmp_path) == [(0, "CREATE TABLE")]
    silver_version = DeltaTable(str(tmp_path / "lake" / "silver")).version()
    dt = DeltaTable(str(tmp_path / "lake" / "gold"))
    assert dt.transaction_version("medallion.gold") == silver_version
    assert len(dt.file_uris()) >= 2  # files written by both tasks
    # metrics as in the single-process run
    assert table(tmp_path, "evaluations").num_rows == table(single, "evaluations").num_rows
    # nothing new: no Ray task, no gold commit
    pipeline(tmp_path, "--ray", cluster)
    assert gold_writes(tmp_path) == [(0, "CREATE TABLE")]


def test_the_tasks_score_with_the_model_the_driver_was_given(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("BERT_SENTIMENT_MODEL", "fast")
    stream(tmp_path / "landing", limit=100)
    out = pipeline(tmp_path, "--ray", cluster)
    assert "Ray tasks" in out, out
    names = set(table(tmp_path, "gold")["model_name"].to_pylist())
    assert names == {"tweet-sentiment-minilm-l3"}, names


def failing_pipeline(tmp, *extra, env=None):
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "tools", "pipeline.py"), "--landing", str(tmp / "landing"),
        "--lake", str(tmp / "lake"), "--reports", str(tmp / "reports"), *extra]
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"file://{tmp / 'mlruns'}", **(env or {}))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    return out.stderr


def test_no_cluster_at_the_address_is_a_clear_error_and_gold_is_untouched(tmp_path):
    stream(tmp_path / "landing", limit=100)
    err = failing_pipeline(tmp_path, "--ray", "127.0.0.1:1")
    assert "--ray 127.0.0.1:1: no Ray cluster answers there" in err, err
    assert not (tmp_path / "lake" / "gold").exists()
    assert table(tmp_path, "silver").num_rows > 0  # the layers before gold went on


def test_a_task_that_fails_fails_the_pass_with_its_error_and_commits_no_gold(cluster, tmp_path):
    stream(tmp_path / "landing", limit=100)
    err = failing_pipeline(tmp_path, "--ray", cluster, env={"BERT_SENTIMENT_MODEL": "/nonexistent/model"})
    assert "a gold task failed on the Ray cluster" in err, err
    assert "/nonexistent/model" in err, err
    assert not (tmp_path / "lake" / "gold" / "_delta_log").exists()


def ray_workers():
    """PIDs of Ray worker processes running a gold task."""
    out = subprocess.run(["pgrep", "-f", "ray::score_share"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_ray_worker_killed_mid_pass_leaves_gold_exactly_once(cluster, single, tmp_path):
    stream(tmp_path / "landing")
    proc = pipeline(tmp_path, "--ray", cluster, "--ray-tasks", "4", wait=False)
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        workers = ray_workers()
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    assert killed, "no Ray worker was seen running a gold task"
    assert proc.wait(timeout=300) == 0
    # the pass (or, if Ray gave up, a rerun) completes with every tweet once
    pipeline(tmp_path, "--ray", cluster)
    g = table(tmp_path, "gold")
    ids = g["tweet_id"].to_pylist()
    assert len(ids) == table(single, "gold").num_rows
    assert_same_gold(tmp_path, single)
    assert [op for _, op in gold_writes(tmp_path)].count("CREATE TABLE") == 1
    # files the killed task wrote are in no commit: vacuum may remove them
    shutil.rmtree(tmp_path / "lake", ignore_errors=True)
