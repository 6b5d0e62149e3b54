"""GuardRules registers one real pulumi-aws `aws.cfg.Rule` per Guard-enforced control, as the
Terraform provider's aws_config_config_rule expects a CUSTOM_POLICY rule (owner CUSTOM_POLICY,
custom_policy_details with policy_runtime / policy_text / enable_debug_log_delivery, change
notifications as source details, no source identifier) — through the repository's mock runtime
(`plan.runner.register`, AWS-like mocks: stand-ins that say nothing about AWS accepting it)."""

from __future__ import annotations

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest

from configtrail import controls
from configtrail.plan.runner import register
from configtrail.stack import guard_rules, names

CONFIG_MODEL = botocore.session.get_session().get_service_model("config")


def plan(selected, parameters=None, debug_logs=False, stack="ml-dev"):
    def build():
        provider = aws.Provider("aws", region="us-east-1")
        status = aws.cfg.RecorderStatus(
            "status",
            name="configtrail",
            is_enabled=True,
            opts=pulumi.ResourceOptions(provider=provider),
        )
        component = guard_rules.GuardRules(
            "guard-rules-us-west-2",
            guard_rules.GuardRulesArgs(
                stack=stack,
                region="us-west-2",
                controls=selected,
                parameters=parameters or {},
                debug_logs=debug_logs,
                after=[status],
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        return {"names": component.names}

    resources, outputs = register(
        build, project="configtrail", stack=stack, config={}, home_region="us-east-1", preview=False
    )
    rules = [r for r in resources if r.type == "aws:cfg/rule:Rule"]
    status_urn = next(r.urn for r in resources if r.type.endswith("RecorderStatus"))
    return rules, outputs, status_urn


def test_one_custom_policy_rule_per_guard_control():
    selected = controls.select(["bedrock", "sagemaker"])
    rules, outputs, status_urn = plan(selected)
    guard = [c for c in selected if c.detective.kind == "guard"]
    assert len(rules) == len(guard) == 4
    message_types = set(CONFIG_MODEL.shape_for("SourceDetail").members["MessageType"].enum)
    runtime_pattern = CONFIG_MODEL.shape_for("CustomPolicyDetails").members["PolicyRuntime"]
    by_name = {r.inputs["name"]: r for r in rules}  # registrations finish in any order
    assert set(by_name) == {names.rule_name("ml-dev", c.id) for c in guard}
    for control in guard:
        rule = by_name[names.rule_name("ml-dev", control.id)]
        inputs = rule.inputs
        assert inputs["name"].startswith("configtrail-ml-dev-")
        assert (
            len(inputs["name"])
            <= CONFIG_MODEL.shape_for("ConfigRule").members["ConfigRuleName"].metadata["max"]
        )
        source = inputs["source"]
        assert source["owner"] == "CUSTOM_POLICY" and "sourceIdentifier" not in source
        details = source["customPolicyDetails"]
        assert details["policyRuntime"] == "guard-2.x.x"
        assert runtime_pattern.metadata["pattern"] == "guard\\-2\\.x\\.x"
        assert details["policyText"] == controls.guard_policy_text(control)
        assert details["enableDebugLogDelivery"] is False
        kinds = [d["messageType"] for d in source["sourceDetails"]]
        assert kinds == [
            "ConfigurationItemChangeNotification",
            "OversizedConfigurationItemChangeNotification",
        ]
        assert set(kinds) <= message_types
        assert all(d["eventSource"] == "aws.config" for d in source["sourceDetails"])
        assert inputs["scope"]["complianceResourceTypes"] == list(control.resource_types)
        assert inputs["region"] == "us-west-2"
        assert "maximumExecutionFrequency" not in inputs  # change-triggered only
        assert status_urn in rule.dependencies
        assert "GuardRules" in rule.parent
    assert outputs["names"] == [names.rule_name("ml-dev", c.id) for c in guard]


def test_controls_without_a_guard_rule_are_skipped():
    rules, _, _ = plan(controls.select(["sagemaker", "data-stores"]))
    assert rules == []
    assert guard_rules.select(["sagemaker"]) == []
    assert [c.id for c in guard_rules.select(["bedrock-guardrail-customer-key"])] == [
        "bedrock-guardrail-customer-key"
    ]


def test_stack_parameters_reach_the_policy_text():
    selected = guard_rules.select(["bedrock-guardrail-content-filters"])
    rules, _, _ = plan(
        selected,
        {"bedrock-guardrail-content-filters": {"allowed_strengths": ["MEDIUM", "HIGH"]}},
        debug_logs=True,
    )
    details = rules[0].inputs["source"]["customPolicyDetails"]
    assert 'let allowed_strengths = ["MEDIUM", "HIGH"]' in details["policyText"]
    assert details["enableDebugLogDelivery"] is True


def test_bad_parameter_stops_before_anything_is_registered():
    with pytest.raises(controls.ControlCatalogError, match="allowed_strengths"):
        plan(
            guard_rules.select(["bedrock"]),
            {"bedrock-guardrail-content-filters": {"allowed_strengths": "HIGH"}},
        )


def test_two_stacks_in_one_account_get_distinct_rule_names():
    assert names.rule_name("org/configtrail/ml-dev", "x") == "configtrail-ml-dev-x"
    assert names.rule_name("ml-dev", "x") != names.rule_name("ml-prod", "x")
