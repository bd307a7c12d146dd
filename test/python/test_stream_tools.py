"""Tests for tools/stream.py and tools/generate.py.

Why: bronze ingestion trusts the landing-file contract (record shape, atomic
appearance, arrival-ordered names, no duplicates across producer restarts),
and its quarantine tests trust malformed injection to be deterministic. The
benchmarks trust the generator's shapes. These pin all of that down.
"""
import collections
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))
import generate  # noqa: E402
import stream  # noqa: E402

SAMPLE = list(stream.read_sample(stream.DEFAULT_INPUT))
ZONES = {"PDT": -7, "PST": -8}


def batches(landing):
    """[(name, [line, ...]), ...] of the finished files, in name order."""
    out = []
    for p in stream.existing_batches(landing):
        text = p.read_text(encoding="utf-8")
        assert text.endswith("\n")
        out.append((p.name, text[:-1].split("\n")))
    return out


def all_lines(landing):
    return [line for _, lines in batches(landing) for line in lines]


def utc(date):
    """A Twitter date as a naive UTC datetime."""
    dow, mon, day, hms, zone, year = date.split(" ")
    local = datetime.datetime.strptime(f"{dow} {mon} {day} {hms} {year}", "%a %b %d %H:%M:%S %Y")
    return local - datetime.timedelta(hours=ZONES[zone])


def test_shipped_sample():
    assert len(SAMPLE) == 20_000
    assert len({r["id"] for r in SAMPLE}) == 20_000
    assert collections.Counter(r["sentiment"] for r in SAMPLE) == {"0": 9_999, "4": 10_001}


def test_record_format_and_batch_sizes(tmp_path):
    stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=500, limit=1_200)
    got = batches(tmp_path)
    assert [name for name, _ in got] == [
        "tweets-000000000.json", "tweets-000000500.json", "tweets-000001000.json"]
    assert [len(lines) for _, lines in got] == [500, 500, 200]
    records = [json.loads(line) for _, lines in got for line in lines]
    assert records == SAMPLE[:1_200]
    for r in records:
        assert stream.validate(json.dumps(r)) is None
        assert set(r) == set(stream.FIELDS)
        assert all(isinstance(v, str) for v in r.values())
        assert r["sentiment"] in ("0", "4")
        utc(r["date"])  # parses
    assert records[0]["date"] == "Mon Apr 06 22:19:45 PDT 2009"


def test_atomic_names_and_no_temp_files_left(tmp_path):
    stale = tmp_path / ".tweets-000000000.json.tmp"
    stale.write_text('{"half a wri')  # what a crash mid-write leaves behind
    stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=300, limit=1_000)
    names = sorted(os.listdir(tmp_path))
    assert names == [stream.batch_name(o) for o in (0, 300, 600, 900)]
    assert not [n for n in names if n.startswith(".")]


def test_resume_does_not_duplicate(tmp_path):
    first = stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=500, limit=2_000, max_files=2)
    assert len(first) == 2
    stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=500, limit=1_200)  # short last batch
    stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=500, limit=2_000)  # resumes mid-batch
    assert stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=500, limit=2_000) == []
    assert [n for n, _ in batches(tmp_path)] == [
        stream.batch_name(o) for o in (0, 500, 1_000, 1_200, 1_700)]
    assert [json.loads(line)["id"] for line in all_lines(tmp_path)] == [r["id"] for r in SAMPLE[:2_000]]
    again = stream.stream(stream.DEFAULT_INPUT, tmp_path, batch_size=1_000, limit=2_000, restart=True)
    assert [p.name for p in again] == [stream.batch_name(0), stream.batch_name(1_000)]
    assert len(os.listdir(tmp_path)) == 2


def test_malformed_injection_is_deterministic_and_detectable(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    stream.stream(stream.DEFAULT_INPUT, a, batch_size=500, limit=1_000, malformed_every=7)
    stream.stream(stream.DEFAULT_INPUT, b, batch_size=130, limit=400, malformed_every=7)
    stream.stream(stream.DEFAULT_INPUT, b, batch_size=130, limit=1_000, malformed_every=7)
    lines = all_lines(a)
    assert lines == all_lines(b)  # independent of batch size and resuming
    reasons = {row: stream.validate(line) for row, line in enumerate(lines, 1)}
    bad = {row for row, why in reasons.items() if why}
    assert bad == set(range(7, 1_001, 7))
    kinds = collections.Counter(reasons[row].split(" '")[0] for row in bad)
    assert kinds == {"invalid JSON": 71, "missing field": 71}
    missing = {reasons[row] for row in bad} - {"invalid JSON"}
    assert missing == {f"missing field {f!r}" for f in stream.REQUIRED}
    for row, line in enumerate(lines, 1):  # the good ones are untouched
        if row not in bad:
            assert json.loads(line) == SAMPLE[row - 1]


def test_cli(tmp_path):
    landing = tmp_path / "landing"
    cmd = [sys.executable, str(TOOLS / "stream.py"), "--landing", str(landing),
           "--limit", "1000", "--batch-size", "250", "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True)
    subprocess.run(cmd, check=True, capture_output=True)
    assert [len(lines) for _, lines in batches(landing)] == [250] * 4


def gen(tmp_path, name, *args):
    out = tmp_path / name
    generate.main(["--out", str(out), *args])
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    return [json.loads(line) for line in
            gen(tmp, "t.ndjson", "--format", "ndjson", "--rows", "40000").read_text("utf-8").splitlines()]


def test_generator_is_deterministic(tmp_path):
    one = gen(tmp_path, "one", "--format", "ndjson", "--rows", "5000", "--seed", "3").read_bytes()
    two = gen(tmp_path, "two", "--format", "ndjson", "--rows", "5000", "--seed", "3").read_bytes()
    other = gen(tmp_path, "other", "--format", "ndjson", "--rows", "5000", "--seed", "4").read_bytes()
    assert one == two != other


def test_generator_formats_agree(tmp_path):
    nd = gen(tmp_path, "t.ndjson", "--format", "ndjson", "--rows", "1234")
    land = gen(tmp_path, "land", "--format", "landing", "--rows", "1234", "--batch-size", "500")
    csv_ = gen(tmp_path, "t.csv", "--format", "csv", "--rows", "1234")
    lines = nd.read_text("utf-8").splitlines()
    assert [len(x) for _, x in batches(land)] == [500, 500, 234]
    assert all_lines(land) == lines
    assert [stream.encode(r) for r in stream.read_sample(csv_)] == lines  # same bytes as stream.py
    assert not [n for n in os.listdir(land) + os.listdir(tmp_path) if n.startswith(".")]


def test_generator_ids_labels_and_texts(generated):
    assert len({r["id"] for r in generated}) == len(generated) == 40_000
    assert not {r["id"] for r in generated} & {r["id"] for r in SAMPLE}
    assert collections.Counter(r["sentiment"] for r in generated) == {"0": 19_998, "4": 20_002}
    pairs = {(r["text"], r["sentiment"]) for r in SAMPLE}  # a text keeps its own label
    assert all((r["text"], r["sentiment"]) in pairs for r in generated)
    assert all(stream.validate(stream.encode(r)) is None for r in generated)


def test_generator_user_skew(generated):
    counts = collections.Counter(r["user"] for r in generated).most_common()
    top = sum(c for _, c in counts[:500])
    assert counts[0][1] / 40_000 > 0.05  # Zipf s=1 over 50k users: the top one has ~9%
    assert top / 40_000 > 0.45  # and the top 1% of users about 60%
    assert len(counts) > 5_000  # with a long tail


def test_generator_time_span(generated):
    times = [utc(r["date"]) for r in generated]
    assert times == sorted(times)
    assert (times[-1] - times[0]).days >= 360
    assert {r["date"].split(" ")[4] for r in generated} == {"PDT", "PST"}


@pytest.mark.parametrize("utc_s,expected", [
    (1257065999, "Sun Nov 01 01:59:59 PDT 2009"),
    (1257066000, "Sun Nov 01 01:00:00 PST 2009"),
    (1268560799, "Sun Mar 14 01:59:59 PST 2010"),
    (1268560800, "Sun Mar 14 03:00:00 PDT 2010"),
])
def test_pacific_dates(utc_s, expected):
    assert generate.TwitterDates(2009, 2010).format(utc_s) == expected
