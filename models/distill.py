#!/usr/bin/env python3
"""Distil the shipped default model into smaller students (fewer of its layers).

    python models/distill.py [--data WORK/distill_data.json] [--out WORK/student] [--variants ...] [--cpu]
    python models/distill.py --probe 3,2 [--cpu]

Teacher: models/default/model.onnx (static int8). Its fine-tuned weights are read back out of the
ONNX graph (int8 weights dequantized: (q - zero_point) * scale; biases, LayerNorms, pooler and
classifier are stored in float32), so a student starts from a subset of the default's own layers,
embeddings, pooler and classifier. The student's word embeddings stay frozen at the default's
(dequantized) values, so they need not be saved: build_fast.py reads them from the same graph.

Targets: the teacher's int8 logits from `build_fast.py data` (TweetEval training part with labels,
Sentiment140 sample texts without labels). Loss = T^2 * KL(teacher/T || student/T) on every text
+ ALPHA * class-weighted cross-entropy on the labeled TweetEval texts; optionally + BETA * MSE between
student and teacher hidden states (teacher = the dequantized fp32 reconstruction of the default).
Each epoch is scored on the validation slice (part == "val": 10% of the TweetEval training part,
never trained on); each variant keeps its best epoch; the best variant per depth is saved.

Runs on CUDA when available (unless --cpu), else on the CPU; models/fast was trained with
`--variants l3-025,l2-35 --epochs 6 --cpu` (one thread, about 5 minutes an epoch for 3 layers).
`--workers N` trains N variants at once, one process each (meant for a GPU).
Writes OUT/results.json, OUT/log.txt and, for the best variant of each depth,
OUT/<variant>.partN.safetensors (all student parameters except the frozen word embeddings, fp32;
shards of at most 15 MB). `--probe 3,2` instead scores every 3- and 2-layer subset of the default,
untrained, on the validation slice (OUT/probe.json), which is how the shipped layers were chosen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(MODELS_DIR))
import common  # noqa: E402
DEFAULT_DIR = MODELS_DIR / "default"
WORK = Path(os.environ.get("MEDALLION_CACHE", Path.home() / ".cache" / "medallion")) / "build" / "fast"

# name: (teacher layers kept, hidden-state loss weight, hyper-parameter overrides).
# Order = priority when a time budget or fewer workers than variants leave some out. The shipped
# run trained SHIPPED_RUN (CPU, one thread): the layer sets that `--probe` scored best before any
# training. The others were prepared for a GPU run (`--workers 12`) that did not take place.
VARIANTS = {
    "l3-025": ((0, 2, 5), 0.0, {}),
    "l2-35": ((3, 5), 0.0, {}),
    "l3-035": ((0, 3, 5), 0.0, {}),
    "l3-135": ((1, 3, 5), 0.0, {}),
    "l2-25": ((2, 5), 0.0, {}),
    "l3-135h": ((1, 3, 5), 1.0, {}),
    "l2-25h": ((2, 5), 1.0, {}),
    "l3-024": ((0, 2, 4), 0.0, {}),
    "l2-14": ((1, 4), 0.0, {}),
    "l3-024h": ((0, 2, 4), 1.0, {}),
    "l2-14h": ((1, 4), 1.0, {}),
    "l3-135-lr2e4": ((1, 3, 5), 0.0, {"lr": 2e-4}),
    "l2-25-lr2e4": ((2, 5), 0.0, {"lr": 2e-4}),
    "l3-012": ((0, 1, 2), 0.0, {}),
    "l2-03": ((0, 3), 0.0, {}),
}
SHIPPED_RUN = "l3-025,l2-35"
FROZEN = ("bert.embeddings.word_embeddings.weight",)
SHARD_BYTES = 15_000_000  # files coming back from the device machine: at most 16 MiB each


# ------------------------------------------------------------- teacher weights
def default_weights(onnx_path) -> dict[str, np.ndarray]:
    """The default's parameters as a HF BertForSequenceClassification state dict (float32 numpy).

    Quantized initializers (X_quantized + X_scale + X_zero_point feeding a DequantizeLinear) are
    dequantized; MatMul weights are stored transposed ([in, out]) in the graph and are turned back
    into torch's [out, in]. Names come from the graph: float initializers are named after the torch
    parameters ("m." prefix from the export wrapper), MatMul weights after the node that uses them.
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(onnx_path))
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out: dict[str, np.ndarray] = {}
    for n in g.node:
        if n.op_type != "DequantizeLinear" or n.input[0] not in inits:
            continue
        q = inits[n.input[0]].astype(np.float32)
        scale = inits[n.input[1]].astype(np.float32)
        zp = inits[n.input[2]].astype(np.float32) if len(n.input) > 2 else np.zeros_like(scale)
        axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
        if scale.ndim == 1 and scale.size > 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        w = ((q - zp) * scale).astype(np.float32)
        src = n.input[0][: -len("_quantized")]
        if src.startswith("m."):
            out[src[2:]] = w
            continue
        users = consumers.get(n.output[0], [])
        assert len(users) == 1 and users[0].op_type == "MatMul", (src, [u.name for u in users])
        name = users[0].name.strip("/")  # m/bert/encoder/layer.0/attention/self/query/MatMul
        assert name.startswith("m/") and name.endswith("/MatMul"), name
        out[name[2 : -len("/MatMul")].replace("/", ".") + ".weight"] = np.ascontiguousarray(w.T)
    for k, v in inits.items():
        if k.startswith("m.") and not k.endswith(("_quantized", "_scale", "_zero_point")):
            out[k[2:]] = v.astype(np.float32)
    return out


def default_config(default_dir=DEFAULT_DIR) -> dict:
    cfg = json.loads((Path(default_dir) / "config.json").read_text())
    return {k: v for k, v in cfg.items() if k != "medallion"}


def build_model(num_layers: int, default_dir=DEFAULT_DIR):
    from transformers import BertConfig, BertForSequenceClassification

    cfg = default_config(default_dir)
    cfg["num_hidden_layers"] = num_layers
    cfg.pop("architectures", None)
    conf = BertConfig(**cfg)
    conf.architectures = ["BertForSequenceClassification"]
    return BertForSequenceClassification(conf)


def student_state(teacher_sd: dict, layers) -> dict:
    """Teacher state dict -> student state dict keeping `layers` (renumbered 0..k-1)."""
    out = {}
    for k, v in teacher_sd.items():
        if k.startswith("bert.encoder.layer."):
            i = int(k.split(".")[3])
            if i in layers:
                rest = k.split(".", 4)[4]
                out[f"bert.encoder.layer.{layers.index(i)}.{rest}"] = v
        else:
            out[k] = v
    return out


def load_into(model, sd: dict, allow_missing=()):
    import torch

    own = model.state_dict()
    missing = [k for k in own if k not in sd and k not in allow_missing]
    extra = [k for k in sd if k not in own]
    # position_ids and similar buffers are not parameters of the graph
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or extra:
        raise SystemExit(f"distill: state dict mismatch: missing {missing[:5]}, unexpected {extra[:5]}")
    for k, v in sd.items():
        if tuple(own[k].shape) != tuple(v.shape):
            raise SystemExit(f"distill: shape of {k}: model {tuple(own[k].shape)}, weights {tuple(v.shape)}")
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}, strict=False)
    return model


# ----------------------------------------------------------------------- data
def load_data(path, default_dir, max_length):
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    tok = common.load_tokenizer(Path(default_dir) / "tokenizer.json", max_length)
    encs = tok.encode_batch(doc["texts"])
    ids = [np.array(e.ids, dtype=np.int64) for e in encs]
    return doc, ids, np.array(doc["labels"], dtype=np.int64), np.array(doc["part"]), np.array(doc["teacher_logits"], dtype=np.float32)


def collate(ids, idx, device):
    import torch

    n = max(len(ids[i]) for i in idx)
    x = np.zeros((len(idx), n), dtype=np.int64)
    m = np.zeros((len(idx), n), dtype=np.int64)
    for r, i in enumerate(idx):
        x[r, : len(ids[i])] = ids[i]
        m[r, : len(ids[i])] = 1
    x, m = torch.from_numpy(x).to(device), torch.from_numpy(m).to(device)
    return x, m, torch.zeros_like(x)


def predict(model, ids, rows, device, batch_size=256):
    import torch

    model.eval()
    rows = np.asarray(rows)
    order = rows[np.argsort([len(ids[i]) for i in rows], kind="stable")]
    logits = np.zeros((len(ids), 3), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            b = order[s : s + batch_size]
            x, m, t = collate(ids, b, device)
            logits[b] = model(input_ids=x, attention_mask=m, token_type_ids=t).logits.float().cpu().numpy()
    model.train()
    return logits[rows]


def macro_f1(y, pred):
    f = []
    for c in (0, 1, 2):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        f.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f))


# ---------------------------------------------------------------------- train
def train_variant(name, layers, beta, args, teacher_sd, data, device, log, deadline):
    import torch
    import torch.nn.functional as F

    doc, ids, labels, part, t_logits = data
    seed = args.seed
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    model = build_model(len(layers), args.default)
    load_into(model, student_state(teacher_sd, list(layers)))
    model.to(device).train()
    for n, p in model.named_parameters():
        p.requires_grad = n not in FROZEN
    teacher = None
    if beta > 0:
        teacher = build_model(6, args.default)
        load_into(teacher, teacher_sd)
        teacher.to(device).eval()
        for p in teacher.parameters():
            p.requires_grad = False

    tr = np.flatnonzero(part != "val")
    va = np.flatnonzero(part == "val")
    lengths = np.array([len(ids[i]) for i in range(len(ids))])
    lab = labels[tr][labels[tr] >= 0]
    counts = np.bincount(lab, minlength=3)
    cw = torch.tensor(len(lab) / (3 * counts), dtype=torch.float32, device=device)
    y_all = torch.from_numpy(labels).to(device)
    t_all = torch.from_numpy(t_logits).to(device)

    no_decay = ("bias", "LayerNorm.weight")
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": args.weight_decay},
         {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0}],
        lr=args.lr,
    )
    steps_per_epoch = math.ceil(len(tr) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = int(args.warmup * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm))
    )
    T = args.temperature
    history, best, best_state = [], -1.0, None
    t0 = time.time()
    stopped = None
    for epoch in range(1, args.epochs + 1):
        tot = {"kd": 0.0, "ce": 0.0, "hid": 0.0}
        for step, b in enumerate(common.length_batches(lengths[tr], args.batch_size, rng)):
            b = tr[b]
            x, m, tt = collate(ids, b, device)
            bt = torch.from_numpy(b).to(device)
            out = model(input_ids=x, attention_mask=m, token_type_ids=tt, output_hidden_states=beta > 0)
            s = out.logits.float()
            t = t_all[bt]
            kd = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True, reduction="batchmean") * T * T
            y = y_all[bt]
            has = y >= 0
            ce = F.cross_entropy(s[has], y[has], weight=cw) if bool(has.any()) else s.sum() * 0
            loss = kd + args.alpha * ce
            if beta > 0:
                with torch.no_grad():
                    th = teacher(input_ids=x, attention_mask=m, token_type_ids=tt, output_hidden_states=True).hidden_states
                mk = m.unsqueeze(-1).float()
                hid = 0.0
                for si, ti in enumerate(layers):
                    a, z = out.hidden_states[si + 1], th[ti + 1]
                    hid = hid + (((a - z) ** 2) * mk).sum() / (((z**2) * mk).sum() + 1e-6)
                hid = hid / len(layers)
                loss = loss + beta * hid
                tot["hid"] += float(hid.detach())
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            tot["kd"] += float(kd.detach())
            tot["ce"] += float(ce.detach())
            if args.limit_steps and step + 1 >= args.limit_steps:
                break
        n_steps = step + 1
        vl = predict(model, ids, va, device)
        f1 = macro_f1(labels[va], vl.argmax(-1))
        acc = float((labels[va] == vl.argmax(-1)).mean())
        agree = float((vl.argmax(-1) == t_logits[va].argmax(-1)).mean())
        h = {"epoch": epoch, "val_macro_f1": round(f1, 4), "val_accuracy": round(acc, 4), "val_agreement_with_teacher": round(agree, 4),
             **{f"loss_{k}": round(v / n_steps, 4) for k, v in tot.items()}, "elapsed_s": round(time.time() - t0, 1)}
        history.append(h)
        log(f"{name} {json.dumps(h)}")
        if f1 > best:
            best = f1
            best_state = {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items() if k not in FROZEN}
        if time.time() > deadline and epoch < args.epochs:
            stopped = f"time budget reached after epoch {epoch}"
            log(f"{name}: {stopped}")
            break
    best_epoch = max(history, key=lambda h: (h["val_macro_f1"], -h["epoch"]))["epoch"]
    res = {"layers": list(layers), "hidden_loss_weight": beta, "history": history, "best_epoch": best_epoch,
           "best_val_macro_f1": round(best, 4), "train_seconds": round(time.time() - t0, 1), "stopped_early": stopped}
    return res, best_state


def save_shards(state: dict, out: Path, name: str) -> list[str]:
    from safetensors.torch import save_file

    files, cur, size = [], {}, 0
    for k in sorted(state):
        nbytes = state[k].numel() * 4
        if cur and size + nbytes > SHARD_BYTES:
            files.append(cur)
            cur, size = {}, 0
        cur[k] = state[k].contiguous()
        size += nbytes
    files.append(cur)
    names = []
    for i, sd in enumerate(files):
        fn = f"{name}.part{i}.safetensors"
        save_file(sd, str(out / fn))
        names.append(fn)
    return names


def load_shards(student_dir: Path, name: str) -> dict:
    from safetensors.numpy import load_file

    sd = {}
    for p in sorted(student_dir.glob(f"{name}.part*.safetensors")):
        sd.update(load_file(str(p)))
    if not sd:
        raise SystemExit(f"distill: no {name}.part*.safetensors in {student_dir}")
    return sd


# ----------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(WORK / "distill_data.json"))
    ap.add_argument("--default", default=str(DEFAULT_DIR), help="teacher model directory")
    ap.add_argument("--out", default=str(WORK / "student"))
    ap.add_argument("--variants", default=SHIPPED_RUN, help=f"comma separated, from {list(VARIANTS)}")
    ap.add_argument("--probe", help="only score every subset of the default's layers of these sizes (e.g. 3,2) on the "
                                    "validation slice, untrained, and exit")
    ap.add_argument("--workers", type=int, default=1, help="variants trained at once, one process each (GPU: 12)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the cross-entropy on labeled texts")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--budget-s", type=float, default=0, help="no new variant or epoch after this many seconds (0 = none)")
    ap.add_argument("--deadline", type=float, default=0, help=argparse.SUPPRESS)  # absolute time, for workers
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    ap.add_argument("--limit-steps", type=int, default=0, help="debug: steps per epoch")
    ap.add_argument("--skip-check", action="store_true", help="debug: skip the reconstruction check")
    ap.add_argument("--cpu", action="store_true")
    return ap.parse_args(argv)


def probe(args, log, device, teacher_sd, data):
    """Score each subset of the default's layers, untrained, on the validation slice (macro-F1, KD loss)."""
    import itertools

    import torch
    import torch.nn.functional as F

    doc, ids, labels, part, t_logits = data
    va = np.flatnonzero(part == "val")
    rows = []
    for k in [int(x) for x in args.probe.split(",")]:
        for layers in itertools.combinations(range(6), k):
            model = load_into(build_model(k, args.default), student_state(teacher_sd, list(layers))).to(device).eval()
            lg = predict(model, ids, va, device)
            T = args.temperature
            kd = float(F.kl_div(F.log_softmax(torch.tensor(lg) / T, -1), F.log_softmax(torch.tensor(t_logits[va]) / T, -1),
                                log_target=True, reduction="batchmean")) * T * T
            r = {"layers": list(layers), "val_macro_f1": round(macro_f1(labels[va], lg.argmax(-1)), 4), "val_kd_loss": round(kd, 4),
                 "val_agreement_with_teacher": round(float((lg.argmax(-1) == t_logits[va].argmax(-1)).mean()), 4)}
            rows.append(r)
            log(f"probe {json.dumps(r)}")
    for k in sorted({len(r["layers"]) for r in rows}, reverse=True):
        best = max((r for r in rows if len(r["layers"]) == k), key=lambda r: r["val_macro_f1"])
        log(f"probe: best {k}-layer subset by validation macro-F1: {best['layers']}")
    (Path(args.out) / "probe.json").write_text(json.dumps(rows, indent=1) + "\n")


def run_worker(args, log, device, teacher_sd, data):
    """Train each of args.variants in this process; write results.json and the best state of each."""
    import copy

    out = Path(args.out)
    results = {}
    for name in [v for v in args.variants.split(",") if v]:
        if time.time() > args.deadline:
            log(f"distill: skipping {name} (time budget)")
            results[name] = {"skipped": "time budget"}
            continue
        layers, beta, over = VARIANTS[name]
        hp = copy.copy(args)
        for k, v in over.items():
            setattr(hp, k, v)
        try:
            res, state = train_variant(name, layers, beta, hp, teacher_sd, data, device, log, args.deadline)
        except Exception as e:  # one failing variant must not lose the others
            import traceback

            log(f"distill: {name} FAILED: {e!r}\n{traceback.format_exc()}")
            results[name] = {"failed": repr(e)}
            continue
        res["overrides"] = over
        res["files"] = save_shards(state, out, name)
        results[name] = res
        log(f"distill: {name} best epoch {res['best_epoch']} val macro-F1 {res['best_val_macro_f1']} ({res['train_seconds']}s)")
        (out / "variants.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "variants.json").write_text(json.dumps(results, indent=1) + "\n")
    return results


def main(argv=None):
    args = parse_args(argv)
    import torch
    import transformers

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / ("probe_log.txt" if args.probe else "log.txt"), "w")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    t_start = time.time()
    if not args.deadline:
        args.deadline = t_start + args.budget_s if args.budget_s else float("inf")
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    teacher_sd = default_weights(Path(args.default) / "model.onnx")
    max_length = json.loads((Path(args.default) / "config.json").read_text())["medallion"]["max_length"]
    data = load_data(args.data, args.default, max_length)
    doc, ids, labels, part, t_logits = data
    if args.probe:
        probe(args, log, device, teacher_sd, data)
        return
    if args.worker:
        run_worker(args, log, device, teacher_sd, data)
        return

    env = {"torch": torch.__version__, "transformers": transformers.__version__, "device": str(device),
           "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None, "workers": args.workers}
    log(f"distill: {json.dumps(env)}")
    log(f"distill: data {doc['counts']} (teacher sha256 {doc['teacher_sha256'][:12]})")
    recon = {}
    if not args.skip_check:
        # The dequantized fp32 default against the shipped int8 logits.
        teacher = load_into(build_model(6, args.default), teacher_sd).to(device).eval()
        va = np.flatnonzero(part == "val")
        tl = predict(teacher, ids, np.arange(len(ids)), device)
        recon = {
            "argmax_agreement_with_int8": round(float((tl.argmax(-1) == t_logits.argmax(-1)).mean()), 4),
            "max_abs_logit_diff": round(float(np.abs(tl - t_logits).max()), 4),
            "val_macro_f1_teacher_int8": round(macro_f1(labels[va], t_logits[va].argmax(-1)), 4),
            "val_macro_f1_teacher_dequantized_fp32": round(macro_f1(labels[va], tl[va].argmax(-1)), 4),
            "note": "the teacher was fine-tuned on the validation slice too, so its validation figures are optimistic",
        }
        log(f"distill: reconstruction {json.dumps(recon)}")
        del teacher
        if device.type == "cuda":
            torch.cuda.empty_cache()

    names = [v for v in args.variants.split(",") if v]
    for n in names:
        if n not in VARIANTS:
            raise SystemExit(f"distill: unknown variant {n!r}")
    variants: dict = {}
    if args.workers <= 1:
        wdir = out / "work"
        wdir.mkdir(exist_ok=True)
        a = copy_args(args, out=str(wdir))
        variants = run_worker(a, log, device, teacher_sd, data)
        dirs = {n: wdir for n in variants}
    else:
        import subprocess

        groups = [names[i :: args.workers] for i in range(min(args.workers, len(names)))]
        procs = []
        for gi, g in enumerate(groups):
            wdir = out / f"work{gi}"
            wdir.mkdir(exist_ok=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--variants", ",".join(g), "--out", str(wdir),
                   "--deadline", repr(args.deadline)]
            for k in ("data", "default", "epochs", "lr", "batch_size", "warmup", "weight_decay", "temperature", "alpha",
                      "seed", "threads", "limit_steps"):
                cmd += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
            if args.cpu:
                cmd.append("--cpu")
            procs.append((g, wdir, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(wdir / "stderr.txt", "w"))))
        log(f"distill: {len(procs)} workers: {[g for g, _, _ in procs]}")
        dirs = {}
        for g, wdir, p in procs:
            rc = p.wait()
            log(f"distill: worker {g} exit {rc}")
            if (wdir / "log.txt").exists():
                logf.write((wdir / "log.txt").read_text())
            if rc != 0 and (wdir / "stderr.txt").exists():
                logf.write((wdir / "stderr.txt").read_text()[-4000:])
            got = json.loads((wdir / "variants.json").read_text()) if (wdir / "variants.json").exists() else {}
            for n in g:
                variants[n] = got.get(n, {"failed": f"worker exit {rc}, no result"})
                dirs[n] = wdir
        logf.flush()

    results = {"env": env, "args": {k: v for k, v in vars(args).items() if k not in ("data", "out", "default", "deadline", "worker")},
               "data_counts": doc["counts"], "reconstruction": recon, "variants": {n: variants[n] for n in names if n in variants}}
    best_by_depth: dict[int, tuple[float, str]] = {}
    for n, r in results["variants"].items():
        if "best_val_macro_f1" not in r:
            continue
        d = len(r["layers"])
        if d not in best_by_depth or r["best_val_macro_f1"] > best_by_depth[d][0]:
            best_by_depth[d] = (r["best_val_macro_f1"], n)
    results["saved"] = {}
    import shutil

    for d, (f1, n) in sorted(best_by_depth.items()):
        for fn in results["variants"][n]["files"]:
            shutil.copy(dirs[n] / fn, out / fn)
        results["saved"][n] = {"layers": d, "val_macro_f1": f1, "files": results["variants"][n]["files"]}
        log(f"distill: best {d}-layer student: {n} (val macro-F1 {f1}, epoch {results['variants'][n]['best_epoch']})")
    results["total_seconds"] = round(time.time() - t_start, 1)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    log(f"distill: done in {results['total_seconds']}s -> {out}")


def copy_args(args, **kw):
    import copy

    a = copy.copy(args)
    for k, v in kw.items():
        setattr(a, k, v)
    return a


if __name__ == "__main__":
    main()
