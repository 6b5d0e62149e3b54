"""AWS-managed Config rules for AI/ML systems, from the catalog in `configtrail/data`, created in
one region once its recorder is started (a rule on a stopped recorder evaluates nothing)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.catalog import ManagedRule
from configtrail.stack.base import child


@dataclass(frozen=True)
class ManagedRulesArgs:
    region: str
    rules: list[ManagedRule]
    periodic_frequency: str
    after: list[pulumi.Resource]


class ManagedRules(pulumi.ComponentResource):
    """Exposes `names`: the Config rule names created in this region."""

    def __init__(
        self, name: str, args: ManagedRulesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:rules:ManagedRules", name, None, opts)
        self.names = []
        for rule in args.rules:
            aws.cfg.Rule(
                f"{name}-{rule.rule_name.removeprefix('configtrail-')}",
                name=rule.rule_name,
                description=rule.description,
                source={"owner": "AWS", "source_identifier": rule.identifier},
                maximum_execution_frequency=args.periodic_frequency if rule.periodic else None,
                region=args.region,
                opts=child(self, depends_on=args.after),
            )
            self.names.append(rule.rule_name)
        self.register_outputs({"names": self.names})
