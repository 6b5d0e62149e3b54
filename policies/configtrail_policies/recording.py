"""Guardrails for AWS Config recording: what each recorder records and how often, that it is
started and delivers to this stack's archive, and how long Config keeps its own history.

A recorder that is never started, or has no delivery channel, records nothing — and nothing in
AWS complains. Those are stack rules because they are about resources that are *absent*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from configtrail_policies import data, types
from configtrail_policies.data import AWS_DEFAULT_DELIVERY_FREQUENCY, FREQUENCY_HOURS
from configtrail_policies.definition import (
    FAIL_CLOSED,
    WAIT,
    resource_policy,
    stack_policy,
    string_list,
)
from configtrail_policies.graph import StackGraph
from configtrail_policies.support import Unseen, names, peek, unseen_in, wait_or_fail


@dataclass(frozen=True)
class Scope:
    """What a recorder records: everything supported, an explicit list, or all but a list."""

    all_supported: bool
    include_global: bool
    included: frozenset[str] = frozenset()
    excluded: frozenset[str] | None = None  # set: EXCLUSION_BY_RESOURCE_TYPES

    def records(self, resource_type: str, global_types: frozenset[str]) -> bool:
        if self.all_supported:
            return resource_type not in global_types or self.include_global
        if self.excluded is not None:
            return resource_type not in self.excluded
        return resource_type in self.included


class UnknownScope(Exception):
    """Part of the recording group cannot be seen (unknown during preview, or a masked secret)."""

    def __init__(self, unseen: Unseen):
        super().__init__(unseen.reason)
        self.unseen = unseen


def scope_of(props) -> Scope:
    group = peek(props, "recordingGroup", default={}) or {}
    if (hidden := unseen_in(group)) is not None:
        raise UnknownScope(hidden)
    strategies = [s.get("useOnly") for s in group.get("recordingStrategies") or [] if s]
    strategy = strategies[0] if strategies else None
    included = group.get("resourceTypes") or []
    excluded = None
    if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
        excluded = set()
        blocks = group.get("exclusionByResourceTypes") or []
        for block in blocks if isinstance(blocks, list) else [blocks]:
            excluded.update((block or {}).get("resourceTypes") or [])
    if strategy in ("EXCLUSION_BY_RESOURCE_TYPES", "INCLUSION_BY_RESOURCE_TYPES"):
        all_supported = False
    elif strategy == "ALL_SUPPORTED_RESOURCE_TYPES":
        all_supported = True
    else:  # AWS's default recording group records every supported type
        all_supported = group.get("allSupported", True) is True
    return Scope(
        all_supported=all_supported,
        include_global=group.get("includeGlobalResourceTypes", False) is True,
        included=frozenset(included),
        excluded=frozenset(excluded) if excluded is not None else None,
    )


def _recorder_name(recorder) -> str:
    name = peek(recorder.props, "name")
    return name if isinstance(name, str) else recorder.name


# --- resource policies -------------------------------------------------------------------------


@resource_policy(
    name="aws-cfg-recorder-recording-scope",
    description="Every recorder must record all supported types or at least the AI baseline, "
    "including AWS::Config::ResourceCompliance.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types={types.RECORDER},
    config={
        "requiredResourceTypes": string_list(
            "Types every recorder must record unless it records all supported types "
            "(default: the ai-systems baseline without the global IAM types).",
            data.baseline_types(),
        ),
    },
    controls=("CIS v5 3.3", "Security Hub Config.1"),
    remediation="Set recording_group.all_supported, or add the missing types to resource_types.",
)
def recording_scope(args, report, settings) -> None:
    required = settings["requiredResourceTypes"]
    try:
        scope = scope_of(args.props)
    except UnknownScope as hidden:
        report(hidden.unseen.explain("recording_group"))
        return
    missing = sorted(t for t in required if not scope.records(t, frozenset()))
    if missing:
        shown = names(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        report(
            f"Recorder {_recorder_name(args)!r} does not record {shown}; changes to those AI "
            "systems would leave no history. Record all supported types or add them to "
            "recording_group.resource_types."
        )


@resource_policy(
    name="aws-cfg-recorder-continuous-recording",
    description="Recorders must record continuously, with only the allowed types recorded daily.",
    severity="medium",
    unknowns=FAIL_CLOSED,
    types={types.RECORDER},
    config={
        "dailyAllowedResourceTypes": string_list(
            "Types that may be recorded DAILY while everything else is CONTINUOUS.",
            data.churny_resource_types(),
        ),
    },
    remediation="Set recording_mode.recording_frequency to CONTINUOUS "
    "(configtrail:recordingFrequency) and list only dailyAllowedResourceTypes in the DAILY "
    "override.",
)
def continuous_recording(args, report, settings) -> None:
    allowed = set(settings["dailyAllowedResourceTypes"])
    mode = peek(args.props, "recordingMode", default={}) or {}
    if isinstance(mode, Unseen):
        report(mode.explain("recording_mode"))
        return
    frequency = mode.get("recordingFrequency", "CONTINUOUS")
    if isinstance(frequency, Unseen):
        report(frequency.explain("recording_mode.recording_frequency"))
    elif frequency != "CONTINUOUS":
        report(
            f"Recorder {_recorder_name(args)!r} records {frequency}: a change that is undone "
            "within the day leaves no history. Set recording_frequency to CONTINUOUS "
            "(configtrail:recordingFrequency)."
        )
    overrides = mode.get("recordingModeOverride") or []
    for override in overrides if isinstance(overrides, list) else [overrides]:
        override = override or {}
        if (hidden := unseen_in(override)) is not None:
            report(hidden.explain("recording_mode_override"))
            continue
        if override.get("recordingFrequency") == "CONTINUOUS":
            continue
        listed = override.get("resourceTypes") or []
        extra = sorted(set(listed) - allowed)
        if extra:
            report(
                f"Recorder {_recorder_name(args)!r} records {names(extra)} DAILY; only "
                f"{names(sorted(allowed)) or 'no types'} may be. Remove them from the "
                "override (configtrail:dailyResourceTypes)."
            )


@resource_policy(
    name="aws-cfg-recorder-churny-types-daily",
    description="Churny resource types should be recorded daily outside the environments that "
    "accept the cost of continuous recording.",
    level="advisory",
    severity="low",
    unknowns=WAIT,
    types={types.RECORDER},
    config={
        "churnyResourceTypes": string_list(
            "Types whose CONTINUOUS recording is expensive.", data.churny_resource_types()
        ),
        "allowContinuous": {
            "type": "boolean",
            "description": "This environment accepts the cost of recording churny types "
            "continuously.",
            "default": False,
        },
    },
    remediation="Add the types to configtrail:dailyResourceTypes, or allowContinuous in this "
    "environment's policy config.",
)
def churny_types_daily(args, report, settings) -> None:
    if settings["allowContinuous"]:
        return
    # An unknown recording mode or group waits for `up` (the SDK's advisory downgrade).
    mode = peek(args.props, "recordingMode", default={}) or {}
    group = peek(args.props, "recordingGroup", default={}) or {}
    if not wait_or_fail([mode, group], "recording_mode / recording_group", report, "recordingMode"):
        return
    if (mode.get("recordingFrequency") or "CONTINUOUS") != "CONTINUOUS":
        return
    daily = set()
    overrides = mode.get("recordingModeOverride") or []
    for override in [overrides] if isinstance(overrides, Mapping) else list(overrides):
        if (override or {}).get("recordingFrequency") == "DAILY":
            daily.update(override.get("resourceTypes") or [])
    all_supported = group.get("allSupported", True)
    listed = set(group.get("resourceTypes") or [])
    continuous = sorted(
        t
        for t in settings["churnyResourceTypes"]
        if (all_supported or t in listed) and t not in daily
    )
    if continuous:
        report(
            f"Recorder {_recorder_name(args)!r} records {names(continuous)} CONTINUOUSLY; on "
            "busy ML platforms these change many times a day and each change is billed. "
            "Record them DAILY (configtrail:dailyResourceTypes) or set allowContinuous for "
            "this environment."
        )


@resource_policy(
    name="aws-cfg-deliverychannel-delivery-frequency",
    description="Delivery channels must deliver snapshots at least as often as configured.",
    severity="medium",
    unknowns=FAIL_CLOSED,
    types={types.DELIVERY_CHANNEL},
    config={
        "slowestDeliveryFrequency": {
            "type": "string",
            "enum": list(FREQUENCY_HOURS),
            "description": "The slowest snapshot delivery frequency allowed.",
            "default": "Six_Hours",
        },
    },
    remediation="Set snapshot_delivery_properties.delivery_frequency to slowestDeliveryFrequency "
    "or faster (configtrail:deliveryFrequency).",
)
def delivery_frequency(args, report, settings) -> None:
    slowest = settings["slowestDeliveryFrequency"]
    frequency = peek(
        args.props,
        "snapshotDeliveryProperties",
        "deliveryFrequency",
        default=AWS_DEFAULT_DELIVERY_FREQUENCY,
    )
    if isinstance(frequency, Unseen):
        report(frequency.explain("snapshot_delivery_properties.delivery_frequency"))
    elif FREQUENCY_HOURS.get(frequency, 10**6) > FREQUENCY_HOURS[slowest]:
        report(
            f"Delivery channel {peek(args.props, 'name') or args.name!r} delivers snapshots "
            f"{frequency}, slower than {slowest}. Set delivery_frequency to {slowest} or "
            "faster (configtrail:deliveryFrequency)."
        )


@resource_policy(
    name="aws-cfg-retentionconfiguration-minimum-days",
    description="AWS Config must keep its own history for at least the minimum retention.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types={types.RETENTION},
    config={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 30,
            "maximum": 2557,
            "description": "Fewest days AWS Config must keep its own history.",
            "default": 365,
        },
    },
    remediation="Raise retention_period_in_days (configtrail:retentionDays) to minRetentionDays.",
)
def retention_minimum_days(args, report, settings) -> None:
    minimum = settings["minRetentionDays"]
    days = peek(args.props, "retentionPeriodInDays")
    if isinstance(days, Unseen):
        report(days.explain("retention_period_in_days"))
    elif days is None or float(days) < minimum:
        shown = "not set" if days is None else f"{int(float(days))} days"
        report(
            f"AWS Config keeps its history for {shown}, less than the minimum of {minimum} "
            f"days. Set retention_period_in_days to at least {minimum} "
            "(configtrail:retentionDays)."
        )


# --- stack policies ----------------------------------------------------------------------------


@stack_policy(
    name="aws-cfg-recorder-global-types-once",
    description="Global IAM resource types must be recorded in exactly one region.",
    severity="medium",
    unknowns=FAIL_CLOSED,
    types={types.RECORDER},
    config={
        "globalResourceTypes": string_list(
            "Global types that must be recorded in exactly one region.",
            data.global_resource_types(),
        ),
    },
    controls=("CIS v1.2 2.5 (global types in one region)",),
    remediation="Record global types only in the home region (include_global_resource_types "
    "there, nowhere else).",
)
def global_types_once(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    global_types = frozenset(settings["globalResourceTypes"])
    recorders = graph.of_type(types.RECORDER)
    if not recorders:
        return
    regions_by_type: dict[str, set[str]] = defaultdict(set)
    for recorder in recorders:
        try:
            scope = scope_of(recorder.props)
        except UnknownScope as hidden:
            report(
                hidden.unseen.explain(f"recording_group of recorder {_recorder_name(recorder)!r}"),
                recorder.urn,
            )
            continue
        # A recorder the pack cannot place (aws-provider-region-known) still counts.
        region = graph.region(recorder) or "(region unknown)"
        for resource_type in global_types:
            if scope.records(resource_type, global_types):
                regions_by_type[resource_type].add(region)
    duplicated = {t: sorted(r) for t, r in regions_by_type.items() if len(r) > 1}
    for resource_type, regions in sorted(duplicated.items()):
        report(
            f"{resource_type} is recorded in {len(regions)} regions ({names(regions)}); every "
            "region records the same global items again and bills them. Record global types "
            "in the home region only."
        )
    if not regions_by_type:
        report(
            f"No recorder records the global types ({names(sorted(global_types))}), so IAM "
            "changes leave no history. Record them in the home region "
            "(include_global_resource_types or resource_types)."
        )


@stack_policy(
    name="aws-cfg-recorder-delivery-channel",
    description="Every recorder must have a delivery channel in its region that delivers to a "
    "bucket of this stack or to the estate's archive.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | {types.RECORDER, types.DELIVERY_CHANNEL},
    config={
        "archiveBuckets": string_list(
            "Archive buckets of the estate in another account that this stack's channels may "
            "deliver to (a member stack's log-archive bucket); derived from the stack files.",
            [],
        ),
    },
    controls=("CIS v5 3.3", "Security Hub Config.1"),
    remediation="Create an aws.cfg.DeliveryChannel in the recorder's region with s3_bucket_name "
    "set to the archive bucket.",
)
def recorder_delivery_channel(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    # The estate's archive in another account (a member's log-archive bucket), by name.
    estate_archives = set(settings["archiveBuckets"])
    channels_by_region: dict[str | None, list] = defaultdict(list)
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        channels_by_region[graph.region(channel)].append(channel)
    # Decided once per region, not once per recorder: a large stack has many of both.
    delivers_to_stack = {
        region: any(
            graph.channel_bucket(channel) is not None
            or peek(channel.props, "s3BucketName") in estate_archives
            for channel in channels
        )
        for region, channels in channels_by_region.items()
    }
    for recorder in graph.of_type(types.RECORDER):
        region = graph.region(recorder)
        if region is None:
            continue  # aws-provider-region-known reports a recorder the pack cannot place
        channels = channels_by_region.get(region, [])
        name = _recorder_name(recorder)
        if not channels:
            report(
                f"Recorder {name!r} ({region or 'unknown region'}) has no delivery channel in "
                "its region, so nothing it records reaches the archive. Add an "
                "aws.cfg.DeliveryChannel.",
                recorder.urn,
            )
            continue
        if not delivers_to_stack[region]:
            targets = [peek(c.props, "s3BucketName") for c in channels]
            hidden = next((t for t in targets if isinstance(t, Unseen)), None)
            if hidden is not None:
                report(
                    hidden.explain(
                        f"The bucket the channel of recorder {name!r} ({region}) delivers to"
                    ),
                    recorder.urn,
                )
                continue
            shown = names([repr(t) for t in targets])
            report(
                f"Recorder {name!r} ({region}) delivers to {shown}, which is neither a bucket "
                "of this stack nor the estate's archive"
                + (f" ({names(sorted(estate_archives))})" if estate_archives else "")
                + ", so the pack cannot vouch for where the history goes. Deliver to the "
                "ConfigTrail archive bucket.",
                recorder.urn,
            )


@stack_policy(
    name="aws-cfg-recorder-status-enabled",
    description="Every recorder must be started by a RecorderStatus with isEnabled true.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types={types.RECORDER, types.RECORDER_STATUS},
    controls=("CIS v5 3.3", "Security Hub Config.1"),
    remediation="Create aws.cfg.RecorderStatus(name=recorder.name, is_enabled=True) after the "
    "channel.",
)
def recorder_status_enabled(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    statuses = graph.of_type(types.RECORDER_STATUS)
    # A status starts a recorder of its region named by its `name`, or whose `name` was computed
    # from the recorder. Indexed once (positions, to report in stack order), not scanned per
    # recorder: a large stack has thousands of both.
    by_name: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    by_recorder: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for index, status in enumerate(statuses):
        region = graph.region(status)
        status_name = peek(status.props, "name")
        if isinstance(status_name, str):  # recorder names are strings; nothing else can match
            by_name[(region, status_name)].append(index)
        for dependency in (status.property_dependencies or {}).get("name", []):
            by_recorder[(region, dependency.urn)].append(index)
    for recorder in graph.of_type(types.RECORDER):
        region = graph.region(recorder)
        if region is None:
            continue  # aws-provider-region-known reports a recorder the pack cannot place
        name = _recorder_name(recorder)
        positions = {*by_name.get((region, name), []), *by_recorder.get((region, recorder.urn), [])}
        matching = [statuses[index] for index in sorted(positions)]
        if not matching:
            report(
                f"Recorder {name!r} ({region or 'unknown region'}) is never started: there is "
                "no RecorderStatus for it, and a stopped recorder records nothing. Add "
                "aws.cfg.RecorderStatus(name=recorder.name, is_enabled=True).",
                recorder.urn,
            )
            continue
        for status in matching:
            enabled = peek(status.props, "isEnabled", default=False)
            if isinstance(enabled, Unseen):
                report(
                    enabled.explain(f"is_enabled of the status of recorder {name!r}"), status.urn
                )
            elif enabled is not True:
                report(
                    f"Recorder {name!r} ({region}) is stopped (RecorderStatus is_enabled is "
                    "false): nothing is recorded. Set is_enabled=True.",
                    status.urn,
                )
