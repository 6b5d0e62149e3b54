"""The bootstrap project's offline plan: the real program under the same mock runtime and
capture as the recording stack (configtrail/plan/), one bootstrap stack per account of the estate,
written in `pulumi stack export` shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configtrail import estate as estate_module
from configtrail.bootstrap import program
from configtrail.bootstrap import settings as settings_module
from configtrail.bootstrap.settings import AccountBootstrap
from configtrail.plan import export, runner
from configtrail.plan.capture import CapturedResource


@dataclass
class BootstrapPlan:
    stack: str
    account: AccountBootstrap
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def by_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]


def run_account(account: AccountBootstrap) -> BootstrapPlan:
    """Register one account's bootstrap program against the mocks (in that account)."""
    resources, outputs = runner.register(
        lambda: program.build(account),
        project=program.PROJECT,
        stack=account.stack_name,
        config={},
        home_region=account.region,
        account_id=account.account_id,
        preview=False,
    )
    return BootstrapPlan(account.stack_name, account, resources, outputs)


def run_all(
    settings_file: Path = settings_module.SETTINGS_FILE,
    environments: Path = estate_module.ENVIRONMENTS,
) -> list[BootstrapPlan]:
    """Every account's plan, after validating the settings file and the estate together."""
    found = settings_module.load_accounts(settings_file, environments)
    return [run_account(account) for account in found.values()]


def run(
    account_id: str,
    settings_file: Path = settings_module.SETTINGS_FILE,
    environments: Path = estate_module.ENVIRONMENTS,
) -> BootstrapPlan:
    found = settings_module.load_accounts(settings_file, environments)
    return run_account(settings_module.account_of_stack(f"account-{account_id}", found))


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
