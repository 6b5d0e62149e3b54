"""Every environment's plan passes every mandatory policy, in both shapes the engine sees (after
an `up`, and a first preview); dev's explicit weaker choices are reported as advisory; and each
policy has a compliant case: a plan with the resources it checks and no finding."""

from __future__ import annotations

import pytest
from configtrail_policies.pack import definitions

from tests.policies.conftest import ENVS
from tests.policies.test_common import DEV_ADVISORY

# The resources each policy judges, all present in the compliant plans (prod, custom role).
SUBJECTS = {
    "aws-s3-bucket-versioning-enabled": "aws:s3/bucketVersioning:BucketVersioning",
    "aws-s3-bucket-default-encryption-kms": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",  # noqa: E501 (type tokens)
    "aws-s3-bucket-public-access-blocked": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws-s3-bucket-tls-only": "aws:s3/bucketPolicy:BucketPolicy",
    "aws-s3-bucket-config-delivery-policy": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-s3-bucket-disallow-force-destroy": "aws:s3/bucket:Bucket",
    "aws-s3-bucket-protected": "aws:s3/bucket:Bucket",
    "aws-s3-bucket-lifecycle-keeps-history": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",  # noqa: E501 (type tokens)
    "aws-s3-bucket-no-object-lock-on-delivery": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",  # noqa: E501 (type tokens)
    "aws-s3-bucket-history-controls-present": "aws:s3/bucket:Bucket",
    "aws-cfg-recorder-recording-scope": "aws:cfg/recorder:Recorder",
    "aws-cfg-recorder-global-types-once": "aws:cfg/recorder:Recorder",
    "aws-cfg-recorder-delivery-channel": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-cfg-recorder-status-enabled": "aws:cfg/recorderStatus:RecorderStatus",
    "aws-cfg-deliverychannel-delivery-frequency": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-cfg-retentionconfiguration-minimum-days": "aws:cfg/retentionConfiguration:RetentionConfiguration",  # noqa: E501 (type tokens)
    "aws-cfg-recorder-continuous-recording": "aws:cfg/recorder:Recorder",
    "aws-cfg-recorder-churny-types-daily": "aws:cfg/recorder:Recorder",
    "aws-iam-role-config-trust": "aws:iam/role:Role",
    "aws-iam-policy-no-admin-statements": "aws:iam/rolePolicy:RolePolicy",
    "aws-iam-role-no-administrator-access": "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws-kms-key-rotation-enabled": "aws:kms/key:Key",
    "aws-sns-topic-encrypted": "aws:sns/topic:Topic",
    "aws-taggable-resource-required-tags": "aws:cfg/rule:Rule",
    "aws-cfg-stack-is-configtrail": "aws:cfg/recorder:Recorder",
    "aws-provider-region-known": "aws:cfg/recorder:Recorder",
    "aws-resource-policy-estate-principals": "aws:kms/key:Key",
    "aws-s3-bucket-acls-disabled": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws-s3-bucket-single-policy": "aws:s3/bucketPolicy:BucketPolicy",
    "aws-cfg-recorder-role-own-account": "aws:cfg/recorder:Recorder",
    "aws-provider-estate-account-region": "pulumi:providers:aws",
    "aws-cfg-deliverychannel-archive-bucket": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-cfg-deliverychannel-one-per-region": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-cfg-deliverychannel-estate-accounts": "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws-s3-bucket-access-logging": "aws:s3/bucketLogging:BucketLogging",
    "aws-s3-bucket-vault-replication": "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws-s3-bucket-vault-object-lock": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",  # noqa: E501 (type tokens)
    "aws-kms-key-history-protected": "aws:kms/key:Key",
    "aws-cfg-recorded-regions-complete": "aws:cfg/recorder:Recorder",
    "aws-cfg-rule-selected-rules-present": "aws:cfg/rule:Rule",
    "aws-s3-bucket-no-legacy-inline-arguments": "aws:s3/bucket:Bucket",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stack", "preview"])
@pytest.mark.parametrize("env", ENVS)
def test_environment_passes_every_mandatory_policy(plan_documents, run, env, kind):
    report = run(plan_documents[env][kind], env)
    assert report.passed, [(f.policy, f.resource_name, f.message) for f in report.mandatory]
    real = {f.policy for f in report.advisory if not f.unknown_downgrade}
    assert real == (DEV_ADVISORY if env == "dev" else set())


@pytest.mark.slow
def test_every_policy_has_a_compliant_case(plan_documents, run):
    for env in ("prod", "customrole"):
        report = run(plan_documents[env]["stack"], env)
        assert not report.findings, [(f.policy, f.message) for f in report.findings]
    present = {
        state["type"]
        for env in ("prod", "customrole")
        for state in plan_documents[env]["stack"]["deployment"]["resources"]
    }
    assert set(SUBJECTS) == {definition.name for definition in definitions()}
    assert set(SUBJECTS.values()) <= present
