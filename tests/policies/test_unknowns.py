"""Unknown values: what each mandatory policy does when a value it reads is only known after the
deployment (a first `pulumi preview`). Through the real SDK, a policy that reads an unknown via
the props proxy is downgraded to an advisory "can't run policy ... during preview" diagnostic;
rules that must fail closed read without the proxy and report a mandatory violation instead.

Each row edits the real preview plan so one value is the engine's unknown sentinel.
Masked secrets ("[secret]") are tests/policies/test_secrets.py.
"""

from __future__ import annotations

import copy

import pytest
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, WAIT
from configtrail_policies.pack import definitions

from tests.policies.helpers import UNKNOWN, find, set_prop

BUCKET = "aws:s3/bucket:Bucket"
BY_NAME = {d.name: d for d in definitions()}


def _nested(state, key, change):
    for side in ("inputs", "outputs"):
        if key in state.get(side, {}):
            change(state[side][key])


def _unknown_bucket_names(doc):
    """Every companion names its bucket by an unknown value (the dependency still links them)."""
    for state in doc["steps"]:
        new = state.get("newState") or {}
        if new.get("type", "").startswith("aws:s3/bucket") and new["type"] != BUCKET:
            set_prop(new, "bucket", UNKNOWN)


# (policy, env, mutation of the preview document, expected behaviour)
CASES = [
    (
        "aws-s3-bucket-versioning-enabled",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketVersioning:BucketVersioning", "archive"),
            "versioningConfiguration",
            {"status": UNKNOWN},
        ),
    ),
    (
        "aws-s3-bucket-default-encryption-kms",
        "prod",
        lambda d: _nested(
            find(
                d,
                "aws:s3/bucketServerSideEncryptionConfiguration:"
                "BucketServerSideEncryptionConfiguration",
                "archive",
            ),
            "rules",
            lambda r: r[0]["applyServerSideEncryptionByDefault"].update(sseAlgorithm=UNKNOWN),
        ),
    ),
    (
        "aws-s3-bucket-public-access-blocked",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "archive"),
            "blockPublicAcls",
            UNKNOWN,
        ),
    ),
    (
        "aws-s3-bucket-tls-only",
        "prod",
        lambda d: set_prop(find(d, "aws:s3/bucketPolicy:BucketPolicy", "vault"), "policy", UNKNOWN),
    ),
    (
        "aws-s3-bucket-config-delivery-policy",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketPolicy:BucketPolicy", "archive"), "policy", UNKNOWN
        ),
    ),
    (
        "aws-s3-bucket-disallow-force-destroy",
        "prod",
        lambda d: set_prop(find(d, BUCKET, "archive"), "forceDestroy", UNKNOWN),
    ),
    (
        "aws-s3-bucket-protected",
        "prod",
        lambda d: set_prop(find(d, BUCKET, "archive"), "bucket", UNKNOWN),
    ),
    (
        "aws-s3-bucket-lifecycle-keeps-history",
        "prod",
        lambda d: _nested(
            find(d, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "archive"),
            "rules",
            lambda r: r[0].update(expiration={"days": UNKNOWN}),
        ),
    ),
    (
        "aws-s3-bucket-no-object-lock-on-delivery",
        "prod",
        lambda d: set_prop(find(d, BUCKET, "archive"), "objectLockEnabled", UNKNOWN),
    ),
    ("aws-s3-bucket-history-controls-present", "prod", _unknown_bucket_names),
    (
        "aws-cfg-recorder-recording-scope",
        "staging",
        lambda d: _nested(
            find(d, "aws:cfg/recorder:Recorder", "us-west-2"),
            "recordingGroup",
            lambda g: g.update(resourceTypes=UNKNOWN),
        ),
    ),
    (
        "aws-cfg-recorder-global-types-once",
        "prod",
        lambda d: _nested(
            find(d, "aws:cfg/recorder:Recorder", "eu-west-1"),
            "recordingGroup",
            lambda g: g.update(includeGlobalResourceTypes=UNKNOWN),
        ),
    ),
    (
        "aws-cfg-recorder-delivery-channel",
        "prod",
        lambda d: (
            set_prop(
                find(d, "aws:cfg/deliveryChannel:DeliveryChannel", "us-west-2"),
                "s3BucketName",
                UNKNOWN,
            ),
            find(d, "aws:cfg/deliveryChannel:DeliveryChannel", "us-west-2").pop(
                "propertyDependencies", None
            ),
        ),
    ),
    (
        "aws-cfg-recorder-status-enabled",
        "prod",
        lambda d: set_prop(
            find(d, "aws:cfg/recorderStatus:RecorderStatus", "us-east-1"), "isEnabled", UNKNOWN
        ),
    ),
    (
        "aws-cfg-deliverychannel-delivery-frequency",
        "prod",
        lambda d: set_prop(
            find(d, "aws:cfg/deliveryChannel:DeliveryChannel", "us-east-1"),
            "snapshotDeliveryProperties",
            {"deliveryFrequency": UNKNOWN},
        ),
    ),
    (
        "aws-cfg-retentionconfiguration-minimum-days",
        "prod",
        lambda d: set_prop(
            find(d, "aws:cfg/retentionConfiguration:RetentionConfiguration", "us-east-1"),
            "retentionPeriodInDays",
            UNKNOWN,
        ),
    ),
    (
        "aws-cfg-recorder-continuous-recording",
        "prod",
        lambda d: _nested(
            find(d, "aws:cfg/recorder:Recorder", "us-east-1"),
            "recordingMode",
            lambda m: m.update(recordingFrequency=UNKNOWN),
        ),
    ),
    (
        "aws-iam-role-config-trust",
        "customrole",
        lambda d: set_prop(
            find(d, "aws:iam/role:Role", "recorder-role"), "assumeRolePolicy", UNKNOWN
        ),
    ),
    (
        "aws-iam-policy-no-admin-statements",
        "customrole",
        lambda d: set_prop(
            find(d, "aws:iam/rolePolicy:RolePolicy", "recorder-role"), "policy", UNKNOWN
        ),
    ),
    (
        "aws-iam-role-no-administrator-access",
        "customrole",
        lambda d: set_prop(
            find(d, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "policyArn", UNKNOWN
        ),
    ),
    (
        "aws-kms-key-rotation-enabled",
        "prod",
        lambda d: set_prop(find(d, "aws:kms/key:Key", "us-east-1"), "enableKeyRotation", UNKNOWN),
    ),
    (
        "aws-sns-topic-encrypted",
        "prod",
        lambda d: set_prop(find(d, "aws:sns/topic:Topic", "us-east-1"), "kmsMasterKeyId", UNKNOWN),
    ),
    (
        "aws-taggable-resource-required-tags",
        "prod",
        lambda d: set_prop(find(d, "pulumi:providers:aws"), "defaultTags", UNKNOWN),
    ),
    (
        "aws-cfg-stack-is-configtrail",
        "prod",
        lambda d: set_prop(find(d, "aws:cfg/recorder:Recorder", "us-east-1"), "name", UNKNOWN),
    ),
    (
        "aws-provider-region-known",
        "prod",
        lambda d: set_prop(find(d, "aws:cfg/recorder:Recorder", "us-west-2"), "region", UNKNOWN),
    ),
    (
        "aws-resource-policy-estate-principals",
        "prod",
        lambda d: set_prop(find(d, "aws:kms/key:Key", "us-east-1"), "policy", UNKNOWN),
    ),
    (
        "aws-s3-bucket-acls-disabled",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "archive"),
            "rule",
            {"objectOwnership": UNKNOWN},
        ),
    ),
    ("aws-s3-bucket-single-policy", "prod", _unknown_bucket_names),
    (
        "aws-cfg-recorder-role-own-account",
        "prod",
        lambda d: set_prop(find(d, "aws:cfg/recorder:Recorder", "us-east-1"), "roleArn", UNKNOWN),
    ),
    (
        "aws-provider-estate-account-region",
        "prod",
        lambda d: set_prop(find(d, "pulumi:providers:aws"), "allowedAccountIds", UNKNOWN),
    ),
    # History invariants (test_invariants_history.py): unknowns of each kind.
    (
        "aws-cfg-deliverychannel-archive-bucket",
        "prod",
        lambda d: (
            set_prop(
                find(d, "aws:cfg/deliveryChannel:DeliveryChannel", "us-east-1"),
                "s3BucketName",
                UNKNOWN,
            ),
            set_prop(find(d, BUCKET, "archive"), "bucket", UNKNOWN),
        ),
    ),
    ("aws-cfg-deliverychannel-one-per-region", "prod", lambda d: None),
    (
        "aws-cfg-deliverychannel-estate-accounts",
        "prod",
        lambda d: _unlinked(
            find(d, "aws:cfg/deliveryChannel:DeliveryChannel", "us-east-1"), "snsTopicArn"
        ),
    ),
    (
        "aws-s3-bucket-access-logging",
        "prod",
        lambda d: _unlinked(find(d, "aws:s3/bucketLogging:BucketLogging", "vault"), "targetBucket"),
    ),
    (
        "aws-s3-bucket-vault-replication",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketReplicationConfig:BucketReplicationConfig"), "rules", UNKNOWN
        ),
    ),
    (
        "aws-s3-bucket-vault-object-lock",
        "prod",
        lambda d: set_prop(
            find(d, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"),
            "rule",
            {"defaultRetention": {"mode": "COMPLIANCE", "days": UNKNOWN}},
        ),
    ),
    (
        "aws-kms-key-history-protected",
        "prod",
        lambda d: set_prop(find(d, "aws:kms/key:Key", "us-east-1"), "description", UNKNOWN),
    ),
    (
        "aws-cfg-recorded-regions-complete",
        "prod",
        lambda d: set_prop(find(d, "aws:cfg/recorder:Recorder", "us-east-1"), "name", UNKNOWN),
    ),
    (
        "aws-cfg-rule-selected-rules-present",
        "prod",
        lambda d: set_prop(find(d, "aws:cfg/rule:Rule"), "name", UNKNOWN),
    ),
    (
        "aws-s3-bucket-no-legacy-inline-arguments",
        "prod",
        lambda d: set_prop(find(d, BUCKET, "archive"), "bucket", UNKNOWN),
    ),
]


def _unlinked(state, key):
    """`key` unknown, and not computed from a resource of this stack (no dependency)."""
    set_prop(state, key, UNKNOWN)
    state.get("propertyDependencies", {}).pop(key, None)


def test_every_policy_that_is_mandatory_somewhere_has_a_case():
    from tests.policies.conftest import env_config

    mandatory_in_prod = {
        name
        for name, rule in BY_NAME.items()
        if env_config("prod").get(name, {}) != "advisory"
        and (env_config("prod").get(name) or {}).get("enforcementLevel", "mandatory") == "mandatory"
    }
    assert mandatory_in_prod <= {case[0] for case in CASES}


@pytest.mark.slow
@pytest.mark.parametrize(("policy", "env", "mutate"), CASES, ids=[c[0] for c in CASES])
def test_unknown_value_behaviour(plan_documents, run, policy, env, mutate):
    document = copy.deepcopy(plan_documents[env]["preview"])
    mutate(document)
    report = run(document, env)
    found = [f for f in report.findings if f.policy == policy]
    behaviour = BY_NAME[policy].unknowns
    if behaviour == FAIL_CLOSED:
        assert found and all(f.level == "mandatory" for f in found), found
        assert any(
            "unknown during preview" in f.message or "neither a bucket of this stack" in f.message
            for f in found
        ), found
        assert not report.passed
    elif behaviour == WAIT:
        assert found and all(f.level == "advisory" and f.unknown_downgrade for f in found), found
    else:
        assert behaviour == NOT_AFFECTED
        assert not found, found
