"""MLflow from SQL against a real MLflow tracking server, verified with the
MLflow Python client.

Why: the REST backend must speak the API a stock `mlflow server` speaks
(sqlite backend store, artifacts through its `mlflow-artifacts` proxy), and
whatever SQL logs must be what MLflow's own client reads back: the run,
params, metrics, artifacts byte for byte, the confusion-matrix table, model
versions by alias. And a request MLflow refuses must become a DuckDB error
naming the endpoint, with the run marked FAILED.
"""
import json
from pathlib import Path

import duckdb
import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

from mlflow_helpers import connect, make_model_dir, mlflow_server, one, same_model  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


@pytest.fixture
def client(server):
    mlflow.set_tracking_uri(server)
    mlflow.set_registry_uri(server)
    yield MlflowClient(server)
    mlflow.set_tracking_uri(None)


def test_run_params_metrics_artifacts(server, client, tmp_path):
    con = connect(server)
    run = one(con, "SELECT mlflow_start_run('server tests', 'first run', MAP {'team': 'medallion'})")
    con.execute(f"SELECT mlflow_log_param('{run}', 'batch_size', 32), mlflow_log_param('{run}', 'model', 'bert')")
    con.execute(f"SELECT mlflow_log_params('{run}', MAP {{'epochs': '3'}})")
    n = one(con, f"SELECT count(*) FILTER (WHERE ok) FROM (SELECT mlflow_log_metric('{run}', 'loss', 1.0 / (i + 1), i) AS ok FROM range(2500) t(i))")
    assert n == 2500
    con.execute(f"SELECT mlflow_log_metrics('{run}', [{{'name': 'f1', 'value': 0.81, 'step': 2}}])")
    src = tmp_path / "report.bin"
    src.write_bytes(bytes(range(256)) * 1000)
    uri = one(con, f"SELECT mlflow_log_artifact('{run}', '{src}', 'reports')")
    assert uri.startswith("mlflow-artifacts:/") and uri.endswith("/reports/report.bin")
    con.execute(f"""SELECT mlflow_log_confusion_matrix('{run}', list({{'actual': a, 'predicted': p, 'count': c}}), 'eval/cm')
                    FROM (VALUES ('neg', 'neg', 50), ('neg', 'pos', 3), ('pos', 'neg', 7), ('pos', 'pos', 40)) t(a, p, c)""")
    assert one(con, f"SELECT mlflow_end_run('{run}')") is True

    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert run in [r.info.run_id for r in runs]
    r = client.get_run(run)
    assert r.info.status == "FINISHED" and r.info.run_name == "first run"
    assert r.data.params == {"batch_size": "32", "model": "bert", "epochs": "3"}
    assert r.data.metrics == {"loss": 1.0 / 2500, "f1": 0.81}
    assert r.data.tags["team"] == "medallion"
    assert sorted(m.step for m in client.get_metric_history(run, "loss")) == list(range(2500))

    assert sorted(a.path for a in client.list_artifacts(run)) == ["eval", "reports"]
    assert sorted(a.path for a in client.list_artifacts(run, "eval")) == ["eval/cm.json", "eval/cm.png"]
    got = mlflow.artifacts.download_artifacts(run_id=run, artifact_path="reports/report.bin", dst_path=str(tmp_path / "dl"))
    assert Path(got).read_bytes() == src.read_bytes()
    table = client.load_table(client.get_run(run).info.experiment_id, "eval/cm.json", run_ids=[run])
    assert table[["neg", "pos"]].values.tolist() == [[50, 3], [7, 40]]
    assert json.loads(r.data.tags["mlflow.loggedArtifacts"]) == [{"path": "eval/cm.json", "type": "table"}]


def test_registry_alias_and_resolve(server, client, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDALLION_MODEL_CACHE", str(tmp_path / "cache"))
    model = make_model_dir(tmp_path)
    con = connect(server)
    run = one(con, "SELECT mlflow_start_run('server tests', 'train')")
    v = one(con, f"SELECT mlflow_register_model('bert_sentiment', '{model}', '{run}', MAP {{'f1': '0.81'}}, 'champion')")
    assert v["name"] == "bert_sentiment" and v["version"] >= 1
    con.execute(f"SELECT mlflow_end_run('{run}')")

    mv = client.get_model_version_by_alias("bert_sentiment", "champion")
    assert int(mv.version) == v["version"] and mv.run_id == run and mv.tags == {"f1": "0.81"}
    dl = mlflow.artifacts.download_artifacts(f"models:/bert_sentiment@champion", dst_path=str(tmp_path / "dl"))
    assert same_model(model, Path(dl))

    resolved = Path(one(con, "SELECT mlflow_resolve_model('models:/bert_sentiment@champion')"))
    assert resolved.is_relative_to(tmp_path / "cache") and same_model(model, resolved)
    # Cached: the second resolution finds the same directory without downloading.
    stamp = (resolved / "model.onnx").stat().st_mtime_ns
    again = Path(one(con, f"SELECT mlflow_resolve_model('models:/bert_sentiment/{v['version']}')"))
    assert again == resolved and (again / "model.onnx").stat().st_mtime_ns == stamp

    # The plain Rust function bert_sentiment calls resolves the same way; a
    # moved alias is followed.
    run2 = one(con, "SELECT mlflow_start_run('server tests', 'retrain')")
    v2 = one(con, f"SELECT mlflow_register_model('bert_sentiment', '{model}', '{run2}')")
    assert one(con, f"SELECT mlflow_set_model_alias('bert_sentiment', 'champion', {v2['version']})") is True
    moved = Path(one(con, "SELECT mlflow_resolve_model('models:/bert_sentiment@champion')"))
    assert moved.name == str(v2["version"]) and same_model(model, moved)


def test_refused_request_is_a_clear_error_and_marks_the_run_failed(server, client):
    con = connect(server)
    with pytest.raises(duckdb.Error, match=r"mlflow_log_artifact: .*runs/get.*HTTP 404 RESOURCE_DOES_NOT_EXIST") as e:
        con.execute("SELECT mlflow_log_artifact('0123456789abcdef0123456789abcdef', '/etc/hostname')")
    run = one(con, "SELECT mlflow_start_run('server tests', 'doomed')")
    con.execute(f"SELECT mlflow_log_param('{run}', 'lr', '0.1')")
    with pytest.raises(duckdb.Error, match=rf"mlflow_log_param: logging params to run '{run}' failed \(POST {server}/api/2.0/mlflow/runs/log-batch\): HTTP 400 INVALID_PARAMETER_VALUE.*marked FAILED"):
        con.execute(f"SELECT mlflow_log_param('{run}', 'lr', '0.2')")
    assert client.get_run(run).info.status == "FAILED"


def test_unknown_alias_names_the_model_and_the_server(server, client):
    con = connect(server)
    with pytest.raises(duckdb.Error, match=rf"mlflow_resolve_model: .*models:/no_such_model@champion.*{server}"):
        con.execute("SELECT mlflow_resolve_model('models:/no_such_model@champion')")
