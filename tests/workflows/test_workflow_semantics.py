"""What the workflows mean: triggers, job order, environments, concurrency, permissions, pinning,
the policy pack on every preview and up, fork and Dependabot behaviour, and that every make target
they call exists. Read from the YAML files GitHub runs; nothing here is a copy of them."""

from __future__ import annotations

import re
import subprocess

import pytest

from configtrail.bootstrap import documents
from configtrail.bootstrap.settings import BootstrapSettings
from configtrail.plan import runner
from tests.workflows import workflow_files as wf
from tests.workflows.expressions import evaluate, truthy

ENVIRONMENTS = runner.environment_names()
PULUMI_COMMANDS = ["preview", "up", "refresh", "destroy"]
LEVEL = {"none": 0, "read": 1, "write": 2}


def test_the_pipeline_workflows_exist():
    assert set(wf.PIPELINE) <= {p.name for p in wf.workflow_paths()}


# --- triggers ----------------------------------------------------------------------------------


def test_triggers():
    assert wf.load("pull-request.yml")["on"] == {"pull_request": {"branches": ["main"]}}
    assert wf.load("deploy.yml")["on"] == {"push": {"branches": ["main"]}}
    assert list(wf.load("dispatch.yml")["on"]) == ["workflow_dispatch"]
    drift = wf.load("drift.yml")["on"]
    assert set(drift) == {"schedule", "workflow_dispatch"}
    [schedule] = drift["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit(), "daily, at one time"
    for reusable in ("pulumi.yml", "checks.yml"):
        assert list(wf.load(reusable)["on"]) == ["workflow_call"]


def test_no_workflow_runs_pull_request_code_with_secrets():
    for path in wf.workflow_paths():
        assert "pull_request_target" not in wf.load(path.name)["on"], path.name


def test_dispatch_inputs_choose_environment_command_ref_and_confirmation():
    inputs = wf.load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["type"] == "choice"
    assert inputs["environment"]["options"] == ENVIRONMENTS
    assert inputs["command"]["type"] == "choice"
    assert inputs["command"]["options"] == PULUMI_COMMANDS
    assert inputs["ref"]["type"] == "string" and inputs["ref"]["required"] is True
    assert inputs["confirm"]["type"] == "string" and inputs["confirm"]["default"] == ""


# --- jobs, order, environments -----------------------------------------------------------------


def test_pull_request_previews_every_environment_after_the_checks():
    jobs = wf.jobs("pull-request.yml")
    assert jobs["checks"]["uses"] == wf.CHECKS
    preview = jobs["preview"]
    assert preview["uses"] == wf.REUSABLE
    assert preview["needs"] == "checks"
    assert preview["strategy"]["matrix"]["environment"] == ENVIRONMENTS
    assert preview["strategy"]["fail-fast"] is False
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["environment"] == "${{ matrix.environment }}"


def test_merge_deploys_dev_then_staging_then_prod_after_the_checks():
    jobs = wf.jobs("deploy.yml")
    assert jobs["checks"]["uses"] == wf.CHECKS
    chain, previous = [], "checks"
    for env in ENVIRONMENTS:
        job_id = f"up-{env}"
        job = jobs[job_id]
        assert job["needs"] == previous, f"{job_id} must wait for {previous}"
        assert job["uses"] == wf.REUSABLE
        assert job["with"]["command"] == "up"
        assert job["with"]["environment"] == env
        assert "ref" not in job["with"], "a merge deploys the pushed commit"
        chain.append(env)
        previous = job_id
    assert chain == ["dev", "staging", "prod"]
    assert set(jobs) == {"checks", *(f"up-{env}" for env in ENVIRONMENTS)}


def test_dispatch_runs_the_chosen_ref_through_guard_checks_and_the_reusable_workflow():
    jobs = wf.jobs("dispatch.yml")
    assert jobs["checks"]["needs"] == "guard"
    assert jobs["checks"]["with"] == {"ref": "${{ inputs.ref }}"}
    run = jobs["run"]
    assert set(run["needs"]) == {"guard", "checks"}
    assert run["uses"] == wf.REUSABLE
    assert run["with"]["environment"] == "${{ inputs.environment }}"
    assert run["with"]["command"] == "${{ inputs.command }}"
    assert run["with"]["ref"] == "${{ inputs.ref }}", "rollback: the chosen ref is what runs"


def test_dispatch_guard_runs_make_confirm_from_the_trusted_branch():
    guard = wf.jobs("dispatch.yml")["guard"]
    checkout = steps_using(guard, "actions/checkout")[0]
    assert "ref" not in checkout.get("with", {}), "the guard must come from the workflow's branch"
    step = wf.step_named(guard, "confirmed")
    assert wf.make_targets_called(step["run"]) == ["confirm"]
    assert step["env"] == {
        "ENVIRONMENT": "${{ inputs.environment }}",
        "COMMAND": "${{ inputs.command }}",
        "CONFIRM": "${{ inputs.confirm }}",
    }


def test_drift_checks_every_environment_and_a_separate_job_writes_the_issues():
    jobs = wf.jobs("drift.yml")
    detect = jobs["detect"]
    assert detect["uses"] == wf.REUSABLE
    assert detect["with"]["command"] == "drift"
    assert detect["strategy"]["matrix"]["environment"] == ENVIRONMENTS
    issue = jobs["issue"]
    assert issue["needs"] == "detect"
    assert issue["strategy"]["matrix"]["environment"] == ENVIRONMENTS
    # detect fails on drift, and that is exactly when the issue must be written
    assert issue["if"].startswith("always()")
    assert "issues" not in str(detect.get("permissions")), "the job with AWS credentials"
    download = steps_using(issue, "actions/download-artifact")[0]
    assert download["with"]["name"] == "drift-${{ matrix.environment }}"
    upload = steps_using(wf.jobs("pulumi.yml")["drift"], "actions/upload-artifact")[0]
    assert upload["with"]["name"] == "drift-${{ inputs.environment }}"
    assert upload["with"]["path"] == download["with"]["path"] == "build/drift/"
    step = wf.step_named(issue, "drift issue")
    assert wf.make_targets_called(step["run"]) == ["drift-issue"]
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_only_the_deploy_job_runs_in_a_github_environment():
    jobs = wf.jobs("pulumi.yml")
    assert jobs["deploy"]["environment"] == "${{ inputs.environment }}"
    for job_id in ("preview", "drift", "unknown-command"):
        assert "environment" not in jobs[job_id], job_id
    for file, job_id, job in wf.all_jobs(wf.PIPELINE):
        if file != "pulumi.yml":
            assert "environment" not in job, f"{file}:{job_id} (environments belong to deploys)"


def test_reusable_jobs_split_the_commands_between_them():
    jobs = wf.jobs("pulumi.yml")
    assert jobs["preview"]["if"] == "inputs.command == 'preview'"
    assert jobs["drift"]["if"] == "inputs.command == 'drift'"
    assert jobs["deploy"]["if"] == (
        """contains(fromJSON('["up", "refresh", "destroy"]'), inputs.command)"""
    )
    assert "!contains" in jobs["unknown-command"]["if"]
    for command in ("preview", "drift", "up", "refresh", "destroy"):
        assert command in jobs["unknown-command"]["if"]


def test_callers_pass_only_commands_the_reusable_workflow_knows():
    allowed = {"preview", "drift", "up", "refresh", "destroy"}
    dispatch_options = set(
        wf.load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]["command"]["options"]
    )
    for file, job_id, job in wf.callers_of(wf.REUSABLE):
        command = job["with"]["command"]
        chosen = dispatch_options if command == "${{ inputs.command }}" else {command}
        assert chosen <= allowed, f"{file}:{job_id}"


# --- concurrency -------------------------------------------------------------------------------


def test_deploys_are_serialized_per_stack_and_never_cancelled():
    deploy = wf.jobs("pulumi.yml")["deploy"]
    assert deploy["concurrency"] == {
        "group": "pulumi-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }
    assert wf.load("deploy.yml")["concurrency"]["cancel-in-progress"] is False
    assert wf.load("dispatch.yml")["concurrency"]["cancel-in-progress"] is False


def test_drift_never_shares_a_group_with_deploys():
    drift = wf.jobs("pulumi.yml")["drift"]["concurrency"]
    deploy = wf.jobs("pulumi.yml")["deploy"]["concurrency"]
    assert drift["group"] != deploy["group"]
    assert "${{ inputs.environment }}" in drift["group"]
    assert drift["cancel-in-progress"] is False


def test_only_read_only_work_may_be_cancelled():
    for file, job_id, job in wf.all_jobs():
        group = job.get("concurrency")
        if group and group["cancel-in-progress"]:
            assert (file, job_id) == ("pulumi.yml", "preview"), f"{file}:{job_id}"
    for path in wf.workflow_paths():
        top = wf.load(path.name).get("concurrency")
        if top and top["cancel-in-progress"]:
            assert path.name == "pull-request.yml", path.name


# --- permissions -------------------------------------------------------------------------------


def test_every_workflow_starts_from_no_permissions_and_every_job_declares_its_own():
    for path in wf.workflow_paths():
        assert wf.load(path.name)["permissions"] == {}, path.name
    for file, job_id, job in wf.all_jobs():
        assert "permissions" in job, f"{file}:{job_id}"


WRITE_ALLOWED = {
    # (file, job): permissions that may be write
    ("pulumi.yml", "preview"): {"id-token", "pull-requests"},
    ("pulumi.yml", "drift"): {"id-token"},
    ("pulumi.yml", "deploy"): {"id-token"},
    ("drift.yml", "issue"): {"issues"},
    # callers of the reusable workflow grant the union its jobs ask for (GitHub checks them all)
    ("pull-request.yml", "preview"): {"id-token", "pull-requests"},
    ("deploy.yml", "up-dev"): {"id-token", "pull-requests"},
    ("deploy.yml", "up-staging"): {"id-token", "pull-requests"},
    ("deploy.yml", "up-prod"): {"id-token", "pull-requests"},
    ("dispatch.yml", "run"): {"id-token", "pull-requests"},
    ("drift.yml", "detect"): {"id-token", "pull-requests"},
}


def test_write_permissions_only_where_needed():
    for file, job_id, job in wf.all_jobs():
        permissions = job["permissions"]
        assert isinstance(permissions, dict), f"{file}:{job_id}: no read-all/write-all"
        assert permissions.get("contents", "none") in ("none", "read"), f"{file}:{job_id}"
        if file in wf.PIPELINE:
            writes = {scope for scope, level in permissions.items() if level == "write"}
            assert writes == WRITE_ALLOWED.get((file, job_id), set()), f"{file}:{job_id}"


def test_jobs_without_checkout_or_cloud_get_no_permissions():
    pr = wf.jobs("pull-request.yml")
    assert pr["ci-gate"]["permissions"] == {}
    assert pr["fork-note"]["permissions"] == {}
    assert wf.jobs("checks.yml")["checks"]["permissions"] == {"contents": "read"}
    assert wf.jobs("pulumi.yml")["unknown-command"]["permissions"] == {}


@pytest.mark.parametrize("target", [wf.REUSABLE, wf.CHECKS])
def test_every_caller_grants_what_the_called_jobs_ask_for(target):
    called = wf.jobs(target.rsplit("/", 1)[-1])
    for file, job_id, caller in wf.callers_of(target):
        ceiling = caller["permissions"]
        for called_id, job in called.items():
            for scope, level in job["permissions"].items():
                granted = ceiling.get(scope, "none")
                assert LEVEL[level] <= LEVEL[granted], (
                    f"{file}:{job_id} grants {scope}: {granted}, but {called_id} asks for {level}"
                )


def test_secrets_are_passed_by_name_never_inherited():
    for _, _, job in wf.callers_of(wf.REUSABLE):
        assert job["secrets"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    for path in wf.workflow_paths():
        assert "secrets: inherit" not in path.read_text(), path.name


# --- fork and Dependabot pull requests -----------------------------------------------------------

REPOSITORY = "example-org/configtrail"


def pull_request(head: str = REPOSITORY, author: str = "alice", actor: str | None = None) -> dict:
    """The `github` context of a pull_request event, as far as the conditions read it."""
    return {
        "github": {
            "repository": REPOSITORY,
            "actor": actor or author,
            "event": {
                "pull_request": {"head": {"repo": {"full_name": head}}, "user": {"login": author}}
            },
        }
    }


# (event, whether it gets this repository's Actions secrets)
PULL_REQUESTS = {
    "same repository": (pull_request(), True),
    "fork": (pull_request(head="someone/configtrail"), False),
    "Dependabot": (pull_request(author="dependabot[bot]"), False),
    # a re-run by a maintainer keeps Dependabot's privileges (github.actor stays the bot)
    "Dependabot, re-run by a maintainer": (pull_request(author="dependabot[bot]"), False),
    # the author decides: a maintainer's push to Dependabot's branch is still skipped (safe side)
    "Dependabot, pushed to by a maintainer": (
        pull_request(author="dependabot[bot]", actor="maintainer"),
        False,
    ),
    "fork of a bot-like name": (pull_request(head="dependabot/configtrail"), False),
}


def runs(job: dict, event: dict) -> bool:
    return truthy(evaluate(job["if"], event))


@pytest.mark.parametrize("name", PULL_REQUESTS)
def test_preview_runs_only_where_secrets_exist_and_the_note_runs_exactly_otherwise(name):
    event, has_secrets = PULL_REQUESTS[name]
    jobs = wf.jobs("pull-request.yml")
    assert runs(jobs["preview"], event) is has_secrets
    assert runs(jobs["fork-note"], event) is not has_secrets


@pytest.mark.parametrize("name", PULL_REQUESTS)
def test_ci_gate_passes_every_kind_of_pull_request_whose_checks_pass(name):
    event, _ = PULL_REQUESTS[name]
    jobs = wf.jobs("pull-request.yml")
    preview = "success" if runs(jobs["preview"], event) else "skipped"
    note = "success" if runs(jobs["fork-note"], event) else "skipped"
    assert run_gate("success", preview, note) == 0
    assert run_gate("failure", "skipped", note) != 0
    if preview == "success":
        assert run_gate("success", "failure", note) != 0


def test_the_conditions_never_trust_the_spoofable_actor():
    jobs = wf.jobs("pull-request.yml")
    for job_id in ("preview", "fork-note"):
        assert "github.actor" not in jobs[job_id]["if"], job_id
    step = wf.step_named(jobs["fork-note"], "no Pulumi preview")
    assert "github.actor" not in str(step.get("env"))


def test_forks_and_dependabot_skip_the_preview_with_a_visible_note(tmp_path):
    jobs = wf.jobs("pull-request.yml")
    step = wf.step_named(jobs["fork-note"], "no Pulumi preview")
    assert "if" not in jobs["checks"], "the offline checks run for forks too"
    assert "secrets" not in jobs["checks"]
    for name in ("fork", "Dependabot"):
        event, _ = PULL_REQUESTS[name]
        env = {key: str(evaluate(value, event)).lower() for key, value in step["env"].items()}
        summary = tmp_path / f"{name}.md"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", step["run"]],
            env={**env, "GITHUB_STEP_SUMMARY": str(summary), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("::notice title=Pulumi preview skipped::"), done.stdout
        heading = "Dependabot" if name == "Dependabot" else "fork"
        assert summary.read_text().startswith(f"### Pulumi preview skipped ({heading})\n")
    assert (
        "Dependabot pull requests get no Actions secrets"
        in (tmp_path / "Dependabot.md").read_text()
    )
    assert "from forks get no secrets" in (tmp_path / "fork.md").read_text()


def test_the_expression_stand_in_reads_like_github():
    """The evaluator the tests above rely on: GitHub's case-insensitive string equality,
    operand-returning && / ||, null for missing properties, and a refusal of what it cannot read."""
    context = {"github": {"repository": "Org/Repo", "event": {}}}
    assert evaluate("github.repository == 'org/repo'", context) is True
    assert evaluate("github.event.pull_request.user.login", context) is None
    assert evaluate("!(github.repository != 'x') || 'fallback'", context) == "fallback"
    assert evaluate("'it''s' == 'IT''S' && github.repository", context) == "Org/Repo"
    with pytest.raises(ValueError):
        evaluate("always()", context)


def test_ci_gate_always_runs_and_needs_every_other_job():
    jobs = wf.jobs("pull-request.yml")
    gate = jobs["ci-gate"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == set(jobs) - {"ci-gate"}


def run_gate(checks: str, preview: str, fork_note: str) -> int:
    script = wf.step_named(wf.jobs("pull-request.yml")["ci-gate"], "needed job passed")["run"]
    env = {"CHECKS": checks, "PREVIEW": preview, "FORK_NOTE": fork_note, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, check=False
    ).returncode


@pytest.mark.parametrize(
    ("checks", "preview", "fork_note", "passes"),
    [
        ("success", "success", "skipped", True),  # same-repository pull request
        ("success", "skipped", "success", True),  # fork or Dependabot: preview skipped, note shown
        ("success", "failure", "skipped", False),
        ("success", "cancelled", "skipped", False),
        ("success", "skipped", "skipped", False),  # preview skipped without being a fork
        ("failure", "skipped", "skipped", False),  # checks failed, so preview never ran
        ("failure", "skipped", "success", False),
        ("cancelled", "success", "skipped", False),
        ("skipped", "success", "skipped", False),
    ],
)
def test_ci_gate_decision(checks, preview, fork_note, passes):
    assert (run_gate(checks, preview, fork_note) == 0) is passes


# --- steps: pinning, checkout, untrusted input, timeouts ---------------------------------------


def steps_using(job, action):
    return [s for s in wf.steps(job) if s.get("uses", "").startswith(action + "@")]


def test_every_action_is_pinned_to_a_full_commit_with_its_version_in_a_comment():
    files = [*wf.workflow_paths(), wf.SETUP_ACTION]
    seen: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if not match:
                continue
            ref, rest = match.groups()
            if ref.startswith("$/"):
                continue  # this repository, at the commit that runs
            pinned = wf.PINNED.match(ref)
            assert pinned, f"{path.name}:{number}: {ref} is not pinned to a 40-hex commit"
            assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", rest), f"{path.name}:{number}: comment"
            action, sha = pinned.group("action"), pinned.group("sha")
            assert seen.setdefault(action, sha) == sha, f"{action} pinned to two commits"
    assert set(seen) == {
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
        "actions/upload-artifact",
        "actions/download-artifact",
    }


def test_local_actions_and_workflows_use_the_self_repository_syntax():
    for _, _, step in wf.all_steps():
        uses = step.get("uses", "")
        assert not uses.startswith("./"), uses
    for file, job_id, job in wf.all_jobs():
        assert not job.get("uses", "").startswith("./"), f"{file}:{job_id}"


def test_every_checkout_drops_the_credentials():
    checkouts = [
        s for _, _, s in wf.all_steps() if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 6
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_run_scripts_take_no_expressions_untrusted_values_come_through_env():
    for file, job_id, step in wf.all_steps():
        assert "${{" not in step.get("run", ""), f"{file}:{job_id}: {step.get('name')}"


def test_every_job_on_a_runner_has_a_timeout():
    for file, job_id, job in wf.all_jobs():
        if "runs-on" in job:
            assert isinstance(job.get("timeout-minutes"), int), f"{file}:{job_id}"


def test_no_step_calls_the_pulumi_cli_directly():
    for file, job_id, step in wf.all_steps():
        assert not re.search(r"(^|[;&|(\s])pulumi\s", step.get("run", "")), f"{file}:{job_id}"


# --- the Pulumi steps ----------------------------------------------------------------------------


def test_the_pull_request_preview_passes_the_policy_pack_and_comments_in_place():
    preview = wf.jobs("pulumi.yml")["preview"]
    [step] = steps_using(preview, wf.PULUMI_ACTION)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["work-dir"] == "infra"
    assert inputs["stack-name"] == "${{ env.STACK }}"
    assert inputs["pulumi-version-file"] == ".pulumi-version"
    # the same pack and config as `make preview` (whose CLI arguments are tested with the stand-in)
    assert inputs["policyPacks"] == "../policies"
    assert inputs["policyPackConfigs"] == "../policies/config/${{ inputs.environment }}.json"
    assert inputs["comment-on-pr"] == "${{ github.event_name == 'pull_request' }}"
    assert inputs["edit-pr-comment"] is True
    assert inputs["always-include-summary"] is True
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert inputs["secrets-provider"] == "${{ vars.PULUMI_SECRETS_PROVIDER }}"
    assert step["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}


def test_every_pulumi_action_step_with_a_command_is_a_preview_with_the_policy_pack():
    for file, job_id, step in wf.all_steps():
        if step.get("uses", "").startswith(wf.PULUMI_ACTION + "@"):
            inputs = step.get("with", {})
            if "command" in inputs:
                assert inputs["command"] == "preview", f"{file}:{job_id}: up goes through make"
                assert inputs["policyPacks"] == "../policies"


def test_the_deploy_job_runs_the_command_then_proves_convergence():
    deploy = wf.jobs("pulumi.yml")["deploy"]
    run = wf.step_named(deploy, "pulumi ${{ inputs.command }}")
    assert wf.make_targets_called(run["run"]) == ['"${COMMAND}"']
    converged = wf.step_named(deploy, "converged")
    assert converged["if"] == "inputs.command == 'up'"
    assert wf.make_targets_called(converged["run"]) == ["converged"]
    names = [s.get("name", "") for s in wf.steps(deploy)]
    assert names.index(run["name"]) < names.index(converged["name"])


def test_the_stack_name_is_the_environment_or_qualified_by_the_pulumi_org():
    stack = wf.load("pulumi.yml")["env"]["STACK"]
    assert "inputs.environment" in stack and "vars.PULUMI_ORG" in stack
    assert "format('{0}/configtrail/{1}', vars.PULUMI_ORG, inputs.environment)" in stack


def run_step_script(script: str, env: dict[str, str], tmp_path) -> list[list[str]]:
    """Run a workflow step's script with a recording stand-in for `make` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "make-calls"
    (bin_dir / "make").write_text(
        f'#!/bin/bash\nprintf "%s\\n" "$@" "MESSAGE=$MESSAGE" "--" >> {log}\n'
    )
    (bin_dir / "make").chmod(0o755)
    full_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env}
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=wf.REPO, env=full_env, check=True
    )
    calls, current = [], []
    for line in log.read_text().splitlines():
        if line == "--":
            calls.append(current)
            current = []
        else:
            current.append(line)
    return calls


@pytest.mark.parametrize("step_name", ["pulumi ${{ inputs.command }}", "converged"])
def test_deploy_steps_record_the_commit_in_the_message_and_pass_env(tmp_path, step_name):
    step = wf.step_named(wf.jobs("pulumi.yml")["deploy"], step_name)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=wf.REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {"COMMAND": "up", "ENVIRONMENT": "staging", "MESSAGE": 'rollback of "v1.2" by ann'}
    [call] = run_step_script(step["run"], env, tmp_path)
    target = "up" if "COMMAND" in step["run"] else "converged"
    assert call == [target, "ENV=staging", f'MESSAGE=rollback of "v1.2" by ann (commit {head})']


def test_drift_step_runs_make_drift_with_the_commit_in_the_message(tmp_path):
    step = wf.step_named(wf.jobs("pulumi.yml")["drift"], "Refresh-preview")
    [call] = run_step_script(
        step["run"], {"ENVIRONMENT": "prod", "MESSAGE": "drift check"}, tmp_path
    )
    assert call[:2] == ["drift", "ENV=prod"]
    assert call[2].startswith("MESSAGE=drift check (commit ")


def test_every_merge_deploy_message_names_the_run():
    for env in ENVIRONMENTS:
        assert "${{ github.run_id }}" in wf.jobs("deploy.yml")[f"up-{env}"]["with"]["message"]


# --- AWS credentials ---------------------------------------------------------------------------


def credentials(job_id):
    [step] = steps_using(wf.jobs("pulumi.yml")[job_id], "aws-actions/configure-aws-credentials")
    return step["with"]


def test_previews_and_drift_use_the_read_only_role_deploys_the_environments_role():
    assert credentials("preview")["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert credentials("drift")["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert credentials("deploy")["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_sessions_fit_the_bootstrap_roles_and_outlast_the_job():
    default_deploy = BootstrapSettings.model_fields["deploy_session_seconds"].default
    assert credentials("deploy")["role-duration-seconds"] <= default_deploy
    deploy_job = wf.jobs("pulumi.yml")["deploy"]
    assert deploy_job["timeout-minutes"] * 60 < credentials("deploy")["role-duration-seconds"]
    for job_id in ("preview", "drift"):
        seconds = credentials(job_id)["role-duration-seconds"]
        assert seconds <= documents.PREVIEW_SESSION_SECONDS
        assert wf.jobs("pulumi.yml")[job_id]["timeout-minutes"] * 60 <= seconds


# --- make targets the workflows call --------------------------------------------------------------


def called_targets(only: tuple[str, ...] | None = None) -> set[str]:
    targets: set[str] = set()
    for _, _, step in wf.all_steps(only):
        for target in wf.make_targets_called(step.get("run", "")):
            if "COMMAND" in target:  # the deploy job's command: one of its `if` list
                targets |= {"up", "refresh", "destroy"}
            else:
                targets.add(target)
    return targets


def test_the_pipeline_calls_these_make_targets():
    assert called_targets(wf.PIPELINE) == {
        "venv",
        "check",
        "test",
        "job-summary",
        "confirm",
        "up",
        "refresh",
        "destroy",
        "converged",
        "drift",
        "drift-issue",
    }


@pytest.mark.parametrize("target", sorted(called_targets()))
def test_every_make_target_a_workflow_calls_exists(target):
    done = subprocess.run(
        ["make", "-n", target, "ENV=dev"], cwd=wf.REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "No rule to make target" not in done.stderr


# --- setup action ---------------------------------------------------------------------------------


def test_setup_action_installs_python_the_venv_and_the_pinned_cli():
    action = wf.load(str(wf.SETUP_ACTION))
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python[0]["with"] == {"python-version-file": ".python-version"}
    assert [s["run"] for s in steps if "run" in s] == ["make venv"]
    [cli] = [s for s in steps if s.get("uses", "").startswith(wf.PULUMI_ACTION + "@")]
    assert cli["with"] == {"pulumi-version-file": ".pulumi-version"}, "install only, no command"


def pinned_version(package: str) -> str:
    lock = (wf.REPO / "requirements" / "main.lock").read_text()
    return re.search(rf"^{package}==(\S+)$", lock, re.MULTILINE).group(1)


def test_the_cli_version_is_pinned_to_the_sdk_version_and_knows_exit_code_7():
    version = (wf.REPO / ".pulumi-version").read_text().strip()
    assert version == pinned_version("pulumi")
    # The documented exit codes (7: no-changes expectation not met) start at CLI v3.226.1.
    assert tuple(int(p) for p in version.split(".")) >= (3, 226, 1)


def test_the_python_version_satisfies_the_project():
    version = (wf.REPO / ".python-version").read_text().strip()
    assert tuple(int(p) for p in version.split(".")) >= (3, 11)
