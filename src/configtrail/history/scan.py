"""Read an archive into an ItemStore: choose files by key, fetch them a few at a time, skip and
report what cannot be read.

Files are chosen from their keys alone (region, resource type, delivery period), so a narrow
question reads few files. Fetching and decoding run on a small thread pool with a bounded number
of files in flight; items are stored by the calling thread, in listing order, so results do not
depend on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from configtrail.history import layout
from configtrail.history.model import Item, ItemError, item_from_delivery
from configtrail.history.reader import FileProblem, Source, decode
from configtrail.history.store import ItemStore

WORKERS = 8


@dataclass(frozen=True)
class Filters:
    """What to read. None means no restriction."""

    types: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    resource_ids: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Days before `since` whose deliveries are read for each resource's last earlier state.
    baseline_days: int = 1

    @property
    def read_from(self) -> datetime | None:
        return self.since - timedelta(days=self.baseline_days) if self.since else None

    def wants_file(self, file: layout.DeliveredFile) -> bool:
        if self.regions is not None and file.region not in self.regions:
            return False
        if self.types is not None and file.resource_type not in (None, *self.types):
            return False
        return file.may_hold(self.read_from, self.until)

    def wants_item(self, item: Item) -> bool:
        if self.types is not None and item.key.resource_type not in self.types:
            return False
        if self.resource_ids is not None and item.key.resource_id not in self.resource_ids:
            return False
        read_from = self.read_from
        if read_from is not None and item.capture_time < read_from:
            return False
        return self.until is None or item.capture_time < self.until


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
    items_read: int = 0
    items_kept: int = 0
    duplicates: int = 0
    skipped_files: list[Problem] = field(default_factory=list)
    skipped_items: list[Problem] = field(default_factory=list)

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


def _fetch(source: Source, file: layout.DeliveredFile) -> list:
    return decode(source.read(file.key), file.gzipped)


def scan(
    source: Source, filters: Filters, store: ItemStore, progress: Progress | None = None
) -> ScanSummary:
    """Read every wanted file of `source` into `store`; never raises for one bad file."""
    progress = progress or Progress()
    summary = ScanSummary(source=source.description)
    wanted: list[layout.DeliveredFile] = []
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
        if filters.wants_file(file):
            wanted.append(file)
        else:
            summary.files_not_needed += 1
    progress.listed(len(wanted))
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="history-read") as pool:
        for file, future in _bounded(pool, wanted, lambda f: _fetch(source, f)):
            name = source.name(file.key)
            try:
                raw_items = future.result()
            except FileProblem as error:
                _skip_file(summary, progress, Problem(name, str(error)))
            else:
                summary.files_read += 1
                store.add(_items(raw_items, file, name, filters, summary, progress))
            progress.advance()
    store.commit()
    summary.duplicates = store.duplicates
    summary.items_kept = store.added
    return summary


def _items(
    raw_items: list,
    file: layout.DeliveredFile,
    name: str,
    filters: Filters,
    summary: ScanSummary,
    progress: Progress,
) -> Iterable[Item]:
    for index, raw in enumerate(raw_items):
        summary.items_read += 1
        try:
            item = item_from_delivery(
                raw, delivery_account=file.account, delivery_region=file.region, source=name
            )
        except ItemError as error:
            problem = Problem(f"{name} configurationItems[{index}]", str(error))
            summary.skipped_items.append(problem)
            progress.warn(problem)
            continue
        if filters.wants_item(item):
            yield item


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
