#!/usr/bin/env python3
"""Replay the Sentiment140 sample as a raw tweet stream of JSON files.

Why: the bronze layer ingests raw tweet JSON files that land in a directory
over time, as the reference Spark pipeline's source did. This tool produces
exactly that from the shipped CSV, so the whole pipeline runs on one laptop,
including the awkward cases bronze must handle: a producer that stops and
resumes, and malformed records that must be quarantined, not loaded.

The contract a reader may rely on:

* Files are newline-delimited JSON (UTF-8, one object per line, "\\n" after
  every line) named ``tweets-NNNNNNNNN.json``, where NNNNNNNNN is the 0-based
  input row of the file's first tweet. Names therefore sort in arrival order
  and are the same on every run.
* A record has string fields ``id``, ``date`` (Twitter's format, e.g.
  ``Mon Apr 06 22:19:45 PDT 2009``), ``user``, ``text`` and ``sentiment``
  ("0" negative, "4" positive).
* A file appears atomically: it is written as ``.tweets-NNNNNNNNN.json.tmp``
  in the same directory, fsynced, then renamed, so a glob of ``*.json`` never
  sees a partial file.
* Re-running resumes after the last row already in the landing directory
  (found from the last file's name and line count) and never re-emits a row;
  ``--restart`` deletes this tool's files and starts again. Progress lives in
  the landing directory itself, so do not move files out of it between runs.
* With ``--malformed-every K``, every K-th input row (1-based, counted over the
  whole input, so independent of batching and resuming) is broken on purpose:
  alternately a truncated line (invalid JSON) and a record missing one of the
  required fields, cycling through date, user, text, sentiment.
"""
import argparse
import csv
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT / "data" / "sentiment140_sample_20k.csv"
REQUIRED = ("date", "user", "text", "sentiment")
FIELDS = ("id",) + REQUIRED
NAME_RE = re.compile(r"^tweets-(\d{9})\.json$")
TEMP_RE = re.compile(r"^\.tweets-\d{9}\.json\.tmp$")


def batch_name(offset):
    """The file name for a batch whose first tweet is input row `offset`."""
    return f"tweets-{offset:09d}.json"


def read_sample(path):
    """Yield records from a Sentiment140 CSV (polarity, id, date, query, user, text)."""
    with open(path, encoding="utf-8", newline="") as f:
        for polarity, tid, date, _query, user, text in csv.reader(f):
            yield {"id": tid, "date": date, "user": user, "text": text, "sentiment": polarity}


def encode(record):
    """One NDJSON line (no newline). Compact and UTF-8; generate.py matches it byte for byte."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def render(record, row, malformed_every=0):
    """The line for 1-based input row `row`, broken on purpose if it is a K-th row."""
    if not malformed_every or row % malformed_every:
        return encode(record)
    k = row // malformed_every
    if k % 2:  # odd: a truncated write, which no JSON parser accepts
        line = encode(record)
        return line[: len(line) // 2]
    broken = dict(record)
    del broken[REQUIRED[(k // 2 - 1) % len(REQUIRED)]]
    return encode(broken)


def validate(line):
    """Why `line` is not a well-formed tweet record, or None if it is (bronze's rule)."""
    try:
        record = json.loads(line)
    except ValueError:
        return "invalid JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    for field in REQUIRED:
        if field not in record:
            return f"missing field {field!r}"
        if not isinstance(record[field], str):
            return f"field {field!r} is not a string"
    if record["sentiment"] not in ("0", "4"):
        return "sentiment is not '0' or '4'"
    return None


def write_atomic(path, lines, fsync=True):
    """Write `lines` to `path` via a hidden temp file in the same dir, then rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(line + "\n" for line in lines)
        if fsync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def existing_batches(landing):
    """This tool's finished files in `landing`, in arrival order."""
    return sorted(p for p in Path(landing).iterdir() if NAME_RE.match(p.name))


def clear(landing, restart):
    """Remove temp files a crash left behind; with `restart`, finished files too."""
    for p in Path(landing).iterdir():
        if TEMP_RE.match(p.name) or (restart and NAME_RE.match(p.name)):
            p.unlink()


def resume_offset(landing):
    """The first input row not yet in `landing`: last file's offset + its line count."""
    files = existing_batches(landing)
    if not files:
        return 0
    last = files[-1]
    with open(last, "rb") as f:
        count = sum(1 for _ in f)
    return int(NAME_RE.match(last.name).group(1)) + count


def stream(input_path, landing, batch_size=500, interval=0.0, max_files=None,
           limit=None, restart=False, malformed_every=0, log=None):
    """Emit the input's rows (up to `limit`) as batch files; return the paths written."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    landing = Path(landing)
    landing.mkdir(parents=True, exist_ok=True)
    clear(landing, restart)
    offset = resume_offset(landing)
    rows = itertools.islice(read_sample(input_path), offset, limit)
    written = []
    while max_files is None or len(written) < max_files:
        batch = list(itertools.islice(rows, batch_size))
        if not batch:
            break
        if written and interval > 0:
            time.sleep(interval)
        lines = [render(r, offset + i + 1, malformed_every) for i, r in enumerate(batch)]
        path = landing / batch_name(offset)
        write_atomic(path, lines)
        written.append(path)
        offset += len(batch)
        if log:
            log(f"{path}: {len(batch)} tweets (rows {offset - len(batch)}-{offset - 1})")
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default=str(DEFAULT_INPUT),
                    help="Sentiment140-format CSV (default: the shipped data/ sample)")
    ap.add_argument("--landing", default="landing", help="directory to drop files into (default: landing)")
    ap.add_argument("--batch-size", type=int, default=500, help="tweets per file (default: 500)")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between files (default: 0)")
    ap.add_argument("--max-files", type=int, help="stop after writing this many files")
    ap.add_argument("--limit", type=int, help="stream only the first N input rows")
    ap.add_argument("--restart", action="store_true", help="delete earlier files and start from row 0")
    ap.add_argument("--malformed-every", type=int, default=0, metavar="K",
                    help="break every K-th row (invalid JSON or a missing field), for testing")
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    args = ap.parse_args(argv)
    if args.batch_size < 1 or args.malformed_every < 0:
        ap.error("--batch-size must be >= 1 and --malformed-every >= 0")
    log = None if args.quiet else print
    written = stream(args.input, args.landing, args.batch_size, args.interval, args.max_files,
                     args.limit, args.restart, args.malformed_every, log)
    print(f"wrote {len(written)} files to {args.landing}; "
          f"next row {resume_offset(args.landing)}", file=sys.stderr)


if __name__ == "__main__":
    main()
