"""Reading what the engine hands a policy, through the SDK's public API only, and the IAM-document
helpers the policies share.

Why the care: `args.props` is the SDK's unknown-checking proxy (a read-only `Mapping`). Reading a
value that is unknown during preview raises `pulumi_policy.proxy.UnknownValueError`, which the SDK
turns into an *advisory* "can't run policy during preview" diagnostic even for a mandatory
policy. Policies that must fail closed read with `peek()` / `plain()`, which catch that exception
and hand back an `Unseen` value instead, so the policy decides (and reports a mandatory finding).

A value can be unseen for two reasons, and the finding says which and what to do:
- *unknown*: computed by AWS during the update, so a preview has only the engine's sentinel;
- *secret*: masked as the string "[secret]" — what `pulumi preview --json` writes for every secret,
  and what `pulumi policy analyze` and `configtrail policy-check` send for a secret that a stack
  export holds only as ciphertext. (A real `pulumi preview --policy-pack` decrypts secrets before
  the pack sees them, so a mask only ever appears offline.)
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

__all__ = [
    "SECRET_MASK",
    "DocumentError",
    "UnknownValueError",
    "Unseen",
    "as_list",
    "condition_values",
    "masked",
    "names",
    "parse_document",
    "peek",
    "plain",
    "principals",
    "statements",
]

# What the CLI writes in place of a secret it does not show (pkg/backend/display/json.go).
SECRET_MASK = "[secret]"
_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


@dataclass(frozen=True)
class Unseen:
    """A value the pack cannot see: `reason` is "unknown" (preview) or "secret" (masked)."""

    reason: str

    def explain(self, what: str) -> str:
        """Why `what` cannot be judged, and what to run instead — the text of a finding."""
        if self.reason == "secret":
            return (
                f"{what} is a secret that this file masks as {SECRET_MASK}, so the pack cannot "
                "show it is safe. Judge the real value: run the check in the pipeline (`pulumi "
                "preview --policy-pack`, which decrypts secrets for the pack), or export with "
                "`pulumi stack export --show-secrets` / `pulumi preview --json --show-secrets` "
                "and run `configtrail policy-check` on that file; or stop making it a secret"
            )
        return (
            f"{what} is unknown during preview, so it cannot be shown to be safe; build it from "
            "values known at preview (literals, names) so the policy can check it"
        )


UNKNOWN = Unseen("unknown")
SECRET = Unseen("secret")


def _classify(value: Any) -> Any:
    if isinstance(value, str):
        if value == SECRET_MASK:
            return SECRET
        if value in _UNKNOWN_SENTINELS:
            return UNKNOWN
    return value


def masked(value: Any) -> bool:
    """True for the CLI's "[secret]" mask."""
    return isinstance(value, str) and value == SECRET_MASK


def _get(container: Any, key: Any) -> Any:
    """`container[key]`, an `Unseen` for an unknown or masked value, `_MISSING` when absent."""
    if isinstance(container, str) or not isinstance(container, Mapping | Sequence):
        return _MISSING
    if not isinstance(container, Mapping) and not isinstance(key, int):
        return _MISSING
    try:
        return _classify(container[key])
    except (KeyError, IndexError):
        return _MISSING
    except UnknownValueError:
        return UNKNOWN


_MISSING = object()


def plain(value: Any) -> Any:
    """A copy of `value` in plain dicts and lists, with every unknown or masked leaf (or
    container) replaced by its `Unseen`. Never raises `UnknownValueError`."""
    value = _classify(value)
    if isinstance(value, Mapping):
        return {key: plain(_get(value, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(_get(value, index)) for index in range(len(value))]
    return value


def peek(mapping: Any, *path: str | int, default: Any = None) -> Any:
    """The plain value at `path` (an `Unseen` if it, or a container on the way, cannot be seen),
    or `default` if absent. Copies only the value found: stack policies peek at one key of
    thousands of resources."""
    current = _classify(mapping)
    for key in path:
        if isinstance(current, Unseen):
            return current
        current = _get(current, key)
        if current is _MISSING:
            return default
    return plain(current)


def unseen_in(value: Any) -> Unseen | None:
    """The first `Unseen` anywhere inside a `plain()` value (secret wins over unknown)."""
    found = None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unseen):
            if item.reason == "secret":
                return item
            found = item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def as_list(value: Any) -> list:
    """IAM's "string or list of strings" as a list."""
    if value is None:
        return []
    if isinstance(value, str | Unseen):
        return [value]
    return list(value)


class DocumentError(ValueError):
    """A policy document that is not valid JSON or not shaped like an IAM policy."""


def parse_document(text: Any) -> dict:
    """An IAM policy document from the JSON string (or object) a resource carries."""
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


def region_of(props: Any, provider: Any) -> str | Unseen | None:
    """The region a resource lives in: its own `region` input (pulumi-aws v7), else its
    provider's `region`. `None` when neither says; an `Unseen` when the one that decides is
    unknown or masked."""
    own = peek(props, "region")
    if isinstance(own, Unseen) or (isinstance(own, str) and own):
        return own
    if provider is not None:
        configured = peek(provider.props, "region")
        if isinstance(configured, Unseen) or (isinstance(configured, str) and configured):
            return configured
    return None


def names(values: Iterable[str]) -> str:
    """`a, b and c` for messages."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def shown(value: Any) -> str:
    """A value for a message: its repr, or "(unknown)" / "(secret)" when it cannot be seen."""
    if isinstance(value, Unseen):
        return f"({value.reason})"
    return repr(value)


def wait_or_fail(value: Any, what: str, report, path: str = "") -> bool:
    """For policies that wait for unknowns: True when `value` (from `peek()`) is fully visible.
    An unknown raises the SDK's `UnknownValueError`, so the SDK reports its advisory "can't run
    during preview" as it does for a proxy read (`pulumi up` checks the known value); a masked
    secret is reported (mandatory where the policy is) and gives False — a secret stays hidden
    in `up` too, offline, so waiting would never judge it."""
    hidden = unseen_in(value)
    if hidden is None:
        return True
    if hidden.reason == "secret":
        report(hidden.explain(what))
        return False
    raise UnknownValueError(UNKNOWN_STRING_VALUE, [path or what])


def arn_account(arn: str) -> str | None:
    """The account field of an ARN (`arn:<partition>:<service>:<region>:<account>:...`): "" for
    an ARN without one (an S3 bucket's), None for a value that is no ARN."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else None


def matches(name: str, patterns: Iterable[str]) -> bool:
    """`name` matches one of the fnmatch `patterns` (case-sensitive, as S3 names are)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
