"""The history store: a customer key, the hardened archive bucket AWS Config delivers to, and the
optional write-once vault the archive replicates into.

AWS Config cannot deliver to a bucket with Object Lock, so write-once history is a replica: the
archive replicates every new object version into the vault, which has Object Lock. Deletes are not
replicated, so nothing removed from the archive disappears from the vault.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.stack import documents
from configtrail.stack.base import Account, child, json_policy

GLACIER_IR = "GLACIER_IR"


@dataclass(frozen=True)
class ConfigKeyArgs:
    region: str
    alias: str
    account: Account
    protect: bool
    # Accounts whose AWS Config may use the key (the archive key's delivering accounts).
    config_accounts: list[str]
    organization_id: str | None = None


class ConfigKey(pulumi.ComponentResource):
    """A rotating customer-managed KMS key that AWS Config may use (archive, vault, topics)."""

    def __init__(self, name: str, args: ConfigKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("configtrail:archive:ConfigKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description="ConfigTrail: encrypts AWS Config history and notifications "
            f"({args.region})",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json_policy(
                args.account.account_id,
                args.account.partition,
                build=lambda account, partition: documents.config_key_policy(
                    account, partition, args.config_accounts, args.organization_id
                ),
            ),
            region=args.region,
            opts=child(self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=self.key.key_id,
            region=args.region,
            opts=child(self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True, kw_only=True)
class BucketArgs:
    bucket_name: pulumi.Input[str]
    region: str
    account: Account
    kms_key_arn: pulumi.Input[str] | None
    protect: bool
    # Where reads and writes of this bucket are logged (S3 server access logging); None: nowhere.
    access_log_bucket: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class AccessLogBucketArgs(BucketArgs):
    source_names: list[pulumi.Input[str]]
    transition_days: int | None


class AccessLogBucket(pulumi.ComponentResource):
    """Server access logs of the history buckets in one region: who read or wrote history.

    SSE-S3, because S3 server access logging cannot deliver to a bucket whose default encryption
    is SSE-KMS. It cannot log to itself. Expiry is never set: the logs are audit evidence too.
    """

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:archive:AccessLogBucket", name, None, opts)
        hardened = hardened_bucket(self, name, args)
        self.bucket, self.arn = hardened.bucket, hardened.arn
        versioning, public_access_block = hardened.versioning, hardened.public_access_block
        source_arns = [
            pulumi.Output.concat("arn:", args.account.partition, ":s3:::", source)
            for source in args.source_names
        ]
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.bucket,
            policy=json_policy(
                self.arn,
                args.account.account_id,
                *source_arns,
                build=lambda arn, account, *sources: documents.access_log_bucket_policy(
                    arn, account, list(sources)
                ),
            ),
            region=args.region,
            opts=child(self, depends_on=[public_access_block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[_lifecycle_rule(args.transition_days, None)],
            region=args.region,
            opts=child(self, depends_on=[versioning]),
        )
        self.name = self.bucket.bucket
        self.register_outputs({"name": self.name, "arn": self.arn})


def bucket_arn(account: Account, bucket: aws.s3.Bucket) -> pulumi.Output[str]:
    """The bucket's ARN built from its name, so it is known already at preview."""
    return pulumi.Output.concat("arn:", account.partition, ":s3:::", bucket.bucket)


@dataclass(frozen=True)
class HardenedBucket:
    """A bucket with everything `_harden` adds, and its ARN (known at preview)."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    public_access_block: aws.s3.BucketPublicAccessBlock
    arn: pulumi.Output[str]


def hardened_bucket(
    parent: pulumi.Resource, name: str, args: BucketArgs, *, object_lock: bool = False
) -> HardenedBucket:
    """A history bucket: never force-destroyed, protected as the environment says, hardened.
    Object Lock only where asked (AWS Config cannot deliver into a locked bucket)."""
    bucket = aws.s3.Bucket(
        name,
        bucket=args.bucket_name,
        force_destroy=False,
        object_lock_enabled=True if object_lock else None,
        region=args.region,
        opts=child(parent, protect=args.protect),
    )
    versioning, public_access_block = _harden(parent, name, bucket, args)
    return HardenedBucket(bucket, versioning, public_access_block, bucket_arn(args.account, bucket))


def _harden(
    parent: pulumi.Resource, name: str, bucket: aws.s3.Bucket, args: BucketArgs
) -> tuple[aws.s3.BucketVersioning, aws.s3.BucketPublicAccessBlock]:
    """Versioning, default encryption, no public access, no ACLs: what every history bucket has."""
    # Children name the bucket by its (known-at-preview) name rather than its id, so a first
    # `pulumi preview` and the policy pack see real values.
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.bucket,
        versioning_configuration={"status": "Enabled"},
        region=args.region,
        opts=child(parent),
    )
    if args.kms_key_arn is not None:
        default = {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
    else:
        default = {"sse_algorithm": "AES256"}
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.bucket,
        rules=[
            {
                "apply_server_side_encryption_by_default": default,
                "bucket_key_enabled": args.kms_key_arn is not None,
            }
        ],
        region=args.region,
        opts=child(parent),
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=args.region,
        opts=child(parent),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.bucket,
        rule={"object_ownership": "BucketOwnerEnforced"},
        region=args.region,
        opts=child(parent),
    )
    if args.access_log_bucket is not None:
        aws.s3.BucketLogging(
            f"{name}-access-logging",
            bucket=bucket.bucket,
            target_bucket=args.access_log_bucket,
            target_prefix=pulumi.Output.concat(bucket.bucket, "/"),
            region=args.region,
            opts=child(parent),
        )
    return versioning, public_access_block


@dataclass(frozen=True, kw_only=True)
class ArchiveBucketArgs(BucketArgs):
    key_prefix: str
    transition_days: int | None
    expiration_days: int | None
    # Accounts whose AWS Config delivers here, each to its own AWSLogs/<account>/Config/ prefix.
    delivering_accounts: list[str]
    organization_id: str | None = None


class ArchiveBucket(pulumi.ComponentResource):
    """The bucket AWS Config delivers history to, with the policy Config needs to do so."""

    def __init__(
        self, name: str, args: ArchiveBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:archive:ArchiveBucket", name, None, opts)
        hardened = hardened_bucket(self, name, args)
        self.bucket, self.arn = hardened.bucket, hardened.arn
        self.versioning, public_access_block = hardened.versioning, hardened.public_access_block
        # Waits for the public-access block so the two never race on a new bucket.
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.bucket,
            policy=json_policy(
                self.arn,
                build=lambda arn: documents.archive_bucket_policy(
                    arn, args.delivering_accounts, args.key_prefix, args.organization_id
                ),
            ),
            region=args.region,
            opts=child(self, depends_on=[public_access_block]),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[_lifecycle_rule(args.transition_days, args.expiration_days)],
            region=args.region,
            opts=child(self, depends_on=[self.versioning]),
        )
        self.region = args.region
        self.name = self.bucket.bucket
        self.register_outputs({"name": self.name, "arn": self.arn})


def _lifecycle_rule(transition_days: int | None, expiration_days: int | None) -> dict:
    """Move history to colder storage; expire it only when the environment says so (validated
    to be no earlier than Config's own retention). Incomplete uploads are the only thing
    cleaned up unconditionally."""
    rule: dict = {
        "id": "history-retention",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }
    if transition_days is not None:
        rule["transitions"] = [{"days": transition_days, "storage_class": GLACIER_IR}]
        rule["noncurrent_version_transitions"] = [
            {"noncurrent_days": transition_days, "storage_class": GLACIER_IR}
        ]
    if expiration_days is not None:
        rule["expiration"] = {"days": expiration_days}
        rule["noncurrent_version_expiration"] = {"noncurrent_days": expiration_days}
    return rule


@dataclass(frozen=True, kw_only=True)
class HistoryVaultArgs(BucketArgs):
    source: ArchiveBucket
    source_kms_key_arn: pulumi.Input[str] | None
    lock_mode: str
    retention_days: int
    role_name: str
    transition_days: int | None


class HistoryVault(pulumi.ComponentResource):
    """A write-once copy of the archive: an Object Lock bucket fed by S3 replication."""

    def __init__(
        self, name: str, args: HistoryVaultArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:archive:HistoryVault", name, None, opts)
        hardened = hardened_bucket(self, name, args, object_lock=True)
        self.bucket, self.arn = hardened.bucket, hardened.arn
        versioning, public_access_block = hardened.versioning, hardened.public_access_block
        # Transitions keep Object Lock retention; the vault never expires anything.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[_lifecycle_rule(args.transition_days, None)],
            region=args.region,
            opts=child(self, depends_on=[versioning]),
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=self.bucket.bucket,
            rule={
                "default_retention": {"mode": args.lock_mode, "days": args.retention_days},
            },
            region=args.region,
            opts=child(self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.bucket,
            policy=json_policy(self.arn, build=documents.tls_only_bucket_policy),
            region=args.region,
            opts=child(self, depends_on=[public_access_block]),
        )

        key_arns = [arn for arn in (args.source_kms_key_arn, args.kms_key_arn) if arn is not None]
        self.role = aws.iam.Role(
            f"{name}-replication-role",
            name=args.role_name,
            description="ConfigTrail: S3 replication of the Config archive into the vault",
            permissions_boundary=args.account.workload_boundary,
            assume_role_policy=json_policy(
                args.account.account_id,
                build=lambda account: documents.service_trust_policy(
                    documents.S3_PRINCIPAL, account
                ),
            ),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=self.role.id,
            policy=json_policy(
                args.source.arn,
                self.arn,
                *key_arns,
                build=lambda source, destination, *keys: documents.replication_policy(
                    source, destination, list(keys)
                ),
            ),
            opts=child(self),
        )
        rule: dict = {
            "id": "archive-to-vault",
            "status": "Enabled",
            "priority": 1,
            "filter": {"prefix": ""},
            # Deletes stay in the archive: the vault keeps every version that ever arrived.
            "delete_marker_replication": {"status": "Disabled"},
            "destination": {"bucket": self.arn, "storage_class": "STANDARD"},
        }
        if args.source_kms_key_arn is not None:
            rule["source_selection_criteria"] = {"sse_kms_encrypted_objects": {"status": "Enabled"}}
            rule["destination"]["encryption_configuration"] = {
                "replica_kms_key_id": args.kms_key_arn
            }
        self.replication = aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=args.source.name,
            role=self.role.arn,
            rules=[rule],
            region=args.source.region,
            opts=child(self, depends_on=[args.source.versioning, versioning]),
        )
        self.name = self.bucket.bucket
        self.register_outputs({"name": self.name, "arn": self.arn})
