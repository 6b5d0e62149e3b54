"""Write a captured plan in the two shapes the Pulumi CLI produces, so that every tool that reads
real Pulumi output (the policy runner, checkov's plan export, people) reads the plan the same way:

- `pulumi stack export`: `{"version": 3, "deployment": {"manifest", "resources": [...]}}`;
- `pulumi preview --json`: `{"steps": [{"op", "urn", "provider", "newState"}], "changeSummary"}`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from configtrail import files, tfplan
from configtrail.plan.capture import CapturedResource
from configtrail.plan.runner import PROJECT, Plan


def _stack_urn(env: str) -> str:
    return f"urn:pulumi:{env}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{env}"


def resource_state(resource: CapturedResource, stack_urn: str) -> dict[str, Any]:
    """One resource as it appears in a deployment's `resources` list."""
    parent = resource.parent or stack_urn
    if parent.split("::")[2] == "pulumi:pulumi:Stack":
        parent = stack_urn
    state: dict[str, Any] = {
        "urn": resource.urn,
        "custom": resource.custom,
        "type": resource.type,
        "inputs": resource.inputs,
        "outputs": resource.outputs,
        "parent": parent,
    }
    if resource.custom:
        state["id"] = resource.id or ""
    if resource.provider:
        state["provider"] = resource.provider
    if resource.protect:
        state["protect"] = True
    if resource.retain_on_delete:
        state["retainOnDelete"] = True
    if resource.dependencies:
        state["dependencies"] = resource.dependencies
    if resource.property_dependencies:
        state["propertyDependencies"] = {
            key: urns for key, urns in resource.property_dependencies.items() if urns
        }
    if resource.import_id:
        state["importID"] = resource.import_id
    return state


def _states(plan: Plan) -> list[dict[str, Any]]:
    stack_urn = _stack_urn(plan.env)
    root = {
        "urn": stack_urn,
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "outputs": plan.outputs,
    }
    states = [
        resource_state(r, stack_urn) for r in plan.resources if r.type != "pulumi:pulumi:Stack"
    ]
    return [root, *in_dependency_order(states)]


def in_dependency_order(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents, providers and dependencies before the resources that use them (as the engine
    writes a checkpoint), ties broken by URN: the same plan always gives the same file, whatever
    order the asynchronous registrations happened to finish in."""
    by_urn = {state["urn"]: state for state in states}

    def needs(state: dict[str, Any]) -> set[str]:
        # A provider reference is "<provider URN>::<provider id>".
        provider = state.get("provider", "").rsplit("::", 1)[0]
        wanted = {state.get("parent", ""), provider, *state.get("dependencies", [])}
        return {u for u in wanted if u in by_urn and u != state["urn"]}

    waiting = {urn: needs(state) for urn, state in by_urn.items()}
    users: dict[str, list[str]] = {urn: [] for urn in by_urn}
    for urn, wanted in waiting.items():
        for other in wanted:
            users[other].append(urn)
    ready = [urn for urn, wanted in waiting.items() if not wanted]
    heapq.heapify(ready)
    ordered: list[dict[str, Any]] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for user in users[urn]:
            waiting[user].discard(urn)
            if not waiting[user]:
                heapq.heappush(ready, user)
    if len(ordered) != len(states):  # a cycle cannot come from the engine; keep everything
        placed = {state["urn"] for state in ordered}
        ordered.extend(
            sorted((s for s in states if s["urn"] not in placed), key=lambda s: s["urn"])
        )
    return ordered


def stack_export(plan: Plan) -> dict[str, Any]:
    """The plan as `pulumi stack export` would print it after an `up`."""
    return {
        "version": 3,
        "deployment": {
            "manifest": {
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "magic": "",
                "version": f"v{version('pulumi')}",
            },
            "resources": _states(plan),
        },
    }


def preview_json(plan: Plan) -> dict[str, Any]:
    """The plan as `pulumi preview --json` would print it for a stack that does not exist yet."""
    steps = []
    for state in _states(plan):
        op = "import" if state.get("importID") else "create"
        step: dict[str, Any] = {"op": op, "urn": state["urn"], "newState": state}
        if "provider" in state:
            step["provider"] = state["provider"]
        steps.append(step)
    summary: dict[str, int] = {}
    for step in steps:
        summary[step["op"]] = summary.get(step["op"], 0) + 1
    return {"steps": steps, "changeSummary": summary, "diagnostics": []}


def output_path(out_dir: Path, env: str, preview: bool) -> Path:
    """`build/<env>/stack.json` for a normal run, `build/<env>/preview.json` for a preview."""
    return out_dir / env / ("preview.json" if preview else "stack.json")


def write(plan: Plan, out_dir: Path) -> Path:
    """Write a normal run as a stack export, a preview-style run as preview JSON."""
    path = output_path(out_dir, plan.env, plan.preview)
    document = preview_json(plan) if plan.preview else stack_export(plan)
    files.write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    if not plan.preview:
        # The same deployment as a Terraform plan beside it, for checkov (`configtrail checkov`).
        tfplan.write(document, path.parent / "tfplan.json")
    return path
