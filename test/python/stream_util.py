"""What the streaming tests share: landing tweets with tools/stream.py, running
tools/pipeline.py in the real DuckDB CLI (with the tiny test model, so BERT
is not what is timed), and reading the lake back with the independent
`deltalake` reader."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
from deltalake import DeltaTable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
TINY_MODEL = os.path.join(REPO, "test", "fixtures", "models", "tiny-bert")
TABLES = ("ingest_log", "quarantine", "bronze", "silver", "gold", "evaluations")


def land(landing, rows, batch=100, malformed_every=50):
    """Streams the first `rows` sample tweets into `landing` (resuming)."""
    subprocess.run([PY, os.path.join(REPO, "tools", "stream.py"), "--landing", str(landing),
                    "--limit", str(rows), "--batch-size", str(batch),
                    "--malformed-every", str(malformed_every), "--quiet"], check=True)


def env(tmp):
    return dict(os.environ, MLFLOW_TRACKING_URI=f"file://{tmp / 'mlruns'}", BERT_SENTIMENT_MODEL=TINY_MODEL)


def pipeline_cmd(tmp, *extra):
    return [PY, os.path.join(REPO, "tools", "pipeline.py"), "--landing", str(tmp / "landing"),
            "--lake", str(tmp / "lake"), "--reports", str(tmp / "reports"), *extra]


def pipeline(tmp, *extra, timeout=300):
    out = subprocess.run(pipeline_cmd(tmp, *extra), env=env(tmp), capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def start_pipeline(tmp, *extra):
    """A pass in its own process group (so a SIGKILL takes the DuckDB CLI too)."""
    return subprocess.Popen(pipeline_cmd(tmp, "--quiet", *extra), env=env(tmp), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def table(tmp, name):
    path = tmp / "lake" / name
    if not (path / "_delta_log").is_dir():
        return None
    return pa.table(DeltaTable(str(path)).to_pyarrow_table())


def versions(tmp):
    """Each table's latest version (None when it does not exist)."""
    out = {}
    for name in TABLES + ("analyses/mention_stats", "analyses/user_stats", "analyses/hourly_stats"):
        path = tmp / "lake" / name
        out[name] = DeltaTable(str(path)).version() if (path / "_delta_log").is_dir() else None
    return out


def landed_records(landing):
    """What landed, judged in Python: (valid records by id, malformed lines)."""
    valid, bad = [], 0
    for name in sorted(os.listdir(landing)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(landing, name), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    bad += 1
                    continue
                if all(isinstance(r.get(k), str) for k in ("date", "user", "text", "sentiment")):
                    valid.append(r)
                else:
                    bad += 1
    return valid, bad


def totals(t, key, columns):
    """A state table's partial counts summed per key."""
    out = {}
    for row in t.select([key, *columns]).to_pylist():
        acc = out.setdefault(row[key], [0] * len(columns))
        for i, c in enumerate(columns):
            acc[i] += row[c]
    return out


def assert_analyses_count_gold_once(tmp):
    """The analyses' state tables (partials appended pass by pass, compacted
    now and then) add up to exactly what gold held at the version each one
    consumed: every gold row counted once."""
    for name, key in (("mention_stats", "mention"), ("user_stats", "user_name")):
        path = tmp / "lake" / "analyses" / name
        if not (path / "_delta_log").is_dir():
            continue
        state = DeltaTable(str(path))
        consumed = state.transaction_version("medallion.analyses")
        gold = pa.table(DeltaTable(str(tmp / "lake" / "gold"), version=consumed).to_pyarrow_table())
        want = gold_counts(gold)[name]
        assert totals(pa.table(state.to_pyarrow_table()), key, ["tweets", "positive"]) == want, \
            f"{name} does not add up to gold at version {consumed}"


def gold_counts(gold):
    """Per mention (gold rows) and per user (distinct tweets): [tweets, positive]."""
    want_m, want_u, seen = {}, {}, set()
    for r in gold.select(["tweet_id", "user_name", "mention", "predicted_sentiment"]).to_pylist():
        pos = int(r["predicted_sentiment"] == "positive")
        if r["mention"] is not None:
            acc = want_m.setdefault(r["mention"], [0, 0])
            acc[0], acc[1] = acc[0] + 1, acc[1] + pos
        if r["tweet_id"] not in seen:
            seen.add(r["tweet_id"])
            acc = want_u.setdefault(r["user_name"], [0, 0])
            acc[0], acc[1] = acc[0] + 1, acc[1] + pos
    return {"mention_stats": want_m, "user_stats": want_u}


def assert_each_record_once(tmp):
    """Every layer holds each landed record exactly once."""
    valid, bad = landed_records(tmp / "landing")
    bronze, quarantine = table(tmp, "bronze"), table(tmp, "quarantine")
    silver, gold = table(tmp, "silver"), table(tmp, "gold")
    bronze_keys = list(zip(bronze["source_file"].to_pylist(), bronze["line_no"].to_pylist()))
    assert len(bronze_keys) == len(set(bronze_keys)), "a landed line is in bronze twice"
    assert bronze.num_rows == len(valid), (bronze.num_rows, len(valid))
    assert quarantine.num_rows == bad, (quarantine.num_rows, bad)
    ids = {r["id"] for r in valid if r["sentiment"] in ("0", "4")}
    silver_keys = list(zip(silver["tweet_id"].to_pylist(), silver["mention"].to_pylist()))
    assert len(silver_keys) == len(set(silver_keys)), "a (tweet, mention) is in silver twice"
    assert set(silver["tweet_id"].to_pylist()) == ids
    gold_keys = list(zip(gold["tweet_id"].to_pylist(), gold["mention"].to_pylist()))
    assert sorted(gold_keys, key=str) == sorted(silver_keys, key=str), "gold is not silver scored once"
    assert_analyses_count_gold_once(tmp)
    return {"bronze": bronze.num_rows, "quarantine": quarantine.num_rows, "tweets": len(ids)}
