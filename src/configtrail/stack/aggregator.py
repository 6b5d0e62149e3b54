"""The organization view of an `aggregator` stack: an AWS Config aggregator over every account and
region of the organization, in the delegated-administrator (audit) account.

AWS Config reads the organization through a role it assumes, which carries AWS's managed policy
`AWSConfigRoleForOrganizations` (organizations:Describe*/List*). Before the first deploy an
administrator enables trusted access for AWS Config in AWS Organizations and registers this
account as a delegated administrator for config.amazonaws.com (README, "Organization set-up");
otherwise PutConfigurationAggregator fails with OrganizationAccessDeniedException.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.stack import documents
from configtrail.stack.base import Account, child, json_policy

ORGANIZATIONS_MANAGED_POLICY = "policy/service-role/AWSConfigRoleForOrganizations"


@dataclass(frozen=True)
class OrganizationAggregatorArgs:
    aggregator_name: str
    role_name: str
    account: Account
    region: str


class OrganizationAggregator(pulumi.ComponentResource):
    """Exposes `arn` and `name` of the aggregator."""

    def __init__(
        self,
        name: str,
        args: OrganizationAggregatorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("configtrail:organization:OrganizationAggregator", name, None, opts)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="ConfigTrail: lets AWS Config read the organization for the aggregator",
            permissions_boundary=args.account.workload_boundary,
            assume_role_policy=json_policy(
                args.account.account_id,
                build=lambda account: documents.service_trust_policy(
                    documents.CONFIG_PRINCIPAL, account
                ),
            ),
            opts=child(self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-organizations-read",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", args.account.partition, f":iam::aws:{ORGANIZATIONS_MANAGED_POLICY}"
            ),
            opts=child(self),
        )
        aggregator = aws.cfg.ConfigurationAggregator(
            name,
            name=args.aggregator_name,
            organization_aggregation_source={"all_regions": True, "role_arn": role.arn},
            region=args.region,
            # The role must carry its policy before Config first uses it.
            opts=child(self, depends_on=[attachment]),
        )
        self.arn = aggregator.arn
        self.name = aggregator.name
        self.register_outputs({"arn": self.arn, "name": self.name})
