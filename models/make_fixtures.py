#!/usr/bin/env python3
"""Build the tiny ONNX test models under test/fixtures/models/ (needs the training venv).

  tiny-bert     BertForSequenceClassification, 2 layers, hidden 32, the MiniLM
                (bert-base-uncased) tokenizer.json cut down to a 3,000-token WordPiece
                vocabulary (same normalizer, pre-tokenizer, [CLS]/[SEP] template); labels negative/neutral/positive; inputs input_ids,
                attention_mask, token_type_ids; max_length 128; fp32.
  tiny-roberta  RobertaForSequenceClassification, 2 layers, hidden 32, a 1,000-token
                byte-level BPE trained here; labels NEG/POS; inputs input_ids and
                attention_mask only (no token_type_ids); max_length 64; pad id 1; fp32.

Weights start random (fixed seeds) and get one short training pass on the TweetEval
training split so that outputs are not near-ties; they are test fixtures, not models.
Everything goes through export_hf.py, then expected.json is written beside each.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import export_hf  # noqa: E402

FIXTURES = common.REPO_DIR / "test" / "fixtures" / "models"
SCRATCH = common.CACHE_DIR / "build" / "fixtures-src"


def bert_tokenizer(texts, vocab_size=3000):
    """A 3,000-token subset of the MiniLM (bert-base-uncased) WordPiece vocabulary.

    Same normalizer, pre-tokenizer, [CLS]/[SEP] template and decoder as the MiniLM
    tokenizer.json; the vocabulary keeps the special tokens, every printable ASCII
    character (plain and ##-continuation) and then the pieces most used on the given
    texts (ties broken by their original id), so the choice is deterministic
    (tokenizers' WordPiece trainer is not).
    """
    import json

    from tokenizers import Tokenizer
    from train import minilm_dir

    src = json.loads((minilm_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    orig = src["model"]["vocab"]
    base = Tokenizer.from_str(json.dumps(src))
    base.no_padding()
    base.no_truncation()
    counts = {}
    for e in base.encode_batch(texts, add_special_tokens=False):
        for t in e.tokens:
            counts[t] = counts.get(t, 0) + 1
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = list(specials)
    seen = set(vocab)
    for c in (chr(i) for i in range(33, 127)):
        for t in (c, "##" + c):
            if t in orig and t not in seen and c == c.lower():
                vocab.append(t)
                seen.add(t)
    for t in sorted(counts, key=lambda t: (-counts[t], orig[t])):
        if len(vocab) >= vocab_size:
            break
        if t not in seen:
            vocab.append(t)
            seen.add(t)
    ids = {t: i for i, t in enumerate(vocab)}
    src["model"]["vocab"] = ids
    src["padding"] = None
    src["truncation"] = None
    for a in src["added_tokens"]:
        a["id"] = ids[a["content"]]
    for k, v in src["post_processor"]["special_tokens"].items():
        v["ids"] = [ids[k]]
    tk = Tokenizer.from_str(json.dumps(src, ensure_ascii=False))
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_input_names=["input_ids", "token_type_ids", "attention_mask"], model_max_length=128,
    )


def roberta_tokenizer(texts, vocab_size=1000):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tk.train_from_iterator(
        texts,
        trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, min_frequency=2,
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    tk.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        cls_token="<s>", sep_token="</s>", mask_token="<mask>", model_input_names=["input_ids", "attention_mask"],
        model_max_length=64,
    )


def quick_train(model, tok, texts, labels, max_len, pad_id, use_tt, epochs=2, lr=2e-3, seed=0):
    """A short pass so the random model's outputs separate (fixtures only)."""
    from tokenizers import Tokenizer

    bk = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    bk.no_padding()
    bk.enable_truncation(max_length=max_len)
    encs = bk.encode_batch(texts)
    y = torch.tensor(labels)
    g = np.random.RandomState(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    with torch.enable_grad():
        _train_loop(model, encs, y, g, opt, pad_id, use_tt, epochs)
    model.eval()


def _train_loop(model, encs, y, g, opt, pad_id, use_tt, epochs):
    for _ in range(epochs):
        order = g.permutation(len(encs))
        for s in range(0, len(order), 64):
            b = order[s : s + 64]
            f = common.feeds_for(export_hf._FakeSess(["input_ids", "attention_mask", "token_type_ids"]), [encs[i] for i in b], pad_id)
            kw = {"input_ids": torch.from_numpy(f["input_ids"]), "attention_mask": torch.from_numpy(f["attention_mask"])}
            if use_tt:
                kw["token_type_ids"] = torch.from_numpy(f["token_type_ids"])
            loss = torch.nn.functional.cross_entropy(model(**kw).logits, y[b])
            loss.backward()
            opt.step()
            opt.zero_grad()


def build(name, tok, model, texts, labels, max_len, use_tt, version="1"):
    torch.manual_seed(0)
    quick_train(model, tok, texts, labels, max_len, tok.pad_token_id, use_tt)
    src = SCRATCH / name
    if src.exists():
        shutil.rmtree(src)
    model.save_pretrained(str(src))
    tok.save_pretrained(str(src))
    out = FIXTURES / name
    if out.exists():
        shutil.rmtree(out)
    export_hf.main([str(src), "--out", str(out), "--quantize", "none", "--name", name, "--version", version,
                    "--max-length", str(max_len)])
    doc = common.write_expected(out, extra_meta={"model": f"{name}: tiny test fixture built by models/make_fixtures.py (not a real classifier)"})
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{name}: {size / 1e6:.2f} MB, smallest top-2 probability margin {common.min_margin(doc):.4f}")


def main():
    from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

    torch.set_num_threads(1)
    texts, labels = common.load_tweeteval()
    train_idx, _ = common.load_split(labels)
    tr_texts = [texts[i] for i in train_idx]
    tr_labels = labels[train_idx]

    only = sys.argv[1:]  # optional: names of the fixtures to rebuild
    # ---- tiny-bert: 3 labels, token_type_ids, WordPiece
    tok = bert_tokenizer(tr_texts)
    torch.manual_seed(1234)
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=128, type_vocab_size=2, pad_token_id=tok.pad_token_id, num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"}, label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    model = BertForSequenceClassification(cfg)
    if not only or "tiny-bert" in only:
        build("tiny-bert", tok, model, tr_texts, tr_labels, 128, True)

    # ---- tiny-roberta: 2 custom labels, no token_type_ids, byte-level BPE, pad id 1
    keep = tr_labels != 1
    rb_texts = [t for t, k in zip(tr_texts, keep) if k]
    rb_labels = (tr_labels[keep] == 2).astype(np.int64)
    tok = roberta_tokenizer(tr_texts[:4000])
    torch.manual_seed(4321)
    cfg = RobertaConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64 + 2, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        num_labels=2, id2label={0: "NEG", 1: "POS"}, label2id={"NEG": 0, "POS": 1},
    )
    model = RobertaForSequenceClassification(cfg)
    if not only or "tiny-roberta" in only:
        build("tiny-roberta", tok, model, rb_texts, rb_labels, 64, False)


if __name__ == "__main__":
    main()
