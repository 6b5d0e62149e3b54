"""The tool's terminal output, one way everywhere: messages print literally (no markup
highlighting, no emoji codes such as ":lock:"), and output that is not a terminal (a pipe, a CI
log) is never hard-wrapped, so paths and URNs stay whole."""

from __future__ import annotations

from rich.console import Console

# Tables need a width even in a log; wide enough for a URN column.
PIPED_WIDTH = 200


def console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    terminal = probe.is_terminal
    return Console(
        stderr=stderr,
        highlight=False,
        emoji=False,
        soft_wrap=not terminal,
        width=None if terminal else PIPED_WIDTH,
    )
