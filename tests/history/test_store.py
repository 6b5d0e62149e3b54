"""The item store: an external sort whose runs on disk merge into the same order as memory, the
first stored copy of an item kept, and the quick header reading equal to the full one."""

from __future__ import annotations

import json

import pytest

from configtrail.history import layout, store
from configtrail.history.model import item_from_json
from configtrail.history.scan import Filters, _QuickFilter, decode_file, store_row
from tests.history import archive


def _timelines(run_cli, root):
    code, out, err = run_cli("--source", str(root), "--format", "json", "--all-types")
    assert code == 0, err
    document = json.loads(out)
    for timeline in document["timelines"]:
        for entry in timeline["items"]:
            entry.pop("source")
    return document["timelines"], document["summary"]["duplicates"]


def test_runs_spilled_to_disk_merge_into_the_same_timelines(run_cli, good_dir, monkeypatch):
    in_memory = _timelines(run_cli, good_dir)
    monkeypatch.setattr(store, "RUN_BYTES", 1)  # a run file for every delivered file
    assert _timelines(run_cli, good_dir) == in_memory
    assert in_memory[1] == 3


@pytest.mark.parametrize("seed", range(40))
def test_merge_gives_the_sorted_order_of_sources_read_chunk_by_chunk(seed):
    """The block-wise merge of runs (issue 13's speed) gives exactly the order heapq.merge would,
    whatever the chunk sizes, the overlap between sources, repeated records and empty chunks."""
    import heapq
    import random

    rng = random.Random(seed)
    sources = []
    for _ in range(rng.randrange(0, 7)):
        records = sorted((rng.randrange(40), rng.randrange(5)) for _ in range(rng.randrange(60)))
        chunks, at = [], 0
        while at < len(records):
            size = rng.randrange(0, 9)  # 0: an empty chunk in the middle of a source
            chunks.append(records[at : at + size])
            at += size
        sources.append(chunks)
    flat = [[record for chunk in chunks for record in chunk] for chunks in sources]
    expected = list(heapq.merge(*flat))
    assert list(store.merge([iter(chunks) for chunks in sources])) == expected


def test_the_first_stored_copy_is_kept():
    with store.ItemStore() as items:
        item = _row(archive.M2, "x")
        items.add_rows("history.json.gz", [item])
        items.add_rows("snapshot.json.gz", [item])
        [timeline] = items.timelines()
        assert timeline.entries[0].item.source == "history.json.gz"
        assert (items.added, items.duplicates) == (1, 1)


def _row(raw: dict, source: str) -> tuple:
    """The store row of an item of the test archive delivered in us-east-1."""
    return store.row(
        item_from_json(
            json.dumps(raw).encode(),
            delivery_account=archive.ACCOUNT,
            delivery_region="us-east-1",
            source=source,
        )
    )


def _store_with_a_copy() -> store.ItemStore:
    """M1, M2 and B1 in three files, and M2 again in a fourth: 3 items and 1 copy."""
    items = store.ItemStore()
    for n, raw in enumerate([archive.M1, archive.M2, archive.B1, archive.M2]):
        items.add_rows(f"f{n}", [_row(raw, f"f{n}")])
    return items


def test_a_complete_pass_over_the_timelines_counts_the_items_on_the_way():
    """A report reads every timeline and then its summary's counts: the pass counts them, so
    the store is not read a second time for them (issue 13). Counted after the store is closed,
    they can only come from that pass."""
    items = _store_with_a_copy()
    assert len(list(items.timelines(types=["AWS::S3::Bucket"]))) == 1  # filters count anyway
    items.close()
    assert items.counts() == (3, 1)


def test_an_abandoned_pass_counts_nothing_and_new_items_are_counted_again():
    items = _store_with_a_copy()
    next(iter(items.timelines()))  # stopped after the first timeline: not every item seen
    items.close()
    with pytest.raises(RuntimeError, match="closed before its items were counted"):
        items.counts()
    with _store_with_a_copy() as items:
        list(items.timelines())
        items.add_rows("f4", [_row(archive.B1, "f4")])
        assert (items.added, items.duplicates) == (3, 2)  # the new copy, not the first count


def test_leaving_the_store_counts_its_items_for_the_summary_read_afterwards():
    with _store_with_a_copy() as items:
        pass
    assert items.counts() == (3, 1)


@pytest.mark.parametrize("enabled", [True, False])
def test_timelines_pause_the_cycle_collector_only_while_reading_and_building_one(
    enabled, monkeypatch
):
    """Reading runs and building a timeline make many acyclic objects, so the cycle collector
    is paused while the next timeline is read and built (issue 13's speed), and left as the
    caller had it in between and after."""
    import gc

    seen, read = [], []
    real, real_read = store.build_timeline, store.read_chunks
    monkeypatch.setattr(
        store, "build_timeline", lambda *args: (seen.append(gc.isenabled()), real(*args))[1]
    )

    def read_chunks(path):
        for chunk in real_read(path):
            read.append(gc.isenabled())
            yield chunk

    monkeypatch.setattr(store, "read_chunks", read_chunks)
    monkeypatch.setattr(store, "RUN_BYTES", 1)  # every file a run on disk
    with store.ItemStore() as items:
        for n, raw in enumerate([archive.M1, archive.M2, archive.B1]):
            items.add_rows(f"f{n}", [_row(raw, f"f{n}")])
        (gc.enable if enabled else gc.disable)()
        try:
            for _ in items.timelines():
                assert gc.isenabled() is enabled
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    assert seen and not any(seen)
    assert read and not any(read)


@pytest.mark.parametrize(
    "raw",
    [
        archive.M1,
        archive.R2,
        archive.B1,
        archive.G1,
        archive.M3,
        dict(archive.M2, configurationItemCaptureTime=1741000000.5),
    ],
)
def test_quick_header_reading_equals_the_full_reading(raw):
    data = json.dumps(raw).encode()
    quick = _QuickFilter(Filters()).row(data, archive.ACCOUNT, "us-east-1")
    full = store_row(
        item_from_json(
            data, delivery_account=archive.ACCOUNT, delivery_region="us-east-1", source="f"
        )
    )
    assert quick is None or quick == full
    if isinstance(raw["configurationItemCaptureTime"], str):
        assert quick is not None  # AWS's own format takes the quick path


def test_decode_file_keeps_only_wanted_items_and_names_bad_ones():
    items = [archive.M1, {"resourceType": "AWS::S3::Bucket"}, archive.B1]
    data = json.dumps({"fileVersion": "1.0", "configurationItems": items}).encode()
    file = layout.parse_key(
        layout.history_key(
            "p",
            archive.ACCOUNT,
            "us-east-1",
            "AWS::S3::Bucket",
            archive.t("2025-03-01T00:00:00"),
            archive.t("2025-03-01T06:00:00"),
            gzipped=False,
        )
    )
    decoded = decode_file(data, file, "f.json", Filters(types=frozenset({"AWS::S3::Bucket"})))
    assert [r[3] for r in decoded.rows] == ["training-data"]
    assert decoded.items_read == 3
    [problem] = decoded.skipped
    assert problem.name == "f.json configurationItems[1]"
    assert problem.reason == "has no resourceId, configurationItemCaptureTime"
