"""HTML report for auditors: one self-contained file (inline CSS and SVG, no scripts, nothing
fetched) that reads top-down and prints as it reads on screen.

Order: the summary (what changed, by account, by resource type; recording coverage; what was
skipped), a table of contents linking every resource, then one section per resource: a chart on
the axis every chart shares, and each configuration item with its changes (added / removed /
changed in colour and in words, the resource's own settings before tags, an added or removed
subtree as one row) and the whole item, decoded, under "configuration at this point". Nothing
lives only in a tooltip. Timelines arrive one at a time; the resource sections are spooled to a
temporary file so that the summary, known only at the end, can come first.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from html import escape
from typing import Any, TextIO

from configtrail.history.diff import ABSENT, ancestors, decode_deep, flatten, lookup
from configtrail.history.model import Change, Entry, Item, Timeline
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

COLOURS = {
    "first-recorded": "#2e7d32",
    "changed": "#1565c0",
    "unchanged": "#9e9e9e",
    "gone": "#c62828",
    "returned": "#ef6c00",
}
NOTES = {
    "first-recorded": "first recorded",
    "changed": "changed",
    "unchanged": "recorded again, no field changed",
    "gone": "deleted or no longer recorded",
    "returned": "recorded again after deletion",
}
KIND_MARK = {"added": "+ added", "removed": "- removed", "changed": "~ changed"}
# The resource's own settings first; tags, which rarely change what a resource does, last.
SECTION_ORDER = {"configuration": 0, "supplementaryConfiguration": 1, "relationships": 2, "tags": 3}
# Fields that change without anyone changing the resource: shown after the substantive ones.
_BOOKKEEPING = re.compile(
    r"(?i)(lastmodified\w*|\w*(time|timestamp|date)|etag|md5\w*|\w*updatedat|\w*modifiedat)$"
)
WIDTH, HEIGHT, MARGIN = 760, 56, 28
TICKS = 5

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1b1b1b;line-height:1.4}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:1.8rem} h5{margin:.2rem 0;font-size:.95rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.n{text-align:right}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
code,td{word-break:normal;overflow-wrap:normal;hyphens:none}
pre{white-space:pre-wrap;word-break:normal;overflow-wrap:normal;background:#fafafa;
border:1px solid #eee;padding:.5rem;overflow-x:auto;margin:.3rem 0}
.meta{color:#555;font-size:.9rem} .lead{font-size:1.05rem}
.legend span{margin-right:1rem;white-space:nowrap}
.dot{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;vertical-align:middle}
nav ul{list-style:none;padding-left:1.2rem} nav li{margin:.1rem 0}
article.resource{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}
div.item{margin:.8rem 0 .8rem .2rem;padding:.3rem .6rem;border-left:4px solid #bbb}
div.item.first-recorded{border-color:#2e7d32} div.item.changed{border-color:#1565c0}
div.item.gone{border-color:#c62828} div.item.returned{border-color:#ef6c00}
div.item.baseline{border-color:#555;border-left-style:dashed}
table.changes{width:100%;table-layout:auto}
tr.added td{background:#e8f5e9} tr.added td.kind{color:#1b5e20;font-weight:600}
tr.removed td{background:#ffebee} tr.removed td.kind{color:#b71c1c;font-weight:600}
tr.changed td{background:#fff8e1} tr.changed td.kind{color:#8d6e00;font-weight:600}
tr.bookkeeping td{opacity:.75}
td.kind{white-space:nowrap} .chart svg{max-width:100%;height:auto}
svg text{font-size:10px;fill:#555}
.status-gaps,.status-no-delivery{color:#c62828;font-weight:600}
.status-not-expected{color:#8d6e00;font-weight:600} .status-continuous{color:#2e7d32}
.skipped{color:#c62828} td.compliant{color:#2e7d32;font-weight:600}
td.non-compliant{color:#c62828;font-weight:600} ul{margin:.2rem 0}
details>summary{cursor:pointer;color:#1565c0}
@media print{
 body{margin:0;max-width:none;font-size:10pt} nav#contents{break-after:page}
 a{color:inherit;text-decoration:none} article.resource{break-before:auto}
 div.item,tr{break-inside:avoid} details>summary{color:inherit}
 details::details-content{content-visibility:visible;display:block;height:auto}
}
"""

_BREAK_AFTER = re.compile(r"([/:,.=&?;_\-@])")


def breakable(text: str) -> str:
    """Escaped text that may wrap after separators (ARNs, paths, URLs) but never inside a word."""
    return _BREAK_AFTER.sub(r"\1<wbr>", escape(text))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, default=str, ensure_ascii=False)


class Axis:
    """The one time axis every chart of the report shares."""

    def __init__(self, start: datetime, end: datetime):
        if end <= start:
            end = start + timedelta(hours=1)
        self.start, self.end = start, end

    def x(self, when: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        fraction = (when - self.start).total_seconds() / span
        return MARGIN + (WIDTH - 2 * MARGIN) * min(max(fraction, 0.0), 1.0)

    def ticks(self) -> list[tuple[float, str]]:
        step = (self.end - self.start) / (TICKS - 1)
        marks = [self.start + step * n for n in range(TICKS)]
        days = [m.strftime("%Y-%m-%d") for m in marks]
        if len(set(days)) < len(days):  # ticks less than a day apart: say the time too
            return [(self.x(m), m.strftime("%Y-%m-%d %H:%M")) for m in marks]
        return [(self.x(m), day) for m, day in zip(marks, days, strict=True)]


def axis_of(report: Report) -> Axis:
    first, last = report.time_range or (None, None)
    start = report.filters.since or first or report.generated
    end = report.filters.until or last or report.generated
    return Axis(start, end)


def chart(timeline: Timeline, axis: Axis) -> str:
    """An inline SVG on the shared axis: one dot per item, coloured by what happened; a hollow
    dot at the left edge when the state before the window is known."""
    y = 22
    parts = [
        f'<div class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" '
        f'aria-label="timeline of {escape(timeline.key.resource_id)}">',
        f'<line x1="{MARGIN}" y1="{y}" x2="{WIDTH - MARGIN}" y2="{y}" stroke="#bbb"/>',
    ]
    for x, label in axis.ticks():
        parts.append(
            f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x:.1f}" y2="{y + 4}" stroke="#bbb"/>'
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    if timeline.baseline is not None:
        parts.append(
            f'<circle class="baseline" cx="{MARGIN - 12}" cy="{y}" r="5" fill="none" '
            f'stroke="#555"><title>state before the window</title></circle>'
        )
    for entry in timeline.entries:
        parts.append(
            f'<circle class="item {entry.note}" cx="{axis.x(entry.item.capture_time):.1f}" '
            f'cy="{y}" r="6" fill="{COLOURS[entry.note]}"><title>'
            f"{escape(time_text(entry.item.capture_time))}: {escape(NOTES[entry.note])}"
            "</title></circle>"
        )
    parts.append("</svg></div>")
    return "".join(parts)


def _order(change: Change) -> tuple:
    leaf = re.split(r"[.\[]", change.path)[-1].rstrip("]")
    return (SECTION_ORDER.get(change.section, 9), bool(_BOOKKEEPING.match(leaf)), change.path)


def grouped(changes: tuple[Change, ...], before: Item | None, after: Item) -> list[dict]:
    """Rows to show: an added (removed) subtree as one row holding the whole subtree, every other
    change as itself; substantive fields first."""
    rows: list[dict] = []
    claimed: set[int] = set()
    ordered = sorted(changes, key=_order)
    for kind, side, other in (("added", after, before), ("removed", before, after)):
        if side is None or other is None:
            continue
        by_root: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index, change in enumerate(ordered):
            if change.kind != kind or change.section == "relationships":
                continue
            section_before = other.sections.get(change.section)
            root = next(
                (a for a in ancestors(change.path) if lookup(section_before, a) is ABSENT), None
            )
            if root is not None:
                by_root[(change.section, root)].append(index)
        for (section, root), members in by_root.items():
            subtree = lookup(side.sections.get(section), root)
            if len(members) < 2 or len(list(flatten(subtree))) != len(members):
                continue
            claimed.update(members)
            rows.append(
                {
                    "kind": kind,
                    "section": section,
                    "path": root,
                    "value": decode_deep(subtree),
                    "fields": len(members),
                    "order": _order(ordered[members[0]]),
                }
            )
    for index, change in enumerate(ordered):
        if index not in claimed:
            rows.append({"change": change, "order": _order(change)})
    rows.sort(key=lambda row: row["order"])
    return rows


def _value_cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<pre>{escape(_pretty(value))}</pre>"
    return f"<code>{breakable(value_text(value, 4000))}</code>"


def _change_rows(rows: list[dict]) -> str:
    html = []
    for row in rows:
        if "change" in row:
            change: Change = row["change"]
            kind, field = change.kind, f"{change.section}.{change.path}"
            before = "" if kind == "added" else _value_cell(change.before)
            after = "" if kind == "removed" else _value_cell(change.after)
            bookkeeping = row["order"][1]
        else:
            kind, field = row["kind"], f"{row['section']}.{row['path']}"
            block = _value_cell(row["value"])
            note = f'<div class="meta">{row["fields"]} fields</div>'
            before, after = ("", note + block) if kind == "added" else (note + block, "")
            bookkeeping = False
        css = kind + (" bookkeeping" if bookkeeping else "")
        html.append(
            f'<tr class="{css}"><td class="kind">{KIND_MARK[kind]}</td>'
            f'<td class="field"><code>{breakable(field)}</code></td>'
            f'<td class="before">{before}</td><td class="after">{after}</td></tr>'
        )
    return "".join(html)


def _configuration(item: Item) -> str:
    return (
        "<details><summary>Configuration at this point</summary>"
        f"<pre>{escape(_pretty(decode_deep(item.document())))}</pre></details>"
    )


def _item_block(entry: Entry, previous: Item | None) -> str:
    item = entry.item
    heading = (
        f"<h5>{escape(time_text(item.capture_time))} · {escape(item.status)} · "
        f"{escape(NOTES[entry.note])}"
        + (f" · {plural(len(entry.changes), 'field change')}" if entry.changes else "")
        + "</h5>"
        f'<p class="meta">from <code>{breakable(item.source)}</code>'
        + (f", state id {escape(item.state_id)}" if item.state_id else "")
        + "</p>"
    )
    table = ""
    if entry.changes:
        table = (
            '<table class="changes"><thead><tr><th>change</th><th>field</th><th>before</th>'
            "<th>after</th></tr></thead><tbody>"
            + _change_rows(grouped(entry.changes, previous, item))
            + "</tbody></table>"
        )
    return f'<div class="item {entry.note}">{heading}{table}{_configuration(item)}</div>'


def _resource(anchor: str, timeline: Timeline, axis: Axis, report: Report) -> str:
    key = timeline.key
    meta = [f"account {escape(key.account)}", escape(key.region)]
    if timeline.name and timeline.name != key.resource_id:
        meta.append(f"name <code>{breakable(timeline.name)}</code>")
    if timeline.arn:
        meta.append(f"<code>{breakable(timeline.arn)}</code>")
    parts = [
        f'<article class="resource" id="{anchor}"><h4>{escape(key.resource_type)} '
        f"<code>{breakable(key.resource_id)}</code></h4>"
        f'<p class="meta">{" · ".join(meta)}</p>{chart(timeline, axis)}',
        _compliance(report, timeline),
    ]
    previous = timeline.baseline
    if previous is not None:
        parts.append(
            '<div class="item baseline"><h5>Before the window: '
            f"{escape(time_text(previous.capture_time))} · {escape(previous.status)}</h5>"
            f'<p class="meta">from <code>{breakable(previous.source)}</code></p>'
            f"{_configuration(previous)}</div>"
        )
    for entry in timeline.entries:
        parts.append(_item_block(entry, previous))
        previous = entry.item
    parts.append('<p class="meta"><a href="#contents">back to contents</a></p></article>\n')
    return "".join(parts)


def _table(head: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{value}</td>' if i >= numeric_from else f"<td>{value}</td>"
            for i, value in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def write(report: Report, out: TextIO) -> None:
    axis = axis_of(report)
    contents: list[tuple[str, str, str, str, int, int, str]] = []
    by_type: dict[str, Counter] = defaultdict(Counter)
    changed_by_account: Counter = Counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        account = None
        for index, timeline in enumerate(report.each(), start=1):
            key = timeline.key
            if key.account != account:
                account = key.account
                body.write(f'<h3 id="account-{escape(account)}">Account {escape(account)}</h3>\n')
            anchor = f"r{index}"
            body.write(_resource(anchor, timeline, axis, report))
            changes = timeline.change_count
            last = timeline.entries[-1].note
            contents.append(
                (
                    key.account,
                    key.resource_type,
                    key.resource_id,
                    anchor,
                    len(timeline.entries),
                    changes,
                    last,
                )
            )
            counts = by_type[key.resource_type]
            counts["resources"] += 1
            counts["items"] += len(timeline.entries)
            counts["changes"] += changes
            counts["changed"] += bool(changes)
            changed_by_account[key.account] += bool(changes)
        _head(report, out)
        _summary(report, out, by_type, changed_by_account)
        _contents(contents, out)
        out.write('<section id="timelines"><h2>Timelines</h2>')
        out.write(
            f'<p class="meta">Every chart shares one time axis, {escape(time_text(axis.start))} '
            f"to {escape(time_text(axis.end))}.</p>"
        )
        out.write(
            '<p class="legend">'
            + "".join(
                f'<span><span class="dot" style="background:{colour}"></span> '
                f"{escape(NOTES[note])}</span>"
                for note, colour in COLOURS.items()
            )
            + "<span>○ state before the window</span></p>"
        )
        if not report.totals.resources:
            out.write("<p>No configuration items in the window.</p>")
        body.seek(0)
        shutil.copyfileobj(body, out)
    out.write("</section></body></html>\n")


def _head(report: Report, out: TextIO) -> None:
    out.write(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Configuration history report</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        "<header><h1>Configuration history report</h1>"
        f'<p class="meta">Source <code>{breakable(report.summary.source)}</code>, generated '
        f'{escape(time_text(report.generated))}.</p><ul class="meta">'
        + "".join(
            f"<li>{escape(label)}: {escape(value)}</li>"
            for label, value in filters_text(report.filters)
        )
        + "</ul></header>\n"
    )


def _summary(report: Report, out: TextIO, by_type, changed_by_account) -> None:
    totals, summary = report.totals, report.summary
    changed = sum(changed_by_account.values())
    skipped = summary.skipped_files + summary.skipped_items
    gaps = [row for row in report.coverage if not row.continuous]
    out.write(
        '<section id="summary"><h2>Summary</h2>'
        f'<p class="lead">{changed} of {plural(totals.resources, "resource")} changed '
        f"({plural(totals.changes, 'field change')} in "
        f"{plural(totals.items, 'configuration item')}) in "
        f"{plural(len(totals.by_account), 'account')} and "
        f"{plural(len(by_type), 'resource type')}. "
        f"Recording: {len(report.coverage) - len(gaps)} of {len(report.coverage)} "
        "account/region pairs delivered every day"
        + (
            f'; <strong class="skipped">{len(skipped)} files or items skipped</strong>'
            if skipped
            else ""
        )
        + '. <a href="#contents">Contents</a></p>'
    )
    out.write(
        "<h3>By account</h3>"
        + _table(
            ["account", "resources", "changed", "items", "field changes"],
            [
                [
                    f'<a href="#account-{escape(a)}">{escape(a)}</a>',
                    r,
                    changed_by_account[a],
                    i,
                    c,
                ]
                for a, (r, i, c) in sorted(totals.by_account.items())
            ],
        )
        + "<h3>By resource type</h3>"
        + _table(
            ["resource type", "resources", "changed", "items", "field changes"],
            [
                [escape(t), n["resources"], n["changed"], n["items"], n["changes"]]
                for t, n in sorted(by_type.items())
            ],
        )
        + _controls(report)
        + '<h3 id="coverage">Recording coverage</h3>'
        f"<p>{escape(coverage_note(report))}</p>"
    )
    rows = []
    for row in report.coverage:
        account, region, status, days, gap_text = coverage_cells(row)
        css = "status-" + status.replace(" ", "-")
        rows.append(
            [
                escape(account),
                escape(region),
                f'<span class="{css}">{escape(status)}</span>',
                escape(days),
                escape(gap_text),
            ]
        )
    out.write(
        _table(["account", "region", "recording", "days delivered", "gaps (no delivery)"], rows, 9)
    )
    out.write(
        "<h3>Scan</h3>"
        + _table(["", "count"], [[escape(label), value] for label, value in summary_rows(report)])
    )
    if skipped:
        out.write(f'<h3 class="skipped" id="skipped">Skipped ({len(skipped)})</h3><ul>')
        for problem in skipped:
            out.write(f"<li><code>{breakable(problem.name)}</code>: {escape(problem.reason)}</li>")
        out.write("</ul>")
    out.write("</section>\n")


def _controls(report: Report) -> str:
    controls = report.compliance.controls
    if not controls:
        return ""
    rows = [[escape(c) for c in control_cells(control)] for control in controls]
    return '<h3 id="controls">Controls</h3>' + _table(list(CONTROL_COLUMNS), rows, 2)


STATE_CSS = {"COMPLIANT": "compliant", "NON_COMPLIANT": "non-compliant"}


def _compliance(report: Report, timeline: Timeline) -> str:
    """The resource's compliance with each rule over the window, transitions with causes."""
    record = report.compliance.of(timeline.key)
    if record is None:
        return ""
    rules = sorted(record.now.keys() | record.before.keys())
    rows = []
    for rule in rules:
        changes = [t for t in record.transitions if t.rule == rule]
        history = "".join(
            f'<li class="transition">{escape(transition_text(t))}</li>' for t in changes
        )
        before = record.before.get(rule, "—")
        now = record.now.get(rule, "—")
        rows.append(
            f"<tr><td><code>{breakable(rule)}</code></td>"
            f'<td class="{STATE_CSS.get(before, "")}">{escape(before)}</td>'
            f'<td class="{STATE_CSS.get(now, "")}">{escape(now)}</td>'
            f"<td>{f'<ul>{history}</ul>' if history else 'no change'}</td></tr>"
        )
    return (
        '<div class="compliance"><h5>Compliance with each rule</h5><table><thead><tr>'
        "<th>rule</th><th>before the window</th><th>now</th><th>changes in the window</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )


def _contents(contents, out: TextIO) -> None:
    out.write('<nav id="contents"><h2>Contents</h2><ul>')
    account = resource_type = None
    for acct, rtype, rid, anchor, items, changes, last in contents:
        if acct != account:
            if account is not None:
                out.write("</ul></li></ul></li>")
            account, resource_type = acct, None
            out.write(f'<li><a href="#account-{escape(acct)}">Account {escape(acct)}</a><ul>')
        if rtype != resource_type:
            if resource_type is not None:
                out.write("</ul></li>")
            resource_type = rtype
            out.write(f"<li>{escape(rtype)}<ul>")
        out.write(
            f'<li><a href="#{anchor}"><code>{breakable(rid)}</code></a> — {items} items, '
            f"{changes} field changes, last: {escape(NOTES[last])}</li>"
        )
    if account is not None:
        out.write("</ul></li></ul></li>")
    out.write("</ul></nav>\n")
