"""HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched) with a
timeline chart per resource and the field changes, for auditors and build artifacts."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TextIO

from configtrail.history.model import Timeline
from configtrail.history.render import (
    Report,
    coverage_cells,
    coverage_note,
    filters_text,
    summary_rows,
    time_text,
    value_text,
)

COLOURS = {
    "first-recorded": "#2e7d32",
    "changed": "#1565c0",
    "unchanged": "#9e9e9e",
    "gone": "#c62828",
    "returned": "#ef6c00",
}
WIDTH, HEIGHT, MARGIN = 760, 64, 24

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1b1b}
h1{margin-bottom:.2rem} section{margin:2rem 0;border-top:1px solid #ddd;padding-top:1rem}
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5} code{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.meta{color:#555;font-size:.9rem} .legend span{margin-right:1rem}
.skipped{color:#c62828} .dot{display:inline-block;width:.8rem;height:.8rem;border-radius:50%}
svg text{font-size:10px;fill:#555}
"""


def _x(when: datetime, start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds() or 1.0
    return MARGIN + (WIDTH - 2 * MARGIN) * (when - start).total_seconds() / span


def chart(timeline: Timeline, start: datetime | None, end: datetime | None) -> str:
    """An inline SVG: the window as an axis, one dot per item, coloured by what happened."""
    times = [entry.item.capture_time for entry in timeline.entries]
    start = start or min(times)
    end = end or max(times)
    y = HEIGHT / 2
    parts = [
        f'<svg width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="timeline of {escape(timeline.key.resource_id)}">',
        f'<line x1="{MARGIN}" y1="{y}" x2="{WIDTH - MARGIN}" y2="{y}" stroke="#bbb"/>',
        f'<text x="{MARGIN}" y="{HEIGHT - 4}">{escape(time_text(start))}</text>',
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{escape(time_text(end))}</text>",
    ]
    if timeline.baseline is not None:
        parts.append(
            f'<circle cx="{MARGIN - 10}" cy="{y}" r="5" fill="none" stroke="#555">'
            f"<title>before the window: {escape(time_text(timeline.baseline.capture_time))} "
            f"{escape(timeline.baseline.status)}</title></circle>"
        )
    for entry in timeline.entries:
        x = _x(entry.item.capture_time, start, end)
        parts.append(
            f'<circle class="item {entry.note}" cx="{x:.1f}" cy="{y}" r="6" '
            f'fill="{COLOURS[entry.note]}"><title>'
            f"{escape(time_text(entry.item.capture_time))} {escape(entry.item.status)}: "
            f"{len(entry.changes)} field changes</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _section(timeline: Timeline, start: datetime | None, end: datetime | None) -> str:
    key = timeline.key
    rows = []
    if timeline.baseline is not None:
        rows.append(
            f"<tr><td>{escape(time_text(timeline.baseline.capture_time))}</td>"
            f"<td>{escape(timeline.baseline.status)}</td>"
            '<td colspan="4"><em>state before the window</em></td></tr>'
        )
    for entry in timeline.entries:
        when = escape(time_text(entry.item.capture_time))
        status = escape(entry.item.status)
        source = escape(entry.item.source)
        if not entry.changes:
            rows.append(
                f'<tr><td title="{source}">{when}</td><td>{status}</td>'
                f'<td colspan="4">{escape(entry.note)}</td></tr>'
            )
        for change in entry.changes:
            before = "" if change.kind == "added" else escape(value_text(change.before, 2000))
            after = "" if change.kind == "removed" else escape(value_text(change.after, 2000))
            rows.append(
                f'<tr class="{change.kind}"><td title="{source}">{when}</td><td>{status}</td>'
                f"<td>{change.kind}</td><td><code>{escape(change.section)}."
                f"{escape(change.path)}</code></td><td><code>{before}</code></td>"
                f"<td><code>{after}</code></td></tr>"
            )
    arn = f" · <code>{escape(timeline.arn)}</code>" if timeline.arn else ""
    return (
        f"<section><h3>{escape(key.resource_type)} <code>{escape(key.resource_id)}</code></h3>"
        f'<p class="meta">account {escape(key.account)} · {escape(key.region)}{arn}</p>'
        f"{chart(timeline, start, end)}"
        "<table><thead><tr><th>captured</th><th>status</th><th>change</th><th>field</th>"
        "<th>before</th><th>after</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>\n"
    )


def write(report: Report, out: TextIO) -> None:
    summary = report.summary
    out.write(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Configuration history report</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        "<h1>Configuration history report</h1>"
        f'<p class="meta">Source <code>{escape(summary.source)}</code>, generated '
        f'{escape(time_text(report.generated))}.</p><ul class="meta">'
        + "".join(
            f"<li>{escape(label)}: {escape(value)}</li>"
            for label, value in filters_text(report.filters)
        )
        + '</ul><p class="legend">'
        + "".join(
            f'<span><span class="dot" style="background:{colour}"></span> {note}</span>'
            for note, colour in COLOURS.items()
        )
        + "</p>\n"
    )
    account = None
    for timeline in report.each():
        if timeline.key.account != account:
            account = timeline.key.account
            out.write(f"<h2>Account {escape(account)}</h2>\n")
        out.write(_section(timeline, report.filters.since, report.filters.until))
    totals = report.totals
    if not totals.resources:
        out.write("<p>No configuration items in the window.</p>")
    out.write(
        "<section><h2>Summary</h2><table><tbody>"
        + "".join(
            f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in summary_rows(report)
        )
        + "</tbody></table>"
    )
    out.write(
        f"<h3>Coverage</h3><p>{escape(coverage_note(report))}</p><table><thead><tr>"
        "<th>account</th><th>region</th><th>recording</th><th>days delivered</th>"
        "<th>gaps (no delivery)</th></tr></thead><tbody>"
        + "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in coverage_cells(row)) + "</tr>"
            for row in report.coverage
        )
        + "</tbody></table>"
    )
    skipped = summary.skipped_files + summary.skipped_items
    if skipped:
        out.write('<h3 class="skipped">Skipped</h3><ul>')
        for problem in skipped:
            out.write(f"<li><code>{escape(problem.name)}</code>: {escape(problem.reason)}</li>")
        out.write("</ul>")
    out.write("</section></body></html>\n")
