"""Compliance over time from AWS::Config::ResourceCompliance items, shaped as AWS Config delivers
them (the developer guide's "Viewing Compliance History Timeline for Resources" item, with
`configuration` as the object a delivered file holds): per resource and rule, the transitions and
the configuration change that caused each; the control table of the audit report."""

from __future__ import annotations

import json

import pytest

from tests.history import archive
from tests.history import real_archive as real
from tests.history.html_dom import parse

ISOLATION = "configtrail-sagemaker-model-isolation-enabled"
IN_VPC = "configtrail-sagemaker-model-in-vpc"


def resource_compliance(captured: str, rules: dict[str, str], target="churn-model") -> dict:
    """A ResourceCompliance item for the sample model, as a delivered history file holds it."""
    item = archive.item(
        "AWS::Config::ResourceCompliance",
        f"AWS::SageMaker::Model/{target}",
        captured,
        configuration={
            "complianceType": "NON_COMPLIANT" if "NON_COMPLIANT" in rules.values() else "COMPLIANT",
            "targetResourceId": target,
            "targetResourceType": "AWS::SageMaker::Model",
            "configRuleList": [
                {
                    "configRuleArn": f"arn:aws:config:us-east-1:{archive.ACCOUNT}:config-rule/"
                    f"config-rule-{index:06x}",
                    "configRuleId": f"config-rule-{index:06x}",
                    "configRuleName": name,
                    "complianceType": state,
                }
                for index, (name, state) in enumerate(sorted(rules.items()), start=1)
            ],
        },
        relationships=[
            {
                "resourceId": target,
                "resourceName": None,
                "resourceType": "AWS::SageMaker::Model",
                "name": "Is associated with ",
            }
        ],
        arn=None,
    )
    item["ARN"] = None
    item["resourceName"] = None
    item["availabilityZone"] = "Not Applicable"
    return item


# The model is created without network isolation (March 1st), isolated on March 2nd (M2), and a
# rule change on March 3rd turns the VPC verdict without any change to the model.
C1 = resource_compliance(
    "2025-03-01T10:02:00", {ISOLATION: "NON_COMPLIANT", IN_VPC: "NON_COMPLIANT"}
)
C2 = resource_compliance("2025-03-02T09:03:00", {ISOLATION: "COMPLIANT", IN_VPC: "NON_COMPLIANT"})
C3 = resource_compliance("2025-03-03T06:00:00", {ISOLATION: "COMPLIANT", IN_VPC: "COMPLIANT"})


@pytest.fixture
def compliance_dir(tmp_path):
    files = {
        **archive.good_files(),
        **dict(
            [
                archive.history(
                    archive.HOME,
                    "AWS::Config::ResourceCompliance",
                    "2025-03-01T06:00:00",
                    "2025-03-03T12:00:00",
                    [C3, C1, C2],
                )
            ]
        ),
    }
    archive.write_dir(tmp_path, files)
    return tmp_path


def report(run_cli, root, *args) -> dict:
    code, out, err = run_cli("--source", str(root), "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)["compliance"]


def test_transitions_per_rule_with_the_change_that_caused_them(run_cli, compliance_dir):
    compliance = report(run_cli, compliance_dir)
    [model] = compliance["resources"]
    assert (model["resourceType"], model["resourceId"]) == ("AWS::SageMaker::Model", "churn-model")
    assert model["now"] == {ISOLATION: "COMPLIANT", IN_VPC: "COMPLIANT"}
    isolation, vpc = model["transitions"]
    assert (isolation["rule"], isolation["before"], isolation["after"]) == (
        ISOLATION,
        "NON_COMPLIANT",
        "COMPLIANT",
    )
    assert isolation["time"] == "2025-03-02T09:03:00Z"
    # The model's change of 09:00 (network isolation switched on) preceded the verdict.
    assert isolation["cause"]["time"] == "2025-03-02T09:00:00Z"
    assert "configuration.EnableNetworkIsolation" in isolation["cause"]["fields"]
    # No change to the model since the previous evaluation: the rule changed, not the model.
    assert (vpc["rule"], vpc["after"], vpc["cause"]) == (IN_VPC, "COMPLIANT", None)


def test_control_table(run_cli, compliance_dir):
    controls = {c["rule"]: c for c in report(run_cli, compliance_dir)["controls"]}
    assert controls[ISOLATION] == {
        "rule": ISOLATION,
        "control": "SAGEMAKER_MODEL_ISOLATION_ENABLED: SageMaker models run with network "
        "isolation.",
        "resources": 1,
        "compliantNow": 1,
        "nonCompliantNow": 0,
        "changesInWindow": 1,
    }
    assert controls[IN_VPC]["changesInWindow"] == 1


def test_state_before_the_window_and_changes_inside_it(run_cli, compliance_dir):
    compliance = report(run_cli, compliance_dir, "--since", "2025-03-03")
    [model] = compliance["resources"]
    assert model["before"] == {ISOLATION: "COMPLIANT", IN_VPC: "NON_COMPLIANT"}
    assert [(t["rule"], t["after"]) for t in model["transitions"]] == [(IN_VPC, "COMPLIANT")]
    controls = {c["rule"]: c["changesInWindow"] for c in compliance["controls"]}
    assert controls == {ISOLATION: 0, IN_VPC: 1}


def test_html_has_the_control_table_and_each_resources_compliance(run_cli, compliance_dir):
    _, out, _ = run_cli("--source", str(compliance_dir), "--format", "html")
    dom = parse(out)
    summary = dom.find("section", id="summary")
    heading = summary.find("h3", id="controls")
    table = summary.find_all("table")[2]  # after the account and type tables
    assert heading.text() == "Controls"
    rows = [[td.text() for td in tr.find_all("td")] for tr in table.find("tbody").elements()]
    assert [
        ISOLATION,
        "SAGEMAKER_MODEL_ISOLATION_ENABLED: SageMaker models run with network isolation.",
        "1",
        "1 of 1",
        "1",
    ] in rows
    model = next(
        a for a in dom.find_all("article") if a.find("h4").find("code").text() == "churn-model"
    )
    block = model.find("div", cls="compliance")
    text = " ".join(block.text().split())
    assert (
        f"2025-03-02 09:03:00 UTC: {ISOLATION} NON_COMPLIANT -> COMPLIANT after the configuration "
        "change at 2025-03-02 09:00:00 UTC (changed: configuration.EnableNetworkIsolation"
    ) in text
    assert "no configuration change since the previous evaluation" in text


def test_markdown_and_table_show_the_controls(run_cli, compliance_dir):
    _, out, _ = run_cli("--source", str(compliance_dir), "--format", "markdown")
    assert "## Compliance" in out
    assert f"| {IN_VPC} | SAGEMAKER_MODEL_IN_VPC:" in out
    _, out, _ = run_cli("--source", str(compliance_dir), "--format", "table")
    assert "Compliance" in out and f"{IN_VPC} NON_COMPLIANT -> COMPLIANT" in out


def test_the_documented_item_exported_through_the_api(run_cli, tmp_path):
    """AWS's own ResourceCompliance example: epoch capture time, configuration as JSON text."""
    [item] = real.items("aws-docs-resource-compliance")
    files = dict(
        [
            real.history(
                "123456789012",
                "us-west-2",
                "AWS::Config::ResourceCompliance",
                real.at("2018-10-17T18:00:00Z"),
                real.at("2018-10-17T19:00:00Z"),
                [item],
            )
        ]
    )
    compliance = report(run_cli, real.write(tmp_path, files))
    [bucket] = compliance["resources"]
    assert (bucket["resourceType"], bucket["resourceId"]) == (
        "AWS::S3::Bucket",
        "configrules-bucket",
    )
    assert bucket["now"] == {"s3-bucket-logging-enabled": "COMPLIANT"}
    [control] = compliance["controls"]
    # The console's default name for the managed rule: the catalog knows which control it is.
    assert (control["rule"], control["control"], control["compliantNow"]) == (
        "s3-bucket-logging-enabled",
        "S3_BUCKET_LOGGING_ENABLED: S3 buckets log server access.",
        1,
    )
