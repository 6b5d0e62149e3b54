"""Evaluate deployment files with a real policy pack, as the engine does: the pack in its own
process over the Analyzer gRPC protocol (analyzer.PackProcess), one process for every file of a
run. Per file: ConfigureStack, Configure (config reconciled as the CLI does), `Analyze` per
resource (its inputs), `AnalyzeStack` (every resource's state after its step) — the sequence of
`pulumi policy analyze --file` (pkg/resource/deploy/analyze_snapshot.go).

Two dispatches, the same verdicts:
- `full`: every resource to every policy, exactly the calls the engine makes;
- `scoped` (default): a policy that declares the resource types it judges (a `resource-type:`
  tag, fnmatch pattern, in GetAnalyzerInfo) is sent only those. Resources that no enabled resource
  policy judges get no `Analyze` call; the others are analyzed in groups with the policies that do
  not judge them disabled by `Configure`; each stack policy gets one `AnalyzeStack` with just its
  resources. The ConfigTrail pack filters by the same declaration itself (definition.py), so a
  policy sees the same resources either way — tests/policies/test_dispatch.py proves the findings
  equal on every plan and mutation. A pack without such tags gets the full dispatch.
  Why: every `Analyze` round trip costs the SDK's server about 0.7 ms here, and the SDK converts
  a request once per enabled policy; the full dispatch of a 10,000-resource stack takes ~20 s.

The runner takes any pack directory (`pack_dir`); nothing here knows the ConfigTrail pack.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import grpc
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy import packconfig
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackFailure, PackProcess
from configtrail.policy.inputs import Deployment, State
from configtrail.policy.report import Finding, Report
from configtrail.policy.wire import Wire

DISPATCHES = ("scoped", "full")
DEFAULT_DISPATCH = "scoped"
SCOPE_TAG = "resource-type:"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Job:
    """One file to judge: its resources and the raw policy config (as a `--policy-pack-config`
    file holds it; estate-derived config can be passed as a dict without a file)."""

    deployment: Deployment
    config: dict
    config_label: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class PolicyScope:
    name: str
    kind: str  # "resource" | "stack"
    patterns: tuple[str, ...] | None  # None: every resource

    def judges(self, resource_type: str) -> bool:
        return self.patterns is None or _matches(resource_type, self.patterns)


@cache
def _matches(resource_type: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in patterns)


def scopes(info: analyzer_pb2.AnalyzerInfo) -> list[PolicyScope]:
    """Each policy's kind and declared resource types, from GetAnalyzerInfo."""
    found = []
    for policy in info.policies:
        patterns = tuple(t[len(SCOPE_TAG) :] for t in policy.tags if t.startswith(SCOPE_TAG))
        kind = "stack" if policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
        found.append(PolicyScope(policy.name, kind, patterns or None))
    return found


def _findings(
    response: analyzer_pb2.AnalyzeResponse,
    phase: str,
    deployment: Deployment,
    by_urn: dict[str, State],
    default_urn: str,
) -> list[Finding]:
    """The findings of one response; `by_urn` indexes the deployment's resources (built once per
    file — rebuilding it per response made a 10,000-resource run quadratic)."""
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
                resource_type=state.type if state else STACK_TYPE,
                resource_name=state.name if state else deployment.stack,
                phase=phase,
                severity=analyzer_pb2.PolicySeverity.Name(diagnostic.severity)
                .removeprefix("POLICY_SEVERITY_")
                .lower(),
            )
        )
    return found


def _only(
    config: dict[str, analyzer_pb2.PolicyConfig], enabled: Iterable[str]
) -> dict[str, analyzer_pb2.PolicyConfig]:
    """`config` with every policy but `enabled` disabled."""
    keep = set(enabled)
    result = {}
    for name, policy_config in config.items():
        if name in keep:
            result[name] = policy_config
        else:
            disabled = analyzer_pb2.PolicyConfig()
            disabled.CopyFrom(policy_config)
            disabled.enforcementLevel = analyzer_pb2.DISABLED
            result[name] = disabled
    return result


def evaluate_with(
    pack: PackProcess,
    deployment: Deployment,
    raw_config: dict,
    config_label: str | None = None,
    env: str | None = None,
    dispatch: str = DEFAULT_DISPATCH,
    window: int = 16,
) -> Report:
    """The verdicts of a running pack on one deployment. Raises PolicyInputError for bad config
    or a value the engine could not marshal."""
    if dispatch not in DISPATCHES:
        raise ValueError(f"unknown dispatch {dispatch!r} (allowed: {', '.join(DISPATCHES)})")
    stack_urn = next(
        (s.urn for s in deployment.resources if s.type == STACK_TYPE and not s.parent),
        f"urn:pulumi:{deployment.stack}::{deployment.project}::{STACK_TYPE}::"
        f"{deployment.project}-{deployment.stack}",
    )
    info = pack.info()
    settings = packconfig.reconcile(info, raw_config, config_label or "(defaults)")
    config = packconfig.to_wire(settings)
    wire = Wire(deployment)
    states = deployment.resources
    by_urn = {state.urn: state for state in states}
    pack.configure_stack(
        stack=deployment.stack, project=deployment.project, dry_run=deployment.dry_run
    )

    active = [s for s in scopes(info) if settings[s.name].level != "disabled"]
    if dispatch == "full" or all(s.patterns is None for s in active):
        resource_groups = [
            ([s.name for s in active if s.kind == "resource"], list(range(len(states))))
        ]
        stack_calls = [([s.name for s in active if s.kind == "stack"], None)]
    else:
        resource_policies = [s for s in active if s.kind == "resource"]
        grouped: dict[tuple[str, ...], list[int]] = {}
        for index, state in enumerate(states):
            judging = tuple(s.name for s in resource_policies if s.judges(state.type))
            if judging:
                grouped.setdefault(judging, []).append(index)
        resource_groups = [(list(names), indices) for names, indices in grouped.items()]
        stack_calls = [([s.name], s) for s in active if s.kind == "stack"]

    responses: list[tuple[int, analyzer_pb2.AnalyzeResponse]] = []
    for enabled, indices in resource_groups:
        if not indices or (dispatch == "scoped" and not enabled):
            continue
        pack.configure(config if dispatch == "full" else _only(config, enabled))
        requests = [wire.analyze_request(states[i]) for i in indices]
        responses += zip(indices, pack.analyze_many(requests, window=window), strict=True)
    findings: list[Finding] = []
    for index, response in sorted(responses, key=lambda pair: pair[0]):
        findings += _findings(response, "resource", deployment, by_urn, states[index].urn)

    for enabled, scope in stack_calls:
        if not enabled:
            continue
        if dispatch == "full" or scope is None:
            pack.configure(config)
            request = wire.analyze_stack_request()
        else:
            pack.configure(_only(config, enabled))
            request = wire.analyze_stack_request([s for s in states if scope.judges(s.type)])
        findings += _findings(pack.analyze_stack(request), "stack", deployment, by_urn, stack_urn)

    version = pack.version or info.version
    if version != info.version:
        # The SDK reports "0.0.1" (its comment: the CLI uses PulumiPolicy.yaml's version) and
        # writes it into its own diagnostics ("policy pack 'name@v0.0.1'"); one version is shown.
        for finding in findings:
            finding.message = finding.message.replace(
                f"'{info.name}@v{info.version}'", f"'{info.name}@{version}'"
            )
    return Report(
        source=deployment.source,
        kind=deployment.kind,
        env=env,
        config=config_label,
        pack=info.name,
        version=version,
        resources=len(states),
        levels={name: setting.level for name, setting in settings.items()},
        findings=findings,
    )


def evaluate_all(
    jobs: Iterable[Job], pack_dir: Path = POLICY_PACK_DIR, dispatch: str = DEFAULT_DISPATCH
) -> list[Report]:
    """The verdicts on every job, from one pack process. The process starts first, so it imports
    the pack while `jobs` (a generator may read the files) is consumed."""
    pack = PackProcess(pack_dir).start()
    try:
        ready = list(jobs)
        pack.connect()
        reports = []
        for job in ready:
            try:
                reports.append(
                    evaluate_with(
                        pack, job.deployment, job.config, job.config_label, job.env, dispatch
                    )
                )
            except grpc.RpcError as error:
                details = (error.details() or str(error.code())).strip().splitlines()
                raise PackFailure(
                    f"{job.deployment.source}: the policy pack {pack.pack_dir} failed "
                    f"({error.code().name}): {details[-1] if details else 'no details'}"
                ) from None
        return reports
    finally:
        pack.close()


def evaluate(
    deployment: Deployment,
    config_file: Path | None,
    env: str | None = None,
    pack_dir: Path = POLICY_PACK_DIR,
    dispatch: str = DEFAULT_DISPATCH,
) -> Report:
    """The verdicts of the pack on one deployment. Raises PolicyInputError for bad config."""
    job = Job(
        deployment,
        packconfig.read_file(config_file),
        str(config_file) if config_file else None,
        env,
    )
    return evaluate_all([job], pack_dir, dispatch)[0]
