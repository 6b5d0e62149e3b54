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
import gc
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
# Sequence numbers a parallel scan gives one file's records: far more than a file holds.
SEQUENCE_SPAN = 2**32
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


class RunWriter:
    """The writing half of the external sort: records buffered until `run_bytes` of item JSON,
    then sorted and written as a run file `<prefix>-<n>.bin` in `directory`. The store uses one;
    so does each process of a parallel scan, whose runs the store then adopts."""

    def __init__(self, directory: Path, prefix: str, run_bytes: int):
        self.directory = directory
        self.prefix = prefix
        self.run_bytes = run_bytes
        self.buffer: list[tuple] = []
        self.buffered = 0
        self.runs: list[Path] = []

    def add(self, records: list[tuple]) -> None:
        """Buffer one delivered file's records; spill once the buffer is full."""
        self.buffer.extend(records)
        self.buffered += sum(len(r[12]) for r in records)
        if self.buffered >= self.run_bytes:
            self.spill()

    def spill(self) -> None:
        """Write the buffer as one sorted run (nothing when it is empty)."""
        if not self.buffer:
            return
        self.buffer.sort()
        path = self.directory / f"{self.prefix}-{len(self.runs)}.bin"
        write_run(path, self.buffer)
        self.runs.append(path)
        self.buffer, self.buffered = [], 0


def write_run(path: Path, records: list[tuple]) -> None:
    """Records, already in order, as a run file: length-prefixed msgpack chunks."""
    with path.open("wb") as out:
        for start in range(0, len(records), _CHUNK):
            data = _ENCODE.encode(records[start : start + _CHUNK])
            out.write(_LENGTH.pack(len(data)))
            out.write(data)


def read_chunks(path: Path) -> Iterator[list[tuple]]:
    """The records of a run file, in order, chunk by chunk."""
    with path.open("rb") as run:
        while header := run.read(_LENGTH.size):
            yield _DECODE.decode(run.read(_LENGTH.unpack(header)[0]))


def merge(sources: list[Iterator[list[tuple]]]) -> Iterator[tuple]:
    """The records of several sorted sources, each read chunk by chunk, in one order.

    Block by block rather than record by record (heapq.merge), so that ordering runs in C: of
    the chunks in hand, the one whose last record is smallest bounds what can go out now (every
    record still unread in a source comes after that source's chunk in hand); the records up to
    that bound, from every chunk in hand, are sorted together (timsort merges the sorted
    slices) and go out, and the exhausted chunks are replaced by their sources' next.
    """
    return itertools.chain.from_iterable(_merged_blocks(sources))


def _merged_blocks(sources: list[Iterator[list[tuple]]]) -> Iterator[list[tuple]]:
    # [chunk in hand, position of its first record not yet out, its source]
    pending = [[chunk, 0, source] for source in sources if (chunk := _next_chunk(source))]
    while len(pending) > 1:
        bound = min(chunk[-1] for chunk, _, _ in pending)
        block: list[tuple] = []
        for entry in pending:
            chunk, start, source = entry
            cut = bisect.bisect_right(chunk, bound, start)
            block.extend(chunk[start:cut] if start or cut < len(chunk) else chunk)
            if cut == len(chunk):
                entry[0], entry[1] = _next_chunk(source), 0
            else:
                entry[1] = cut
        pending = [entry for entry in pending if entry[0]]
        block.sort()
        yield block
    for chunk, start, source in pending:
        yield chunk[start:] if start else chunk
        yield from source


def _next_chunk(source: Iterator[list[tuple]]) -> list[tuple] | None:
    """The source's next chunk that holds a record; None at its end."""
    return next((chunk for chunk in source if chunk), None)


def distinct(records: Iterable[tuple]) -> Iterator[tuple]:
    """The first copy of each item (resource, capture time, state id) of ordered records."""
    previous = None
    for record in records:
        identity = record[:5] + record[6:7]
        if identity != previous:
            previous = identity
            yield record


def record(row: tuple, sequence: int, file: int) -> tuple:
    """A store row (`row(item)`) as a record: the sequence after the state id, the file id
    before the item JSON (see the module docstring)."""
    return (*row[:7], sequence, *row[7:10], file, row[10])


class ItemStore:
    """Add items file by file; read them back as timelines. Use as a context manager."""

    def __init__(self, directory: Path | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="configtrail-history-", dir=directory)
        self._files: list[str] = []
        self._file_ids: dict[str, int] = {}
        self._writer = RunWriter(Path(self._dir.name), "run", RUN_BYTES)
        self._adopted: list[Path] = []
        self._times: list[str] = []
        self._sorted_times = True
        self._stored = 0  # items stored, copies included
        self._next_sequence = 0
        # (first copies, later copies), None until counted: by the first complete pass over
        # the timelines, or by a pass of its own when asked for before one.
        self._counts: tuple[int, int] | None = (0, 0)
        self._closed = False

    def __enter__(self) -> ItemStore:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.counts()  # a summary may ask for the counts after the store is gone
        self.close()

    def close(self) -> None:
        self._writer.buffer = []
        self._closed = True
        self._dir.cleanup()

    @property
    def directory(self) -> Path:
        """Where the store keeps its run files (and where a parallel scan writes its own)."""
        return Path(self._dir.name)

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
        first = self._next_sequence
        self._writer.run_bytes = RUN_BYTES  # read at each file: a test lowers it
        self._writer.add([record(r, first + n, file) for n, r in enumerate(rows)])
        self._times.extend(r[4] for r in rows)
        self._stored += len(rows)
        self._next_sequence = first + len(rows)
        self._sorted_times = False
        self._counts = None
        return len(rows)

    def reserve(self, sources: list[str]) -> tuple[list[int], int, int]:
        """(file ids, first sequence, sequence span per file) for a parallel scan of `sources`
        in this order: the records its processes write sort exactly as if the files had been
        added one after another with add_rows."""
        ids = [self._file_id(source) for source in sources]
        first = self._next_sequence
        self._next_sequence = first + len(sources) * SEQUENCE_SPAN
        return ids, first, SEQUENCE_SPAN

    def adopt(self, runs: list[Path], stored: int, times: list[str]) -> None:
        """Take over sorted run files written by a parallel scan into `directory`: `stored`
        records were added, their capture times `times`."""
        self._adopted.extend(runs)
        self._stored += stored
        self._times.extend(times)
        self._sorted_times = False
        self._counts = None

    def _records(self) -> Iterator[tuple]:
        """Every record, in order: the runs on disk merged with the buffer."""
        buffer = self._writer.buffer
        buffer.sort()
        runs = [*self._writer.runs, *self._adopted]
        if not runs:
            return iter(buffer)
        return merge([iter([buffer]), *(read_chunks(path) for path in runs)])

    def commit(self) -> None:
        """Nothing to flush (kept for callers that finish a scan with it)."""

    def counts(self) -> tuple[int, int]:
        """(distinct items, copies dropped): `added` and `duplicates` together, counted by a
        pass of their own unless a complete pass over the timelines already counted them."""
        if self._counts is None:
            if self._closed:
                raise RuntimeError("the item store was closed before its items were counted")
            first_copies = sum(1 for _ in distinct(self._records()))
            self._counts = (first_copies, self._stored - first_copies)
        return self._counts

    @property
    def added(self) -> int:
        """Distinct items stored."""
        return self.counts()[0]

    @property
    def duplicates(self) -> int:
        """Copies dropped: the same resource, capture time and state id stored again."""
        return self.counts()[1]

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
        groups = self._groups(start, end, wanted, keys)
        while True:
            # Reading and building a timeline makes millions of small acyclic objects (records,
            # decoded items, changes): the cycle collector, which would walk them again and
            # again, is paused while the next one is read and built (reference counting still
            # frees them) and is as the caller left it whenever the caller runs.
            enabled = gc.isenabled()
            gc.disable()
            try:
                group = next(groups, None)
                timeline = None if group is None else _timeline(group, start, self._files)
            finally:
                if enabled:
                    gc.enable()
            if timeline is None:
                return
            yield timeline

    def _groups(self, start, end, wanted, keys) -> Iterator[list[tuple]]:
        """Each wanted resource's records (first copies only) before `end`: `distinct` and a
        grouping by resource in one pass, since every record goes through it. A pass that
        reaches the end has seen every first copy, so it also gives the store its counts."""

        def in_window(found: list[tuple]) -> bool:
            return bool(found) and (start is None or found[-1][4] >= start)

        resource: tuple | None = None
        found: list[tuple] = []
        skip = False
        last_time = last_state = None
        stored, first_copies = self._stored, 0
        for record in self._records():
            head = record[:4]
            if head != resource:
                if in_window(found):
                    yield found
                resource, found = head, []
                skip = (wanted is not None and head[2] not in wanted) or (
                    keys is not None and head not in keys
                )
                last_time = last_state = None
            elif record[4] == last_time and record[6] == last_state:
                continue  # a later copy of the item before it (see distinct)
            last_time, last_state = record[4], record[6]
            first_copies += 1
            if not skip and (end is None or last_time < end):
                found.append(record)
        if self._counts is None and self._stored == stored:
            self._counts = (first_copies, stored - first_copies)
        if in_window(found):
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
    key = ResourceKey(*group[0][:4])  # one resource: every item shares its key
    parse_time = datetime.fromisoformat
    for _, _, _, _, captured, _, state_id, _, status, arn, name, file, doc in group:
        # Positional (Item's field order), made here rather than by a helper: 200,000 are made
        # per benchmark run.
        item = Item(
            key,
            parse_time(captured + "+00:00"),
            status,
            state_id,
            arn,
            name,
            files[file],
            None,
            None,
            doc,
        )
        if start is not None and captured < start:
            baseline = item
        else:
            window.append(item)
    return build_timeline(window, baseline)
