"""Metadata of every policy in the pack: name, description, kind, default enforcement level,
severity, how it treats values unknown during preview, and the benchmark controls it maps to.

Data, not code: the validators live in the service modules (`s3`, `recording`, `identity`,
`tagging`), the config schemas in `config`. The README's policy table is this list.
"""

from __future__ import annotations

from dataclasses import dataclass

RESOURCE, STACK = "resource", "stack"
# How a rule treats a value that is unknown during preview:
FAIL_CLOSED = "fail-closed"  # reports a violation: the value must be known to be trusted
WAIT = "wait"  # lets the SDK report "can't run during preview" (advisory); `up` checks it
NOT_AFFECTED = "not-affected"  # reads nothing that can be unknown (options, or presence only)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    kind: str
    level: str
    severity: str
    unknowns: str
    controls: tuple[str, ...] = ()
    remediation: str = ""


RULES: tuple[Rule, ...] = (
    # --- the history buckets ---------------------------------------------------------------------
    Rule(
        "aws-s3-bucket-versioning-enabled",
        "History buckets must keep every object version (S3 versioning Enabled).",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("Security Hub S3.14", "CIS v1.4 2.1.3 (MFA delete needs it)"),
        'Set versioning_configuration.status to "Enabled" on the BucketVersioning resource.',
    ),
    Rule(
        "aws-s3-bucket-default-encryption-kms",
        "History buckets must encrypt by default, with a customer KMS key where required.",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("Security Hub S3.17", "AWS Config S3_DEFAULT_ENCRYPTION_KMS"),
        'Use sse_algorithm "aws:kms" with kms_master_key_id set to the ConfigTrail key.',
    ),
    Rule(
        "aws-s3-bucket-public-access-blocked",
        "History buckets must turn on all four S3 Block Public Access settings.",
        RESOURCE,
        "mandatory",
        "critical",
        FAIL_CLOSED,
        ("CIS v5 2.1.4", "Security Hub S3.8"),
        "Set block_public_acls, block_public_policy, ignore_public_acls and "
        "restrict_public_buckets to true.",
    ),
    Rule(
        "aws-s3-bucket-tls-only",
        "History bucket policies must deny every request that does not use TLS.",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("CIS v5 2.1.1", "Security Hub S3.5"),
        'Add a Deny statement for Principal "*", Action "s3:*" on the bucket and bucket/* '
        'with Condition Bool aws:SecureTransport = "false".',
    ),
    Rule(
        "aws-s3-bucket-config-delivery-policy",
        "A bucket that AWS Config delivers to must grant exactly Config's three delivery "
        "statements, each limited by AWS:SourceAccount.",
        STACK,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("AWS Config delivery-bucket policy", "CIS v5 3.3 (Config enabled)"),
        "Allow config.amazonaws.com s3:GetBucketAcl and s3:ListBucket on the bucket and "
        "s3:PutObject on <bucket>/<prefix>/AWSLogs/<account>/Config/*, each with "
        "StringEquals AWS:SourceAccount = <account>.",
    ),
    Rule(
        "aws-s3-bucket-disallow-force-destroy",
        "History buckets must not set forceDestroy, which deletes every object on destroy.",
        RESOURCE,
        "mandatory",
        "critical",
        FAIL_CLOSED,
        (),
        "Remove force_destroy (or set it to false).",
    ),
    Rule(
        "aws-s3-bucket-protected",
        "History buckets must be protected so that no Pulumi operation deletes them.",
        RESOURCE,
        "mandatory",
        "high",
        NOT_AFFECTED,
        (),
        "Set the protect (and retain_on_delete) resource options; the environment setting is "
        "configtrail:archiveProtect.",
    ),
    Rule(
        "aws-s3-bucket-lifecycle-keeps-history",
        "Lifecycle rules must not expire history before the minimum retention.",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("AWS Config retention (history kept at least as long as Config keeps it)",),
        "Remove expiration / noncurrent_version_expiration or raise their days to at least "
        "minRetentionDays.",
    ),
    Rule(
        "aws-s3-bucket-no-object-lock-on-delivery",
        "A bucket that AWS Config delivers to must not use S3 Object Lock.",
        STACK,
        "mandatory",
        "high",
        FAIL_CLOSED,
        (
            "AWS::Config::DeliveryChannel (Object Lock unsupported)",
            "Security Hub S3.15 via the replicated vault",
        ),
        "Deliver to a bucket without Object Lock and replicate it into an Object Lock vault.",
    ),
    Rule(
        "aws-s3-bucket-history-controls-present",
        "Every history bucket must have its versioning, encryption, public access block and "
        "bucket policy resources.",
        STACK,
        "mandatory",
        "high",
        NOT_AFFECTED,
        ("Security Hub S3.5, S3.8, S3.14, S3.17",),
        "Create the missing aws.s3 resource for the bucket (see ArchiveBucket in "
        "src/configtrail/stack/archive.py).",
    ),
    # --- recording -------------------------------------------------------------------------------
    Rule(
        "aws-cfg-recorder-recording-scope",
        "Every recorder must record all supported types or at least the AI baseline, including "
        "AWS::Config::ResourceCompliance.",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        ("CIS v5 3.3", "Security Hub Config.1"),
        "Set recording_group.all_supported, or add the missing types to resource_types.",
    ),
    Rule(
        "aws-cfg-recorder-global-types-once",
        "Global IAM resource types must be recorded in exactly one region.",
        STACK,
        "mandatory",
        "medium",
        FAIL_CLOSED,
        ("CIS v1.2 2.5 (global types in one region)",),
        "Record global types only in the home region (include_global_resource_types there, "
        "nowhere else).",
    ),
    Rule(
        "aws-cfg-recorder-delivery-channel",
        "Every recorder must have a delivery channel in its region that delivers to a bucket "
        "of this stack.",
        STACK,
        "mandatory",
        "critical",
        FAIL_CLOSED,
        ("CIS v5 3.3", "Security Hub Config.1"),
        "Create an aws.cfg.DeliveryChannel in the recorder's region with s3_bucket_name set to "
        "the archive bucket.",
    ),
    Rule(
        "aws-cfg-recorder-status-enabled",
        "Every recorder must be started by a RecorderStatus with isEnabled true.",
        STACK,
        "mandatory",
        "critical",
        FAIL_CLOSED,
        ("CIS v5 3.3", "Security Hub Config.1"),
        "Create aws.cfg.RecorderStatus(name=recorder.name, is_enabled=True) after the channel.",
    ),
    Rule(
        "aws-cfg-deliverychannel-delivery-frequency",
        "Delivery channels must deliver snapshots at least as often as configured.",
        RESOURCE,
        "mandatory",
        "medium",
        FAIL_CLOSED,
        (),
        "Set snapshot_delivery_properties.delivery_frequency to slowestDeliveryFrequency or "
        "faster (configtrail:deliveryFrequency).",
    ),
    Rule(
        "aws-cfg-retentionconfiguration-minimum-days",
        "AWS Config must keep its own history for at least the minimum retention.",
        RESOURCE,
        "mandatory",
        "high",
        FAIL_CLOSED,
        (),
        "Raise retention_period_in_days (configtrail:retentionDays) to minRetentionDays.",
    ),
    Rule(
        "aws-cfg-recorder-continuous-recording",
        "Recorders must record continuously, with only the allowed types recorded daily.",
        RESOURCE,
        "mandatory",
        "medium",
        FAIL_CLOSED,
        (),
        "Set recording_mode.recording_frequency to CONTINUOUS (configtrail:recordingFrequency) "
        "and list only dailyAllowedResourceTypes in the DAILY override.",
    ),
    Rule(
        "aws-cfg-recorder-churny-types-daily",
        "Churny resource types should be recorded daily outside the environments that accept "
        "the cost of continuous recording.",
        RESOURCE,
        "advisory",
        "low",
        WAIT,
        (),
        "Add the types to configtrail:dailyResourceTypes, or allowContinuous in this "
        "environment's policy config.",
    ),
    # --- identity and keys -----------------------------------------------------------------------
    Rule(
        "aws-iam-role-config-trust",
        "A role that AWS Config assumes must trust only config.amazonaws.com, limited by "
        "AWS:SourceAccount.",
        RESOURCE,
        "mandatory",
        "critical",
        WAIT,
        ("Security Hub Config.1 (custom role)", "confused-deputy prevention"),
        'Trust only {"Service": "config.amazonaws.com"} with StringEquals '
        "AWS:SourceAccount = <account>.",
    ),
    Rule(
        "aws-iam-policy-no-admin-statements",
        "No IAM policy may allow every action on every resource.",
        RESOURCE,
        "mandatory",
        "critical",
        WAIT,
        ("CIS v5 1.15", "Security Hub IAM.1"),
        "Grant the specific actions on the specific resources the principal needs.",
    ),
    Rule(
        "aws-iam-role-no-administrator-access",
        "No role, user or group may have the AdministratorAccess managed policy attached.",
        RESOURCE,
        "mandatory",
        "critical",
        WAIT,
        ("CIS v5 1.15", "Security Hub IAM.1"),
        "Attach a least-privilege policy instead (AWS_ConfigRole for Config).",
    ),
    Rule(
        "aws-kms-key-rotation-enabled",
        "Customer-managed symmetric KMS keys must rotate automatically.",
        RESOURCE,
        "mandatory",
        "medium",
        FAIL_CLOSED,
        ("CIS v5 3.6", "Security Hub KMS.4"),
        "Set enable_key_rotation=True.",
    ),
    Rule(
        "aws-sns-topic-encrypted",
        "SNS topics must be encrypted with a KMS key.",
        RESOURCE,
        "mandatory",
        "medium",
        NOT_AFFECTED,
        ("Security Hub SNS.1",),
        "Set kms_master_key_id to the ConfigTrail key of the topic's region.",
    ),
    # --- tags and cost ---------------------------------------------------------------------------
    Rule(
        "aws-taggable-resource-required-tags",
        "Taggable resources must carry the required tags, directly or from the provider's "
        "default tags.",
        RESOURCE,
        "advisory",
        "low",
        WAIT,
        (),
        "Add the missing keys to configtrail:tags (the provider's default_tags).",
    ),
)

BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
