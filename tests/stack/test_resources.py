"""The resource graph each environment registers, read from the offline plan.

The plan runs the real program under Pulumi's mock runtime; the mocks (configtrail.plan.mocks) are
stand-ins that fill in ids and ARNs the way AWS forms them. Every assertion here reads the captured
registration requests directly (no check runs inside `.apply`, so none can silently not run).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from configtrail import catalog
from configtrail.plan.mocks import ACCOUNT_ID
from tests.stack.helpers import by_region, one, policy_document, statement

BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
STATUS = "aws:cfg/recorderStatus:RecorderStatus"
RETENTION = "aws:cfg/retentionConfiguration:RetentionConfiguration"
RULE = "aws:cfg/rule:Rule"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"

# the archive and its access-log bucket, each hardened; the archive logs into the other
COMMON = {
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 2,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 2,
    "aws:s3/bucketPolicy:BucketPolicy": 2,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 2,
    "aws:s3/bucketVersioning:BucketVersioning": 2,
    "aws:s3/bucketLogging:BucketLogging": 1,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": 1,
    "pulumi:providers:aws": 1,
}
EXPECTED_RESOURCE_SET = {
    "dev": {**COMMON, RECORDER: 1, CHANNEL: 1, STATUS: 1, RETENTION: 1, RULE: 14},
    "staging": {
        **COMMON,
        RECORDER: 2,
        CHANNEL: 2,
        STATUS: 2,
        RETENTION: 2,
        RULE: 57,
        KEY: 1,
        "aws:kms/alias:Alias": 1,
    },
    "prod": {
        **COMMON,
        RECORDER: 3,
        CHANNEL: 3,
        STATUS: 3,
        RETENTION: 3,
        RULE: 85,
        KEY: 3,
        "aws:kms/alias:Alias": 3,
        TOPIC: 3,
        "aws:sns/topicPolicy:TopicPolicy": 3,
        # the vault in us-west-2 (Object Lock, replication and its role, lifecycle) and a second
        # access-log bucket there: archive, log (us-east-1), vault, log (us-west-2)
        "aws:s3/bucket:Bucket": 4,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 4,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 4,
        "aws:s3/bucketPolicy:BucketPolicy": 4,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 4,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 4,
        "aws:s3/bucketVersioning:BucketVersioning": 4,
        "aws:s3/bucketLogging:BucketLogging": 2,
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": 1,
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig": 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
    },
}


@pytest.mark.parametrize("env", sorted(EXPECTED_RESOURCE_SET))
def test_each_environment_registers_its_resource_set(plan_of, env):
    plan = plan_of(env, False)
    registered = Counter(r.type for r in plan.resources if r.custom)
    assert dict(registered) == EXPECTED_RESOURCE_SET[env]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_archive_bucket_policy_lets_config_deliver_and_denies_plain_http(plan_of, env):
    plan = plan_of(env, False)
    bucket = one(plan, BUCKET, "archive")
    arn = bucket.outputs["arn"]
    document = policy_document(one(plan, POLICY, "archive-policy"))
    source_account = {"AWS:SourceAccount": ACCOUNT_ID}

    acl = statement(document, "AWSConfigBucketPermissionsCheck")
    assert (acl["Effect"], acl["Action"], acl["Resource"]) == ("Allow", "s3:GetBucketAcl", arn)
    assert acl["Principal"] == {"Service": "config.amazonaws.com"}
    assert acl["Condition"] == {"StringEquals": source_account}

    listing = statement(document, "AWSConfigBucketExistenceCheck")
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", arn)
    assert listing["Condition"] == {"StringEquals": source_account}

    delivery = statement(document, "AWSConfigBucketDelivery")
    prefix = plan.settings.key_prefix
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == f"{arn}/{prefix}/AWSLogs/{ACCOUNT_ID}/Config/*"
    assert delivery["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source_account}
    }

    deny = statement(document, "DenyInsecureTransport")
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(document["Statement"]) == 4


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_archive_bucket_is_hardened(plan_of, env):
    plan = plan_of(env, False)
    bucket = one(plan, BUCKET, "archive")
    name = bucket.inputs["bucket"]
    assert bucket.inputs["forceDestroy"] is False
    assert "objectLockEnabled" not in bucket.inputs  # AWS Config cannot deliver to Object Lock

    versioning = one(plan, "aws:s3/bucketVersioning:BucketVersioning", "archive-versioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    block = one(
        plan,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "archive-public-access-block",
    )
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[flag] is True for flag in flags)
    ownership = one(
        plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "archive-ownership"
    )
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    encryption = one(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "archive-encryption",
    )
    default = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    if plan.settings.archive_encryption == "kms":
        key_arn = by_region(plan, KEY)[plan.settings.home_region].outputs["arn"]
        assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    else:
        assert default == {"sseAlgorithm": "AES256"}
    for child in (versioning, block, ownership, encryption):
        assert child.inputs["bucket"] == name


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_lifecycle_never_expires_history_unless_asked(plan_of, env):
    plan = plan_of(env, False)
    lifecycles = plan.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert len(lifecycles) == len(plan.by_type(BUCKET)), "every history bucket has a lifecycle"
    for lifecycle in lifecycles:
        (rule,) = lifecycle.inputs["rules"]
        assert "expiration" not in rule and "noncurrentVersionExpiration" not in rule
        assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
        versioning = lifecycle.name.replace("-lifecycle", "-versioning")
        assert any(dep.endswith(f"::{versioning}") for dep in lifecycle.dependencies), (
            "lifecycle must wait for versioning"
        )


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("staging", True), ("prod", True)])
def test_history_is_protected_where_the_environment_does_not_opt_out(plan_of, env, protected):
    plan = plan_of(env, False)
    history = [r for r in plan.by_type(BUCKET)] + plan.by_type(KEY)
    assert history
    for resource in history:
        assert (resource.protect, resource.retain_on_delete) == (protected, protected), (
            resource.name
        )


def test_kms_key_rotates_and_lets_config_use_it(plan_of):
    plan = plan_of("staging", False)
    key = one(plan, KEY)
    assert key.inputs["enableKeyRotation"] is True
    document = policy_document(key)
    config = statement(document, "AWSConfigKMSPolicy")
    assert config["Principal"] == {"Service": "config.amazonaws.com"}
    assert sorted(config["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert config["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}}
    admin = statement(document, "EnableAccountAdministration")
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert key.inputs["region"] == "us-east-1"


def test_sns_topics_are_encrypted_and_only_config_may_publish(plan_of):
    plan = plan_of("prod", False)
    keys = by_region(plan, KEY)
    topics = by_region(plan, TOPIC)
    assert sorted(topics) == sorted(plan.settings.regions)
    policies = {r.inputs["region"]: r for r in plan.by_type("aws:sns/topicPolicy:TopicPolicy")}
    for region, topic in topics.items():
        assert topic.inputs["kmsMasterKeyId"] == keys[region].outputs["arn"]
        document = policy_document(policies[region])
        publish = statement(document, "AWSConfigSNSPolicy")
        assert publish["Principal"] == {"Service": "config.amazonaws.com"}
        assert publish["Action"] == "sns:Publish"
        assert publish["Resource"] == topic.outputs["arn"]
        assert publish["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_creation_order_recorder_channel_status_rules(plan_of, env):
    plan = plan_of(env, False)
    policy_urn = one(plan, POLICY, "archive-policy").urn
    recorders = by_region(plan, RECORDER)
    channels = by_region(plan, CHANNEL)
    statuses = by_region(plan, STATUS)
    rules = [r for r in plan.by_type(RULE)]
    checked = 0
    for region in plan.settings.regions:
        channel_deps = set(channels[region].dependencies)
        assert recorders[region].urn in channel_deps, "channel must wait for the recorder"
        assert policy_urn in channel_deps, "channel must wait for the bucket policy"
        assert channels[region].urn in statuses[region].dependencies, "start after the channel"
        assert statuses[region].inputs["isEnabled"] is True
        for rule in (r for r in rules if r.inputs["region"] == region):
            assert statuses[region].urn in rule.dependencies, rule.name
            checked += 1
    assert checked == len(rules) > 0


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_delivery_channel_targets_the_archive_by_name(plan_of, env):
    plan = plan_of(env, False)
    bucket = one(plan, BUCKET, "archive")
    for channel in plan.by_type(CHANNEL):
        assert channel.inputs["s3BucketName"] == bucket.inputs["bucket"]
        assert not channel.inputs["s3BucketName"].startswith("arn:")
        assert channel.inputs["s3KeyPrefix"] == plan.settings.key_prefix
        assert channel.inputs["snapshotDeliveryProperties"] == {
            "deliveryFrequency": plan.settings.delivery_frequency
        }
        if plan.settings.archive_encryption == "kms":
            home_key = by_region(plan, KEY)[plan.settings.home_region]
            assert channel.inputs["s3KmsKeyArn"] == home_key.outputs["arn"]
        else:
            assert "s3KmsKeyArn" not in channel.inputs


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_global_types_are_recorded_in_exactly_one_region(plan_of, env):
    plan = plan_of(env, False)
    global_types = set(catalog.global_resource_types())
    recording_global = []
    for region, recorder in by_region(plan, RECORDER).items():
        group = recorder.inputs["recordingGroup"]
        if group.get("allSupported"):
            if group["includeGlobalResourceTypes"]:
                recording_global.append(region)
        elif global_types & set(group["resourceTypes"]):
            assert group["includeGlobalResourceTypes"] is False
            recording_global.append(region)
    assert recording_global == [plan.settings.home_region]


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_ai_systems_recorders_list_types_and_keep_resource_compliance(plan_of, env):
    plan = plan_of(env, False)
    for recorder in plan.by_type(RECORDER):
        group = recorder.inputs["recordingGroup"]
        assert group["allSupported"] is False
        assert group["recordingStrategies"] == [{"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}]
        assert "AWS::Config::ResourceCompliance" in group["resourceTypes"]
        assert "AWS::SageMaker::Model" in group["resourceTypes"]
        assert "AWS::Bedrock::Guardrail" in group["resourceTypes"]


def test_recording_mode_records_churny_types_daily(plan_of):
    for env in ("staging", "prod"):
        for recorder in plan_of(env, False).by_type(RECORDER):
            mode = recorder.inputs["recordingMode"]
            assert mode["recordingFrequency"] == "CONTINUOUS"
            assert mode["recordingModeOverride"]["recordingFrequency"] == "DAILY"
            assert mode["recordingModeOverride"]["resourceTypes"] == ["AWS::EC2::NetworkInterface"]
    (dev,) = plan_of("dev", False).by_type(RECORDER)
    assert dev.inputs["recordingMode"] == {"recordingFrequency": "DAILY"}


def test_ai_systems_profile_holds_only_recordable_types():
    recordable = catalog.recordable_resource_types()
    types = catalog.ai_systems_types()
    assert set(types) <= recordable, set(types) - recordable
    assert "AWS::Config::ResourceCompliance" in types
    # types AWS Config cannot record must never sneak into the profile
    for unrecordable in (
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::NotebookInstance",
        "AWS::Bedrock::Agent",
    ):
        assert unrecordable not in recordable
        assert unrecordable not in types


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_retention_per_region_matches_the_setting(plan_of, env):
    plan = plan_of(env, False)
    retention = by_region(plan, RETENTION)
    assert sorted(retention) == sorted(plan.settings.regions)
    assert {r.inputs["retentionPeriodInDays"] for r in retention.values()} == {
        plan.settings.retention_days
    }


def test_periodic_rules_get_their_frequency_and_iam_rule_stays_home(plan_of):
    plan = plan_of("prod", False)
    rules = plan.by_type(RULE)
    periodic = {r.identifier for r in catalog.managed_rules() if r.periodic}
    for rule in rules:
        identifier = rule.inputs["source"]["sourceIdentifier"]
        assert rule.inputs["source"]["owner"] == "AWS"
        if identifier in periodic:
            assert rule.inputs["maximumExecutionFrequency"] == "TwentyFour_Hours"
        else:
            assert "maximumExecutionFrequency" not in rule.inputs
    iam = [
        r
        for r in rules
        if r.inputs["source"]["sourceIdentifier"] == "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS"
    ]
    assert [r.inputs["region"] for r in iam] == ["us-east-1"]


def test_vault_is_write_once_and_fed_by_replication_that_keeps_deletes_out(plan_of):
    plan = plan_of("prod", False)
    vault = one(plan, BUCKET, "vault")
    assert vault.inputs["objectLockEnabled"] is True
    assert vault.inputs["region"] == "us-west-2"
    assert (vault.protect, vault.retain_on_delete) == (True, True)
    lock = one(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    replication = one(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = replication.inputs["rules"]
    assert replication.inputs["bucket"] == one(plan, BUCKET, "archive").inputs["bucket"]
    assert rule["destination"]["bucket"] == vault.outputs["arn"]
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    vault_key = by_region(plan, KEY)["us-west-2"].outputs["arn"]
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": vault_key}
    role_policy = policy_document(one(plan, "aws:iam/rolePolicy:RolePolicy"))
    actions = {
        a
        for s in role_policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "s3:ReplicateDelete" not in actions and "s3:ReplicateObject" in actions
    trust = policy_document(one(plan, "aws:iam/role:Role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_provider_applies_the_required_tags(plan_of, env):
    plan = plan_of(env, False)
    provider = one(plan, "pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    for key in ("owner", "environment", "ai-system", "data-classification"):
        assert tags[key]
    assert tags["environment"] == env
    assert provider.inputs["region"] == plan.settings.home_region
    assert all(
        r.provider.startswith(provider.urn)
        for r in plan.resources
        if r.custom and not r.type.startswith("pulumi:providers:")
    )


def test_outputs_name_what_a_caller_needs_and_no_website(plan_of):
    outputs = plan_of("prod", False).outputs
    assert outputs["archiveBucketName"] == "configtrail-prod-archive-123456789012-us-east-1"
    assert outputs["archiveBucketArn"] == f"arn:aws:s3:::{outputs['archiveBucketName']}"
    assert outputs["recorderNames"] == {
        r: "configtrail" for r in ("us-east-1", "us-west-2", "eu-west-1")
    }
    assert outputs["recorderRoleArn"].endswith("/AWSServiceRoleForConfig")
    assert (
        set(outputs["kmsKeyArns"])
        == set(outputs["snsTopicArns"])
        == {"us-east-1", "us-west-2", "eu-west-1"}
    )
    assert outputs["vaultBucketName"].startswith("configtrail-prod-vault-")
    assert not any("website" in key.lower() for key in outputs)
    dev = plan_of("dev", False).outputs
    assert "kmsKeyArns" not in dev and "snsTopicArns" not in dev and "vaultBucketName" not in dev


def test_preview_style_plan_leaves_values_aws_computes_unknown(plan_of):
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    preview = plan_of("prod", True)
    key = one(preview, KEY, "key-us-east-1-key")
    assert key.id is None and "arn" not in key.outputs
    channel = by_region(preview, CHANNEL)["us-east-1"]
    assert channel.inputs["s3KmsKeyArn"] == unknown
    # the bucket name is ours, so it (and the policy built from it) is known even in preview
    assert channel.inputs["s3BucketName"].startswith("configtrail-prod-archive-")
    assert "AWSConfigBucketDelivery" in one(preview, POLICY, "archive-policy").inputs["policy"]
    normal = plan_of("prod", False)
    assert unknown not in repr([r.inputs for r in normal.resources])


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_history_buckets_log_access_into_an_sse_s3_log_bucket_of_their_region(plan_of, env):
    plan = plan_of(env, False)
    buckets = {b.name: b for b in plan.by_type(BUCKET)}
    loggings = plan.by_type("aws:s3/bucketLogging:BucketLogging")
    logged = {r.inputs["bucket"]: r for r in loggings}
    history = [b for b in buckets.values() if b.name in ("archive", "vault")]
    assert history and len(logged) == len(history)
    for bucket in history:
        logging = logged[bucket.inputs["bucket"]]
        region = bucket.inputs["region"]
        log_bucket = buckets[f"access-logs-{region}"]
        assert logging.inputs["targetBucket"] == log_bucket.inputs["bucket"]
        assert logging.inputs["targetPrefix"] == bucket.inputs["bucket"] + "/"
        assert logging.inputs["region"] == region == log_bucket.inputs["region"]
        assert (log_bucket.protect, log_bucket.retain_on_delete) == (bucket.protect,) * 2
        encryption = one(
            plan,
            "aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration",
            f"access-logs-{region}-encryption",
        )
        # S3 server access logging cannot deliver into an SSE-KMS bucket
        assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "AES256"
        }
        document = policy_document(one(plan, POLICY, f"access-logs-{region}-policy"))
        grant = statement(document, "S3ServerAccessLogsPolicy")
        assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert grant["Action"] == "s3:PutObject"
        assert grant["Resource"] == log_bucket.outputs["arn"] + "/*"
        assert bucket.outputs["arn"] in grant["Condition"]["ArnLike"]["aws:SourceArn"]
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
        statement(document, "DenyInsecureTransport")
    assert not any(
        r.inputs["bucket"].startswith("configtrail-" + env + "-logs-") for r in loggings
    ), "a log bucket cannot log into itself"
