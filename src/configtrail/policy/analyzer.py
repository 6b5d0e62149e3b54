"""Run the real policy pack the way the Pulumi engine does: start `policies/__main__.py` as a child
process, read the port it prints, and talk to it over the Analyzer gRPC protocol.

The pack is started with `python -u` because the SDK writes its port to stdout without flushing;
through a pipe the line would otherwise never arrive.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
POLICY_PACK_DIR = REPO_ROOT / "policies"
START_TIMEOUT_SECONDS = 60
_MAX_MESSAGE = 400 * 1024 * 1024  # as the SDK's server and the engine allow


class PackStartError(Exception):
    """The pack process did not start or did not print its port."""


class PackProcess:
    """A running policy pack; use as a context manager. `stub` is its Analyzer client."""

    def __init__(
        self,
        pack_dir: Path = POLICY_PACK_DIR,
        *,
        project: str = "configtrail",
        stack: str = "offline",
        dry_run: bool = True,
        python: str = sys.executable,
    ):
        self.pack_dir = pack_dir
        self.python = python
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            # What the engine sets for an analyzer plugin it launches.
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
        }
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr = None

    def __enter__(self) -> PackProcess:
        self._stderr = tempfile.TemporaryFile()
        entry = self.pack_dir / "__main__.py"
        if not entry.is_file():
            raise PackStartError(f"{entry}: no policy pack entry point")
        self.process = subprocess.Popen(
            [self.python, "-u", str(entry)],
            cwd=self.pack_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            port = self._read_port()
            self.channel = grpc.insecure_channel(
                f"127.0.0.1:{port}",
                options=[
                    ("grpc.max_receive_message_length", _MAX_MESSAGE),
                    ("grpc.max_send_message_length", _MAX_MESSAGE),
                ],
            )
            grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT_SECONDS)
            self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        except BaseException:
            self.close()
            raise
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                raise PackStartError(
                    f"policy pack did not print its port within "
                    f"{START_TIMEOUT_SECONDS}s{self._stderr_tail()}"
                )
            chunk = os.read(self.process.stdout.fileno(), 64)
            if not chunk:
                raise PackStartError(
                    f"policy pack exited with code {self.process.wait()} before "
                    f"serving{self._stderr_tail()}"
                )
            line += chunk
        try:
            return int(line.strip())
        except ValueError:
            raise PackStartError(f"policy pack printed {line!r} instead of its port") from None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f":\n{text[-2000:]}" if text else ""

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the protocol, as the engine calls it ---------------------------------------------------

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, policy_config: dict[str, analyzer_pb2.PolicyConfig]) -> None:
        self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.Analyze(request)

    def analyze_many(self, requests: list[analyzer_pb2.AnalyzeRequest], window: int = 8):
        """`Analyze` for each request, keeping up to `window` calls in flight (the engine also
        analyzes resources as they register, concurrently); responses in request order."""
        pending: list = []
        responses = []
        for request in requests:
            pending.append(self.stub.Analyze.future(request))
            if len(pending) >= window:
                responses.append(pending.pop(0).result())
        responses.extend(future.result() for future in pending)
        return responses

    def analyze_stack(
        self, request: analyzer_pb2.AnalyzeStackRequest
    ) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.AnalyzeStack(request)
