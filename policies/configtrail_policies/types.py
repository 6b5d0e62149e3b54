"""Resource type tokens the pack reads (pulumi-aws v7, with the v6 `...V2` names still accepted,
so a stack that has not finished migrating is checked too)."""

from __future__ import annotations

BUCKET = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
VERSIONING = frozenset(
    {
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
    }
)
ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
PUBLIC_ACCESS_BLOCK = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
BUCKET_POLICY = frozenset({"aws:s3/bucketPolicy:BucketPolicy"})
LIFECYCLE = frozenset(
    {
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    }
)
OBJECT_LOCK = frozenset(
    {
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
    }
)
# ACL controls: judged by the access policies (access.py), not part of the required companions.
OWNERSHIP_CONTROLS = frozenset({"aws:s3/bucketOwnershipControls:BucketOwnershipControls"})
BUCKET_ACL = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
BUCKET_COMPANIONS = (
    VERSIONING | ENCRYPTION | PUBLIC_ACCESS_BLOCK | BUCKET_POLICY | LIFECYCLE | OBJECT_LOCK
)

RECORDER = "aws:cfg/recorder:Recorder"
DELIVERY_CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"
RETENTION = "aws:cfg/retentionConfiguration:RetentionConfiguration"

ROLE = "aws:iam/role:Role"
# Resources whose `policy` input is an IAM identity policy document.
IDENTITY_POLICIES = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
POLICY_ATTACHMENTS = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
# Resources whose `policy` input is a resource policy document (who may use the resource).
RESOURCE_POLICIES = BUCKET_POLICY | {KMS_KEY, KMS_KEY_POLICY, SNS_TOPIC, SNS_TOPIC_POLICY}

AWS_PROVIDER = "pulumi:providers:aws"

# Read by the history invariants (delivery.py, vault.py, coverage.py), not bucket companions of
# aws-s3-bucket-history-controls-present.
LOGGING = frozenset(
    {"aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"}
)
REPLICATION = frozenset({"aws:s3/bucketReplicationConfig:BucketReplicationConfig"})
RULE = "aws:cfg/rule:Rule"
RULE_PATTERN = "aws:cfg/rule*:Rule*"
