"""Tables we write are read identically by the independent `deltalake` Python
package (rows, names, types, partition values, history), and tables it writes
are read by us."""
from __future__ import annotations

import datetime as dt
import decimal

import deltalake
import pyarrow as pa
import pyarrow.compute as pc

from conftest import run_cli

QUERY = """
SELECT i AS id, 'user_' || (i % 13) AS who, (i * 0.25)::DOUBLE AS score, i % 2 = 0 AS even,
       (i % 5)::INTEGER AS small, DATE '2026-03-01' + (i % 4)::INTEGER AS day,
       TIMESTAMP '2026-03-01 10:00:00' + INTERVAL (i) SECOND AS ts,
       TIMESTAMPTZ '2026-03-01 10:00:00+00' + INTERVAL (i) MINUTE AS tstz,
       (i / 7)::DECIMAL(12, 3) AS amount, [i, i * 2] AS pair, {'k': i, 'v': 'x' || i} AS obj,
       CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || i END AS maybe
FROM range(2000) r(i)
"""


def test_our_table_reads_identically_in_deltalake_python(con, tmp_path):
    path = str(tmp_path / "ours")
    con.execute(f"SELECT delta_write('{path}', t, {{partition_by: ['day'], commit_message: 'first'}}) FROM ({QUERY}) t").fetchall()
    con.execute(f"SELECT delta_write('{path}', t, {{commit_message: 'second'}}) FROM ({QUERY} LIMIT 10) t").fetchall()

    expected = con.sql(f"SELECT * FROM ({QUERY}) UNION ALL SELECT * FROM ({QUERY} LIMIT 10)").to_arrow_table()
    dtable = deltalake.DeltaTable(path)
    got = pa.table(dtable.to_pyarrow_table()) if hasattr(dtable, "to_pyarrow_table") else pa.table(dtable.to_pyarrow_dataset().to_table())

    assert sorted(got.column_names) == sorted(expected.column_names)
    assert got.num_rows == expected.num_rows
    fields = {f.name: f.type for f in got.schema}
    assert pa.types.is_int64(fields["id"])
    assert pa.types.is_string(fields["who"]) or pa.types.is_large_string(fields["who"]) or str(fields["who"]) == "string_view"
    assert pa.types.is_float64(fields["score"])
    assert pa.types.is_boolean(fields["even"])
    assert pa.types.is_int32(fields["small"])
    assert pa.types.is_date32(fields["day"])
    assert fields["ts"] == pa.timestamp("us")  # timestamp_ntz
    assert fields["tstz"].tz is not None and fields["tstz"].unit == "us"
    assert fields["amount"] == pa.decimal128(12, 3)
    assert pa.types.is_list(fields["pair"]) or pa.types.is_large_list(fields["pair"])
    assert pa.types.is_struct(fields["obj"])

    def rows(t: pa.Table):
        t = t.select(sorted(t.column_names))
        return sorted(map(repr, t.to_pylist()))

    # Normalise time zones: compare instants.
    def norm(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("tstz")
        return t.set_column(i, "tstz", pc.cast(t["tstz"], pa.timestamp("us", tz="UTC")))

    assert rows(norm(got)) == rows(norm(expected))

    # partition values and metadata
    assert dtable.metadata().partition_columns == ["day"]
    adds = pa.table(dtable.get_add_actions(flatten=True))
    assert set(adds.column("partition.day").to_pylist()) == {dt.date(2026, 3, 1) + dt.timedelta(days=d) for d in range(4)}

    # history
    hist = dtable.history()
    assert [h["version"] for h in hist] == [1, 0]
    assert hist[0].get("userMetadata") == "second"
    assert hist[1].get("userMetadata") == "first"

    # filtered reads through pyarrow work (no string_view kernel mismatch)
    ds = dtable.to_pyarrow_dataset()
    want = pc.sum(pc.equal(expected["who"], "user_3")).as_py()
    assert ds.to_table(filter=pc.field("who") == "user_3").num_rows == want


def test_deltalake_python_tables_read_by_us(con, tmp_path):
    path = str(tmp_path / "theirs")
    t1 = pa.table({
        "id": pa.array(range(100), pa.int64()),
        "name": pa.array([f"n{i}" for i in range(100)]),
        "part": pa.array(["a" if i % 2 else "b" for i in range(100)]),
        "price": pa.array([decimal.Decimal(i) / 4 for i in range(100)], pa.decimal128(10, 2)),
        "at": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i) for i in range(100)], pa.timestamp("us", tz="UTC")),
    })
    deltalake.write_deltalake(path, t1, partition_by=["part"])
    deltalake.write_deltalake(path, t1.slice(0, 10), mode="append")

    assert con.execute(f"SELECT count(*), sum(id), count(DISTINCT part) FROM delta_read('{path}')").fetchone() == (110, 4950 + 45, 2)
    assert con.execute(f"SELECT count(*) FROM delta_read('{path}', version := 0)").fetchone()[0] == 100
    assert con.execute(f"SELECT sum(price) FROM delta_read('{path}', version := 0)").fetchone()[0] == decimal.Decimal("1237.50")
    got = con.execute(f"SELECT part, count(*) FROM delta_read('{path}') GROUP BY part ORDER BY part").fetchall()
    assert got == [("a", 55), ("b", 55)]
    hist = con.execute(f"SELECT version, operation FROM delta_history('{path}')").fetchall()
    assert [h[0] for h in hist] == [1, 0]

    # and we can append to their table, which they read back
    con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT * FROM delta_read('{path}', version := 0) LIMIT 5) t").fetchall()
    assert pa.table(deltalake.DeltaTable(path).to_pyarrow_dataset().to_table()).num_rows == 115


def test_from_path_reads_deltalake_python_tables_through_duckdbs_parquet_reader(con, tmp_path):
    """`FROM 'path'` on a table written and then compacted by deltalake-py: the
    rows of the current version only, typed as the log says, with filters
    pushed into DuckDB's Parquet reader (its `filename` column proves which
    reader ran)."""
    path = str(tmp_path / "theirs_flat")
    t = pa.table({
        "id": pa.array(range(1000), pa.int64()),
        "user": pa.array([f"user_{i % 40:03d}" for i in range(1000)]),
        "seen_at": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i) for i in range(1000)], pa.timestamp("us", tz="UTC")),
    })
    for k in range(4):
        deltalake.write_deltalake(path, t.slice(k * 250, 250), mode="append")
    deltalake.DeltaTable(path).optimize.z_order(["user"])
    want = pa.table(deltalake.DeltaTable(path).to_pyarrow_dataset().to_table())
    live = len(deltalake.DeltaTable(path).file_uris())

    assert con.execute(f"SELECT count(*), sum(id) FROM '{path}'").fetchone() == (want.num_rows, sum(range(1000)))
    assert con.execute(f"SELECT count(DISTINCT filename) FROM '{path}'").fetchone()[0] == live
    assert con.execute(f"SELECT typeof(seen_at) FROM '{path}' LIMIT 1").fetchone()[0] == "TIMESTAMP WITH TIME ZONE"
    got = con.execute(f"SELECT count(*), min(id) FROM '{path}' WHERE user = 'user_007'").fetchone()
    assert got == (25, 7)
    plan = con.execute(f"EXPLAIN SELECT * FROM '{path}' WHERE user = 'user_007'").fetchall()[0][1]
    assert "READ_PARQUET" in plan.upper() and "user_007" in plan, plan


def test_cli_host_writes_and_python_reads(tmp_path):
    path = str(tmp_path / "cli")
    run_cli(f"SELECT delta_write('{path}', t) FROM (SELECT i AS id FROM range(500) r(i)) t;")
    assert deltalake.DeltaTable(path).to_pyarrow_dataset().to_table().num_rows == 500


def test_checkpoint_and_vacuum_visible_to_deltalake_python(con, tmp_path):
    path = str(tmp_path / "maint")
    for i in range(3):
        con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT {i} * 100 + r AS id, 'u' || (r % 5) AS who FROM range(100) x(r)) t").fetchall()
    con.execute(f"SELECT * FROM optimize_zorder('{path}', ['who', 'id'])").fetchall()
    con.execute(f"SELECT * FROM delta_checkpoint('{path}')").fetchall()
    con.execute(f"SELECT * FROM delta_vacuum('{path}', retention_hours := 0)").fetchall()
    d = deltalake.DeltaTable(path)
    assert d.version() == 3
    assert d.history(1)[0]["operation"] == "OPTIMIZE"
    assert pa.table(d.to_pyarrow_dataset().to_table()).num_rows == 300
    assert len(d.file_uris()) == 1


def test_incremental_cubes_read_by_deltalake_python_with_their_zcube_tags(con, tmp_path):
    """Each incremental OPTIMIZE writes one cube (clustered/zcube-<id>/,
    files tagged ZCUBE_ID as Delta's ZCubes are); small cubes merge into the
    next one; another reader sees every row once and the tags in the log."""
    path = str(tmp_path / "cubes")
    for i in range(4):
        con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT {i} * 100 + r AS id, 'u' || (r % 5) AS who "
                    "FROM range(100) x(r)) t").fetchall()
        con.execute(f"SELECT * FROM optimize_zorder('{path}', ['who'], incremental := true, "
                    "min_cube_size := 1000000000)").fetchall()
    d = deltalake.DeltaTable(path)
    t = pa.table(d.to_pyarrow_dataset().to_table())
    assert sorted(t["id"].to_pylist()) == list(range(400))
    adds = pa.table(d.get_add_actions(flatten=True)).to_pylist()
    assert len(adds) == 1 and adds[0]["path"].startswith("clustered/zcube-")
    log = (tmp_path / "cubes" / "_delta_log" / f"{d.version():020d}.json").read_text()
    cube = adds[0]["path"].split("/")[1]
    assert f'"ZCUBE_ID":"{cube}"' in log.replace(" ", ""), log


def test_corrupt_log_and_unwritable_location_give_clear_errors(con, tmp_path):
    import os

    import duckdb
    import pytest

    path = str(tmp_path / "corrupt")
    con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT 1 AS x) t").fetchall()
    con.execute(f"SELECT delta_write('{path}', t) FROM (SELECT 2 AS x) t").fetchall()
    log1 = os.path.join(path, "_delta_log", "00000000000000000001.json")
    with open(log1, "w") as f:
        f.write('{"add": {"path": broken\n')
    before = sorted(os.listdir(path)), sorted(os.listdir(os.path.join(path, "_delta_log")))
    for sql in (f"SELECT * FROM delta_read('{path}')",
                f"SELECT delta_write('{path}', t) FROM (SELECT 3 AS x) t",
                f"SELECT * FROM optimize_zorder('{path}', 'x')"):
        with pytest.raises(duckdb.Error) as e:
            con.execute(sql).fetchall()
        msg = str(e.value)
        assert f"table '{path}'" in msg and "the transaction log (_delta_log) is corrupt" in msg, msg
        assert "<unknown>" not in msg, msg  # no backtrace in the message
    # the table is unchanged, and the good version still reads
    assert (sorted(os.listdir(path)), sorted(os.listdir(os.path.join(path, "_delta_log")))) == before
    assert con.execute(f"SELECT x FROM delta_read('{path}', version := 0)").fetchall() == [(1,)]

    # an unwritable location (root ignores file modes, so use a read-only /sys there)
    if os.geteuid() == 0:
        target = "/sys/medallion-test/t"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = str(ro / "t")
    with pytest.raises(duckdb.Error) as e:
        con.execute(f"SELECT delta_write('{target}', t) FROM (SELECT 1 AS x) t").fetchall()
    assert f"table '{target}': cannot write to this location" in str(e.value), str(e.value)
