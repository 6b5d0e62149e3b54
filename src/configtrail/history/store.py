"""A disk-backed store of configuration items, so that memory does not grow with the archive.

Files arrive in whatever order the archive lists them and one resource's items are spread over
many files, so timelines cannot be built while reading. Items go into a temporary SQLite database
instead (the standard library's, on disk, deleted on close) and come back sorted by resource and
capture time, one resource at a time. A unique index drops the copies of an item that appear both
in a history file and in a snapshot (same resource, capture time and configuration state id).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from configtrail.history.diff import build_timeline
from configtrail.history.model import Item, ResourceKey, Timeline

_SCHEMA = """
CREATE TABLE files (id INTEGER PRIMARY KEY, key TEXT NOT NULL);
CREATE TABLE items (
    account TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    captured TEXT NOT NULL, state_order INTEGER NOT NULL, state_id TEXT NOT NULL,
    status TEXT NOT NULL, arn TEXT, name TEXT, file INTEGER NOT NULL, body BLOB NOT NULL
);
CREATE UNIQUE INDEX items_identity ON items (account, region, type, id, captured, state_id);
"""


def _time_text(value: datetime) -> str:
    # Fixed width, so that text order is time order.
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _state_order(state_id: str) -> int:
    # Config's state ids increase with each change of a resource; older documents used UUIDs.
    return int(state_id) if state_id.isdigit() else 0


class ItemStore:
    """Add items file by file; read them back as timelines. Use as a context manager."""

    def __init__(self, directory: Path | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="configtrail-history-", dir=directory)
        self._db = sqlite3.connect(Path(self._dir.name) / "items.sqlite")
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;" + _SCHEMA
        )
        self._files: dict[str, int] = {}
        self.added = 0
        self.duplicates = 0

    def __enter__(self) -> ItemStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def _file_id(self, source: str) -> int:
        if source not in self._files:
            self._files[source] = self._db.execute(
                "INSERT INTO files (key) VALUES (?)", (source,)
            ).lastrowid
        return self._files[source]

    def add(self, items: Iterable[Item]) -> int:
        """Store items; returns how many were new (the rest were duplicates)."""
        rows = [
            (
                item.key.account,
                item.key.region,
                item.key.resource_type,
                item.key.resource_id,
                _time_text(item.capture_time),
                _state_order(item.state_id),
                item.state_id,
                item.status,
                item.arn,
                item.name,
                self._file_id(item.source),
                zlib.compress(
                    json.dumps([item.sections, item.metadata], separators=(",", ":")).encode(), 1
                ),
            )
            for item in items
        ]
        before = self._db.total_changes
        self._db.executemany("INSERT OR IGNORE INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        new = self._db.total_changes - before
        self.added += new
        self.duplicates += len(rows) - new
        return new

    def commit(self) -> None:
        self._db.commit()

    def timelines(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Iterable[str] | None = None,
        key: ResourceKey | None = None,
    ) -> Iterator[Timeline]:
        """Timelines of the resources with at least one item in [since, until), sorted by
        account, region, type and id (only of `types`, or only the resource `key`, when
        given). Items before `since` only supply each baseline."""
        self._db.commit()
        query = (
            "SELECT account, region, type, items.id, captured, state_id, status, arn, name, "
            "files.key, body FROM items JOIN files ON files.id = items.file WHERE 1"
        )
        arguments: list[str] = []
        if until is not None:
            query += " AND captured < ?"
            arguments.append(_time_text(until))
        if types is not None:
            wanted = sorted(types)
            query += f" AND type IN ({', '.join('?' * len(wanted))})"
            arguments.extend(wanted)
        if key is not None:
            query += " AND account = ? AND region = ? AND type = ? AND items.id = ?"
            arguments.extend([key.account, key.region, key.resource_type, key.resource_id])
        query += " ORDER BY account, region, type, items.id, captured, state_order, state_id"
        rows = self._db.execute(query, arguments)
        start = _time_text(since) if since is not None else None
        for _, group in itertools.groupby(rows, key=lambda row: row[:4]):
            baseline: Item | None = None
            window: list[Item] = []
            for row in group:
                item = _item(row)
                if start is not None and row[4] < start:
                    baseline = item
                else:
                    window.append(item)
            if window:
                yield build_timeline(window, baseline)

    def time_range(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[datetime, datetime] | None:
        """First and last capture time of the items in [since, until), or None: the shared time
        axis of a report without a window."""
        self._db.commit()
        query, arguments = "SELECT MIN(captured), MAX(captured) FROM items WHERE 1", []
        if since is not None:
            query += " AND captured >= ?"
            arguments.append(_time_text(since))
        if until is not None:
            query += " AND captured < ?"
            arguments.append(_time_text(until))
        first, last = self._db.execute(query, arguments).fetchone()
        if first is None:
            return None
        return (
            datetime.fromisoformat(first + "+00:00"),
            datetime.fromisoformat(last + "+00:00"),
        )

    def count_resources(self) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT account, region, type, id FROM items)"
        ).fetchone()[0]


def _item(row: tuple) -> Item:
    account, region, rtype, rid, captured, state_id, status, arn, name, source, body = row
    sections, metadata = json.loads(zlib.decompress(body))
    return Item(
        key=ResourceKey(account, region, rtype, rid),
        capture_time=datetime.fromisoformat(captured + "+00:00"),
        status=status,
        state_id=state_id,
        arn=arn,
        name=name,
        source=source,
        sections=sections,
        metadata=metadata,
    )
