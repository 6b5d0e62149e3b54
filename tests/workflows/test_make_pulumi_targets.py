"""The make targets that call the Pulumi CLI (through `configtrail pipeline run`), run against a
recording stand-in for the `pulumi` binary.

The stand-in (conftest.PULUMI_STAND_IN) records the exact arguments, working directory and
backend, resolves what the real CLI would resolve from there (the stack file through
infra/Pulumi.yaml's stackConfigDir, the policy pack and its config), and pretends to be a backend
that holds the stacks in PULUMI_STAND_IN_STACKS. Nothing is deployed; these tests prove what the
workflows (and a person at a terminal) hand to the real CLI, on a first run and after.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import STACKS
from tests.workflows.conftest import run_make
from tests.workflows.workflow_files import REPO

INFRA = str(REPO / "infra")
ALL = ",".join(STACKS)


def policy_args(stack: str, build) -> list[str]:
    return [
        "--policy-pack",
        "../policies",
        "--policy-pack-config",
        str(build / stack / "policy-config.json"),
    ]


def make_pulumi(stand_in, target, env, tmp_path, stacks=ALL, exits=None, outputs=None, **variables):
    extra = {
        "PULUMI_STAND_IN_LOG": str(stand_in.log),
        "PULUMI_STAND_IN_STACKS": stacks,
        "PULUMI_STAND_IN_EXITS": json.dumps(exits or {}),
        "PULUMI_STAND_IN_OUTPUTS": json.dumps(outputs or {}),
    }
    extra.update(
        {
            k: v
            for k, v in variables.items()
            if k in ("STACK", "MESSAGE", "SECRETS_PROVIDER", "CONFIRM")
        }
    )
    build = tmp_path / "build"
    done = run_make(
        target,
        f"ENV={env}",
        f"DRIFT_DIR={tmp_path / 'drift'}",
        f"SUMMARY_DIR={tmp_path / 'summary'}",
        f"PIPELINE_OUT={build}",
        env=extra,
        path_first=stand_in.bin_dir,
    )
    return done, build


def commands(stand_in) -> list[list[str]]:
    return [call["argv"] for call in stand_in.calls()]


@pytest.mark.parametrize("stack", STACKS)
def test_up_creates_the_stack_previews_with_the_pack_then_updates(pulumi_stand_in, tmp_path, stack):
    done, build = make_pulumi(
        pulumi_stand_in, "up", stack, tmp_path, stacks="", MESSAGE="deploy abc123"
    )
    assert done.returncode == 0, done.stderr
    assert commands(pulumi_stand_in) == [
        ["stack", "select", "--create", "--stack", stack],
        [
            "preview",
            "--stack",
            stack,
            "--diff",
            *policy_args(stack, build),
            "--message",
            "deploy abc123",
        ],
        [
            "up",
            "--stack",
            stack,
            "--yes",
            "--diff",
            *policy_args(stack, build),
            "--message",
            "deploy abc123",
        ],
    ]
    for call in pulumi_stand_in.calls():
        assert call["cwd"] == INFRA
    up = pulumi_stand_in.calls()[-1]
    # what the CLI resolves from infra/: the stack file through stackConfigDir, the pack, its config
    assert up["stack_file"] == str(REPO / "environments" / f"Pulumi.{stack}.yaml")
    assert up["policy_pack"] == str(REPO / "policies")
    config = json.loads((build / stack / "policy-config.json").read_text())
    assert config["all"] == "mandatory", "the stack's derived policy config"


def test_a_first_up_on_a_self_managed_backend_names_the_secrets_provider(pulumi_stand_in, tmp_path):
    provider = "awskms://alias/configtrail-pulumi-secrets?region=us-east-1&context_stack=ml-dev"
    done, _ = make_pulumi(
        pulumi_stand_in, "up", "ml-dev", tmp_path, stacks="", SECRETS_PROVIDER=provider
    )
    assert done.returncode == 0, done.stderr
    assert commands(pulumi_stand_in)[0] == [
        "stack",
        "select",
        "--create",
        "--stack",
        "ml-dev",
        "--secrets-provider",
        provider,
    ]


def test_a_mandatory_policy_violation_stops_up_before_any_change(pulumi_stand_in, tmp_path):
    violation = (
        "Policy Violations:\n"
        "    [mandatory]  configtrail v0.1.0  aws-s3-bucket-protected "
        "(archive: aws:s3/bucket:Bucket)\n"
        "    The archive must be protected.\n"
        "error: preview failed\n"
    )
    done, build = make_pulumi(
        pulumi_stand_in,
        "up",
        "ml-prod",
        tmp_path,
        exits={"preview": 255},
        outputs={"preview": violation},
    )
    assert done.returncode != 0
    assert [argv[0] for argv in commands(pulumi_stand_in)] == ["stack", "preview"], "no up"
    verdict = json.loads((build / "preview" / "ml-prod.json").read_text())
    assert verdict["status"] == "policy-violations"
    assert verdict["violations"][0]["policy"] == "aws-s3-bucket-protected"


def test_a_preview_of_a_deployed_stack_selects_it_and_never_creates(pulumi_stand_in, tmp_path):
    done, build = make_pulumi(
        pulumi_stand_in, "preview", "ml-dev", tmp_path, STACK="acme/configtrail/ml-dev"
    )
    assert done.returncode == 0, done.stderr
    assert commands(pulumi_stand_in) == [
        ["stack", "select", "--stack", "acme/configtrail/ml-dev"],
        [
            "preview",
            "--stack",
            "acme/configtrail/ml-dev",
            "--diff",
            *policy_args("ml-dev", build),
            "--message",
            commands(pulumi_stand_in)[1][-1],
        ],
    ]
    assert pulumi_stand_in.calls()[1]["stack_file"] == str(
        REPO / "environments" / "Pulumi.ml-dev.yaml"
    )
    assert commands(pulumi_stand_in)[1][-1], "the default message is the commit"


def test_a_preview_of_a_stack_not_created_yet_previews_from_an_empty_throwaway_state(
    pulumi_stand_in, tmp_path
):
    """First run with read-only credentials: nothing is created in the real backend."""
    done, build = make_pulumi(pulumi_stand_in, "preview", "ml-dev", tmp_path, stacks="log-archive")
    assert done.returncode == 0, done.stderr
    calls = pulumi_stand_in.calls()
    assert [c["argv"][:2] for c in calls] == [
        ["stack", "select"],
        ["stack", "ls"],
        ["stack", "init"],
        ["preview", "--stack"],
    ]
    assert calls[0]["backend"] is None and calls[1]["backend"] is None
    for call in calls[2:]:
        assert call["backend"].startswith("file://") and call["passphrase"]
    assert calls[2]["argv"] == ["stack", "init", "ml-dev", "--secrets-provider", "passphrase"]
    assert not any("--create" in c["argv"] or c["argv"][0] == "up" for c in calls)
    verdict = json.loads((build / "preview" / "ml-dev.json").read_text())
    assert verdict["first_deploy"] is True


def test_a_failing_backend_is_never_taken_for_a_missing_stack(pulumi_stand_in, tmp_path):
    done, _ = make_pulumi(
        pulumi_stand_in, "preview", "ml-dev", tmp_path, stacks="", exits={"stack ls": 255}
    )
    assert done.returncode == 2
    assert "cannot list the backend's stacks" in done.stderr
    assert [c[0] for c in commands(pulumi_stand_in)] == ["stack", "stack"], "no preview ran"


def test_a_stack_that_exists_but_cannot_be_selected_is_an_error(pulumi_stand_in, tmp_path):
    done, _ = make_pulumi(
        pulumi_stand_in, "preview", "ml-dev", tmp_path, exits={"stack select": 255}
    )
    assert done.returncode == 2 and "exists but could not be selected" in done.stderr


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("converged", ["preview", "--stack", "trial", "--expect-no-changes", "--diff"]),
        ("refresh", ["refresh", "--stack", "trial", "--yes", "--message"]),
        ("destroy", ["destroy", "--stack", "trial", "--yes", "--exclude-protected", "--message"]),
    ],
)
def test_other_targets_select_the_existing_stack_and_run(
    pulumi_stand_in, tmp_path, target, expected
):
    done, _ = make_pulumi(pulumi_stand_in, target, "trial", tmp_path, MESSAGE="m", CONFIRM="trial")
    assert done.returncode == 0, done.stderr
    first, second = commands(pulumi_stand_in)
    assert first == ["stack", "select", "--stack", "trial"]
    assert second[: len(expected)] == expected


@pytest.mark.parametrize("target", ["converged", "refresh", "destroy"])
def test_commands_on_a_missing_stack_stop_with_a_message(pulumi_stand_in, tmp_path, target):
    done, _ = make_pulumi(pulumi_stand_in, target, "trial", tmp_path, stacks="", CONFIRM="trial")
    assert done.returncode == 2
    assert "stack trial does not exist" in done.stderr
    assert all(c[0] == "stack" for c in commands(pulumi_stand_in))


def test_message_reaches_the_cli_verbatim_and_is_never_run_by_the_shell(pulumi_stand_in, tmp_path):
    marker = tmp_path / "pwned"
    message = f'rollback "v1" $(touch {marker}) `touch {marker}` ; touch {marker}'
    done, _ = make_pulumi(pulumi_stand_in, "up", "trial", tmp_path, MESSAGE=message)
    assert done.returncode == 0, done.stderr
    assert commands(pulumi_stand_in)[-1][-2:] == ["--message", message]
    assert not marker.exists()


@pytest.mark.parametrize("env", ["prdo", "ml-dev ml-prod", "../etc"])
def test_unknown_stack_stops_before_the_cli_runs(pulumi_stand_in, tmp_path, env):
    done, _ = make_pulumi(pulumi_stand_in, "up", env, tmp_path)
    assert done.returncode != 0
    assert pulumi_stand_in.calls() == []
    assert "has no stack file environments/Pulumi." in done.stderr
    assert f"stacks: {' '.join(sorted(STACKS))}" in done.stderr


# --- drift: the CLI's exit code decides drift, failure or clean -------------------------------


@pytest.mark.parametrize(
    ("exit_code", "status", "make_ok"),
    [(0, "clean", True), (7, "drifted", False), (5, "failed", False), (255, "failed", False)],
)
def test_drift_records_the_verdict_from_the_cli_exit_code(
    pulumi_stand_in, tmp_path, exit_code, status, make_ok
):
    output = (
        "  ~ aws:s3/bucketVersioning:BucketVersioning archive update\n"
        "Resources:\n    ~ 1 to update\n"
    )
    done, build = make_pulumi(
        pulumi_stand_in,
        "drift",
        "ml-prod",
        tmp_path,
        exits={"preview": exit_code},
        outputs={"preview": output},
        MESSAGE="nightly",
    )
    assert (done.returncode == 0) is make_ok, done.stderr
    select, preview = commands(pulumi_stand_in)
    assert select == ["stack", "select", "--stack", "ml-prod"]
    assert preview == [
        "preview",
        "--stack",
        "ml-prod",
        "--refresh",
        "--expect-no-changes",
        "--diff",
        "--color",
        "never",
        *policy_args("ml-prod", build),
        "--message",
        "drift check: nightly",
    ]
    report = json.loads((tmp_path / "drift" / "ml-prod.json").read_text())
    assert report["status"] == status and report["pulumi_exit_code"] == exit_code
    assert (tmp_path / "drift" / "ml-prod.log").read_text() == output
    summary = (tmp_path / "summary" / "drift-ml-prod.md").read_text()
    assert {"clean": "no drift", "drifted": "drift found", "failed": "check failed"}[
        status
    ] in summary


def test_drift_of_a_stack_never_deployed_is_a_failed_check_not_drift(pulumi_stand_in, tmp_path):
    done, _ = make_pulumi(pulumi_stand_in, "drift", "ml-prod", tmp_path, stacks="")
    assert done.returncode == 2
    report = json.loads((tmp_path / "drift" / "ml-prod.json").read_text())
    assert report["status"] == "failed"
    assert "nothing is deployed" in (tmp_path / "drift" / "ml-prod.log").read_text()


@pytest.mark.parametrize("typed", [None, "", "ml-dev", "trial "])
def test_make_destroy_needs_the_stack_name_typed(pulumi_stand_in, tmp_path, typed):
    """The same typed confirmation as the dispatch workflow, at a terminal too: nothing runs."""
    variables = {} if typed is None else {"CONFIRM": typed}
    done, _ = make_pulumi(pulumi_stand_in, "destroy", "trial", tmp_path, **variables)
    assert done.returncode != 0
    assert "needs CONFIRM=trial" in done.stderr
    assert pulumi_stand_in.calls() == [], "the CLI never ran"
