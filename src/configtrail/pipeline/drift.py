"""What a drift check found, decided from the Pulumi CLI's exit code, and the issue text for it.

`make drift` runs `pulumi preview --refresh --expect-no-changes` and hands the exit code and the
captured output to `configtrail drift-report`. Since CLI v3.226.1 the exit codes are a documented
contract: 0 no changes, 7 "no changes were expected but changes were proposed" (drift), and any
other code a run that failed (credentials, backend, program error, policy violation — code 5), which
is not drift and must not open or close a drift issue.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Status = Literal["clean", "drifted", "failed"]

EXIT_NO_CHANGES_EXPECTED = 7
# GitHub rejects issue bodies over 65,536 characters; leave room for the text around the diff.
MAX_DIFF_CHARS = 60_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ReportError(Exception):
    """A drift report that cannot be read: one line naming the file and what is wrong."""


def classify(exit_code: int) -> Status:
    if exit_code == 0:
        return "clean"
    if exit_code == EXIT_NO_CHANGES_EXPECTED:
        return "drifted"
    return "failed"


@dataclass(frozen=True)
class DriftReport:
    """One environment's drift check, as `build/drift/<env>.json`."""

    env: str
    stack: str
    status: Status
    pulumi_exit_code: int
    log_file: str  # name of the captured CLI output, next to the report
    commit: str
    run_url: str
    checked_at: str

    def write(self, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.env}.json"
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> DriftReport:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ReportError(f"{path}: no drift report (run `make drift ENV=...` first)") from None
        except (OSError, ValueError) as error:
            raise ReportError(f"{path}: not a readable JSON drift report ({error})") from None
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or set(data) != fields:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ReportError(f"{path}: expected the keys {sorted(fields)}, found {got}")
        if data["status"] not in ("clean", "drifted", "failed"):
            raise ReportError(
                f"{path}: status {data['status']!r} is not one of clean, drifted, failed"
            )
        return cls(**data)

    def log_text(self, report_dir: Path) -> str:
        path = report_dir / self.log_file
        try:
            return strip_ansi(path.read_text(errors="replace"))
        except OSError:
            return f"(the CLI output {path} is missing)"


def new_report(env: str, stack: str, exit_code: int, log: Path) -> DriftReport:
    """A report for this run; commit and run link come from the GitHub Actions environment."""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo, run_id = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
    return DriftReport(
        env=env,
        stack=stack,
        status=classify(exit_code),
        pulumi_exit_code=exit_code,
        log_file=log.name,
        commit=os.environ.get("GITHUB_SHA", ""),
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
        checked_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def trim_front(text: str, limit: int = MAX_DIFF_CHARS) -> str:
    """Keep the end of the CLI output, where Pulumi prints the change summary."""
    if len(text) <= limit:
        return text
    kept = text[-limit:]
    kept = kept[kept.find("\n") + 1 :] if "\n" in kept else kept
    cut = len(text) - len(kept)
    return f"[… {cut:,} earlier characters cut; the full output is in the run]\n{kept}"


def issue_title(report: DriftReport) -> str:
    return f"Drift in {report.env} (stack {report.stack})"


def issue_body(report: DriftReport, log_text: str) -> str:
    """The issue text: where and when, how to act, and the refresh-preview output."""
    run = f"[workflow run]({report.run_url})" if report.run_url else "a local run"
    diff = trim_front(log_text).replace("```", "'''")
    return "\n".join(
        [
            f"<!-- configtrail-drift:{report.env} -->",
            f"`pulumi preview --refresh --expect-no-changes` of **{report.stack}** found changes "
            f"(checked {report.checked_at}, commit `{report.commit or 'unknown'}`, {run}).",
            "",
            "Someone changed these resources outside the pipeline, or main holds changes that were "
            "never deployed. Either put the change into code and merge it, or run `up` on "
            f"{report.env} (workflow *dispatch*) to put the stack back. This issue closes itself "
            "when the daily check finds no drift.",
            "",
            "```text",
            diff.rstrip("\n"),
            "```",
            "",
        ]
    )


def summary_markdown(report: DriftReport) -> str:
    verdict = {
        "clean": "no drift",
        "drifted": "**drift found**",
        "failed": f"**the check failed** (pulumi exit code {report.pulumi_exit_code}; not drift)",
    }[report.status]
    return f"## Drift: {report.env}\n\n{verdict} in stack `{report.stack}`.\n"
