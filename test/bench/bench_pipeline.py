#!/usr/bin/env python3
"""Benchmark the whole pipeline: medallion (sql/ in the DuckDB CLI) against a
Python baseline doing the same steps (pandas/pyarrow + Python deltalake +
Python onnxruntime), on the 20,000 shipped tweets (with and without BERT) and
on generated tweets (without BERT: scoring 1M tweets takes most of an hour on
2 cores either way).

Every stage runs in its own process, so wall time and peak RSS (`wait4`) are
the stage's own. Ratios are baseline time / medallion time from the same run.
Results go to docs/benchmarks.md (section "Pipeline") unless --no-doc.

    make bench            # all benchmarks
    .venv/bin/python test/bench/bench_pipeline.py --generated 1000000
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
MODEL = os.path.join(REPO, "build", "release", "models", "default")
ZONES = {"PDT": "-0700", "PST": "-0800", "MDT": "-0600", "MST": "-0700", "CDT": "-0500",
         "CST": "-0600", "EDT": "-0400", "EST": "-0500", "UTC": "+0000", "GMT": "+0000"}
FIELDS = ("date", "user", "text", "sentiment")


def timed(cmd, env=None) -> tuple[float, float]:
    """Runs `cmd`; returns (seconds, peak RSS in MB) of that process tree's leader."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"bench_pipeline: {' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


# ------------------------------------------------------------- the baseline

def baseline_bronze(landing, lake):
    import pyarrow as pa
    from deltalake import write_deltalake
    good, bad = [], []
    for path in sorted(glob.glob(os.path.join(landing, "*.json"))):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    bad.append((path, n, line, "invalid JSON"))
                    continue
                missing = [k for k in FIELDS if not isinstance(rec, dict) or rec.get(k) is None]
                if missing:
                    bad.append((path, n, line, f"missing field: {missing[0]}"))
                    continue
                good.append({"id": rec.get("id"), **{k: rec[k] for k in FIELDS},
                             "source_file": path, "line_no": n})
    now = pa.scalar(time.time_ns() // 1000, pa.timestamp("us", "UTC"))
    table = pa.Table.from_pylist(good)
    table = table.append_column("processing_time", pa.array([now.as_py()] * len(good), pa.timestamp("us", "UTC")))
    write_deltalake(os.path.join(lake, "bronze"), table, mode="append")
    if bad:
        q = pa.Table.from_pylist([dict(source_file=a, line_no=b, raw_record=c, reason=d) for a, b, c, d in bad])
        write_deltalake(os.path.join(lake, "quarantine"), q, mode="append")


def baseline_silver(lake):
    import pandas as pd
    from deltalake import DeltaTable, write_deltalake
    df = DeltaTable(os.path.join(lake, "bronze")).to_pandas()
    df = df[df["id"].notna() & df["text"].notna() & df["sentiment"].isin(["0", "4"])]
    df = df.sort_values(["processing_time", "source_file"]).drop_duplicates("id")
    zone = df["date"].str.extract(r" ([A-Z]{3}) ")[0].map(ZONES)
    dated = df["date"].str.replace(r" [A-Z]{3} ", " ", regex=True)
    ts = pd.to_datetime(dated + " " + zone.fillna("+0000"), format="%a %b %d %H:%M:%S %Y %z", errors="coerce", utc=True)
    text = df["text"]
    for ent, ch in (("&quot;", '"'), ("&#39;", "'"), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        text = text.str.replace(ent, ch, regex=False)
    text = text.str.replace(r"@\w+", "", regex=True).str.strip()
    text = text.str.replace(r"(https?://|www\.)\S+", "", regex=True).str.replace(r"\s+", " ", regex=True)
    mentions = df["text"].str.findall(r"@(\w{1,15})").map(lambda ms: list(dict.fromkeys(m.lower() for m in ms)) or [None])
    out = pd.DataFrame({"tweet_id": df["id"], "user_name": df["user"], "created_at": ts, "text": df["text"],
                        "cleaned_text": text, "mention": mentions, "sentiment": df["sentiment"],
                        "sentiment_id": (df["sentiment"] == "4").astype("int32")}).explode("mention")
    write_deltalake(os.path.join(lake, "silver"), out, mode="overwrite")


def baseline_gold(lake):
    import numpy as np
    import onnxruntime as ort
    from deltalake import DeltaTable, write_deltalake
    from tokenizers import Tokenizer
    silver = DeltaTable(os.path.join(lake, "silver")).to_pandas()
    tweets = silver.drop_duplicates("tweet_id")[["tweet_id", "cleaned_text"]]
    config = json.load(open(os.path.join(MODEL, "config.json")))
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.enable_truncation(config["medallion"]["max_length"])
    opts = ort.SessionOptions()
    # every core, with ONNX Runtime's default spinning: its fastest configuration
    # here (see the Sentiment section)
    opts.intra_op_num_threads = os.cpu_count()
    session = ort.InferenceSession(os.path.join(MODEL, "model.onnx"), opts)
    names = {i.name for i in session.get_inputs()}
    enc = tok.encode_batch(list(tweets["cleaned_text"]))
    order = sorted(range(len(enc)), key=lambda i: len(enc[i].ids))
    probs = np.zeros((len(enc), len(labels)), dtype=np.float32)
    for start in range(0, len(order), 32):
        idx = order[start:start + 32]
        width = max(len(enc[i].ids) for i in idx)
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, i in enumerate(idx):
            ids[r, :len(enc[i].ids)] = enc[i].ids
            mask[r, :len(enc[i].ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(ids)
        logits = session.run(None, feed)[0]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs[idx] = e / e.sum(axis=1, keepdims=True)
    best = probs.argmax(axis=1)
    tweets = tweets.assign(predicted_sentiment=[labels[b] for b in best],
                           predicted_score=(probs.max(axis=1) * 100).round(2).astype("float64"),
                           predicted_sentiment_id=(probs[:, labels.index("positive")]
                                                   >= probs[:, labels.index("negative")]).astype("int32"))
    gold = silver.merge(tweets.drop(columns="cleaned_text"), on="tweet_id")
    write_deltalake(os.path.join(lake, "gold"), gold, mode="append")


# ------------------------------------------------------------- the harness

def run_case(name, landing, bert, work):
    stages = ["10_bronze", "20_silver"] + (["30_gold"] if bert else [])
    base_stage = {"10_bronze": "bronze", "20_silver": "silver", "30_gold": "gold"}
    rows = {}
    lake_m, lake_b = os.path.join(work, name, "m"), os.path.join(work, name, "b")
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"file://{os.path.join(work, name, 'mlruns')}")
    for stage in stages:
        m = timed([PY, "tools/pipeline.py", "--landing", landing, "--lake", lake_m,
                   "--reports", os.path.join(work, name, "reports"), "--layers", stage], env)
        b = timed([PY, os.path.abspath(__file__), "--stage", base_stage[stage], "--landing", landing, "--lake", lake_b])
        rows[stage] = (m, b)
    return rows


def count_rows(landing):
    return sum(1 for p in glob.glob(os.path.join(landing, "*.json")) for line in open(p, encoding="utf-8") if line.strip())


def report(results, generated) -> str:
    out = ["## Pipeline", "",
           f"Command: `make bench` (`test/bench/bench_pipeline.py --generated {generated}`), one run, "
           f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores (shared machine: expect noise). "
           "Each stage is its own process; medallion = `tools/pipeline.py --layers <stage>` (the CLI, "
           "LOAD included); baseline = the same step in Python (json + pandas/pyarrow + "
           "`deltalake.write_deltalake`, Python onnxruntime with sorted batches of 32 on every core). "
           "Ratio = baseline seconds / medallion seconds.", "",
           "| data | stage | rows | medallion s | rows/s | peak RSS MB | baseline s | rows/s | peak RSS MB | ratio |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, n, stages in results:
        total_m = total_b = 0.0
        for stage, ((ms, mr), (bs, br)) in stages.items():
            total_m += ms
            total_b += bs
            out.append(f"| {name} | {stage} | {n:,} | {ms:.1f} | {n / ms:,.0f} | {mr:.0f} | {bs:.1f} | "
                       f"{n / bs:,.0f} | {br:.0f} | {bs / ms:.2f}× |")
        out.append(f"| {name} | **all** | {n:,} | {total_m:.1f} | {n / total_m:,.0f} | | {total_b:.1f} | "
                   f"{n / total_b:,.0f} | | **{total_b / total_m:.2f}×** |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=1_000_000, help="generated tweets (0: skip)")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--landing", help=argparse.SUPPRESS)
    ap.add_argument("--lake", help=argparse.SUPPRESS)
    a, _ = ap.parse_known_args()
    if a.stage:
        {"bronze": lambda: baseline_bronze(a.landing, a.lake), "silver": lambda: baseline_silver(a.lake),
         "gold": lambda: baseline_gold(a.lake)}[a.stage]()
        return
    work = tempfile.mkdtemp(prefix="bench-pipeline-")
    try:
        real = os.path.join(work, "landing-20k")
        subprocess.run([PY, "tools/stream.py", "--landing", real, "--quiet"], cwd=REPO, check=True)
        results = [("20k real, with BERT", count_rows(real), run_case("real-bert", real, True, work)),
                   ("20k real, no BERT", count_rows(real), run_case("real", real, False, work))]
        if a.generated:
            gen = os.path.join(work, "landing-gen")
            subprocess.run([PY, "tools/generate.py", "--rows", str(a.generated), "--format", "landing",
                            "--out", gen, "--batch-size", "5000"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
            results.append((f"{a.generated:,} generated, no BERT", count_rows(gen), run_case("gen", gen, False, work)))
        section = report(results, a.generated)
        print(section)
        if not a.no_doc:
            write_section("bench_pipeline", section)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
