"""Run the program for one stack of the estate under Pulumi's mock runtime and return its
resource graph. The mocks are stand-ins for the AWS provider (configtrail/plan/mocks.py): they
fill in ids and ARNs the way AWS forms them and decide nothing about what AWS would accept."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config

from configtrail import estate as estate_module
from configtrail.estate import Estate, Stack
from configtrail.plan.capture import CapturedResource, CapturingMonitor, plain_value
from configtrail.plan.mocks import DEFAULT_ACCOUNT_ID, AwsLikeMocks
from configtrail.settings import Settings

PROJECT = "configtrail"
REPO_ROOT = estate_module.REPO_ROOT
ENVIRONMENTS = estate_module.ENVIRONMENTS


@dataclass
class Plan:
    """What one offline run registered."""

    env: str
    preview: bool
    stack: Stack
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    def by_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]


def run(
    env: str,
    preview: bool = False,
    directory: Path = ENVIRONMENTS,
    estate: Estate | None = None,
    caller_account: str | None = None,
) -> Plan:
    """Validate the estate, then register stack `env`'s program against the mocks.

    Raises SettingsError before anything is registered when any stack file is bad.
    `caller_account` stands in for the credentials' account (default: the stack's own).
    """
    from configtrail.stack import program

    estate = estate or estate_module.load(directory)
    stack = estate[env]
    resources, outputs = register(
        lambda: program.build(stack, estate),
        project=PROJECT,
        stack=env,
        config=stack.config,
        home_region=stack.home_region,
        account_id=caller_account or stack.account_id,
        preview=preview,
    )
    return Plan(env=env, preview=preview, stack=stack, resources=resources, outputs=outputs)


def register(
    build: Callable[[], dict[str, Any]],
    *,
    project: str,
    stack: str,
    config: dict[str, Any],
    home_region: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    preview: bool,
    mocks: pulumi.runtime.Mocks | None = None,
) -> tuple[list[CapturedResource], dict[str, Any]]:
    """Run `build` (which registers resources and returns the stack outputs) against the mocks.

    Shared by every Pulumi project in the repository (the stack and the bootstrap project), so
    their offline plans go through the same mock runtime and capture. Uses the SDK's public test
    entry point (`pulumi.runtime.test`), which waits for every registration to finish. `mocks`
    replaces the AWS-like mocks (e.g. a subclass that also answers for the example AI
    workload's types).
    """
    mocks = mocks or AwsLikeMocks(home_region=home_region, account_id=account_id, preview=preview)
    monitor = CapturingMonitor(mocks)
    # Every run is a program run of its own, as under the engine: without this, only the first
    # run in a process would register its root Stack (set_mocks makes one only when there is
    # none yet), and later runs would parent their resources to that earlier stack.
    pulumi.runtime.reset_options(project=project, stack=stack, preview=preview)
    # The engine hands structured config values to the program as JSON text.
    set_all_config({key: v if isinstance(v, str) else json.dumps(v) for key, v in config.items()})
    pulumi_mocks.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=preview,
        monitor=monitor,
        logger=logging.getLogger("configtrail.plan"),
    )
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program_body():
        exported = build()
        return pulumi.Output.from_input(exported).apply(outputs.update)

    program_body()
    return monitor.captured, plain_value(outputs)
