"""What is recorded, against the stack file: every region it records keeps its recorder, channel
and started status, and every managed rule its selection implies (issue 10, item 1).

The recording policies judge the recorders a plan has; a merge that removes a whole region (its
recorder, channel and status together) or every rule leaves nothing for them to judge. These
policies hold the plan to what the stack file says should exist, derived per stack
(src/configtrail/policy/stack_config.py); with no derived config they require nothing.
"""

from __future__ import annotations

from collections import defaultdict

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, stack_policy, string_list
from configtrail_policies.graph import StackGraph
from configtrail_policies.support import Unseen, names, peek

_PARTS = (
    (types.RECORDER, "recorder (aws.cfg.Recorder)"),
    (types.DELIVERY_CHANNEL, "delivery channel (aws.cfg.DeliveryChannel)"),
    (types.RECORDER_STATUS, "started status (aws.cfg.RecorderStatus)"),
)


@stack_policy(
    name="aws-cfg-recorded-regions-complete",
    description="Every region the stack file records must keep its recorder, delivery channel "
    "and recorder status.",
    severity="critical",
    unknowns=NOT_AFFECTED,
    types={types.RECORDER, types.DELIVERY_CHANNEL, types.RECORDER_STATUS, types.RETENTION},
    config={
        "recordedRegions": string_list(
            "Regions that must be recorded (derived: the stack file's configtrail:regions).", []
        ),
    },
    controls=("CIS v5 3.3 (Config enabled in all regions)", "Security Hub Config.1"),
    remediation="Restore the region's recorder, delivery channel and recorder status, or remove "
    "the region from configtrail:regions in the stack file.",
)
def recorded_regions_complete(args, report, settings) -> None:
    if not args.resources:
        return  # no Config recording at all: aws-cfg-stack-is-configtrail says so
    graph = StackGraph(args.resources)
    present: dict[str, set[str]] = defaultdict(set)
    for kind, _ in _PARTS:
        for resource in graph.of_type(kind):
            region = graph.region(resource)
            if region is None:
                return  # aws-provider-region-known: the pack cannot tell which region it covers
            present[kind].add(region)
    for region in settings["recordedRegions"]:
        if region in present[types.RECORDER]:
            # A recorder without its channel or status: aws-cfg-recorder-delivery-channel and
            # aws-cfg-recorder-status-enabled report it (one problem, one policy).
            continue
        missing = [label for kind, label in _PARTS if region not in present[kind]]
        if missing:
            report(
                f"The stack file records {region}, but the plan has no {names(missing)} there: "
                "nothing in that region is recorded any more, and no other policy sees the "
                "region. Restore its recording, or remove it from configtrail:regions."
            )


@stack_policy(
    name="aws-cfg-rule-selected-rules-present",
    description="Every managed Config rule the stack file selects must exist in each region it "
    "belongs to.",
    severity="high",
    unknowns=FAIL_CLOSED,
    # Any version of the rule token (a newer pulumi-aws `...V2` too): a rule still exists.
    types={types.RULE_PATTERN, types.RECORDER},
    config={
        "requiredRules": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
            },
            "description": "Region -> the names of the managed rules that must exist there "
            "(derived from configtrail:rules, aiControls and excludeRules).",
            "default": {},
        },
    },
    controls=("AWS Config managed rules (detective controls of the AI catalog)",),
    remediation="Restore the aws.cfg.Rule resources, or deselect the rules in the stack file "
    "(configtrail:rules / configtrail:excludeRules).",
)
def selected_rules_present(args, report, settings) -> None:
    if not any(r.resource_type == types.RECORDER for r in args.resources):
        return  # nothing records, so no rule evaluates: the recording policies report that
    present: dict[str | None, set[str]] = defaultdict(set)
    rules = [r for r in args.resources if r.resource_type != types.RECORDER]
    graph = StackGraph(rules)
    for rule in rules:
        name = peek(rule.props, "name")
        if isinstance(name, Unseen):
            report(name.explain(f"The name of Config rule {rule.name!r}"), rule.urn)
            continue
        if isinstance(name, str):
            present[graph.region(rule)].add(name)
    for region, required in sorted(settings["requiredRules"].items()):
        missing = sorted(set(required) - present[region])
        if not missing:
            continue
        shown = names(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        report(
            f"{len(missing)} of the {len(required)} managed Config rules the stack file selects "
            f"for {region} are missing ({shown}): the compliance history of those checks stops. "
            "Restore the aws.cfg.Rule resources, or deselect them in the stack file."
        )
