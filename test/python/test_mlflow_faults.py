"""Faults between medallion and an MLflow server: each must become a clear
DuckDB error saying what failed and where, transient ones must be retried
with backoff, and no retry may log a value twice.

Why: a training or evaluation job that logs from SQL meets flaky networks
and overloaded servers. A scripted fake server (no real MLflow needed) lets
each fault happen exactly when we want.
"""
import time

import duckdb
import pytest

from mlflow_helpers import FakeMlflow, connect, free_port, one

RUN = FakeMlflow.RUN_ID
FAST = {"mlflow_http_request_backoff_factor": "0.05", "mlflow_http_request_timeout": "1"}


def test_server_down_is_an_unreachable_error_after_retries():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    con = connect(url, mlflow_http_request_max_retries="2", **FAST)
    start = time.monotonic()
    with pytest.raises(duckdb.Error, match=rf"mlflow_start_run: finding experiment \"e\" failed \(GET {url}/api/2.0/mlflow/experiments/get-by-name\): cannot connect.*gave up after 3 attempts"):
        con.execute("SELECT mlflow_start_run('e')")
    assert time.monotonic() - start < 10


def test_503_is_retried_and_the_metric_logged_once():
    with FakeMlflow() as fake:
        fake.plan["runs/log-batch"] = [503, 503]
        con = connect(fake.url, **FAST)
        assert one(con, f"SELECT mlflow_log_metric('{RUN}', 'f1', 0.8)") is True
        assert len(fake.calls("runs/log-batch")) == 3
        assert [(m["key"], m["value"]) for m in fake.metrics] == [("f1", 0.8)]


def test_500_is_retried_only_after_checking_the_metric_did_not_land():
    with FakeMlflow() as fake:
        fake.plan["runs/log-batch"] = [500]
        con = connect(fake.url, **FAST)
        assert one(con, f"SELECT mlflow_log_metric('{RUN}', 'f1', 0.8, 4)") is True
        assert len(fake.calls("metrics/get-history")) == 1
        assert [(m["key"], m["value"], m["step"]) for m in fake.metrics] == [("f1", 0.8, 4)]


def test_a_timed_out_write_that_landed_is_not_sent_again():
    with FakeMlflow() as fake:
        # The server stores the batch, then answers after the client gave up.
        fake.plan["runs/log-batch"] = [("sleep", 2.5)]
        con = connect(fake.url, **FAST)
        assert one(con, f"SELECT count(*) FILTER (WHERE ok) FROM (SELECT mlflow_log_metric('{RUN}', 'loss', i / 10, i) AS ok FROM range(5) t(i))") == 5
        assert len(fake.calls("runs/log-batch")) == 1
        assert sorted(m["step"] for m in fake.metrics) == [0, 1, 2, 3, 4]


def test_a_slow_server_is_a_timeout_error():
    with FakeMlflow() as fake:
        fake.plan["runs/log-batch"] = [("sleep_first", 3)] * 2
        con = connect(fake.url, mlflow_http_request_max_retries="1", **FAST)
        start = time.monotonic()
        with pytest.raises(duckdb.Error, match=rf"mlflow_log_param: logging params to run '{RUN}' failed \(POST {fake.url}/api/2.0/mlflow/runs/log-batch\): no answer within 1.0 s \(mlflow_http_request_timeout.*gave up after 2 attempts"):
            con.execute(f"SELECT mlflow_log_param('{RUN}', 'lr', '0.1')")
        assert time.monotonic() - start < 6


def test_run_creation_is_not_repeated_after_an_ambiguous_failure():
    with FakeMlflow() as fake:
        fake.plan["runs/create"] = [502]
        con = connect(fake.url, **FAST)
        with pytest.raises(duckdb.Error, match=r"HTTP 502.*not retried: the server may have applied it"):
            con.execute("SELECT mlflow_start_run('e')")
        assert len(fake.calls("runs/create")) == 1


def test_4xx_is_not_retried_and_names_the_endpoint():
    with FakeMlflow() as fake:
        fake.plan["runs/update"] = [403]
        con = connect(fake.url, **FAST)
        with pytest.raises(duckdb.Error, match=rf"mlflow_end_run: ending run '{RUN}' as FINISHED failed \(POST {fake.url}/api/2.0/mlflow/runs/update\): HTTP 403"):
            con.execute(f"SELECT mlflow_end_run('{RUN}')")
        assert len(fake.calls("runs/update")) == 1


def test_token_is_sent_but_never_printed(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cr3t-token")
    with FakeMlflow() as fake:
        fake.plan["runs/log-batch"] = [401]
        con = connect(fake.url, **FAST)
        with pytest.raises(duckdb.Error) as e:
            con.execute(f"SELECT mlflow_log_param('{RUN}', 'k', 'v')")
        assert "HTTP 401" in str(e.value) and "s3cr3t" not in str(e.value)
        assert fake.requests[0][2].get("authorization") == "Bearer s3cr3t-token"


@pytest.mark.parametrize("uri, message", [
    ("http://", "malformed mlflow_tracking_uri"),
    ("http://localhost:99999", "port"),
    ("sqlite:///mlflow.db", "unsupported mlflow_tracking_uri scheme `sqlite:`"),
    ("http//localhost:5000", "malformed mlflow_tracking_uri"),
    ("http://bob:hunter2@localhost:5000", "must not contain credentials"),
])
def test_malformed_uri_is_a_binder_error(uri, message):
    con = connect(uri)
    with pytest.raises(duckdb.BinderException, match=message) as e:
        con.execute("SELECT mlflow_start_run('e')")
    assert "hunter2" not in str(e.value)
