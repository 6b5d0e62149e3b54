"""`configtrail`: the repository's offline tooling in one command.

Subcommands register themselves from their modules (`register(subparsers)`), each returning an
exit code. Exit codes: 0 success, 1 the check found violations, 2 bad settings or unusable input
(a message, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.console import Console

from configtrail.settings import SettingsError

Register = Callable[[argparse._SubParsersAction], None]


def _registrations() -> list[Register]:
    from configtrail.commands import bootstrap, checkov, drift, history, plan, policy, settings_doc

    return [
        plan.register,
        settings_doc.register,
        history.register,
        drift.register,
        checkov.register,
        policy.register,
        bootstrap.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="configtrail",
        description="Offline plan, policy verdicts and gates for the ConfigTrail stack.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _registrations():
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        err.print("[bold red]Cannot run[/bold red] — bad settings or unusable input:")
        for problem in error.problems:
            err.print(f"  • {problem}", markup=False)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
