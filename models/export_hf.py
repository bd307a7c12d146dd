#!/usr/bin/env python3
"""Export a HuggingFace sequence-classification model to a medallion model directory.

    python models/export_hf.py MODEL --out DIR [--quantize static|none] [--calibration-texts FILE]

MODEL is a hub name (e.g. cardiffnlp/twitter-roberta-base-sentiment-latest; needs hub
access, so unset HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE for that) or a local directory
saved with save_pretrained. DIR receives:

  model.onnx      opset 17; int64 inputs input_ids, attention_mask[, token_type_ids]
                  (only those the model uses: RoBERTa-style models have no
                  token_type_ids), shape [batch, sequence]; output logits [batch, labels]
  tokenizer.json  the model's fast tokenizer with padding and truncation switched off
                  (the extension pads each batch itself and truncates to max_length)
  config.json     the model's HF config (id2label, label2id, ...) plus a "medallion"
                  object: max_length, pad_token_id, inputs, quantization, ...

--quantize static writes int8 weights and activations with scales fixed by calibration
(onnxruntime.quantization.quantize_static), so a text's result does not depend on the
other texts in its batch. Dynamic int8 is deliberately not offered: its activation scales
are computed per batch, so the same text can score differently in different batches.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids")
# Models whose position ids start after padding_idx (RoBERTa family).
POSITION_OFFSET_TYPES = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "data2vec-text", "xmod", "roberta-prelayernorm"}

FALLBACK_CALIBRATION = [
    "I love this so much!", "This is terrible, I want my money back.", "The train leaves at 7.",
    "@user thanks, see you tomorrow :)", "worst day ever... everything went wrong", "Not sure how I feel about it.",
    "Great game last night #win", "ugh, stuck in traffic again", "The report is due on Friday.",
    "what a beautiful morning", "I can't believe they cancelled the show", "meh", "LOL that's hilarious 😂",
    "Happy birthday!! 🎉", "so tired of this weather", "New post on the blog: http://example.com/x",
    "they finally fixed the bug, nice", "I hate waiting on hold for an hour", "The store opens at 9am on Sundays.",
    "best concert of my life!!!", "why is everything so expensive", "Watching the news tonight.",
]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="HF hub name or local directory")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--quantize", choices=["none", "static"], default="none")
    ap.add_argument("--calibration-texts", help="UTF-8 file, one text per line (static quantization)")
    ap.add_argument("--calibration-size", type=int, default=400, help="texts used for calibration")
    ap.add_argument("--calibration-seed", type=int, default=1234)
    ap.add_argument("--calibrate-method", choices=["minmax", "percentile", "entropy"], default="minmax")
    ap.add_argument("--quant-format", choices=["qdq", "qoperator"], default="qdq")
    ap.add_argument("--op-types", default="MatMul,Gather", help="op types to quantize (comma separated)")
    ap.add_argument("--exclude-nodes", default="", help="node names to keep in fp32 (comma separated)")
    ap.add_argument("--no-per-channel", action="store_true", help="per-tensor weight scales")
    ap.add_argument("--no-reduce-range", action="store_true",
                    help="use full 8-bit weights (default: 7-bit, avoids u8s8 saturation on CPUs without VNNI)")
    ap.add_argument("--max-length", type=int, help="truncation length in tokens incl. specials (default: from the model)")
    ap.add_argument("--labels", help="comma separated label names overriding config.id2label")
    ap.add_argument("--token-type-ids", choices=["auto", "yes", "no"], default="auto")
    ap.add_argument("--name", help="medallion.name in config.json (default: the model name)")
    ap.add_argument("--version", default="1", help="medallion.version in config.json")
    ap.add_argument("--fp32-out", help="also keep the fp32 ONNX model at this path")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args(argv)


def load_hf(src: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src)
    if not getattr(tok, "is_fast", False) or getattr(tok, "backend_tokenizer", None) is None:
        raise SystemExit("export_hf: the model needs a fast tokenizer (tokenizer.json); none could be built")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(src, attn_implementation="eager")
    except (TypeError, ValueError):
        model = AutoModelForSequenceClassification.from_pretrained(src)
    model.eval()
    return tok, model


def choose_inputs(tok, model, mode: str) -> list[str]:
    params = inspect.signature(model.forward).parameters
    tok_inputs = list(getattr(tok, "model_input_names", INPUT_ORDER))
    names = ["input_ids", "attention_mask"]
    for n in names:
        if n not in params:
            raise SystemExit(f"export_hf: model.forward has no {n!r}; not a supported classifier")
    use_tt = "token_type_ids" in params and "token_type_ids" in tok_inputs
    if getattr(model.config, "type_vocab_size", 2) in (0, 1) and mode == "auto":
        # one token type only (RoBERTa: type_vocab_size 1): all zeros, leave it out
        use_tt = False
    if mode == "yes":
        use_tt = True
    elif mode == "no":
        use_tt = False
    if use_tt:
        names.append("token_type_ids")
    return names


def default_max_length(tok, cfg) -> int:
    mpe = int(getattr(cfg, "max_position_embeddings", 512))
    if cfg.model_type in POSITION_OFFSET_TYPES:
        mpe -= int(cfg.pad_token_id if cfg.pad_token_id is not None else 1) + 1
    mml = getattr(tok, "model_max_length", None)
    if mml and mml < 100_000:
        return min(int(mml), mpe)
    return mpe


def export_fp32(model, names, tok_backend, pad_id, path, opset):
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, m, names):
            super().__init__()
            self.m = m
            self.names = names

        def forward(self, *args):
            kw = dict(zip(self.names, args))
            # Hand the model a ready 4D additive mask: transformers' own mask builders
            # take data-dependent shortcuts that tracing would freeze into the graph.
            m = kw["attention_mask"][:, None, None, :].to(torch.float32)
            kw["attention_mask"] = (1.0 - m) * torch.finfo(torch.float32).min
            return self.m(**kw, return_dict=True).logits

    # Two texts of different lengths: the dummy batch carries padding, so the
    # attention mask takes part in the traced graph.
    encs = tok_backend.encode_batch(["a short one", "a somewhat longer example sentence for tracing the graph"])
    feeds = common.feeds_for(_FakeSess(names), encs, pad_id)
    args = tuple(torch.from_numpy(feeds[n]) for n in names)
    dyn = {n: {0: "batch", 1: "sequence"} for n in names}
    dyn["logits"] = {0: "batch"}
    wrapper = Wrapper(model, names).eval()
    torch.onnx.export(
        wrapper, args, str(path), input_names=names, output_names=["logits"],
        dynamic_axes=dyn, opset_version=opset, do_constant_folding=True, dynamo=False,
    )
    model.eval()  # the exporter restores the wrapper's mode recursively; keep dropout off
    import onnx

    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    got = [i.name for i in m.graph.input]
    if got != names:
        raise SystemExit(f"export_hf: exported graph inputs {got} != expected {names} (an input was unused?)")
    return m


class _FakeSess:
    """Stands in for an ORT session in common.feeds_for (only input names are needed)."""

    class _I:
        def __init__(self, n):
            self.name = n

    def __init__(self, names):
        self._names = names

    def get_inputs(self):
        return [self._I(n) for n in self._names]


def check_against_torch(model, names, sess, tok_backend, pad_id, texts):
    """max |logits_onnx - logits_torch|, scoring a padded batch."""
    import torch

    encs = tok_backend.encode_batch(texts)
    feeds = common.feeds_for(sess, encs, pad_id)
    ref = model(**{n: torch.from_numpy(feeds[n]) for n in names}).logits.numpy()
    got = sess.run(["logits"], feeds)[0]
    return float(np.abs(ref - got).max())


def determinism(sess, tok_backend, pad_id, texts, batch_size=16):
    """Compare each text scored alone with it scored in padded batches (two different orders)."""
    alone = np.stack([sess.run(["logits"], common.feeds_for(sess, [tok_backend.encode(t)], pad_id))[0][0] for t in texts])
    rng = np.random.RandomState(7)
    worst = 0.0
    flips = 0
    for order in (np.arange(len(texts)), rng.permutation(len(texts))):
        encs = tok_backend.encode_batch([texts[i] for i in order])
        for s in range(0, len(order), batch_size):
            part = order[s : s + batch_size]
            lg = sess.run(["logits"], common.feeds_for(sess, encs[s : s + batch_size], pad_id))[0]
            pa, pb = common.softmax(alone[part]), common.softmax(lg)
            worst = max(worst, float(np.abs(pa - pb).max()))
            flips += int((pa.argmax(-1) != pb.argmax(-1)).sum())
    return {"max_abs_prob_diff": worst, "label_flips": flips, "texts": len(texts)}


class CalibrationReader:
    def __init__(self, sess_inputs, tok_backend, pad_id, texts):
        self.names = sess_inputs
        self.feeds = [common.feeds_for(_FakeSess(sess_inputs), [tok_backend.encode(t)], pad_id) for t in texts]
        self.i = 0

    def get_next(self):
        if self.i >= len(self.feeds):
            return None
        self.i += 1
        return self.feeds[self.i - 1]

    def rewind(self):
        self.i = 0


def quantize_static(fp32_path, out_path, names, tok_backend, pad_id, texts, args):
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as qs
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = Path(str(out_path) + ".pre.onnx")
    src = fp32_path
    for skip_symbolic in (False, True):  # symbolic shape inference fails on some graphs
        try:
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=skip_symbolic)
            src = pre
            break
        except Exception as e:  # pre-processing is an optimisation only
            print(f"export_hf: quant_pre_process(skip_symbolic_shape={skip_symbolic}) failed ({e})", file=sys.stderr)
    method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
              "entropy": CalibrationMethod.Entropy}[args.calibrate_method]
    qs(
        str(src), str(out_path),
        calibration_data_reader=CalibrationReader(names, tok_backend, pad_id, texts),
        quant_format=QuantFormat.QDQ if args.quant_format == "qdq" else QuantFormat.QOperator,
        op_types_to_quantize=[o for o in args.op_types.split(",") if o],
        nodes_to_exclude=[n for n in args.exclude_nodes.split(",") if n],
        per_channel=not args.no_per_channel,
        reduce_range=not args.no_reduce_range,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=method,
        extra_options={"MatMulConstBOnly": True, "ActivationSymmetric": False, "WeightSymmetric": True},
    )
    if pre.exists():
        pre.unlink()
    for p in Path(out_path).parent.glob("*.data"):
        p.unlink()


def calibration_texts(args) -> list[str]:
    if args.calibration_texts:
        lines = [l.strip() for l in Path(args.calibration_texts).read_text(encoding="utf-8").splitlines()]
        lines = [l for l in lines if l]
    else:
        print("export_hf: no --calibration-texts; calibrating on a small built-in set", file=sys.stderr)
        lines = list(FALLBACK_CALIBRATION)
    if len(lines) > args.calibration_size:
        rng = np.random.RandomState(args.calibration_seed)
        lines = [lines[i] for i in sorted(rng.choice(len(lines), args.calibration_size, replace=False))]
    return lines


def main(argv=None):
    import torch

    with torch.no_grad():
        return _main(argv)


def _main(argv=None):
    args = parse_args(argv)
    import onnxruntime
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok, model = load_hf(args.model)
    cfg = model.config
    names = choose_inputs(tok, model, args.token_type_ids)
    max_len = args.max_length or default_max_length(tok, cfg)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (cfg.pad_token_id or 0)

    tj = common.strip_padding_truncation(json.loads(tok.backend_tokenizer.to_str()))
    tok_json = json.dumps(tj, ensure_ascii=False, indent=2)
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(tok_json)
    backend.enable_truncation(max_length=max_len)
    # The standalone tokenizer must reproduce transformers' own encoding.
    for t in ["Hello world!", "@user I LOVE it 😍 http://t.co/x", ""]:
        a = backend.encode(t).ids
        b = tok(t, truncation=True, max_length=max_len)["input_ids"]
        if list(a) != list(b):
            raise SystemExit(f"export_hf: tokenizer.json encodes {t!r} as {a}, transformers as {b}")

    labels = args.labels.split(",") if args.labels else [cfg.id2label[i] for i in range(cfg.num_labels)]
    if len(labels) != cfg.num_labels:
        raise SystemExit(f"export_hf: {len(labels)} labels given, the model has {cfg.num_labels}")

    check_texts = EXTRA_CHECK + FALLBACK_CALIBRATION
    with tempfile.TemporaryDirectory() as td:
        fp32 = Path(td) / "model.fp32.onnx"
        export_fp32(model, names, backend, pad_id, fp32, args.opset)
        sess = common.ort_session(fp32, args.threads)
        diff = check_against_torch(model, names, sess, backend, pad_id, check_texts)
        print(f"export_hf: fp32 ONNX vs PyTorch max |logit diff| = {diff:.2e}")
        if diff > 1e-3:
            raise SystemExit("export_hf: ONNX export does not match PyTorch")
        report = {"fp32_vs_torch_max_abs_logit_diff": diff}
        if args.fp32_out:
            Path(args.fp32_out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.fp32_out).write_bytes(fp32.read_bytes())
        if args.quantize == "static":
            qpath = Path(td) / "model.int8.onnx"
            quantize_static(fp32, qpath, names, backend, pad_id, calibration_texts(args), args)
            qsess = common.ort_session(qpath, args.threads)
            a = common.softmax(common.ort_logits(sess, backend, check_texts, pad_id))
            b = common.softmax(common.ort_logits(qsess, backend, check_texts, pad_id))
            report["int8_vs_fp32_max_abs_prob_diff"] = float(np.abs(a - b).max())
            report["int8_vs_fp32_label_agreement"] = float((a.argmax(-1) == b.argmax(-1)).mean())
            final = qpath
            final_sess = qsess
        else:
            final, final_sess = fp32, sess
        report["determinism"] = determinism(final_sess, backend, pad_id, check_texts)
        print(f"export_hf: {json.dumps(report)}")
        if report["determinism"]["label_flips"] or report["determinism"]["max_abs_prob_diff"] > 1e-5:
            raise SystemExit("export_hf: scores depend on the batch around a text")
        (out / "model.onnx").write_bytes(Path(final).read_bytes())

    (out / "tokenizer.json").write_text(tok_json + "\n", encoding="utf-8")
    conf = cfg.to_dict()
    conf.pop("_name_or_path", None)
    conf.pop("transformers_version", None)
    conf["id2label"] = {str(i): l for i, l in enumerate(labels)}
    conf["label2id"] = {l: i for i, l in enumerate(labels)}
    conf["medallion"] = {
        "name": args.name or Path(args.model.rstrip("/")).name,
        "version": args.version,
        "source": args.model if not Path(args.model).exists() else Path(args.model).name,
        "max_length": max_len,
        "pad_token_id": int(pad_id),
        "inputs": names,
        "outputs": ["logits"],
        "quantization": (
            "none (fp32)" if args.quantize == "none" else
            f"static int8 ({args.quant_format.upper()}, ops {args.op_types}, "
            f"{'per-tensor' if args.no_per_channel else 'per-channel'} "
            f"{'8' if args.no_reduce_range else '7'}-bit weights, u8 activations, {args.calibrate_method} calibration)"
        ),
        "exported_with": {"torch": torch.__version__, "transformers": transformers.__version__,
                          "onnxruntime": onnxruntime.__version__, "opset": args.opset},
        "export_checks": report,
    }
    (out / "config.json").write_text(json.dumps(conf, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"export_hf: wrote {out} (model.onnx {(out / 'model.onnx').stat().st_size / 1e6:.1f} MB, "
          f"inputs {names}, max_length {max_len}, pad id {pad_id})")
    return report


EXTRA_CHECK = ["", "   ", "😂😂😂", "good " * 400, "tab\there\x01 bell\x1b[31m"]

if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
