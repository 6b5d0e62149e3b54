"""Wiring of the recording of a `standalone` or `member` stack: the recorder's identity, the
notification topics, and per region the recorder, delivery channel, started status, retention
and managed rules.

Where history goes is a `Destination`: the stack's own archive (standalone) or the archive stack's
bucket in the log-archive account (member), named from the estate so that a member needs nothing
from the archive stack at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from configtrail.settings import Settings
from configtrail.stack import names, scope
from configtrail.stack.archive import ConfigKey
from configtrail.stack.base import Account
from configtrail.stack.guard_rules import GuardRules, GuardRulesArgs, guard_controls
from configtrail.stack.notifications import NotificationTopic, NotificationTopicArgs
from configtrail.stack.recorder import RegionalRecorder, RegionalRecorderArgs
from configtrail.stack.role import RecorderRole, RecorderRoleArgs
from configtrail.stack.rules import ManagedRules, ManagedRulesArgs


@dataclass(frozen=True)
class Destination:
    """The archive bucket AWS Config delivers to."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_prefix: str
    # The channel's s3KmsKeyArn: the archive's key when it is in this stack. A member leaves it
    # unset: the archive's default encryption applies its key, whose policy admits the member.
    kms_key_arn: pulumi.Input[str] | None = None
    # What the first delivery must wait for (the archive's policy and key, in this stack).
    ready: list[pulumi.Resource] = field(default_factory=list)


@dataclass(frozen=True)
class RecordingArgs:
    stack: str
    settings: Settings
    account: Account
    destination: Destination
    keys: dict[str, ConfigKey]


def build_recording(args: RecordingArgs, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """Register the recording components in every region; return the outputs they add."""
    settings, stack, destination = args.settings, args.stack, args.destination
    prefix = names.resource_prefix(stack)
    home = settings.home_region

    topics: dict[str, NotificationTopic] = {}
    if settings.notifications:
        for region in settings.regions:
            topics[region] = NotificationTopic(
                f"notifications-{region}",
                NotificationTopicArgs(
                    topic_name=f"{prefix}-notifications",
                    region=region,
                    account=args.account,
                    kms_key_arn=args.keys[region].arn,
                ),
                opts,
            )

    role = None
    if settings.existing_recorder != "skip":
        role = RecorderRole(
            "recorder-role",
            RecorderRoleArgs(
                mode=settings.recorder_role,
                service_linked_role=settings.service_linked_role,
                role_name=f"{prefix}-recorder",
                account=args.account,
                archive_arn=destination.bucket_arn,
                key_prefix=destination.key_prefix,
                kms_key_arn=destination.kms_key_arn,
                topic_arns=[topic.arn for topic in topics.values()],
            ),
            opts,
        )

    adopting = settings.existing_recorder == "adopt"
    own_name = settings.recorder_name or names.recorder_name(stack)
    recorders: dict[str, RegionalRecorder] = {}
    rule_names: dict[str, list[str]] = {}
    selected_rules = settings.selected_rules()
    guarded = guard_controls(settings.selected_ai_controls())
    for region in settings.regions:
        is_home = region == home
        recorder = RegionalRecorder(
            f"recording-{region}",
            RegionalRecorderArgs(
                region=region,
                existing=settings.existing_recorder,
                recorder_name=settings.existing_recorder_name if adopting else own_name,
                channel_name=settings.existing_delivery_channel_name if adopting else own_name,
                role_arn=role.arn if role is not None else "",
                recording_group=scope.recording_group(settings, is_home),
                recording_mode=scope.recording_mode(settings, is_home),
                bucket_name=destination.bucket_name,
                key_prefix=destination.key_prefix,
                delivery_frequency=settings.delivery_frequency,
                retention_days=settings.retention_days,
                kms_key_arn=destination.kms_key_arn,
                sns_topic_arn=topics[region].arn if region in topics else None,
                delivery_ready=[
                    *destination.ready,
                    *([topics[region].policy] if region in topics else []),
                ],
            ),
            opts,
        )
        recorders[region] = recorder
        regional_rules = [rule for rule in selected_rules if is_home or not rule.home_region_only]
        if regional_rules:
            rules = ManagedRules(
                f"rules-{region}",
                ManagedRulesArgs(
                    stack=stack,
                    region=region,
                    rules=regional_rules,
                    parameters={
                        r.identifier: settings.rule_input_parameters(r) for r in regional_rules
                    },
                    periodic_frequency=settings.rule_frequency,
                    after=[recorder.status] if recorder.status is not None else [],
                ),
                opts,
            )
            rule_names[region] = rules.names
        if guarded:
            guard = GuardRules(
                f"guard-rules-{region}",
                GuardRulesArgs(
                    stack=stack,
                    region=region,
                    controls=guarded,
                    parameters=settings.ai_control_parameters,
                    debug_logs=settings.guard_debug_logs,
                    after=[recorder.status] if recorder.status is not None else [],
                ),
                opts,
            )
            rule_names[region] = rule_names.get(region, []) + guard.names

    outputs: dict[str, Any] = {
        "deliveryBucket": destination.bucket_name,
        "recorderNames": {region: r.recorder_name for region, r in recorders.items()},
        "regions": settings.regions,
        "configRules": rule_names,
    }
    if role is not None:
        outputs["recorderRoleArn"] = role.arn
    if topics:
        outputs["snsTopicArns"] = {region: topic.arn for region, topic in topics.items()}
    return outputs
