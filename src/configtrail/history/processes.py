"""The other cores: how the history reader starts helper processes.

Reading an archive is CPU-bound Python (decompressing, cutting files into items, sorting),
so one process uses one core however many threads it runs: a local archive is therefore read
by several processes. They start from a fork server where there is one (a fresh interpreter
forked on demand; forking this process itself is unsafe once it runs threads such as the
progress display), else by spawning.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.context import BaseContext


def available_cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def context(preload: str) -> BaseContext:
    """A multiprocessing context whose processes start with module `preload` imported (and
    not the program's main module, which the fork server would otherwise import)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload([preload])
        return forkserver
    return multiprocessing.get_context("spawn")


def warm_up(context: BaseContext) -> threading.Thread | None:
    """Start `context`'s fork server now, on a thread, so that it is ready when the first
    process is wanted: starting it takes a fifth of a second (a fresh interpreter importing the
    preloaded module), which can then pass while this process does something else (lists the
    archive). Join the thread before relying on it; None where there is no fork server."""
    if context.get_start_method() != "forkserver":
        return None
    thread = threading.Thread(
        target=_start_one, args=(context,), name="history-warm-up", daemon=True
    )
    thread.start()
    return thread


def _start_one(context: BaseContext) -> None:
    process = context.Process(target=_nothing)
    process.start()
    process.join()


def _nothing() -> None:
    """What the warm-up process runs."""
