"""Shared helpers for medallion's model tooling (training, export, evaluation).

Only numpy, tokenizers and onnxruntime are needed here, so that evaluation and
the expected-output files can be regenerated without torch.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
REPO_DIR = MODELS_DIR.parent
DATA_DIR = Path(os.environ.get("MEDALLION_DATA", REPO_DIR.parent / "shared" / "data"))
TWEETEVAL_DIR = DATA_DIR / "tweeteval_sentiment"
S140_CSV = DATA_DIR / "sentiment140" / "sample_20k.csv"
CACHE_DIR = Path(os.environ.get("MEDALLION_CACHE", Path.home() / ".cache" / "medallion"))
SPLIT_FILE = MODELS_DIR / "split" / "tweeteval_heldout_lines.txt"

TWEETEVAL_LABELS = ["negative", "neutral", "positive"]
SPLIT_SEED = 20240601
HELDOUT_FRACTION = 0.2


# --------------------------------------------------------------------------- data
def load_tweeteval() -> tuple[list[str], np.ndarray]:
    texts = (TWEETEVAL_DIR / "test_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (TWEETEVAL_DIR / "test_labels.txt").read_text(encoding="utf-8").split("\n")
    texts = [t for t in texts][: len([l for l in labels if l.strip()])]
    labels = np.array([int(l) for l in labels if l.strip()], dtype=np.int64)
    assert len(texts) == len(labels) == 12284, (len(texts), len(labels))
    # Lines carry a trailing space in the release; strip it like a reader would.
    return [t.strip() for t in texts], labels


def make_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: returns (train_idx, heldout_idx), 0-based line numbers."""
    rng = np.random.RandomState(SPLIT_SEED)
    held = []
    for c in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        held.extend(idx[: int(round(len(idx) * HELDOUT_FRACTION))].tolist())
    held = np.array(sorted(held), dtype=np.int64)
    mask = np.ones(len(labels), bool)
    mask[held] = False
    return np.flatnonzero(mask), held


def load_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The recorded split (models/split/...); checks it still matches make_split."""
    held = np.array([int(x) for x in SPLIT_FILE.read_text().split()], dtype=np.int64)
    mask = np.ones(len(labels), bool)
    mask[held] = False
    return np.flatnonzero(mask), held


def load_s140() -> tuple[list[str], np.ndarray]:
    """Sentiment140 sample: returns texts and binary labels (1 = positive, from polarity 4)."""
    texts, labels = [], []
    with open(S140_CSV, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            texts.append(row[5])
            labels.append(1 if row[0] == "4" else 0)
    return texts, np.array(labels, dtype=np.int64)


# ---------------------------------------------------------------------- tokenizer
def length_batches(lengths, batch_size, rng, shuffle=True):
    """Length-grouped batches: shuffle, sort within pools of 50 batches, shuffle batch order."""
    idx = np.arange(len(lengths))
    if not shuffle:
        idx = idx[np.argsort(lengths, kind="stable")]
        return [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    idx = idx[rng.permutation(len(idx))]
    pool = batch_size * 50
    out = []
    for s in range(0, len(idx), pool):
        chunk = idx[s : s + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [out[i] for i in rng.permutation(len(out))]


def load_tokenizer(path, max_length: int | None):
    """tokenizers.Tokenizer with padding off and truncation to max_length (tokens, specials included)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    if max_length:
        tok.enable_truncation(max_length=max_length)
    return tok


def strip_padding_truncation(tokenizer_json: dict) -> dict:
    tokenizer_json = dict(tokenizer_json)
    tokenizer_json["padding"] = None
    tokenizer_json["truncation"] = None
    return tokenizer_json


# --------------------------------------------------------------------- onnx score
def ort_session(model_path, threads: int = 1):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])


def softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def feeds_for(sess, encodings, pad_id: int):
    """Right-pad a list of tokenizers.Encoding to the batch's longest and build ORT feeds."""
    n = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), n), dtype=np.int64)
    types = np.zeros((len(encodings), n), dtype=np.int64)
    for i, e in enumerate(encodings):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
        types[i, : len(e.ids)] = e.type_ids
    all_feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {i.name: all_feeds[i.name] for i in sess.get_inputs()}


def ort_logits(sess, tok, texts, pad_id: int, batch_size: int = 32, sort: bool = True) -> np.ndarray:
    """Logits for texts (in input order); batches of similar length like the extension does."""
    encs = tok.encode_batch(list(texts))
    order = np.argsort([len(e.ids) for e in encs], kind="stable") if sort else np.arange(len(encs))
    out = None
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        logits = sess.run(["logits"], feeds_for(sess, [encs[i] for i in idx], pad_id))[0]
        if out is None:
            out = np.zeros((len(encs), logits.shape[1]), dtype=np.float32)
        out[idx] = logits
    return out


def read_config(model_dir) -> dict:
    return json.loads((Path(model_dir) / "config.json").read_text())


def model_max_length(cfg: dict) -> int:
    return int(cfg["medallion"]["max_length"])


def model_pad_id(cfg: dict) -> int:
    return int(cfg["medallion"]["pad_token_id"])


# ------------------------------------------------------------------ expected.json
EXPECTED_TEXTS = [
    "",
    "   ",
    "I love this so much, best day ever!",
    "This is the worst service I have ever had. Never again.",
    "The meeting is scheduled for 3pm on Tuesday.",
    "@user thanks for the follow! :) #happy",
    "@switchfoot http://twitpic.com/2y1zl - Awww, that's a bummer.  You shoulda got David Carr of Third Day to do it. ;D",
    "is upset that he can't update his Facebook by texting it... and might cry as a result  School today also. Blah!",
    "not bad at all &amp; I &quot;really&quot; liked it",
    "😂😂😂",
    "😍🔥👍",
    "I HATE MONDAYS!!!!!!!",
    "meh.",
    "ok",
    "Ich liebe dieses Lied ❤️",
    "今日はとても楽しかったです",
    "tab\there\x01\x07 bell\x1b[31m escape\r\nnewline\x7f del",
    "Café naïve résumé — “smart quotes” and ’apostrophes’",
    "good " * 1000,  # 5,000 characters: truncated to the model's max length
    "the movie was not good, it was not bad either, just long",
]
assert len(EXPECTED_TEXTS[18]) == 5000


def write_expected(model_dir, texts=EXPECTED_TEXTS, extra_meta: dict | None = None, binary: bool = False):
    """Score each text ALONE (batch of 1, no padding) and write expected.json beside the model."""
    import onnxruntime
    import tokenizers

    model_dir = Path(model_dir)
    cfg = read_config(model_dir)
    max_len = model_max_length(cfg)
    id2label = {int(k): v for k, v in cfg["id2label"].items()}
    tok = load_tokenizer(model_dir / "tokenizer.json", max_len)
    sess = ort_session(model_dir / "model.onnx")
    empty = tok.encode("")
    rows = []
    for t in texts:
        e = tok.encode(t)
        logits = sess.run(["logits"], feeds_for(sess, [e], model_pad_id(cfg)))[0][0]
        p = softmax(logits)
        k = int(np.argmax(p))
        row = {
            "text": t,
            "input_ids": list(e.ids),
            "logits": [float(x) for x in logits],
            "probabilities": [float(x) for x in p],
            "label_id": k,
            "label": id2label[k],
        }
        if binary:
            neg, pos = cfg["label2id"]["negative"], cfg["label2id"]["positive"]
            row["binary"] = "positive" if p[pos] >= p[neg] else "negative"
        rows.append(row)
    doc = {
        "description": (
            "Reference outputs of model.onnx for the Rust tests. Each text was tokenized with "
            "tokenizer.json (padding off) and truncated to max_length tokens INCLUDING the special "
            "tokens the post-processor adds, then scored ALONE (batch of 1, no padding) with "
            "Python onnxruntime on the CPU. probabilities = softmax(logits) in float32; "
            "label = id2label[argmax]. Session: CPU provider, graph_optimization_level ORT_ENABLE_ALL "
            "(the default; int8 QDQ models score differently with BASIC or no optimization, because "
            "the QDQ->QLinearMatMul fusion changes the arithmetic), intra_op_num_threads 1 (thread "
            "count did not change results)."
        ),
        "onnxruntime_version": onnxruntime.__version__,
        "tokenizers_version": tokenizers.__version__,
        "max_length": max_len,
        "truncation": f"longest_first to {max_len} tokens including special tokens",
        "pad_token_id": model_pad_id(cfg),
        "graph_inputs": [i.name for i in sess.get_inputs()],
        "empty_string_input_ids": list(empty.ids),
        "empty_string_tokens": list(empty.tokens),
        "id2label": {str(k): v for k, v in sorted(id2label.items())},
        "tolerance_hint": 1e-4,
        **(extra_meta or {}),
        "cases": rows,
    }
    if binary:
        doc["binary_rule"] = "positive if p(positive) >= p(negative) else negative"
    (model_dir / "expected.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return doc


def min_margin(doc) -> float:
    """Smallest gap between the top two probabilities over the cases (label robustness)."""
    m = 1.0
    for r in doc["cases"]:
        p = sorted(r["probabilities"], reverse=True)
        m = min(m, p[0] - p[1])
    return m


class Timer:
    def __enter__(self):
        self.t = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.s = time.perf_counter() - self.t
