"""A real S3 endpoint for the s3:// table tests: moto's server (the `moto[server]`
pin in test/requirements.txt) as a subprocess on 127.0.0.1, a free port, with
one bucket, stopped afterwards.

moto keeps objects in memory and speaks the S3 REST API over HTTP, so the
extension (delta-rs and its object store) and the `deltalake` Python package
reach it exactly as they reach AWS: through AWS_ENDPOINT_URL with
AWS_ALLOW_HTTP=true, signing with the test credentials.

Conditional puts: moto 5.2.6 honours `If-None-Match: *` on PutObject (a second
put of an existing key answers 412 PreconditionFailed; probed on every start,
see `S3Server.conditional_put`). That is what delta-rs's S3 log store commits
with (object_store's default S3ConditionalPut::ETagMatch), so two writers
racing for the same version get a real conflict and no
AWS_S3_ALLOW_UNSAFE_RENAME is needed; it is only added to `storage_options`
should a moto ever stop honouring the header.

Credentials: by default moto accepts any key and signature. `auth=True` turns
its IAM checks on after the setup (`/moto-api/reset-auth`): only the IAM user's
generated key (in `env` and `storage_options`), correctly signed, is let in.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Iterator

import pytest

BUCKET = "medallion-test"
REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_command(port: int) -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if not os.path.exists(exe):
        exe = None
    base = [exe] if exe else [sys.executable, "-m", "moto.server"]
    return base + ["-H", "127.0.0.1", "-p", str(port)]


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str
    conditional_put: bool
    proc: subprocess.Popen = field(repr=False)
    log_path: str = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        """The AWS_* variables a process (the DuckDB CLI, or this one before it
        loads the extension) needs to reach the bucket."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    @property
    def storage_options(self) -> dict[str, str]:
        """For the `deltalake` Python package (`storage_options=`)."""
        opts = dict(self.env)
        if not self.conditional_put:
            # Without conditional puts delta-rs cannot commit safely to S3 and
            # refuses unless told that a single writer makes the rename safe.
            opts["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
        return opts

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key.strip('/')}"

    def fresh(self, name: str = "t") -> str:
        """A table location no test used before (the server lives for the session)."""
        return self.url(f"{name}-{uuid.uuid4().hex[:10]}")

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def keys(self, prefix: str) -> list[str]:
        """Every object key under `prefix` (an s3:// URL of this bucket or a key
        prefix), relative to it, sorted."""
        if prefix.startswith("s3://"):
            prefix = prefix[len(f"s3://{self.bucket}/"):]
        prefix = prefix.rstrip("/") + "/"
        out = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
        return sorted(out)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


def _wait_until_up(proc: subprocess.Popen, endpoint: str, log_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            with open(log_path, errors="replace") as f:
                raise RuntimeError(f"moto_server exited with {proc.returncode}:\n{f.read()[-4000:]}")
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto_server did not answer at {endpoint} within {timeout:.0f}s")
        time.sleep(0.1)


def _probe_conditional_put(client, bucket: str) -> bool:
    """Whether a second PutObject with If-None-Match: * on an existing key is refused."""
    from botocore.exceptions import ClientError

    key = f".probe-{uuid.uuid4().hex}"
    client.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
        honoured = False
    except ClientError as e:
        honoured = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412)
    honoured = honoured and client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"1"
    client.delete_object(Bucket=bucket, Key=key)
    return honoured


def _enable_auth(server: S3Server) -> S3Server:
    """Creates an IAM user allowed everything, turns moto's authentication on
    and returns the server with that user's key."""
    import json

    import boto3

    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name=server.region,
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    iam.create_user(UserName="medallion")
    iam.put_user_policy(UserName="medallion", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="medallion")["AccessKey"]
    # text/plain: a form content type would leave moto an empty body (HTTP 500)
    req = urllib.request.Request(server.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
    server.access_key, server.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
    return server


def start_s3_server(bucket: str = BUCKET, auth: bool = False, timeout: float = 30) -> S3Server:
    """Starts moto_server on a free port of 127.0.0.1, creates `bucket`, probes
    conditional puts; the caller stops it (`S3Server.stop`)."""
    last_error: Exception | None = None
    for _ in range(3):  # the free port may be taken before moto binds it
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        fd, log_path = tempfile.mkstemp(prefix="moto-", suffix=".log")
        # The server's own environment must not point it at itself or at AWS.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with os.fdopen(fd, "wb") as log:
            proc = subprocess.Popen(moto_command(port), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env)
        server = S3Server(endpoint=endpoint, bucket=bucket, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                          region=REGION, conditional_put=False, proc=proc, log_path=log_path)
        try:
            _wait_until_up(proc, endpoint, log_path, timeout)
            client = server.client()
            client.create_bucket(Bucket=bucket)
            server.conditional_put = _probe_conditional_put(client, bucket)
            if auth:
                _enable_auth(server)
            return server
        except Exception as e:  # noqa: BLE001 - retried, then raised
            last_error = e
            server.stop()
    raise RuntimeError(f"could not start moto_server: {last_error}")


@contextlib.contextmanager
def running_s3(bucket: str = BUCKET, auth: bool = False) -> Iterator[S3Server]:
    server = start_s3_server(bucket, auth=auth)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """One moto S3 server for the session, with bucket `medallion-test`; tests
    take fresh prefixes (`s3.fresh('name')`)."""
    with running_s3() as server:
        yield server
