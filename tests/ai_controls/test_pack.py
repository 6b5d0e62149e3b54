"""The AI workload pack (policies/ai-workloads/) is generated from the catalog — one policy per
control with a preventive side, and nothing else — installs from its own requirements.txt, and on
the example AI workload stack passes the compliant variant and blocks each broken one with that
control's policy alone. Verdicts come from the real pack in its own process over the Analyzer
gRPC protocol (policy runner); plans from the real example program through the mock runtime."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import yaml
from configtrail_ai_policies import catalog as pack_catalog
from configtrail_ai_policies import checks, pack
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from configtrail import ai_pack, controls

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = ai_pack.AI_PACK_DIR


def test_exactly_one_policy_per_preventive_control_and_vice_versa():
    policies = pack.policies()
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    preventive = {c.id: c for c in controls.controls() if c.preventive is not None}
    assert set(names) == set(preventive)
    for policy in policies:
        control = preventive[policy.name]
        assert policy.description == control.statement
        kind = (
            StackValidationPolicy
            if control.preventive.companion_type
            else (ResourceValidationPolicy)
        )
        assert isinstance(policy, kind), policy.name


def test_the_pack_reads_the_catalog_as_the_loader_does():
    assert (
        pack_catalog.CATALOG.resolve() == (REPO / "src/configtrail/data/ai_controls.yaml").resolve()
    )
    assert os.path.islink(pack_catalog.CATALOG)  # one file; `pulumi policy publish` follows it
    specs = {s.control_id: s for s in pack_catalog.specs()}
    for control in controls.controls():
        spec, preventive = specs[control.id], control.preventive
        assert (
            spec.resource,
            spec.check,
            spec.path,
            spec.categories,
            spec.input_only,
            spec.companion_type,
            spec.companion_link,
        ) == (
            preventive.resource,
            preventive.check,
            preventive.path,
            preventive.categories,
            preventive.input_only,
            preventive.companion_type,
            preventive.companion_link,
        )
        assert [(r.path, r.op, r.value, r.absent, r.has_absent) for r in spec.require] == [
            (r.path, r.op, r.value, r.absent, r.has_absent) for r in preventive.require
        ]
        assert {n: p["default"] for n, p in spec.parameters.items()} == {
            n: p.default for n, p in control.parameters.items()
        }


def test_pack_is_self_contained_and_main_only_builds_it():
    for path in (PACK_DIR / "configtrail_ai_policies").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any(
                    (m or "").startswith("configtrail.") or m == "configtrail" for m in modules
                ), path
    tree = ast.parse((PACK_DIR / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr)]
    assert len(calls) == 2 and calls[1].value.func.id == "PolicyPack"


def test_requirements_install_where_the_pack_is_published():
    lock = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1].strip()
        for line in (REPO / "requirements/main.lock").read_text().splitlines()
        if "==" in line
    }
    pins = [
        line
        for line in (PACK_DIR / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert {p.split("==")[0].lower().replace("_", "-") for p in pins} == {
        "pulumi",
        "pulumi-policy",
        "pyyaml",
    }
    for pin in pins:
        assert lock[pin.split("==")[0].lower().replace("_", "-")] == pin.split("==")[1], pin
    document = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert document["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_config_schema_carries_the_catalog_parameters():
    by_name = {p.name: p for p in pack.policies()}
    schema = by_name["bedrock-guardrail-content-filters"].config_schema.properties
    assert schema["allowed_strengths"]["default"] == ["HIGH"]
    assert schema["allowed_strengths"]["items"]["enum"] == ["LOW", "MEDIUM", "HIGH"]
    grounding = by_name["bedrock-guardrail-contextual-grounding"].config_schema.properties
    assert grounding["minimum_grounding_threshold"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 0.99,
        "default": 0.7,
        "description": "Lowest accepted GROUNDING filter threshold (0-0.99).",
    }


SPECS = {s.control_id: s for s in pack_catalog.specs()}


def test_absent_input_is_judged_by_the_provider_default():
    spec = SPECS["sagemaker-notebook-no-direct-internet"]
    assert pack.problems(spec, {}) == [
        "directInternetAccess is 'Enabled'; must be 'Disabled'"
    ]  # provider default: Enabled
    assert pack.problems(spec, {"directInternetAccess": "Disabled"}) == []


def test_every_item_of_a_list_path_must_pass():
    spec = SPECS["bedrock-agent-guardrail"]
    assert pack.problems(spec, {}) and pack.problems(spec, {"guardrailConfigurations": []})
    one = {"guardrailIdentifier": "abc", "guardrailVersion": "1"}
    assert pack.problems(spec, {"guardrailConfigurations": [one]}) == []
    half = {"guardrailIdentifier": "abc"}
    assert pack.problems(spec, {"guardrailConfigurations": [one, half]})
    assert checks.values_at({"a": [{"b": 1}, {"b": 2}]}, "a[*].b") == [1, 2]


def test_content_filter_strengths_come_from_policy_config():
    spec = SPECS["bedrock-guardrail-content-filters"]
    filters = [
        {"type": c, "inputStrength": "MEDIUM", "outputStrength": "MEDIUM"}
        for c in ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")
    ]
    filters.append({"type": "PROMPT_ATTACK", "inputStrength": "MEDIUM", "outputStrength": "NONE"})
    props = {"contentPolicyConfig": {"filtersConfigs": filters}}
    assert len(pack.problems(spec, props)) == 11  # 5 x in+out, PROMPT_ATTACK input only
    assert pack.problems(spec, props, {"allowed_strengths": ["MEDIUM", "HIGH"]}) == []


def test_knowledge_base_key_only_concerns_managed_knowledge_bases():
    spec = SPECS["bedrock-knowledge-base-customer-key"]
    assert pack.problems(spec, {"knowledgeBaseConfiguration": {"type": "VECTOR"}}) == []
    assert pack.problems(spec, {"knowledgeBaseConfiguration": {"type": "MANAGED"}})


@pytest.mark.slow
def test_example_variants_through_the_real_pack():
    verdicts = ai_pack.check()
    assert {v.variant for v in verdicts} == set(ai_pack.variants())
    assert set(ai_pack.variants()) == {"compliant"} | {c.id for c in controls.controls()}
    wrong = [(v.variant, v.kind, v.blocking) for v in verdicts if not v.ok]
    assert not wrong
    compliant = [v for v in verdicts if v.variant == "compliant"]
    assert compliant and all(v.report.passed and v.report.resources > 20 for v in compliant)
    blocked = [v for v in verdicts if v.variant != "compliant"]
    assert all(f.level == "mandatory" for v in blocked for f in v.report.findings)
    assert len(blocked) == 2 * (len(ai_pack.variants()) - 1)
