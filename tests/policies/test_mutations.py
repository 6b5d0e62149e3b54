"""The mutation table: insecure or history-losing variants made by editing the real plans, each
caught by the policy expected to catch it — and by no other mandatory policy (one property per
policy, so a problem is reported once).

Every row runs the real pack over the Analyzer protocol (see conftest.py).
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.policies.helpers import (
    assert_only_policy_catches,
    drop,
    edit_policy,
    edit_trust,
    find,
    resources,
    set_prop,
)

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
STATUS = "aws:cfg/recorderStatus:RecorderStatus"
RETENTION = "aws:cfg/retentionConfiguration:RetentionConfiguration"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROVIDER = "pulumi:providers:aws"


def _statements(change):
    return lambda state: edit_policy(state, lambda doc: change(doc["Statement"]))


def _by_sid(statements, sid):
    return next(s for s in statements if s.get("Sid") == sid)


def _nested(state, key, change):
    for side in ("inputs", "outputs"):
        if key in state.get(side, {}):
            change(state[side][key])


def _lock_on_archive(doc):
    vault_lock = find(doc, LOCK, "vault")
    lock = copy.deepcopy(vault_lock)
    archive = find(doc, BUCKET, "archive")
    lock["urn"] = lock["urn"].replace("::vault-object-lock", "::archive-object-lock")
    for side in ("inputs", "outputs"):
        lock[side]["bucket"] = archive["inputs"]["bucket"]
    lock["propertyDependencies"] = {"bucket": [archive["urn"]]}
    resources(doc).append(lock)


def _narrow(doc):
    recorder = find(doc, RECORDER, "us-west-2")
    set_prop(
        recorder,
        "recordingGroup",
        {
            "allSupported": False,
            "includeGlobalResourceTypes": False,
            "recordingStrategies": [{"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}],
            "resourceTypes": ["AWS::S3::Bucket", "AWS::Config::ResourceCompliance"],
        },
    )


def _drop_type(resource_type):
    def change(doc):
        recorder = find(doc, RECORDER, "us-east-1")
        _nested(
            recorder, "recordingGroup", lambda group: group["resourceTypes"].remove(resource_type)
        )

    return change


def _drop_all_recording(doc):
    for state in [s for s in resources(doc) if s["type"].startswith("aws:cfg/")]:
        drop(doc, state["type"], state["urn"].rsplit("::", 1)[1])


def _unplaceable_recorder(doc):
    recorder = find(doc, RECORDER, "us-west-2")
    for side in ("inputs", "outputs"):
        recorder.get(side, {}).pop("region", None)
    recorder["provider"] = ""


def _unknown_type(doc):
    """A type the pack's data does not know, without tags: held to them, said why."""
    rule = find(doc, "aws:cfg/rule:Rule")
    rule["type"] = "aws:cfg/ruleV9:RuleV9"
    rule["provider"] = ""  # no provider default tags


# (id, env, document, mutation, expected policy, expected level)
MUTATIONS = [
    (
        "drop-public-access-block",
        "prod",
        "stack",
        lambda d: drop(d, PAB, "archive"),
        "aws-s3-bucket-history-controls-present",
        "mandatory",
    ),
    (
        "public-policy-allowed",
        "prod",
        "stack",
        lambda d: set_prop(find(d, PAB, "archive"), "blockPublicPolicy", False),
        "aws-s3-bucket-public-access-blocked",
        "mandatory",
    ),
    (
        "public-acls-ignored-off-in-preview",
        "staging",
        "preview",
        lambda d: set_prop(find(d, PAB, "archive"), "ignorePublicAcls", False),
        "aws-s3-bucket-public-access-blocked",
        "mandatory",
    ),
    (
        "suspend-versioning",
        "prod",
        "stack",
        lambda d: set_prop(
            find(d, VERSIONING, "archive"), "versioningConfiguration", {"status": "Suspended"}
        ),
        "aws-s3-bucket-versioning-enabled",
        "mandatory",
    ),
    (
        "drop-versioning",
        "prod",
        "stack",
        lambda d: drop(d, VERSIONING, "archive"),
        "aws-s3-bucket-history-controls-present",
        "mandatory",
    ),
    (
        "drop-bucket-policy",
        "staging",
        "stack",
        lambda d: drop(d, POLICY, "archive"),
        "aws-s3-bucket-history-controls-present",
        "mandatory",
    ),
    (
        "remove-tls-deny",
        "prod",
        "stack",
        lambda d: _statements(lambda s: s.remove(_by_sid(s, "DenyInsecureTransport")))(
            find(d, POLICY, "archive")
        ),
        "aws-s3-bucket-tls-only",
        "mandatory",
    ),
    (
        "tls-deny-only-objects",
        "prod",
        "preview",
        lambda d: _statements(
            lambda s: _by_sid(s, "DenyInsecureTransport").update(
                Resource="arn:aws:s3:::configtrail-prod-vault-210000000003-us-west-2/*"
            )
        )(find(d, POLICY, "vault")),
        "aws-s3-bucket-tls-only",
        "mandatory",
    ),
    (
        "delivery-without-source-account",
        "prod",
        "stack",
        lambda d: _statements(
            lambda s: _by_sid(s, "AWSConfigBucketDelivery")["Condition"]["StringEquals"].pop(
                "AWS:SourceAccount"
            )
        )(find(d, POLICY, "archive")),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "delivery-wrong-prefix",
        "prod",
        "stack",
        lambda d: _statements(
            lambda s: _by_sid(s, "AWSConfigBucketDelivery").update(
                Resource=_by_sid(s, "AWSConfigBucketDelivery")["Resource"].replace(
                    "/configtrail/", "/other/"
                )
            )
        )(find(d, POLICY, "archive")),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "channel-prefix-changed",
        "dev",
        "stack",
        lambda d: set_prop(find(d, CHANNEL), "s3KeyPrefix", "elsewhere"),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "drop-existence-check",
        "prod",
        "preview",
        lambda d: _statements(lambda s: s.remove(_by_sid(s, "AWSConfigBucketExistenceCheck")))(
            find(d, POLICY, "archive")
        ),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "force-destroy",
        "prod",
        "stack",
        lambda d: set_prop(find(d, BUCKET, "archive"), "forceDestroy", True),
        "aws-s3-bucket-disallow-force-destroy",
        "mandatory",
    ),
    (
        "unprotect-archive",
        "prod",
        "stack",
        lambda d: find(d, BUCKET, "archive").pop("protect"),
        "aws-s3-bucket-protected",
        "mandatory",
    ),
    (
        "expire-history-early",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, LIFECYCLE, "archive"),
            "rules",
            lambda rules: rules[0].update(expiration={"days": 400}),
        ),
        "aws-s3-bucket-lifecycle-keeps-history",
        "mandatory",
    ),
    (
        "expire-old-versions-early",
        "staging",
        "stack",
        lambda d: _nested(
            find(d, LIFECYCLE, "archive"),
            "rules",
            lambda rules: rules[0].update(noncurrentVersionExpiration={"noncurrentDays": 100}),
        ),
        "aws-s3-bucket-lifecycle-keeps-history",
        "mandatory",
    ),
    (
        "object-lock-on-archive",
        "prod",
        "stack",
        lambda d: set_prop(find(d, BUCKET, "archive"), "objectLockEnabled", True),
        "aws-s3-bucket-no-object-lock-on-delivery",
        "mandatory",
    ),
    (
        "object-lock-configuration-on-archive",
        "prod",
        "stack",
        _lock_on_archive,
        "aws-s3-bucket-no-object-lock-on-delivery",
        "mandatory",
    ),
    (
        "sse-s3-in-prod",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, SSE, "archive"),
            "rules",
            lambda rules: rules[0].update(
                applyServerSideEncryptionByDefault={"sseAlgorithm": "AES256"}
            ),
        ),
        "aws-s3-bucket-default-encryption-kms",
        "mandatory",
    ),
    ("narrow-recording", "prod", "stack", _narrow, "aws-cfg-recorder-recording-scope", "mandatory"),
    (
        "drop-resource-compliance",
        "staging",
        "stack",
        _drop_type("AWS::Config::ResourceCompliance"),
        "aws-cfg-recorder-recording-scope",
        "mandatory",
    ),
    (
        "drop-sagemaker-model",
        "staging",
        "preview",
        _drop_type("AWS::SageMaker::Model"),
        "aws-cfg-recorder-recording-scope",
        "mandatory",
    ),
    (
        "global-types-in-two-regions",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, RECORDER, "eu-west-1"),
            "recordingGroup",
            lambda g: g.update(includeGlobalResourceTypes=True),
        ),
        "aws-cfg-recorder-global-types-once",
        "mandatory",
    ),
    (
        "global-types-nowhere",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, RECORDER, "us-east-1"),
            "recordingGroup",
            lambda g: g.update(includeGlobalResourceTypes=False),
        ),
        "aws-cfg-recorder-global-types-once",
        "mandatory",
    ),
    (
        "drop-recorder-status",
        "prod",
        "stack",
        lambda d: drop(d, STATUS, "us-west-2"),
        "aws-cfg-recorder-status-enabled",
        "mandatory",
    ),
    (
        "stop-recorder",
        "staging",
        "preview",
        lambda d: set_prop(find(d, STATUS, "us-east-1"), "isEnabled", False),
        "aws-cfg-recorder-status-enabled",
        "mandatory",
    ),
    (
        "drop-delivery-channel",
        "prod",
        "stack",
        lambda d: drop(d, CHANNEL, "eu-west-1"),
        "aws-cfg-recorder-delivery-channel",
        "mandatory",
    ),
    (
        "deliver-to-foreign-bucket",
        "staging",
        "stack",
        lambda d: (
            set_prop(find(d, CHANNEL, "us-west-2"), "s3BucketName", "someone-elses-bucket"),
            find(d, CHANNEL, "us-west-2").pop("propertyDependencies", None),
        ),
        "aws-cfg-recorder-delivery-channel",
        "mandatory",
    ),
    (
        "shorten-retention",
        "prod",
        "stack",
        lambda d: set_prop(find(d, RETENTION, "us-east-1"), "retentionPeriodInDays", 90),
        "aws-cfg-retentionconfiguration-minimum-days",
        "mandatory",
    ),
    (
        "slow-delivery",
        "prod",
        "stack",
        lambda d: set_prop(
            find(d, CHANNEL, "us-east-1"),
            "snapshotDeliveryProperties",
            {"deliveryFrequency": "TwentyFour_Hours"},
        ),
        "aws-cfg-deliverychannel-delivery-frequency",
        "mandatory",
    ),
    (
        "daily-recording-in-prod",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, RECORDER, "us-east-1"),
            "recordingMode",
            lambda m: m.update(recordingFrequency="DAILY"),
        ),
        "aws-cfg-recorder-continuous-recording",
        "mandatory",
    ),
    (
        "daily-override-widened",
        "prod",
        "stack",
        lambda d: _nested(
            find(d, RECORDER, "us-east-1"),
            "recordingMode",
            lambda m: m["recordingModeOverride"]["resourceTypes"].append("AWS::S3::Bucket"),
        ),
        "aws-cfg-recorder-continuous-recording",
        "mandatory",
    ),
    (
        "churny-types-continuous",
        "staging",
        "stack",
        lambda d: _nested(
            find(d, RECORDER, "us-east-1"),
            "recordingMode",
            lambda m: m.pop("recordingModeOverride"),
        ),
        "aws-cfg-recorder-churny-types-daily",
        "advisory",
    ),
    (
        "key-rotation-off",
        "prod",
        "stack",
        lambda d: set_prop(find(d, KEY, "us-east-1"), "enableKeyRotation", False),
        "aws-kms-key-rotation-enabled",
        "mandatory",
    ),
    (
        "topic-unencrypted",
        "prod",
        "stack",
        lambda d: [
            find(d, TOPIC, "eu-west-1")[side].pop("kmsMasterKeyId")
            for side in ("inputs", "outputs")
        ],
        "aws-sns-topic-encrypted",
        "mandatory",
    ),
    (
        "config-role-trusts-everyone",
        "customrole",
        "stack",
        lambda d: edit_trust(
            find(d, ROLE, "recorder-role"),
            lambda s: s[0].update(Principal={"Service": "config.amazonaws.com", "AWS": "*"}),
        ),
        "aws-iam-role-config-trust",
        "mandatory",
    ),
    (
        "config-role-without-source-account",
        "customrole",
        "stack",
        lambda d: edit_trust(find(d, ROLE, "recorder-role"), lambda s: s[0].pop("Condition")),
        "aws-iam-role-config-trust",
        "mandatory",
    ),
    (
        "admin-inline-policy",
        "customrole",
        "stack",
        lambda d: _statements(
            lambda s: s.append({"Effect": "Allow", "Action": "*", "Resource": "*"})
        )(find(d, ROLE_POLICY, "recorder-role")),
        "aws-iam-policy-no-admin-statements",
        "mandatory",
    ),
    (
        "administrator-access-attached",
        "customrole",
        "stack",
        lambda d: set_prop(
            find(d, ATTACHMENT), "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        "aws-iam-role-no-administrator-access",
        "mandatory",
    ),
    (
        "required-tag-dropped",
        "prod",
        "stack",
        lambda d: set_prop(
            find(d, PROVIDER),
            "defaultTags",
            json.dumps({"tags": {"owner": "ml-platform", "environment": "prod"}}),
        ),
        "aws-taggable-resource-required-tags",
        "mandatory",
    ),
    (
        "drop-all-recording",
        "prod",
        "stack",
        _drop_all_recording,
        "aws-cfg-stack-is-configtrail",
        "mandatory",
    ),
    (
        "recorder-in-no-known-region",
        "prod",
        "preview",
        _unplaceable_recorder,
        "aws-provider-region-known",
        "mandatory",
    ),
    (
        "aws-type-the-pack-does-not-know",
        "prod",
        "stack",
        _unknown_type,
        "aws-taggable-resource-required-tags",
        "mandatory",
    ),
]


def test_the_table_is_large_enough_and_covers_many_policies():
    assert len(MUTATIONS) >= 25
    assert len({row[4] for row in MUTATIONS}) >= 20


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "kind", "mutate", "policy", "level"),
    [row[1:] for row in MUTATIONS],
    ids=[row[0] for row in MUTATIONS],
)
def test_mutation_is_caught(plan_documents, run, env, kind, mutate, policy, level):
    assert_only_policy_catches(run, plan_documents[env][kind], env, mutate, policy, level)
