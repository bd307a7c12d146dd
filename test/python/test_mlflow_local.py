"""MLflow from SQL into the local store, verified with stock MLflow.

Why: with no tracking server, medallion writes MLflow's file-store layout
itself. These tests prove MLflow's own Python client reads what we wrote:
the run and its status, params, metric histories, tags, artifacts (byte for
byte), the confusion-matrix table, and the registry (version by alias).
MLflow 3 reads a file store only with MLFLOW_ALLOW_FILE_STORE=true.
"""
import json
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

from mlflow_helpers import connect, make_model_dir, mlflow_server, one, same_model, store  # noqa: E402,F401


def test_runs_params_metrics_tags_as_mlflow_reads_them(store):
    uri, tmp = store
    con = connect(uri)
    run = one(con, "SELECT mlflow_start_run('local tests', 'first run', MAP {'team': 'medallion'})")
    con.execute(f"SELECT mlflow_log_param('{run}', 'lr', 0.0010), mlflow_log_param('{run}', 'model', 'bert')")
    con.execute(f"SELECT mlflow_log_params('{run}', MAP {{'epochs': '3'}})")
    logged = one(con, f"SELECT count(*) FILTER (WHERE ok) FROM (SELECT mlflow_log_metric('{run}', 'loss', 1.0 / (i + 1), i) AS ok FROM range(2500) t(i))")
    assert logged == 2500
    con.execute(f"SELECT mlflow_log_metrics('{run}', [{{'name': 'f1', 'value': 0.81}}, {{'name': 'accuracy', 'value': 0.8}}])")
    assert one(con, f"SELECT mlflow_end_run('{run}')") is True

    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert [r.info.run_id for r in runs] == [run]
    r = MlflowClient().get_run(run)
    assert r.info.status == "FINISHED" and r.info.end_time >= r.info.start_time
    assert r.info.run_name == "first run"
    assert MlflowClient().get_experiment(r.info.experiment_id).name == "local tests"
    assert r.data.params == {"lr": "0.0010", "model": "bert", "epochs": "3"}
    assert r.data.metrics == {"loss": 1.0 / 2500, "f1": 0.81, "accuracy": 0.8}
    assert r.data.tags["team"] == "medallion"
    history = MlflowClient().get_metric_history(run, "loss")
    assert sorted(m.step for m in history) == list(range(2500))
    df = mlflow.search_runs(experiment_names=["local tests"])
    assert list(df["run_id"]) == [run]


def test_artifacts_and_confusion_matrix(store):
    uri, tmp = store
    con = connect(uri)
    run = one(con, "SELECT mlflow_start_run('local tests')")
    src = tmp / "report.bin"
    src.write_bytes(bytes(range(256)) * 100)
    con.execute(f"SELECT mlflow_log_artifact('{run}', '{src}', 'reports')")
    con.execute(f"""SELECT mlflow_log_confusion_matrix('{run}', list({{'actual': a, 'predicted': p, 'count': c}}))
                    FROM (VALUES ('neg', 'neg', 50), ('neg', 'pos', 3), ('pos', 'neg', 7), ('pos', 'pos', 40)) t(a, p, c)""")
    con.execute(f"SELECT mlflow_end_run('{run}')")

    names = sorted(a.path for a in MlflowClient().list_artifacts(run))
    assert names == ["confusion_matrix.json", "confusion_matrix.png", "reports"]
    got = mlflow.artifacts.download_artifacts(run_id=run, artifact_path="reports/report.bin", dst_path=str(tmp / "dl"))
    assert open(got, "rb").read() == src.read_bytes()
    table = MlflowClient().load_table(MlflowClient().get_run(run).info.experiment_id, "confusion_matrix.json", run_ids=[run])
    assert list(table.columns[:3]) == ["actual", "neg", "pos"]
    assert table[["neg", "pos"]].values.tolist() == [[50, 3], [7, 40]]
    tag = json.loads(MlflowClient().get_run(run).data.tags["mlflow.loggedArtifacts"])
    assert tag == [{"path": "confusion_matrix.json", "type": "table"}]
    png = mlflow.artifacts.download_artifacts(run_id=run, artifact_path="confusion_matrix.png", dst_path=str(tmp / "dl"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_registry_alias_and_resolve(store):
    uri, tmp = store
    model = make_model_dir(tmp)
    con = connect(uri)
    run = one(con, "SELECT mlflow_start_run('local tests')")
    v = one(con, f"SELECT mlflow_register_model('bert_sentiment', '{model}', '{run}', MAP {{'f1': '0.81'}}, 'champion')")
    assert v["version"] == 1 and v["name"] == "bert_sentiment"

    mv = MlflowClient().get_model_version_by_alias("bert_sentiment", "champion")
    assert mv.version in (1, "1") and mv.run_id == run and mv.tags == {"f1": "0.81"}
    dl = mlflow.artifacts.download_artifacts("models:/bert_sentiment@champion", dst_path=str(tmp / "dl"))
    assert same_model(model, Path(dl))
    resolved = one(con, "SELECT mlflow_resolve_model('models:/bert_sentiment@champion')")
    assert same_model(model, Path(resolved))
    assert one(con, "SELECT mlflow_resolve_model('models:/bert_sentiment/1')") == resolved


def test_failed_statement_marks_the_run_failed(store):
    uri, _ = store
    con = connect(uri)
    run = one(con, "SELECT mlflow_start_run('local tests')")
    con.execute(f"SELECT mlflow_log_param('{run}', 'lr', '0.1')")
    with pytest.raises(duckdb_error(), match=r"param \"lr\" of run .* cannot change .*marked FAILED"):
        con.execute(f"SELECT mlflow_log_param('{run}', 'lr', '0.2')")
    assert MlflowClient().get_run(run).info.status == "FAILED"


def duckdb_error():
    import duckdb
    return duckdb.Error


def test_mlflow_ui_serves_the_local_store(store):
    """`mlflow ui --backend-store-uri <dir>` is `mlflow server` on that store:
    its REST API (what the UI reads) lists our run, metrics and artifacts."""
    import urllib.parse
    import urllib.request

    uri, tmp = store
    con = connect(uri)
    run = one(con, "SELECT mlflow_start_run('ui check', 'shown')")
    con.execute(f"SELECT mlflow_log_metric('{run}', 'f1', 0.81)")
    con.execute(f"SELECT mlflow_log_confusion_matrix('{run}', [{{'actual': 'a', 'predicted': 'b', 'count': 1}}])")
    con.execute(f"SELECT mlflow_end_run('{run}')")
    (tmp / "ui").mkdir()
    with mlflow_server(tmp / "ui", backend_store_uri=uri) as url:
        def get(path, **query):
            with urllib.request.urlopen(f"{url}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}") as r:
                return json.load(r)
        r = get("runs/get", run_id=run)["run"]
        assert r["info"]["status"] == "FINISHED" and r["info"]["run_name"] == "shown"
        assert r["data"]["metrics"][0]["key"] == "f1"
        files = get("artifacts/list", run_id=run)["files"]
        assert sorted(f["path"] for f in files) == ["confusion_matrix.json", "confusion_matrix.png"]
