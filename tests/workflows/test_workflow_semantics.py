"""What the workflows mean: triggers, job order and waves, environments, concurrency, permissions,
pinning, credentials per stack, fork and Dependabot behaviour, and that every make target they
call exists. Read from the YAML files GitHub runs; nothing here is a copy of them. Which stacks
exist is never written in a workflow: they come from estate.yml (tests/workflows/
test_pipeline_tools.py proves a new stack file needs no workflow edit)."""

from __future__ import annotations

import re
import subprocess

import pytest

from configtrail.bootstrap import settings as bs
from configtrail.pipeline import matrix
from tests.workflows import workflow_files as wf
from tests.workflows.expressions import evaluate, truthy

PULUMI_COMMANDS = ["preview", "up", "refresh", "destroy"]
LEVEL = {"none": 0, "read": 1, "write": 2}
STACK = "fromJSON(inputs.stack)"


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
    for reusable in ("pulumi.yml", "checks.yml", "estate.yml"):
        assert list(wf.load(reusable)["on"]) == ["workflow_call"]


def test_no_workflow_runs_pull_request_code_with_secrets():
    for path in wf.workflow_paths():
        assert "pull_request_target" not in wf.load(path.name)["on"], path.name


def test_no_long_lived_secret_reaches_any_workflow():
    """Pulumi Cloud tokens come from the OIDC exchange, AWS credentials from OIDC: no workflow
    reads a repository secret (the job's own github.token is not one)."""
    for path in wf.workflow_paths():
        text = path.read_text()
        assert "secrets." not in text and "secrets: inherit" not in text, path.name


def test_dispatch_inputs_choose_stack_command_ref_path_and_confirmation():
    inputs = wf.load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]
    # free text, checked against environments/ by the guard: no stack list to keep in step
    assert inputs["stack"]["type"] == "string" and inputs["stack"]["required"] is True
    assert inputs["command"]["type"] == "choice"
    assert inputs["command"]["options"] == PULUMI_COMMANDS
    assert inputs["ref"]["type"] == "string" and inputs["ref"]["required"] is True
    assert (
        inputs["archive-admin"]["type"] == "boolean" and inputs["archive-admin"]["default"] is False
    )
    assert inputs["confirm"]["type"] == "string" and inputs["confirm"]["default"] == ""


# --- the estate --------------------------------------------------------------------------------


def test_the_estate_workflow_emits_the_matrix_from_configtrail():
    jobs = wf.jobs("estate.yml")
    step = wf.step_named(jobs["matrix"], "Stacks, waves and sessions")
    assert wf.make_targets_called(step["run"]) == ["pipeline-matrix"]
    outputs = wf.load("estate.yml")["on"]["workflow_call"]["outputs"]
    assert {"stacks", *matrix.WAVES, "session_seconds"} <= set(outputs)
    assert set(jobs["matrix"]["outputs"]) == set(outputs)


def test_every_matrix_comes_from_the_estate():
    found = 0
    for file, job_id, job in wf.all_jobs():
        strategy = job.get("strategy")
        if not strategy:
            continue
        [(key, value)] = strategy["matrix"].items()
        assert key == "stack", f"{file}:{job_id}"
        assert re.fullmatch(r"\$\{\{ fromJSON\(needs\.estate\.outputs\.\w+\) \}\}", value), value
        assert "estate" in job["needs"], f"{file}:{job_id}"
        assert strategy["fail-fast"] is False, f"{file}:{job_id}"
        found += 1
    assert found == 6  # preview; three waves; drift detect and issue


# --- jobs, order, environments -----------------------------------------------------------------


def test_pull_request_previews_every_stack_after_the_checks():
    jobs = wf.jobs("pull-request.yml")
    assert jobs["checks"]["uses"] == wf.CHECKS
    assert jobs["estate"]["uses"] == wf.ESTATE
    preview = jobs["preview"]
    assert preview["uses"] == wf.REUSABLE
    assert set(preview["needs"]) == {"checks", "estate"}
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.estate.outputs.stacks) }}"
    assert preview["with"] == {
        "stack": "${{ toJSON(matrix.stack) }}",
        "command": "preview",
        "message": "preview of pull request ${{ github.event.pull_request.number }}",
    }


def test_one_comment_for_the_estate_also_when_previews_fail():
    summary = wf.jobs("pull-request.yml")["preview-summary"]
    assert set(summary["needs"]) == {"estate", "preview"}
    assert summary["if"].startswith("always()"), "it must run when previews failed"
    assert summary["permissions"] == {"contents": "read", "pull-requests": "write"}
    download = steps_using(summary, "actions/download-artifact")[0]
    assert download["with"] == {
        "pattern": "preview-*",
        "merge-multiple": True,
        "path": "build/preview/",
    }
    upload = steps_using(wf.jobs("pulumi.yml")["preview"], "actions/upload-artifact")[0]
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == f"preview-${{{{ {STACK}.name }}}}"
    assert upload["with"]["path"] == "build/preview/"
    calls = [t for s in wf.steps(summary) for t in wf.make_targets_called(s.get("run", ""))]
    assert calls == ["preview-report", "preview-comment", "job-summary"]
    assert not steps_using(summary, "aws-actions/configure-aws-credentials")


WAVE_JOBS = [f"up-{wave}" for wave in matrix.WAVES]


def test_merge_deploys_the_waves_in_dependency_order_after_the_checks():
    jobs = wf.jobs("deploy.yml")
    assert set(jobs) == {"checks", "estate", *WAVE_JOBS}
    previous: list[str] = []
    for wave, job_id in zip(matrix.WAVES, WAVE_JOBS, strict=True):
        job = jobs[job_id]
        assert set(job["needs"]) == {"checks", "estate", *previous}, job_id
        assert job["uses"] == wf.REUSABLE
        assert (
            job["strategy"]["matrix"]["stack"]
            == f"${{{{ fromJSON(needs.estate.outputs.{wave}) }}}}"
        )
        assert job["with"]["command"] == "up" and "ref" not in job["with"]
        assert "${{ github.run_id }}" in job["with"]["message"]
        # an empty wave is skipped; a later wave waits for every earlier one to succeed
        assert f"needs.estate.outputs.{wave} != '[]'" in job["if"]
        for earlier in previous:
            assert (
                f"""contains(fromJSON('["success", "skipped"]'), needs.{earlier}.result)"""
                in job["if"]
            )
        if previous:
            assert "!cancelled()" in job["if"] and "needs.checks.result == 'success'" in job["if"]
        previous.append(job_id)


def test_the_waves_are_the_estates_deploy_order():
    from tests.conftest import ESTATE

    waves = matrix.outputs(ESTATE, bs.load_accounts())
    import json

    order = [[s["name"] for s in json.loads(waves[wave])] for wave in matrix.WAVES]
    assert [w for w in order if w] == ESTATE.deploy_order()


def test_dispatch_checks_the_ref_before_any_credential_and_runs_the_resolved_sha():
    jobs = wf.jobs("dispatch.yml")
    guard = jobs["guard"]
    assert "id-token" not in guard["permissions"], "no credential before the ref is checked"
    checkout = steps_using(guard, "actions/checkout")[0]
    assert "ref" not in checkout["with"], "the guard comes from the workflow's trusted branch"
    assert checkout["with"]["fetch-depth"] == 0, "reachability needs the history"
    names = [s.get("name", "") for s in wf.steps(guard)]
    ref_step = wf.step_named(guard, "Refuse a ref")
    assert wf.make_targets_called(ref_step["run"]) == ["check-ref"]
    assert ref_step["env"] == {"REF": "${{ inputs.ref }}"}
    assert names.index(ref_step["name"]) < names.index(wf.step_named(guard, "confirmed")["name"])
    assert guard["outputs"]["sha"] == "${{ steps.ref.outputs.sha }}"
    assert jobs["checks"]["with"] == {"ref": "${{ needs.guard.outputs.sha }}"}
    run = jobs["run"]
    assert set(run["needs"]) == {"guard", "checks"}
    assert run["with"]["ref"] == "${{ needs.guard.outputs.sha }}", "never the typed ref"
    assert run["with"]["stack"] == "${{ needs.guard.outputs.entry }}"
    assert run["with"]["archive-admin"] == "${{ inputs.archive-admin }}"


def test_dispatch_guard_confirms_from_the_trusted_branch():
    guard = wf.jobs("dispatch.yml")["guard"]
    step = wf.step_named(guard, "confirmed")
    assert wf.make_targets_called(step["run"]) == ["confirm"]
    assert step["env"] == {
        "STACK_NAME": "${{ inputs.stack }}",
        "COMMAND": "${{ inputs.command }}",
        "CONFIRM": "${{ inputs.confirm }}",
    }
    entry = wf.step_named(guard, "matrix entry")
    assert wf.make_targets_called(entry["run"]) == ["pipeline-entry"]


def test_drift_checks_every_stack_and_a_separate_job_writes_the_issues():
    jobs = wf.jobs("drift.yml")
    detect = jobs["detect"]
    assert detect["uses"] == wf.REUSABLE and detect["with"]["command"] == "drift"
    issue = jobs["issue"]
    assert set(issue["needs"]) == {"estate", "detect"}
    assert issue["if"].startswith("always()")
    assert "issues" not in str(detect.get("permissions")), "the job with AWS credentials"
    download = steps_using(issue, "actions/download-artifact")[0]
    assert download["with"]["name"] == "drift-${{ matrix.stack.name }}"
    upload = steps_using(wf.jobs("pulumi.yml")["drift"], "actions/upload-artifact")[0]
    assert upload["with"]["name"] == f"drift-${{{{ {STACK}.name }}}}"
    assert upload["with"]["path"] == download["with"]["path"] == "build/drift/"
    step = wf.step_named(issue, "drift issue")
    assert wf.make_targets_called(step["run"]) == ["drift-issue"]
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_only_the_deploy_job_runs_in_a_github_environment():
    jobs = wf.jobs("pulumi.yml")
    expected = f"inputs.archive-admin && {STACK}.archive_admin_environment || {STACK}.environment"
    assert jobs["deploy"]["environment"] == f"${{{{ {expected} }}}}"
    for job_id in ("preview", "drift", "unknown-command"):
        assert "environment" not in jobs[job_id], job_id
    for file, job_id, job in wf.all_jobs(wf.PIPELINE):
        if file != "pulumi.yml":
            assert "environment" not in job, f"{file}:{job_id} (environments belong to deploys)"


def test_reusable_jobs_split_the_commands_between_them():
    jobs = wf.jobs("pulumi.yml")
    assert jobs["preview"]["if"] == "inputs.command == 'preview'"
    assert jobs["drift"]["if"] == "inputs.command == 'drift'"
    assert (
        jobs["deploy"]["if"]
        == """contains(fromJSON('["up", "refresh", "destroy"]'), inputs.command)"""
    )
    assert "!contains" in jobs["unknown-command"]["if"]


def test_callers_pass_only_commands_the_reusable_workflow_knows():
    allowed = {"preview", "drift", "up", "refresh", "destroy"}
    options = set(
        wf.load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]["command"]["options"]
    )
    for file, job_id, job in wf.callers_of(wf.REUSABLE):
        command = job["with"]["command"]
        chosen = options if command == "${{ inputs.command }}" else {command}
        assert chosen <= allowed, f"{file}:{job_id}"


# --- concurrency -------------------------------------------------------------------------------


def test_deploys_are_serialized_per_stack_queued_and_never_cancelled():
    deploy = wf.jobs("pulumi.yml")["deploy"]
    assert deploy["concurrency"] == {
        "group": f"pulumi-${{{{ {STACK}.name }}}}",
        "cancel-in-progress": False,
        # every waiting run keeps its place: a later merge or dispatch never cancels a rollback
        "queue": "max",
    }
    assert wf.load("deploy.yml")["concurrency"]["cancel-in-progress"] is False


def test_a_later_dispatch_never_cancels_a_waiting_rollback():
    concurrency = wf.load("dispatch.yml")["concurrency"]
    assert concurrency == {
        "group": "dispatch-${{ inputs.stack }}",
        "cancel-in-progress": False,
        "queue": "max",
    }


def test_drift_never_shares_a_group_with_deploys():
    drift = wf.jobs("pulumi.yml")["drift"]["concurrency"]
    deploy = wf.jobs("pulumi.yml")["deploy"]["concurrency"]
    assert drift["group"] != deploy["group"] and f"{STACK}.name" in drift["group"]
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
    ("pulumi.yml", "preview"): {"id-token"},
    ("pulumi.yml", "drift"): {"id-token"},
    ("pulumi.yml", "deploy"): {"id-token"},
    ("drift.yml", "issue"): {"issues"},
    ("pull-request.yml", "preview-summary"): {"pull-requests"},
    ("pull-request.yml", "preview"): {"id-token"},
    **{("deploy.yml", job): {"id-token"} for job in WAVE_JOBS},
    ("dispatch.yml", "run"): {"id-token"},
    ("drift.yml", "detect"): {"id-token"},
}


def test_write_permissions_only_where_needed():
    for file, job_id, job in wf.all_jobs():
        permissions = job["permissions"]
        assert isinstance(permissions, dict), f"{file}:{job_id}: no read-all/write-all"
        assert permissions.get("contents", "none") in ("none", "read"), f"{file}:{job_id}"
        if file in wf.PIPELINE:
            writes = {scope for scope, level in permissions.items() if level == "write"}
            assert writes == WRITE_ALLOWED.get((file, job_id), set()), f"{file}:{job_id}"


def test_no_job_that_runs_pull_request_code_can_write_to_the_repository():
    for job_id, job in wf.jobs("pull-request.yml").items():
        assert job["permissions"].get("contents", "none") != "write", job_id


@pytest.mark.parametrize("target", [wf.REUSABLE, wf.CHECKS, wf.ESTATE])
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
        },
        "needs": {"estate": {"result": "success"}},
    }


# (event, whether it gets this repository's Actions secrets and an OIDC token)
PULL_REQUESTS = {
    "same repository": (pull_request(), True),
    "fork": (pull_request(head="someone/configtrail"), False),
    "Dependabot": (pull_request(author="dependabot[bot]"), False),
    "Dependabot, pushed to by a maintainer": (
        pull_request(author="dependabot[bot]", actor="maintainer"),
        False,
    ),
    "fork of a bot-like name": (pull_request(head="dependabot/configtrail"), False),
}


def runs(job: dict, event: dict) -> bool:
    # always() is true whatever the earlier jobs did; the rest is what the event decides
    return truthy(evaluate(job["if"].replace("always()", "true"), event))


@pytest.mark.parametrize("name", PULL_REQUESTS)
def test_previews_run_only_where_credentials_exist_and_the_note_runs_exactly_otherwise(name):
    event, has_credentials = PULL_REQUESTS[name]
    jobs = wf.jobs("pull-request.yml")
    assert runs(jobs["preview"], event) is has_credentials
    assert runs(jobs["preview-summary"], event) is has_credentials
    assert runs(jobs["fork-note"], event) is not has_credentials


def test_every_pull_request_job_asking_for_an_oidc_token_is_skipped_for_forks_and_dependabot():
    """GitHub documents that a fork's (and Dependabot's) pull_request run gets id-token: none:
    the run starts — a caller may grant id-token: write, GitHub lowers it — but no token can be
    requested, so the jobs that would need one are skipped by condition, and the offline checks
    and ci-gate still run (settled from GitHub's GITHUB_TOKEN reference, README "Pipeline")."""
    jobs = wf.jobs("pull-request.yml")
    asking = [j for j, job in jobs.items() if job["permissions"].get("id-token") == "write"]
    assert asking == ["preview"]
    for name in ("fork", "Dependabot"):
        event, _ = PULL_REQUESTS[name]
        assert not any(runs(jobs[j], event) for j in asking)
        assert "if" not in jobs["checks"] and "if" not in jobs["estate"]


@pytest.mark.parametrize("name", PULL_REQUESTS)
def test_ci_gate_passes_every_kind_of_pull_request_whose_checks_pass(name):
    event, _ = PULL_REQUESTS[name]
    jobs = wf.jobs("pull-request.yml")
    preview = "success" if runs(jobs["preview"], event) else "skipped"
    note = "success" if runs(jobs["fork-note"], event) else "skipped"
    assert run_gate("success", "success", preview, preview, note) == 0
    assert run_gate("failure", "success", "skipped", "skipped", note) != 0
    if preview == "success":
        assert run_gate("success", "success", "failure", "success", note) != 0


def test_the_conditions_never_trust_the_spoofable_actor():
    jobs = wf.jobs("pull-request.yml")
    for job_id in ("preview", "preview-summary", "fork-note"):
        assert "github.actor" not in jobs[job_id]["if"], job_id


def test_forks_and_dependabot_skip_the_preview_with_a_visible_note(tmp_path):
    jobs = wf.jobs("pull-request.yml")
    step = wf.step_named(jobs["fork-note"], "no Pulumi preview")
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
    assert "no OIDC token" in (tmp_path / "Dependabot.md").read_text()
    assert "from forks get no secrets" in (tmp_path / "fork.md").read_text()


def test_ci_gate_always_runs_and_needs_every_other_job():
    jobs = wf.jobs("pull-request.yml")
    gate = jobs["ci-gate"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == set(jobs) - {"ci-gate"}


def run_gate(checks: str, estate: str, preview: str, summary: str, fork_note: str) -> int:
    script = wf.step_named(wf.jobs("pull-request.yml")["ci-gate"], "needed job passed")["run"]
    env = {
        "CHECKS": checks,
        "ESTATE": estate,
        "PREVIEW": preview,
        "SUMMARY": summary,
        "FORK_NOTE": fork_note,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, check=False
    ).returncode


@pytest.mark.parametrize(
    ("checks", "estate", "preview", "summary", "fork_note", "passes"),
    [
        ("success", "success", "success", "success", "skipped", True),  # same repository
        ("success", "success", "skipped", "skipped", "success", True),  # fork or Dependabot
        ("success", "success", "failure", "success", "skipped", False),  # a preview failed
        ("success", "success", "success", "failure", "skipped", False),  # no comment written
        ("success", "success", "cancelled", "success", "skipped", False),
        ("success", "success", "skipped", "skipped", "skipped", False),  # skipped, not a fork
        ("success", "failure", "skipped", "skipped", "skipped", False),  # no estate
        ("failure", "success", "skipped", "skipped", "success", False),
        ("cancelled", "success", "success", "success", "skipped", False),
    ],
)
def test_ci_gate_decision(checks, estate, preview, summary, fork_note, passes):
    assert (run_gate(checks, estate, preview, summary, fork_note) == 0) is passes


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
        "pulumi/auth-actions",
        "actions/upload-artifact",
        "actions/download-artifact",
    }


def test_local_actions_and_workflows_use_the_self_repository_syntax():
    for _, _, step in wf.all_steps():
        assert not step.get("uses", "").startswith("./"), step.get("uses")
    for file, job_id, job in wf.all_jobs():
        assert not job.get("uses", "").startswith("./"), f"{file}:{job_id}"


def test_every_checkout_drops_the_credentials():
    checkouts = [
        s for _, _, s in wf.all_steps() if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 8
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_run_scripts_take_no_expressions_untrusted_values_come_through_env():
    for file, job_id, step in wf.all_steps():
        assert "${{" not in step.get("run", ""), f"{file}:{job_id}: {step.get('name')}"


def test_every_job_on_a_runner_has_a_timeout_within_its_credentials():
    for file, job_id, job in wf.all_jobs():
        if "runs-on" not in job:
            continue
        timeout = job.get("timeout-minutes")
        if file == "pulumi.yml" and job_id != "unknown-command":
            assert timeout == f"${{{{ {STACK}.timeout_minutes }}}}", job_id
        else:
            assert isinstance(timeout, int), f"{file}:{job_id}"


def test_no_step_calls_the_pulumi_cli_directly_or_lets_an_action_download_it():
    for file, job_id, step in wf.all_steps():
        assert not re.search(r"(^|[;&|(\s])pulumi\s", step.get("run", "")), f"{file}:{job_id}"
        assert not step.get("uses", "").startswith("pulumi/actions@"), f"{file}:{job_id}"


# --- credentials per stack ---------------------------------------------------------------------


def credentials(job_id):
    [step] = steps_using(wf.jobs("pulumi.yml")[job_id], "aws-actions/configure-aws-credentials")
    return step["with"]


def pulumi_token(job_id):
    [step] = steps_using(wf.jobs("pulumi.yml")[job_id], "pulumi/auth-actions")
    return step


def test_previews_and_drift_use_the_stacks_read_only_role_deploys_the_environments_role():
    for job_id in ("preview", "drift"):
        assert credentials(job_id)["role-to-assume"] == f"${{{{ {STACK}.preview_role }}}}"
    assert credentials("deploy")["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    for job_id in ("preview", "drift", "deploy"):
        assert credentials(job_id)["aws-region"] == "${{ env.AWS_REGION }}"
    assert wf.load("pulumi.yml")["env"]["AWS_REGION"] == f"${{{{ {STACK}.region }}}}"


def test_the_deploy_role_is_checked_against_the_stacks_account_before_it_is_assumed():
    deploy = wf.jobs("pulumi.yml")["deploy"]
    names = [s.get("name", "") for s in wf.steps(deploy)]
    check = wf.step_named(deploy, "belongs to the stack's account")
    assert wf.make_targets_called(check["run"]) == ["check-role"]
    assert check["env"] == {"ROLE_ARN": "${{ vars.AWS_DEPLOY_ROLE_ARN }}"}
    aws = next(s for s in wf.steps(deploy) if s.get("uses", "").startswith("aws-actions/"))
    assert names.index(check["name"]) < names.index(aws["name"])


def test_pulumi_cloud_tokens_are_exchanged_per_stack_team_never_a_stored_token():
    for job_id, team in (
        ("preview", "preview_team"),
        ("drift", "preview_team"),
        ("deploy", "deploy_team"),
    ):
        step = pulumi_token(job_id)
        assert step["if"] == "vars.PULUMI_BACKEND_URL == ''", "only for Pulumi Cloud"
        assert step["with"] == {
            "organization": "${{ vars.PULUMI_ORG }}",
            "requested-token-type": "urn:pulumi:token-type:access_token:team",
            "scope": f"team:${{{{ {STACK}.{team} }}}}",
            "token-expiration": f"${{{{ {STACK}.session_seconds }}}}",
        }


def test_sessions_come_from_the_one_bootstrap_setting():
    from tests.conftest import ESTATE

    settings = bs.load()
    for job_id in ("preview", "drift", "deploy"):
        assert credentials(job_id)["role-duration-seconds"] == f"${{{{ {STACK}.session_seconds }}}}"
    for entry in matrix.entries(ESTATE, bs.load_accounts()):
        assert entry["session_seconds"] == settings.session_seconds
        assert entry["timeout_minutes"] * 60 < entry["session_seconds"]
    audit = next(j for j in wf.jobs("audit-report.yml").values() if "environment" in j)
    [aws] = steps_using(audit, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-duration-seconds"] == "${{ steps.sessions.outputs.session_seconds }}"


def test_a_self_managed_backend_gets_the_stacks_secrets_provider_and_the_state_fallback():
    env = wf.load("pulumi.yml")["env"]
    assert env["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    # a stack file without the encrypted key uses the secrets provider kept in the state
    fallback = "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"
    assert env[fallback] == "true"
    run = wf.step_named(wf.jobs("pulumi.yml")["deploy"], "pulumi ${{ inputs.command }}")
    provider = run["env"]["SECRETS_PROVIDER"]
    assert provider == "${{ fromJSON(inputs.stack).secrets_provider }}", "the matrix entry's"


def test_the_stack_name_is_the_stack_or_qualified_by_the_pulumi_org():
    stack = wf.load("pulumi.yml")["env"]["STACK"]
    assert f"format('{{0}}/configtrail/{{1}}', vars.PULUMI_ORG, {STACK}.name)" in stack


# --- the Pulumi steps ----------------------------------------------------------------------------


def run_step_script(script: str, env: dict[str, str], tmp_path) -> list[list[str]]:
    """Run a workflow step's script with a recording stand-in for `make` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "make-calls"
    (bin_dir / "make").write_text(
        f'#!/bin/bash\nprintf "%s\\n" "$@" "MESSAGE=$MESSAGE" "--" >> {log}\n'
    )
    (bin_dir / "make").chmod(0o755)
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=wf.REPO,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        check=True,
    )
    calls, current = [], []
    for line in log.read_text().splitlines():
        if line == "--":
            calls.append(current)
            current = []
        else:
            current.append(line)
    return calls


HEAD = subprocess.run(
    ["git", "rev-parse", "HEAD"], cwd=wf.REPO, capture_output=True, text=True, check=True
).stdout.strip()


@pytest.mark.parametrize(
    ("job_id", "step_name", "target"),
    [
        ("deploy", "pulumi ${{ inputs.command }}", "up"),
        ("deploy", "converged", "converged"),
        ("preview", "pulumi preview with the policy pack", "preview"),
        ("drift", "Refresh-preview", "drift"),
    ],
)
def test_pulumi_steps_run_make_with_the_commit_in_the_message(tmp_path, job_id, step_name, target):
    step = wf.step_named(wf.jobs("pulumi.yml")[job_id], step_name)
    env = {"COMMAND": "up", "STACK_FILE": "ml-prod", "MESSAGE": 'rollback of "v1.2" by ann'}
    [call] = run_step_script(step["run"], env, tmp_path)
    assert call == [target, "ENV=ml-prod", f'MESSAGE=rollback of "v1.2" by ann (commit {HEAD})']


def test_the_deploy_job_runs_the_command_then_proves_convergence():
    deploy = wf.jobs("pulumi.yml")["deploy"]
    run = wf.step_named(deploy, "pulumi ${{ inputs.command }}")
    converged = wf.step_named(deploy, "converged")
    assert converged["if"] == "inputs.command == 'up'"
    names = [s.get("name", "") for s in wf.steps(deploy)]
    assert names.index(run["name"]) < names.index(converged["name"])


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
        "pulumi-cli",
        "pipeline-matrix",
        "pipeline-entry",
        "check",
        "test",
        "job-summary",
        "check-ref",
        "check-role",
        "confirm",
        "preview",
        "preview-report",
        "preview-comment",
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
        ["make", "-n", target, "ENV=trial"],
        cwd=wf.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "No rule to make target" not in done.stderr


# --- setup action, repository hygiene -------------------------------------------------------------


def test_setup_action_installs_python_the_venv_and_the_verified_cli():
    action = wf.load(str(wf.SETUP_ACTION))
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python[0]["with"] == {"python-version-file": ".python-version"}
    assert [s["run"] for s in steps if "run" in s] == ["make venv", "make pulumi-cli"]
    [cli] = [s for s in steps if s.get("run") == "make pulumi-cli"]
    assert cli["if"] == "inputs.pulumi == 'true'"


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


def test_codeowners_guard_what_a_pull_request_could_use_to_judge_itself():
    rules = {}
    for line in (wf.REPO / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, *owners = line.split()
            rules[path] = owners
    for path in ("/.github/", "/policies/", "/environments/", "/bootstrap/", "/Makefile"):
        assert rules.get(path), path
        assert all(owner.startswith("@") for owner in rules[path])


def test_dependabot_updates_actions_and_pip_with_pins():
    import yaml

    config = yaml.safe_load((wf.REPO / ".github" / "dependabot.yml").read_text())
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert "/.github/actions/setup" in ecosystems["github-actions"]["directories"]
    for directory in ecosystems["pip"]["directories"]:
        lines = (wf.REPO / directory.strip("/") / "requirements.txt").read_text().splitlines()
        pins = [line for line in lines if line and not line.startswith("#")]
        assert pins and all("==" in line for line in pins), directory
