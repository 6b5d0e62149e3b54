"""Evaluate one deployment file with the real policy pack, as the engine would: GetAnalyzerInfo,
Configure (config reconciled as the CLI does), Analyze for every resource, AnalyzeStack once.

Two engines send the same requests and differ only in transport (see README, Policy pack):
- `grpc` (default): the pack as the Pulumi engine runs it, a child process speaking the Analyzer
  gRPC protocol (analyzer.PackProcess);
- `in-process`: the pack's own analyzer service called in this process (inprocess.InProcessPack),
  for large stacks, where one gRPC round trip per resource dominates.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy import packconfig
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackProcess
from configtrail.policy.inprocess import InProcessPack
from configtrail.policy.inputs import Deployment, State
from configtrail.policy.report import Finding, Report
from configtrail.policy.wire import Wire

CONFIG_DIR = POLICY_PACK_DIR / "config"
ENGINES = ("grpc", "in-process")
DEFAULT_ENGINE = "grpc"


def open_pack(
    engine: str, pack_dir: Path, *, project: str, stack: str, dry_run: bool
) -> PackProcess | InProcessPack:
    """The pack behind `engine`, not yet entered (use as a context manager)."""
    if engine == "grpc":
        return PackProcess(pack_dir, project=project, stack=stack, dry_run=dry_run)
    if engine == "in-process":
        return InProcessPack(pack_dir, project=project, stack=stack, dry_run=dry_run)
    raise ValueError(f"unknown policy engine {engine!r} (allowed: {', '.join(ENGINES)})")


def config_path(env: str, config_dir: Path = CONFIG_DIR) -> Path:
    return config_dir / f"{env}.json"


def pack_version(pack_dir: Path) -> str:
    """The version in PulumiPolicy.yaml, which the engine reports instead of the SDK's own."""
    try:
        document = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    return str((document or {}).get("version") or "")


def _findings(
    response: analyzer_pb2.AnalyzeResponse,
    phase: str,
    deployment: Deployment,
    by_urn: dict[str, State],
    default_urn: str,
) -> list[Finding]:
    """The findings of one response; `by_urn` indexes the deployment's resources (built once per
    run — rebuilding it per response made a 10,000-resource run quadratic)."""
    found = []
    for diagnostic in response.diagnostics:
        urn = diagnostic.urn or default_urn
        if urn not in by_urn:  # the engine attributes unknown URNs to the stack
            urn = default_urn
        state = by_urn.get(urn)
        message = diagnostic.message
        if message.startswith(diagnostic.description + "\n"):
            message = message[len(diagnostic.description) + 1 :]
        found.append(
            Finding(
                policy=diagnostic.policyName,
                level=packconfig.level_name(diagnostic.enforcementLevel),
                message=message,
                urn=urn,
                resource_type=state.type if state else "pulumi:pulumi:Stack",
                resource_name=state.name if state else deployment.stack,
                phase=phase,
                severity=analyzer_pb2.PolicySeverity.Name(diagnostic.severity)
                .removeprefix("POLICY_SEVERITY_")
                .lower(),
            )
        )
    return found


def evaluate(
    deployment: Deployment,
    config_file: Path | None,
    env: str | None = None,
    pack_dir: Path = POLICY_PACK_DIR,
    engine: str = DEFAULT_ENGINE,
) -> Report:
    """The verdicts of the pack on one deployment, in a pack of its own (as the engine starts one
    per operation). Raises PolicyInputError for bad config."""
    raw_config = packconfig.read_file(config_file)
    with open_pack(
        engine,
        pack_dir,
        project=deployment.project,
        stack=deployment.stack,
        dry_run=deployment.dry_run,
    ) as pack:
        return evaluate_with(
            pack, deployment, raw_config, str(config_file) if config_file else None, env
        )


def evaluate_with(
    pack: PackProcess | InProcessPack,
    deployment: Deployment,
    raw_config: dict,
    config_label: str | None = None,
    env: str | None = None,
) -> Report:
    """The verdicts of a running pack: GetAnalyzerInfo, Configure, Analyze per resource,
    AnalyzeStack. `Configure` replaces the whole config, so one process can serve many runs."""
    stack_urn = next(
        (s.urn for s in deployment.resources if s.type == "pulumi:pulumi:Stack"),
        f"urn:pulumi:{deployment.stack}::{deployment.project}::pulumi:pulumi:Stack::"
        f"{deployment.project}-{deployment.stack}",
    )
    info = pack.info()
    settings = packconfig.reconcile(info, raw_config, config_label or "(defaults)")
    pack.configure(packconfig.to_wire(settings))
    wire = Wire(deployment)
    requests = wire.analyze_requests()
    by_urn = {state.urn: state for state in deployment.resources}
    findings: list[Finding] = []
    for request, response in zip(requests, pack.analyze_many(requests), strict=True):
        findings += _findings(response, "resource", deployment, by_urn, request.urn)
    findings += _findings(
        pack.analyze_stack(wire.analyze_stack_request()), "stack", deployment, by_urn, stack_urn
    )
    return Report(
        source=deployment.source,
        kind=deployment.kind,
        env=env,
        config=config_label,
        pack=info.name,
        version=pack_version(pack.pack_dir) or info.version,
        resources=len(deployment.resources),
        levels={name: setting.level for name, setting in settings.items()},
        findings=findings,
        engine="in-process" if isinstance(pack, InProcessPack) else "grpc",
    )
