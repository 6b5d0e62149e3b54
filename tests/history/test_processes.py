"""The helper processes' start: the fork server warmed up while the archive is listed."""

from __future__ import annotations

import multiprocessing

import pytest

from configtrail.history import processes, scan
from configtrail.history.reader import LocalSource
from configtrail.history.store import ItemStore


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_warm_up_starts_a_process_from_the_fork_server_on_a_thread():
    thread = processes.warm_up(processes.context(scan.__name__))
    assert thread is not None and thread.daemon
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_warm_up_does_nothing_without_a_fork_server():
    assert processes.warm_up(multiprocessing.get_context("spawn")) is None


def _archive(root, files: int):
    """`files` empty history files of one account and region (enough to list, nothing to read)."""
    folder = root / "configtrail/AWSLogs/123456789012/Config/us-east-1/2025/1/1/ConfigHistory"
    folder.mkdir(parents=True)
    for n in range(files):
        name = (
            f"123456789012_Config_us-east-1_ConfigHistory_AWS::SageMaker::Model_"
            f"20250101T{n // 60:02d}{n % 60:02d}00Z_20250101T{n // 60:02d}{n % 60:02d}59Z_1.json.gz"
        )
        (folder / name).write_bytes(b"")


@pytest.mark.parametrize(
    ("files", "jobs", "warmed"), [(64, 2, True), (63, 2, False), (500, 1, False)]
)
def test_the_scan_warms_the_fork_server_only_when_listing_finds_work_for_helpers(
    tmp_path, monkeypatch, files, jobs, warmed
):
    """The warm-up starts once `jobs` x FILES_PER_PROCESS files are listed, and never for
    one job: a small archive (read by threads) starts no processes."""
    started = []
    monkeypatch.setattr(processes, "warm_up", lambda context: started.append(context))
    monkeypatch.setattr(scan, "_read_in_processes", lambda *args: [])
    monkeypatch.setattr(scan, "_read_in_threads", lambda *args: [])
    monkeypatch.setattr(scan, "choose_files", lambda listed, filters: ([], 0))
    _archive(tmp_path, files)
    with ItemStore() as store:
        summary = scan.scan(LocalSource(tmp_path), scan.Filters(), store, jobs=jobs)
    assert summary.files_listed == files
    assert len(started) == (1 if warmed else 0)
