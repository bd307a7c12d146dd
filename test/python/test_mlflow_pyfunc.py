"""The registered model is a real MLflow model: stock MLflow loads it.

Why: `mlflow_register_model` writes an `MLmodel` with a `python_function`
flavor (loader: code/medallion_pyfunc.py, onnxruntime + tokenizers) next to
the ONNX files, so `mlflow.pyfunc.load_model('models:/<name>@champion')` —
and `mlflow.pyfunc.spark_udf` on Spark, which loads the model the same way —
scores with the very files the SQL pipeline registered. These tests load it
with MLflow's own loader, from a local store and from a real MLflow server,
and hold its labels and probabilities to bert_sentiment's on the same texts.
"""
import csv
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mlflow_helpers import connect, mlflow_server, one, store  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "default"
TINY_MODEL = REPO / "test" / "fixtures" / "models" / "tiny-bert"
TWEETS = REPO / "data" / "sentiment140_sample_20k.csv"
TOLERANCE = 1e-5


def tweets(n: int) -> list:
    with open(TWEETS, encoding="utf-8", newline="") as f:
        # sentiment140: target, id, date, query, user, text; no header
        return [r[5] for _, r in zip(range(n), csv.reader(f))]


def bert_sentiment(con, texts, model) -> pd.DataFrame:
    """bert_sentiment over `texts` in order: label and probabilities per label."""
    con.execute("CREATE OR REPLACE TEMP TABLE t (i INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    rows = con.execute(
        "SELECT s.label, s.score, map_entries(s.probabilities) "
        "FROM (SELECT i, bert_sentiment(text, ?) AS s FROM t) ORDER BY i",
        [str(model)],
    ).fetchall()
    out = pd.DataFrame({"label": [r[0] for r in rows], "score": [r[1] for r in rows]})
    for entry in rows[0][2]:
        out[f"prob_{entry['key']}"] = [dict((e["key"], e["value"]) for e in r[2])[entry["key"]] for r in rows]
    return out


def register(con, model: Path) -> str:
    run = one(con, "SELECT mlflow_start_run('pyfunc tests')")
    one(con, f"SELECT mlflow_register_model('sentiment', '{model}', '{run}', MAP {{'f1': '0.7'}}, 'champion')")
    con.execute(f"SELECT mlflow_end_run('{run}')")
    return run


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame):
    assert list(got.columns) == list(want.columns)
    assert got["label"].tolist() == want["label"].tolist()
    probs = [c for c in want.columns if c.startswith("prob_")]
    diff = np.abs(got[probs + ["score"]].to_numpy(np.float64) - want[probs + ["score"]].to_numpy(np.float64))
    assert diff.max() <= TOLERANCE, f"largest difference {diff.max()}"


def test_pyfunc_from_the_registry_scores_200_tweets_as_bert_sentiment_does(store):
    if not (DEFAULT_MODEL / "model.onnx").exists():
        pytest.skip("the shipped model is not present")
    con = connect(store[0])
    register(con, DEFAULT_MODEL)
    texts = tweets(200)

    model = mlflow.pyfunc.load_model("models:/sentiment@champion")
    got = model.predict(pd.DataFrame({"text": texts}))
    want = bert_sentiment(con, texts, "models:/sentiment@champion")
    assert list(got.columns) == ["label", "score", "prob_negative", "prob_neutral", "prob_positive"]
    assert_same_scores(got, want)
    assert len(set(got["label"])) == 3  # real tweets, not one degenerate answer

    # Batch-independent, as bert_sentiment: a text alone scores the same.
    alone = model.predict(pd.DataFrame({"text": texts[7:8]}))
    assert_same_scores(alone, want.iloc[7:8].reset_index(drop=True))
    # A missing text gives a missing label, as NULL does in SQL.
    gaps = model.predict(pd.DataFrame({"text": [texts[0], None]}))
    assert gaps["label"][0] == want["label"][0] and pd.isna(gaps["label"][1]) and np.isnan(gaps["score"][1])
    # The signature MLflow reads (spark_udf takes its result type from it).
    sig = model.metadata.get_output_schema()
    assert sig.input_names() == ["label", "score", "prob_negative", "prob_neutral", "prob_positive"]
    assert model.metadata.get_input_schema().input_names() == ["text"]


def test_pyfunc_loads_from_an_mlflow_server(tmp_path, monkeypatch):
    if not (TINY_MODEL / "model.onnx").exists():
        pytest.skip("fixture model tiny-bert is not present")
    monkeypatch.setenv("MEDALLION_MODEL_CACHE", str(tmp_path / "cache"))
    with mlflow_server(tmp_path) as url:
        mlflow.set_tracking_uri(url)
        mlflow.set_registry_uri(url)
        try:
            con = connect(url)
            register(con, TINY_MODEL)
            texts = tweets(40)
            got = mlflow.pyfunc.load_model("models:/sentiment@champion").predict(pd.DataFrame({"text": texts}))
            assert_same_scores(got, bert_sentiment(con, texts, TINY_MODEL))
        finally:
            mlflow.set_tracking_uri(None)
            mlflow.set_registry_uri(None)


def test_a_directory_that_is_already_an_mlflow_model_keeps_its_mlmodel(store, tmp_path):
    model = tmp_path / "own"
    model.mkdir()
    for f in ("model.onnx", "tokenizer.json", "config.json"):
        (model / f).write_bytes((TINY_MODEL / f).read_bytes())
    (model / "MLmodel").write_text("flavors: {}\n")
    con = connect(store[0])
    register(con, model)
    resolved = Path(one(con, "SELECT mlflow_resolve_model('models:/sentiment@champion')"))
    assert (resolved / "MLmodel").read_text() == "flavors: {}\n"
    assert not (resolved / "code").exists()
