"""The AI workload pack (policies/ai-workloads/) on the example AI workload stack
(examples/ai-workload/), offline.

Each variant of the example is planned through the repository's mock runtime (`plan.runner.
register`, the same one the recording stacks use) and written in the two shapes the Pulumi CLI
produces (stack export, first preview); the pack evaluates each through the policy runner, as the
Pulumi engine would start it: its own process, the Analyzer gRPC protocol, and — with
`python=` — the virtual environment the CLI makes from the pack's requirements.txt.

Expectations: the compliant variant has no mandatory violation; every other variant, named after
the control it breaks, is blocked by that control's policy and by no other.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from configtrail.plan.export import in_dependency_order, resource_state
from configtrail.plan.mocks import PARTITION, AwsLikeMocks
from configtrail.plan.runner import REPO_ROOT, register
from configtrail.policy.analyzer import PackProcess
from configtrail.policy.inputs import parse
from configtrail.policy.report import Report
from configtrail.policy.runner import evaluate_with

EXAMPLE_DIR = REPO_ROOT / "examples" / "ai-workload"
AI_PACK_DIR = REPO_ROOT / "policies" / "ai-workloads"
PROJECT = "ai-workload"
HOME_REGION = "us-east-1"


def example_module() -> ModuleType:
    """examples/ai-workload/workload.py, imported by path (it is a Pulumi program, no package)."""
    name = "configtrail_example_ai_workload"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE_DIR / "workload.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def variants() -> tuple[str, ...]:
    return tuple(example_module().VARIANTS)


class WorkloadMocks(AwsLikeMocks):
    """The repository's AWS-like mocks, also answering with the ids, ARNs and versions AWS
    assigns to the example's SageMaker and Bedrock resources (stand-ins: they say nothing about
    whether AWS would accept the request). In a preview they stay unknown, as in a real first
    preview."""

    def new_resource(self, args):
        physical, outputs = super().new_resource(args)
        if physical is None or args.resource_id:
            return physical, outputs
        region = outputs.get("region") or self.home_region
        short = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()[:10]
        arn = f"arn:{PARTITION}:{{}}:{region}:{self.account_id}:{{}}"
        if args.typ == "aws:bedrock/guardrail:Guardrail":
            outputs.update(
                guardrailId=short,
                version="DRAFT",
                guardrailArn=arn.format("bedrock", f"guardrail/{short}"),
            )
        elif args.typ == "aws:bedrock/guardrailVersion:GuardrailVersion":
            outputs.update(version="1")
        elif args.typ == "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase":
            physical = short.upper()
            outputs.update(arn=arn.format("bedrock", f"knowledge-base/{physical}"))
        elif args.typ == "aws:bedrock/agentAgent:AgentAgent":
            outputs.update(
                agentId=short.upper(), agentArn=arn.format("bedrock", f"agent/{short.upper()}")
            )
        elif args.typ.startswith("aws:sagemaker/"):
            kind = args.typ.rsplit(":", 1)[-1].lower()
            outputs.update(
                name=outputs.get("name") or physical,
                arn=arn.format("sagemaker", f"{kind}/{physical}"),
            )
        return physical, outputs


def plan_variant(variant: str, preview: bool = False) -> dict[str, Any]:
    """One variant of the example, planned against the mocks, as `pulumi stack export` writes it
    (or, with `preview`, as a first `pulumi preview --json`, where AWS-computed values are
    unknown)."""
    workload = example_module()
    stack = variant
    resources, outputs = register(
        lambda: workload.build(variant),
        project=PROJECT,
        stack=stack,
        config={f"{PROJECT}:variant": variant},
        home_region=HOME_REGION,
        preview=preview,
        mocks=WorkloadMocks(home_region=HOME_REGION, preview=preview),
    )
    stack_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"
    states = [resource_state(r, stack_urn) for r in resources if r.type != "pulumi:pulumi:Stack"]
    root = {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": outputs}
    ordered = [root, *in_dependency_order(states)]
    if not preview:
        return {"version": 3, "deployment": {"manifest": {}, "resources": ordered}}
    steps = [{"op": "create", "urn": s["urn"], "newState": s} for s in ordered]
    return {"steps": steps, "changeSummary": {"create": len(steps)}, "diagnostics": []}


@dataclass
class Verdict:
    variant: str
    kind: str  # stack-export | preview
    report: Report

    @property
    def blocking(self) -> list[str]:
        """Policies with a mandatory violation."""
        return sorted({f.policy for f in self.report.mandatory})

    @property
    def expected(self) -> list[str]:
        return [] if self.variant == "compliant" else [self.variant]

    @property
    def ok(self) -> bool:
        return self.blocking == self.expected


def check(
    names: list[str] | None = None,
    *,
    python: str = sys.executable,
    out_dir: Path | None = None,
) -> list[Verdict]:
    """Plan each variant (stack export and preview) and evaluate it with the AI pack, running
    the pack with `python` (the pack's own virtual environment in `make check-ai-pack`)."""
    chosen = list(names or variants())
    unknown = [n for n in chosen if n not in variants()]
    if unknown:
        raise ValueError(f"variant(s) {unknown} do not exist; allowed: {', '.join(variants())}")
    verdicts = []
    with PackProcess(AI_PACK_DIR, python=python) as pack:
        for variant in chosen:
            for preview in (False, True):
                document = plan_variant(variant, preview)
                kind = "preview" if preview else "stack-export"
                source = f"examples/ai-workload[{variant}] {kind}"
                if out_dir is not None:
                    path = out_dir / variant / ("preview.json" if preview else "stack.json")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
                    source = str(path)
                report = evaluate_with(pack, parse(document, source), {}, None, variant)
                verdicts.append(Verdict(variant, kind, report))
    return verdicts


def summary_markdown(verdicts: list[Verdict], seconds: float) -> str:
    """The gate's summary: one row per variant and file kind."""
    lines = [
        "## AI workload pack on the example AI workload stack",
        "",
        f"{sum(v.ok for v in verdicts)}/{len(verdicts)} as expected, {seconds:.1f} s "
        "(policies/ai-workloads on examples/ai-workload, every variant as stack export and "
        "first preview)",
        "",
        "| variant | file | expected | blocked by | |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        lines.append(
            f"| `{v.variant}` | {v.kind} | {', '.join(v.expected) or 'passes'} "
            f"| {', '.join(v.blocking) or '—'} | {'ok' if v.ok else '**UNEXPECTED**'} |"
        )
    return "\n".join(lines) + "\n"


def timed_check(**kwargs) -> tuple[list[Verdict], float]:
    started = time.monotonic()
    verdicts = check(**kwargs)
    return verdicts, time.monotonic() - started
