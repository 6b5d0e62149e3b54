"""A local archive read by several processes gives exactly what one process gives: the same
summary (counts, skipped files and items, in listing order), the same timelines (items, their
source files, field changes) and the same progress."""

from __future__ import annotations

import json

import pytest

from configtrail.history import scan, store
from configtrail.history.reader import LocalSource
from tests.history import archive


@pytest.fixture
def mixed_dir(tmp_path):
    """The sample archive with its bad files: corrupt, truncated, unknown version, bad items."""
    root = tmp_path / "archive"
    archive.write_dir(root, {**archive.good_files(), **archive.bad_files()})
    return root


class Counting(scan.Progress):
    def __init__(self):
        self.total = self.advanced = 0
        self.warnings: list[str] = []

    def listed(self, total):
        self.total = total

    def advance(self):
        self.advanced += 1

    def warn(self, problem):
        self.warnings.append(str(problem))


@pytest.fixture
def process_reads(monkeypatch):
    """How many scans were read by processes (the spy calls the real function)."""
    calls = []
    real = scan._read_in_processes

    def spy(*args, **kwargs):
        calls.append(args[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(scan, "_read_in_processes", spy)
    return calls


def _read(root, jobs, filters=None):
    filters = filters or scan.Filters()
    progress = Counting()
    with store.ItemStore() as items:
        summary = scan.scan(LocalSource(root), filters, items, progress, jobs=jobs)
        timelines = [
            (
                timeline.key,
                timeline.baseline.source if timeline.baseline else None,
                [(e.item.source, e.item.capture_time, e.note, e.changes) for e in timeline.entries],
            )
            for timeline in items.timelines(filters.since, filters.until)
        ]
        times = items.time_range()
    return summary.as_dict(), sorted(summary.deliveries), timelines, times, progress


@pytest.mark.parametrize("run_bytes", [store.RUN_BYTES, 1], ids=["in-memory", "run-per-file"])
def test_processes_read_exactly_what_one_process_reads(
    mixed_dir, monkeypatch, process_reads, run_bytes
):
    monkeypatch.setattr(store, "RUN_BYTES", run_bytes)
    monkeypatch.setattr(scan, "FILES_PER_PROCESS", 1)  # the sample archive is small
    one = _read(mixed_dir, jobs=1)
    several = _read(mixed_dir, jobs=3)
    assert process_reads == [3]
    assert several[:4] == one[:4]
    summary = one[0]
    assert summary["skippedFiles"] and summary["skippedItems"] and summary["duplicates"]
    assert (
        several[4].advanced
        == one[4].advanced
        == one[4].total
        == summary["filesRead"]
        + len(summary["skippedFiles"])
        - sum("outside the layout" in p["reason"] for p in summary["skippedFiles"])
    )
    assert several[4].warnings == one[4].warnings


def test_processes_keep_the_window_and_its_baseline(mixed_dir, monkeypatch, process_reads):
    monkeypatch.setattr(scan, "FILES_PER_PROCESS", 1)
    window = scan.Filters(since=archive.t("2025-03-02T00:00:00Z"))
    one = _read(mixed_dir, 1, window)
    assert any(baseline for _, baseline, _ in one[2])
    assert _read(mixed_dir, 2, window)[:4] == one[:4]
    assert process_reads == [2]


def test_a_small_archive_is_read_in_this_process(good_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("processes started for a small archive")

    monkeypatch.setattr(scan, "_read_in_processes", refuse)
    assert _read(good_dir, jobs=4)[0]["itemsKept"] > 0


def test_jobs_out_of_range_is_refused(run_cli, good_dir):
    for jobs in ("0", "257"):
        code, _, err = run_cli("--source", str(good_dir), "--jobs", jobs)
        assert code == 2
        assert f"--jobs {jobs}: must be between 1 and 256" in err


def test_the_cli_report_is_the_same_with_processes(run_cli, mixed_dir, monkeypatch, process_reads):
    monkeypatch.setattr(scan, "FILES_PER_PROCESS", 1)
    reports = []
    for jobs in ("1", "2"):
        code, out, err = run_cli(
            "--source", str(mixed_dir), "--all-types", "--format", "json", "--jobs", jobs
        )
        assert code == 1, err  # the bad files are skipped and named
        document = json.loads(out)
        document.pop("generated", None)
        reports.append(document)
    assert reports[0] == reports[1]
    assert process_reads == [2]
