"""Conventions of the pack ("common" tests): unique names of the agreed shape, descriptions that
are sentences, enforcement levels as intended, config schemas whose defaults validate, and the
pack's entry point never imported by a test (it would start a gRPC server and block)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import jsonschema
import yaml
from configtrail_policies import config as pack_config
from configtrail_policies.pack import VALIDATORS, policies
from configtrail_policies.rules import BY_NAME, RULES

from configtrail import catalog
from configtrail.policy import packconfig
from configtrail.policy.analyzer import POLICY_PACK_DIR
from tests.policies.conftest import ENVS, env_config

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^aws-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)*$")
ADVISORY_BY_DEFAULT = {"aws-cfg-recorder-churny-types-daily", "aws-taggable-resource-required-tags"}
# What dev weakens on purpose (environments/Pulumi.dev.yaml) and must see reported as advisory.
DEV_ADVISORY = {
    "aws-s3-bucket-protected",
    "aws-s3-bucket-default-encryption-kms",
    "aws-cfg-retentionconfiguration-minimum-days",
    "aws-cfg-recorder-continuous-recording",
    "aws-cfg-deliverychannel-delivery-frequency",
}


def test_names_are_unique_and_shaped():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(NAME.match(name) for name in names), [n for n in names if not NAME.match(n)]


def test_descriptions_are_sentences():
    for rule in RULES:
        assert rule.description[0].isupper() and rule.description.endswith("."), rule.name
        assert len(rule.description) <= 160, rule.name
        assert rule.remediation, rule.name


def test_every_rule_has_one_validator_and_policy():
    assert set(VALIDATORS) == set(BY_NAME)
    assert [p.name for p in policies()] == [r.name for r in RULES]
    assert set(pack_config.CONFIG_SCHEMAS) <= set(BY_NAME)


def test_levels_as_intended(pack):
    info = {p.name: packconfig.level_name(p.enforcementLevel) for p in pack.info().policies}
    assert info == {
        name: "advisory" if name in ADVISORY_BY_DEFAULT else "mandatory" for name in BY_NAME
    }


def test_config_defaults_validate_against_their_schemas():
    for name, properties in pack_config.CONFIG_SCHEMAS.items():
        schema = {"type": "object", "properties": properties}
        jsonschema.validate(pack_config.defaults(name), schema)
        assert set(pack_config.defaults(name)) == set(properties), name


def test_baseline_comes_from_the_catalog():
    baseline = set(
        pack_config.defaults("aws-cfg-recorder-recording-scope")["requiredResourceTypes"]
    )
    assert baseline == set(catalog.ai_systems_types()) - set(catalog.global_resource_types())
    assert "AWS::Config::ResourceCompliance" in baseline


def test_frequencies_match_botocore():
    assert tuple(pack_config.FREQUENCY_HOURS) == catalog.execution_frequencies()


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
        advisory = {n for n, level in levels[env].items() if level != "mandatory"}
        assert advisory == {"aws-cfg-recorder-churny-types-daily"}, env
    assert (
        env_config("prod")["aws-cfg-retentionconfiguration-minimum-days"]["minRetentionDays"]
        == 2557
    )


def test_requirements_pin_what_the_lock_pins():
    lock = {
        line.split("==")[0].lower().replace("_", "-"): line.strip()
        for line in (REPO / "requirements/main.lock").read_text().splitlines()
        if "==" in line
    }
    for line in (POLICY_PACK_DIR / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("==")[0].lower().replace("_", "-")
            assert lock[name].split("==")[1] == line.split("==")[1], line


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


def test_readme_lists_every_policy():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Policy pack", 1)[1].split("\n## ", 1)[0]
    for rule in RULES:
        assert f"`{rule.name}`" in section, rule.name


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
