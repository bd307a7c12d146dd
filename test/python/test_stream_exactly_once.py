"""Streaming guarantees of the SQL pipeline, with real concurrent processes
and SIGKILLs: several passes at once over the same landing directory and
lake, and passes killed at random points, leave every layer with each landed
record exactly once; a pass with nothing new writes no version anywhere; how
far each layer has got is queryable."""
from __future__ import annotations

import os
import random
import signal
import time

from deltalake import DeltaTable
from stream_util import (assert_each_record_once, land, pipeline, start_pipeline, table, versions)


def test_concurrent_passes_write_every_record_once(tmp_path):
    land(tmp_path / "landing", 1000)
    pipeline(tmp_path)
    land(tmp_path / "landing", 3000)  # 20 new files
    procs = [start_pipeline(tmp_path) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    c = assert_each_record_once(tmp_path)
    assert c["bronze"] > 2500
    # one evaluation per gold version evaluated, never two for the same one
    ev = table(tmp_path, "evaluations").to_pylist()
    assert len({e["gold_version"] for e in ev}) == len(ev)


def test_sigkills_at_random_points_across_many_passes(tmp_path):
    rng = random.Random(11)
    rows = 0
    for _ in range(8):
        rows += 200
        land(tmp_path / "landing", rows)
        victim, survivor = start_pipeline(tmp_path), start_pipeline(tmp_path)
        time.sleep(rng.uniform(0.2, 3.0))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        _, err = survivor.communicate(timeout=300)
        assert survivor.returncode == 0, err[-3000:]
    pipeline(tmp_path)
    assert_each_record_once(tmp_path)


def test_a_pass_with_nothing_new_writes_no_version(tmp_path):
    land(tmp_path / "landing", 500)
    pipeline(tmp_path)
    before = versions(tmp_path)
    runs = sorted((tmp_path / "mlruns").rglob("meta.yaml"))
    out = pipeline(tmp_path)
    assert versions(tmp_path) == before
    assert sorted((tmp_path / "mlruns").rglob("meta.yaml")) == runs
    assert "0 files, 0 records" in out, out
    assert "nothing new to evaluate" in out, out


def test_each_layer_says_how_far_it_has_got(tmp_path):
    land(tmp_path / "landing", 300)
    pipeline(tmp_path)
    out = pipeline(tmp_path, "--progress")
    for layer in ("bronze", "quarantine", "silver", "gold", "metrics", "analyses"):
        assert layer in out, out
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    behind = {r[0]: r[-1] for r in rows if r and r[0] in ("bronze", "silver", "gold", "metrics", "analyses")}
    # nothing left behind: every layer consumed all of its input
    assert behind and set(behind.values()) == {"0"}, out


def test_silver_clustered_in_merging_cubes_keeps_every_record_once(tmp_path):
    """With silver clustered whenever two new files have gathered, each run
    merges the still-small cube into its own: silver stays one cube plus the
    newest files, every record once, also with a concurrent pass."""
    rows = 0
    for _ in range(4):
        rows += 300
        land(tmp_path / "landing", rows)
        procs = [start_pipeline(tmp_path, "--cluster-min-files", "2") for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err[-3000:]
    assert_each_record_once(tmp_path)
    paths = DeltaTable(str(tmp_path / "lake" / "silver")).file_uris()
    cubes = {p.split("/clustered/")[1].split("/")[0] for p in paths if "/clustered/" in p}
    assert len(cubes) == 1, paths
    assert all(c.startswith("zcube-") for c in cubes)


def test_analyses_append_this_pass_counts_and_compact_now_and_then(tmp_path):
    """The analyses' state tables grow by what a pass counted (an append of
    its partials), not by a rewrite of everything, until 16 files or twice
    as many rows as keys have gathered; then one commit compacts them to one
    row per key. Either way they add up to gold."""
    rows, modes = 0, []
    for _ in range(18):
        rows += 40
        land(tmp_path / "landing", rows, batch=40)
        pipeline(tmp_path)
        history = DeltaTable(str(tmp_path / "lake" / "analyses" / "user_stats")).history(1)
        modes.append(history[0]["operationParameters"]["mode"])
    # pass 1 creates the table; passes 2-16 append; the 17th compacts 16 files
    assert modes[1:16] == ["Append"] * 15 and modes[16] == "Overwrite", modes
    state = DeltaTable(str(tmp_path / "lake" / "analyses" / "user_stats"))
    assert len(state.file_uris()) < 16
    assert_each_record_once(tmp_path)
