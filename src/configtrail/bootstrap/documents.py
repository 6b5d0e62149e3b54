"""IAM documents of the bootstrap roles, as plain data built by pure functions (tested without
Pulumi).

Trust: GitHub's OIDC tokens with audience `sts.amazonaws.com` and an exact `sub` — the preview role
takes pull requests and runs on the default branch (scheduled drift checks, manual previews); each
deploy role takes only jobs that run in the GitHub environment of the same name, where approvals
are enforced. Never a wildcard subject for a deploy role.

Permissions: what the recording stack (configtrail/stack/) creates, scoped to the names it gives
them (`configtrail-<env>-…`) where AWS offers name-scoped ARNs (S3 buckets, IAM roles, SNS topics,
KMS aliases). AWS Config and KMS key creation have no such ARNs, so those statements use `*`;
one AWS account per environment is the stronger isolation.

The audit role only reads recorded history: list the archive under its key prefix, get the
deliveries under `<keyPrefix>/AWSLogs/`, decrypt with the archive's key through S3 — and a deny of
every other action, so nothing attached to it later can make it write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from configtrail.bootstrap.audit import Archive

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
CONFIG_SERVICE = "config.amazonaws.com"
# The names the recording stack gives its resources (configtrail/stack/program.py).
STACK_NAME_PREFIX = "configtrail-"
CONFIG_MANAGED_POLICY = "policy/service-role/AWS_ConfigRole"
# The managed policy of the organization aggregator's role (configtrail/stack/aggregator.py).
ORGANIZATIONS_MANAGED_POLICY = "policy/service-role/AWSConfigRoleForOrganizations"
PREVIEW_SESSION_SECONDS = 3600

Document = dict[str, Any]


def stack_prefix(env: str) -> str:
    return f"{STACK_NAME_PREFIX}{env}-"


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def branch_subject(repository: str, branch: str) -> str:
    return f"repo:{repository}:ref:refs/heads/{branch}"


def environment_subject(repository: str, env: str) -> str:
    return f"repo:{repository}:environment:{env}"


def provider_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"


def github_trust(oidc_provider_arn: str, subjects: list[str]) -> Document:
    """Trust GitHub Actions tokens for exactly these subjects (StringEquals, no wildcards)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsOidc",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects,
                    }
                },
            }
        ],
    }


def _glue_database(env: str) -> str:
    """The Glue database of a stack's Athena tables (configtrail/stack/athena.database_name)."""
    from configtrail.stack.athena import database_name

    return database_name(env)


def _arns(partition: str, account: str, envs: list[str]) -> dict[str, list[str]]:
    """Name-scoped ARNs of what the recording stack of `envs` creates."""
    return {
        "buckets": [f"arn:{partition}:s3:::{stack_prefix(env)}*" for env in envs],
        "roles": [f"arn:{partition}:iam::{account}:role/{stack_prefix(env)}*" for env in envs],
        "topics": [f"arn:{partition}:sns:*:{account}:{stack_prefix(env)}*" for env in envs],
        "aliases": [f"arn:{partition}:kms:*:{account}:alias/{stack_prefix(env)}*" for env in envs],
        # Glue authorises table calls on the catalog, the database and the table.
        "glue": [f"arn:{partition}:glue:*:{account}:catalog"]
        + [f"arn:{partition}:glue:*:{account}:database/{_glue_database(env)}" for env in envs]
        + [f"arn:{partition}:glue:*:{account}:table/{_glue_database(env)}/*" for env in envs],
        "workgroups": [
            f"arn:{partition}:athena:*:{account}:workgroup/{stack_prefix(env)}*" for env in envs
        ],
    }


def _no_objects(partition: str, envs: list[str]) -> Document:
    """IAM's `*` also matches `/`, so a bucket pattern covers the bucket's objects too: deny
    every object action explicitly. The recorded history is read by people through their own
    access, never by the pipeline."""
    return {
        "Sid": "NoRecordedHistory",
        "Effect": "Deny",
        "Action": "s3:*Object*",
        "Resource": [f"arn:{partition}:s3:::{stack_prefix(env)}*/*" for env in envs],
    }


def _service_linked_role(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:role/aws-service-role/{CONFIG_SERVICE}/*"


def _backend_statements(
    partition: str, state_bucket: str | None, secrets_key_arn: str | None, envs: list[str] | None
) -> list[Document]:
    """Access to a self-managed backend: read everything (preview, envs=None) or write one
    environment's state, history, backups and locks (deploy)."""
    statements: list[Document] = []
    if state_bucket:
        bucket = f"arn:{partition}:s3:::{state_bucket}"
        statements.append(
            {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket}
        )
        if envs is None:
            statements.append(
                {
                    "Sid": "StateRead",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket}/.pulumi/*",
                }
            )
        else:
            statements.append(
                {
                    "Sid": "StateReadMeta",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket}/.pulumi/meta.yaml",
                }
            )
            statements.append(
                {
                    "Sid": "StateWrite",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": [
                        f"{bucket}/.pulumi/*/configtrail/{env}{suffix}"
                        for env in envs
                        for suffix in (".json*", "/*")
                    ],
                }
            )
    if secrets_key_arn:
        actions = (
            ["kms:Decrypt"]
            if envs is None
            else ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        )
        statements.append(
            {"Sid": "SecretsKey", "Effect": "Allow", "Action": actions, "Resource": secrets_key_arn}
        )
    return statements


def preview_permissions(
    partition: str,
    account: str,
    envs: list[str],
    state_bucket: str | None = None,
    secrets_key_arn: str | None = None,
) -> Document:
    """Read-only: what `pulumi preview --refresh` reads of every environment's stack; no object
    (no recorded configuration) can be read."""
    arns = _arns(partition, account, envs)
    statements: list[Document] = [
        {
            "Sid": "ConfigRead",
            "Effect": "Allow",
            "Action": ["config:Describe*", "config:Get*", "config:List*", "config:BatchGet*"],
            "Resource": "*",
        },
        {
            "Sid": "BucketConfigurationRead",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucket*",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:GetAccelerateConfiguration",
                "s3:ListBucket",
            ],
            "Resource": arns["buckets"],
        },
        {
            "Sid": "RoleRead",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
            ],
            "Resource": [*arns["roles"], _service_linked_role(partition, account)],
        },
        {
            "Sid": "KeyRead",
            "Effect": "Allow",
            "Action": [
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:ListResourceTags",
                "kms:ListAliases",
            ],
            "Resource": "*",
        },
        {
            "Sid": "TopicRead",
            "Effect": "Allow",
            "Action": ["sns:GetTopicAttributes", "sns:ListTagsForResource"],
            "Resource": arns["topics"],
        },
        {
            "Sid": "HistoryQueriesRead",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetTags"],
            "Resource": arns["glue"],
        },
        {
            "Sid": "WorkgroupRead",
            "Effect": "Allow",
            "Action": ["athena:GetWorkGroup", "athena:ListTagsForResource"],
            "Resource": arns["workgroups"],
        },
    ]
    statements.append(_no_objects(partition, envs))
    statements += _backend_statements(partition, state_bucket, secrets_key_arn, None)
    return {"Version": "2012-10-17", "Statement": statements}


def deploy_permissions(
    partition: str,
    account: str,
    env: str,
    state_bucket: str | None = None,
    secrets_key_arn: str | None = None,
) -> Document:
    """Create, change and delete what one environment's stack manages, and nothing named for
    another environment."""
    arns = _arns(partition, account, [env])
    managed_policies = [
        f"arn:{partition}:iam::aws:{policy}"
        for policy in (CONFIG_MANAGED_POLICY, ORGANIZATIONS_MANAGED_POLICY)
    ]
    statements: list[Document] = [
        {
            "Sid": "ConfigManage",
            "Effect": "Allow",
            "Action": [
                "config:Describe*",
                "config:Get*",
                "config:List*",
                "config:BatchGet*",
                "config:Put*",
                "config:Delete*",
                "config:StartConfigurationRecorder",
                "config:StopConfigurationRecorder",
                "config:TagResource",
                "config:UntagResource",
            ],
            "Resource": "*",
        },
        {
            # Bucket settings; objects (the recorded history) are denied below.
            "Sid": "BucketManage",
            "Effect": "Allow",
            "Action": ["s3:CreateBucket", "s3:DeleteBucket*", "s3:Get*", "s3:List*", "s3:Put*"],
            "Resource": arns["buckets"],
        },
        {
            "Sid": "RoleManage",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ],
            "Resource": arns["roles"],
        },
        {
            # Only AWS's managed policies for Config (the recorder's, the organization
            # aggregator's) may be attached: no path to admin rights.
            "Sid": "RolePolicyAttachConfigOnly",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": arns["roles"],
            "Condition": {"ArnEquals": {"iam:PolicyARN": managed_policies}},
        },
        {
            # An organization aggregator: AWS Config checks, with the caller's permissions, that
            # this account is the organization's delegated administrator for Config.
            "Sid": "OrganizationRead",
            "Effect": "Allow",
            "Action": [
                "organizations:DescribeOrganization",
                "organizations:ListDelegatedAdministrators",
                "organizations:ListAWSServiceAccessForOrganization",
            ],
            "Resource": "*",
        },
        {
            "Sid": "RolePassToConfigAndS3",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [*arns["roles"], _service_linked_role(partition, account)],
            "Condition": {
                "StringEquals": {"iam:PassedToService": [CONFIG_SERVICE, "s3.amazonaws.com"]}
            },
        },
        {
            # The provider tags the role right after creating it (its default tags):
            # without TagRole the first deploy fails.
            "Sid": "ConfigServiceLinkedRole",
            "Effect": "Allow",
            "Action": [
                "iam:CreateServiceLinkedRole",
                "iam:GetRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:DeleteServiceLinkedRole",
                "iam:GetServiceLinkedRoleDeletionStatus",
            ],
            "Resource": _service_linked_role(partition, account),
            "Condition": {"StringEqualsIfExists": {"iam:AWSServiceName": CONFIG_SERVICE}},
        },
        {
            "Sid": "KeyCreate",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:ListAliases"],
            "Resource": "*",
        },
        {
            "Sid": "KeyManage",
            "Effect": "Allow",
            "Action": [
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:PutKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:EnableKeyRotation",
                "kms:DisableKeyRotation",
                "kms:ListResourceTags",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:UpdateKeyDescription",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
            ],
            "Resource": f"arn:{partition}:kms:*:{account}:key/*",
        },
        {
            # An alias operation is authorised on both the alias and the key it points to.
            "Sid": "AliasManage",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": [*arns["aliases"], f"arn:{partition}:kms:*:{account}:key/*"],
        },
        {
            "Sid": "TopicManage",
            "Effect": "Allow",
            "Action": [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:ListTagsForResource",
            ],
            "Resource": arns["topics"],
        },
        {
            "Sid": "HistoryQueriesManage",
            "Effect": "Allow",
            "Action": [
                "glue:CreateDatabase",
                "glue:DeleteDatabase",
                "glue:GetDatabase",
                "glue:UpdateDatabase",
                "glue:CreateTable",
                "glue:DeleteTable",
                "glue:GetTable",
                "glue:UpdateTable",
                "glue:GetTags",
                "glue:TagResource",
                "glue:UntagResource",
            ],
            "Resource": arns["glue"],
        },
        {
            "Sid": "WorkgroupManage",
            "Effect": "Allow",
            "Action": [
                "athena:CreateWorkGroup",
                "athena:DeleteWorkGroup",
                "athena:GetWorkGroup",
                "athena:UpdateWorkGroup",
                "athena:ListTagsForResource",
                "athena:TagResource",
                "athena:UntagResource",
            ],
            "Resource": arns["workgroups"],
        },
    ]
    statements.append(_no_objects(partition, [env]))
    statements += _backend_statements(partition, state_bucket, secrets_key_arn, [env])
    return {"Version": "2012-10-17", "Statement": statements}


# Everything the audit role may ever do; its policy denies every other action.
AUDIT_ACTIONS = ["s3:ListBucket", "s3:GetObject", "kms:Decrypt"]


def _sid(env: str) -> str:
    return "".join(part.capitalize() for part in env.split("-"))


def audit_permissions(partition: str, account: str, archives: list[Archive]) -> Document:
    """Read the recorded history in the archives of the audited environments, and nothing else."""
    statements: list[Document] = []
    for archive in archives:
        bucket = f"arn:{partition}:s3:::{archive.bucket(account)}"
        statements += [
            {
                "Sid": f"ListArchive{_sid(archive.env)}",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                # The report lists s3://<archive>/<keyPrefix>; no listing of anything else.
                "Condition": {
                    "StringLike": {"s3:prefix": [archive.key_prefix, f"{archive.key_prefix}/*"]}
                },
            },
            {
                "Sid": f"ReadHistory{_sid(archive.env)}",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{bucket}/{archive.key_prefix}/AWSLogs/*",
            },
        ]
        if archive.key_alias:
            statements.append(
                {
                    # The key is created by the recording stack, so its id is unknown here: the
                    # alias that stack gives it names it, and only S3 may use it for the role.
                    "Sid": f"DecryptHistory{_sid(archive.env)}",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": f"arn:{partition}:kms:{archive.region}:{account}:key/*",
                    "Condition": {
                        "ForAnyValue:StringEquals": {"kms:ResourceAliases": archive.key_alias},
                        "StringEquals": {"kms:ViaService": f"s3.{archive.region}.amazonaws.com"},
                    },
                }
            )
    statements.append(
        {
            "Sid": "ReadOnlyNothingElse",
            "Effect": "Deny",
            "NotAction": AUDIT_ACTIONS,
            "Resource": "*",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
