"""Configuration items as AWS Config delivers them, and the timelines built from them.

A delivered file is `{"fileVersion": "1.0", "configurationItems": [...]}` (snapshots add
`configSnapshotId`). Each item carries `configurationItemVersion`, `configurationItemCaptureTime`,
`configurationStateId`, `awsAccountId`, `configurationItemStatus`, `resourceType`, `resourceId`,
`resourceName`, `ARN`, `awsRegion`, `availabilityZone`, `resourceCreationTime`, `tags`,
`relatedEvents`, `relationships`, `configuration` and `supplementaryConfiguration`. AWS's older
documentation examples spell three of these `arn`, `accountId` and `configurationStateID`; both
spellings are read. Items exported through the API (`get-resource-config-history`,
`batch-get-resource-config`) carry the capture time as epoch seconds (`1539799966.921`) and
`configuration` as JSON text; both are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# File versions this reader understands; anything else is skipped, never guessed at.
KNOWN_FILE_VERSIONS = frozenset({"1.0"})
# The parts of an item that describe the resource, compared between consecutive items.
SECTIONS = ("configuration", "supplementaryConfiguration", "tags", "relationships")
# Statuses after which the resource has no configuration to compare.
GONE = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})
_ALIASES = {
    "ARN": "arn",
    "awsAccountId": "accountId",
    "configurationStateId": "configurationStateID",
}


class ItemError(ValueError):
    """An item that lacks what a timeline needs (names the missing field)."""


@dataclass(frozen=True, order=True)
class ResourceKey:
    """One resource: the same id may exist in several accounts and regions."""

    account: str
    region: str
    resource_type: str
    resource_id: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} ({self.account}, {self.region})"


@dataclass(frozen=True)
class Item:
    """The parts of one configuration item that timelines and reports use."""

    key: ResourceKey
    capture_time: datetime
    status: str
    state_id: str
    arn: str | None
    name: str | None
    source: str  # the delivered file it came from, for provenance
    sections: dict[str, Any]
    # Every other field of the item as delivered (version, ARN, times, availability zone, ...),
    # so that a report can show the whole item.
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def present(self) -> bool:
        return self.status not in GONE

    def document(self) -> dict[str, Any]:
        """The whole configuration item, as delivered."""
        return {**self.metadata, **self.sections}


def _get(raw: dict, name: str) -> Any:
    value = raw.get(name)
    if value is None and name in _ALIASES:
        value = raw.get(_ALIASES[name])
    return value


# Epoch values above this are milliseconds (the Java SDK's exports), below it seconds (the CLI's):
# 10^11 seconds is the year 5138, 10^11 milliseconds March 1973.
_EPOCH_MILLISECONDS = 10**11


def parse_time(text: str | int | float) -> datetime:
    """An ISO 8601 time as AWS writes it (`2024-03-07T23:47:08.918Z`), or epoch seconds (or
    milliseconds) as API exports write it, in UTC."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(text, int | float):
        seconds = text / 1000 if abs(text) >= _EPOCH_MILLISECONDS else text
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{text!r} is out of range") from None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def item_from_delivery(
    raw: Any, *, delivery_account: str, delivery_region: str, source: str
) -> Item:
    """Read one element of `configurationItems`; ItemError if it cannot be placed on a timeline.

    `awsRegion` of global types (IAM) is `global`; such items are placed in the region whose
    folder they were delivered to, where the recorder that captured them runs.
    """
    if not isinstance(raw, dict):
        raise ItemError(f"is a {type(raw).__name__}, not an object")
    missing = [
        name
        for name in ("resourceType", "resourceId")
        if not isinstance(_get(raw, name), str) or not _get(raw, name)
    ]
    captured_text = _get(raw, "configurationItemCaptureTime")
    if (
        not isinstance(captured_text, str | int | float)
        or isinstance(captured_text, bool)
        or captured_text == ""
    ):
        missing.append("configurationItemCaptureTime")
    if missing:
        raise ItemError(f"has no {', '.join(missing)}")
    try:
        captured = parse_time(captured_text)
    except ValueError:
        raise ItemError(
            f"configurationItemCaptureTime {captured_text!r} "
            "is not an ISO 8601 time or epoch seconds"
        ) from None
    region = _get(raw, "awsRegion")
    if not isinstance(region, str) or not region or region == "global":
        region = delivery_region
    state = _get(raw, "configurationStateId")
    return Item(
        key=ResourceKey(
            account=str(_get(raw, "awsAccountId") or delivery_account),
            region=region,
            resource_type=_get(raw, "resourceType"),
            resource_id=_get(raw, "resourceId"),
        ),
        capture_time=captured,
        status=str(_get(raw, "configurationItemStatus") or "OK"),
        state_id="" if state is None else str(state),
        arn=_get(raw, "ARN"),
        name=_get(raw, "resourceName"),
        source=source,
        sections={name: raw.get(name) for name in SECTIONS},
        metadata={name: value for name, value in raw.items() if name not in SECTIONS},
    )


@dataclass(frozen=True)
class Change:
    """One field that differs between consecutive items."""

    section: str  # one of SECTIONS
    path: str  # dotted path inside the section, `[n]` for list positions
    kind: str  # added, removed or changed
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Entry:
    """An item on a timeline and what changed since the item before it."""

    item: Item
    changes: tuple[Change, ...]
    note: str  # first-recorded, changed, unchanged, gone, returned


@dataclass
class Timeline:
    """One resource's items in the window, in capture-time order."""

    key: ResourceKey
    baseline: Item | None  # the last item before the window, when the scan saw one
    entries: list[Entry] = field(default_factory=list)

    @property
    def arn(self) -> str | None:
        return next((e.item.arn for e in reversed(self.entries) if e.item.arn), None)

    @property
    def name(self) -> str | None:
        return next((e.item.name for e in reversed(self.entries) if e.item.name), None)

    @property
    def change_count(self) -> int:
        return sum(len(entry.changes) for entry in self.entries)
