"""Conventions of the pack ("common" tests): one definition per policy with unique names of the
agreed shape, descriptions that are sentences, enforcement levels as intended, config schemas
whose defaults validate, the README table rendered from the definitions, and the pack's entry
point never imported by a test (it would start a gRPC server and block)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from configtrail_policies import data, definition, table
from configtrail_policies.pack import definitions, policies
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from configtrail import catalog
from configtrail.policy import packconfig, stack_config
from configtrail.policy.analyzer import POLICY_PACK_DIR
from tests.policies.conftest import ENVS, env_config

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^aws-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)*$")
ADVISORY_BY_DEFAULT = {"aws-cfg-recorder-churny-types-daily"}
# What dev weakens on purpose (environments/Pulumi.dev.yaml) and must see reported as advisory.
DEV_ADVISORY = {
    "aws-s3-bucket-protected",
    "aws-s3-bucket-default-encryption-kms",
    "aws-cfg-retentionconfiguration-minimum-days",
    "aws-cfg-recorder-continuous-recording",
    "aws-cfg-deliverychannel-delivery-frequency",
}
BY_NAME = {d.name: d for d in definitions()}


def test_names_are_unique_and_shaped():
    names = [d.name for d in definitions()]
    assert len(names) == len(set(names))
    assert all(NAME.match(name) for name in names), [n for n in names if not NAME.match(n)]


def test_a_second_definition_of_a_name_is_refused():
    first = definitions()[0]
    with pytest.raises(ValueError, match="defined twice"):
        definition.resource_policy(
            name=first.name,
            description="Again.",
            severity="low",
            unknowns=definition.NOT_AFFECTED,
            remediation="None.",
        )(lambda args, report, settings: None)


def test_definitions_are_checked():
    with pytest.raises(ValueError, match="severity 'huge'"):
        definition.Definition(
            name="aws-x-y-z",
            kind=definition.RESOURCE,
            description="X.",
            severity="huge",
            unknowns=definition.WAIT,
            remediation="Y.",
            validate=lambda *a: None,
            config={"k": {"type": "integer"}},
        )


def test_descriptions_are_sentences():
    for d in definitions():
        assert d.description[0].isupper() and d.description.endswith("."), d.name
        assert len(d.description) <= 160, d.name
        assert d.remediation, d.name


def test_every_definition_is_one_sdk_policy_with_its_metadata():
    built = policies()
    assert [p.name for p in built] == [d.name for d in definitions()]
    for d, policy in zip(definitions(), built, strict=True):
        expected = (
            ResourceValidationPolicy if d.kind == definition.RESOURCE else StackValidationPolicy
        )
        assert type(policy) is expected, d.name
        assert policy.description == d.description
        assert policy.enforcement_level.value == d.level
        assert policy.severity.value == d.severity
        assert (policy.config_schema.properties if policy.config_schema else {}) == dict(d.config)
        assert f"unknowns:{d.unknowns}" in policy.tags
        scope = sorted(t.removeprefix("resource-type:") for t in policy.tags if "type:" in t)
        assert scope == sorted(d.types or ()), d.name


def test_levels_as_intended(pack):
    info = {p.name: packconfig.level_name(p.enforcementLevel) for p in pack.info().policies}
    assert info == {
        name: "advisory" if name in ADVISORY_BY_DEFAULT else "mandatory" for name in BY_NAME
    }


def test_config_defaults_validate_against_their_schemas():
    for d in definitions():
        schema = {"type": "object", "properties": dict(d.config)}
        jsonschema.validate(d.defaults(), schema)
        assert set(d.defaults()) == set(d.config), d.name


def test_settings_overlay_defaults_and_restore_whole_numbers():
    d = BY_NAME["aws-cfg-retentionconfiguration-minimum-days"]
    assert d.settings(None) == {"minRetentionDays": 365}
    assert d.settings({"minRetentionDays": 2557.0}) == {"minRetentionDays": 2557}
    assert type(d.settings({"minRetentionDays": 2557.0})["minRetentionDays"]) is int


def test_vendored_catalog_equals_the_repository_catalog():
    assert set(data.baseline_types()) == set(catalog.ai_systems_types()) - set(
        catalog.global_resource_types()
    )
    assert "AWS::Config::ResourceCompliance" in data.baseline_types()
    assert set(data.global_resource_types()) == set(catalog.global_resource_types())
    assert set(data.churny_resource_types()) == set(catalog.churny_resource_types())
    baseline = BY_NAME["aws-cfg-recorder-recording-scope"].defaults()["requiredResourceTypes"]
    assert baseline == sorted(data.baseline_types())


def test_frequencies_match_botocore():
    assert tuple(data.FREQUENCY_HOURS) == catalog.execution_frequencies()


def test_derived_stack_configs_reconcile_and_choose_levels(pack):
    """The configs derived from the test stacks' files are valid for the pack, and turn exactly
    the stacks' deliberately weaker choices into advisory policies."""
    info = pack.info()
    levels = {}
    for env in ENVS:
        settings = packconfig.reconcile(info, env_config(env), f"derived config of {env}")
        levels[env] = {name: s.level for name, s in settings.items()}
    dev_advisory = {n for n, level in levels["dev"].items() if level == "advisory"}
    # dev keeps a month of history: the lifecycle's minimum is the secure year, advisory.
    assert dev_advisory == DEV_ADVISORY | {
        "aws-cfg-recorder-churny-types-daily",
        "aws-s3-bucket-lifecycle-keeps-history",
    }
    for env in ("staging", "prod"):
        advisory = {n for n, level in levels[env].items() if level == "advisory"}
        assert advisory == {"aws-cfg-recorder-churny-types-daily"}, env
    # The vault policies judge only a stack with a vault (prod has one, staging none).
    disabled = {env: {n for n, level in levels[env].items() if level == "disabled"} for env in ENVS}
    assert disabled["prod"] == set()
    assert disabled["staging"] == set(stack_config.VAULT_POLICIES)
    assert (
        env_config("prod")["aws-cfg-retentionconfiguration-minimum-days"]["minRetentionDays"]
        == 2557
    )


def test_pulumi_policy_yaml():
    document = yaml.safe_load((POLICY_PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert document["runtime"]["name"] == "python"
    assert document["runtime"]["options"]["virtualenv"] == "../.venv"
    assert (POLICY_PACK_DIR / document["runtime"]["options"]["virtualenv"]).resolve() == (
        REPO / ".venv"
    ).resolve()
    assert document["version"] and document["description"]


def test_main_only_builds_the_pack_and_is_never_imported():
    tree = ast.parse((POLICY_PACK_DIR / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr)]
    assert len(calls) == 2 and isinstance(calls[1].value, ast.Call)  # docstring, PolicyPack()
    assert calls[1].value.func.id == "PolicyPack"
    assert {k.arg: ast.unparse(k.value) for k in calls[1].value.keywords} == {
        "name": "PACK_NAME",
        "policies": "policies()",
        "enforcement_level": "PACK_ENFORCEMENT_LEVEL",
        "description": "PACK_DESCRIPTION",
    }
    entry = str((POLICY_PACK_DIR / "__main__.py").resolve())
    loaded = [
        m for m in list(sys.modules.values()) if str(getattr(m, "__file__", "") or "") == entry
    ]
    assert not loaded
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any(m.endswith("__main__") for m in modules), path
            if isinstance(node, ast.Call):  # runpy.run_path / run_module would run it too
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert called not in ("run_path", "run_module") or "policies" not in ast.unparse(
                    node
                ), path


def test_readme_table_is_the_definitions():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Policy pack", 1)[1].split("\n## ", 1)[0]
    assert table.markdown() in section, (
        "run: python -m configtrail_policies.table --update README.md"
    )
    for d in definitions():
        assert f"`{d.name}`" in table.markdown()


def test_every_stack_of_the_estate_gets_a_derived_config_the_pack_accepts(pack):
    """No stack needs a hand-written policy config: one is derived from every stack file."""
    from configtrail.policy import stack_config
    from tests.conftest import ESTATE

    info = pack.info()
    for name, stack in ESTATE.stacks.items():
        config = stack_config.policy_config(stack, ESTATE)
        packconfig.reconcile(info, config, f"derived config of {name}")
        assert config["all"] == "mandatory", name
    assert not (POLICY_PACK_DIR / "config").exists(), "policy configs are derived, not kept"
