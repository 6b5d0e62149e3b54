"""`configtrail ai-pack`: the AI workload pack (policies/ai-workloads/) on every variant of the
example AI workload stack (examples/ai-workload/), offline: each variant planned through the mock
runtime as a stack export and as a first preview, each evaluated by the pack in its own process
over the Analyzer gRPC protocol. `--python` runs the pack with another interpreter (the pack's own
virtual environment, installed from its requirements.txt, in `make check-ai-pack`).

Exit codes: 0 every variant as expected (compliant passes, each broken one blocked by its own
control's policy and no other), 1 otherwise, 2 unusable input (unknown variant, pack did not start).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from configtrail import ai_pack
from configtrail.console import console as make_console
from configtrail.policy.analyzer import PackStartError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ai-pack", help="the AI workload pack on the example AI workload stack's variants"
    )
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME",
        help="only this variant (repeatable; default: all)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs the pack (default: this one)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="also write each variant's stack.json and preview.json under DIR",
    )
    parser.add_argument(
        "--summary", type=Path, metavar="FILE", help="write the Markdown summary to FILE"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the totals")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    err = make_console(stderr=True)
    # The pack runs with its own directory as working directory: make a path absolute first.
    python = str(Path(args.python).absolute()) if "/" in args.python else args.python
    if "/" in python and not Path(python).is_file():
        err.print(
            f"ai-pack: --python {args.python}: no such interpreter "
            "(make ai-pack-venv creates the pack's own)",
            markup=False,
        )
        return 2
    try:
        verdicts, seconds = ai_pack.timed_check(names=args.variant, python=python, out_dir=args.out)
    except ValueError as error:
        err.print(f"ai-pack: {error}", markup=False)
        return 2
    except PackStartError as error:
        err.print(f"AI workload pack did not start: {error}", markup=False)
        return 2
    summary = ai_pack.summary_markdown(verdicts, seconds)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(summary, encoding="utf-8")
    failed = [v for v in verdicts if not v.ok]
    if args.quiet:
        print(summary.splitlines()[2])
    else:
        print(summary, end="")
    for v in failed:
        err.print(
            f"UNEXPECTED {v.variant} ({v.kind}): expected {v.expected or 'no block'}, "
            f"blocked by {v.blocking or 'nothing'}",
            markup=False,
        )
    return 1 if failed else 0
