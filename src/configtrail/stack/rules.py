"""AWS-managed Config rules for AI/ML systems, from the catalog in `configtrail/data`, created in
one region once its recorder is started (a rule on a stopped recorder evaluates nothing).

Each rule carries the parameters AWS requires of it (catalog defaults, overridden per stack) and an
execution frequency only if AWS evaluates it periodically: PutConfigRule rejects a missing
required parameter, and a frequency on a rule that is triggered by changes only."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.catalog import ManagedRule
from configtrail.stack import names
from configtrail.stack.base import child


@dataclass(frozen=True)
class ManagedRulesArgs:
    stack: str
    region: str
    rules: list[ManagedRule]
    # Rule identifier -> input parameters as AWS takes them (strings).
    parameters: dict[str, dict[str, str]]
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
            rule_name = names.rule_name(args.stack, rule.rule_name)
            parameters = args.parameters.get(rule.identifier) or {}
            aws.cfg.Rule(
                f"{name}-{rule.rule_name}",
                name=rule_name,
                description=rule.description,
                source={"owner": "AWS", "source_identifier": rule.identifier},
                input_parameters=json.dumps(parameters, sort_keys=True) if parameters else None,
                maximum_execution_frequency=args.periodic_frequency if rule.periodic else None,
                region=args.region,
                opts=child(self, depends_on=args.after),
            )
            self.names.append(rule_name)
        self.register_outputs({"names": self.names})
