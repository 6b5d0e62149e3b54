"""What the pack must know about the stack as a whole before the other policies mean anything:
that it is a ConfigTrail stack at all, and in which region each regional resource lives.

The whole-graph invariants against the estate (issue 10, item 1) belong beside these: stack
policies with per-stack config (see definition.py for the API).
"""

from __future__ import annotations

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, stack_policy
from configtrail_policies.support import Unseen, region_of

# The resources that make AWS Config record (or, in an audit account, aggregate): a stack with
# none of them records nothing, whatever rules it holds.
CONFIG_TYPES = (
    types.RECORDER,
    types.DELIVERY_CHANNEL,
    types.RECORDER_STATUS,
    types.RETENTION,
    "aws:cfg/configurationAggregator:ConfigurationAggregator",
    "aws:cfg/aggregateAuthorization:AggregateAuthorization",
)


@stack_policy(
    name="aws-cfg-stack-is-configtrail",
    description="A stack this pack guards must have AWS Config resources; one without any is not "
    "a ConfigTrail stack, or has lost all of its recording.",
    severity="critical",
    unknowns=NOT_AFFECTED,
    types=CONFIG_TYPES,
    config={
        "requireConfigResources": {
            "type": "boolean",
            "description": "The stack must hold AWS Config resources (false for a stack kind "
            "that records nothing itself).",
            "default": True,
        },
    },
    remediation="Run the pack on a ConfigTrail stack (check the file and --env), or restore the "
    "stack's recorders, delivery channels and rules.",
)
def stack_is_configtrail(args, report, settings) -> None:
    if settings["requireConfigResources"] and not args.resources:
        report(
            "This stack has no AWS Config recording resources at all (no recorder, delivery "
            "channel, recorder status, retention configuration or aggregator), so it is not a "
            "ConfigTrail stack — or every one of them was removed and nothing is recorded any "
            "more. The other findings judge its buckets, "
            "keys and roles as if they held history. Check that this is the file and environment "
            "you meant."
        )


REGIONAL = (
    types.RECORDER,
    types.DELIVERY_CHANNEL,
    types.RECORDER_STATUS,
    types.RETENTION,
    *sorted(types.BUCKET),
    types.KMS_KEY,
    types.SNS_TOPIC,
)


@stack_policy(
    name="aws-provider-region-known",
    description="The pack must be able to tell the region of every recorder, channel, bucket, "
    "key and topic it judges.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=REGIONAL,
    remediation="Give the resource (or its provider) an explicit region, and evaluate a file "
    "that holds its provider (`pulumi preview --json --show-sames`, or `pulumi stack export`).",
)
def region_known(args, report, settings) -> None:
    for resource in args.resources:
        region = region_of(resource.props, resource.provider)
        if isinstance(region, Unseen):
            report(region.explain(f"The region of {resource.name!r}"), resource.urn)
        elif region is None:
            provider = resource.provider
            why = (
                "it has no provider in this file (a preview without --show-sames, or a provider "
                "the file does not hold)"
                if provider is None
                else f"neither it nor its provider {provider.name!r} sets a region (the "
                "provider would take one from the environment at deploy time)"
            )
            report(
                f"The pack cannot tell which region {resource.name!r} ({resource.resource_type}) "
                f"is in: {why}, so it cannot check that every region records and delivers to "
                "the archive. Set the region explicitly and evaluate a file that holds the "
                "provider.",
                resource.urn,
            )
