"""Helpers of the bootstrap tests: readers over a bootstrap plan (roles, trust, permissions), a
variant stack file, and IAM policy evaluation — wildcard matching and Allow/Deny within one policy,
as IAM evaluates them (conditions aside: tests that depend on a condition assert it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml


def stack_dir(tmp_path: Path, **settings) -> Path:
    config = {
        "aws:region": "eu-west-1",
        "configtrail-bootstrap:githubOrg": "acme",
        "configtrail-bootstrap:githubRepo": "trail",
    }
    config.update({f"configtrail-bootstrap:{k}": v for k, v in settings.items()})
    (tmp_path / "Pulumi.variant.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def roles(plan) -> dict[str, dict]:
    return {r.inputs["name"]: r for r in plan.by_type("aws:iam/role:Role")}


def trust(role) -> dict:
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement


def permissions(plan, role_name: str) -> list[dict]:
    [policy] = [
        r for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role_name
    ]
    return json.loads(policy.inputs["policy"])["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def iam_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard matching: `*` any run of characters (slashes too), `?` one character.
    Action names are case-insensitive in IAM; resource ARNs are not."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE if ignore_case else 0
    return re.fullmatch(regex, value, flags=flags) is not None


def matches(statement: dict, action: str, arn: str) -> bool:
    """Whether `statement` applies to `action` on `arn` (Action or NotAction; Resource)."""
    if "NotAction" in statement:
        action_ok = not any(iam_match(a, action, True) for a in as_list(statement["NotAction"]))
    else:
        action_ok = any(iam_match(a, action, True) for a in as_list(statement["Action"]))
    return action_ok and any(iam_match(r, arn) for r in as_list(statement["Resource"]))


def allowed(statements: list[dict], action: str, arn: str) -> bool:
    """IAM's evaluation within one policy (conditions aside): some Allow, and no Deny, matches."""
    effects = {s["Effect"] for s in statements if matches(s, action, arn)}
    return effects == {"Allow"}


def denied(statements: list[dict], action: str, arn: str) -> bool:
    """An explicit Deny matches: nothing attached to the role later can allow it."""
    return any(s["Effect"] == "Deny" and matches(s, action, arn) for s in statements)
