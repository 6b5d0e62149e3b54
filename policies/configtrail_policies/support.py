"""Helpers every validator shares: reading props without tripping the SDK's unknown proxy,
parsing IAM documents, and finding a resource's region.

Why the care with unknowns: `args.props` is the SDK's proxy. Reading an unknown value through it
raises `UnknownValueError`, which the SDK turns into an *advisory* "can't run policy during
preview" diagnostic even for a mandatory policy. Rules that must fail closed read with `plain()`
/ `peek()` (which never raise) and decide themselves; rules that may wait for known values read
through the proxy and let the SDK downgrade.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError, _DictProxy, _is_unknown, _ListProxy

__all__ = [
    "UnknownValueError",
    "as_list",
    "is_unknown",
    "parse_document",
    "peek",
    "plain",
    "region_of",
    "statements",
]


def is_unknown(value: Any) -> bool:
    """True for the engine's unknown sentinels (values only known after the deployment)."""
    return _is_unknown(value)


def _unwrapped(value: Any) -> Any:
    """The container behind the SDK's proxy (its items are still proxies), or `value`."""
    if isinstance(value, (_DictProxy, _ListProxy)):
        return value["__target"]
    return value


def plain(value: Any) -> Any:
    """A deep copy of `value` without proxies; unknowns stay as their sentinel strings."""
    value = _unwrapped(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def peek(mapping: Any, *path: str | int, default: Any = None) -> Any:
    """The plain value at `path` (sentinel string if unknown), or `default` if absent.

    Walks the proxies' containers and copies only the value found: stack policies peek at one
    key of thousands of resources, and copying whole property trees made that the cost."""
    current = _unwrapped(mapping)
    for key in path:
        if is_unknown(current):
            return current
        if isinstance(current, tuple):
            current = list(current)
        if (isinstance(current, Mapping) and key in current) or (
            isinstance(current, list)
            and isinstance(key, int)
            and -len(current) <= key < len(current)
        ):
            current = _unwrapped(current[key])
        else:
            return default
    return plain(current)


def as_list(value: Any) -> list:
    """IAM's "string or list of strings" as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class DocumentError(ValueError):
    """A policy document that is not valid JSON or not shaped like an IAM policy."""


def parse_document(text: Any) -> dict:
    """An IAM policy document from the JSON string (or dict) a resource carries."""
    if isinstance(text, Mapping):
        document = dict(text)
    else:
        try:
            document = json.loads(text)
        except (TypeError, ValueError) as error:
            raise DocumentError(f"the policy is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise DocumentError("the policy is not a JSON object")
    return document


def statements(document: dict) -> list[dict]:
    """The statements of a document (a single statement object counts as a list of one)."""
    found = document.get("Statement", [])
    if isinstance(found, dict):
        found = [found]
    if not isinstance(found, list):
        raise DocumentError("Statement is neither an object nor a list")
    return [statement for statement in found if isinstance(statement, dict)]


def principals(statement: dict) -> tuple[bool, dict[str, list[str]]]:
    """(`Principal` is "*", principals by kind: Service / AWS / Federated / CanonicalUser)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True, {}
    if not isinstance(principal, Mapping):
        return False, {}
    by_kind = {kind: as_list(value) for kind, value in principal.items()}
    return "*" in by_kind.get("AWS", []), by_kind


def condition_values(statement: dict, key: str) -> dict[str, list[str]]:
    """Condition operator -> values for one condition key (case-insensitive, as IAM treats it)."""
    found: dict[str, list[str]] = {}
    for operator, conditions in (statement.get("Condition") or {}).items():
        if not isinstance(conditions, Mapping):
            continue
        for name, values in conditions.items():
            if name.lower() == key.lower():
                found[operator] = [str(value) for value in as_list(values)]
    return found


def region_of(props: Any, provider: Any) -> str | None:
    """The region a resource lives in: its own `region` input (pulumi-aws v7), else its
    provider's `region`; None when neither is known."""
    own = peek(props, "region")
    if isinstance(own, str) and own and not is_unknown(own):
        return own
    if provider is not None:
        configured = peek(provider.props, "region")
        if isinstance(configured, str) and configured and not is_unknown(configured):
            return configured
    return None


def names(values: Iterable[str]) -> str:
    """`a, b and c` for messages."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
