"""bert_sentiment on bad models, bad settings and hostile text.

Why: a scoring function runs inside someone's database process. Every
failure must be a DuckDB error that names the path and the problem, never a
panic across the FFI boundary or a crashed host — so each case here is
followed by another query on the same connection. The fuzz test pushes
random Unicode, emoji, control characters and 10,000-character strings
through both tokenizer families.
"""
import json
import random
import shutil
import textwrap

import duckdb
import pytest

from sentiment_util import EXTENSION, FIXTURES, MODELS, connect, model_dir, run_fresh


@pytest.fixture(scope="module")
def con():
    c = connect()
    yield c
    c.close()


def copy_model(name, dest):
    shutil.copytree(model_dir(name), dest)
    return dest


def fails(con, model, needles, sql="SELECT bert_sentiment('I love it', ?)", then_score=True):
    """The query fails with every needle in its message; the host carries on."""
    with pytest.raises(duckdb.Error) as err:
        con.execute(sql, [str(model)]).fetchall()
    message = str(err.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert con.execute("SELECT 42").fetchone() == (42,)
    if not then_score:
        return message
    good = con.execute("SELECT bert_sentiment('ok', ?)", [str(model_dir("tiny-bert"))]).fetchone()
    assert good[0]["label"]
    return message


def test_missing_directory(con, tmp_path):
    msg = fails(con, tmp_path / "nope", [str(tmp_path / "nope"), "no such directory"])
    assert "Binder Error" in msg


def test_a_file_is_not_a_model_directory(con, tmp_path):
    f = tmp_path / "model.onnx"
    f.write_bytes(b"x")
    fails(con, f, [str(f), "not a directory"])


@pytest.mark.parametrize("missing", ["model.onnx", "tokenizer.json", "config.json"])
def test_missing_file(con, tmp_path, missing):
    d = copy_model("tiny-bert", tmp_path / "m")
    (d / missing).unlink()
    fails(con, d, [str(d / missing), f"missing {missing}"])


def test_corrupt_onnx(con, tmp_path):
    d = copy_model("tiny-bert", tmp_path / "m")
    (d / "model.onnx").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4096)))
    fails(con, d, [str(d / "model.onnx"), "cannot load the graph"])


def test_truncated_onnx(con, tmp_path):
    d = copy_model("tiny-bert", tmp_path / "m")
    data = (d / "model.onnx").read_bytes()
    (d / "model.onnx").write_bytes(data[: len(data) // 2])
    fails(con, d, [str(d / "model.onnx")])


def test_corrupt_tokenizer_and_config(con, tmp_path):
    d = copy_model("tiny-bert", tmp_path / "m")
    (d / "tokenizer.json").write_text("{not json")
    fails(con, d, [str(d / "tokenizer.json"), "cannot load the tokenizer"])
    d = copy_model("tiny-bert", tmp_path / "n")
    (d / "config.json").write_text("[]")
    fails(con, d, [str(d / "config.json"), "id2label"])


def test_labels_that_do_not_match_the_graph(con, tmp_path):
    d = copy_model("tiny-bert", tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"] = {"0": "NEG", "1": "POS"}
    (d / "config.json").write_text(json.dumps(cfg))
    fails(con, d, [str(d / "model.onnx"), "one logit per id2label entry"])


def test_tokenizer_larger_than_the_vocabulary(con, tmp_path):
    """tiny-bert's 3,000-token WordPiece in front of tiny-roberta's 1,000-row embedding."""
    d = copy_model("tiny-roberta", tmp_path / "m")
    shutil.copyfile(model_dir("tiny-bert") / "tokenizer.json", d / "tokenizer.json")
    fails(con, d, [str(d / "tokenizer.json"), "do not belong together"])


def test_tokenizer_ids_beyond_the_graph_fail_at_run_time(con, tmp_path):
    """Same mismatch without vocab_size in config.json: ONNX Runtime itself refuses."""
    d = copy_model("tiny-roberta", tmp_path / "m")
    shutil.copyfile(model_dir("tiny-bert") / "tokenizer.json", d / "tokenizer.json")
    cfg = json.loads((d / "config.json").read_text())
    del cfg["vocab_size"]
    (d / "config.json").write_text(json.dumps(cfg))
    words = "zebra quantum yesterday beautiful terrible wonderful restaurant".split() * 20
    con.execute("CREATE OR REPLACE TEMP TABLE words AS SELECT unnest(?) AS w", [words])
    fails(
        con,
        d,
        [str(d / "model.onnx"), "ONNX Runtime failed to run the model", "tokenizer.json"],
        sql="SELECT bert_sentiment(w || ' ' || w, ?) FROM words",
    )


def test_unsupported_graph_inputs(con):
    d = FIXTURES / "odd-input"
    fails(con, d, [str(d / "model.onnx"), "unsupported graph input `position_ids`"])


def test_bad_settings(con):
    for name, value in [("bert_sentiment_threads", "-1"), ("bert_sentiment_batch_size", "0")]:
        con.execute(f"SET {name} = '{value}'")
        try:
            fails(con, model_dir("tiny-bert"), [name, value, "Binder Error"], then_score=False)
        finally:
            con.execute(f"RESET {name}")
        assert con.execute("SELECT bert_sentiment('ok', ?).label", [str(model_dir("tiny-bert"))]).fetchone()[0]


DEFAULT_MODEL = textwrap.dedent(
    """
    import duckdb
    con = duckdb.connect(config={{"allow_unsigned_extensions": "true"}})
    con.execute("LOAD '{ext}'")
    print("DEFAULT:", con.execute("SELECT current_setting('bert_sentiment_model')").fetchone()[0])
    try:
        print("LABEL:", con.execute("SELECT bert_sentiment('I love it').label").fetchone()[0])
    except duckdb.Error as e:
        print("ERROR:", e)
    print("AFTER:", con.execute("SELECT 42").fetchone()[0])
    """
)


def test_default_model_next_to_the_extension(tmp_path):
    """With no setting, the model in models/default next to the extension file is used."""
    ext = tmp_path / "medallion.duckdb_extension"
    shutil.copyfile(EXTENSION, ext)
    env = {"ONNXRUNTIME_LIBRARY": str(EXTENSION.parent / "libonnxruntime.so")}
    proc = run_fresh(DEFAULT_MODEL.format(ext=ext), env)
    default = tmp_path / "models" / "default"
    assert f"DEFAULT: {default}" in proc.stdout, proc.stdout + proc.stderr
    assert str(default) in proc.stdout and "make build" in proc.stdout, proc.stdout
    assert "AFTER: 42" in proc.stdout
    shutil.copytree(model_dir("tiny-roberta"), default)
    proc = run_fresh(DEFAULT_MODEL.format(ext=ext), env)
    assert "LABEL: NEG" in proc.stdout or "LABEL: POS" in proc.stdout, proc.stdout + proc.stderr


MISSING_LIBRARY = textwrap.dedent(
    """
    import duckdb, sys
    con = duckdb.connect(config={{"allow_unsigned_extensions": "true"}})
    con.execute("LOAD '{ext}'")
    {set_stmt}
    try:
        con.execute("SELECT bert_sentiment('hi', '{model}')").fetchall()
        print("NO ERROR")
    except duckdb.Error as e:
        print("ERROR:", e)
    print("AFTER:", con.execute("SELECT 42").fetchone()[0])
    """
)


@pytest.mark.parametrize("how", ["setting", "env"])
def test_missing_onnxruntime_library(tmp_path, how):
    lib = tmp_path / "nowhere" / "libonnxruntime.so"
    code = MISSING_LIBRARY.format(
        ext=EXTENSION,
        model=model_dir("tiny-bert"),
        set_stmt=f"con.execute(\"SET onnxruntime_library = '{lib}'\")" if how == "setting" else "",
    )
    env = {"ONNXRUNTIME_LIBRARY": str(lib)} if how == "env" else {}
    proc = run_fresh(code, env)
    assert proc.returncode == 0, proc.stderr
    assert f"ERROR:" in proc.stdout and str(lib) in proc.stdout, proc.stdout
    assert "no such file" in proc.stdout and "onnxruntime_library" in proc.stdout
    assert "AFTER: 42" in proc.stdout


def test_a_library_that_is_not_onnxruntime(tmp_path):
    lib = tmp_path / "libonnxruntime.so"
    lib.write_bytes(b"\x7fELF garbage" * 100)
    code = MISSING_LIBRARY.format(
        ext=EXTENSION,
        model=model_dir("tiny-bert"),
        set_stmt=f"con.execute(\"SET onnxruntime_library = '{lib}'\")",
    )
    proc = run_fresh(code)
    assert proc.returncode == 0, proc.stderr
    assert str(lib) in proc.stdout and "cannot load" in proc.stdout, proc.stdout
    assert "AFTER: 42" in proc.stdout


def fuzz_texts(seed: int, n: int = 600) -> list:
    rng = random.Random(seed)
    emoji = [chr(c) for c in range(0x1F300, 0x1F6FF)] + ["\u200d", "\ufe0f", "🏳️‍🌈", "👨‍👩‍👧"]
    controls = [chr(c) for c in list(range(0, 32)) + [127] + list(range(0x80, 0xA0))]

    def any_char():
        while True:
            c = rng.randrange(1, 0x10FFFF)
            if not 0xD800 <= c <= 0xDFFF:
                return chr(c)

    texts = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            t = "".join(any_char() for _ in range(rng.randrange(0, 80)))
        elif kind == 1:
            t = "".join(rng.choice(emoji) for _ in range(rng.randrange(1, 40)))
        elif kind == 2:
            t = "".join(rng.choice(controls) for _ in range(rng.randrange(1, 40)))
        elif kind == 3:
            t = "".join(any_char() if rng.random() < 0.3 else rng.choice("ab cd!?@#") for _ in range(10_000))
        elif kind == 4:
            t = rng.choice(["", " ", "\t\n", "\u3000", "\u00a0" * 5, "\ufeff", "🙂" * 5000])
        else:
            t = "I " + rng.choice(["love", "hate", "meh"]) + " it " + "".join(rng.choice(controls + emoji) for _ in range(20))
        texts.append(t.replace("\x00", ""))  # DuckDB VARCHAR holds no NUL
    return texts


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-roberta"])
def test_fuzz_random_unicode_emoji_control_and_long_text(con, name):
    d = model_dir(name)
    texts = fuzz_texts(MODELS.index(name))
    con.execute("CREATE OR REPLACE TEMP TABLE fuzz (i INTEGER, t VARCHAR)")
    con.executemany("INSERT INTO fuzz VALUES (?, ?)", list(enumerate(texts)))
    rows = con.execute(
        "SELECT i, bert_sentiment(t, ?) FROM fuzz ORDER BY i", [str(d)]
    ).fetchall()
    assert len(rows) == len(texts)
    for i, r in rows:
        assert r is not None and r["label"] in r["probabilities"], i
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-4, i
        assert 0 <= r["score"] <= 1 and r["score"] == max(r["probabilities"].values())
    # the same texts one at a time agree (spot check, and the host is fine)
    for i in range(0, len(texts), 50):
        alone = con.execute("SELECT bert_sentiment(?, ?)", [texts[i], str(d)]).fetchone()[0]
        assert alone["label"] == rows[i][1]["label"]
        assert abs(alone["score"] - rows[i][1]["score"]) < 1e-5
