"""Choices a standalone stack can make beyond the shipped ones: adopting or skipping an existing
recorder, a custom recorder role, the existing service-linked role, expiry. Each runs the real
program through the offline plan (Pulumi mock runtime with AWS-like stand-in mocks), in an estate
of that one stack file."""

from __future__ import annotations

import json

import pytest
import yaml

from configtrail.plan import export, runner
from tests.stack.helpers import by_region, one, policy_document, statement

ACCOUNT_ID = "210987654321"
BASE = {
    "aws:region": "eu-west-1",
    "configtrail:accountId": ACCOUNT_ID,
    "configtrail:stackKind": "standalone",
    "configtrail:regions": ["eu-west-1", "eu-central-1"],
    "configtrail:rules": ["supporting"],
    "configtrail:tags": {
        "owner": "ml",
        "environment": "variant",
        "ai-system": "llm-gateway",
        "data-classification": "restricted",
    },
}


@pytest.fixture
def plan_with(tmp_path):
    def run(**overrides):
        config = {**BASE, **{f"configtrail:{k}": v for k, v in overrides.items()}}
        (tmp_path / "Pulumi.variant.yaml").write_text(yaml.safe_dump({"config": config}))
        return runner.run("variant", directory=tmp_path)

    return run


def test_adopting_an_existing_recorder_imports_recorder_channel_and_status(plan_with):
    plan = plan_with(
        existingRecorder="adopt",
        existingRecorderName="default",
        existingDeliveryChannelName="ct-channel",
    )
    for region in ("eu-west-1", "eu-central-1"):
        recorder = by_region(plan, "aws:cfg/recorder:Recorder")[region]
        channel = by_region(plan, "aws:cfg/deliveryChannel:DeliveryChannel")[region]
        status = by_region(plan, "aws:cfg/recorderStatus:RecorderStatus")[region]
        assert (recorder.import_id, recorder.inputs["name"]) == ("default", "default")
        assert (channel.import_id, channel.inputs["name"]) == ("ct-channel", "ct-channel")
        assert status.import_id == "default"
    preview = export.preview_json(plan)
    ops = {step["newState"]["type"]: step["op"] for step in preview["steps"]}
    assert ops["aws:cfg/recorder:Recorder"] == "import"
    assert ops["aws:s3/bucket:Bucket"] == "create"


def test_skipping_the_recorder_keeps_archive_retention_and_rules_only(plan_with):
    plan = plan_with(existingRecorder="skip")
    types = {r.type for r in plan.resources}
    for absent in (
        "aws:cfg/recorder:Recorder",
        "aws:cfg/deliveryChannel:DeliveryChannel",
        "aws:cfg/recorderStatus:RecorderStatus",
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
    ):
        assert absent not in types
    assert len(plan.by_type("aws:cfg/retentionConfiguration:RetentionConfiguration")) == 2
    assert plan.by_type("aws:cfg/rule:Rule")
    assert "recorderRoleArn" not in plan.outputs
    assert plan.outputs["recorderNames"] == {
        "eu-west-1": "configtrail-variant",
        "eu-central-1": "configtrail-variant",
    }


def test_custom_role_trusts_only_this_accounts_config_and_writes_only_the_prefix(plan_with):
    plan = plan_with(recorderRole="custom", archiveEncryption="kms", notifications=True)
    role = one(plan, "aws:iam/role:Role")
    trust = policy_document(role, "assumeRolePolicy")
    (grant,) = trust["Statement"]
    assert grant["Principal"] == {"Service": "config.amazonaws.com"}
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}}
    attachment = one(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    inline = policy_document(one(plan, "aws:iam/rolePolicy:RolePolicy"))
    bucket_arn = one(plan, "aws:s3/bucket:Bucket", "archive").outputs["arn"]
    deliver = statement(inline, "DeliverToArchive")
    assert deliver["Resource"] == f"{bucket_arn}/configtrail/AWSLogs/{ACCOUNT_ID}/Config/*"
    key_arn = by_region(plan, "aws:kms/key:Key")["eu-west-1"].outputs["arn"]
    assert statement(inline, "UseArchiveKey")["Resource"] == key_arn
    topics = sorted(t.outputs["arn"] for t in plan.by_type("aws:sns/topic:Topic"))
    assert statement(inline, "PublishNotifications")["Resource"] == topics
    role_arn = role.outputs["arn"]
    assert {r.inputs["roleArn"] for r in plan.by_type("aws:cfg/recorder:Recorder")} == {role_arn}
    assert not plan.by_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")


def test_existing_service_linked_role_is_referenced_not_created(plan_with):
    plan = plan_with(serviceLinkedRole="existing")
    assert not plan.by_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    expected = (
        f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/config.amazonaws.com/"
        "AWSServiceRoleForConfig"
    )
    assert {r.inputs["roleArn"] for r in plan.by_type("aws:cfg/recorder:Recorder")} == {expected}


def test_expiry_when_chosen_is_never_before_retention(plan_with):
    plan = plan_with(retentionDays=400, archiveExpirationDays=2000, archiveTransitionDays=None)
    lifecycle = one(
        plan,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "archive-lifecycle",
    )
    (rule,) = lifecycle.inputs["rules"]
    assert rule["expiration"] == {"days": 2000}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 2000}
    assert "transitions" not in rule


def test_extra_types_join_the_ai_profile_and_global_types_stay_home(plan_with):
    plan = plan_with(extraResourceTypes=["AWS::DynamoDB::Table", "AWS::IAM::User"])
    recorders = by_region(plan, "aws:cfg/recorder:Recorder")
    home = recorders["eu-west-1"].inputs["recordingGroup"]["resourceTypes"]
    other = recorders["eu-central-1"].inputs["recordingGroup"]["resourceTypes"]
    assert "AWS::DynamoDB::Table" in home and "AWS::DynamoDB::Table" in other
    assert "AWS::IAM::User" in home and "AWS::IAM::User" not in other
    assert "AWS::IAM::Role" in home and "AWS::IAM::Role" not in other


def test_stack_export_has_the_shape_of_pulumi_stack_export(plan_with):
    plan = plan_with()
    document = json.loads(json.dumps(export.stack_export(plan)))
    assert document["version"] == 3
    resources = document["deployment"]["resources"]
    stack = resources[0]
    assert stack["type"] == "pulumi:pulumi:Stack"
    assert (
        stack["urn"] == "urn:pulumi:variant::configtrail::pulumi:pulumi:Stack::configtrail-variant"
    )
    assert stack["outputs"]["archiveBucketName"].startswith("configtrail-variant-archive-")
    bucket = next(
        r
        for r in resources
        if r["type"] == "aws:s3/bucket:Bucket" and r["urn"].endswith("::archive")
    )
    assert bucket["urn"] == (
        "urn:pulumi:variant::configtrail::configtrail:archive:ArchiveBucket$aws:s3/bucket:Bucket"
        "::archive"
    )
    assert bucket["parent"].endswith("::configtrail:archive:ArchiveBucket::archive")
    assert bucket["protect"] is True and bucket["retainOnDelete"] is True
    assert bucket["id"] == bucket["inputs"]["bucket"]
    assert bucket["provider"].startswith("urn:pulumi:variant::configtrail::pulumi:providers:aws")
    component = next(r for r in resources if r["urn"] == bucket["parent"])
    assert component["custom"] is False and component["parent"] == stack["urn"]
    channel = next(r for r in resources if r["type"] == "aws:cfg/deliveryChannel:DeliveryChannel")
    assert any(u.endswith("::archive-policy") for u in channel["dependencies"])
    assert channel["propertyDependencies"]["s3BucketName"] == [bucket["urn"]]


def test_access_logs_can_be_turned_off(plan_with):
    plan = plan_with(accessLogs=False)
    assert not plan.by_type("aws:s3/bucketLogging:BucketLogging")
    assert [b.name for b in plan.by_type("aws:s3/bucket:Bucket")] == ["archive"]
    assert "accessLogBuckets" not in plan.outputs


def test_exports_are_deterministic_and_in_dependency_order(plan_with):
    first = export.stack_export(plan_with())["deployment"]["resources"]
    second = export.stack_export(plan_with())["deployment"]["resources"]
    assert [s["urn"] for s in first] == [s["urn"] for s in second]
    seen: set[str] = set()
    for state in first:
        required = [*state.get("dependencies", [])]
        if state.get("parent"):
            required.append(state["parent"])
        if state.get("provider"):
            required.append(state["provider"].rsplit("::", 1)[0])
        missing = [urn for urn in required if urn not in seen]
        assert not missing, f"{state['urn']} comes before {missing}"
        seen.add(state["urn"])


def test_every_run_in_one_process_is_a_program_run_of_its_own(plan_with):
    """Pulumi's mock runtime makes a root Stack only when there is none yet, so without a reset
    the first plan of a test process had one and every later plan was parented to that earlier
    stack: a test's outcome depended on which tests ran before it in its worker."""
    first, second = plan_with(), plan_with(regions=["eu-west-1"])
    for plan in (first, second):
        [stack] = [r for r in plan.resources if r.type == "pulumi:pulumi:Stack"]
        assert stack.urn.endswith("::pulumi:pulumi:Stack::configtrail-variant")
        parents = {r.parent for r in plan.resources if "::pulumi:pulumi:Stack::" in r.parent}
        assert parents == {stack.urn}
