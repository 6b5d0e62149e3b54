"""Read an archive into an ItemStore: choose files by key, fetch them a few at a time, skip and
report what cannot be read.

Files are chosen from their keys alone (account, region, resource type, delivery period), so a
narrow question reads few files. A local archive of many files is read by one process per core,
each decoding its share of the files into sorted runs that the store adopts; otherwise (few
files, or S3, where reading waits on the network) a small thread pool fetches and decodes with a
bounded number of files in flight, and items are stored by the calling thread. Either way items
are numbered in listing order, so results do not depend on timing or on the number of processes.
Decoding cuts each file into items with msgspec and reads only each item's header (resource,
time, state): the item itself stays the JSON AWS Config wrote until its timeline is built.
"""

from __future__ import annotations

import queue
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import msgspec

from configtrail.history import layout, processes
from configtrail.history import store as item_store
from configtrail.history.model import HEADER, Item, ItemError, item_from_json
from configtrail.history.reader import (
    FileProblem,
    LocalSource,
    Source,
    decode_json,
    decode_notification,
)
from configtrail.history.store import ItemStore, RunWriter, record
from configtrail.history.store import row as store_row
from configtrail.history.store import state_order as store_state_order
from configtrail.history.store import time_text as store_time

WORKERS = 8  # files fetched at once
# A local archive of at least this many files per process is read by several processes.
FILES_PER_PROCESS = 32


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
    skipped_files: list[Problem] = field(default_factory=list)
    skipped_items: list[Problem] = field(default_factory=list)
    # (account, region, day folder) of every delivery of the wanted accounts and regions, of
    # any resource type: what the coverage section is computed from.
    deliveries: set[tuple[str, str, date]] = field(default_factory=set)
    # (items kept, duplicates dropped), asked of the store that holds the items when first
    # needed: a report's pass over the timelines counts them on the way (ItemStore.counts).
    counts: Callable[[], tuple[int, int]] = field(default=lambda: (0, 0), repr=False)

    @property
    def items_kept(self) -> int:
        """Distinct items kept."""
        return self.counts()[0]

    @property
    def duplicates(self) -> int:
        """Copies of an item dropped (the same resource, capture time and state id)."""
        return self.counts()[1]

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
        # Interned (a few distinct values): sorting compares them most, and equal strings
        # that are one object compare at once.
        return (
            sys.intern(account),
            sys.intern(region),
            sys.intern(rtype),
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
    source: Source,
    filters: Filters,
    store: ItemStore,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> ScanSummary:
    """Read every wanted file of `source` into `store`; never raises for one bad file.

    A local archive is read by `jobs` processes (default: every available core) when it has
    enough files for each; otherwise, and for S3 (where reading waits on the network), by a
    thread pool in this process. Both give the same store and the same summary.
    """
    progress = progress or Progress()
    summary = ScanSummary(source=source.description)
    listed: list[layout.DeliveredFile] = []
    jobs = processes.available_cores() if jobs is None else jobs
    # Enough files listed for helper processes: their fork server starts while listing goes on.
    warm_at = jobs * FILES_PER_PROCESS if isinstance(source, LocalSource) and jobs > 1 else None
    warming = None
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
        if len(listed) == warm_at:
            warming = processes.warm_up(processes.context(__name__))
        if filters.wants_place(file.account, file.region):
            summary.deliveries.add((file.account, file.region, file.day))
    wanted, summary.files_not_needed = choose_files(listed, filters)
    progress.listed(len(wanted))
    if isinstance(source, LocalSource) and jobs > 1 and len(wanted) >= jobs * FILES_PER_PROCESS:
        if warming is not None:
            warming.join()
        outcomes = _read_in_processes(source, wanted, filters, store, progress, jobs)
    else:
        outcomes = _read_in_threads(source, wanted, filters, store, progress)
    for file, outcome in zip(wanted, outcomes, strict=True):
        if isinstance(outcome, Problem):
            _skip_file(summary, progress, outcome)
            continue
        summary.files_read += 1
        summary.items_read += outcome.items_read
        if file.kind == layout.OVERSIZED:
            summary.oversized_notifications += 1
        for problem in outcome.skipped:
            summary.skipped_items.append(problem)
            progress.warn(problem)
    store.commit()
    summary.counts = store.counts
    return summary


# What reading one file gave: its problem, or (without its rows, which are stored) what it held.
Outcome = Problem | Decoded


def _read_in_threads(
    source: Source, wanted: list, filters: Filters, store: ItemStore, progress: Progress
) -> list[Outcome]:
    """Files fetched and decoded on a thread pool; rows stored by this thread in listing order."""

    def fetch(file: layout.DeliveredFile) -> Decoded:
        return decode_file(source.read(file.key), file, source.name(file.key), filters)

    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="history-read") as pool:
        for file, future in _bounded(pool, wanted, fetch):
            name = source.name(file.key)
            try:
                decoded = future.result()
            except FileProblem as error:
                outcomes.append(Problem(name, str(error)))
            else:
                store.add_rows(name, decoded.rows)
                outcomes.append(Decoded([], decoded.items_read, decoded.skipped))
            progress.advance()
    return outcomes


def _read_in_processes(
    source: LocalSource,
    wanted: list,
    filters: Filters,
    store: ItemStore,
    progress: Progress,
    jobs: int,
) -> list[Outcome]:
    """Files dealt round-robin to `jobs` processes, each of which decodes its files and writes
    its records as sorted runs into the store's directory; the store adopts the runs. Sequence
    numbers follow the listing order, so the store reads back exactly as after a serial scan."""
    ids, first, span = store.reserve([source.name(file.key) for file in wanted])
    numbered = list(zip(range(len(wanted)), ids, wanted, strict=True))
    parts = [numbered[job::jobs] for job in range(jobs)]
    context = processes.context(__name__)
    done = context.Queue()
    run_bytes = max(item_store.RUN_BYTES // jobs, 1)
    outcomes: list[Outcome | None] = [None] * len(wanted)
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_worker_started, initargs=(done,)
    ) as pool:
        futures = [
            pool.submit(
                _read_part,
                source.root,
                part,
                filters,
                store.directory,
                f"part{job}",
                run_bytes,
                first,
                span,
            )
            for job, part in enumerate(parts)
        ]
        pending = set(futures)
        advanced = 0
        while pending:
            _, pending = wait(pending, timeout=0.1)
            advanced += _drain(done, progress)
        for _ in range(len(wanted) - advanced):  # the counts still in flight, if any
            progress.advance()
        parts_read = [future.result() for future in futures]
    store.adopt(
        [run for _, runs, _, _ in parts_read for run in runs],
        sum(stored for _, _, stored, _ in parts_read),
        [time for _, _, _, times in parts_read for time in times],
    )
    for part_outcomes, _, _, _ in parts_read:
        for rank, outcome in part_outcomes:
            outcomes[rank] = outcome
    return outcomes  # type: ignore[return-value]


_done: queue.Queue[int] | None = None


def _worker_started(done) -> None:
    global _done
    _done = done


def _drain(done, progress: Progress) -> int:
    """Report the files the processes say they finished; returns how many."""
    drained = 0
    while True:
        try:
            count = done.get_nowait()
        except queue.Empty:
            return drained
        for _ in range(count):
            progress.advance()
        drained += count


def _read_part(
    root: Path,
    part: list[tuple[int, int, layout.DeliveredFile]],
    filters: Filters,
    directory: Path,
    prefix: str,
    run_bytes: int,
    first: int,
    span: int,
) -> tuple[list[tuple[int, Outcome]], list[Path], int, list[str]]:
    """One process's share of a parallel scan: (outcome per file rank, the sorted run files it
    wrote, records in them, their capture times)."""
    source = LocalSource(root)
    writer = RunWriter(directory, prefix, run_bytes)
    outcomes: list[tuple[int, Outcome]] = []
    times: list[str] = []
    stored = 0
    reported = 0
    for rank, file_id, file in part:
        name = source.name(file.key)
        try:
            decoded = decode_file(source.read(file.key), file, name, filters)
        except FileProblem as error:
            outcomes.append((rank, Problem(name, str(error))))
        else:
            base = first + rank * span
            writer.add([record(row, base + n, file_id) for n, row in enumerate(decoded.rows)])
            times.extend(r[4] for r in decoded.rows)
            stored += len(decoded.rows)
            outcomes.append((rank, Decoded([], decoded.items_read, decoded.skipped)))
        reported += 1
        if _done is not None and reported >= 16:  # the last few are counted by the caller
            _done.put(reported)
            reported = 0
    writer.spill()
    return outcomes, writer.runs, stored, times


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
