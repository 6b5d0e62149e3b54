"""Readers over the workflow files, so the tests say what they check."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
SETUP_ACTION = REPO / ".github" / "actions" / "setup" / "action.yml"
REUSABLE = "$/.github/workflows/pulumi.yml"
CHECKS = "$/.github/workflows/checks.yml"
ESTATE = "$/.github/workflows/estate.yml"
PULUMI_ACTION = "pulumi/actions"
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
MAKE_CALL = re.compile(r"\bmake\s+(?:-\w+\s+)*(\"?\$\{?\w+\}?\"?|[\w-]+)")
# The pipeline's own workflows (other workflows, e.g. audit-report.yml, get the general checks).
PIPELINE = (
    "checks.yml",
    "deploy.yml",
    "estate.yml",
    "dispatch.yml",
    "drift.yml",
    "pull-request.yml",
    "pulumi.yml",
)


def workflow_paths() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


@cache
def load(name: str) -> dict[str, Any]:
    """One workflow by file name; YAML 1.1 reads the key `on` as True, so it is renamed back."""
    path = WORKFLOWS / name if not name.endswith("action.yml") else Path(name)
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return load(name)["jobs"]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def step_named(job: dict[str, Any], fragment: str) -> dict[str, Any]:
    found = [s for s in steps(job) if fragment in s.get("name", "")]
    assert len(found) == 1, f"expected one step named like {fragment!r}, found {len(found)}"
    return found[0]


def all_jobs(only: tuple[str, ...] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (p.name, job_id, job)
        for p in workflow_paths()
        if only is None or p.name in only
        for job_id, job in jobs(p.name).items()
    ]


def all_steps(only: tuple[str, ...] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(file, job or 'setup action', step) for every step of the workflows and the action."""
    found = [(f, job_id, step) for f, job_id, job in all_jobs(only) for step in steps(job)]
    found += [("action.yml", "setup action", s) for s in load(str(SETUP_ACTION))["runs"]["steps"]]
    return found


def callers_of(target: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(f, job_id, job) for f, job_id, job in all_jobs() if job.get("uses") == target]


def make_targets_called(run: str) -> list[str]:
    return [match.group(1) for match in MAKE_CALL.finditer(run)]
