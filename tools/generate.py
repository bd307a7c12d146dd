#!/usr/bin/env python3
"""Scale the Sentiment140 sample to millions of synthetic tweets for benchmarks.

Why: 20,000 tweets is too few to measure ingest, scoring and merge throughput,
and the interesting costs (skewed group-bys, time partitioning, id
uniqueness) only show with realistic shapes. This tool keeps the sample's
real texts and labels and invents the rest:

* texts: resampled from the sample, each with its own label; each run of
  20,000 rows is a fresh shuffle of the whole sample, so the label
  distribution matches the sample's exactly at every multiple of its size;
* ids: new and unique, ``3000000000 + row`` (above every real Sentiment140
  id, so they never collide with the shipped sample), increasing with time;
* users: drawn from a Zipf-like distribution (weight of rank k is k**-s) over
  ``--users`` handles: the sample's real handles first, then ``user00001``...;
* dates: increasing, spread evenly over ``--days`` days from ``--start``, in
  Twitter's format with the US Pacific zone abbreviation (PDT or PST by the US
  rules in force since 2007, so a long span crosses both).

Output is deterministic for a given ``--seed`` and options, whatever the
format: ``landing`` (tools/stream.py's batch files, same names, same atomic
writes), or one big ``ndjson`` or ``csv`` file (the sample's own CSV format).
Speed: 1M rows in about 10 s on one core, in under 50 MB (see README).
"""
import argparse
import bisect
import calendar
import csv
import datetime
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stream  # noqa: E402  (the landing-file contract lives there)

ID_BASE = 3_000_000_000
CHUNK = 10_000  # rows drawn at a time; fixed so output never depends on batching
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_OUT = {"landing": "generated/landing", "ndjson": "generated/tweets.ndjson",
               "csv": "generated/tweets.csv"}


def _sunday(year, month, nth):
    """Day of the month of the nth Sunday."""
    first = datetime.date(year, month, 1).weekday()  # Monday is 0
    return 1 + (6 - first) % 7 + 7 * (nth - 1)


def pacific_transitions(first_year, last_year):
    """Sorted UTC instants where US Pacific time switches, with the zone that starts there."""
    instants, zones = [float("-inf")], [("PST", -8 * 3600)]
    for y in range(first_year, last_year + 1):
        # 2:00 local: second Sunday of March (10:00 UTC), first Sunday of November (09:00 UTC)
        instants.append(calendar.timegm((y, 3, _sunday(y, 3, 2), 10, 0, 0)))
        zones.append(("PDT", -7 * 3600))
        instants.append(calendar.timegm((y, 11, _sunday(y, 11, 1), 9, 0, 0)))
        zones.append(("PST", -8 * 3600))
    return instants, zones


class TwitterDates:
    """Formats UTC epoch seconds as Twitter dates in US Pacific time, fast (per-day cache)."""

    def __init__(self, first_year, last_year):
        self.instants, self.zones = pacific_transitions(first_year, last_year)
        self.days = {}

    def zone(self, utc):
        """(abbreviation, offset from UTC in seconds) in force at `utc`."""
        return self.zones[bisect.bisect_right(self.instants, utc) - 1]

    def format(self, utc):
        zone, shift = self.zone(utc)
        local = utc + shift
        day, secs = divmod(local, 86400)
        head = self.days.get(day)
        if head is None:
            t = time.gmtime(day * 86400)
            head = self.days[day] = (f"{DAYS[t.tm_wday]} {MONTHS[t.tm_mon - 1]} {t.tm_mday:02d}",
                                     str(t.tm_year))
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        return f"{head[0]} {h:02d}:{m:02d}:{s:02d} {zone} {head[1]}"


def user_pool(sample_users, n, rng):
    """`n` handles, by popularity rank: the sample's own (shuffled), then synthetic ones."""
    real = sorted(set(sample_users))
    rng.shuffle(real)
    return (real + [f"user{k:05d}" for k in range(1, n - len(real) + 1)])[:n]


def generate(sample, rows, seed=0, users=50_000, zipf_s=1.0, start="2009-04-06", days=365):
    """Yield chunks of rows (id, date, user_rank, sample_index) for `rows` tweets."""
    user_rng, text_rng, time_rng = (random.Random(f"{seed}/{k}") for k in ("users", "texts", "times"))
    cum = list(itertools.accumulate(k ** -zipf_s for k in range(1, users + 1)))
    dates = TwitterDates(int(start[:4]), int(start[:4]) + days // 365 + 1)
    midnight = calendar.timegm(time.strptime(start, "%Y-%m-%d"))
    t0 = midnight - dates.zone(midnight + 8 * 3600)[1]  # midnight Pacific time
    step = days * 86400 / max(rows, 1)
    order, pos = [], 0
    for first in range(0, rows, CHUNK):
        n = min(CHUNK, rows - first)
        ranks = user_rng.choices(range(users), cum_weights=cum, k=n)
        texts = []
        while len(texts) < n:
            if pos == len(order):
                order, pos = list(range(len(sample))), 0
                text_rng.shuffle(order)
            take = order[pos:pos + n - len(texts)]
            texts += take
            pos += len(take)
        yield [(str(ID_BASE + i), dates.format(t0 + int((i + time_rng.random()) * step)), u, s)
               for i, u, s in zip(range(first, first + n), ranks, texts)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default=str(stream.DEFAULT_INPUT), help="sample CSV to resample")
    ap.add_argument("--rows", type=int, default=1_000_000, help="tweets to generate (default: 1000000)")
    ap.add_argument("--format", choices=sorted(DEFAULT_OUT), default="landing",
                    help="landing: batch files like tools/stream.py; ndjson or csv: one file")
    ap.add_argument("--out", help="output dir (landing) or file; default generated/...")
    ap.add_argument("--batch-size", type=int, default=500, help="tweets per landing file (default: 500)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ap.add_argument("--users", type=int, default=50_000, help="distinct users (default: 50000)")
    ap.add_argument("--zipf", type=float, default=1.0, help="user skew exponent s (default: 1.0)")
    ap.add_argument("--start", default="2009-04-06", help="first day, YYYY-MM-DD (default: 2009-04-06)")
    ap.add_argument("--days", type=int, default=365, help="days the dates span (default: 365)")
    args = ap.parse_args(argv)
    out = Path(args.out or DEFAULT_OUT[args.format])
    began = time.perf_counter()
    write(args, out)
    took = time.perf_counter() - began
    print(f"generated {args.rows} tweets into {out} ({args.format}) in {took:.1f} s "
          f"({args.rows / max(took, 1e-9):,.0f} rows/s)", file=sys.stderr)


def write(args, out):
    """Generate per `args` into `out`, replacing what an earlier run left there."""
    sample = list(stream.read_sample(args.input))
    names = user_pool((r["user"] for r in sample), args.users, random.Random(f"{args.seed}/pool"))
    chunks = generate(sample, args.rows, args.seed, args.users, args.zipf, args.start, args.days)
    if args.format == "csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
            for chunk in chunks:
                w.writerows((sample[s]["sentiment"], tid, date, "NO_QUERY", names[u], sample[s]["text"])
                            for tid, date, u, s in chunk)
        os.replace(tmp, out)
        return
    # NDJSON lines exactly as stream.encode would write them, from pre-encoded parts.
    users_json = [json.dumps(n, ensure_ascii=False) for n in names]
    tail_json = [',"text":%s,"sentiment":"%s"}' % (json.dumps(r["text"], ensure_ascii=False),
                                                   r["sentiment"]) for r in sample]
    lines = ('{"id":"%s","date":"%s","user":%s%s' % (tid, date, users_json[u], tail_json[s])
             for chunk in chunks for tid, date, u, s in chunk)
    if args.format == "ndjson":
        out.parent.mkdir(parents=True, exist_ok=True)
        stream.write_atomic(out, lines, fsync=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    stream.clear(out, restart=True)
    for offset in range(0, args.rows, args.batch_size):
        batch = list(itertools.islice(lines, args.batch_size))
        stream.write_atomic(out / stream.batch_name(offset), batch, fsync=False)


if __name__ == "__main__":
    main()
