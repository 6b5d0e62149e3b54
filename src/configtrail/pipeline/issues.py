"""Open, update or close the one drift issue of an environment through the GitHub CLI (`gh`).

One issue per environment, found by its two labels (`drift` and `env:<env>`): drift opens it or
refreshes its text, a clean check closes it, a failed check leaves it alone (a failed run says
nothing about drift).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from configtrail.pipeline.drift import DriftReport, issue_body, issue_title

DRIFT_LABEL = "drift"
LABEL_COLOR = "D93F0B"

Runner = Callable[[Sequence[str]], str]


class GhError(Exception):
    """`gh` failed: the command and its error output, on one line."""


def run_gh(args: Sequence[str]) -> str:
    try:
        done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GhError("the GitHub CLI `gh` is not installed or not on PATH") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split()) or f"exit code {done.returncode}"
        raise GhError(f"gh {' '.join(args[:2])} failed: {detail}")
    return done.stdout


def env_label(env: str) -> str:
    return f"env:{env}"


def sync(report: DriftReport, log_text: str, work_dir: Path, gh: Runner = run_gh) -> str:
    """Bring the environment's drift issue in line with the report; return what was done."""
    if report.status == "failed":
        return (
            f"{report.env}: the drift check failed (pulumi exit code {report.pulumi_exit_code}); "
            "the drift issue is left as it is"
        )
    labels = [DRIFT_LABEL, env_label(report.env)]
    by_labels = ["--label", labels[0], "--label", labels[1]]
    listed = gh(["issue", "list", "--state", "open", *by_labels, "--json", "number,title,url"])
    issues = sorted(json.loads(listed or "[]"), key=lambda issue: issue["number"])
    current = issues[0] if issues else None

    if report.status == "clean":
        if current is None:
            return f"{report.env}: no drift, no open drift issue"
        note = f"No drift in {report.stack} any more (checked {report.checked_at}"
        note += f", {report.run_url})." if report.run_url else ")."
        gh(["issue", "close", str(current["number"]), "--comment", note])
        return f"{report.env}: no drift; closed #{current['number']}"

    body_file = work_dir / f"{report.env}-issue.md"
    body_file.write_text(issue_body(report, log_text))
    if current is not None:
        gh(["issue", "edit", str(current["number"]), "--body-file", str(body_file)])
        return f"{report.env}: still drifted; updated #{current['number']}"
    for label, description in (
        (DRIFT_LABEL, "A deployed stack differs from its code"),
        (labels[1], f"Environment {report.env}"),
    ):
        gh(
            [
                "label",
                "create",
                label,
                "--color",
                LABEL_COLOR,
                "--description",
                description,
                "--force",
            ]
        )
    title = issue_title(report)
    url = gh(["issue", "create", "--title", title, "--body-file", str(body_file), *by_labels])
    url = url.strip()
    return f"{report.env}: drift found; opened {url}"
