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
