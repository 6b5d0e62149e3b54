"""Editing the real plans for the policy tests: find, change and drop resource states in a
`pulumi stack export` or `pulumi preview --json` document."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from configtrail.policy.report import Report

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def resources(document: dict) -> list[dict]:
    """The resource states of a stack export or a preview document (editable in place)."""
    if "deployment" in document:
        return document["deployment"]["resources"]
    return [step["newState"] for step in document["steps"] if step.get("newState")]


def find(document: dict, type_: str, name: str | None = None) -> dict:
    """The single (first) resource of `type_` whose URN name contains `name`."""
    for state in resources(document):
        if state["type"] == type_ and (name is None or name in state["urn"].rsplit("::", 1)[1]):
            return state
    raise LookupError(f"no {type_} {name or ''} in the plan")


def set_prop(state: dict, key: str, value, *, both: bool = True) -> None:
    """Set an input (and output) property, as the engine would store a changed resource."""
    for side in ("inputs", "outputs") if both else ("inputs",):
        if side in state:
            state[side][key] = value


def drop(document: dict, type_: str, name: str | None = None) -> None:
    """Remove a resource from the plan (as if the program no longer registered it)."""
    state = find(document, type_, name)
    if "deployment" in document:
        document["deployment"]["resources"].remove(state)
    else:
        document["steps"] = [s for s in document["steps"] if s.get("newState") is not state]


def edit_policy(state: dict, change: Callable[[dict], None]) -> None:
    """Edit the JSON policy document a resource carries in `policy`."""
    for side in ("inputs", "outputs"):
        if "policy" in state.get(side, {}):
            document = json.loads(state[side]["policy"])
            change(document)
            state[side]["policy"] = json.dumps(document)


def violations(report: Report, policy: str, level: str = "mandatory") -> list:
    return [f for f in report.findings if f.policy == policy and f.level == level]


def edit_trust(state: dict, change: Callable[[list], None]) -> None:
    """Edit the statements of a role's assumeRolePolicy."""
    for side in ("inputs", "outputs"):
        if "assumeRolePolicy" in state.get(side, {}):
            document = json.loads(state[side]["assumeRolePolicy"])
            change(document["Statement"])
            state[side]["assumeRolePolicy"] = json.dumps(document)


def assert_only_policy_catches(run, document, config, mutate, policy, level="mandatory") -> None:
    """The mutation-table check: the unmutated plan does not trip `policy`; after `mutate`, the
    pack reports a real finding of `policy` at `level` (not a can't-run-during-preview downgrade)
    and no other mandatory policy fires (one problem, one policy)."""
    document = copy.deepcopy(document)
    before = run(document, config)
    assert not violations(before, policy, level), "the unmutated plan must not already trip it"
    mutate(document)
    report = run(document, config)
    caught = violations(report, policy, level)
    assert caught, [(f.policy, f.level, f.message) for f in report.findings]
    assert not caught[0].unknown_downgrade
    others = {f.policy for f in report.mandatory} - {policy}
    assert not others, f"also reported by {others}: one problem, one policy"
    assert report.passed is (level != "mandatory")
