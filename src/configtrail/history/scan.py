"""Read an archive into an ItemStore: choose files by key, fetch them a few at a time, skip and
report what cannot be read.

Files are chosen from their keys alone (account, region, resource type, delivery period), so a
narrow question reads few files. Fetching and decoding run on a small thread pool with a bounded
number of files in flight; items are stored by the calling thread, in listing order, so results
do not depend on timing. Decoding cuts each file into items with msgspec and reads only each
item's header (resource, time, state): the item itself stays the JSON AWS Config wrote until its
timeline is built.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import msgspec

from configtrail.history import layout
from configtrail.history.model import HEADER, Item, ItemError, item_from_json
from configtrail.history.reader import FileProblem, Source, decode_json, decode_notification
from configtrail.history.store import ItemStore
from configtrail.history.store import row as store_row
from configtrail.history.store import state_order as store_state_order
from configtrail.history.store import time_text as store_time

WORKERS = 8  # files fetched at once


@dataclass(frozen=True)
class Filters:
    """What to read. None means no restriction."""

    types: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    resource_ids: frozenset[str] | None = None
    accounts: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    # How far before `since` to look for each resource's last earlier state: None as far as
    # needed (from the newest snapshot before `since`, or all earlier history without one),
    # N only the deliveries of the N days before `since`, 0 no earlier state at all.
    baseline_days: int | None = None

    @property
    def read_from(self) -> datetime | None:
        """The earliest delivery read for the baseline; None when unbounded or no window."""
        if self.since is None or self.baseline_days is None:
            return None
        return self.since - timedelta(days=self.baseline_days)

    def wants_place(self, account: str, region: str) -> bool:
        if self.accounts is not None and account not in self.accounts:
            return False
        return self.regions is None or region in self.regions

    def wants_key(self, file: layout.DeliveredFile) -> bool:
        """What the key alone rules out: other accounts, regions and resource types."""
        if not self.wants_place(file.account, file.region):
            return False
        return self.types is None or file.resource_type in (None, *self.types)

    def wants_file(self, file: layout.DeliveredFile) -> bool:
        """A file that may hold items of the window itself."""
        return self.wants_key(file) and file.may_hold(self.since, self.until)

    def wants_item(self, item: Item) -> bool:
        """Items before `since` are kept whatever their capture time (a snapshot repeats each
        resource's state with the time it was captured): the newest is the baseline."""
        if self.types is not None and item.key.resource_type not in self.types:
            return False
        if self.resource_ids is not None and item.key.resource_id not in self.resource_ids:
            return False
        if self.accounts is not None and item.key.account not in self.accounts:
            return False
        if self.baseline_days == 0 and self.since is not None and item.capture_time < self.since:
            return False
        return self.until is None or item.capture_time < self.until


def choose_files(
    files: list[layout.DeliveredFile], filters: Filters
) -> tuple[list[layout.DeliveredFile], int]:
    """(files to read, how many are not needed), decided from the keys alone.

    The window's own files, plus what the last state before the window needs in each account
    and region: the newest snapshot before `since` (it holds every recorded resource's state,
    with its original capture time) and the history and oversized-notification files from that
    snapshot's time on; without such a snapshot, every earlier history file. `baseline_days`
    bounds how far back either is looked for.
    """
    candidates = [file for file in files if filters.wants_key(file)]
    window = [file for file in candidates if file.may_hold(filters.since, filters.until)]
    chosen = {file.key for file in window}
    if filters.since is not None and filters.baseline_days != 0:
        read_from = filters.read_from
        earlier = [
            file
            for file in candidates
            if file.key not in chosen
            and file.start < filters.since
            and (read_from is None or file.end >= read_from)
        ]
        newest: dict[tuple[str, str], datetime] = {}
        for file in earlier:
            if file.kind == layout.SNAPSHOT:
                where = (file.account, file.region)
                newest[where] = max(newest.get(where, file.start), file.start)
        for file in earlier:
            snapshot = newest.get((file.account, file.region))
            if file.kind == layout.SNAPSHOT:
                needed = file.start == snapshot
            else:
                needed = snapshot is None or file.end >= snapshot
            if needed:
                chosen.add(file.key)
    wanted = [file for file in candidates if file.key in chosen]
    return wanted, len(files) - len(wanted)


@dataclass(frozen=True)
class Problem:
    """Something skipped: a file (or one item of a file) and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass
class ScanSummary:
    source: str
    files_listed: int = 0
    files_read: int = 0
    files_not_needed: int = 0  # outside the filters, decided from the key
    files_ignored: int = 0  # AWS's own non-history objects (the writability check file)
    oversized_notifications: int = 0  # AWS's OversizedChangeNotification objects read
    items_read: int = 0
    items_kept: int = 0
    duplicates: int = 0
    skipped_files: list[Problem] = field(default_factory=list)
    skipped_items: list[Problem] = field(default_factory=list)
    # (account, region, day folder) of every delivery of the wanted accounts and regions, of
    # any resource type: what the coverage section is computed from.
    deliveries: set[tuple[str, str, date]] = field(default_factory=set)

    @property
    def clean(self) -> bool:
        return not self.skipped_files and not self.skipped_items

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "filesListed": self.files_listed,
            "filesRead": self.files_read,
            "filesNotNeeded": self.files_not_needed,
            "filesIgnored": self.files_ignored,
            "oversizedNotifications": self.oversized_notifications,
            "itemsRead": self.items_read,
            "itemsKept": self.items_kept,
            "duplicates": self.duplicates,
            "skippedFiles": [{"file": p.name, "reason": p.reason} for p in self.skipped_files],
            "skippedItems": [{"item": p.name, "reason": p.reason} for p in self.skipped_items],
        }


class Progress:
    """What a scan reports while it runs; the default reports nothing."""

    def listed(self, total: int) -> None: ...

    def advance(self) -> None: ...

    def warn(self, problem: Problem) -> None: ...


@dataclass
class Decoded:
    """What one file gave: store rows of its wanted items, and its items that were skipped."""

    rows: list[tuple]
    items_read: int
    skipped: list[Problem]


def decode_file(data: bytes, file: layout.DeliveredFile, name: str, filters: Filters) -> Decoded:
    """Decode one delivered file into store rows; FileProblem for a file that is unusable."""
    if file.kind == layout.OVERSIZED:
        raw_items = decode_notification(data, file.gzipped)
    else:
        raw_items = decode_json(data, file.gzipped)
    rows, skipped = [], []
    quick = _QuickFilter(filters)
    for index, raw in enumerate(raw_items):
        found = quick.row(raw, file.account, file.region)
        if found is not None:
            if found is not _UNWANTED:
                rows.append(found)
            continue
        try:
            item = item_from_json(
                raw, delivery_account=file.account, delivery_region=file.region, source=name
            )
        except ItemError as error:
            skipped.append(Problem(f"{name} configurationItems[{index}]", str(error)))
            continue
        if filters.wants_item(item):
            rows.append(store_row(item))
    return Decoded(rows, len(raw_items), skipped)


_UNWANTED = ()


class _QuickFilter:
    """The store row of an item as AWS Config writes it (ISO capture time to the millisecond,
    `Z`; string ids; a region), straight from its header, or _UNWANTED when the filters leave it
    out; None for anything else, which item_from_json then reads (the same result, slower)."""

    def __init__(self, filters: Filters):
        self.filters = filters
        self.since = (
            store_time(filters.since)
            if filters.since is not None and filters.baseline_days == 0
            else None
        )
        self.until = store_time(filters.until) if filters.until is not None else None

    def row(self, raw: bytes, delivery_account: str, delivery_region: str):
        try:
            h = HEADER.decode(raw)
        except msgspec.ValidationError:
            return None
        rtype, rid, captured = h.resourceType, h.resourceId, h.configurationItemCaptureTime
        if not (
            type(rtype) is str
            and rtype
            and type(rid) is str
            and rid
            and type(captured) is str
            and len(captured) == 24
            and captured[23] == "Z"
            and captured[19] == "."
        ):
            return None
        try:
            datetime.fromisoformat(captured)
        except ValueError:
            return None
        text = captured[:23] + "000"
        region = h.awsRegion
        if type(region) is not str or not region or region == "global":
            region = delivery_region
        account = h.awsAccountId or h.accountId or delivery_account
        if type(account) is not str:
            return None
        filters = self.filters
        if (
            (filters.types is not None and rtype not in filters.types)
            or (filters.resource_ids is not None and rid not in filters.resource_ids)
            or (filters.accounts is not None and account not in filters.accounts)
            or (self.since is not None and text < self.since)
            or (self.until is not None and text >= self.until)
        ):
            return _UNWANTED
        state = h.configurationStateId
        if state is None:
            state = h.configurationStateID
        state_id = "" if state is None else str(state)
        arn = h.ARN if h.ARN is not None else h.arn
        return (
            account,
            region,
            rtype,
            rid,
            text,
            store_state_order(state_id),
            state_id,
            str(h.configurationItemStatus or "OK"),
            arn,
            h.resourceName,
            bytes(raw),
        )


def scan(
    source: Source, filters: Filters, store: ItemStore, progress: Progress | None = None
) -> ScanSummary:
    """Read every wanted file of `source` into `store`; never raises for one bad file."""
    progress = progress or Progress()
    summary = ScanSummary(source=source.description)
    listed: list[layout.DeliveredFile] = []
    for key in source.list_keys():
        summary.files_listed += 1
        if layout.is_writability_check(key):
            summary.files_ignored += 1
            continue
        try:
            file = layout.parse_key(key)
        except layout.LayoutError as error:
            _skip_file(summary, progress, Problem(source.name(key), f"outside the layout: {error}"))
            continue
        listed.append(file)
        if filters.wants_place(file.account, file.region):
            summary.deliveries.add((file.account, file.region, file.day))
    wanted, summary.files_not_needed = choose_files(listed, filters)
    progress.listed(len(wanted))

    def fetch(file: layout.DeliveredFile) -> Decoded:
        return decode_file(source.read(file.key), file, source.name(file.key), filters)

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="history-read") as pool:
        for file, future in _bounded(pool, wanted, fetch):
            name = source.name(file.key)
            try:
                decoded = future.result()
            except FileProblem as error:
                _skip_file(summary, progress, Problem(name, str(error)))
            else:
                summary.files_read += 1
                summary.items_read += decoded.items_read
                if file.kind == layout.OVERSIZED:
                    summary.oversized_notifications += 1
                for problem in decoded.skipped:
                    summary.skipped_items.append(problem)
                    progress.warn(problem)
                store.add_rows(name, decoded.rows)
            progress.advance()
    store.commit()
    summary.duplicates = store.duplicates
    summary.items_kept = store.added
    return summary


def _skip_file(summary: ScanSummary, progress: Progress, problem: Problem) -> None:
    summary.skipped_files.append(problem)
    progress.warn(problem)


def _bounded(pool: ThreadPoolExecutor, files: list, work: Callable):
    """(file, future) in input order, with at most 2 x WORKERS files fetched ahead."""
    window: list[tuple[layout.DeliveredFile, Future]] = []
    for file in files:
        window.append((file, pool.submit(work, file)))
        if len(window) >= 2 * WORKERS:
            yield window.pop(0)
    yield from window
