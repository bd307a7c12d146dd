"""Shared fixtures: the built extension loaded in the real Python host, and
the real DuckDB CLI, both from the pinned venv (see Makefile `test-py`)."""
from __future__ import annotations

import os
import subprocess

import duckdb
import pytest
from s3_server import s3  # noqa: F401 - the moto S3 server fixture (test_delta_s3.py)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXT = os.environ.get("MEDALLION_EXTENSION", os.path.join(REPO, "build/release/medallion.duckdb_extension"))
CLI = os.environ.get("MEDALLION_DUCKDB_CLI", os.path.join(REPO, ".venv/bin/duckdb"))


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    return con


@pytest.fixture
def con():
    c = connect()
    yield c
    c.close()


def cli_command(sql: str) -> list[str]:
    return [CLI, "-unsigned", "-batch", "-csv", "-noheader", "-c", f"LOAD '{EXT}'; {sql}"]


def run_cli(sql: str, timeout: float = 120) -> str:
    out = subprocess.run(cli_command(sql), capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"duckdb CLI failed ({out.returncode}):\n{out.stderr}\n{out.stdout}")
    return out.stdout


def cli_row(sql: str) -> tuple[str, ...]:
    """The last output line of a CLI run, split into CSV cells."""
    return tuple(run_cli(sql).strip().splitlines()[-1].split(","))
