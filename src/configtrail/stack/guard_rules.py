"""Custom AWS Config rules in CloudFormation Guard (owner CUSTOM_POLICY, runtime guard-2.x.x) for
the AI controls that no AWS-managed rule covers (Bedrock guardrails and knowledge bases), created
in one region once its recorder is started.

Each rule evaluates the configuration item of its control's resource types when it changes
(ConfigurationItemChangeNotification) and when the item is too large to send inline
(OversizedConfigurationItemChangeNotification); its scope names the same types, so Config never
runs it on anything else. The policy text is the catalog's Guard file with the stack's parameters
(`controls.guard_policy_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from configtrail import controls as catalog_controls
from configtrail.controls import Control
from configtrail.stack import names
from configtrail.stack.base import child

POLICY_RUNTIME = "guard-2.x.x"
# The notifications a change-triggered custom policy rule listens to (botocore's MessageType).
MESSAGE_TYPES = (
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
)


@dataclass(frozen=True)
class GuardRulesArgs:
    """`controls`: the selected controls (those without a Guard rule are skipped); `parameters`:
    control id -> parameter overrides; `after`: what must exist first (the started recorder)."""

    stack: str
    region: str
    controls: list[Control]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    debug_logs: bool = False
    after: list[pulumi.Resource] = field(default_factory=list)


def guard_controls(selected: list[Control]) -> list[Control]:
    """The selected controls that a Guard rule enforces after a change."""
    return [control for control in selected if control.detective.kind == "guard"]


def select(
    names_or_packs: list[str], exclude: list[str] = (), source: str = "selection"
) -> list[Control]:
    """The Guard-enforced controls among `names_or_packs` (control ids or packs), for the stack
    to hand to GuardRules; unknown names raise ControlCatalogError naming `source`."""
    return guard_controls(catalog_controls.select(list(names_or_packs), list(exclude), source))


class GuardRules(pulumi.ComponentResource):
    """Exposes `names`: the Config rule names created in this region."""

    def __init__(self, name: str, args: GuardRulesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("configtrail:rules:GuardRules", name, None, opts)
        self.names: list[str] = []
        for control in guard_controls(args.controls):
            rule_name = names.rule_name(args.stack, control.id)
            aws.cfg.Rule(
                f"{name}-{control.id}",
                name=rule_name,
                description=control.statement,
                source=aws.cfg.RuleSourceArgs(
                    owner="CUSTOM_POLICY",
                    source_details=[
                        aws.cfg.RuleSourceSourceDetailArgs(
                            event_source="aws.config", message_type=message_type
                        )
                        for message_type in MESSAGE_TYPES
                    ],
                    custom_policy_details=aws.cfg.RuleSourceCustomPolicyDetailsArgs(
                        policy_runtime=POLICY_RUNTIME,
                        policy_text=catalog_controls.guard_policy_text(
                            control, args.parameters.get(control.id)
                        ),
                        enable_debug_log_delivery=args.debug_logs,
                    ),
                ),
                scope=aws.cfg.RuleScopeArgs(compliance_resource_types=list(control.resource_types)),
                region=args.region,
                opts=child(self, depends_on=args.after),
            )
            self.names.append(rule_name)
        self.register_outputs({"names": self.names})
