"""Markdown report: for pull requests, issues and job summaries."""

from __future__ import annotations

import json
from typing import TextIO

from configtrail.history.diff import decode_deep
from configtrail.history.model import Timeline
from configtrail.history.render import (
    CONTROL_COLUMNS,
    Report,
    control_cells,
    coverage_cells,
    coverage_note,
    filters_text,
    summary_rows,
    time_text,
    transition_text,
    value_text,
)


def cell(text: str) -> str:
    """Text that cannot break a Markdown table row."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _section(timeline: Timeline) -> list[str]:
    key = timeline.key
    lines = [f"### {key.resource_type} `{cell(key.resource_id)}`", ""]
    lines.append(
        f"Account {key.account}, region {key.region}"
        + (f", ARN `{cell(timeline.arn)}`" if timeline.arn else "")
        + "."
    )
    lines += [
        "",
        "| captured | status | change | field | before | after |",
        "|---|---|---|---|---|---|",
    ]
    if timeline.baseline is not None:
        lines.append(
            f"| {time_text(timeline.baseline.capture_time)} | "
            f"{timeline.baseline.status} | state before the window | | | |"
        )
    for entry in timeline.entries:
        when, status = time_text(entry.item.capture_time), entry.item.status
        if not entry.changes:
            lines.append(f"| {when} | {status} | {entry.note} | | | |")
            continue
        for change in entry.changes:
            before = "" if change.kind == "added" else f"`{cell(value_text(change.before))}`"
            after = "" if change.kind == "removed" else f"`{cell(value_text(change.after))}`"
            lines.append(
                f"| {when} | {status} | {change.kind} | "
                f"`{cell(change.section + '.' + change.path)}` | {before} | {after} |"
            )
    lines.append("")
    latest = timeline.entries[-1].item
    lines += [
        f"<details><summary>Configuration at {time_text(latest.capture_time)} "
        "(the last item)</summary>",
        "",
        "```json",
        json.dumps(
            decode_deep(latest.document()), indent=2, default=str, ensure_ascii=False
        ).replace("```", "` ` `"),
        "```",
        "",
        "</details>",
        "",
    ]
    return lines


def write(report: Report, out: TextIO) -> None:
    summary = report.summary
    out.write("# Configuration history report\n\n")
    out.write(f"Source `{cell(summary.source)}`, generated {time_text(report.generated)}.\n\n")
    for label, value in filters_text(report.filters):
        out.write(f"- {label}: {cell(value)}\n")
    account = None
    for timeline in report.each():
        if timeline.key.account != account:
            account = timeline.key.account
            out.write(f"\n## Account {account}\n\n")
        out.write("\n".join(_section(timeline)) + "\n")
    totals = report.totals
    if not totals.resources:
        out.write("No configuration items in the window.\n\n")
    out.write("## Summary\n\n| | |\n|---|---|\n")
    for label, value in summary_rows(report):
        out.write(f"| {label} | {value} |\n")
    out.write("\n### By account\n\n| account | resources | items | field changes |\n")
    out.write("|---|---|---|---|\n")
    for name, (resources, items, changes) in sorted(report.totals.by_account.items()):
        out.write(f"| {name} | {resources} | {items} | {changes} |\n")
    controls = report.compliance
    if controls.controls:
        out.write("\n## Compliance\n\n| " + " | ".join(CONTROL_COLUMNS) + " |\n")
        out.write("|" + "---|" * len(CONTROL_COLUMNS) + "\n")
        for control in controls.controls:
            out.write("| " + " | ".join(cell(c) for c in control_cells(control)) + " |\n")
        for resource in controls.resources:
            if not resource.transitions:
                continue
            target = resource.target
            out.write(
                f"\n**{target.resource_type} `{cell(target.resource_id)}`** "
                f"({target.account}, {target.region}):\n\n"
            )
            for transition in resource.transitions:
                out.write(f"- {cell(transition_text(transition))}\n")
    out.write(f"\n## Coverage\n\n{coverage_note(report)}\n\n")
    out.write("| account | region | recording | days delivered | gaps (no delivery) |\n")
    out.write("|---|---|---|---|---|\n")
    for row in report.coverage:
        out.write("| " + " | ".join(cell(c) for c in coverage_cells(row)) + " |\n")
    skipped = summary.skipped_files + summary.skipped_items
    if skipped:
        out.write("\n### Skipped\n\n")
        for problem in skipped:
            out.write(f"- `{cell(problem.name)}`: {cell(problem.reason)}\n")
