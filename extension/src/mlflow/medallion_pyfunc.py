"""MLflow `python_function` loader for a medallion sentiment model.

`mlflow_register_model` writes this file into the registered model's `code/`
folder, next to an `MLmodel` that names it as the loader module, so that

    mlflow.pyfunc.load_model("models:/<name>@champion").predict(df)
    mlflow.pyfunc.spark_udf(spark, "models:/<name>@champion", result_type=...)

score with the very files the SQL pipeline registered (`model.onnx`,
`tokenizer.json`, `config.json`). It does what medallion's `bert_sentiment`
does: the same truncation and padding ids, texts sorted by token length and
run in right-padded batches, a float32 softmax, and the first label of
highest probability; so labels and probabilities agree with `bert_sentiment`
(to float rounding) for a text alone or in any batch.

Input: a DataFrame with a `text` column (or a single column of strings, a
Series or a list). Output: a DataFrame with `label`, `score` (the top
probability) and one `prob_<label>` column per label, in id2label order; a
missing text gives a missing label and NaN scores, as NULL does in SQL.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

BATCH_SIZE = 32
FEEDS = ("input_ids", "attention_mask", "token_type_ids")


def _load_pyfunc(path):
    return SentimentModel(path)


class SentimentModel:
    def __init__(self, path):
        import onnxruntime
        from tokenizers import Tokenizer

        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        id2label = config["id2label"]
        self.labels = [id2label[str(i)] for i in range(len(id2label))]
        self.tokenizer = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        max_length = _max_length(config, self.tokenizer)
        self.pad_id = _pad_id(config, self.tokenizer)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(
            max_length, stride=0, strategy="longest_first", direction="right"
        )
        options = onnxruntime.SessionOptions()
        threads = os.environ.get("MEDALLION_PYFUNC_THREADS")
        if threads:
            options.intra_op_num_threads = int(threads)
        self.session = onnxruntime.InferenceSession(
            os.path.join(path, "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        names = [i.name for i in self.session.get_inputs()]
        unknown = [n for n in names if n not in FEEDS]
        if unknown:
            raise ValueError(f"model.onnx: cannot feed graph inputs {unknown}")
        self.inputs = names
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = "logits" if "logits" in outputs else outputs[0]

    def predict(self, model_input, params=None):
        texts = _texts(model_input)
        present = [i for i, t in enumerate(texts) if isinstance(t, str)]
        probs = np.full((len(texts), len(self.labels)), np.nan, dtype=np.float32)
        if present:
            probs[present] = self._classify([texts[i] for i in present])
        top = np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1)
        labels = [None] * len(texts)
        for i in present:
            labels[i] = self.labels[top[i]]
        out = pd.DataFrame({"label": labels, "score": probs.max(axis=1)})
        for k, label in enumerate(self.labels):
            out[f"prob_{label}"] = probs[:, k]
        return out

    def _classify(self, texts):
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        probs = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            cols = max(len(encodings[i].ids) for i in batch)
            feed = {
                "input_ids": np.full((len(batch), cols), self.pad_id, dtype=np.int64),
                "attention_mask": np.zeros((len(batch), cols), dtype=np.int64),
                "token_type_ids": np.zeros((len(batch), cols), dtype=np.int64),
            }
            for r, i in enumerate(batch):
                e = encodings[i]
                n = len(e.ids)
                feed["input_ids"][r, :n] = e.ids
                feed["attention_mask"][r, :n] = 1
                feed["token_type_ids"][r, :n] = e.type_ids
            (logits,) = self.session.run(
                [self.output], {name: feed[name] for name in self.inputs}
            )
            logits = logits.astype(np.float32)
            exps = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs[batch] = exps / exps.sum(axis=1, keepdims=True)
        return probs


def _texts(model_input):
    if isinstance(model_input, pd.DataFrame):
        if "text" in model_input.columns:
            column = model_input["text"]
        elif len(model_input.columns) == 1:
            column = model_input.iloc[:, 0]
        else:
            raise ValueError(
                f"expected a `text` column; got columns {list(model_input.columns)}"
            )
    elif isinstance(model_input, pd.Series):
        column = model_input
    else:
        column = pd.Series(list(model_input))
    return [t if isinstance(t, str) else None for t in column.tolist()]


def _max_length(config, tokenizer):
    """As bert_sentiment: medallion's export, the tokenizer's truncation, the
    position embeddings (less RoBERTa's offset), else 512."""
    n = (config.get("medallion") or {}).get("max_length")
    if isinstance(n, int):
        return n
    if tokenizer.truncation:
        return tokenizer.truncation["max_length"]
    n = config.get("max_position_embeddings")
    if isinstance(n, int):
        model_type = config.get("model_type") or ""
        if "roberta" in model_type or model_type == "camembert":
            pad = config.get("pad_token_id")
            pad = pad if isinstance(pad, int) else 1
            return max(n - (pad + 1), 2)
        return n
    return 512


def _pad_id(config, tokenizer):
    n = (config.get("medallion") or {}).get("pad_token_id")
    if isinstance(n, int):
        return n
    if tokenizer.padding:
        return tokenizer.padding["pad_id"]
    n = config.get("pad_token_id")
    return n if isinstance(n, int) else 0
