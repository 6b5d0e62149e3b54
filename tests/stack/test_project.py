"""The Pulumi project file and the real program entry point."""

from __future__ import annotations

import json
import runpy
import typing
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from configtrail.plan.capture import CapturingMonitor
from configtrail.plan.mocks import AwsLikeMocks
from configtrail.settings import Settings, SettingsError, read_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "infra" / "Pulumi.yaml").read_text())


def test_project_uses_the_environments_dir_and_the_repository_venv():
    assert PROJECT["name"] == "configtrail"
    assert PROJECT["stackConfigDir"] == "../environments"
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "../.venv"},
    }


def test_typed_config_block_matches_the_settings_model():
    """Every declared key exists in Settings with the same default; the only keys left out are
    the object-valued and nullable ones that Pulumi's config schema cannot type."""
    declared = PROJECT["config"]
    fields = {f.alias: f for name, f in Settings.model_fields.items() if name != "home_region"}
    for full_key, schema in declared.items():
        namespace, key = full_key.split(":")
        assert namespace == "configtrail" and key in fields, full_key
        assert schema["default"] == fields[key].get_default(call_default_factory=True), full_key
        assert schema["description"]
        python_type = {"string": str, "integer": int, "boolean": bool, "array": list}
        assert isinstance(schema["default"], python_type[schema["type"]]), full_key
    undeclared = {key for key in fields if f"configtrail:{key}" not in declared}
    untypable = {
        key
        for key, f in fields.items()
        if type(None) in typing.get_args(f.annotation) or key == "tags"
    }
    assert undeclared == untypable


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_stack_files_set_only_declared_or_known_keys(env):
    config = read_stack_file(ROOT / "environments" / f"Pulumi.{env}.yaml")
    fields = {f.alias for n, f in Settings.model_fields.items() if n != "home_region"}
    for key in config:
        namespace, _, name = key.partition(":")
        assert (namespace, name) == ("aws", "region") or (
            namespace == "configtrail" and name in fields
        ), key


def _run_entry_point(env: str, config: dict) -> CapturingMonitor:
    """Run infra/__main__.py as the Python language host would, under the mock runtime."""
    mocks = AwsLikeMocks(home_region=config["aws:region"])
    monitor = CapturingMonitor(mocks)
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    pulumi_mocks.set_mocks(mocks, project="configtrail", stack=env, monitor=monitor)
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"))))
    return monitor


def test_entry_point_reads_engine_config_and_registers_the_stack():
    config = read_stack_file(ROOT / "environments" / "Pulumi.staging.yaml")
    monitor = _run_entry_point("staging", config)
    types = [r.type for r in monitor.captured]
    assert types.count("aws:cfg/recorderStatus:RecorderStatus") == 2
    assert "aws:kms/key:Key" in types


def test_entry_point_names_the_stack_file_on_bad_config():
    config = read_stack_file(ROOT / "environments" / "Pulumi.dev.yaml")
    config["configtrail:retentionDays"] = 9
    with pytest.raises(SettingsError) as error:
        _run_entry_point("dev", config)
    assert error.value.problems == [
        "environments/Pulumi.dev.yaml: configtrail:retentionDays = 9: "
        "must be between 30 and 2557 days"
    ]


def test_the_plan_restores_the_sdk_source_position_hook(plan_of):
    """The offline plan skips the SDK's stack walk only while it registers resources."""
    from pulumi.runtime import resource as sdk_resource

    before = sdk_resource._get_stack_trace
    from configtrail.plan import runner

    runner.run("dev")
    assert sdk_resource._get_stack_trace is before
    assert before is not sdk_resource.source_pb2.StackTrace
