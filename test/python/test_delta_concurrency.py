"""Two real processes appending to one table at the same time: every commit
lands (optimistic concurrency with retry), no row is lost or duplicated."""
from __future__ import annotations

import subprocess

import deltalake

from conftest import cli_command, cli_row, run_cli

BATCHES = 8
ROWS = 2000


def writer_sql(path: str, writer: int) -> str:
    stmts = []
    for b in range(BATCHES):
        base = (writer * BATCHES + b) * ROWS
        stmts.append(f"SELECT delta_write('{path}', t) FROM (SELECT {base} + i AS id, {writer} AS writer FROM range({ROWS}) r(i)) t;")
    return " ".join(stmts)


def test_two_processes_append_concurrently(tmp_path):
    path = str(tmp_path / "shared")
    run_cli(f"SELECT delta_write('{path}', t) FROM (SELECT -1::BIGINT AS id, -1 AS writer) t;")
    procs = [subprocess.Popen(cli_command(writer_sql(path, w)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    count, distinct = map(int, cli_row(f"SELECT count(*), count(DISTINCT id) FROM delta_read('{path}');"))
    (version,) = map(int, cli_row(f"SELECT max(version) FROM delta_history('{path}');"))
    assert count == 2 * BATCHES * ROWS + 1
    assert distinct == count
    assert version == 2 * BATCHES  # every commit got its own version
    t = deltalake.DeltaTable(path)
    assert t.version() == 2 * BATCHES
    assert t.to_pyarrow_dataset().count_rows() == count

