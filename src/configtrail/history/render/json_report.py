"""Machine-readable report: one JSON document, written as timelines arrive."""

from __future__ import annotations

import json
from typing import Any, TextIO

from configtrail.history.model import Item, Timeline
from configtrail.history.render import Report, filters_text


def _item(item: Item) -> dict[str, Any]:
    return {
        "captureTime": item.capture_time.isoformat().replace("+00:00", "Z"),
        "status": item.status,
        "configurationStateId": item.state_id,
        "source": item.source,
        "configurationItem": item.document(),
    }


def timeline_dict(timeline: Timeline) -> dict[str, Any]:
    key = timeline.key
    return {
        "account": key.account,
        "region": key.region,
        "resourceType": key.resource_type,
        "resourceId": key.resource_id,
        "resourceName": timeline.name,
        "arn": timeline.arn,
        "baseline": _item(timeline.baseline) if timeline.baseline else None,
        "items": [
            {
                **_item(entry.item),
                "note": entry.note,
                "changes": [
                    {
                        "section": c.section,
                        "path": c.path,
                        "kind": c.kind,
                        "before": c.before,
                        "after": c.after,
                    }
                    for c in entry.changes
                ],
            }
            for entry in timeline.entries
        ],
    }


def write(report: Report, out: TextIO) -> None:
    head = {
        "generated": report.generated.isoformat(),
        "filters": dict(filters_text(report.filters)),
        "summary": report.summary.as_dict(),
    }
    out.write(json.dumps(head, indent=2)[:-2] + ',\n  "timelines": [')
    for index, timeline in enumerate(report.each()):
        out.write(("," if index else "") + "\n    ")
        out.write(json.dumps(timeline_dict(timeline), default=str, sort_keys=False))
    totals = report.totals
    accounts = [
        {"account": account, "resources": r, "items": i, "changes": c}
        for account, (r, i, c) in sorted(totals.by_account.items())
    ]
    out.write(
        '\n  ],\n  "totals": '
        + json.dumps(
            {"resources": totals.resources, "items": totals.items, "changes": totals.changes}
        )
        + ',\n  "accounts": '
        + json.dumps(accounts)
        + ',\n  "compliance": '
        + json.dumps(report.compliance.as_dict())
        + ',\n  "coverage": '
        + json.dumps(
            {
                "expectedGiven": report.coverage_expected,
                "pairs": [row.as_dict() for row in report.coverage],
            }
        )
        + "\n}\n"
    )
