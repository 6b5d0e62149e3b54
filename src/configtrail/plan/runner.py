"""Run the program for one environment under the mock runtime and return its resource graph."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from configtrail import settings as settings_module
from configtrail.plan.capture import CapturedResource, CapturingMonitor, _plain
from configtrail.plan.mocks import AwsLikeMocks
from configtrail.settings import Settings, SettingsError

PROJECT = "configtrail"
REPO_ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = REPO_ROOT / "environments"


@dataclass
class Plan:
    """What one offline run registered."""

    env: str
    preview: bool
    settings: Settings
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def by_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]


def environment_names(directory: Path = ENVIRONMENTS) -> list[str]:
    """Environments in promotion order where known (dev, staging, prod), then any others."""
    found = [p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml")]
    order = {"dev": 0, "staging": 1, "prod": 2}
    return sorted(found, key=lambda name: (order.get(name, 3), name))


def stack_path(env: str, directory: Path = ENVIRONMENTS) -> Path:
    return directory / f"Pulumi.{env}.yaml"


def load_settings(env: str, directory: Path = ENVIRONMENTS) -> tuple[Settings, dict[str, Any]]:
    """Validated settings and the raw stack config (as the engine would pass it)."""
    path = stack_path(env, directory)
    try:
        shown = path.relative_to(REPO_ROOT)
    except ValueError:
        shown = path
    raw = settings_module.read_stack_file(path)
    settings = settings_module.from_config(raw, str(shown))
    from configtrail.stack.program import stack_problems

    problems = stack_problems(settings, env, str(shown))
    if problems:
        raise SettingsError(problems)
    return settings, raw


def run(env: str, preview: bool = False, directory: Path = ENVIRONMENTS) -> Plan:
    """Validate the environment, then register the whole program against the mocks.

    Raises SettingsError before anything is registered when the settings are bad.
    """
    from configtrail.stack import program

    settings, raw = load_settings(env, directory)
    resources, outputs = register(
        lambda: program.build(settings, env),
        project=PROJECT,
        stack=env,
        config=raw,
        home_region=settings.home_region,
        preview=preview,
    )
    return Plan(
        env=env,
        preview=preview,
        settings=settings,
        resources=resources,
        outputs=outputs,
    )


def register(
    build: Callable[[], dict[str, Any]],
    *,
    project: str,
    stack: str,
    config: dict[str, Any],
    home_region: str,
    preview: bool,
    mocks: pulumi.runtime.Mocks | None = None,
) -> tuple[list[CapturedResource], dict[str, Any]]:
    """Run `build` (which registers resources and returns the stack outputs) against the mocks.

    Shared by every Pulumi project in the repository (the stack and the bootstrap project), so
    their offline plans go through the same mock runtime and capture. `mocks` replaces the
    AWS-like mocks (e.g. a subclass that also answers for the example AI workload's types).
    """
    mocks = mocks or AwsLikeMocks(home_region=home_region, preview=preview)
    monitor = CapturingMonitor(mocks)
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

    def program_body():
        exported = build()
        return pulumi.Output.from_input(exported).apply(outputs.update)

    with _without_source_positions():
        _sync_await(run_pulumi_func(lambda: _sync_await(program_body().future())))
    return monitor.captured, _plain(outputs)


@contextlib.contextmanager
def _without_source_positions():
    """Skip the SDK's per-resource stack walk while planning offline.

    The SDK walks the Python stack for every registration to send the engine a source position,
    which the engine uses only to point diagnostics at a line. The capture keeps no such field,
    and the walk is about a seventh of the plan's time. If the SDK renames the hook, nothing is
    patched and the plan is merely slower.
    """
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    empty = sdk_resource.source_pb2.StackTrace
    sdk_resource._get_stack_trace = empty
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original
