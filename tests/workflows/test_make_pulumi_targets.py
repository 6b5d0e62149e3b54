"""The make targets that call the Pulumi CLI, run against a recording stand-in for `pulumi`.

The stand-in (conftest.PULUMI_STAND_IN) records the exact arguments and working directory, and
resolves what the real CLI would resolve from there: the stack file through infra/Pulumi.yaml's
stackConfigDir, the policy pack and its config. Nothing is deployed; these tests prove what the
workflows (and a person at a terminal) hand to the real CLI.
"""

from __future__ import annotations

import json

import pytest

from tests.workflows.conftest import run_make
from tests.workflows.workflow_files import REPO

INFRA = str(REPO / "infra")


def policy_args(env: str) -> list[str]:
    return [
        "--policy-pack",
        "../policies",
        "--policy-pack-config",
        f"../policies/config/{env}.json",
    ]


EXPECTED = {
    "preview": lambda env, m: [
        "preview",
        "--stack",
        env,
        "--diff",
        *policy_args(env),
        "--message",
        m,
    ],
    "up": lambda env, m: [
        "up",
        "--stack",
        env,
        "--yes",
        "--diff",
        *policy_args(env),
        "--message",
        m,
    ],
    "converged": lambda env, m: [
        "preview",
        "--stack",
        env,
        "--expect-no-changes",
        "--diff",
        *policy_args(env),
        "--message",
        f"converged after: {m}",
    ],
    "refresh": lambda env, m: ["refresh", "--stack", env, "--yes", "--message", m],
    "destroy": lambda env, m: [
        "destroy",
        "--stack",
        env,
        "--yes",
        "--exclude-protected",
        "--message",
        m,
    ],
}


def make_pulumi(stand_in, target, env, tmp_path, exit_code=0, output=None, **variables):
    extra = {"PULUMI_STAND_IN_LOG": str(stand_in.log), "PULUMI_STAND_IN_EXIT": str(exit_code)}
    if output is not None:
        extra["PULUMI_STAND_IN_OUTPUT"] = output
    extra.update({k: v for k, v in variables.items() if k in ("STACK", "MESSAGE")})
    return run_make(
        target,
        f"ENV={env}",
        f"DRIFT_DIR={tmp_path / 'drift'}",
        f"SUMMARY_DIR={tmp_path / 'summary'}",
        env=extra,
        path_first=stand_in.bin_dir,
    )


@pytest.mark.parametrize("target", sorted(EXPECTED))
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_target_hands_the_cli_exact_arguments_from_infra(pulumi_stand_in, tmp_path, target, env):
    done = make_pulumi(pulumi_stand_in, target, env, tmp_path, MESSAGE="deploy abc123")
    assert done.returncode == 0, done.stderr
    [call] = pulumi_stand_in.calls()
    assert call["argv"] == EXPECTED[target](env, "deploy abc123")
    assert call["cwd"] == INFRA
    # What the CLI resolves from infra/: the stack file through stackConfigDir, the pack, its config
    assert call["stack_file"] == str(REPO / "environments" / f"Pulumi.{env}.yaml")
    if "--policy-pack" in call["argv"]:
        assert call["policy_pack"] == str(REPO / "policies")
        assert call["policy_config"] == str(REPO / "policies" / "config" / f"{env}.json")


def test_qualified_stack_name_reaches_the_cli_and_the_env_stack_file(pulumi_stand_in, tmp_path):
    done = make_pulumi(pulumi_stand_in, "up", "prod", tmp_path, STACK="acme/configtrail/prod")
    assert done.returncode == 0, done.stderr
    [call] = pulumi_stand_in.calls()
    assert call["argv"][:3] == ["up", "--stack", "acme/configtrail/prod"]
    assert call["stack_file"] == str(REPO / "environments" / "Pulumi.prod.yaml")


def test_message_reaches_the_cli_verbatim_and_is_never_run_by_the_shell(pulumi_stand_in, tmp_path):
    marker = tmp_path / "pwned"
    message = f'rollback "v1" $(touch {marker}) `touch {marker}` ; touch {marker}'
    done = make_pulumi(pulumi_stand_in, "up", "dev", tmp_path, MESSAGE=message)
    assert done.returncode == 0, done.stderr
    [call] = pulumi_stand_in.calls()
    assert call["argv"][-2:] == ["--message", message]
    assert not marker.exists()


def test_default_message_is_the_commit(pulumi_stand_in, tmp_path):
    done = make_pulumi(pulumi_stand_in, "preview", "dev", tmp_path)
    assert done.returncode == 0, done.stderr
    [call] = pulumi_stand_in.calls()
    message = call["argv"][call["argv"].index("--message") + 1]
    assert message and message != "local"


@pytest.mark.parametrize("env", ["prdo", "dev staging", "../etc"])
def test_unknown_environment_stops_before_the_cli_runs(pulumi_stand_in, tmp_path, env):
    done = make_pulumi(pulumi_stand_in, "up", env, tmp_path)
    assert done.returncode != 0
    assert pulumi_stand_in.calls() == []
    assert "has no stack file environments/Pulumi." in done.stderr
    assert "environments: dev prod staging" in done.stderr


def test_destroy_excludes_protected_history(pulumi_stand_in, tmp_path):
    make_pulumi(pulumi_stand_in, "destroy", "staging", tmp_path)
    [call] = pulumi_stand_in.calls()
    assert "--exclude-protected" in call["argv"]


# --- drift: the CLI's exit code decides drift, failure or clean -------------------------------

DRIFT_ARGV = [
    "preview",
    "--stack",
    "staging",
    "--refresh",
    "--expect-no-changes",
    "--diff",
    "--color",
    "never",
    *policy_args("staging"),
    "--message",
    "drift check: nightly",
]


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
    done = make_pulumi(
        pulumi_stand_in,
        "drift",
        "staging",
        tmp_path,
        exit_code=exit_code,
        output=output,
        MESSAGE="nightly",
    )
    assert (done.returncode == 0) is make_ok, done.stderr
    [call] = pulumi_stand_in.calls()
    assert call["argv"] == DRIFT_ARGV
    assert call["cwd"] == INFRA
    assert call["stack_file"] == str(REPO / "environments" / "Pulumi.staging.yaml")
    report = json.loads((tmp_path / "drift" / "staging.json").read_text())
    assert report["status"] == status
    assert report["pulumi_exit_code"] == exit_code
    assert report["log_file"] == "staging.log"
    assert (tmp_path / "drift" / "staging.log").read_text() == output
    summary = (tmp_path / "summary" / "drift-staging.md").read_text()
    assert {"clean": "no drift", "drifted": "drift found", "failed": "check failed"}[
        status
    ] in summary
