"""Fixtures: the sample archive as a directory and in a real S3 API on loopback.

The S3 API is moto's server mode (`moto_server`, from moto[server] in the locked requirements),
started on a free port for the test session and stopped afterwards, so neither the tests nor
.ci/run need anything running beforehand. It is a stand-in for Amazon S3: it speaks the same HTTP
API that boto3 uses, offline.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from configtrail import cli
from tests.history import archive

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def aws_env():
    """Dummy credentials and no profile, so nothing can reach a real account."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_env, tmp_path_factory):
    """URL of a moto server (stand-in for S3, Athena and Glue) on a free loopback port."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("w")
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto_server did not start on port {port}") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def s3(moto_endpoint):
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


_BUCKETS = iter(range(1_000_000))


@pytest.fixture
def make_bucket(s3):
    """Create a fresh bucket holding the given files; returns its name."""

    def make(files: dict[str, bytes]) -> str:
        name = f"configtrail-test-archive-{next(_BUCKETS)}"
        s3.create_bucket(Bucket=name)
        archive.put_s3(s3, name, files)
        return name

    return make


@pytest.fixture
def good_dir(tmp_path):
    root = tmp_path / "archive"
    archive.write_dir(root, archive.good_files())
    return root


@pytest.fixture
def run_cli(capsys):
    """Run `configtrail history ...`; returns (exit code, stdout, stderr)."""

    def run(*args: str):
        code = cli.main(["history", "--no-progress", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
