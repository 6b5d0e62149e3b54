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
from typing import Any, NamedTuple

import msgspec

# File versions this reader understands; anything else is skipped, never guessed at.
KNOWN_FILE_VERSIONS = frozenset({"1.0"})
# The parts of an item that describe the resource, compared between consecutive items.
SECTIONS = ("configuration", "supplementaryConfiguration", "tags", "relationships")
# Statuses after which the resource has no configuration to compare.
_SECTION_NAMES = frozenset(SECTIONS)
GONE = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})


class ItemError(ValueError):
    """An item that lacks what a timeline needs (names the missing field)."""


class ResourceKey(NamedTuple):
    """One resource: the same id may exist in several accounts and regions (a tuple, so it
    sorts by account, region, type and id)."""

    account: str
    region: str
    resource_type: str
    resource_id: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} ({self.account}, {self.region})"


@dataclass(slots=True)
class Item:
    """The parts of one configuration item that timelines and reports use.

    Read from a delivered file, an item keeps the JSON AWS Config wrote (`document_json`) and
    decodes it only when its sections or its other fields are first asked for: ordering and
    de-duplicating need the key, the time and the state id alone.
    """

    key: ResourceKey
    capture_time: datetime
    status: str
    state_id: str
    arn: str | None
    name: str | None
    source: str  # the delivered file it came from, for provenance
    # the compared sections by name: read from a delivered file as the whole decoded item
    # (None until first asked for), or exactly the four sections (item_from_delivery)
    parts: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # every other field as delivered (version, ARN, times, availability zone, ...)
    raw_metadata: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    document_json: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def present(self) -> bool:
        return self.status not in GONE

    @property
    def sections(self) -> dict[str, Any]:
        """The compared sections by name (read with `.get(name)`: a section the item lacks is
        None). Decoded from the item's JSON on first use, the mapping is then the whole decoded
        item, sections and all, rather than a copy of four of its keys: one is made per item."""
        if self.parts is None:
            self.parts = msgspec.json.decode(self.document_json) if self.document_json else {}
        return self.parts

    @property
    def metadata(self) -> dict[str, Any]:
        """Every field but the compared sections (version, ARN, times, availability zone...)."""
        if self.raw_metadata is None:
            document = self.sections
            self.raw_metadata = {k: v for k, v in document.items() if k not in _SECTION_NAMES}
        return self.raw_metadata

    def document(self) -> dict[str, Any]:
        """The whole configuration item, as delivered (a section it lacks as None)."""
        sections = self.sections
        return {**self.metadata, **{name: sections.get(name) for name in SECTIONS}}


def split(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the compared sections, every other field) of an item."""
    metadata = {k: v for k, v in document.items() if k not in _SECTION_NAMES}
    return {name: document.get(name) for name in SECTIONS}, metadata


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
    item = _place(raw.get, delivery_account, delivery_region, source)
    item.parts, item.raw_metadata = split(raw)
    return item


class _Header(msgspec.Struct):
    """The fields of an item that place it on a timeline (both spellings where AWS has two);
    msgspec skips the rest of the item without building it."""

    resourceType: Any = None
    resourceId: Any = None
    configurationItemCaptureTime: Any = None
    configurationItemStatus: Any = None
    awsRegion: Any = None
    awsAccountId: Any = None
    accountId: Any = None
    configurationStateId: Any = None
    configurationStateID: Any = None
    ARN: Any = None
    arn: Any = None
    resourceName: Any = None


HEADER = msgspec.json.Decoder(_Header)


def item_from_json(
    document: bytes, *, delivery_account: str, delivery_region: str, source: str
) -> Item:
    """Like item_from_delivery, from the item's JSON: only the header is decoded now."""
    try:
        header = HEADER.decode(document)
    except msgspec.ValidationError:
        kind = type(msgspec.json.decode(document)).__name__
        raise ItemError(f"is a {kind}, not an object") from None
    item = _place(lambda name: getattr(header, name), delivery_account, delivery_region, source)
    item.document_json = bytes(document)
    return item


def _place(get, delivery_account: str, delivery_region: str, source: str) -> Item:
    resource_type = get("resourceType")
    resource_id = get("resourceId")
    captured_text = get("configurationItemCaptureTime")
    missing = [
        name
        for name, value in (("resourceType", resource_type), ("resourceId", resource_id))
        if not isinstance(value, str) or not value
    ]
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
    region = get("awsRegion")
    if not isinstance(region, str) or not region or region == "global":
        region = delivery_region
    state = get("configurationStateId")
    if state is None:
        state = get("configurationStateID")
    account = get("awsAccountId") or get("accountId") or delivery_account
    arn = get("ARN")
    return Item(
        key=ResourceKey(str(account), region, resource_type, resource_id),
        capture_time=captured,
        status=str(get("configurationItemStatus") or "OK"),
        state_id="" if state is None else str(state),
        arn=arn if arn is not None else get("arn"),
        name=get("resourceName"),
        source=source,
    )


class Change(NamedTuple):
    """One field that differs between consecutive items (a tuple: millions are made)."""

    section: str  # one of SECTIONS
    path: str  # dotted path inside the section, `[n]` for list positions
    kind: str  # added, removed or changed
    before: Any = None
    after: Any = None


class Entry(NamedTuple):
    """An item on a timeline and what changed since the item before it (a tuple: one is made
    per item, and a frozen dataclass costs several times as much to build)."""

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
