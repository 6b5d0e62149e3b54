"""Guardrails for AWS Config recording: what each recorder records and how often, that it is
started and delivers to this stack's archive, and how long Config keeps its own history.

A recorder that is never started, or has no delivery channel, records nothing — and nothing in
AWS complains. Those are stack rules because they are about resources that are *absent*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from configtrail_policies import types
from configtrail_policies.config import (
    AWS_DEFAULT_DELIVERY_FREQUENCY,
    FREQUENCY_HOURS,
    settings_for,
)
from configtrail_policies.graph import StackGraph
from configtrail_policies.s3 import unknown
from configtrail_policies.support import is_unknown, names, peek, plain


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
    """Part of the recording group is unknown during preview."""


def scope_of(props) -> Scope:
    group = plain(peek(props, "recordingGroup", default={}) or {})
    if is_unknown(group) or any(is_unknown(v) for v in group.values()):
        raise UnknownScope
    strategies = [s.get("useOnly") for s in group.get("recordingStrategies") or [] if s]
    strategy = strategies[0] if strategies else None
    included = group.get("resourceTypes") or []
    excluded = None
    if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
        excluded = set()
        blocks = group.get("exclusionByResourceTypes") or []
        for block in blocks if isinstance(blocks, list) else [blocks]:
            excluded.update((block or {}).get("resourceTypes") or [])
    if any(is_unknown(t) for t in [*included, *(excluded or []), *strategies]):
        raise UnknownScope
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


# --- resource rules ----------------------------------------------------------------------------


def recording_scope(args, report) -> None:
    if args.resource_type != types.RECORDER:
        return
    required = settings_for("aws-cfg-recorder-recording-scope", args.get_config())[
        "requiredResourceTypes"
    ]
    try:
        scope = scope_of(args.props)
    except UnknownScope:
        report(unknown("recording_group"))
        return
    missing = sorted(t for t in required if not scope.records(t, frozenset()))
    if missing:
        shown = names(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        report(
            f"Recorder {_recorder_name(args)!r} does not record {shown}; changes to those AI "
            "systems would leave no history. Record all supported types or add them to "
            "recording_group.resource_types."
        )


def continuous_recording(args, report) -> None:
    if args.resource_type != types.RECORDER:
        return
    allowed = set(
        settings_for("aws-cfg-recorder-continuous-recording", args.get_config())[
            "dailyAllowedResourceTypes"
        ]
    )
    mode = plain(peek(args.props, "recordingMode", default={}) or {})
    if is_unknown(mode):
        report(unknown("recording_mode"))
        return
    frequency = mode.get("recordingFrequency", "CONTINUOUS")
    if is_unknown(frequency):
        report(unknown("recording_mode.recording_frequency"))
    elif frequency != "CONTINUOUS":
        report(
            f"Recorder {_recorder_name(args)!r} records {frequency}: a change that is undone "
            "within the day leaves no history. Set recording_frequency to CONTINUOUS "
            "(configtrail:recordingFrequency)."
        )
    overrides = mode.get("recordingModeOverride") or []
    for override in overrides if isinstance(overrides, list) else [overrides]:
        override = override or {}
        if override.get("recordingFrequency") == "CONTINUOUS":
            continue
        listed = override.get("resourceTypes") or []
        if is_unknown(listed) or any(is_unknown(t) for t in listed):
            report(unknown("recording_mode_override.resource_types"))
            continue
        extra = sorted(set(listed) - allowed)
        if extra:
            report(
                f"Recorder {_recorder_name(args)!r} records {names(extra)} DAILY; only "
                f"{names(sorted(allowed)) or 'no types'} may be. Remove them from the "
                "override (configtrail:dailyResourceTypes)."
            )


def churny_types_daily(args, report) -> None:
    if args.resource_type != types.RECORDER:
        return
    settings = settings_for("aws-cfg-recorder-churny-types-daily", args.get_config())
    if settings["allowContinuous"]:
        return
    # Reads through the proxy on purpose: an unknown recording group waits for `up` (advisory).
    props = args.props
    mode = props.get("recordingMode") or {}
    if (mode.get("recordingFrequency") or "CONTINUOUS") != "CONTINUOUS":
        return
    daily = set()
    overrides = mode.get("recordingModeOverride") or []
    for override in [overrides] if isinstance(overrides, Mapping) else list(overrides):
        if (override or {}).get("recordingFrequency") == "DAILY":
            daily.update(override.get("resourceTypes") or [])
    group = props.get("recordingGroup") or {}
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


def delivery_frequency(args, report) -> None:
    if args.resource_type != types.DELIVERY_CHANNEL:
        return
    slowest = settings_for("aws-cfg-deliverychannel-delivery-frequency", args.get_config())[
        "slowestDeliveryFrequency"
    ]
    frequency = peek(
        args.props,
        "snapshotDeliveryProperties",
        "deliveryFrequency",
        default=AWS_DEFAULT_DELIVERY_FREQUENCY,
    )
    if is_unknown(frequency):
        report(unknown("snapshot_delivery_properties.delivery_frequency"))
    elif FREQUENCY_HOURS.get(frequency, 10**6) > FREQUENCY_HOURS[slowest]:
        report(
            f"Delivery channel {peek(args.props, 'name') or args.name!r} delivers snapshots "
            f"{frequency}, slower than {slowest}. Set delivery_frequency to {slowest} or "
            "faster (configtrail:deliveryFrequency)."
        )


def retention_minimum_days(args, report) -> None:
    if args.resource_type != types.RETENTION:
        return
    minimum = settings_for("aws-cfg-retentionconfiguration-minimum-days", args.get_config())[
        "minRetentionDays"
    ]
    days = peek(args.props, "retentionPeriodInDays")
    if is_unknown(days):
        report(unknown("retention_period_in_days"))
    elif days is None or float(days) < minimum:
        shown = "not set" if days is None else f"{int(float(days))} days"
        report(
            f"AWS Config keeps its history for {shown}, less than the minimum of {minimum} "
            f"days. Set retention_period_in_days to at least {minimum} "
            "(configtrail:retentionDays)."
        )


# --- stack rules -------------------------------------------------------------------------------


def global_types_once(args, report) -> None:
    graph = StackGraph(args.resources)
    global_types = frozenset(
        settings_for("aws-cfg-recorder-global-types-once", args.get_config())["globalResourceTypes"]
    )
    recorders = graph.of_type(types.RECORDER)
    if not recorders:
        return
    regions_by_type: dict[str, set[str]] = defaultdict(set)
    for recorder in recorders:
        try:
            scope = scope_of(recorder.props)
        except UnknownScope:
            report(
                unknown(f"recording_group of recorder {_recorder_name(recorder)!r}"), recorder.urn
            )
            continue
        region = graph.region(recorder) or "(unknown region)"
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


def recorder_delivery_channel(args, report) -> None:
    graph = StackGraph(args.resources)
    # The estate's archive in another account (a member's log-archive bucket), by name.
    estate_archives = set(
        settings_for("aws-cfg-recorder-delivery-channel", args.get_config())["archiveBuckets"]
    )
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
            shown = names([("(unknown)" if is_unknown(t) else repr(t)) for t in targets])
            report(
                f"Recorder {name!r} ({region}) delivers to {shown}, which is neither a bucket "
                "of this stack nor the estate's archive"
                + (f" ({names(sorted(estate_archives))})" if estate_archives else "")
                + ", so the pack cannot vouch for where the history goes. Deliver to the "
                "ConfigTrail archive bucket.",
                recorder.urn,
            )


def recorder_status_enabled(args, report) -> None:
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
            if is_unknown(enabled):
                report(unknown(f"is_enabled of the status of recorder {name!r}"), status.urn)
            elif enabled is not True:
                report(
                    f"Recorder {name!r} ({region}) is stopped (RecorderStatus is_enabled is "
                    "false): nothing is recorded. Set is_enabled=True.",
                    status.urn,
                )
