"""IAM documents of the bootstrap roles, as plain data built by pure functions (tested without
Pulumi).

Trust: GitHub's OIDC tokens with audience `sts.amazonaws.com` and an exact `sub`. A stack's
preview role takes pull requests and runs on the default branch (drift checks); its deploy role
takes only jobs in the GitHub environment named after the stack, where approvals are enforced;
the archive-admin role of a protected archive only jobs in `<stack>-archive-admin`. Never a
wildcard subject.

Permissions: one stack each, scoped to the names that stack gives its resources
(`configtrail-<stack>-…`) where AWS offers name-scoped ARNs (S3 buckets, IAM roles, SNS topics, KMS
aliases, Glue, Athena). AWS Config and KMS key creation have no such ARNs, so those statements use
`*` within the account: one account per stack is the stronger isolation, which is what the estate
gives an organization.

Escalation is closed three ways: every pipeline role carries the account's deploy boundary
(`<rolePrefix>-boundary`: no IAM users, keys or policies, no change to the pipeline's own roles or
to the OIDC provider, no Organizations writes, no role hopping); a deploy role may create or
give an inline policy to a role only when that role carries the workload boundary
(`configtrail-pipeline-boundary`: no IAM, no STS, nothing that deletes or expires history); and no
role may remove a boundary. The recorded history is never readable or deletable by a deploy role,
and a protected archive's bucket policy, lifecycle, versioning, replication and key deletion are
denied to it outright: those changes go through the archive-admin role (README, "Pipeline").

The audit role only reads recorded history: list the archive under its key prefix, get the
deliveries under `<keyPrefix>/AWSLogs/`, decrypt with the archive's key through S3, and a deny of
every other action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from configtrail.stack import names

if TYPE_CHECKING:
    from configtrail.bootstrap.audit import Archive

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
CONFIG_SERVICE = "config.amazonaws.com"
CONFIG_MANAGED_POLICY = "policy/service-role/AWS_ConfigRole"
# The managed policy of the organization aggregator's role (configtrail/stack/aggregator.py).
ORGANIZATIONS_MANAGED_POLICY = "policy/service-role/AWSConfigRoleForOrganizations"
# The encryption-context key of the stacks' Pulumi secrets (awskms provider, `context_stack=`).
SECRETS_CONTEXT_KEY = "stack"

Document = dict[str, Any]


@dataclass(frozen=True)
class Backend:
    """A self-managed Pulumi backend: the state bucket and the account's secrets key."""

    state_bucket: str
    secrets_key_alias: str
    region: str

    def secrets_provider(self, stack: str) -> str:
        """The stack's `--secrets-provider`: the account's key, bound to the stack by the
        encryption context, so a role allowed one stack's context decrypts nothing else."""
        return (
            f"awskms://{self.secrets_key_alias}?region={self.region}"
            f"&context_{SECRETS_CONTEXT_KEY}={stack}"
        )


def stack_prefix(stack: str) -> str:
    return f"{names.resource_prefix(stack)}-"


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def branch_subject(repository: str, branch: str) -> str:
    return f"repo:{repository}:ref:refs/heads/{branch}"


def environment_subject(repository: str, env: str) -> str:
    return f"repo:{repository}:environment:{env}"


def provider_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"


def policy_arn(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:policy/{name}"


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


def _glue_database(stack: str) -> str:
    """The Glue database of a stack's Athena tables (configtrail/stack/athena.database_name)."""
    from configtrail.stack.athena import database_name

    return database_name(stack)


def _arns(partition: str, account: str, stack: str) -> dict[str, Any]:
    """Name-scoped ARNs of what the recording stack `stack` creates."""
    prefix = stack_prefix(stack)
    database = _glue_database(stack)
    return {
        "buckets": f"arn:{partition}:s3:::{prefix}*",
        "objects": f"arn:{partition}:s3:::{prefix}*/*",
        "roles": f"arn:{partition}:iam::{account}:role/{prefix}*",
        "topics": f"arn:{partition}:sns:*:{account}:{prefix}*",
        "aliases": f"arn:{partition}:kms:*:{account}:alias/{prefix}*",
        # Glue authorises table calls on the catalog, the database and the table.
        "glue": [
            f"arn:{partition}:glue:*:{account}:catalog",
            f"arn:{partition}:glue:*:{account}:database/{database}",
            f"arn:{partition}:glue:*:{account}:table/{database}/*",
        ],
        "workgroups": f"arn:{partition}:athena:*:{account}:workgroup/{prefix}*",
    }


def _no_objects(partition: str, account: str, stack: str) -> Document:
    """IAM's `*` also matches `/`, so a bucket pattern covers the bucket's objects too: deny
    every object action explicitly. The recorded history is read by people through their own
    access, never by the pipeline."""
    return {
        "Sid": "NoRecordedHistory",
        "Effect": "Deny",
        "Action": "s3:*Object*",
        "Resource": _arns(partition, account, stack)["objects"],
    }


def _service_linked_role(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:role/aws-service-role/{CONFIG_SERVICE}/*"


def _state_statements(partition: str, backend: Backend | None, stack: str, write: bool) -> list:
    """One stack's state in a self-managed backend, and its secrets (the encryption context)."""
    if backend is None:
        return []
    bucket = f"arn:{partition}:s3:::{backend.state_bucket}"
    # .pulumi/stacks/<project>/<stack>.json(.bak, .attrs), history/, backups/ and
    # locks/organization/<project>/<stack>/: IAM's * spans '/', the literal segment does not.
    own = [
        f"{bucket}/.pulumi/*/{names.PROJECT}/{stack}.json*",
        f"{bucket}/.pulumi/*/{names.PROJECT}/{stack}/*",
    ]
    statements: list[Document] = [
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {
            # The backend's layout marker; the first login of a deploy writes it.
            "Sid": "StateMeta",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"] if write else "s3:GetObject",
            "Resource": f"{bucket}/.pulumi/meta.yaml",
        },
        {
            "Sid": "StateOfThisStack",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
            if write
            else "s3:GetObject",
            "Resource": own,
        },
    ]
    statements.append(
        {
            "Sid": "SecretsOfThisStack",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt"] if write else "kms:Decrypt",
            "Resource": f"arn:{partition}:kms:{backend.region}:*:key/*",
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": backend.secrets_key_alias},
                "StringEquals": {f"kms:EncryptionContext:{SECRETS_CONTEXT_KEY}": stack},
            },
        }
    )
    return statements


def preview_permissions(
    partition: str, account: str, stack: str, backend: Backend | None = None
) -> Document:
    """Read-only: what `pulumi preview --refresh` reads of one stack; no object (no recorded
    configuration) can be read, and no other stack's state or secrets."""
    arns = _arns(partition, account, stack)
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
            "Resource": [arns["roles"], _service_linked_role(partition, account)],
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
        {
            # The program checks that the credentials belong to the stack's account.
            "Sid": "WhoAmI",
            "Effect": "Allow",
            "Action": "sts:GetCallerIdentity",
            "Resource": "*",
        },
        _no_objects(partition, account, stack),
    ]
    statements += _state_statements(partition, backend, stack, write=False)
    return {"Version": "2012-10-17", "Statement": statements}


# The bucket settings that decide whether history survives: denied to a protected archive's
# deploy role, allowed to its archive-admin role.
PROTECTED_BUCKET_ACTIONS = [
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:DeleteBucket",
]
PROTECTED_KEY_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"]


def archive_protection(partition: str, stack: str) -> list[Document]:
    """Deny the deploy role every change that could lose a protected archive's history."""
    prefix = stack_prefix(stack)
    return [
        {
            "Sid": "ProtectedArchiveSettings",
            "Effect": "Deny",
            "Action": PROTECTED_BUCKET_ACTIONS,
            "Resource": [
                f"arn:{partition}:s3:::{prefix}archive-*",
                f"arn:{partition}:s3:::{prefix}vault-*",
            ],
        },
        {
            "Sid": "ProtectedArchiveKeys",
            "Effect": "Deny",
            "Action": PROTECTED_KEY_ACTIONS,
            "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": f"alias/{prefix}*"}},
        },
    ]


def deploy_permissions(
    partition: str,
    account: str,
    stack: str,
    workload_boundary_arn: str,
    backend: Backend | None = None,
    protect_archive: bool = False,
) -> Document:
    """Create, change and delete what one stack manages, and nothing named for another stack.
    With `protect_archive`, the archive's history-deciding settings are denied (archive-admin)."""
    arns = _arns(partition, account, stack)
    managed_policies = [
        f"arn:{partition}:iam::aws:{policy}"
        for policy in (CONFIG_MANAGED_POLICY, ORGANIZATIONS_MANAGED_POLICY)
    ]
    bounded = {"StringEquals": {"iam:PermissionsBoundary": workload_boundary_arn}}
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
            "Sid": "RoleRead",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRoleTags",
            ],
            "Resource": arns["roles"],
        },
        {
            "Sid": "RoleManage",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
            ],
            "Resource": arns["roles"],
        },
        {
            # A role is created, and given inline policies, only with the workload boundary.
            "Sid": "RoleCreateOnlyBounded",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
            ],
            "Resource": arns["roles"],
            "Condition": bounded,
        },
        {
            # Only AWS's managed policies for Config (the recorder's, the organization
            # aggregator's) may be attached, and only to bounded roles.
            "Sid": "RolePolicyAttachConfigOnly",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": arns["roles"],
            "Condition": {
                "ArnEquals": {"iam:PolicyARN": managed_policies},
                **bounded,
            },
        },
        {
            "Sid": "NoBoundaryRemoval",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary"],
            "Resource": "*",
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
                "sts:GetCallerIdentity",
            ],
            "Resource": "*",
        },
        {
            "Sid": "RolePassToConfigAndS3",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [arns["roles"], _service_linked_role(partition, account)],
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
            "Resource": [arns["aliases"], f"arn:{partition}:kms:*:{account}:key/*"],
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
        _no_objects(partition, account, stack),
    ]
    if protect_archive:
        statements += archive_protection(partition, stack)
    statements += _state_statements(partition, backend, stack, write=True)
    return {"Version": "2012-10-17", "Statement": statements}


# Organizations actions that change the organization (everything but Describe*/List*).
_ORGANIZATIONS_WRITES = [
    f"organizations:{verb}*"
    for verb in (
        "Accept",
        "Attach",
        "Cancel",
        "Close",
        "Create",
        "Decline",
        "Delete",
        "Deregister",
        "Detach",
        "Disable",
        "Enable",
        "Invite",
        "Leave",
        "Move",
        "Put",
        "Register",
        "Remove",
        "Tag",
        "Untag",
        "Update",
    )
]


def deploy_boundary(partition: str, account: str, role_prefix: str) -> Document:
    """The permissions boundary of every pipeline role (`<rolePrefix>-boundary`): whatever a role's
    own policy says, no IAM users, keys, policies or identity providers, no change to the
    pipeline's roles and boundaries, no boundary removal, no role hopping, no Organizations or
    CloudTrail tampering."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WithinTheRolePolicy", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "NoIdentityAdministration",
                "Effect": "Deny",
                "Action": [
                    "iam:*User*",
                    "iam:*Group*",
                    "iam:*AccessKey*",
                    "iam:*LoginProfile*",
                    "iam:*MFADevice*",
                    "iam:*OpenIDConnectProvider*",
                    "iam:*SAMLProvider*",
                    "iam:CreatePolicy*",
                    "iam:DeletePolicy*",
                    "iam:SetDefaultPolicyVersion",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:CreateInstanceProfile",
                    "iam:AddRoleToInstanceProfile",
                    "sts:AssumeRole",
                    "account:*",
                    "cloudtrail:StopLogging",
                    "cloudtrail:DeleteTrail",
                    *_ORGANIZATIONS_WRITES,
                ],
                "Resource": "*",
            },
            {
                "Sid": "NoChangeToThePipeline",
                "Effect": "Deny",
                "NotAction": ["iam:Get*", "iam:List*"],
                "Resource": [
                    f"arn:{partition}:iam::{account}:role/{role_prefix}-*",
                    f"arn:{partition}:iam::{account}:policy/{role_prefix}-*",
                    f"arn:{partition}:iam::{account}:policy/{names.WORKLOAD_BOUNDARY}",
                ],
            },
        ],
    }


def workload_boundary() -> Document:
    """The permissions boundary of every role a stack creates (`configtrail-pipeline-boundary`):
    the recorder, replication and aggregator roles need reads, Config and S3 delivery,
    replication and KMS; nothing may administer IAM, hop roles, change the organization, or
    delete, expire or unprotect history."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WithinTheRolePolicy", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "NoEscalationNoHistoryLoss",
                "Effect": "Deny",
                "Action": [
                    "iam:*",
                    "sts:AssumeRole*",
                    "account:*",
                    *_ORGANIZATIONS_WRITES,
                    "s3:DeleteObject*",
                    "s3:DeleteBucket*",
                    "s3:PutLifecycleConfiguration",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketVersioning",
                    "s3:PutReplicationConfiguration",
                    "s3:PutBucketObjectLockConfiguration",
                    "s3:PutObjectRetention",
                    "s3:PutObjectLegalHold",
                    "s3:BypassGovernanceRetention",
                    "kms:ScheduleKeyDeletion",
                    "kms:DisableKey",
                    "kms:PutKeyPolicy",
                    "config:Delete*",
                    "config:StopConfigurationRecorder",
                    "cloudtrail:StopLogging",
                    "cloudtrail:DeleteTrail",
                ],
                "Resource": "*",
            },
        ],
    }


def secrets_key_policy(partition: str, account: str) -> Document:
    """The Pulumi secrets key: the account administers it and IAM policies grant its use (each
    stack's roles only under their own encryption context)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


# Everything the audit role may ever do; its policy denies every other action.
AUDIT_ACTIONS = ["s3:ListBucket", "s3:GetObject", "kms:Decrypt"]


def _sid(stack: str) -> str:
    return "".join(part.capitalize() for part in stack.split("-"))


def audit_permissions(partition: str, account: str, archives: list[Archive]) -> Document:
    """Read the recorded history in the archives of the audited stacks, and nothing else."""
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
