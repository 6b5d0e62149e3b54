"""The pack's analyzer service driven in this process: the same Analyzer requests the gRPC engine
sends (runner.evaluate_with builds them with wire.Wire for both engines), handed to the service's
methods instead of to a child process over gRPC. Only the transport differs.

Why: a gRPC round trip costs about 1 ms here, so a 10,000-resource stack spends ~10 s on
transport alone — the in-process engine is for large stack exports (benchmarks/policy_pack.py).
The gRPC engine (analyzer.PackProcess) stays the default: it is the pack exactly as the Pulumi
engine starts it. tests/policies/test_engines.py proves both give identical diagnostics.

Kept as the engine runs the pack:
- the service is the one `PolicyPack(...)` in policies/__main__.py serves, built the same way
  (`configtrail_policies.pack.service()`, never `PolicyPack(...)`, which starts a server and
  blocks);
- PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN, which the engine sets for the pack process, are
  set while the service runs; the Pulumi runtime settings the SDK configures from them live in a
  context of their own (contextvars), so they never leak into this process.

Limit: it evaluates the `configtrail_policies` package installed in this environment (the
repository's policies/); any other pack directory needs the gRPC engine.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy.analyzer import POLICY_PACK_DIR, PackStartError


class InProcessPack:
    """The pack's service in this process, with PackProcess's protocol methods; use as a context
    manager. `servicer` picks the service class (default: the one the pack process serves)."""

    def __init__(
        self,
        pack_dir: Path = POLICY_PACK_DIR,
        *,
        project: str = "configtrail",
        stack: str = "offline",
        dry_run: bool = True,
        servicer: type | None = None,
    ):
        self.pack_dir = pack_dir
        self.engine_env = {
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
        }
        self.servicer = servicer
        self.service = None
        self._context = contextvars.copy_context()

    def __enter__(self) -> InProcessPack:
        try:
            from configtrail_policies import pack
        except Exception as error:  # the pack's own import failure, reported like a failed start
            raise PackStartError(f"the policy pack does not import: {error!r}") from error
        installed = Path(pack.__file__).resolve().parents[1]
        if installed != Path(self.pack_dir).resolve():
            raise PackStartError(
                f"{self.pack_dir}: the in-process engine evaluates the installed pack "
                f"({installed}); use --engine grpc for another pack directory"
            )
        self.service = pack.service() if self.servicer is None else pack.service(self.servicer)
        return self

    def __exit__(self, *exc_info) -> None:
        self.service = None

    @contextmanager
    def _engine_environment(self) -> Iterator[None]:
        saved = {key: os.environ.get(key) for key in self.engine_env}
        os.environ.update(self.engine_env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _call(self, method, requests: list) -> list:
        with self._engine_environment():
            return [self._context.run(method, request, None) for request in requests]

    # --- the protocol, as the engine calls it (same signatures as PackProcess) ------------------

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self._call(self.service.GetAnalyzerInfo, [empty_pb2.Empty()])[0]

    def configure(self, policy_config: dict[str, analyzer_pb2.PolicyConfig]) -> None:
        request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config)
        self._call(self.service.Configure, [request])

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:
        return self._call(self.service.Analyze, [request])[0]

    def analyze_many(self, requests: list[analyzer_pb2.AnalyzeRequest], window: int = 8):
        """`Analyze` for each request, in order (`window` is accepted for PackProcess's
        signature; calls here are sequential)."""
        return self._call(self.service.Analyze, requests)

    def analyze_stack(
        self, request: analyzer_pb2.AnalyzeStackRequest
    ) -> analyzer_pb2.AnalyzeResponse:
        return self._call(self.service.AnalyzeStack, [request])[0]
