"""The Pulumi project file and the real program entry point."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config

from configtrail.plan.capture import CapturingMonitor
from configtrail.plan.mocks import AwsLikeMocks
from configtrail.settings import Settings, read_stack_file
from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "infra" / "Pulumi.yaml").read_text())


def test_project_uses_the_environments_dir_and_the_repository_venv():
    assert PROJECT["name"] == "configtrail"
    assert PROJECT["stackConfigDir"] == "../environments"
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "../.venv"},
    }


def test_typed_config_block_declares_exactly_the_required_settings():
    """The CLI refuses a stack file without a declared key that has no default, and copies a
    declared default into every stack's config — which would give every kind the keys of the
    others. So the block declares the required keys only, typed, without defaults."""
    declared = PROJECT["config"]
    required = {
        f"configtrail:{f.alias}"
        for name, f in Settings.model_fields.items()
        if name != "home_region" and f.is_required()
    }
    assert set(declared) == required == {"configtrail:accountId", "configtrail:stackKind"}
    for schema in declared.values():
        assert schema["type"] == "string" and "default" not in schema and schema["description"]


@pytest.mark.parametrize("env", STACKS)
def test_stack_files_set_only_declared_or_known_keys(env):
    config = read_stack_file(ROOT / "environments" / f"Pulumi.{env}.yaml")
    fields = {f.alias for n, f in Settings.model_fields.items() if n != "home_region"}
    for key in config:
        namespace, _, name = key.partition(":")
        assert (namespace, name) == ("aws", "region") or (
            namespace == "configtrail" and name in fields
        ), key


def _run_entry_point(env: str, config: dict, caller_account: str | None = None) -> CapturingMonitor:
    """Run infra/__main__.py as the Python language host would, under the mock runtime (the
    mocks stand in for the AWS provider; `caller_account` for the credentials' account)."""
    mocks = AwsLikeMocks(
        home_region=config["aws:region"],
        account_id=caller_account or str(config["configtrail:accountId"]),
    )
    monitor = CapturingMonitor(mocks)
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    pulumi_mocks.set_mocks(mocks, project="configtrail", stack=env, monitor=monitor)

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(ROOT / "infra" / "__main__.py"))

    program()
    return monitor


def _stack_config(env: str) -> dict:
    return read_stack_file(ROOT / "environments" / f"Pulumi.{env}.yaml")


def test_entry_point_reads_engine_config_and_registers_the_stack():
    monitor = _run_entry_point("ml-prod", _stack_config("ml-prod"))
    types = [r.type for r in monitor.captured]
    assert types.count("aws:cfg/recorderStatus:RecorderStatus") == 3
    assert "aws:kms/key:Key" in types


def test_a_qualified_stack_name_uses_its_stack_file():
    monitor = _run_entry_point("acme/configtrail/aggregator", _stack_config("aggregator"))
    types = [r.type for r in monitor.captured]
    assert "aws:cfg/configurationAggregator:ConfigurationAggregator" in types


def test_entry_point_names_the_stack_file_on_bad_config():
    config = _stack_config("trial")
    config["configtrail:retentionDays"] = 9
    with pytest.raises(pulumi.RunError) as error:
        _run_entry_point("trial", config)
    assert str(error.value) == (
        "environments/Pulumi.trial.yaml: configtrail:retentionDays = 9: "
        "must be between 30 and 2557 days"
    )


def test_entry_point_refuses_engine_config_that_differs_from_the_stack_file():
    config = {**_stack_config("trial"), "configtrail:retentionDays": 400}
    with pytest.raises(pulumi.RunError, match="differs from the stack file"):
        _run_entry_point("trial", config)


def test_entry_point_refuses_a_stack_without_a_stack_file():
    with pytest.raises(pulumi.RunError, match=r"no stack file environments/Pulumi\.qa\.yaml"):
        _run_entry_point("qa", _stack_config("trial"))


def test_credentials_of_another_account_register_nothing_but_the_provider():
    """The caller's account (the mocks' getCallerIdentity stands in for STS) differs from the
    stack's accountId: the program stops before registering any AWS resource, and says whose
    credentials they are."""
    with pytest.raises(pulumi.RunError) as error:
        _run_entry_point("ml-dev", _stack_config("ml-dev"), caller_account="999999999999")
    message = str(error.value)
    assert "configtrail:accountId is 333333333333" in message
    assert "belong to account 999999999999" in message
    assert "environments/Pulumi.ml-dev.yaml" in message


def test_the_account_check_runs_before_any_resource(monkeypatch):
    """Prove the order: nothing but the provider is registered when the account differs."""
    captured = []
    real = CapturingMonitor.RegisterResource

    def spy(self, request):
        captured.append(request.type)
        return real(self, request)

    monkeypatch.setattr(CapturingMonitor, "RegisterResource", spy)
    with pytest.raises(pulumi.RunError):
        _run_entry_point("ml-dev", _stack_config("ml-dev"), caller_account="999999999999")
    assert captured == ["pulumi:providers:aws"]
