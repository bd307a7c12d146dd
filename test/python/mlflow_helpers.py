"""Shared helpers for the MLflow tests: a DuckDB connection with medallion
loaded, a real `mlflow server` started on 127.0.0.1, a scriptable fake
MLflow server for fault injection, a local MLflow store as a fixture, and
directory comparison."""
from __future__ import annotations

import contextlib
import filecmp
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = Path(os.environ.get("MEDALLION_EXTENSION", REPO / "build/release/medallion.duckdb_extension"))


def connect(tracking_uri: str | None = None, **settings) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB with medallion loaded and settings applied."""
    assert EXTENSION.is_file(), f"build the extension first (make build): {EXTENSION}"
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXTENSION}'")
    if tracking_uri is not None:
        settings["mlflow_tracking_uri"] = tracking_uri
    for name, value in settings.items():
        con.execute(f"SET {name} = '{value}'")
    return con


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A local MLflow store (file layout) that stock MLflow reads and writes
    as tracking and registry URI, with its own model cache: (uri, tmp_path).
    MLflow 3 reads a file store only with MLFLOW_ALLOW_FILE_STORE=true."""
    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MEDALLION_MODEL_CACHE", str(tmp_path / "cache"))
    uri = f"file://{tmp_path}/mlruns"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield uri, tmp_path
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(workdir: Path, startup_timeout: float = 120.0, backend_store_uri: str | None = None):
    """A real `mlflow server` (sqlite backend unless given, artifacts proxied) on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen(
        [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", backend_store_uri or f"sqlite:///{workdir}/mlflow.db",
         "--artifacts-destination", str(workdir / "artifacts"),
         "--serve-artifacts", "--workers", "1"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(workdir / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not answer /health in {startup_timeout} s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class FakeMlflow:
    """A tiny MLflow REST lookalike on 127.0.0.1 whose answers a test scripts.

    `plan[endpoint]` is a list of actions consumed one per request to that
    endpoint (then the default): an int status to answer with, ("sleep", s)
    to store the request and then answer late, or ("sleep_first", s) to
    answer late without storing it. Requests are recorded in `requests`;
    metrics that were stored, in `metrics`.
    """

    RUN_ID = "0123456789abcdef0123456789abcdef"

    def __init__(self):
        self.plan: dict[str, list] = {}
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.metrics: list[dict] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.startswith(b"{") else {}
                path = self.path.split("?")[0]
                endpoint = path.split("/api/2.0/mlflow/")[-1]
                fake.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                actions = fake.plan.get(endpoint, [])
                action = actions.pop(0) if actions else None
                if isinstance(action, int):
                    return self._answer(action, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "scripted"})
                if isinstance(action, tuple) and action[0] == "sleep_first":
                    time.sleep(action[1])
                    return self._answer(503, {})
                if endpoint == "runs/log-batch":
                    fake.metrics.extend(body.get("metrics", []))
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                self._answer(200, fake.answer(endpoint, self.path, body))

            do_GET = do_POST = do_PUT = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, endpoint, path, body):
        if endpoint == "runs/get":
            info = {"run_id": self.RUN_ID, "experiment_id": "1",
                    "artifact_uri": f"mlflow-artifacts:/1/{self.RUN_ID}/artifacts"}
            return {"run": {"info": info, "data": {"tags": []}}}
        if endpoint == "metrics/get-history":
            key = path.split("metric_key=")[-1].split("&")[0]
            return {"metrics": [m for m in self.metrics if m["key"] == key]}
        if endpoint == "experiments/get-by-name":
            return {"experiment": {"experiment_id": "1", "lifecycle_stage": "active"}}
        if endpoint == "runs/create":
            return {"run": {"info": {"run_id": self.RUN_ID, "artifact_uri": f"mlflow-artifacts:/1/{self.RUN_ID}/artifacts"}}}
        return {}

    def calls(self, endpoint):
        return [r for r in self.requests if r[1].split("?")[0].endswith("/" + endpoint)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# What mlflow_register_model adds to a model directory to make it an MLflow
# model (a python_function flavor), unless the directory has an MLmodel.
FLAVOR_FILES = ["MLmodel", "code/medallion_pyfunc.py", "python_env.yaml", "requirements.txt"]


def same_model(model: Path, registered: Path) -> bool:
    """Whether `registered` holds the files of `model` with the same bytes,
    plus the flavor files and nothing else."""
    files = sorted(p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file())
    got = sorted(p.relative_to(registered).as_posix() for p in registered.rglob("*")
                 # what MLflow's own download of a models:/ URI of an MLflow model adds
                 if p.is_file() and p.name != "registered_model_meta")
    if got != sorted(files + FLAVOR_FILES):
        return False
    return all(filecmp.cmp(model / f, registered / f, shallow=False) for f in files)


def make_model_dir(root: Path) -> Path:
    """A model-shaped directory: binary ONNX stand-in, tokenizer, config."""
    model = root / "model"
    (model / "tokenizer").mkdir(parents=True)
    (model / "model.onnx").write_bytes(os.urandom(300_000))
    (model / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    (model / "config.json").write_text(json.dumps({"labels": ["negative", "positive"]}))
    return model
