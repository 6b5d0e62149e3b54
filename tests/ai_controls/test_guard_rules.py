"""Every Guard rule of the AI control catalog, run by the real Guard engine (`cfn-guard-rs`, the
CloudFormation Guard library from PyPI) on configuration items shaped as AWS Config delivers them
(tests/ai_controls/items.py), whose `configuration` is first validated against the type's
CloudFormation schema. The rule text is exactly what the stack deploys
(`controls.guard_policy_text`), with the catalog's parameters or a stack's overrides."""

from __future__ import annotations

import copy

import botocore.session
import cfn_guard_rs
import pytest

from configtrail import controls
from tests.ai_controls import items

GUARD_CONTROLS = [c for c in controls.controls() if c.detective.kind == "guard"]


def verdict(control_id: str, ci: dict, overrides: dict | None = None) -> tuple[str, set[str]]:
    """(file status PASS/FAIL/SKIP, names of failed rules) as Config would get them."""
    if ci.get("configuration") is not None:
        items.assert_real_configuration(ci)
    text = controls.guard_policy_text(controls.by_id()[control_id], overrides)
    report = cfn_guard_rs.run_checks(ci, text)
    return report.status, {c.Rule.name for c in report.not_compliant}


def test_every_guard_control_is_tested_here():
    tested = {
        "bedrock-guardrail-content-filters",
        "bedrock-guardrail-contextual-grounding",
        "bedrock-guardrail-customer-key",
        "bedrock-knowledge-base-customer-key",
    }
    assert {c.id for c in GUARD_CONTROLS} == tested


@pytest.mark.parametrize("control", GUARD_CONTROLS, ids=lambda c: c.id)
def test_rendered_rule_fits_config_and_guard_2(control):
    limit = (
        botocore.session.get_session()
        .get_service_model("config")
        .shape_for("CustomPolicyDetails")
        .members["PolicyText"]
        .metadata["max"]
    )
    text = controls.guard_policy_text(control)
    assert 0 < len(text) <= limit
    assert not [f for f in controls.GUARD3_FUNCTIONS if f in text]


@pytest.mark.parametrize("control", GUARD_CONTROLS, ids=lambda c: c.id)
def test_other_types_and_deleted_items_are_not_applicable(control):
    bucket = items.item("AWS::S3::Bucket", "data", {"BucketName": "data"})
    assert verdict(control.id, bucket)[0] == "SKIP"
    deleted = copy.deepcopy(
        items.guardrail() if "guardrail" in control.id else items.knowledge_base()
    )
    deleted["configurationItemStatus"] = "ResourceDeleted"
    deleted["configuration"] = None
    assert verdict(control.id, deleted)[0] == "SKIP"


# --- bedrock-guardrail-content-filters ---------------------------------------------------------

CONTENT = "bedrock-guardrail-content-filters"


def test_content_filters_compliant_guardrail_passes():
    assert verdict(CONTENT, items.guardrail()) == ("PASS", set())


@pytest.mark.parametrize("category", [*items.CATEGORIES, "PROMPT_ATTACK"])
def test_content_filters_missing_category_fails(category):
    ci = items.guardrail()
    filters = ci["configuration"]["ContentPolicyConfig"]["FiltersConfig"]
    ci["configuration"]["ContentPolicyConfig"]["FiltersConfig"] = [
        f for f in filters if f["Type"] != category
    ]
    assert verdict(CONTENT, ci) == ("FAIL", {f"bedrock_guardrail_filter_{category.lower()}"})


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"InputStrength": "MEDIUM"}, "input below HIGH"),
        ({"OutputStrength": "LOW"}, "output below HIGH"),
        ({"InputEnabled": False}, "switched off for input"),
        ({"OutputEnabled": False}, "switched off for output"),
        ({"InputAction": "NONE"}, "detect-only input"),
        ({"OutputAction": "NONE"}, "detect-only output"),
    ],
)
def test_content_filters_weak_filter_fails(fields, why):
    assert verdict(CONTENT, items.with_filter(items.guardrail(), "VIOLENCE", **fields)) == (
        "FAIL",
        {"bedrock_guardrail_filter_violence"},
    ), why


def test_content_filters_explicit_block_and_enabled_pass():
    ci = items.with_filter(
        items.guardrail(),
        "HATE",
        InputAction="BLOCK",
        OutputAction="BLOCK",
        InputEnabled=True,
        OutputEnabled=True,
    )
    assert verdict(CONTENT, ci) == ("PASS", set())


def test_prompt_attack_is_judged_on_input_only():
    # AWS requires PROMPT_ATTACK's output strength to be NONE; the rule must not fail it for that.
    ci = items.with_filter(items.guardrail(), "PROMPT_ATTACK", OutputStrength="NONE")
    assert verdict(CONTENT, ci)[0] == "PASS"
    weak = items.with_filter(items.guardrail(), "PROMPT_ATTACK", InputStrength="LOW")
    assert verdict(CONTENT, weak) == ("FAIL", {"bedrock_guardrail_filter_prompt_attack"})


def test_no_content_policy_fails_once():
    ci = items.guardrail()
    del ci["configuration"]["ContentPolicyConfig"]
    assert verdict(CONTENT, ci) == ("FAIL", {"bedrock_guardrail_content_policy"})


def test_a_stack_can_accept_medium_and_above():
    ci = items.with_filter(items.guardrail(), "INSULTS", InputStrength="MEDIUM")
    assert verdict(CONTENT, ci)[0] == "FAIL"
    assert verdict(CONTENT, ci, {"allowed_strengths": ["MEDIUM", "HIGH"]}) == ("PASS", set())
    low = items.with_filter(items.guardrail(), "INSULTS", InputStrength="LOW")
    assert verdict(CONTENT, low, {"allowed_strengths": ["MEDIUM", "HIGH"]})[0] == "FAIL"


# --- bedrock-guardrail-contextual-grounding ----------------------------------------------------

GROUNDING = "bedrock-guardrail-contextual-grounding"


def test_grounding_compliant_guardrail_passes():
    assert verdict(GROUNDING, items.guardrail()) == ("PASS", set())


@pytest.mark.parametrize("kind", ["GROUNDING", "RELEVANCE"])
def test_grounding_missing_or_weak_filter_fails(kind):
    rule = f"bedrock_guardrail_{kind.lower()}_filter"
    ci = items.guardrail()
    policy = ci["configuration"]["ContextualGroundingPolicyConfig"]
    policy["FiltersConfig"] = [f for f in policy["FiltersConfig"] if f["Type"] != kind]
    assert verdict(GROUNDING, ci) == ("FAIL", {rule})
    for change in ({"Threshold": 0.5}, {"Enabled": False}, {"Action": "NONE"}):
        ci = items.guardrail()
        for f in ci["configuration"]["ContextualGroundingPolicyConfig"]["FiltersConfig"]:
            if f["Type"] == kind:
                f.update(change)
        assert verdict(GROUNDING, ci) == ("FAIL", {rule}), change


def test_grounding_applies_only_to_guardrails_tagged_as_requiring_it():
    ci = items.guardrail()
    del ci["configuration"]["ContextualGroundingPolicyConfig"]
    assert verdict(GROUNDING, ci) == ("FAIL", {"bedrock_guardrail_grounding_policy"})
    for tags in ({}, {"owner": "ml-platform"}, {"ai-grounding-check": "optional"}):
        untagged = copy.deepcopy(ci)
        untagged["tags"] = tags
        assert verdict(GROUNDING, untagged)[0] == "SKIP", tags


def test_grounding_thresholds_and_tag_are_parameters():
    ci = items.guardrail()
    assert verdict(GROUNDING, ci, {"minimum_grounding_threshold": 0.9})[0] == "FAIL"
    ci["tags"] = {"rag": "yes"}
    assert verdict(GROUNDING, ci)[0] == "SKIP"
    del ci["configuration"]["ContextualGroundingPolicyConfig"]
    overrides = {"grounding_tag_key": "rag", "grounding_tag_value": "yes"}
    assert verdict(GROUNDING, ci, overrides)[0] == "FAIL"


# --- customer keys -----------------------------------------------------------------------------


def test_guardrail_customer_key():
    control = "bedrock-guardrail-customer-key"
    assert verdict(control, items.guardrail()) == ("PASS", set())
    ci = items.guardrail()
    del ci["configuration"]["KmsKeyArn"]
    assert verdict(control, ci) == ("FAIL", {"bedrock_guardrail_customer_key"})
    ci = items.guardrail(KmsKeyArn="")  # breaks the schema's pattern: engine only
    text = controls.guard_policy_text(controls.by_id()[control])
    assert cfn_guard_rs.run_checks(ci, text).status == "FAIL"


def test_managed_knowledge_base_customer_key():
    control = "bedrock-knowledge-base-customer-key"
    assert verdict(control, items.knowledge_base()) == ("PASS", set())
    assert verdict(control, items.knowledge_base(key=None)) == (
        "FAIL",
        {"bedrock_knowledge_base_customer_key"},
    )
    # A VECTOR knowledge base has no key of its own: not applicable, not compliant-by-accident.
    assert verdict(control, items.knowledge_base("VECTOR"))[0] == "SKIP"
