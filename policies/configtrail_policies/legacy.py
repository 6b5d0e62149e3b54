"""Legacy inputs: the inline arguments of aws.s3.Bucket that pulumi-aws v7 deprecates in favour
of separate resources (issue 10, item 1).

An inline argument and its separate resource fight over the same S3 setting: each `pulumi up`
writes one and then the other, and whichever the provider applies last wins — a versioning,
encryption, lifecycle, replication or Object Lock setting the policies approved on the separate
resource can be silently replaced by the inline one. The list is pulumi-aws v7's own: every
`aws.s3.Bucket` argument whose getter carries "<name> is deprecated. Use the s3.<Resource>
resource instead." (pulumi_aws/s3/bucket.py), with the v6 `BucketV2` plural spellings too.
"""

from __future__ import annotations

from configtrail_policies import types
from configtrail_policies.definition import NOT_AFFECTED, resource_policy
from configtrail_policies.graph import bucket_name_of
from configtrail_policies.support import Unseen, peek, shown

# Engine (camelCase) input name -> the separate resource pulumi-aws v7 says to use instead.
DEPRECATED_INPUTS: dict[str, str] = {
    "accelerationStatus": "aws.s3.BucketAccelerateConfiguration",
    "acl": "aws.s3.BucketAcl",
    "corsRules": "aws.s3.BucketCorsConfiguration",
    "grants": "aws.s3.BucketAcl",
    "lifecycleRules": "aws.s3.BucketLifecycleConfiguration",
    "logging": "aws.s3.BucketLogging",
    "loggings": "aws.s3.BucketLogging",  # v6 BucketV2
    "objectLockConfiguration": "object_lock_enabled and aws.s3.BucketObjectLockConfiguration",
    "policy": "aws.s3.BucketPolicy",
    "replicationConfiguration": "aws.s3.BucketReplicationConfig",
    "replicationConfigurations": "aws.s3.BucketReplicationConfig",  # v6 BucketV2
    "requestPayer": "aws.s3.BucketRequestPaymentConfiguration",
    "serverSideEncryptionConfiguration": "aws.s3.BucketServerSideEncryptionConfiguration",
    "serverSideEncryptionConfigurations": "aws.s3.BucketServerSideEncryptionConfiguration",
    "versioning": "aws.s3.BucketVersioning",
    "versionings": "aws.s3.BucketVersioning",  # v6 BucketV2
    "website": "aws.s3.BucketWebsiteConfiguration",
    "websites": "aws.s3.BucketWebsiteConfiguration",  # v6 BucketV2
}


def _set(value) -> bool:
    """An input counts as set unless it is absent or empty ("", [] or {}). An unknown or masked
    value was set to *something*, so it counts."""
    if isinstance(value, Unseen):
        return True
    return value not in (None, "", [], {})


@resource_policy(
    name="aws-s3-bucket-no-legacy-inline-arguments",
    description="History buckets must not use the inline arguments pulumi-aws v7 deprecates; "
    "each setting belongs in its separate aws.s3 resource.",
    severity="medium",
    unknowns=NOT_AFFECTED,
    types=types.BUCKET,
    controls=("pulumi-aws v7 aws.s3.Bucket deprecations",),
    remediation="Move the argument into its separate resource (aws.s3.BucketVersioning, "
    "BucketServerSideEncryptionConfiguration, BucketLifecycleConfiguration, BucketLogging, "
    "BucketReplicationConfig, BucketObjectLockConfiguration, BucketPolicy, BucketAcl, ...).",
)
def no_legacy_inline_arguments(args, report, settings) -> None:
    used = [key for key in DEPRECATED_INPUTS if _set(peek(args.props, key))]
    for key in used:
        report(
            f"Bucket {shown(bucket_name_of(args.props))} sets the deprecated inline argument "
            f"{key!r}: it and the separate resource overwrite each other on every update, so "
            "a setting the pack approved can be silently replaced. Remove it and use "
            f"{DEPRECATED_INPUTS[key]} instead."
        )
