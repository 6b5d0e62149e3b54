"""Renderers of a history report: table (terminal), json, markdown and html.

Every renderer takes the same Report and writes to a text stream as timelines arrive, so a
report over many resources is never held in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from configtrail import catalog
from configtrail.history.compliance import ComplianceReport
from configtrail.history.coverage import Coverage
from configtrail.history.model import Timeline
from configtrail.history.scan import Filters, ScanSummary

FORMATS = ("table", "json", "markdown", "html")


@dataclass
class Totals:
    resources: int = 0
    items: int = 0
    changes: int = 0
    # account -> [resources, items, field changes]
    by_account: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Report:
    """Everything a renderer needs. `timelines` is consumed once."""

    summary: ScanSummary
    filters: Filters
    generated: datetime
    timelines: Iterable[Timeline]
    totals: Totals = field(default_factory=Totals)
    coverage: list[Coverage] = field(default_factory=list)
    coverage_expected: bool = False  # expected pairs were given (else: the pairs seen)
    # First and last capture time in the window: the shared time axis when no window is given.
    time_range: tuple[datetime, datetime] | None = None
    compliance: ComplianceReport = field(default_factory=ComplianceReport)

    def each(self) -> Iterable[Timeline]:
        """The timelines (sorted by account first), counting them as they pass."""
        for timeline in self.timelines:
            self.totals.resources += 1
            self.totals.items += len(timeline.entries)
            self.totals.changes += timeline.change_count
            account = self.totals.by_account.setdefault(timeline.key.account, [0, 0, 0])
            account[0] += 1
            account[1] += len(timeline.entries)
            account[2] += timeline.change_count
            yield timeline


def time_text(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def value_text(value: Any, limit: int | None = 160) -> str:
    """A value as compact JSON (strings unquoted), shortened to `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def filters_text(filters: Filters) -> list[tuple[str, str]]:
    """(label, value) pairs describing what the report covers."""
    if filters.types is None:
        types = "all"
    elif filters.types == frozenset(catalog.ai_systems_types()):
        types = f"the ai-systems profile ({len(filters.types)} types)"
    else:
        types = ", ".join(sorted(filters.types))
    return [
        ("resource types", types),
        ("accounts", "all" if filters.accounts is None else ", ".join(sorted(filters.accounts))),
        ("regions", "all" if filters.regions is None else ", ".join(sorted(filters.regions))),
        (
            "resource ids",
            "all" if filters.resource_ids is None else ", ".join(sorted(filters.resource_ids)),
        ),
        ("since", time_text(filters.since) if filters.since else "the beginning"),
        ("until", time_text(filters.until) if filters.until else "now"),
    ]


def summary_rows(report: Report) -> list[tuple[str, int]]:
    """(label, count) pairs of a report's closing summary, after its timelines were consumed."""
    totals, summary = report.totals, report.summary
    return [
        ("resources", totals.resources),
        ("items", totals.items),
        ("field changes", totals.changes),
        ("files read", summary.files_read),
        ("files not needed (filters)", summary.files_not_needed),
        ("duplicate items dropped", summary.duplicates),
        ("files skipped", len(summary.skipped_files)),
        ("items skipped", len(summary.skipped_items)),
    ]


def coverage_note(report: Report) -> str:
    return (
        "Expected accounts and regions: as given (--expect / --estate)."
        if report.coverage_expected
        else "Expected accounts and regions: those seen delivering (give --expect or --estate "
        "to check the estate's)."
    )


def coverage_cells(row: Coverage) -> tuple[str, str, str, str, str]:
    """account, region, status, delivered days, gaps: the same columns in every format."""
    return (
        row.account,
        row.region,
        row.status,
        f"{len(row.delivered)} of {row.window_days}",
        "; ".join(str(gap) for gap in row.gaps) or "—",
    )


CONTROL_COLUMNS = ("rule", "control", "resources", "compliant now", "changes in the window")


def control_cells(control) -> tuple[str, str, str, str, str]:
    return (
        control.rule,
        control.control or "—",
        str(control.resources),
        f"{control.compliant} of {control.resources}",
        str(control.changes),
    )


def transition_text(transition) -> str:
    """One line: when, rule, from -> to, and the configuration change that preceded it."""
    text = (
        f"{time_text(transition.time)}: {transition.rule} {transition.before} -> {transition.after}"
    )
    cause = transition.cause
    if cause is None:
        return text + " (no configuration change since the previous evaluation)"
    fields = ", ".join(cause.fields[:5]) + (" ..." if len(cause.fields) > 5 else "")
    return (
        text
        + f" after the configuration change at {time_text(cause.time)} ({cause.note}"
        + (f": {fields})" if fields else ")")
    )


def render(report: Report, fmt: str, out: TextIO) -> Totals:
    from configtrail.history.render import html, json_report, markdown, table

    writer = {"table": table, "json": json_report, "markdown": markdown, "html": html}[fmt]
    writer.write(report, out)
    return report.totals


def write_summary(
    summary: ScanSummary,
    filters: Filters,
    totals: Totals,
    path,
    coverage: list[Coverage] | None = None,
) -> None:
    """A few lines for a CI job summary: the window, the totals, recording gaps and what was
    skipped."""
    lines = ["## Configuration history report", ""]
    lines += [f"- {label}: {value}" for label, value in filters_text(filters)]
    lines += [
        f"- {totals.resources} resources, {totals.items} configuration items, "
        f"{totals.changes} field changes",
        f"- {summary.files_read} files read from `{summary.source}`, "
        f"{summary.duplicates} duplicate items dropped",
    ]
    broken = [row for row in coverage or [] if not row.continuous]
    if coverage:
        lines.append(
            f"- recording: {len(coverage) - len(broken)} of {len(coverage)} account/region "
            "pairs delivered every day"
        )
    if broken:
        lines += ["", "**Recording gaps:**", ""]
        lines += [
            f"- {row.account} {row.region}: {row.status}"
            + (f" ({'; '.join(str(g) for g in row.gaps)})" if row.gaps else "")
            for row in broken
        ]
    skipped = summary.skipped_files + summary.skipped_items
    if skipped:
        lines += [
            "",
            f"**Skipped {len(summary.skipped_files)} files and "
            f"{len(summary.skipped_items)} items:**",
            "",
        ]
        lines += [f"- `{problem.name}`: {problem.reason}" for problem in skipped[:50]]
        if len(skipped) > 50:
            lines.append(f"- … and {len(skipped) - 50} more (see history.json)")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
