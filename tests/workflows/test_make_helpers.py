"""The pipeline's helper targets: the dispatch confirmation guard and the job summary."""

from __future__ import annotations

import pytest

from tests.workflows.conftest import run_make


def confirm(command: str, env: str, typed: str | None):
    variables = {"COMMAND": command}
    if typed is not None:
        variables["CONFIRM"] = typed
    return run_make("confirm", f"ENV={env}", env=variables)


# Production stacks (environment tag `prod`) of the example estate, and the others.
PRODUCTION = "ml-prod"
NOT_PRODUCTION = "ml-dev"


@pytest.mark.parametrize(
    ("command", "env", "typed", "allowed"),
    [
        ("preview", PRODUCTION, None, True),
        ("refresh", PRODUCTION, "", True),
        ("up", NOT_PRODUCTION, None, True),
        ("up", "trial", "", True),
        ("up", PRODUCTION, None, False),
        ("up", PRODUCTION, "", False),
        ("up", PRODUCTION, "ML-PROD", False),
        ("up", PRODUCTION, NOT_PRODUCTION, False),
        ("up", PRODUCTION, PRODUCTION, True),
        ("up", "log-archive", None, False),
        ("up", "aggregator", "aggregator", True),
        ("destroy", NOT_PRODUCTION, None, False),
        ("destroy", NOT_PRODUCTION, PRODUCTION, False),
        ("destroy", NOT_PRODUCTION, NOT_PRODUCTION, True),
        ("destroy", PRODUCTION, PRODUCTION, True),
    ],
)
def test_confirmation_guard(command, env, typed, allowed):
    done = confirm(command, env, typed)
    assert (done.returncode == 0) is allowed, done.stderr
    if not allowed:
        assert f"needs CONFIRM={env}" in done.stderr
        assert "nothing was run" in done.stderr


def test_production_is_the_environment_tag_of_the_stack_file():
    from tests.conftest import ESTATE

    production = {n for n, s in ESTATE.stacks.items() if s.settings.tags["environment"] == "prod"}
    assert PRODUCTION in production and NOT_PRODUCTION not in production


def test_guard_refuses_an_unknown_command():
    done = confirm("delete", NOT_PRODUCTION, NOT_PRODUCTION)
    assert done.returncode != 0
    assert "COMMAND='delete' is not one of preview, up, refresh, destroy" in done.stderr


def test_guard_refuses_an_unknown_stack():
    done = confirm("preview", "qa", None)
    assert done.returncode != 0
    assert "ENV='qa' has no stack file environments/Pulumi.qa.yaml" in done.stderr


def test_typed_text_is_compared_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    done = confirm("destroy", NOT_PRODUCTION, f'ml-dev"; touch {marker}; echo "$(touch {marker})')
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
