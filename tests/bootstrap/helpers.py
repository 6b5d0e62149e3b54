"""Helpers of the bootstrap tests: readers over a bootstrap plan (roles, trust, permissions), a
variant settings file, and IAM policy evaluation — wildcard matching, the condition operators the
documents use, and Allow/Deny within one policy, as IAM evaluates them."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import yaml

from configtrail.bootstrap import settings as bs

SHIPPED = yaml.safe_load(bs.SETTINGS_FILE.read_text())


def settings_file(tmp_path: Path, **changes) -> Path:
    """bootstrap/pipeline.yaml with `changes` applied (None removes a key)."""
    values = {**SHIPPED}
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def roles(plan) -> dict[str, object]:
    return {r.inputs["name"]: r for r in plan.by_type("aws:iam/role:Role")}


def trust(role) -> dict:
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement


def permissions(plan, role_name: str) -> list[dict]:
    [policy] = [
        r for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role_name
    ]
    return json.loads(policy.inputs["policy"])["Statement"]


def managed_policy(plan, name: str) -> list[dict]:
    [policy] = [r for r in plan.by_type("aws:iam/policy:Policy") if r.inputs["name"] == name]
    return json.loads(policy.inputs["policy"])["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def iam_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard matching: `*` any run of characters (slashes too), `?` one character.
    Action names are case-insensitive in IAM; resource ARNs are not."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE if ignore_case else 0
    return re.fullmatch(regex, value, flags=flags) is not None


def _condition_holds(condition: dict, context: dict) -> bool:
    """The operators these documents use; a key missing from `context` fails the test (as in
    IAM), except for ...IfExists."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            wanted = [str(v) for v in as_list(expected)]
            if key not in context:
                if operator.endswith("IfExists"):
                    continue
                return False
            actual = [str(v) for v in as_list(context[key])]
            base = operator.removesuffix("IfExists").split(":")[-1]
            if base in ("StringEquals", "ArnEquals"):
                ok = any(a in wanted for a in actual)
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(a, w) for a in actual for w in wanted)
            else:
                raise AssertionError(f"condition operator {operator} not understood here")
            if not ok:
                return False
    return True


def matches(statement: dict, action: str, arn: str, context: dict | None = None) -> bool:
    """Whether `statement` applies to `action` on `arn` in `context` (Action or NotAction;
    Resource; Condition)."""
    if "NotAction" in statement:
        action_ok = not any(iam_match(a, action, True) for a in as_list(statement["NotAction"]))
    else:
        action_ok = any(iam_match(a, action, True) for a in as_list(statement["Action"]))
    if not (action_ok and any(iam_match(r, arn) for r in as_list(statement["Resource"]))):
        return False
    if "Condition" in statement:
        return context is not None and _condition_holds(statement["Condition"], context)
    return True


def allowed(statements: list[dict], action: str, arn: str, context: dict | None = None) -> bool:
    """IAM's evaluation within one policy: some Allow, and no Deny, applies. Without a `context`
    a conditional Allow does not apply and a conditional Deny is taken to apply (the safe side
    of each)."""
    allows = any(s["Effect"] == "Allow" and matches(s, action, arn, context) for s in statements)
    return allows and not denied(statements, action, arn, context)


def denied(statements: list[dict], action: str, arn: str, context: dict | None = None) -> bool:
    """An explicit Deny applies: nothing attached to the role later can allow it."""
    for s in statements:
        if s["Effect"] != "Deny":
            continue
        if "Condition" in s and context is None:
            bare = {k: v for k, v in s.items() if k != "Condition"}
            if matches(bare, action, arn):
                return True
        elif matches(s, action, arn, context):
            return True
    return False
