"""`configtrail drift-report` and `configtrail drift-issue`: the two halves of the drift check.

`make drift` runs the refresh-preview and passes its exit code to `drift-report`, which records
the verdict in `build/drift/<env>.json` (exit 0 clean, 1 drift, 2 the check itself failed).
`make drift-issue` reads that report and opens, updates or closes the environment's issue.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from configtrail.pipeline import drift
from configtrail.pipeline.issues import GhError, sync

SUMMARY_DIR = Path("build/summary")


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "drift-report", help="record a drift check's verdict from the pulumi exit code"
    )
    report.add_argument("--env", required=True, help="stack name (environments/Pulumi.<ENV>.yaml)")
    report.add_argument(
        "--environments-dir",
        type=Path,
        default=None,
        help="directory of stack files (default: environments/)",
    )
    report.add_argument("--stack", required=True, help="stack name the check ran on")
    report.add_argument("--log", type=Path, required=True, help="captured CLI output")
    report.add_argument("--pulumi-exit-code", type=int, required=True, metavar="CODE")
    report.add_argument("--out", type=Path, default=Path("build/drift"), help="report directory")
    report.add_argument(
        "--summary-dir", type=Path, default=SUMMARY_DIR, help="job summary dir (build/summary)"
    )
    report.set_defaults(handler=run_report)

    issue = subparsers.add_parser(
        "drift-issue", help="open, update or close the drift issue of a drift report (uses gh)"
    )
    issue.add_argument("--report", type=Path, required=True, help="build/drift/<env>.json")
    issue.set_defaults(handler=run_issue)


def run_report(args: argparse.Namespace) -> int:
    from configtrail import estate

    directory = args.environments_dir or estate.ENVIRONMENTS
    known = estate.stack_names(directory)
    if args.env not in known:
        # A report for a stack that does not exist could open (or close) a drift issue for it.
        _say(
            f"drift-report: {estate.shown(estate.stack_path(args.env, directory))}: "
            f"no such stack file (stacks: {', '.join(known) or 'none'}); nothing was written"
        )
        return 2
    if not args.log.is_file():
        _say(f"drift-report: {args.log}: no captured CLI output")
        return 2
    report = drift.new_report(args.env, args.stack, args.pulumi_exit_code, args.log)
    path = report.write(args.out)
    args.summary_dir.mkdir(parents=True, exist_ok=True)
    (args.summary_dir / f"drift-{args.env}.md").write_text(drift.summary_markdown(report))
    messages = {
        "clean": f"drift {args.env}: no drift ({path})",
        "drifted": f"drift {args.env}: the stack drifted; the diff is in {args.log} ({path})",
        "failed": f"drift {args.env}: the check failed with pulumi exit code "
        f"{args.pulumi_exit_code}, which is not drift (7); see {args.log}",
    }
    _say(messages[report.status])
    return {"clean": 0, "drifted": 1, "failed": 2}[report.status]


def run_issue(args: argparse.Namespace) -> int:
    try:
        report = drift.DriftReport.read(args.report)
    except drift.ReportError as error:
        _say(f"drift-issue: {error}")
        return 2
    try:
        done = sync(report, report.log_text(args.report.parent), args.report.parent)
    except GhError as error:
        _say(f"drift-issue: {error}")
        return 1
    _say(done)
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr)
