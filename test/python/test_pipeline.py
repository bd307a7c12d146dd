"""End to end: the SQL pipeline (sql/*.sql) in the real DuckDB CLI, on a slice
of the shipped sample, checked with the independent `deltalake` reader.

Checks row counts per layer, quarantine of malformed records, that a second
run duplicates nothing, exactly-once when a run is killed mid-way and
restarted, and that the metrics equal a plain Python recount from gold.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pytest
from deltalake import DeltaTable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
ROWS, BATCH, MALFORMED_EVERY = 600, 100, 50


def mixed_sample(directory):
    """The first and last 300 tweets of the shipped sample: the sample is
    ordered by label, so this slice holds both negative and positive ones."""
    path = directory / "sample.csv"
    if not path.exists():
        lines = open(os.path.join(REPO, "data", "sentiment140_sample_20k.csv"), encoding="utf-8").readlines()
        path.write_text("".join(lines[: ROWS // 2] + lines[-ROWS // 2:]), encoding="utf-8")
    return path


def stream(landing, limit=ROWS, restart=False):
    cmd = [PY, os.path.join(REPO, "tools", "stream.py"), "--landing", str(landing), "--limit", str(limit),
           "--input", str(mixed_sample(landing.parent)),
           "--batch-size", str(BATCH), "--malformed-every", str(MALFORMED_EVERY), "--quiet"]
    subprocess.run(cmd + (["--restart"] if restart else []), check=True)


def pipeline(tmp, *extra, wait=True):
    cmd = [PY, os.path.join(REPO, "tools", "pipeline.py"), "--landing", str(tmp / "landing"),
           "--lake", str(tmp / "lake"), "--reports", str(tmp / "reports"), *extra]
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"file://{tmp / 'mlruns'}")
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def table(tmp, name):
    return pa.table(DeltaTable(str(tmp / "lake" / name)).to_pyarrow_table())


def counts(tmp):
    bronze, silver, gold = table(tmp, "bronze"), table(tmp, "silver"), table(tmp, "gold")
    quarantine = table(tmp, "quarantine")
    return {
        "bronze": bronze.num_rows,
        "bronze_ids": len(set(bronze["id"].to_pylist())),
        "quarantine": quarantine.num_rows,
        "silver_tweets": len(set(silver["tweet_id"].to_pylist())),
        "silver_rows": silver.num_rows,
        "gold_tweets": len(set(gold["tweet_id"].to_pylist())),
        "gold_rows": gold.num_rows,
    }


def expected_malformed():
    return len([i for i in range(ROWS) if (i + 1) % MALFORMED_EVERY == 0])


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    stream(tmp / "landing")
    out = pipeline(tmp)
    return tmp, out


def test_every_layer_has_the_streamed_tweets_once(first_run):
    tmp, out = first_run
    c = counts(first_run[0])
    bad = expected_malformed()
    assert c["quarantine"] == bad, c
    assert c["bronze"] == ROWS - bad == c["bronze_ids"], c
    assert c["silver_tweets"] == c["bronze_ids"], c
    assert c["gold_tweets"] == c["silver_tweets"] and c["gold_rows"] == c["silver_rows"], c
    # silver keeps one row per mention, and tweets without one
    silver = table(tmp, "silver")
    mentions = [m for m in silver["mention"].to_pylist() if m is not None]
    assert mentions and all(m == m.lower() for m in mentions)
    assert None in silver["mention"].to_pylist()


def test_quarantine_names_the_problem_and_the_place(first_run):
    tmp, _ = first_run
    q = table(tmp, "quarantine").to_pylist()
    reasons = {r["reason"] for r in q}
    assert reasons <= {"invalid JSON", "missing field: date", "missing field: user",
                       "missing field: text", "missing field: sentiment"}, reasons
    assert "invalid JSON" in reasons
    assert all(r["source_file"].endswith(".json") and r["line_no"] >= 1 for r in q)


def test_gold_columns_are_what_the_analyses_need(first_run):
    tmp, _ = first_run
    gold = table(tmp, "gold").to_pylist()
    assert {r["predicted_sentiment"] for r in gold} <= {"negative", "neutral", "positive"}
    assert all(0 <= r["predicted_score"] <= 100 for r in gold)
    assert {r["predicted_sentiment_id"] for r in gold} <= {0, 1}
    assert {r["sentiment_id"] for r in gold} == {0, 1}
    assert {(r["model_name"], r["model_version"]) for r in gold} == {("tweet-sentiment-minilm", "1.0.0")}
    assert all(r["created_at"] is not None for r in gold)


def test_metrics_equal_an_independent_recount_from_gold(first_run):
    tmp, out = first_run
    gold = table(tmp, "gold").to_pylist()
    by_tweet = {r["tweet_id"]: (r["sentiment_id"], r["predicted_sentiment_id"]) for r in gold}
    y = [a for a, _ in by_tweet.values()]
    p = [b for _, b in by_tweet.values()]
    f1s = []
    for c in (0, 1):
        tp = sum(1 for a, b in zip(y, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p) if a == c and b != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    accuracy = sum(a == b for a, b in zip(y, p)) / len(y)
    macro_f1 = sum(f1s) / 2
    ev = table(tmp, "evaluations").to_pylist()
    assert len(ev) == 1
    assert ev[0]["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert ev[0]["macro_f1"] == pytest.approx(macro_f1, abs=1e-12)
    # the same numbers reached MLflow's store (metrics/<key>: "timestamp value step")
    logged = glob.glob(str(tmp / "mlruns" / "*" / ev[0]["run_id"] / "metrics" / "macro_f1"))
    assert len(logged) == 1
    assert float(open(logged[0]).read().split()[1]) == pytest.approx(macro_f1, abs=1e-9)
    artifacts = os.listdir(os.path.dirname(os.path.dirname(logged[0])) + "/artifacts")
    assert {"confusion_matrix.json", "confusion_matrix.png"} <= set(artifacts)


def test_analyses_draw_their_charts(first_run):
    tmp, out = first_run
    pngs = sorted(os.path.basename(p) for p in glob.glob(str(tmp / "reports" / "*.png")))
    assert pngs == ["active_users.png", "sentiment_by_day.png", "sentiment_by_hour.png",
                    "top_negative_mentions.png", "top_positive_mentions.png"]
    for p in pngs:
        assert open(tmp / "reports" / p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_second_run_duplicates_nothing(first_run):
    tmp, _ = first_run
    before = counts(tmp)
    runs_before = glob.glob(str(tmp / "mlruns" / "*" / "*" / "meta.yaml"))
    pipeline(tmp)
    assert counts(tmp) == before
    assert len(table(tmp, "evaluations")) == 1  # gold unchanged: no new evaluation
    assert glob.glob(str(tmp / "mlruns" / "*" / "*" / "meta.yaml")) == runs_before


def test_a_killed_run_restarted_ingests_exactly_once(tmp_path):
    stream(tmp_path / "landing", limit=300)
    pipeline(tmp_path, "--layers", "10_bronze")  # as if stopped right after bronze
    stream(tmp_path / "landing")  # more tweets land meanwhile
    # kill whole passes at different moments, then let one finish
    for delay in (0.5, 1.5, 3.0):
        proc = pipeline(tmp_path, wait=False)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    pipeline(tmp_path)
    c = counts(tmp_path)
    bad = expected_malformed()
    assert c["bronze"] == ROWS - bad == c["bronze_ids"], c
    assert c["quarantine"] == bad, c
    assert c["gold_tweets"] == c["silver_tweets"] == c["bronze_ids"], c
    assert c["gold_rows"] == c["silver_rows"], c


def test_an_unsupported_object_store_lake_is_refused_not_written_to_a_local_directory(tmp_path):
    """Only s3:// is supported (test_delta_s3.py): another URL must fail with
    a clear error, never become a local directory named 'gs:'."""
    cmd = [PY, os.path.join(REPO, "tools", "pipeline.py"), "--landing", str(tmp_path / "landing"),
           "--lake", "gs://bucket/lake", "--reports", str(tmp_path / "reports")]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 2
    assert "pipeline: --lake 'gs://bucket/lake': gs:// is not supported yet" in out.stderr
    assert os.listdir(tmp_path) == []


def test_the_fast_model_is_chosen_by_name(tmp_path, monkeypatch):
    """BERT_SENTIMENT_MODEL=fast (bert_sentiment_model by name): gold is scored
    by the shipped student and every row names it."""
    monkeypatch.setenv("BERT_SENTIMENT_MODEL", "fast")
    stream(tmp_path / "landing", limit=100)
    out = pipeline(tmp_path)
    assert "scored with tweet-sentiment-minilm-l3 1.0.0" in out, out
    gold = table(tmp_path, "gold")
    assert set(gold["model_name"].to_pylist()) == {"tweet-sentiment-minilm-l3"}
    assert gold.num_rows >= 90
