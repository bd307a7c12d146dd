"""bert_sentiment against the reference outputs of the fixture models.

Why: the SQL function must give the same probabilities as Python
onnxruntime on the same model (expected.json, each text scored alone),
whether a text is scored alone, inside a big mixed chunk, or in another
order: batching and padding must not change answers. BERT-style
(token_type_ids) and RoBERTa-style (no token_type_ids) graphs both count.
"""
import random

import pytest

from sentiment_util import (
    MODELS,
    assert_matches,
    connect,
    expected,
    model_dir,
    score_all,
)


@pytest.fixture(scope="module")
def con():
    c = connect()
    yield c
    c.close()


@pytest.mark.parametrize("name", MODELS)
def test_each_text_alone_matches_python_onnxruntime(con, name):
    doc, d = expected(name), model_dir(name)
    labels = [doc["id2label"][str(i)] for i in range(len(doc["id2label"]))]
    for case in doc["cases"]:
        (result,) = con.execute("SELECT bert_sentiment(?, ?)", [case["text"], str(d)]).fetchone()
        assert_matches(result, case, labels, "alone")


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("batch_size", [32, 1, 7])
def test_big_mixed_chunks_in_any_order_match(con, name, batch_size):
    doc, d = expected(name), model_dir(name)
    labels = [doc["id2label"][str(i)] for i in range(len(doc["id2label"]))]
    # 3,000 rows (two DataChunks, many batches) for the tiny models; the real
    # one is ~100x slower, so 400 rows (one chunk, mixed lengths) there
    shipped = name in ("default", "fast")
    cases = doc["cases"] * (20 if shipped else 150)
    rng = random.Random(batch_size)
    for order in range(1 if shipped and batch_size != 32 else 2):
        idx = list(range(len(cases)))
        rng.shuffle(idx)
        texts = [cases[i]["text"] for i in idx]
        texts_with_nulls = texts + [None] * 5
        results = score_all(con, texts_with_nulls, d, batch_size)
        assert results[-5:] == [None] * 5
        for k, i in enumerate(idx):
            assert_matches(results[k], cases[i], labels, f"order {order} batch {batch_size}")


@pytest.mark.parametrize("name", MODELS)
def test_same_text_same_answer_whatever_the_chunk(con, name):
    d = model_dir(name)
    text = "not bad at all, I really liked it"
    alone = con.execute("SELECT bert_sentiment(?, ?)", [text, str(d)]).fetchone()[0]
    mixed = [text if i % 97 == 0 else "x" * (i % 300) for i in range(2500)]
    results = score_all(con, mixed, d)
    for i in range(0, 2500, 97):
        got = results[i]
        assert got["label"] == alone["label"]
        for k in alone["probabilities"]:
            assert abs(got["probabilities"][k] - alone["probabilities"][k]) < 1e-5


def test_setting_and_argument_choose_the_model(con):
    bert, roberta = model_dir("tiny-bert"), model_dir("tiny-roberta")
    con.execute(f"SET bert_sentiment_model = '{bert}'")
    try:
        r = con.execute("SELECT bert_sentiment('fine')").fetchone()[0]
        assert set(r["probabilities"]) == {"negative", "neutral", "positive"}
        r = con.execute("SELECT bert_sentiment('fine', ?)", [str(roberta)]).fetchone()[0]
        assert set(r["probabilities"]) == {"NEG", "POS"}
    finally:
        con.execute("RESET bert_sentiment_model")


def test_threads_setting_gives_the_same_answers(con):
    d = model_dir("tiny-bert")
    texts = [c["text"] for c in expected("tiny-bert")["cases"]]
    base = score_all(con, texts, d)
    con.execute("SET bert_sentiment_threads = 2")
    try:
        other = score_all(con, texts, d)
    finally:
        con.execute("RESET bert_sentiment_threads")
    for a, b in zip(base, other):
        assert a["label"] == b["label"]
        assert abs(a["score"] - b["score"]) < 1e-5


def test_parallel_duckdb_threads_share_the_model():
    c = connect()
    try:
        c.execute("SET threads = 4")
        d = model_dir("tiny-bert")
        n, ok = c.execute(
            """SELECT count(*), bool_and(s.label IS NOT NULL) FROM (
                 SELECT bert_sentiment('tweet ' || i || repeat(' yes', i % 30), ?) AS s
                 FROM range(40000) t(i))""",
            [str(d)],
        ).fetchone()
        assert (n, ok) == (40000, True)
    finally:
        c.close()


def test_automatic_threads_give_the_same_answers_as_one_thread():
    """bert_sentiment_threads = 0 (automatic) changes ONNX Runtime's intra-op
    threads from batch to batch as DuckDB threads start and finish scoring
    (here two row groups on four threads: 2 then 4 threads a run); a text's
    answer must not change with them."""
    c = connect()
    try:
        c.execute("SET threads = 4")
        d = str(model_dir("tiny-bert"))
        c.execute(
            "CREATE TABLE t AS SELECT i, 'tweet ' || i || repeat(' so good', i % 8) AS text "
            "FROM range(130000) r(i)"
        )
        c.execute("CREATE TABLE auto AS SELECT i, bert_sentiment(text, ?) AS s FROM t", [d])
        c.execute("SET bert_sentiment_threads = 1")
        c.execute("CREATE TABLE one AS SELECT i, bert_sentiment(text, ?) AS s FROM t", [d])
        n, same_labels, worst = c.execute(
            """SELECT count(*), bool_and(a.s.label = o.s.label), max(abs(a.s.score - o.s.score))
               FROM auto a JOIN one o USING (i)"""
        ).fetchone()
        assert (n, same_labels) == (130000, True)
        assert worst < 1e-5
    finally:
        c.close()
