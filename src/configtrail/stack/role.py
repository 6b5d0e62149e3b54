"""The identity AWS Config records with.

By default the service-linked role `AWSServiceRoleForConfig`: Security Hub control Config.1
(severity Critical) fails for any other role. AWS allows one per account, so an environment either
creates it or uses the one that exists. A custom role is the explicit alternative: it trusts only
this account's AWS Config, gets AWS's managed read policy and may write only to the archive prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from configtrail.stack import documents
from configtrail.stack.base import Account, child, json_policy

SERVICE_LINKED_ROLE_NAME = "AWSServiceRoleForConfig"
CONFIG_MANAGED_POLICY = "policy/service-role/AWS_ConfigRole"


@dataclass(frozen=True)
class RecorderRoleArgs:
    mode: str  # "service-linked" | "custom"
    service_linked_role: str  # "create" | "existing"
    role_name: str
    account: Account
    archive_arn: pulumi.Input[str]
    key_prefix: str
    kms_key_arn: pulumi.Input[str] | None = None
    topic_arns: list[pulumi.Input[str]] = field(default_factory=list)


class RecorderRole(pulumi.ComponentResource):
    """Exposes `arn`: the role every regional recorder uses."""

    def __init__(
        self, name: str, args: RecorderRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:identity:RecorderRole", name, None, opts)
        if args.mode == "custom":
            self.arn = self._custom_role(name, args)
        elif args.service_linked_role == "create":
            self.arn = aws.iam.ServiceLinkedRole(
                f"{name}-service-linked",
                aws_service_name=documents.CONFIG_PRINCIPAL,
                description="AWS Config service-linked role, managed by ConfigTrail",
                opts=child(self),
            ).arn
        else:
            self.arn = pulumi.Output.concat(
                "arn:",
                args.account.partition,
                ":iam::",
                args.account.account_id,
                f":role/aws-service-role/{documents.CONFIG_PRINCIPAL}/{SERVICE_LINKED_ROLE_NAME}",
            )
        self.register_outputs({"arn": self.arn})

    def _custom_role(self, name: str, args: RecorderRoleArgs) -> pulumi.Output[str]:
        role = aws.iam.Role(
            f"{name}-custom",
            name=args.role_name,
            description="ConfigTrail: role AWS Config records and delivers with",
            permissions_boundary=args.account.workload_boundary,
            assume_role_policy=json_policy(
                args.account.account_id,
                build=lambda account: documents.service_trust_policy(
                    documents.CONFIG_PRINCIPAL, account
                ),
            ),
            opts=child(self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-aws-config-role",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", args.account.partition, f":iam::aws:{CONFIG_MANAGED_POLICY}"
            ),
            opts=child(self),
        )
        extras = [args.kms_key_arn or "", *args.topic_arns]
        aws.iam.RolePolicy(
            f"{name}-delivery",
            role=role.id,
            policy=json_policy(
                args.archive_arn,
                args.account.account_id,
                *extras,
                build=lambda bucket, account, kms, *topics: documents.recorder_delivery_policy(
                    bucket, args.key_prefix, account, kms or None, list(topics)
                ),
            ),
            opts=child(self),
        )
        return role.arn
