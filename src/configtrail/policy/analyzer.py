"""Run a policy pack the way the Pulumi CLI runs a Python pack, and talk to it over the Analyzer
gRPC protocol.

The CLI's Python language host starts a pack as `python -u -m pulumi.policy <engine address>
<pack directory>` with the pack directory as working directory, using the interpreter of the
virtual environment that `runtime.options.virtualenv` in PulumiPolicy.yaml names (relative to the
pack directory). `pulumi.policy` runs the pack's `__main__.py`, whose `PolicyPack(...)` prints the
port it serves on. `-u` matters: the SDK writes the port without flushing, so through a pipe the
line would otherwise never arrive.

Offline there is no engine: the address is a placeholder the pack never dials (a Python pack
only logs to it, and logs to stderr without one). One process serves every file of a run:
`ConfigureStack` tells it each stack, `Configure` replaces its whole policy config. For that reason
the process environment carries no single stack's PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN
(the language host sets them for a pack that serves one stack); a pack that needs them per stack
reads `ConfigureStack`, as the SDK does for stack tags.
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
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
POLICY_PACK_DIR = REPO_ROOT / "policies"
START_TIMEOUT_SECONDS = 60
NO_ENGINE = "127.0.0.1:0"  # the engine address argument; nothing serves it offline
_MAX_MESSAGE = 400 * 1024 * 1024  # as the SDK's server and the engine allow


class PackStartError(Exception):
    """The pack process did not start or did not print its port."""


class PackFailure(Exception):
    """The running pack answered a call with an error (a policy raised, or the process died)."""


def pack_project(pack_dir: Path) -> dict:
    """PulumiPolicy.yaml of the pack (PackStartError when it is missing or not YAML)."""
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackStartError(
            f"{path}: no PulumiPolicy.yaml, so {pack_dir} is no policy pack"
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise PackStartError(f"{path}: cannot be read: {error}") from None
    if not isinstance(document, dict):
        raise PackStartError(f"{path}: must be a mapping")
    return document


def pack_python(pack_dir: Path, project: dict) -> str:
    """The interpreter the CLI would run the pack with: `runtime.options.virtualenv`'s, if set
    and present, else this one."""
    runtime = project.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if virtualenv:
        candidate = (pack_dir / str(virtualenv)).resolve() / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable


class PackProcess:
    """A running policy pack; use as a context manager. `stub` is its Analyzer client."""

    def __init__(self, pack_dir: Path = POLICY_PACK_DIR, *, python: str | None = None):
        self.pack_dir = Path(pack_dir).resolve()
        self.project = pack_project(self.pack_dir)
        self.python = python or pack_python(self.pack_dir, self.project)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_CONFIG")
        }
        self.env["PYTHONUNBUFFERED"] = "1"
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr = None
        self._info: analyzer_pb2.AnalyzerInfo | None = None

    @property
    def version(self) -> str:
        """The version in PulumiPolicy.yaml, which the engine reports instead of the SDK's own."""
        return str(self.project.get("version") or "")

    def __enter__(self) -> PackProcess:
        self.start()
        return self.connect()

    def start(self) -> PackProcess:
        """Start the process (it imports the pack while the caller does other work)."""
        if not (self.pack_dir / "__main__.py").is_file():
            raise PackStartError(f"{self.pack_dir}: no __main__.py (the pack's entry point)")
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", NO_ENGINE, str(self.pack_dir)],
            cwd=self.pack_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        return self

    def connect(self) -> PackProcess:
        """Wait for the port the pack prints and connect to it."""
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
            # AnalyzeStack with a request the runner has serialized already (wire.py).
            self._analyze_stack_encoded = self.channel.unary_unary(
                "/pulumirpc.Analyzer/AnalyzeStack",
                request_serializer=None,
                response_deserializer=analyzer_pb2.AnalyzeResponse.FromString,
            )
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
                    f"policy pack {self.pack_dir} exited with code {self.process.wait()} before "
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
        """GetAnalyzerInfo (asked once per process: it does not change)."""
        if self._info is None:
            self._info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return self._info

    def configure_stack(self, *, stack: str, project: str, dry_run: bool) -> None:
        self.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack, project=project, organization="organization", dry_run=dry_run
            )
        )

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

    def analyze_stack(self, request) -> analyzer_pb2.AnalyzeResponse:
        """AnalyzeStack with an AnalyzeStackRequest, or with wire.EncodedStackRequest bytes."""
        if isinstance(request, analyzer_pb2.AnalyzeStackRequest):
            return self.stub.AnalyzeStack(request)
        return self._analyze_stack_encoded(request.data)
