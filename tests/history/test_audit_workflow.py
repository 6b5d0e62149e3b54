"""The monthly audit-report workflow: hardened like the others, thin over `make audit-report`,
and that make target producing the previous month's report from an archive."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from configtrail.commands.history import previous_month
from tests.history import archive

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "audit-report.yml"
REFERENCE = Path("/work/shared/REFERENCE.md")
# Pinned commits from /work/shared/REFERENCE.md (read from each action's own tags).
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}


@pytest.fixture(scope="module")
def workflow():
    document = yaml.safe_load(WORKFLOW.read_text())
    document["on"] = document.pop(True)  # YAML 1.1 reads `on` as true
    return document


def test_triggers_monthly_and_by_hand(workflow):
    [schedule] = workflow["on"]["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("2", "*", "*")
    assert workflow["on"]["workflow_dispatch"] == {}  # no inputs (CKV_GHA_7)


def test_least_privilege(workflow):
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["environment"] == "audit"
    assert 0 < job["timeout-minutes"] <= 60


def test_actions_pinned_by_sha_with_version_comment(workflow):
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses: (\S+)(?: # (\S+))?", text)
    assert uses
    for target, comment in uses:
        if target.startswith("$/"):
            assert (REPO / target[2:] / "action.yml").is_file()
            continue
        action, _, sha = target.partition("@")
        assert PINS[action] == (sha, comment), target
    if REFERENCE.exists():  # the shared reference is the source of the pins above
        for action, (sha, version) in PINS.items():
            assert re.search(
                rf"\| {re.escape(action)} \| {version} \| {sha} \|", REFERENCE.read_text()
            )


def test_checkout_does_not_keep_credentials_and_values_only_via_env(workflow):
    [job] = workflow["jobs"].values()
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False
    for step in job["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]
    report = next(s for s in job["steps"] if s.get("run") == "make audit-report")
    assert report["env"] == {"AUDIT_SOURCE": "${{ vars.AUDIT_ARCHIVE }}"}
    credentials = next(
        s
        for s in job["steps"]
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.AUDIT_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]  # OIDC only


def test_the_report_is_uploaded_even_when_files_were_skipped(workflow):
    [job] = workflow["jobs"].values()
    upload = next(
        s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    )
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "build/audit/"
    assert upload["with"]["name"] == "audit-report-${{ steps.period.outputs.period }}"


def test_every_make_target_the_workflow_calls_exists(workflow):
    [job] = workflow["jobs"].values()
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M))
    called = [
        re.search(r"make (?:-s )?([\w-]+)", s["run"]).group(1) for s in job["steps"] if "run" in s
    ]
    # pipeline-matrix: the session length (bootstrap sessionSeconds) the credentials step asks for
    assert called == ["pipeline-matrix", "audit-period", "audit-report", "job-summary"]
    assert set(called) <= targets


def _make(*args, **env):
    return subprocess.run(
        ["make", "-s", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_audit_period_is_last_month():
    result = _make("audit-period")
    assert result.returncode == 0, result.stderr
    since, _ = previous_month(datetime.now(UTC))
    assert result.stdout.strip() == f"period={since:%Y-%m}"


@pytest.mark.slow
def test_make_audit_report_writes_last_months_report(tmp_path):
    since, until = previous_month(datetime.now(UTC))
    inside = archive.guardrail((since + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S"), "v1")
    changed = archive.guardrail((since + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S"), "v2")
    later = archive.guardrail((until + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "v3")
    files = dict(
        [
            archive.history(
                archive.OTHER,
                "AWS::Bedrock::Guardrail",
                inside["configurationItemCaptureTime"][:19],
                later["configurationItemCaptureTime"][:19],
                [inside, changed, later],
            )
        ]
    )
    archive.write_dir(tmp_path / "archive", files)
    out, summary = tmp_path / "audit", tmp_path / "summary" / "audit-report.md"
    result = _make(
        "audit-report",
        f"AUDIT_DIR={out}",
        f"AUDIT_SUMMARY={summary}",
        AUDIT_SOURCE=str(tmp_path / "archive"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "history.json").read_text())
    [timeline] = report["timelines"]
    assert [i["note"] for i in timeline["items"]] == ["first-recorded", "changed"]
    assert (out / "history.html").is_file() and (out / "history.md").is_file()
    assert "1 resources, 2 configuration items, 1 field changes" in summary.read_text()


def test_make_audit_report_needs_a_source():
    result = _make("audit-report", AUDIT_SOURCE="")
    assert result.returncode == 2
    assert "audit-report: set AUDIT_SOURCE=s3://bucket/prefix" in result.stderr
