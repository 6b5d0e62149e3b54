"""The bootstrap project's offline plan (the real program under the mock runtime, see
configtrail/plan/mocks.py): who each role trusts, what it may do, and that the deploy roles reach
exactly what the recording stack of their environment creates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from configtrail.bootstrap import plan as bootstrap_plan
from configtrail.bootstrap import program
from configtrail.plan.mocks import DEFAULT_ACCOUNT_ID as ACCOUNT_ID
from tests.bootstrap.helpers import allowed, as_list, permissions, roles, stack_dir, trust

PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
REPO = "example-org/configtrail"
ENVS = ["dev", "staging", "prod"]


@pytest.fixture(scope="module")
def plan():
    return bootstrap_plan.run("pipeline")


# --- the resources -------------------------------------------------------------------------------


def test_one_oidc_provider_for_githubs_tokens_to_sts(plan):
    [provider] = plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider.protect and provider.retain_on_delete
    assert plan.outputs["oidcProviderArn"] == PROVIDER_ARN


def test_a_preview_role_and_one_deploy_role_per_environment(plan):
    assert sorted(roles(plan)) == sorted(
        [
            "configtrail-github-preview",
            *(f"configtrail-github-deploy-{e}" for e in ENVS),
            "configtrail-github-audit",  # tests/bootstrap/test_audit_role.py
        ]
    )
    assert all(role.protect for role in roles(plan).values())
    assert plan.outputs["previewRoleArn"] == (
        f"arn:aws:iam::{ACCOUNT_ID}:role/configtrail-github-preview"
    )
    assert plan.outputs["deployRoleArns"] == {
        env: f"arn:aws:iam::{ACCOUNT_ID}:role/configtrail-github-deploy-{env}" for env in ENVS
    }


def test_the_preview_role_trusts_pull_requests_and_the_default_branch_only(plan):
    statement = trust(roles(plan)["configtrail-github-preview"])
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                f"repo:{REPO}:pull_request",
                f"repo:{REPO}:ref:refs/heads/main",
            ],
        }
    }
    assert roles(plan)["configtrail-github-preview"].inputs["maxSessionDuration"] == 3600


@pytest.mark.parametrize("env", ENVS)
def test_each_deploy_role_trusts_only_its_github_environment(plan, env):
    role = roles(plan)[f"configtrail-github-deploy-{env}"]
    statement = trust(role)
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:{REPO}:environment:{env}",
        }
    }
    assert role.inputs["maxSessionDuration"] == 7200


def test_no_trust_uses_a_wildcard_or_a_like_condition(plan):
    for name, role in roles(plan).items():
        condition = trust(role)["Condition"]
        assert set(condition) == {"StringEquals"}, name
        for subject in as_list(
            condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
        ):
            assert "*" not in subject and "?" not in subject, name


def test_an_existing_provider_is_referenced_not_created(tmp_path):
    plan = bootstrap_plan.run("variant", stack_dir(tmp_path, oidcProvider="existing"))
    assert plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for role in roles(plan).values():
        assert trust(role)["Principal"] == {"Federated": PROVIDER_ARN}


def test_environments_branch_and_session_come_from_the_settings(tmp_path):
    directory = stack_dir(
        tmp_path,
        environments=["prod"],
        defaultBranch="release",
        deploySessionSeconds=10800,
        rolePrefix="ct",
    )
    plan = bootstrap_plan.run("variant", directory)
    assert sorted(roles(plan)) == ["ct-audit", "ct-deploy-prod", "ct-preview"]
    assert roles(plan)["ct-deploy-prod"].inputs["maxSessionDuration"] == 10800
    subjects = trust(roles(plan)["ct-preview"])["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    assert subjects == ["repo:acme/trail:pull_request", "repo:acme/trail:ref:refs/heads/release"]


# --- permissions ------------------------------------------------------------------------------


def named_arns(stack_plan) -> dict[str, list[str]]:
    """ARNs of everything the recording stack names (what a deploy role must reach)."""
    account = ACCOUNT_ID
    found = {"bucket": [], "role": [], "topic": [], "alias": []}
    for r in stack_plan.resources:
        if r.type == "aws:s3/bucket:Bucket":
            found["bucket"].append(f"arn:aws:s3:::{r.inputs['bucket']}")
        elif r.type == "aws:iam/role:Role":
            found["role"].append(f"arn:aws:iam::{account}:role/{r.inputs['name']}")
        elif r.type == "aws:sns/topic:Topic":
            found["topic"].append(f"arn:aws:sns:{r.inputs['region']}:{account}:{r.inputs['name']}")
        elif r.type == "aws:kms/alias:Alias":
            found["alias"].append(f"arn:aws:kms:{r.inputs['region']}:{account}:{r.inputs['name']}")
    return found


ACTIONS = {
    "bucket": "s3:PutBucketPolicy",
    "role": "iam:PutRolePolicy",
    "topic": "sns:SetTopicAttributes",
    "alias": "kms:CreateAlias",
}


@pytest.mark.parametrize("env", ENVS)
def test_each_deploy_role_reaches_everything_its_stack_names_and_nothing_of_the_others(
    plan, plan_of, env
):
    own = permissions(plan, f"configtrail-github-deploy-{env}")
    kinds = set()
    for other in ENVS:
        for kind, arns in named_arns(plan_of(other, False)).items():
            for arn in arns:
                assert allowed(own, ACTIONS[kind], arn) is (other == env), (env, other, arn)
                kinds.add(kind)
    assert kinds == set(ACTIONS), "the stack plans name buckets, roles, topics and aliases"


def test_the_preview_role_reads_every_environments_buckets_but_no_object(plan, plan_of):
    statements = permissions(plan, "configtrail-github-preview")
    for env in ENVS:
        for arn in named_arns(plan_of(env, False))["bucket"]:
            assert allowed(statements, "s3:GetBucketPolicy", arn)
            assert allowed(statements, "s3:GetEncryptionConfiguration", arn)
            assert not allowed(statements, "s3:GetObject", f"{arn}/configtrail/AWSLogs/x")
            assert not allowed(statements, "s3:PutBucketPolicy", arn)


def test_the_preview_role_can_change_nothing(plan):
    for statement in permissions(plan, "configtrail-github-preview"):
        if statement["Effect"] == "Deny":
            continue
        for action in as_list(statement["Action"]):
            verb = action.split(":", 1)[1]
            assert re.match(r"(Get|List|Describe|BatchGet)", verb), action


def test_no_deploy_role_may_read_recorded_history_or_attach_any_policy(plan):
    for env in ENVS:
        statements = permissions(plan, f"configtrail-github-deploy-{env}")
        bucket = f"arn:aws:s3:::configtrail-{env}-archive-{ACCOUNT_ID}-us-east-1"
        assert allowed(statements, "s3:PutBucketVersioning", bucket)
        assert not allowed(statements, "s3:GetObject", f"{bucket}/configtrail/AWSLogs/1/Config/x")
        assert not allowed(statements, "s3:DeleteObject", f"{bucket}/configtrail/AWSLogs/1/x")
        [attach] = [s for s in statements if "iam:AttachRolePolicy" in as_list(s["Action"])]
        assert attach["Condition"] == {
            "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"}
        }
        [passing] = [s for s in statements if s["Action"] == "iam:PassRole"]
        assert passing["Condition"]["StringEquals"]["iam:PassedToService"] == [
            "config.amazonaws.com",
            "s3.amazonaws.com",
        ]
        for statement in statements:
            assert "*" not in as_list(statement["Action"]), "never every action"
            assert not any(a.endswith(":*") for a in as_list(statement["Action"]))


def test_inline_policies_fit_iams_size_limit(plan):
    for policy in plan.by_type("aws:iam/rolePolicy:RolePolicy"):
        compact = json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))
        assert len(compact) <= 10_240, policy.name


def test_a_self_managed_backend_is_reachable_per_environment(tmp_path):
    key = "arn:aws:kms:eu-west-1:123456789012:alias/pulumi-secrets"
    plan = bootstrap_plan.run(
        "variant", stack_dir(tmp_path, stateBucket="acme-pulumi-state", secretsKeyArn=key)
    )
    state = "arn:aws:s3:::acme-pulumi-state/.pulumi"
    preview = permissions(plan, "configtrail-github-preview")
    assert allowed(preview, "s3:GetObject", f"{state}/stacks/configtrail/prod.json")
    assert not allowed(preview, "s3:PutObject", f"{state}/locks/configtrail/prod/l.json")
    assert allowed(preview, "kms:Decrypt", key) and not allowed(preview, "kms:Encrypt", key)
    dev = permissions(plan, "configtrail-github-deploy-dev")
    for path in (
        "stacks/configtrail/dev.json",
        "stacks/configtrail/dev.json.bak",
        "locks/configtrail/dev/1.json",
        "history/configtrail/dev/dev-1.history.json",
    ):
        assert allowed(dev, "s3:PutObject", f"{state}/{path}"), path
    assert not allowed(dev, "s3:PutObject", f"{state}/stacks/configtrail/prod.json")
    assert allowed(dev, "s3:GetObject", f"{state}/meta.yaml")
    assert allowed(dev, "kms:Encrypt", key)


# --- the project files and the command ----------------------------------------------------------


def test_the_project_runs_the_importable_program_in_the_repository_venv():
    project = yaml.safe_load((program.PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == program.PROJECT
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "../.venv"
    entry = (program.PROJECT_DIR / "__main__.py").read_text()
    code = [line for line in entry.splitlines() if line and not line.startswith(('"', " "))]
    assert code[-2:] == ["from configtrail.bootstrap.program import main", "main()"]


def test_bootstrap_plan_writes_the_stack_export_and_a_summary(tmp_path):
    done = subprocess.run(
        [
            Path(sys.executable).parent / "configtrail",
            "bootstrap-plan",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    export = json.loads((tmp_path / "bootstrap" / "pipeline" / "stack.json").read_text())
    assert export["version"] == 3
    types = [r["type"] for r in export["deployment"]["resources"]]
    assert types.count("aws:iam/role:Role") == 5  # preview, three deploy roles, audit
    assert types[0] == "pulumi:pulumi:Stack"
    summary = (tmp_path / "summary" / "bootstrap.md").read_text()
    assert (
        "`configtrail-github-deploy-prod` | repo:example-org/configtrail:environment:prod"
        in summary
    )
