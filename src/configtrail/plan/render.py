"""The readable plan: resources per component and region, and the settings that matter."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from configtrail.plan.capture import CapturedResource
from configtrail.plan.runner import Plan

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _short_type(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def _component_of(resource: CapturedResource, by_urn: dict[str, CapturedResource]) -> str:
    """The top-level component a resource belongs to (its own name if it is one)."""
    current = resource
    while current.parent in by_urn and by_urn[current.parent].type != "pulumi:pulumi:Stack":
        current = by_urn[current.parent]
    return f"{_short_type(current.type)} {current.name}"


def _detail(resource: CapturedResource) -> str:
    inputs = resource.inputs
    bits = []
    keys = ["name", "retentionPeriodInDays", "isEnabled", "s3KeyPrefix", "deliveryFrequency"]
    if resource.type == "aws:s3/bucket:Bucket":
        keys.insert(0, "bucket")
    for key in keys:
        value = inputs.get(key)
        if value not in (None, "", UNKNOWN):
            bits.append(f"{key}={value}")
    group = inputs.get("recordingGroup") or {}
    if group:
        if group.get("allSupported"):
            bits.append(
                "all supported" + (" + global" if group.get("includeGlobalResourceTypes") else "")
            )
        else:
            bits.append(f"{len(group.get('resourceTypes') or [])} types")
    mode = inputs.get("recordingMode") or {}
    if mode:
        override = mode.get("recordingModeOverride") or {}
        daily = f", DAILY: {', '.join(override.get('resourceTypes', []))}" if override else ""
        bits.append(f"{mode.get('recordingFrequency')}{daily}")
    if resource.protect:
        bits.append("protected")
    if resource.import_id:
        bits.append(f"import {resource.import_id}")
    return "; ".join(str(b) for b in bits)


def render(plan: Plan, console: Console) -> None:
    s = plan.settings
    title = f"Offline plan: {plan.env}" + (
        " (preview: values AWS computes are unknown)" if plan.preview else ""
    )
    console.rule(title)
    facts = Table.grid(padding=(0, 2))
    facts.add_row("home region", s.home_region)
    facts.add_row("regions", ", ".join(s.regions))
    facts.add_row("profile", s.recording_profile)
    facts.add_row(
        "frequency",
        s.recording_frequency
        + (
            f" (DAILY: {', '.join(s.daily_resource_types)})"
            if s.recording_frequency == "CONTINUOUS" and s.daily_resource_types
            else ""
        ),
    )
    facts.add_row("retention", f"{s.retention_days} days")
    facts.add_row("encryption", s.archive_encryption)
    facts.add_row("protected", "yes" if s.archive_protect else "NO (explicit choice)")
    facts.add_row(
        "vault",
        f"{s.vault_lock_mode} {s.effective_vault_retention_days} days in {s.effective_vault_region}"
        if s.vault
        else "no",
    )
    facts.add_row("recorder", s.existing_recorder + f" ({s.recorder_role} role)")
    facts.add_row("rules", f"{len(s.selected_rules())} per region")
    console.print(facts)

    by_urn = {r.urn: r for r in plan.resources}
    groups: dict[str, list[CapturedResource]] = defaultdict(list)
    ordered = sorted(plan.resources, key=lambda r: (r.inputs.get("region") or "", r.type, r.name))
    for resource in ordered:
        if resource.custom and not resource.type.startswith("pulumi:"):
            groups[_component_of(resource, by_urn)].append(resource)
    table = Table(show_lines=False, header_style="bold", expand=False)
    table.add_column("component")
    table.add_column("type")
    table.add_column("name")
    table.add_column("region")
    table.add_column("details", overflow="fold")
    for component, members in sorted(groups.items()):
        rules = [r for r in members if r.type == "aws:cfg/rule:Rule"]
        rows = [
            (_short_type(r.type), r.name, str(r.inputs.get("region") or s.home_region), _detail(r))
            for r in members
            if r not in rules
        ]
        if rules:  # a rule pack is one line, not thirty
            identifiers = sorted(r.inputs["source"]["sourceIdentifier"] for r in rules)
            rows.append(
                (
                    f"Rule x{len(rules)}",
                    component.split()[-1],
                    str(rules[0].inputs.get("region") or s.home_region),
                    ", ".join(identifiers),
                )
            )
        for index, row in enumerate(rows):
            table.add_row(component if index == 0 else "", *row)
    console.print(table)
    counts = sum(len(m) for m in groups.values())
    console.print(f"{counts} resources in {len(groups)} components.")
    if plan.outputs:
        outputs = Table(title="stack outputs", show_header=False, title_justify="left")
        for key, value in plan.outputs.items():
            if isinstance(value, dict):
                value = "\n".join(
                    f"{k}: {len(v)} names" if isinstance(v, list) else f"{k}: {v}"
                    for k, v in value.items()
                )
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            outputs.add_row(key, str(value))
        console.print(outputs)
