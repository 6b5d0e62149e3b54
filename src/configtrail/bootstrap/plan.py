"""The bootstrap project's offline plan: the real program under the same mock runtime and
capture as the recording stack (configtrail/plan/), written in `pulumi stack export` shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configtrail.bootstrap import program
from configtrail.bootstrap import settings as settings_module
from configtrail.bootstrap.settings import BootstrapSettings
from configtrail.plan import export, runner
from configtrail.plan.capture import CapturedResource
from configtrail.settings import SettingsError


@dataclass
class BootstrapPlan:
    stack: str
    settings: BootstrapSettings
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def by_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]


def stack_names(directory: Path = program.PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


def run(stack: str, directory: Path = program.PROJECT_DIR) -> BootstrapPlan:
    """Validate `<directory>/Pulumi.<stack>.yaml`, then register the program against the mocks."""
    path = directory / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(directory)) or "none"
        raise SettingsError([f"{_shown(path)}: no such stack file (bootstrap stacks: {known})"])
    raw = settings_module.read_stack_file(path)
    settings = settings_module.from_config(raw, _shown(path))
    resources, outputs = runner.register(
        lambda: program.build(settings),
        project=program.PROJECT,
        stack=stack,
        config=raw,
        home_region=settings.home_region,
        account_id=settings.account_id,
        preview=False,
    )
    return BootstrapPlan(stack, settings, resources, outputs)


def stack_export(plan: BootstrapPlan) -> dict[str, Any]:
    stack_urn = f"urn:pulumi:{plan.stack}::{program.PROJECT}::pulumi:pulumi:Stack::" + (
        f"{program.PROJECT}-{plan.stack}"
    )
    root = {
        "urn": stack_urn,
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "outputs": plan.outputs,
    }
    resources = [
        export.resource_state(r, stack_urn)
        for r in plan.resources
        if r.type != "pulumi:pulumi:Stack"
    ]
    return {"version": 3, "deployment": {"resources": [root, *resources]}}


def write(plan: BootstrapPlan, out_dir: Path) -> Path:
    target = out_dir / plan.stack / "stack.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(stack_export(plan), indent=2, sort_keys=True) + "\n")
    return target


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(runner.REPO_ROOT))
    except ValueError:
        return str(path)
