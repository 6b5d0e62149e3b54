"""Drift: the verdict from the CLI's exit code, the issue text, and opening, updating and closing
the issue through a recording stand-in for the GitHub CLI `gh` (conftest.GH_STAND_IN)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from configtrail.pipeline import drift
from tests.workflows.workflow_files import REPO

CONFIGTRAIL = Path(sys.executable).parent / "configtrail"
DIFF = (
    "Previewing update (prod):\n"
    "  ~ aws:s3/bucketVersioning:BucketVersioning archive-versioning update [diff: ~status]\n"
    "Resources:\n    ~ 1 to update\n    40 unchanged\n"
)


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "clean"), (7, "drifted"), (1, "failed"), (5, "failed"), (255, "failed")],
)
def test_only_exit_code_7_is_drift(code, status):
    assert drift.classify(code) == status


def test_trim_keeps_the_end_where_pulumi_prints_the_summary():
    text = "".join(f"line {n}\n" for n in range(20_000)) + "Resources:\n    ~ 3 to update\n"
    trimmed = drift.trim_front(text, limit=5_000)
    assert len(trimmed) <= 5_000 + 100
    assert trimmed.endswith("Resources:\n    ~ 3 to update\n")
    assert trimmed.startswith("[… ") and "earlier characters cut" in trimmed
    assert trimmed.splitlines()[1].startswith("line "), "cut at a line boundary"
    assert drift.trim_front("short\n") == "short\n"


def test_issue_body_fits_githubs_limit_and_keeps_its_code_fence():
    report = report_for("drifted")
    huge = "```\n" + "x" * 200_000 + "\nResources:\n    ~ 1 to update\n"
    body = drift.issue_body(report, huge)
    assert len(body) < 65_536
    assert body.count("```") == 2, "the log cannot close the fence early"
    assert "<!-- configtrail-drift:prod -->" in body
    assert "~ 1 to update" in body
    assert "https://github.com/example-org/configtrail/actions/runs/42" in body


def test_ansi_colours_are_stripped():
    assert drift.strip_ansi("\x1b[32m+ create\x1b[0m") == "+ create"


def report_for(status: str, tmp_path: Path | None = None) -> drift.DriftReport:
    report = drift.DriftReport(
        env="prod",
        stack="acme/configtrail/prod",
        status=status,
        pulumi_exit_code={"clean": 0, "drifted": 7, "failed": 255}[status],
        log_file="prod.log",
        commit="0123abc",
        checked_at="2026-11-27T05:17:00+00:00",
        run_url="https://github.com/example-org/configtrail/actions/runs/42",
    )
    if tmp_path is not None:
        report.write(tmp_path)
        (tmp_path / "prod.log").write_text(DIFF)
    return report


def test_report_round_trips(tmp_path):
    report = report_for("drifted", tmp_path)
    assert drift.DriftReport.read(tmp_path / "prod.json") == report
    assert report.log_text(tmp_path) == DIFF


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no drift report (run `make drift ENV=...` first)"),
        ("{not json", "not a readable JSON drift report"),
        ('{"env": "prod"}', "expected the keys"),
        ('["prod"]', "expected the keys"),
    ],
)
def test_unreadable_reports_are_named_in_one_line(tmp_path, content, message):
    path = tmp_path / "prod.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(drift.ReportError) as error:
        drift.DriftReport.read(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_report_with_an_unknown_status_is_refused(tmp_path):
    report_for("drifted", tmp_path)
    data = json.loads((tmp_path / "prod.json").read_text())
    (tmp_path / "prod.json").write_text(json.dumps({**data, "status": "maybe"}))
    with pytest.raises(drift.ReportError, match="status 'maybe' is not one of clean"):
        drift.DriftReport.read(tmp_path / "prod.json")


def test_report_records_commit_and_run_from_the_actions_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/configtrail")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    report = drift.new_report("prod", "prod", 7, tmp_path / "prod.log")
    assert report.run_url == "https://github.com/example-org/configtrail/actions/runs/42"
    assert report.commit == "0123abc"
    assert report.status == "drifted"


# --- configtrail drift-issue with the gh stand-in -------------------------------------------------


def drift_issue(gh_stand_in, report_dir: Path, issues=None, fail=None):
    env = {
        **os.environ,
        "GH_STAND_IN_LOG": str(gh_stand_in.log),
        "PATH": f"{gh_stand_in.bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    if issues is not None:
        env["GH_STAND_IN_ISSUES"] = json.dumps(issues)
    if fail:
        env["GH_STAND_IN_FAIL"] = fail
    return subprocess.run(
        [CONFIGTRAIL, "drift-issue", "--report", str(report_dir / "prod.json")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


LIST = [
    "issue",
    "list",
    "--state",
    "open",
    "--label",
    "drift",
    "--label",
    "env:prod",
    "--json",
    "number,title,url",
]
OPEN = [
    {"number": 12, "title": "Drift in prod", "url": "u12"},
    {"number": 7, "title": "Drift in prod", "url": "u7"},
]


def test_drift_opens_a_labelled_issue_with_the_diff(gh_stand_in, tmp_path):
    report_for("drifted", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, issues=[])
    assert done.returncode == 0, done.stderr
    calls = gh_stand_in.calls()
    assert [c["argv"][:3] for c in calls] == [
        LIST[:3],
        ["label", "create", "drift"],
        ["label", "create", "env:prod"],
        ["issue", "create", "--title"],
    ]
    assert calls[0]["argv"] == LIST
    create = calls[-1]["argv"]
    assert create[create.index("--title") + 1] == "Drift in prod (stack acme/configtrail/prod)"
    assert create[-4:] == ["--label", "drift", "--label", "env:prod"]
    assert (
        "~ aws:s3/bucketVersioning:BucketVersioning archive-versioning update" in calls[-1]["body"]
    )
    assert "issues/99" in done.stderr


def test_drift_updates_the_oldest_open_issue_instead_of_opening_another(gh_stand_in, tmp_path):
    report_for("drifted", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, issues=OPEN)
    assert done.returncode == 0, done.stderr
    calls = gh_stand_in.calls()
    assert [c["argv"][:3] for c in calls] == [LIST[:3], ["issue", "edit", "7"]]
    assert "1 to update" in calls[1]["body"]


def test_no_drift_closes_the_open_issue(gh_stand_in, tmp_path):
    report_for("clean", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, issues=OPEN[1:])
    assert done.returncode == 0, done.stderr
    calls = gh_stand_in.calls()
    assert [c["argv"][:3] for c in calls] == [LIST[:3], ["issue", "close", "7"]]
    comment = calls[1]["argv"][calls[1]["argv"].index("--comment") + 1]
    assert "No drift in acme/configtrail/prod" in comment and "runs/42" in comment


def test_no_drift_and_no_issue_changes_nothing(gh_stand_in, tmp_path):
    report_for("clean", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, issues=[])
    assert done.returncode == 0, done.stderr
    assert [c["argv"] for c in gh_stand_in.calls()] == [LIST]


def test_a_failed_check_leaves_the_issue_alone(gh_stand_in, tmp_path):
    report_for("failed", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, issues=OPEN)
    assert done.returncode == 0, done.stderr
    assert gh_stand_in.calls() == []
    assert "left as it is" in done.stderr


def test_a_gh_failure_is_one_line_and_exit_1(gh_stand_in, tmp_path):
    report_for("drifted", tmp_path)
    done = drift_issue(gh_stand_in, tmp_path, fail="HTTP 403: Resource not accessible")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "drift-issue: gh issue list failed: HTTP 403: Resource not accessible"
    )


def test_a_missing_report_is_exit_2(gh_stand_in, tmp_path):
    done = drift_issue(gh_stand_in, tmp_path)
    assert done.returncode == 2
    assert "no drift report" in done.stderr and "Traceback" not in done.stderr
    assert gh_stand_in.calls() == []


def test_a_drift_report_for_a_stack_that_does_not_exist_writes_nothing(tmp_path, capsys):
    from configtrail import cli

    log = tmp_path / "drift.log"
    log.write_text("no changes\n")
    out = tmp_path / "drift"
    code = cli.main(
        [
            "drift-report",
            "--env",
            "ml-prdo",
            "--stack",
            "ml-prdo",
            "--log",
            str(log),
            "--pulumi-exit-code",
            "0",
            "--out",
            str(out),
            "--summary-dir",
            str(tmp_path / "summary"),
        ]
    )
    assert code == 2
    assert "Pulumi.ml-prdo.yaml: no such stack file" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "summary").exists()
