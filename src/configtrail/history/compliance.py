"""Compliance of each resource with each control over time, from what AWS Config already records.

When a recorder records `AWS::Config::ResourceCompliance` (ConfigTrail's always do), every change
of a resource's compliance with its Config rules is a configuration item of its own:

    resourceType  AWS::Config::ResourceCompliance
    resourceId    <target type>/<target id>, e.g. AWS::S3::Bucket/configrules-bucket
    configuration {"complianceType": "NON_COMPLIANT", "targetResourceType": ...,
                   "targetResourceId": ..., "configRuleList": [{"configRuleName": ...,
                   "configRuleArn": ..., "configRuleId": ..., "complianceType": ...}, ...]}
    relationships [{"resourceType": <target type>, "resourceId": <target id>,
                    "name": "Is associated with "}]

(AWS's developer guide, "Viewing Compliance History Timeline for Resources"; API exports carry
`configuration` as JSON text.) From those items this module builds, per evaluated resource and
rule, the states and their transitions (compliant -> non-compliant and back), and ties each
transition to the configuration change of the resource that preceded it, if there was one since
the previous evaluation (otherwise the rule, its parameters or a periodic run changed the
verdict). The control table counts, per rule: resources evaluated, compliant now, transitions in
the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from configtrail import catalog
from configtrail.history.diff import decode_deep
from configtrail.history.model import Item, ResourceKey, Timeline

COMPLIANCE_TYPE = "AWS::Config::ResourceCompliance"
NOT_EVALUATED = "NOT_EVALUATED"  # the rule no longer lists the resource (or the rule is gone)


@dataclass(frozen=True)
class Cause:
    """The configuration change of the evaluated resource that preceded a transition."""

    time: datetime
    note: str
    fields: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Transition:
    time: datetime
    rule: str
    before: str  # the earlier state, or NOT_EVALUATED
    after: str
    cause: Cause | None
    source: str  # the ResourceCompliance item's file

    def as_dict(self) -> dict:
        return {
            "time": _iso(self.time),
            "rule": self.rule,
            "before": self.before,
            "after": self.after,
            "source": self.source,
            "cause": None
            if self.cause is None
            else {
                "time": _iso(self.cause.time),
                "note": self.cause.note,
                "fields": list(self.cause.fields),
                "source": self.cause.source,
            },
        }


@dataclass
class ResourceCompliance:
    """One evaluated resource: each rule's state before the window, now, and the transitions."""

    target: ResourceKey
    before: dict[str, str] = field(default_factory=dict)  # rule -> state before the window
    now: dict[str, str] = field(default_factory=dict)  # rule -> last state
    transitions: list[Transition] = field(default_factory=list)
    evaluations: list[tuple[datetime, str, dict[str, str]]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "account": self.target.account,
            "region": self.target.region,
            "resourceType": self.target.resource_type,
            "resourceId": self.target.resource_id,
            "before": self.before,
            "now": self.now,
            "transitions": [t.as_dict() for t in self.transitions],
        }


@dataclass(frozen=True)
class Control:
    """A row of the control table."""

    rule: str
    control: str | None  # the catalog's identifier and sentence, when the rule is one of ours
    resources: int
    compliant: int
    non_compliant: int
    changes: int

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "control": self.control,
            "resources": self.resources,
            "compliantNow": self.compliant,
            "nonCompliantNow": self.non_compliant,
            "changesInWindow": self.changes,
        }


@dataclass
class ComplianceReport:
    resources: list[ResourceCompliance] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)

    def of(self, key: ResourceKey) -> ResourceCompliance | None:
        return next((r for r in self.resources if r.target == key), None)

    def as_dict(self) -> dict:
        return {
            "controls": [c.as_dict() for c in self.controls],
            "resources": [r.as_dict() for r in self.resources],
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _states(item: Item) -> tuple[str, dict[str, str], ResourceKey | None]:
    """(overall state, rule -> state, evaluated resource) of one ResourceCompliance item."""
    configuration = decode_deep(item.sections.get("configuration"))
    if not isinstance(configuration, dict):
        configuration = {}
    target_type = configuration.get("targetResourceType")
    target_id = configuration.get("targetResourceId")
    if not (target_type and target_id) and "/" in item.key.resource_id:
        target_type, _, target_id = item.key.resource_id.partition("/")
    target = (
        ResourceKey(item.key.account, item.key.region, str(target_type), str(target_id))
        if target_type and target_id
        else None
    )
    rules = {}
    for rule in configuration.get("configRuleList") or []:
        if isinstance(rule, dict) and rule.get("configRuleName"):
            rules[str(rule["configRuleName"])] = str(rule.get("complianceType") or "UNKNOWN")
    if not item.present:
        return "DELETED", {}, target
    return str(configuration.get("complianceType") or "UNKNOWN"), rules, target


def _cause(history: Timeline | None, after: datetime | None, at: datetime) -> Cause | None:
    """The resource's last configuration change in (after, at]."""
    if history is None:
        return None
    for entry in reversed(history.entries):
        when = entry.item.capture_time
        if when > at:
            continue
        if after is not None and when <= after:
            return None
        if entry.note == "unchanged":
            continue
        fields = tuple(f"{c.section}.{c.path}" for c in entry.changes)
        return Cause(when, entry.note, fields, entry.item.source)
    return None


def control_of(rule: str) -> str | None:
    """The catalog's control for a rule the stacks create (`configtrail-...-<identifier>`)."""
    for managed in catalog.managed_rules():
        suffix = managed.identifier.lower().replace("_", "-")
        if rule == managed.rule_name or rule.endswith("-" + suffix):
            return f"{managed.identifier}: {managed.description}"
    return None


def build(
    compliance_timelines: Iterable[Timeline],
    resource_timelines,
    since: datetime | None = None,
) -> ComplianceReport:
    """`compliance_timelines`: the AWS::Config::ResourceCompliance timelines;
    `resource_timelines(keys)`: {key: the timeline} of those evaluated resources (one read)."""
    report = ComplianceReport()
    pending: list[tuple[ResourceCompliance, int, datetime | None]] = []
    for timeline in compliance_timelines:
        items = ([timeline.baseline] if timeline.baseline else []) + [
            e.item for e in timeline.entries
        ]
        record: ResourceCompliance | None = None
        previous: dict[str, str] | None = None
        previous_time: datetime | None = None
        for item in items:
            overall, rules, target = _states(item)
            if target is None:
                continue
            if record is None:
                record = ResourceCompliance(target=target)
            in_window = since is None or item.capture_time >= since
            if not in_window:
                record.before = dict(rules)
            else:
                record.evaluations.append((item.capture_time, overall, dict(rules)))
                if previous is not None:
                    for rule in sorted(previous.keys() | rules.keys()):
                        was = previous.get(rule, NOT_EVALUATED)
                        now = rules.get(rule, NOT_EVALUATED)
                        if was != now:
                            pending.append((record, len(record.transitions), previous_time))
                            record.transitions.append(
                                Transition(item.capture_time, rule, was, now, None, item.source)
                            )
            previous, previous_time = dict(rules), item.capture_time
            record.now = dict(rules)
        if record is not None:
            report.resources.append(record)
    histories = resource_timelines({record.target for record, _, _ in pending}) if pending else {}
    for record, index, previous_time in pending:
        transition = record.transitions[index]
        cause = _cause(histories.get(record.target), previous_time, transition.time)
        record.transitions[index] = dataclasses.replace(transition, cause=cause)
    report.resources.sort(key=lambda r: r.target)
    rules = sorted({rule for r in report.resources for rule in (r.now.keys() | r.before.keys())})
    for rule in rules:
        evaluated = [r for r in report.resources if rule in r.now or rule in r.before]
        report.controls.append(
            Control(
                rule=rule,
                control=control_of(rule),
                resources=len(evaluated),
                compliant=sum(r.now.get(rule) == "COMPLIANT" for r in evaluated),
                non_compliant=sum(r.now.get(rule) == "NON_COMPLIANT" for r in evaluated),
                changes=sum(t.rule == rule for r in evaluated for t in r.transitions),
            )
        )
    return report
