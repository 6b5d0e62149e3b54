"""Terminal report: one rich table per resource, then the scan summary."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table

from configtrail.history.model import Timeline
from configtrail.history.render import (
    CONTROL_COLUMNS,
    Report,
    control_cells,
    coverage_cells,
    coverage_note,
    filters_text,
    time_text,
    transition_text,
    value_text,
)

STYLES = {"changed": "cyan", "first-recorded": "green", "gone": "red", "returned": "yellow"}


def _table(timeline: Timeline) -> Table:
    key = timeline.key
    title = f"{key.resource_type} {key.resource_id}"
    caption = f"account {key.account} · {key.region}" + (
        f" · {timeline.arn}" if timeline.arn else ""
    )
    table = Table(title=title, caption=caption, title_justify="left", expand=False)
    for column in ("captured", "status", "field", "before", "after"):
        table.add_column(column, overflow="fold")
    if timeline.baseline is not None:
        table.add_row(
            time_text(timeline.baseline.capture_time),
            timeline.baseline.status,
            "[dim](state before the window)[/dim]",
            "",
            "",
        )
    for entry in timeline.entries:
        style = STYLES.get(entry.note, "")
        when, status = time_text(entry.item.capture_time), entry.item.status
        if not entry.changes:
            table.add_row(when, status, f"[{style or 'dim'}]{entry.note}[/]", "", "")
            continue
        for index, change in enumerate(entry.changes):
            table.add_row(
                when if index == 0 else "",
                status if index == 0 else "",
                f"[{style}]{change.section}.{change.path}[/] ({change.kind})",
                "" if change.kind == "added" else value_text(change.before, 80),
                "" if change.kind == "removed" else value_text(change.after, 80),
            )
    return table


def write(report: Report, out: TextIO) -> None:
    console = Console(file=out, highlight=False, width=None if out.isatty() else 160)
    account = None
    for timeline in report.each():
        if timeline.key.account != account:
            account = timeline.key.account
            console.rule(f"account {account}", style="bold")
        console.print(_table(timeline))
        console.print()
    totals, summary = report.totals, report.summary
    console.print(f"[bold]History of {summary.source}[/bold]")
    for label, value in filters_text(report.filters):
        console.print(f"  {label}: {value}", markup=False)
    console.print(
        f"  {totals.resources} resources, {totals.items} items, {totals.changes} field changes; "
        f"{summary.files_read} files read, {summary.files_not_needed} not needed, "
        f"{summary.duplicates} duplicate items dropped"
    )
    for name, (resources, items, changes) in sorted(totals.by_account.items()):
        console.print(
            f"  account {name}: {resources} resources, {items} items, {changes} field changes",
            markup=False,
        )
    if report.compliance.controls:
        controls = Table(title="Compliance", title_justify="left")
        for column in CONTROL_COLUMNS:
            controls.add_column(column, overflow="fold")
        for control in report.compliance.controls:
            controls.add_row(*control_cells(control))
        console.print(controls)
        for resource in report.compliance.resources:
            for transition in resource.transitions:
                console.print(
                    f"  {resource.target.resource_type} {resource.target.resource_id}: "
                    f"{transition_text(transition)}",
                    markup=False,
                )
    recording = Table(title="Coverage", caption=coverage_note(report), title_justify="left")
    for column in ("account", "region", "recording", "days delivered", "gaps (no delivery)"):
        recording.add_column(column, overflow="fold")
    for row in report.coverage:
        cells = coverage_cells(row)
        style = "green" if row.continuous else "red" if row.expected else "yellow"
        recording.add_row(*cells[:2], f"[{style}]{cells[2]}[/]", *cells[3:])
    console.print(recording)
    skipped = summary.skipped_files + summary.skipped_items
    if skipped:
        console.print(
            f"[bold red]  skipped {len(summary.skipped_files)} files and "
            f"{len(summary.skipped_items)} items:[/bold red]"
        )
        for problem in skipped:
            console.print(f"    {problem}", markup=False)
