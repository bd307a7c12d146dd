"""Delta tables at s3://bucket/prefix, through the REAL extension, against a
real S3 endpoint: moto's server on 127.0.0.1 (s3_server.py). The extension
finds the endpoint and credentials in the standard AWS_* environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
AWS_ALLOW_HTTP=true), set here before a connection loads it, or in the
DuckDB CLI's environment. Tables are checked in the bucket itself (boto3) and
with the independent `deltalake` Python package on the same endpoint.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import deltalake
import duckdb
import pyarrow as pa
import pytest

from conftest import cli_command, connect
from s3_server import running_s3
from stream_util import TINY_MODEL, land

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
LOG0 = "_delta_log/00000000000000000000.json"

QUERY = """
SELECT i AS id, 'user_' || (i % 13) AS who, (i * 0.25)::DOUBLE AS score, i % 2 = 0 AS even,
       DATE '2026-03-01' + (i % 4)::INTEGER AS day, (i / 7)::DECIMAL(12, 3) AS amount,
       [i, i * 2] AS pair, {'k': i, 'v': 'x' || i} AS obj,
       CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || i END AS maybe
FROM range(2000) r(i)
"""


def aws_env(env: dict) -> dict:
    """This process's environment with no AWS_* of its own, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env}


@pytest.fixture
def s3con(s3, monkeypatch):
    """The extension in the Python host, with the moto endpoint in its environment."""
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    for k, v in s3.env.items():
        monkeypatch.setenv(k, v)
    c = connect()
    yield c
    c.close()


def cli(sql: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    """The DuckDB CLI with the extension loaded and exactly the AWS_* of `env`."""
    return subprocess.run(cli_command(sql), capture_output=True, text=True, timeout=timeout, env=aws_env(env))


def cli_ok(sql: str, env: dict) -> list[str]:
    out = cli(sql, env)
    assert out.returncode == 0, f"duckdb CLI failed ({out.returncode}):\n{out.stderr}\n{out.stdout}"
    return out.stdout.strip().splitlines()


def data_keys(s3, path: str) -> set[str]:
    return {k for k in s3.keys(path) if not k.startswith("_delta_log/")}


def dl_table(s3, path: str) -> deltalake.DeltaTable:
    return deltalake.DeltaTable(path, storage_options=s3.storage_options)


def dl_rows(s3, path: str) -> pa.Table:
    return pa.table(dl_table(s3, path).to_pyarrow_dataset().to_table())


def sorted_rows(t: pa.Table) -> list[str]:
    t = t.select(sorted(t.column_names))
    return sorted(map(repr, t.to_pylist()))


def append(con, path: str, lo: int, hi: int, options: str = "") -> tuple:
    """Appends ids lo..hi-1 (with `who`); returns (version, rows, status)."""
    opts = f", {options}" if options else ""
    return con.execute(
        f"SELECT r.version, r.rows, r.status FROM (SELECT delta_write('{path}', t{opts}) AS r FROM "
        f"(SELECT i AS id, 'u' || (i % 4) AS who FROM range({lo}, {hi}) r(i)) t)").fetchone()


# (a) write, then read back through delta_read and FROM 's3://...'

def test_write_then_read_back_through_delta_read_and_from(s3, s3con, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a URL taken for a local path would show up here as 's3:'
    path = s3.fresh("rw")
    got = s3con.execute(f"SELECT r.version, r.rows, r.files_added > 0, r.files_removed, r.status FROM "
                        f"(SELECT delta_write('{path}', t) AS r FROM ({QUERY}) t)").fetchone()
    assert got == (0, 2000, True, 0, "committed")

    keys = s3.keys(path)
    assert LOG0 in keys, keys
    assert any(k.endswith(".parquet") for k in keys), keys
    assert os.listdir(tmp_path) == []

    want = s3con.execute(f"SELECT count(*), sum(id), count(DISTINCT who), sum(score), count(maybe) FROM ({QUERY})").fetchone()
    assert want == (2000, 1999000, 13, 499750.0, 1777)
    assert s3con.execute(f"SELECT count(*), sum(id), count(DISTINCT who), sum(score), count(maybe) "
                         f"FROM delta_read('{path}')").fetchone() == want
    # every value, both ways
    assert s3con.execute(f"SELECT count(*) FROM (SELECT * FROM delta_read('{path}') EXCEPT ALL {QUERY})").fetchone() == (0,)
    assert s3con.execute(f"SELECT count(*) FROM ({QUERY} EXCEPT ALL SELECT * FROM delta_read('{path}'))").fetchone() == (0,)

    assert s3con.execute(f"SELECT count(*), sum(id), count(DISTINCT who), sum(score), count(maybe) "
                         f"FROM '{path}'").fetchone() == want
    assert s3con.execute(f"SELECT count(*) FROM (FROM '{path}' EXCEPT ALL FROM delta_read('{path}'))").fetchone() == (0,)
    assert s3con.execute(f"SELECT count(*), min(id) FROM '{path}' WHERE who = 'user_7'").fetchone() == (154, 7)
    assert os.listdir(tmp_path) == []


# (b) a table medallion wrote, read by deltalake-python

def test_medallion_table_read_by_deltalake_python(s3, s3con):
    path = s3.fresh("ours")
    s3con.execute(f"SELECT delta_write('{path}', t, {{partition_by: ['day'], commit_message: 'first'}}) FROM ({QUERY}) t").fetchall()
    s3con.execute(f"SELECT delta_write('{path}', t, {{commit_message: 'second'}}) FROM ({QUERY} LIMIT 10) t").fetchall()

    expected = s3con.sql(f"SELECT * FROM ({QUERY}) UNION ALL SELECT * FROM ({QUERY} LIMIT 10)").to_arrow_table()
    d = dl_table(s3, path)
    got = pa.table(d.to_pyarrow_dataset().to_table())
    assert d.version() == 1
    assert sorted(got.column_names) == sorted(expected.column_names)
    assert got.num_rows == 2010
    assert sorted_rows(got) == sorted_rows(expected)
    assert d.metadata().partition_columns == ["day"]
    hist = d.history()
    assert [h["version"] for h in hist] == [1, 0]
    assert [h.get("userMetadata") for h in hist] == ["second", "first"]


# (c) a table deltalake-python wrote, read (and appended to) by medallion

def test_deltalake_python_table_read_by_medallion(s3, s3con):
    path = s3.fresh("theirs")
    t1 = pa.table({
        "id": pa.array(range(100), pa.int64()),
        "name": pa.array([f"n{i}" for i in range(100)]),
        "part": pa.array(["a" if i % 2 else "b" for i in range(100)]),
    })
    deltalake.write_deltalake(path, t1, partition_by=["part"], storage_options=s3.storage_options)
    deltalake.write_deltalake(path, t1.slice(0, 10), mode="append", storage_options=s3.storage_options)

    assert s3con.execute(f"SELECT count(*), sum(id), count(DISTINCT part) FROM delta_read('{path}')").fetchone() == (110, 4950 + 45, 2)
    assert s3con.execute(f"SELECT part, count(*) FROM delta_read('{path}') GROUP BY part ORDER BY part").fetchall() == [("a", 55), ("b", 55)]
    assert s3con.execute(f"SELECT count(*), max(name) FROM '{path}'").fetchone() == (110, "n99")
    assert s3con.execute(f"SELECT count(*) FROM delta_read('{path}', version := 0)").fetchone() == (100,)
    assert [v for (v,) in s3con.execute(f"SELECT version FROM delta_history('{path}')").fetchall()] == [1, 0]

    s3con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT * FROM delta_read('{path}', version := 0) LIMIT 5) t").fetchall()
    assert dl_table(s3, path).version() == 2
    assert dl_rows(s3, path).num_rows == 115


# (d) delta_version, delta_history, delta_files, delta_txn_version

def test_version_history_files_and_txn_after_two_appends(s3, s3con):
    path = s3.fresh("txn")
    # no table yet: NULL (what a first pipeline pass coalesces), and a clear error to read
    assert s3con.execute(f"SELECT delta_version('{path}'), delta_txn_version('{path}', 'ingest')").fetchone() == (None, None)
    with pytest.raises(duckdb.Error) as e:
        s3con.execute(f"SELECT * FROM delta_read('{path}')").fetchall()
    assert f"delta_read: table '{path}': no Delta table at this path" in str(e.value), str(e.value)
    assert s3.keys(path) == []

    assert append(s3con, path, 0, 30, "{commit_message: 'first'}") == (0, 30, "committed")
    assert append(s3con, path, 100, 105, "{txn_app_id: 'ingest', txn_version: 7, commit_message: 'second'}") == (1, 5, "committed")
    # the same batch again writes nothing
    assert append(s3con, path, 100, 105, "{txn_app_id: 'ingest', txn_version: 7}") == (1, 0, "skipped: txn already applied")

    assert s3con.execute(f"SELECT delta_version('{path}')").fetchone() == (1,)
    assert s3con.execute(f"SELECT delta_txn_version('{path}', 'ingest'), delta_txn_version('{path}', 'other')").fetchone() == (7, None)
    hist = s3con.execute(f"SELECT version, operation, user_metadata, json_extract_string(operation_metrics, '$.numOutputRows') "
                         f"FROM delta_history('{path}')").fetchall()
    assert hist == [(1, "WRITE", "second", "5"), (0, "CREATE TABLE", "first", "30")]
    assert s3con.execute(f"SELECT count(*) FROM delta_history('{path}', max_versions := 1)").fetchone() == (1,)

    files = s3con.execute(f"SELECT path, size_bytes, num_records FROM delta_files('{path}')").fetchall()
    assert sum(f[2] for f in files) == 35
    # the log's files are the bucket's data objects, with their sizes
    sizes = {o["Key"].split("/", 1)[1]: o["Size"] for o in
             s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=path.split("/", 3)[3] + "/")["Contents"]}
    assert {f[0] for f in files} == data_keys(s3, path)
    assert all(sizes[f[0]] == f[1] for f in files), (files, sizes)
    assert s3con.execute(f"SELECT sum(num_records) FROM delta_files('{path}', version := 0)").fetchone() == (30,)


# (e) time travel

def test_time_travel_by_version_and_time(s3, s3con):
    path = s3.fresh("tt")
    append(s3con, path, 0, 30)
    append(s3con, path, 30, 35)
    assert s3con.execute(f"SELECT count(*), max(id) FROM delta_read('{path}', version := 0)").fetchone() == (30, 29)
    assert s3con.execute(f"SELECT count(*) FROM delta_read('{path}', version := 1)").fetchone() == (35,)
    assert s3con.execute(f"SELECT count(*) FROM delta_read('{path}', as_of := now() + INTERVAL 1 MINUTE)").fetchone() == (35,)
    with pytest.raises(duckdb.Error) as e:
        s3con.execute(f"SELECT count(*) FROM delta_read('{path}', version := 7)").fetchall()
    assert f"delta_read: table '{path}': version 7 does not exist (the latest is 1)" in str(e.value), str(e.value)


# (f) delta_changes

def test_changes_between_versions(s3, s3con):
    path = s3.fresh("cdf")
    append(s3con, path, 0, 10)
    append(s3con, path, 10, 15)
    append(s3con, path, 15, 17)
    got = s3con.execute(f"SELECT _commit_version, count(*), min(id) FROM delta_changes('{path}', 0) GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [(1, 5, 10), (2, 2, 15)]
    assert s3con.execute(f"SELECT count(*), max(_commit_version) FROM delta_changes('{path}', -1, until_version := 1)").fetchone() == (15, 1)
    assert s3con.execute(f"SELECT count(*) FROM delta_changes('{path}', 2)").fetchone() == (0,)
    assert s3con.execute(f"SELECT typeof(_commit_timestamp) FROM delta_changes('{path}', 1) LIMIT 1").fetchone() == ("TIMESTAMP WITH TIME ZONE",)


# (g) optimize_zorder, delta_vacuum, delta_checkpoint

def test_optimize_then_vacuum_keeps_the_rows_in_fewer_objects(s3, s3con):
    path = s3.fresh("zv")
    for k in range(3):
        append(s3con, path, k * 1000, (k + 1) * 1000)
    before = data_keys(s3, path)
    assert len(before) == 3, before
    want = (3000, sum(range(3000)))

    got = s3con.execute(f"SELECT version, files_removed, files_added, rows FROM optimize_zorder('{path}', ['who', 'id'])").fetchone()
    assert got == (3, 3, 1, 3000)
    assert s3con.execute(f"SELECT operation FROM delta_history('{path}', max_versions := 1)").fetchone() == ("OPTIMIZE",)
    assert len(data_keys(s3, path)) == 4  # the replaced files stay until vacuumed

    dry = s3con.execute(f"SELECT path, deleted FROM delta_vacuum('{path}', retention_hours := 0, dry_run := true)").fetchall()
    assert {p for p, _ in dry} == before and not any(d for _, d in dry)
    assert len(data_keys(s3, path)) == 4

    done = s3con.execute(f"SELECT path, deleted FROM delta_vacuum('{path}', retention_hours := 0)").fetchall()
    assert {p for p, _ in done} == before and all(d for _, d in done)
    after = data_keys(s3, path)
    assert len(after) == 1 and not (after & before), after
    assert {p for (p,) in s3con.execute(f"SELECT path FROM delta_files('{path}')").fetchall()} == after

    assert s3con.execute(f"SELECT count(*), sum(id) FROM delta_read('{path}')").fetchone() == want
    assert s3con.execute(f"SELECT count(*), sum(id) FROM '{path}'").fetchone() == want
    t = dl_rows(s3, path)
    assert (t.num_rows, sum(t["id"].to_pylist())) == want
    # nothing is left to delete within the default retention
    assert s3con.execute(f"SELECT count(*) FROM delta_vacuum('{path}')").fetchone() == (0,)


def test_checkpoint_written_to_the_bucket(s3, s3con):
    path = s3.fresh("cp")
    for k in range(3):
        append(s3con, path, k * 10, (k + 1) * 10)
    assert s3con.execute(f"SELECT version, checkpoint FROM delta_checkpoint('{path}')").fetchone() == (
        2, "_delta_log/00000000000000000002.checkpoint.parquet")
    keys = s3.keys(path)
    assert "_delta_log/00000000000000000002.checkpoint.parquet" in keys, keys
    assert "_delta_log/_last_checkpoint" in keys, keys
    append(s3con, path, 30, 31)
    assert s3con.execute(f"SELECT count(*), max(id) FROM delta_read('{path}')").fetchone() == (31, 30)
    assert s3con.execute(f"SELECT count(*) FROM delta_changes('{path}', 2)").fetchone() == (1,)
    assert dl_rows(s3, path).num_rows == 31


# delta_write_files / delta_commit_files (how gold and a Ray cluster write)

def test_files_written_without_a_commit_are_committed_once(s3, s3con):
    path = s3.fresh("wf")
    s3con.execute(f"CREATE TABLE shares AS SELECT k, delta_write_files('{path}', t) AS w FROM "
                  f"(SELECT i % 2 AS k, i AS id, 'tweet ' || i AS text FROM range(1000) r(i)) t GROUP BY k")
    assert s3con.execute("SELECT sum(w.rows), sum(w.files_added) FROM shares").fetchone() == (1000, 2)
    # written, not committed: objects in the bucket, no log, no version
    assert len(data_keys(s3, path)) == 2 and not any(k.startswith("_delta_log/") for k in s3.keys(path))
    assert s3con.execute(f"SELECT delta_version('{path}')").fetchone() == (None,)

    def commit(table: str) -> tuple:
        return s3con.execute(f"SELECT r.version, r.rows, r.status FROM (SELECT delta_commit_files('{path}', w.files, "
                             f"{{txn_app_id: 'gold', txn_version: 7}}) AS r FROM {table})").fetchone()

    assert commit("shares") == (0, 1000, "committed")
    committed = data_keys(s3, path)
    # the very same files committed again (a driver retrying): skipped, nothing lost
    assert commit("shares") == (0, 0, "skipped: txn already applied")
    assert data_keys(s3, path) == committed
    # a retried pass: its workers write again, its commit is skipped and
    # leaves their files (in no version) for delta_vacuum
    s3con.execute(f"CREATE TABLE retry AS SELECT delta_write_files('{path}', t) AS w FROM "
                  f"(SELECT i AS id, 'again' AS text FROM range(10) r(i)) t")
    assert len(data_keys(s3, path)) == 3
    assert commit("retry") == (0, 0, "skipped: txn already applied")
    assert len(data_keys(s3, path)) == 3
    vacuumed = s3con.execute(f"SELECT count(*) FROM delta_vacuum('{path}', retention_hours := 0)").fetchone()
    assert vacuumed == (1,)
    assert data_keys(s3, path) == committed
    assert s3con.execute(f"SELECT count(*), count(DISTINCT id) FROM delta_read('{path}')").fetchone() == (1000, 1000)
    assert s3con.execute(f"SELECT delta_txn_version('{path}', 'gold')").fetchone() == (7,)
    assert dl_rows(s3, path).num_rows == 1000


# (h) concurrent writers in two processes

BATCHES, ROWS = 4, 500


def test_two_processes_append_concurrently_nothing_lost_or_duplicated(s3):
    """Two DuckDB CLI processes append to one s3:// table at the same time.
    moto honours `If-None-Match: *` (s3.conditional_put, probed at start), so
    a commit that loses the race for a version is refused by the store and
    retried on the next one, as on AWS: every append gets its own version."""
    assert s3.conditional_put, "the server must refuse a second put of a commit file for this test to mean anything"
    path = s3.fresh("concurrent")
    cli_ok(f"SELECT delta_write('{path}', t) FROM (SELECT -1::BIGINT AS id, -1 AS writer) t;", s3.env)

    def writer_sql(w: int) -> str:
        return " ".join(
            f"SELECT (delta_write('{path}', t)).status FROM "
            f"(SELECT {(w * BATCHES + b) * ROWS} + i AS id, {w} AS writer FROM range({ROWS}) r(i)) t;"
            for b in range(BATCHES))

    procs = [subprocess.Popen(cli_command(writer_sql(w)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=aws_env(s3.env)) for w in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.split() == ["committed"] * BATCHES, out

    count, distinct = map(int, cli_ok(f"SELECT count(*), count(DISTINCT id) FROM delta_read('{path}');", s3.env)[-1].split(","))
    assert count == 2 * BATCHES * ROWS + 1
    assert distinct == count
    versions = [int(v) for v in cli_ok(f"SELECT version FROM delta_history('{path}') ORDER BY version;", s3.env)]
    assert versions == list(range(2 * BATCHES + 1))  # every commit got its own version, none overwritten
    assert sorted(k for k in s3.keys(path) if k.startswith("_delta_log/") and k.endswith(".json")) == [
        f"_delta_log/{v:020d}.json" for v in range(2 * BATCHES + 1)]
    assert dl_table(s3, path).version() == 2 * BATCHES
    assert dl_rows(s3, path).num_rows == count


def test_two_processes_racing_for_the_same_txn_commit_each_batch_once(s3):
    """Two processes write the same batches (txn_app_id 'race', txn_version
    k) at the same time, as two stream consumers that read the same input:
    each batch lands exactly once, the other writer's copy is skipped. Relies
    on the store refusing the second commit of a version (conditional put)."""
    assert s3.conditional_put
    path = s3.fresh("race")
    cli_ok(f"SELECT delta_write('{path}', t) FROM (SELECT -1::BIGINT AS id, -1 AS writer) t;", s3.env)
    rounds = 6

    def writer_sql(w: int) -> str:
        return " ".join(
            f"SELECT (delta_write('{path}', t, {{txn_app_id: 'race', txn_version: {k}}})).status FROM "
            f"(SELECT {k * 1000} + i AS id, {w} AS writer FROM range(100) r(i)) t;"
            for k in range(1, rounds + 1))

    procs = [subprocess.Popen(cli_command(writer_sql(w)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=aws_env(s3.env)) for w in range(2)]
    statuses = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        statuses += out.strip().splitlines()
    assert sorted(statuses) == ["committed"] * rounds + ["skipped: txn already applied"] * rounds, statuses

    rows = cli_ok(f"SELECT id // 1000, count(*), count(DISTINCT writer) FROM delta_read('{path}') "
                  "WHERE id >= 0 GROUP BY 1 ORDER BY 1;", s3.env)
    assert rows == [f"{k},100,1" for k in range(1, rounds + 1)]
    assert cli_ok(f"SELECT delta_txn_version('{path}', 'race'), delta_version('{path}');", s3.env) == [f"{rounds},{rounds}"]


# (i) enable_external_access = false

def test_external_access_off_refuses_s3_tables(s3):
    """After SET enable_external_access = false (and one medallion call, which
    latches it for the aggregate and FROM 'path': delta_external_access.test),
    every function refuses an s3:// table: it is a network location, never
    under allowed_directories. Each statement runs in its own CLI process: the
    latch is per process and would refuse the later tests' writes."""
    path = s3.fresh("locked")
    cli_ok(f"SELECT delta_write('{path}', t) FROM (SELECT 1 AS id, 'a' AS who) t;", s3.env)
    fresh = s3.fresh("locked-new")
    before = s3.keys(path)

    statements = {
        f"SELECT * FROM delta_read('{path}')": True,
        f"SELECT delta_version('{path}')": True,
        f"SELECT delta_txn_version('{path}', 'x')": True,
        f"SELECT * FROM delta_history('{path}')": True,
        f"SELECT * FROM delta_files('{path}')": True,
        f"SELECT * FROM delta_changes('{path}', -1)": True,
        f"SELECT * FROM optimize_zorder('{path}', ['who'])": True,
        f"SELECT * FROM delta_vacuum('{path}', retention_hours := 0)": True,
        f"SELECT * FROM delta_checkpoint('{path}')": True,
        f"SELECT delta_write('{path}', t) FROM (SELECT 2 AS id, 'b' AS who) t": True,
        f"SELECT delta_write('{fresh}', t) FROM (SELECT 2 AS id, 'b' AS who) t": True,
        f"SELECT delta_write_files('{path}', t) FROM (SELECT 2 AS id, 'b' AS who) t": True,
        f"SELECT * FROM '{path}'": False,  # a replacement scan: no function name, no table prefix
    }
    for stmt, names_table in statements.items():
        out = cli(f"SET enable_external_access = false; SELECT medallion_version(); {stmt};", s3.env)
        msg = out.stderr + out.stdout
        assert out.returncode != 0, f"{stmt}: not refused:\n{msg}"
        assert re.search(r"(network|file system) access is disabled \(enable_external_access = false\)", msg), f"{stmt}:\n{msg}"
        if names_table:
            target = fresh if fresh in stmt else path
            assert f"table '{target}'" in msg, f"{stmt}:\n{msg}"
    assert s3.keys(path) == before
    assert s3.keys(fresh) == []
    # and with access on the table is as it was
    assert cli_ok(f"SELECT count(*), max(id) FROM delta_read('{path}');", s3.env) == ["1,1"]


# (j) bad credentials

SECRET = "sekrit-do-not-print"


@pytest.fixture(scope="module")
def s3_auth():
    """A second moto server that checks credentials (IAM on): only its
    generated key, signed with its secret, gets in."""
    with running_s3(bucket="medallion-auth", auth=True) as server:
        yield server


def test_bad_credentials_give_a_clear_error_without_the_secret(s3_auth):
    path = s3_auth.fresh("private")
    deltalake.write_deltalake(path, pa.table({"id": pa.array([1, 2, 3], pa.int64())}), storage_options=s3_auth.storage_options)
    # with the right key the extension reads it: what fails below is the credentials
    assert cli_ok(f"SELECT count(*) FROM delta_read('{path}');", s3_auth.env) == ["3"]
    before = s3_auth.keys(path)

    wrong_secret = dict(s3_auth.env, AWS_SECRET_ACCESS_KEY=SECRET)
    unknown_key = dict(s3_auth.env, AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000", AWS_SECRET_ACCESS_KEY=SECRET)
    for env in (wrong_secret, unknown_key):
        for prefix, stmt in ((f"delta_read: table '{path}'", f"SELECT count(*) FROM delta_read('{path}')"),
                             (f"delta_write: table '{path}'", f"SELECT delta_write('{path}', t) FROM (SELECT 4::BIGINT AS id) t"),
                             (f"table '{path}'", f"SELECT count(*) FROM '{path}'")):
            out = cli(stmt + ";", env)
            msg = out.stderr + out.stdout
            assert out.returncode != 0, f"{stmt} succeeded with bad credentials:\n{msg}"
            assert prefix in msg, msg
            assert re.search(r"(?i)credential|access denied|forbidden|403|signature|privilege|InvalidAccessKeyId", msg), msg
            assert SECRET not in msg and "sekrit" not in msg.lower(), msg
            assert "<unknown>" not in msg, msg  # no backtrace
    assert s3_auth.keys(path) == before  # nothing was written


# the pipeline on an s3:// lake

def run_pipeline(landing, lake, reports, env):
    cmd = [PY, os.path.join(REPO, "tools", "pipeline.py"), "--landing", str(landing), "--lake", lake,
           "--reports", str(reports)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def summary_lines(text: str) -> list[str]:
    """The pass summary without what differs between two runs: times, the
    MLflow run id, the peak RSS, where the charts went."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\d+\.\d+ s\b|MLflow run \w+|peak RSS [\d,.]+ MB|charts in .*", "", line)
        out.append(" ".join(line.split()))
    return out


def lake_counts(read) -> dict:
    """Row counts and metrics of a lake; `read(name)` gives a table as pyarrow."""
    bronze, silver, gold, quarantine, ev = (read(n) for n in ("bronze", "silver", "gold", "quarantine", "evaluations"))
    return {
        "bronze": bronze.num_rows,
        "bronze_ids": len(set(bronze["id"].to_pylist())),
        "quarantine": quarantine.num_rows,
        "silver_rows": silver.num_rows,
        "silver_tweets": len(set(silver["tweet_id"].to_pylist())),
        "gold_rows": gold.num_rows,
        "gold_tweets": len(set(gold["tweet_id"].to_pylist())),
        "predictions": sorted(set(zip(gold["tweet_id"].to_pylist(), gold["predicted_sentiment"].to_pylist()))),
        "evaluations": sorted((r["tweets"], r["accuracy"], r["macro_f1"], r["neg_as_neg"], r["neg_as_pos"],
                               r["pos_as_neg"], r["pos_as_pos"]) for r in ev.to_pylist()),
    }


def test_pipeline_on_an_s3_lake_equals_a_local_lake(s3, tmp_path):
    """tools/pipeline.py --lake s3://bucket/lake: the landing and reports stay
    local, every layer's tables are in the bucket, and a pass gives the same
    rows and metrics as the same pass on a local lake (tiny test model)."""
    rows = 400
    land(tmp_path / "landing", rows)
    lake = s3.fresh("lake")
    base = dict(aws_env(s3.env), BERT_SENTIMENT_MODEL=TINY_MODEL)

    out_local = run_pipeline(tmp_path / "landing", str(tmp_path / "lake"), tmp_path / "reports_local",
                             dict(base, MLFLOW_TRACKING_URI=f"file://{tmp_path / 'mlruns_local'}"))
    out_s3 = run_pipeline(tmp_path / "landing", lake, tmp_path / "reports_s3",
                          dict(base, MLFLOW_TRACKING_URI=f"file://{tmp_path / 'mlruns_s3'}"))

    local = lake_counts(lambda n: pa.table(deltalake.DeltaTable(str(tmp_path / "lake" / n)).to_pyarrow_dataset().to_table()))
    remote = lake_counts(lambda n: dl_rows(s3, f"{lake}/{n}"))
    bad = len([i for i in range(rows) if (i + 1) % 50 == 0])
    assert local["quarantine"] == bad and local["bronze"] == rows - bad == local["bronze_ids"], local
    assert local["gold_tweets"] == local["silver_tweets"] == local["bronze_ids"], local
    assert len(local["evaluations"]) == 1
    assert remote == local

    keys = s3.keys(lake)
    for name in ("ingest_log", "bronze", "quarantine", "silver", "gold", "evaluations"):
        assert f"{name}/{LOG0}" in keys, (name, keys[:20])
    assert not os.path.exists(os.path.join(REPO, "s3:")) and not os.path.exists(tmp_path / "s3:")
    assert sorted(os.listdir(tmp_path / "reports_s3")) == sorted(os.listdir(tmp_path / "reports_local"))
    # the summary lines agree too (the times aside)
    assert summary_lines(out_s3) == summary_lines(out_local)

    # a second pass over the s3 lake finds nothing new and duplicates nothing
    run_pipeline(tmp_path / "landing", lake, tmp_path / "reports_s3",
                 dict(base, MLFLOW_TRACKING_URI=f"file://{tmp_path / 'mlruns_s3'}"))
    assert lake_counts(lambda n: dl_rows(s3, f"{lake}/{n}")) == local


@pytest.mark.parametrize("flag,value", [("--lake", "gs://bucket/lake"), ("--landing", "s3://bucket/landing"),
                                        ("--reports", "s3://bucket/reports")])
def test_pipeline_refuses_other_urls_before_touching_anything(tmp_path, flag, value):
    """Only the lake may be an s3:// URL; any other URL is refused, and never
    becomes a local directory named 'gs:' or 's3:'."""
    args = {"--landing": str(tmp_path / "landing"), "--lake": str(tmp_path / "lake"),
            "--reports": str(tmp_path / "reports"), flag: value}
    cmd = [PY, os.path.join(REPO, "tools", "pipeline.py")] + [x for kv in args.items() for x in kv]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 2, out.stdout + out.stderr
    scheme = value.split("://")[0]
    assert f"pipeline: {flag} {value!r}: {scheme}:// is not supported yet" in out.stderr, out.stderr
    assert os.listdir(tmp_path) == []


def test_pipeline_keeps_an_s3_lake_as_written():
    """The lake URL reaches the SQL unchanged (no os.path.abspath on a URL),
    and no local directory is made for it."""
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import pipeline
    finally:
        sys.path.pop(0)
    args = pipeline_args(pipeline, "--lake", "s3://bucket/some/lake")
    script = pipeline.pass_script(args, ["00_setup"])
    assert "SET VARIABLE lake = 's3://bucket/some/lake';" in script
    assert pipeline.lake_location("lake") == os.path.abspath("lake")
    assert pipeline.lake_location("S3://b/x") == "S3://b/x"


def pipeline_args(pipeline, *argv):
    import argparse

    ns = argparse.Namespace(landing="landing", lake="lake", reports="reports", settle_seconds=5.0,
                            memory_limit=None, temp_directory=".tmp", threads=None)
    for flag, value in zip(argv[::2], argv[1::2]):
        setattr(ns, flag.lstrip("-").replace("-", "_"), value)
    return ns
