"""`configtrail`: the repository's offline tooling in one command.

Subcommands register themselves from their modules (`register(subparsers)`), each returning an
exit code. Exit codes: 0 success, 1 the check found violations, 2 bad settings or unusable input
(a message, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from configtrail.console import console as make_console
from configtrail.settings import SettingsError

Register = Callable[[argparse._SubParsersAction], None]

# Subcommand -> the module in configtrail.commands that registers it. Only the module of the
# command being run is imported (the others pull in gRPC, boto3, the bootstrap program...), so
# `configtrail plan` does not pay for `configtrail history`; `--help` imports them all.
COMMAND_MODULES = {
    "plan": "plan",
    "settings": "settings_doc",
    "controls": "controls_doc",
    "ai-pack": "ai_pack",
    "policy": "policy",
    "policy-check": "policy",
    "policy-config": "policy",
    "checkov": "checkov",
    "history": "history",
    "drift-report": "drift",
    "drift-issue": "drift",
    "bootstrap-plan": "bootstrap",
    "pipeline": "pipeline",
}


def _registrations(command: str | None = None) -> list[Register]:
    """`register` functions of the module of `command`, or of every module."""
    import importlib

    modules = (
        [COMMAND_MODULES[command]]
        if command in COMMAND_MODULES
        else list(dict.fromkeys(COMMAND_MODULES.values()))
    )
    return [importlib.import_module(f"configtrail.commands.{m}").register for m in modules]


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="configtrail",
        description="Offline plan, policy verdicts and gates for the ConfigTrail stack.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = next((arg for arg in (argv or []) if not arg.startswith("-")), None)
    for register in _registrations(command):
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    # Messages are printed literally: no markup, no emoji codes (":lock:"), no hard wrapping.
    err = make_console(stderr=True)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        err.print("[bold red]Cannot run[/bold red] — bad settings or unusable input:")
        for problem in error.problems:
            err.print(f"  • {problem}", markup=False)
        return 2
    except OSError as error:
        # A file problem no command turned into a message itself: still one line, no traceback.
        where = f"{error.filename}: " if error.filename else ""
        err.print(f"Cannot run — {where}{error.strerror or error}", markup=False)
        return 2
    except KeyboardInterrupt:
        err.print("Interrupted; nothing more was written.", markup=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
