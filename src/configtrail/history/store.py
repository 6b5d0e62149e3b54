"""Items sorted by resource and capture time, with memory bounded whatever the archive's size.

Files arrive in whatever order the archive lists them and one resource's items are spread over
many files, so timelines cannot be built while reading. The store is an external sort: each item
is a record `(account, region, type, id, capture time, state order, state id, sequence, status,
ARN, name, file, item JSON)` held in memory until the buffer reaches RUN_BYTES, then sorted and
written to a temporary run file (deleted on close); reading merges the runs. Records compare as
tuples, and the sequence number (the order in which items were stored) makes every record
distinct, so the first stored copy of an item comes first. Copies of one item (a history file
and a snapshot, an oversized notification and its history file: same resource, capture time and
state id) are adjacent and only the first is used. Each item stays the JSON AWS Config wrote
until its timeline is built.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import struct
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import msgspec

from configtrail.history.diff import build_timeline
from configtrail.history.model import Item, ResourceKey, Timeline

RUN_BYTES = 64 * 1024 * 1024  # item JSON buffered before a sorted run is written to disk
_CHUNK = 2048  # records per chunk of a run file
_LENGTH = struct.Struct("<I")
_Record = tuple[str, str, str, str, str, int, str, int, str, str | None, str | None, int, bytes]
_ENCODE = msgspec.msgpack.Encoder()
_DECODE = msgspec.msgpack.Decoder(list[_Record])


def time_text(value: datetime) -> str:
    """Fixed width (`2025-03-01T10:00:00.000000`, UTC), so that text order is time order."""
    return value.isoformat(timespec="microseconds")[:26]


def state_order(state_id: str) -> int:
    # Config's state ids increase with each change of a resource; older documents used UUIDs.
    return int(state_id) if state_id.isdigit() else 0


def row(item: Item) -> tuple:
    """An item as the store keeps it, without file and sequence (see ItemStore.add_rows): the
    JSON of the whole item, as delivered when the item was read from a file."""
    return (
        item.key.account,
        item.key.region,
        item.key.resource_type,
        item.key.resource_id,
        time_text(item.capture_time),
        state_order(item.state_id),
        item.state_id,
        item.status,
        item.arn,
        item.name,
        item.document_json or msgspec.json.encode(item.document()),
    )


class ItemStore:
    """Add items file by file; read them back as timelines. Use as a context manager."""

    def __init__(self, directory: Path | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="configtrail-history-", dir=directory)
        self._files: list[str] = []
        self._file_ids: dict[str, int] = {}
        self._buffer: list[tuple] = []
        self._buffered = 0
        self._runs: list[Path] = []
        self._times: list[str] = []
        self._sorted_times = True
        self._stored = 0
        self._counts: tuple[int, int] | None = (0, 0)

    def __enter__(self) -> ItemStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._buffer = []
        self._dir.cleanup()

    def _file_id(self, source: str) -> int:
        if source not in self._file_ids:
            self._file_ids[source] = len(self._files)
            self._files.append(source)
        return self._file_ids[source]

    def add(self, items: Iterable[Item]) -> int:
        """Store items; returns how many."""
        by_source: dict[str, list[tuple]] = {}
        for item in items:
            by_source.setdefault(item.source, []).append(row(item))
        return sum(self.add_rows(source, rows) for source, rows in by_source.items())

    def add_rows(self, source: str, rows: list[tuple]) -> int:
        """Store the rows (`row(item)`) of one delivered file; returns how many."""
        file = self._file_id(source)
        sequence = self._stored
        for r in rows:
            self._buffer.append((*r[:7], sequence, *r[7:10], file, r[10]))
            self._times.append(r[4])
            self._buffered += len(r[10])
            sequence += 1
        self._stored = sequence
        self._sorted_times = False
        self._counts = None
        if self._buffered >= RUN_BYTES:
            self._spill()
        return len(rows)

    def _spill(self) -> None:
        self._buffer.sort()
        path = Path(self._dir.name) / f"run-{len(self._runs)}.bin"
        with path.open("wb") as out:
            for start in range(0, len(self._buffer), _CHUNK):
                chunk = _ENCODE.encode(self._buffer[start : start + _CHUNK])
                out.write(_LENGTH.pack(len(chunk)))
                out.write(chunk)
        self._runs.append(path)
        self._buffer, self._buffered = [], 0

    @staticmethod
    def _read(path: Path) -> Iterator[tuple]:
        with path.open("rb") as run:
            while header := run.read(_LENGTH.size):
                yield from _DECODE.decode(run.read(_LENGTH.unpack(header)[0]))

    def _records(self) -> Iterator[tuple]:
        """Every record, in order: the runs on disk merged with the buffer."""
        self._buffer.sort()
        if not self._runs:
            return iter(self._buffer)
        return heapq.merge(self._buffer, *(self._read(path) for path in self._runs))

    def _distinct(self, records: Iterable[tuple]) -> Iterator[tuple]:
        """The first copy of each item (resource, capture time, state id)."""
        previous = None
        for record in records:
            identity = record[:5] + record[6:7]
            if identity != previous:
                previous = identity
                yield record

    def commit(self) -> None:
        """Nothing to flush (kept for callers that finish a scan with it)."""

    def _count(self) -> tuple[int, int]:
        if self._counts is None:
            distinct = sum(1 for _ in self._distinct(self._records()))
            self._counts = (distinct, self._stored - distinct)
        return self._counts

    @property
    def added(self) -> int:
        """Distinct items stored."""
        return self._count()[0]

    @property
    def duplicates(self) -> int:
        """Copies dropped: the same resource, capture time and state id stored again."""
        return self._count()[1]

    def timelines(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Iterable[str] | None = None,
        keys: Iterable[ResourceKey] | None = None,
    ) -> Iterator[Timeline]:
        """Timelines of the resources with at least one item in [since, until), sorted by
        account, region, type and id (only of `types`, or only the resources `keys`, when
        given). Items before `since` only supply each baseline."""
        start = time_text(since) if since is not None else None
        end = time_text(until) if until is not None else None
        wanted = frozenset(types) if types is not None else None
        keys = {tuple(k) for k in keys} if keys is not None else None
        for group in self._groups(start, end, wanted, keys):
            yield _timeline(group, start, self._files)

    def _groups(self, start, end, wanted, keys) -> Iterator[list[tuple]]:
        """Each wanted resource's records (first copies only) before `end`."""
        records = self._distinct(self._records())
        for resource, group in itertools.groupby(records, key=lambda r: r[:4]):
            if wanted is not None and resource[2] not in wanted:
                continue
            if keys is not None and resource not in keys:
                continue
            found = [r for r in group if end is None or r[4] < end]
            if found and (start is None or found[-1][4] >= start):
                yield found

    def time_range(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[datetime, datetime] | None:
        """First and last capture time of the items in [since, until), or None: the shared time
        axis of a report without a window."""
        if not self._sorted_times:
            self._times.sort()
            self._sorted_times = True
        low = bisect.bisect_left(self._times, time_text(since)) if since else 0
        high = bisect.bisect_left(self._times, time_text(until)) if until else len(self._times)
        if low >= high:
            return None
        return (
            datetime.fromisoformat(self._times[low] + "+00:00"),
            datetime.fromisoformat(self._times[high - 1] + "+00:00"),
        )

    def count_resources(self) -> int:
        return sum(1 for _ in itertools.groupby(self._records(), key=lambda r: r[:4]))


def _timeline(group: list[tuple], start: str | None, files: list[str]) -> Timeline:
    baseline: Item | None = None
    window: list[Item] = []
    for record in group:
        item = _item(record, files)
        if start is not None and record[4] < start:
            baseline = item
        else:
            window.append(item)
    return build_timeline(window, baseline)


def _item(record: tuple, files: list[str]) -> Item:
    account, region, rtype, rid, captured, _, state_id, _, status, arn, name, file, doc = record
    return Item(
        key=ResourceKey(account, region, rtype, rid),
        capture_time=datetime.fromisoformat(captured + "+00:00"),
        status=status,
        state_id=state_id,
        arn=arn,
        name=name,
        source=files[file],
        document_json=doc,
    )
