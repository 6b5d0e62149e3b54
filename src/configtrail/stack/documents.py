"""IAM, bucket, key and topic policy documents, as plain functions of plain values.

Kept apart from the components so that tests read a policy as a dict, and so that every statement
AWS Config needs is written once. Statement ids follow AWS's own documentation where it has them.
"""

from __future__ import annotations

CONFIG_PRINCIPAL = "config.amazonaws.com"
S3_PRINCIPAL = "s3.amazonaws.com"
LOGGING_PRINCIPAL = "logging.s3.amazonaws.com"


def _source_account(account_id: str) -> dict:
    # Guards against the confused-deputy problem: only this account's Config may act.
    return {"StringEquals": {"AWS:SourceAccount": account_id}}


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else sorted(values)


def _source_accounts(account_ids: list[str], organization_id: str | None) -> dict:
    """Only the listed accounts' AWS Config (and, when given, only within the organization)."""
    condition: dict = {"AWS:SourceAccount": _one_or_list(account_ids)}
    if organization_id:
        condition["aws:SourceOrgID"] = organization_id
    return condition


def delivery_object_arn(bucket_arn: str, key_prefix: str, account_id: str) -> str:
    """Where AWS Config writes: `<bucket>/<prefix>/AWSLogs/<account>/Config/*`."""
    prefix = f"{key_prefix}/" if key_prefix else ""
    return f"{bucket_arn}/{prefix}AWSLogs/{account_id}/Config/*"


def deny_insecure_transport(bucket_arn: str) -> dict:
    """CIS 2.1.1 / Security Hub S3.5: refuse any request that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def archive_bucket_policy(
    bucket_arn: str,
    account_ids: list[str],
    key_prefix: str,
    organization_id: str | None = None,
) -> dict:
    """The three statements AWS Config needs to deliver, for exactly the accounts that deliver
    here (each under its own `AWSLogs/<account>/Config/` prefix), plus a TLS-only deny. With no
    delivering account the bucket admits nobody but its owner."""
    statements: list[dict] = []
    if account_ids:
        source = _source_accounts(account_ids, organization_id)
        statements = [
            {
                "Sid": "AWSConfigBucketPermissionsCheck",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_PRINCIPAL},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": dict(source)},
            },
            {
                "Sid": "AWSConfigBucketExistenceCheck",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_PRINCIPAL},
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": dict(source)},
            },
            {
                "Sid": "AWSConfigBucketDelivery",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_PRINCIPAL},
                "Action": "s3:PutObject",
                "Resource": _one_or_list(
                    [delivery_object_arn(bucket_arn, key_prefix, a) for a in account_ids]
                ),
                "Condition": {
                    "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}
                },
            },
        ]
    return {
        "Version": "2012-10-17",
        "Statement": [*statements, deny_insecure_transport(bucket_arn)],
    }


def access_log_bucket_policy(bucket_arn: str, account_id: str, source_arns: list[str]) -> dict:
    """S3 server access logging may write into the log bucket, only for our history buckets
    (AWS's recommended grant to the logging service principal), plus a TLS-only deny."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogsPolicy",
                "Effect": "Allow",
                "Principal": {"Service": LOGGING_PRINCIPAL},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sorted(source_arns)},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            deny_insecure_transport(bucket_arn),
        ],
    }


def tls_only_bucket_policy(bucket_arn: str) -> dict:
    """Policy of a bucket nobody but its owner writes to (the vault)."""
    return {"Version": "2012-10-17", "Statement": [deny_insecure_transport(bucket_arn)]}


def config_key_policy(
    account_id: str,
    partition: str,
    config_accounts: list[str] | None = None,
    organization_id: str | None = None,
) -> dict:
    """Key policy: the owning account administers the key (so IAM policies, such as the
    replication role's, can grant its use) and AWS Config of `config_accounts` (default: the
    owner) may use it. Without the Config statement deliveries fail with AccessDenied."""
    statements = [
        {
            "Sid": "EnableAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    accounts = [account_id] if config_accounts is None else config_accounts
    if accounts:
        statements.append(
            {
                "Sid": "AWSConfigKMSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_PRINCIPAL},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": _source_accounts(accounts, organization_id)},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def config_topic_policy(topic_arn: str, account_id: str) -> dict:
    """SNS topic policy letting this account's AWS Config publish, and nobody else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSConfigSNSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": _source_account(account_id),
            }
        ],
    }


def service_trust_policy(service: str, account_id: str) -> dict:
    """Trust policy for a role that exactly one AWS service of this account may assume."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": _source_account(account_id),
            }
        ],
    }


def recorder_delivery_policy(
    bucket_arn: str,
    key_prefix: str,
    account_id: str,
    kms_key_arn: str | None,
    topic_arns: list[str],
) -> dict:
    """Inline policy of a custom recorder role: deliver to the archive prefix only, use the key,
    publish to the topics. (Reading resources comes from the managed AWS_ConfigRole.)"""
    statements = [
        {
            "Sid": "DeliverToArchive",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": delivery_object_arn(bucket_arn, key_prefix, account_id),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        {
            "Sid": "CheckArchiveAcl",
            "Effect": "Allow",
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "UseArchiveKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
            }
        )
    if topic_arns:
        statements.append(
            {
                "Sid": "PublishNotifications",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": sorted(topic_arns),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def replication_policy(source_arn: str, destination_arn: str, kms_key_arns: list[str]) -> dict:
    """What S3 replication needs to copy the archive into the vault, and nothing more."""
    statements = [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_arn,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                "s3:GetObjectRetention",
                "s3:GetObjectLegalHold",
            ],
            "Resource": f"{source_arn}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": f"{destination_arn}/*",
        },
    ]
    if kms_key_arns:
        statements.append(
            {
                "Sid": "UseArchiveKeys",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": sorted(kms_key_arns),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
