"""The resource graph each stack of the example estate registers, read from the offline plan.

The plan runs the real program under Pulumi's mock runtime; the mocks (configtrail.plan.mocks) are
stand-ins that fill in ids and ARNs the way AWS forms them. Every assertion here reads the captured
registration requests directly (no check runs inside `.apply`, so none can silently not run).
Which stacks a test covers is derived from the estate (their kinds and settings), so a new stack
file is checked the same way without editing this file.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from configtrail import catalog
from configtrail.stack import names
from tests.conftest import ESTATE, stacks_where
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
AGGREGATOR = "aws:cfg/configurationAggregator:ConfigurationAggregator"

ARCHIVES = stacks_where(lambda s: s.settings.has_archive)
RECORDERS = stacks_where(lambda s: s.settings.records)
MEMBERS = stacks_where(lambda s: s.kind == "member")

# The example estate's resource sets, counted by hand from what each kind should have.
_HARDENED = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
)


def _buckets(count: int, logged: int) -> dict[str, int]:
    return {
        BUCKET: count,
        **dict.fromkeys(_HARDENED, count),
        "aws:s3/bucketLogging:BucketLogging": logged,
    }


def _recording(regions: int, rules: int) -> dict[str, int]:
    return {RECORDER: regions, CHANNEL: regions, STATUS: regions, RETENTION: regions, RULE: rules}


PROVIDER = {"pulumi:providers:aws": 1}
SLR = {"aws:iam/serviceLinkedRole:ServiceLinkedRole": 1}
EXPECTED_RESOURCE_SET = {
    # archive, vault, Athena results and two access-log buckets (us-east-1, us-west-2); archive,
    # vault and results log access; keys for the archive and the vault; Glue and Athena.
    "log-archive": {
        **PROVIDER,
        **_buckets(5, 3),
        KEY: 2,
        "aws:kms/alias:Alias": 2,
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": 1,
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig": 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:glue/catalogDatabase:CatalogDatabase": 1,
        "aws:glue/catalogTable:CatalogTable": 1,
        "aws:athena/workgroup:Workgroup": 1,
    },
    "trial": {**PROVIDER, **SLR, **_buckets(2, 1), **_recording(1, 14)},
    # the SageMaker pack's 14 managed rules, and 4 Guard rules of the Bedrock AI controls
    "ml-dev": {**PROVIDER, **SLR, **_recording(1, 14 + 4)},
    "ml-prod": {
        **PROVIDER,
        **SLR,
        **_recording(3, 85 + 3 * 4),
        KEY: 3,
        "aws:kms/alias:Alias": 3,
        TOPIC: 3,
        "aws:sns/topicPolicy:TopicPolicy": 3,
    },
    "aggregator": {
        **PROVIDER,
        AGGREGATOR: 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
    },
}


def test_the_example_estate_has_every_kind():
    kinds = Counter(stack.kind for stack in ESTATE.stacks.values())
    assert kinds["archive"] >= 1 and kinds["aggregator"] >= 1 and kinds["standalone"] >= 1
    assert kinds["member"] >= 2
    accounts = [stack.account_id for stack in ESTATE.stacks.values()]
    assert len(set(accounts)) == len(accounts), "each example stack has its own account"


@pytest.mark.parametrize("env", sorted(EXPECTED_RESOURCE_SET))
def test_each_stack_registers_its_resource_set(plan_of, env):
    plan = plan_of(env, False)
    registered = Counter(r.type for r in plan.resources if r.custom)
    assert dict(registered) == EXPECTED_RESOURCE_SET[env]


@pytest.mark.parametrize("env", ARCHIVES)
def test_archive_bucket_policy_admits_exactly_the_delivering_accounts(plan_of, env):
    plan = plan_of(env, False)
    accounts = ESTATE.delivering_accounts(env)
    assert accounts, "an archive of the example estate receives deliveries"
    bucket = one(plan, BUCKET, "archive")
    arn = bucket.outputs["arn"]
    document = policy_document(one(plan, POLICY, "archive-policy"))
    source_account = {"AWS:SourceAccount": accounts[0] if len(accounts) == 1 else accounts}

    acl = statement(document, "AWSConfigBucketPermissionsCheck")
    assert (acl["Effect"], acl["Action"], acl["Resource"]) == ("Allow", "s3:GetBucketAcl", arn)
    assert acl["Principal"] == {"Service": "config.amazonaws.com"}
    assert acl["Condition"] == {"StringEquals": source_account}

    listing = statement(document, "AWSConfigBucketExistenceCheck")
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", arn)
    assert listing["Condition"] == {"StringEquals": source_account}

    delivery = statement(document, "AWSConfigBucketDelivery")
    prefix = plan.settings.key_prefix
    resources = [f"{arn}/{prefix}/AWSLogs/{account}/Config/*" for account in accounts]
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == (resources[0] if len(resources) == 1 else resources)
    assert delivery["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source_account}
    }

    deny = statement(document, "DenyInsecureTransport")
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(document["Statement"]) == 4


def test_the_organization_archive_admits_its_members_and_not_itself(plan_of):
    accounts = ESTATE.delivering_accounts("log-archive")
    members = {ESTATE[name].account_id for name in MEMBERS}
    assert set(accounts) == members
    assert ESTATE["log-archive"].account_id not in accounts
    assert ESTATE.delivering_accounts("trial") == [ESTATE["trial"].account_id]


@pytest.mark.parametrize("env", ARCHIVES)
def test_archive_bucket_is_hardened(plan_of, env):
    plan = plan_of(env, False)
    bucket = one(plan, BUCKET, "archive")
    name = bucket.inputs["bucket"]
    assert name == names.bucket_name(
        env, "archive", plan.settings.account_id, plan.settings.home_region
    )
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


@pytest.mark.parametrize("env", ARCHIVES)
def test_lifecycle_never_expires_history_unless_asked(plan_of, env):
    plan = plan_of(env, False)
    lifecycles = plan.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert len(lifecycles) == len(plan.by_type(BUCKET)), "every history bucket has a lifecycle"
    checked = 0
    for lifecycle in lifecycles:
        (rule,) = lifecycle.inputs["rules"]
        if lifecycle.name.startswith("history-queries-results"):
            continue  # query results expire after retentionDays (tests/history/test_stack_athena)
        assert "expiration" not in rule and "noncurrentVersionExpiration" not in rule
        assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
        versioning = lifecycle.name.replace("-lifecycle", "-versioning")
        assert any(dep.endswith(f"::{versioning}") for dep in lifecycle.dependencies), (
            "lifecycle must wait for versioning"
        )
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("env", ARCHIVES)
def test_history_is_protected_where_the_stack_does_not_opt_out(plan_of, env):
    plan = plan_of(env, False)
    protected = plan.settings.archive_protect
    history = plan.by_type(BUCKET) + plan.by_type(KEY)
    assert history
    for resource in history:
        assert (resource.protect, resource.retain_on_delete) == (protected, protected), (
            resource.name
        )
    assert {"trial": False, "log-archive": True}.get(env, protected) == protected


def test_archive_key_rotates_and_admits_the_members_config(plan_of):
    plan = plan_of("log-archive", False)
    keys = by_region(plan, KEY)
    archive_key = keys["us-east-1"]
    assert archive_key.inputs["enableKeyRotation"] is True
    document = policy_document(archive_key)
    config = statement(document, "AWSConfigKMSPolicy")
    assert config["Principal"] == {"Service": "config.amazonaws.com"}
    assert sorted(config["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert config["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": ESTATE.delivering_accounts("log-archive")}
    }
    admin = statement(document, "EnableAccountAdministration")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    # The vault's key: nobody's Config writes to the vault, so no Config statement.
    vault_document = policy_document(keys["us-west-2"])
    assert [s["Sid"] for s in vault_document["Statement"]] == ["EnableAccountAdministration"]


def test_member_sns_topics_are_encrypted_and_only_its_config_may_publish(plan_of):
    plan = plan_of("ml-prod", False)
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
        assert publish["Condition"] == {"StringEquals": {"AWS:SourceAccount": "444444444444"}}
        key_grant = statement(policy_document(keys[region]), "AWSConfigKMSPolicy")
        assert key_grant["Condition"] == {"StringEquals": {"AWS:SourceAccount": "444444444444"}}


@pytest.mark.parametrize("env", RECORDERS)
def test_creation_order_recorder_channel_status_rules(plan_of, env):
    plan = plan_of(env, False)
    recorders = by_region(plan, RECORDER)
    channels = by_region(plan, CHANNEL)
    statuses = by_region(plan, STATUS)
    topic_policies = by_region(plan, "aws:sns/topicPolicy:TopicPolicy")
    rules = plan.by_type(RULE)
    checked = 0
    for region in plan.settings.regions:
        channel_deps = set(channels[region].dependencies)
        assert recorders[region].urn in channel_deps, "channel must wait for the recorder"
        if plan.settings.has_archive:
            policy_urn = one(plan, POLICY, "archive-policy").urn
            assert policy_urn in channel_deps, "channel must wait for the bucket policy"
        if region in topic_policies:
            assert topic_policies[region].urn in channel_deps, (
                "channel must wait for the topic policy"
            )
        assert channels[region].urn in statuses[region].dependencies, "start after the channel"
        assert statuses[region].inputs["isEnabled"] is True
        for rule in (r for r in rules if r.inputs["region"] == region):
            assert statuses[region].urn in rule.dependencies, rule.name
            checked += 1
    assert checked == len(rules) > 0


def test_a_member_channel_waits_for_its_topic_policy(plan_of):
    plan = plan_of("ml-prod", False)
    policies = by_region(plan, "aws:sns/topicPolicy:TopicPolicy")
    channels = by_region(plan, CHANNEL)
    assert policies and set(policies) == set(channels)
    for region, channel in channels.items():
        assert policies[region].urn in channel.dependencies


@pytest.mark.parametrize("env", RECORDERS)
def test_delivery_channel_targets_its_archive_by_name(plan_of, env):
    plan = plan_of(env, False)
    archive = ESTATE.archive_of(env)
    bucket = names.bucket_name(archive.name, "archive", archive.account_id, archive.home_region)
    for channel in plan.by_type(CHANNEL):
        assert channel.inputs["s3BucketName"] == bucket
        assert channel.inputs["s3KeyPrefix"] == archive.settings.key_prefix
        assert channel.inputs["snapshotDeliveryProperties"] == {
            "deliveryFrequency": plan.settings.delivery_frequency
        }
        if archive.name == env and archive.settings.archive_encryption == "kms":
            home_key = by_region(plan, KEY)[plan.settings.home_region]
            assert channel.inputs["s3KmsKeyArn"] == home_key.outputs["arn"]
        else:
            # A member's deliveries are encrypted by the archive's default encryption.
            assert "s3KmsKeyArn" not in channel.inputs


def test_member_channels_deliver_to_the_log_archive_bucket(plan_of):
    expected = "configtrail-log-archive-archive-111111111111-us-east-1"
    assert plan_of("log-archive", False).outputs["archiveBucketName"] == expected
    for env in MEMBERS:
        channels = plan_of(env, False).by_type(CHANNEL)
        assert channels and {c.inputs["s3BucketName"] for c in channels} == {expected}


@pytest.mark.parametrize("env", RECORDERS)
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


@pytest.mark.parametrize(
    "env",
    stacks_where(lambda s: s.settings.records and s.settings.recording_profile == "ai-systems"),
)
def test_ai_systems_recorders_list_types_and_keep_resource_compliance(plan_of, env):
    plan = plan_of(env, False)
    for recorder in plan.by_type(RECORDER):
        group = recorder.inputs["recordingGroup"]
        assert group["allSupported"] is False
        assert group["recordingStrategies"] == [{"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}]
        assert "AWS::Config::ResourceCompliance" in group["resourceTypes"]
        assert "AWS::SageMaker::Model" in group["resourceTypes"]
        assert "AWS::Bedrock::Guardrail" in group["resourceTypes"]


def test_continuous_recorders_record_churny_types_daily(plan_of):
    for recorder in plan_of("ml-prod", False).by_type(RECORDER):
        mode = recorder.inputs["recordingMode"]
        assert mode["recordingFrequency"] == "CONTINUOUS"
        assert mode["recordingModeOverride"]["recordingFrequency"] == "DAILY"
        assert mode["recordingModeOverride"]["resourceTypes"] == ["AWS::EC2::NetworkInterface"]


@pytest.mark.parametrize(
    "env", stacks_where(lambda s: s.settings.records and s.settings.recording_frequency == "DAILY")
)
def test_daily_recorders_keep_the_continuous_only_types_continuous(plan_of, env):
    """The RecordingMode API refuses DAILY for AWS::Config::ResourceCompliance (and two more):
    a DAILY recorder lists the ones it records as CONTINUOUS in its override."""
    for recorder in plan_of(env, False).by_type(RECORDER):
        mode = recorder.inputs["recordingMode"]
        listed = set(recorder.inputs["recordingGroup"]["resourceTypes"])
        assert mode["recordingFrequency"] == "DAILY"
        override = mode["recordingModeOverride"]
        assert override["recordingFrequency"] == "CONTINUOUS"
        assert override["resourceTypes"] == sorted(catalog.continuous_only_types() & listed)
        assert "AWS::Config::ResourceCompliance" in override["resourceTypes"]


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


@pytest.mark.parametrize("env", RECORDERS)
def test_retention_per_region_matches_the_setting(plan_of, env):
    plan = plan_of(env, False)
    retention = by_region(plan, RETENTION)
    assert sorted(retention) == sorted(plan.settings.regions)
    assert {r.inputs["retentionPeriodInDays"] for r in retention.values()} == {
        plan.settings.retention_days
    }


def _managed(rules):
    return [r for r in rules if r.inputs["source"]["owner"] == "AWS"]


def test_periodic_rules_get_their_frequency_and_iam_rule_stays_home(plan_of):
    plan = plan_of("ml-prod", False)
    rules = _managed(plan.by_type(RULE))
    periodic = {r.identifier for r in catalog.managed_rules() if r.periodic}
    assert len(periodic) == 12, "AWS documents twelve of the catalog's rules as periodic"
    frequencies = 0
    for rule in rules:
        identifier = rule.inputs["source"]["sourceIdentifier"]
        assert rule.inputs["source"]["owner"] == "AWS"
        if identifier in periodic:
            assert rule.inputs["maximumExecutionFrequency"] == "TwentyFour_Hours"
            frequencies += 1
        else:
            assert "maximumExecutionFrequency" not in rule.inputs
    assert frequencies == 3 * len(periodic)
    iam = [
        r
        for r in rules
        if r.inputs["source"]["sourceIdentifier"] == "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS"
    ]
    assert [r.inputs["region"] for r in iam] == ["us-east-1"]


@pytest.mark.parametrize("env", RECORDERS)
def test_rule_names_carry_the_stack_so_two_stacks_never_share_one(plan_of, env):
    rules = plan_of(env, False).by_type(RULE)
    assert rules
    for rule in rules:
        assert rule.inputs["name"].startswith(f"configtrail-{env}-")
        assert len(rule.inputs["name"]) <= 128


@pytest.mark.parametrize("env", RECORDERS)
def test_rules_carry_their_required_parameters(plan_of, env):
    """PutConfigRule rejects a managed rule without a required parameter."""
    for rule in _managed(plan_of(env, False).by_type(RULE)):
        identifier = rule.inputs["source"]["sourceIdentifier"]
        declared = catalog.rules_by_identifier()[identifier].parameters
        sent = json.loads(rule.inputs.get("inputParameters", "{}"))
        for name, parameter in declared.items():
            if parameter.required:
                assert sent.get(name), f"{identifier} needs {name}"
        assert all(isinstance(value, str) for value in sent.values())
    platform = [
        r
        for r in _managed(plan_of(env, False).by_type(RULE))
        if r.inputs["source"]["sourceIdentifier"] == "SAGEMAKER_NOTEBOOK_INSTANCE_PLATFORM_VERSION"
    ]
    for rule in platform:
        assert json.loads(rule.inputs["inputParameters"]) == {
            "supportedPlatformIdentifierVersions": "notebook-al2023-v1"
        }


def test_vault_is_write_once_and_fed_by_replication_that_keeps_deletes_out(plan_of):
    plan = plan_of("log-archive", False)
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


def test_the_aggregator_reads_the_whole_organization(plan_of):
    plan = plan_of("aggregator", False)
    aggregator = one(plan, AGGREGATOR)
    source = aggregator.inputs["organizationAggregationSource"]
    assert source["allRegions"] is True
    role = one(plan, "aws:iam/role:Role")
    assert source["roleArn"] == role.outputs["arn"]
    assert aggregator.inputs["name"] == "configtrail-aggregator"
    trust = policy_document(role, "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"AWS:SourceAccount": "222222222222"}},
        }
    ]
    attachment = one(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
    )
    assert attachment.urn in aggregator.dependencies
    assert not plan.by_type(RECORDER) and not plan.by_type(BUCKET)


@pytest.mark.parametrize("env", sorted(EXPECTED_RESOURCE_SET))
def test_provider_applies_the_required_tags_and_allows_only_the_stacks_account(plan_of, env):
    plan = plan_of(env, False)
    provider = one(plan, "pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    for key in ("owner", "environment", "ai-system", "data-classification"):
        assert tags[key]
    assert json.loads(provider.inputs["allowedAccountIds"]) == [plan.settings.account_id]
    assert provider.inputs["region"] == plan.settings.home_region
    assert all(
        r.provider.startswith(provider.urn)
        for r in plan.resources
        if r.custom and not r.type.startswith("pulumi:providers:")
    )


def test_outputs_name_what_a_caller_needs_and_no_website(plan_of):
    archive = plan_of("log-archive", False).outputs
    assert archive["archiveBucketName"] == "configtrail-log-archive-archive-111111111111-us-east-1"
    assert archive["archiveBucketArn"] == f"arn:aws:s3:::{archive['archiveBucketName']}"
    assert archive["deliveringAccounts"] == ESTATE.delivering_accounts("log-archive")
    assert archive["vaultBucketName"].startswith("configtrail-log-archive-vault-")
    assert archive["stackKind"] == "archive" and archive["accountId"] == "111111111111"
    member = plan_of("ml-prod", False).outputs
    assert member["deliveryBucket"] == archive["archiveBucketName"]
    assert member["recorderNames"] == {
        r: "configtrail-ml-prod" for r in ("us-east-1", "us-west-2", "eu-west-1")
    }
    assert member["recorderRoleArn"].endswith("/AWSServiceRoleForConfig")
    assert set(member["kmsKeyArns"]) == set(member["snsTopicArns"]) == set(member["regions"])
    assert "archiveBucketName" not in member
    trial = plan_of("trial", False).outputs
    assert (
        "kmsKeyArns" not in trial and "snsTopicArns" not in trial and "vaultBucketName" not in trial
    )
    for outputs in (archive, member, trial):
        assert not any("website" in key.lower() for key in outputs)


def test_preview_style_plan_leaves_values_aws_computes_unknown(plan_of):
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    preview = plan_of("log-archive", True)
    key = one(preview, KEY, "key-us-east-1-key")
    assert key.id is None and "arn" not in key.outputs
    encryption = one(
        preview,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "archive-encryption",
    )
    assert (
        encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        == unknown
    )
    # the bucket name is ours, so it (and the policy built from it) is known even in preview
    assert "AWSConfigBucketDelivery" in one(preview, POLICY, "archive-policy").inputs["policy"]
    channel = by_region(plan_of("ml-prod", True), CHANNEL)["us-east-1"]
    assert channel.inputs["s3BucketName"].startswith("configtrail-log-archive-archive-")
    normal = plan_of("log-archive", False)
    assert unknown not in repr([r.inputs for r in normal.resources])


@pytest.mark.parametrize("env", ARCHIVES)
def test_history_buckets_log_access_into_an_sse_s3_log_bucket_of_their_region(plan_of, env):
    plan = plan_of(env, False)
    account = plan.settings.account_id
    buckets = {b.name: b for b in plan.by_type(BUCKET)}
    loggings = plan.by_type("aws:s3/bucketLogging:BucketLogging")
    logged = {r.inputs["bucket"]: r for r in loggings}
    history = [b for b in buckets.values() if not b.name.startswith("access-logs-")]
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
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
        statement(document, "DenyInsecureTransport")
    assert not any(
        r.inputs["bucket"].startswith("configtrail-" + env + "-logs-") for r in loggings
    ), "a log bucket cannot log into itself"


def test_athena_results_are_access_logged(plan_of):
    plan = plan_of("log-archive", False)
    results = one(plan, BUCKET, "history-queries-results")
    logging = [
        r
        for r in plan.by_type("aws:s3/bucketLogging:BucketLogging")
        if r.inputs["bucket"] == results.inputs["bucket"]
    ]
    assert len(logging) == 1
    assert (
        logging[0].inputs["targetBucket"]
        == one(plan, BUCKET, "access-logs-us-east-1").inputs["bucket"]
    )


@pytest.mark.parametrize("env", stacks_where(lambda s: bool(s.settings.ai_controls)))
def test_members_deploy_the_guard_rules_of_their_ai_controls_in_every_region(plan_of, env):
    from configtrail.stack.guard_rules import POLICY_RUNTIME, guard_controls

    plan = plan_of(env, False)
    expected = guard_controls(plan.settings.selected_ai_controls())
    assert expected, "the example members select Bedrock controls enforced by Guard rules"
    statuses = by_region(plan, STATUS)
    custom = [r for r in plan.by_type(RULE) if r.inputs["source"]["owner"] == "CUSTOM_POLICY"]
    assert len(custom) == len(expected) * len(plan.settings.regions)
    for rule in custom:
        details = rule.inputs["source"]["customPolicyDetails"]
        assert details["policyRuntime"] == POLICY_RUNTIME
        assert details["policyText"].strip()
        assert statuses[rule.inputs["region"]].urn in rule.dependencies
        assert rule.inputs["name"].startswith(f"configtrail-{env}-")
    assert {r.inputs["name"] for r in custom} == {names.rule_name(env, c.id) for c in expected}


@pytest.mark.parametrize("env", RECORDERS)
def test_singletons_are_replaced_delete_first(plan_of, env):
    """A renamed recorder or channel is a replacement; creating the new one first would fail
    (one of each per account and region), so they are deleted first."""
    plan = plan_of(env, False)
    for resource in plan.by_type(RECORDER) + plan.by_type(CHANNEL):
        assert resource.delete_before_replace, resource.name
    assert not any(r.delete_before_replace for r in plan.by_type(BUCKET)), "history never"
