"""A writer killed with SIGKILL mid-write leaves the table readable at its last
committed version with no partial rows; delta_vacuum removes the orphans."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import deltalake

from conftest import cli_command, cli_row, run_cli


def data_files(path: str) -> set[str]:
    out = set()
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        out.update(os.path.relpath(os.path.join(root, f), path) for f in files)
    return out


def test_sigkill_mid_write_leaves_last_version_and_vacuum_cleans(tmp_path):
    path = str(tmp_path / "crash")
    run_cli(f"SELECT delta_write('{path}', t) FROM (SELECT i AS id, 'committed' AS s FROM range(1000) r(i)) t;")
    committed = data_files(path)
    # A write large enough to still be running when killed; small target
    # files so that finished-but-uncommitted parts exist too.
    big = (f"SELECT delta_write('{path}', t, {{target_file_size: 1048576}}) FROM "
           f"(SELECT i AS id, repeat('x', 200) || i AS s FROM range(100000000) r(i)) t;")
    p = subprocess.Popen(cli_command(big), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(data_files(path) - committed) < 3:
            time.sleep(0.2)
        assert p.poll() is None, "the writer finished before it could be killed"
        assert len(data_files(path) - committed) >= 1
    finally:
        # The venv's `duckdb` is a launcher that runs the real CLI as a child:
        # kill the whole process group.
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    time.sleep(0.5)

    # Still version 0 with exactly the committed rows, in both readers.
    assert cli_row(f"SELECT count(*), count(DISTINCT s), max(id) FROM delta_read('{path}');") == ("1000", "1", "999")
    t = deltalake.DeltaTable(path)
    assert t.version() == 0
    assert t.to_pyarrow_dataset().count_rows() == 1000

    orphans = data_files(path) - committed
    assert orphans
    out = run_cli(f"SELECT path FROM delta_vacuum('{path}', retention_hours := 0) WHERE deleted ORDER BY path;")
    assert sorted(out.split()) == sorted(orphans)
    assert data_files(path) == committed
    assert cli_row(f"SELECT count(*) FROM delta_read('{path}');") == ("1000",)
