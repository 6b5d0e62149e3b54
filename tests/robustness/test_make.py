"""The Makefile refuses variables it does not know (a typo would otherwise run with the default),
before any recipe runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("typo", ["ENVIRONMENT=ml-prod", "STACKS=ml-prod", "env=ml-prod"])
def test_an_unknown_variable_is_refused_before_anything_runs(typo):
    done = _make("-n", "plan", typo)
    assert done.returncode == 2
    name = typo.split("=")[0]
    assert f"unknown variable {name} on the command line" in done.stderr
    assert "ENV" in done.stderr.split("variables:")[1]
    assert done.stdout == "", "no recipe may run"


def test_known_variables_pass():
    done = _make("-n", "plan", "ENV=ml-prod")
    assert done.returncode == 0, done.stderr
    assert "configtrail plan --env ml-prod" in done.stdout
