"""The pipeline's helper targets: the dispatch confirmation guard and the job summary."""

from __future__ import annotations

import pytest

from tests.workflows.conftest import run_make


def confirm(command: str, env: str, typed: str | None):
    variables = {"COMMAND": command}
    if typed is not None:
        variables["CONFIRM"] = typed
    return run_make("confirm", f"ENV={env}", env=variables)


@pytest.mark.parametrize(
    ("command", "env", "typed", "allowed"),
    [
        ("preview", "prod", None, True),
        ("refresh", "prod", "", True),
        ("up", "dev", None, True),
        ("up", "staging", "", True),
        ("up", "prod", None, False),
        ("up", "prod", "", False),
        ("up", "prod", "Prod", False),
        ("up", "prod", "staging", False),
        ("up", "prod", "prod", True),
        ("destroy", "dev", None, False),
        ("destroy", "dev", "prod", False),
        ("destroy", "dev", "dev", True),
        ("destroy", "prod", "prod", True),
    ],
)
def test_confirmation_guard(command, env, typed, allowed):
    done = confirm(command, env, typed)
    assert (done.returncode == 0) is allowed, done.stderr
    if not allowed:
        assert f"needs CONFIRM={env}" in done.stderr
        assert "nothing was run" in done.stderr


def test_guard_refuses_an_unknown_command():
    done = confirm("delete", "dev", "dev")
    assert done.returncode != 0
    assert "COMMAND='delete' is not one of preview, up, refresh, destroy" in done.stderr


def test_guard_refuses_an_unknown_environment():
    done = confirm("preview", "qa", None)
    assert done.returncode != 0
    assert "ENV='qa' has no stack file environments/Pulumi.qa.yaml" in done.stderr


def test_typed_text_is_compared_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    done = confirm("destroy", "dev", f'dev"; touch {marker}; echo "$(touch {marker})')
    assert done.returncode != 0
    assert not marker.exists()


def test_job_summary_appends_every_gate_summary_in_order(tmp_path):
    summaries = tmp_path / "summary"
    summaries.mkdir()
    (summaries / "checkov.md").write_text("## checkov\nok\n")
    (summaries / "plan.md").write_text("## Offline plan\n| dev |\n")
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    done = run_make(
        "job-summary", f"SUMMARY_DIR={summaries}", env={"GITHUB_STEP_SUMMARY": str(step_summary)}
    )
    assert done.returncode == 0, done.stderr
    assert step_summary.read_text() == (
        "earlier step\n## checkov\nok\n\n## Offline plan\n| dev |\n\n"
    )


def test_job_summary_with_nothing_to_show_says_so_and_passes(tmp_path):
    done = run_make("job-summary", f"SUMMARY_DIR={tmp_path / 'none'}")
    assert done.returncode == 0
    assert "no " in done.stderr and "to show" in done.stderr
