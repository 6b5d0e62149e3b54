"""Small readers over a captured plan, so that tests say what they check."""

from __future__ import annotations

import json

from configtrail.plan.capture import CapturedResource
from configtrail.plan.runner import Plan


def one(plan: Plan, type_token: str, name: str | None = None) -> CapturedResource:
    found = [r for r in plan.by_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_token} {name or ''}, found {len(found)}"
    return found[0]


def policy_document(resource: CapturedResource, key: str = "policy") -> dict:
    return json.loads(resource.inputs[key])


def statement(document: dict, sid: str) -> dict:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"statement {sid} not found in {document}"
    return matches[0]


def by_region(plan: Plan, type_token: str) -> dict[str, CapturedResource]:
    home = plan.settings.home_region
    return {r.inputs.get("region") or home: r for r in plan.by_type(type_token)}
