"""Shared helpers for the bert_sentiment tests: the built extension, fixture
models and their reference outputs (expected.json, written by Python
onnxruntime scoring each text alone)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "build" / "release" / "medallion.duckdb_extension"
FIXTURES = REPO / "test" / "fixtures" / "models"
MODELS = ["tiny-bert", "tiny-roberta", "default", "fast"]
# where each model lives: the test fixtures, and the shipped models
MODEL_DIRS = {
    "tiny-bert": FIXTURES / "tiny-bert",
    "tiny-roberta": FIXTURES / "tiny-roberta",
    "default": REPO / "models" / "default",
    "fast": REPO / "models" / "fast",
}
TOLERANCE = 1e-5


def connect(**config):
    import duckdb

    if not EXTENSION.exists():
        pytest.fail(f"{EXTENSION} is missing: run `make build` first")
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", **config})
    con.execute(f"LOAD '{EXTENSION}'")
    return con


def model_dir(name: str) -> Path:
    d = MODEL_DIRS.get(name, FIXTURES / name)
    if not (d / "model.onnx").exists():
        pytest.skip(f"fixture model {name} is not present")
    return d


def expected(name: str) -> dict:
    return json.loads((model_dir(name) / "expected.json").read_text(encoding="utf-8"))


def score_all(con, texts, model, batch_size=None) -> list:
    """bert_sentiment over `texts` as one table, in the table's order."""
    con.execute("CREATE OR REPLACE TEMP TABLE t (i INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    if batch_size:
        con.execute(f"SET bert_sentiment_batch_size = {int(batch_size)}")
    try:
        rows = con.execute(
            "SELECT i, bert_sentiment(text, ?) FROM t ORDER BY i", [str(model)]
        ).fetchall()
    finally:
        con.execute("RESET bert_sentiment_batch_size")
    assert [r[0] for r in rows] == list(range(len(texts)))
    return [r[1] for r in rows]


def assert_matches(result: dict, case: dict, labels: list[str], where: str = ""):
    """One result against its expected.json case (label and every probability)."""
    assert result is not None, f"{where}: NULL for {case['text'][:40]!r}"
    probs = [result["probabilities"][name] for name in labels]
    diff = max(abs(a - b) for a, b in zip(probs, case["probabilities"]))
    assert diff < TOLERANCE, f"{where}: {case['text'][:40]!r}: |diff| {diff:.2e}"
    assert result["label"] == case["label"], f"{where}: {case['text'][:40]!r}"
    assert abs(result["score"] - case["probabilities"][case["label_id"]]) < TOLERANCE
    assert list(result["probabilities"]) == labels  # MAP keys in id order


def run_fresh(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process (ONNX Runtime loads once per process)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300
    )
