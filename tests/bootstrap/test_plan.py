"""The bootstrap project's offline plan (the real program under the mock runtime, see
configtrail/plan/mocks.py): one bootstrap stack per account of the estate, who each role trusts,
what it may do, and that each stack's deploy role reaches exactly what that stack's own plan
creates. Which stacks and accounts exist comes from environments/, never from a list here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from configtrail import estate
from configtrail.bootstrap import documents, program
from configtrail.bootstrap import plan as bootstrap_plan
from configtrail.bootstrap import settings as bs
from configtrail.stack import names
from tests.bootstrap.helpers import (
    allowed,
    as_list,
    denied,
    managed_policy,
    permissions,
    roles,
    settings_file,
    trust,
)
from tests.conftest import ESTATE, STACKS, stacks_where

REPO = "example-org/configtrail"
PREFIX = "configtrail-github"
PROTECTED = stacks_where(lambda s: s.settings.has_archive and s.settings.archive_protect)
UNPROTECTED_ARCHIVES = stacks_where(
    lambda s: s.settings.has_archive and not s.settings.archive_protect
)


@pytest.fixture(scope="module")
def plans() -> dict[str, bootstrap_plan.BootstrapPlan]:
    return {p.account.account_id: p for p in bootstrap_plan.run_all()}


def plan_of_stack(plans, stack: str):
    return plans[ESTATE[stack].account_id]


def provider_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"


def boundary(account: str) -> str:
    return f"arn:aws:iam::{account}:policy/{names.WORKLOAD_BOUNDARY}"


# --- one stack per account -----------------------------------------------------------------------


def test_one_bootstrap_stack_per_account_of_the_estate(plans):
    assert set(plans) == set(ESTATE.accounts())
    for account, plan in plans.items():
        assert plan.stack == f"account-{account}"
        assert plan.outputs["accountId"] == account
        [provider] = plan.by_type("pulumi:providers:aws")
        assert json.loads(provider.inputs["allowedAccountIds"]) == [account]  # JSON on the wire


@pytest.mark.parametrize("account", sorted(ESTATE.accounts()))
def test_each_account_holds_the_roles_of_its_own_stacks_only(plans, account):
    plan = plans[account]
    expected = set()
    for stack in ESTATE.accounts()[account]:
        expected |= {f"{PREFIX}-preview-{stack}", f"{PREFIX}-deploy-{stack}"}
        if stack in PROTECTED:
            expected.add(f"{PREFIX}-archive-{stack}")
    if account == ESTATE["log-archive"].account_id:
        expected.add(f"{PREFIX}-audit")
    assert set(roles(plan)) == expected
    assert set(plan.outputs["stacks"]) == set(ESTATE.accounts()[account])
    assert all(role.protect for role in roles(plan).values())


def test_an_account_with_two_stacks_gets_both_stacks_roles(tmp_path):
    """An archive and a member in one account: one bootstrap stack, both stacks' roles."""
    directory = tmp_path / "environments"
    shutil.copytree(estate.ENVIRONMENTS, directory)
    member = yaml.safe_load((directory / "Pulumi.ml-dev.yaml").read_text())
    member["config"]["configtrail:accountId"] = ESTATE["log-archive"].account_id
    (directory / "Pulumi.archive-own.yaml").write_text(yaml.safe_dump(member))
    (directory / "Pulumi.ml-dev.yaml").unlink()
    [plan] = [
        p
        for p in bootstrap_plan.run_all(environments=directory)
        if p.account.account_id == ESTATE["log-archive"].account_id
    ]
    assert {f"{PREFIX}-deploy-log-archive", f"{PREFIX}-deploy-archive-own"} <= set(roles(plan))
    assert set(plan.outputs["stacks"]) == {"log-archive", "archive-own"}


def test_a_new_stack_file_in_a_new_account_needs_no_bootstrap_edit(tmp_path):
    directory = tmp_path / "environments"
    shutil.copytree(estate.ENVIRONMENTS, directory)
    member = yaml.safe_load((directory / "Pulumi.ml-dev.yaml").read_text())
    member["config"]["configtrail:accountId"] = "666666666666"
    (directory / "Pulumi.ml-test.yaml").write_text(yaml.safe_dump(member))
    found = {p.account.account_id: p for p in bootstrap_plan.run_all(environments=directory)}
    assert set(roles(found["666666666666"])) == {
        f"{PREFIX}-preview-ml-test",
        f"{PREFIX}-deploy-ml-test",
    }


# --- the OIDC provider and trust -----------------------------------------------------------------


def test_each_account_creates_githubs_oidc_provider(plans):
    for account, plan in plans.items():
        [provider] = plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
        assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
        assert provider.protect and provider.retain_on_delete
        assert plan.outputs["oidcProviderArn"] == provider_arn(account)


def test_an_existing_provider_is_referenced_per_account(tmp_path):
    account = ESTATE["ml-prod"].account_id
    path = settings_file(tmp_path, accounts={account: {"oidcProvider": "existing"}})
    found = {p.account.account_id: p for p in bootstrap_plan.run_all(path)}
    assert found[account].by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for role in roles(found[account]).values():
        assert trust(role)["Principal"] == {"Federated": provider_arn(account)}
    other = ESTATE["ml-dev"].account_id
    assert found[other].by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def subjects(role) -> list[str]:
    condition = trust(role)["Condition"]
    assert set(condition) == {"StringEquals"}
    assert condition["StringEquals"]["token.actions.githubusercontent.com:aud"] == (
        "sts.amazonaws.com"
    )
    return as_list(condition["StringEquals"]["token.actions.githubusercontent.com:sub"])


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_role_trusts_exactly_its_subjects(plans, stack):
    found = roles(plan_of_stack(plans, stack))
    account = ESTATE[stack].account_id
    assert subjects(found[f"{PREFIX}-preview-{stack}"]) == [
        f"repo:{REPO}:pull_request",
        f"repo:{REPO}:ref:refs/heads/main",
    ]
    assert subjects(found[f"{PREFIX}-deploy-{stack}"]) == [f"repo:{REPO}:environment:{stack}"]
    if stack in PROTECTED:
        assert subjects(found[f"{PREFIX}-archive-{stack}"]) == [
            f"repo:{REPO}:environment:{stack}-archive-admin"
        ]
    for role in found.values():
        assert trust(role)["Principal"] == {"Federated": provider_arn(account)}
        assert all("*" not in s and "?" not in s for s in subjects(role))


def test_sessions_come_from_one_setting(tmp_path):
    path = settings_file(tmp_path, sessionSeconds=10800, rolePrefix="ct")
    [plan] = [p for p in bootstrap_plan.run_all(path) if p.account.account_id == "111111111111"]
    assert {r.inputs["maxSessionDuration"] for r in roles(plan).values()} == {10800}
    assert set(roles(plan)) == {
        "ct-preview-log-archive",
        "ct-deploy-log-archive",
        "ct-archive-log-archive",
        "ct-audit",
    }


# --- what each deploy role reaches ------------------------------------------------------------


def named_arns(stack_plan, account: str) -> dict[str, list[str]]:
    """ARNs of everything a recording stack names (what its deploy role must reach)."""
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
    "bucket": "s3:PutBucketTagging",
    "role": "iam:TagRole",
    "topic": "sns:SetTopicAttributes",
    "alias": "kms:CreateAlias",
}


@pytest.mark.parametrize("stack", STACKS)
def test_each_deploy_role_reaches_its_stack_and_nothing_of_the_others(plans, plan_of, stack):
    own = permissions(plan_of_stack(plans, stack), f"{PREFIX}-deploy-{stack}")
    account = ESTATE[stack].account_id
    kinds = set()
    for other in STACKS:
        for kind, arns in named_arns(plan_of(other, False), account).items():
            for arn in arns:
                assert allowed(own, ACTIONS[kind], arn) is (other == stack), (stack, other, arn)
                if other == stack:
                    kinds.add(kind)
    # A member with the service-linked role and no topic names nothing of its own.
    assert kinds or ESTATE[stack].kind == "member", stack


def test_the_stacks_together_name_every_kind_of_resource_checked(plan_of):
    kinds = {
        kind
        for stack in STACKS
        for kind, arns in named_arns(plan_of(stack, False), ESTATE[stack].account_id).items()
        if arns
    }
    assert kinds == set(ACTIONS)


def test_the_stacks_roles_carry_the_workload_boundary_the_deploy_role_requires(plans, plan_of):
    """Every role a recording stack creates carries `configtrail-pipeline-boundary`, and its
    deploy role may create exactly such roles: without the boundary the CreateRole is denied."""
    checked = 0
    for stack in STACKS:
        account = ESTATE[stack].account_id
        deploy = permissions(plan_of_stack(plans, stack), f"{PREFIX}-deploy-{stack}")
        for role in plan_of(stack, False).by_type("aws:iam/role:Role"):
            arn = f"arn:aws:iam::{account}:role/{role.inputs['name']}"
            assert role.inputs["permissionsBoundary"] == boundary(account), role.name
            bounded = {"iam:PermissionsBoundary": role.inputs["permissionsBoundary"]}
            assert allowed(deploy, "iam:CreateRole", arn, bounded)
            assert allowed(deploy, "iam:PutRolePolicy", arn, bounded)
            assert not allowed(deploy, "iam:CreateRole", arn, {})
            assert not allowed(
                deploy, "iam:CreateRole", arn, {"iam:PermissionsBoundary": "arn:aws:iam::x"}
            )
            assert denied(deploy, "iam:DeleteRolePermissionsBoundary", arn)
            checked += 1
    assert checked >= 2, "the estate's plans create roles (replication, aggregator)"


def test_only_config_managed_policies_attach_and_only_to_bounded_roles(plans):
    account = ESTATE["aggregator"].account_id
    deploy = permissions(plans[account], f"{PREFIX}-deploy-aggregator")
    arn = f"arn:aws:iam::{account}:role/configtrail-aggregator-organization"
    ok = {
        "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations",
        "iam:PermissionsBoundary": boundary(account),
    }
    assert allowed(deploy, "iam:AttachRolePolicy", arn, ok)
    admin = {**ok, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not allowed(deploy, "iam:AttachRolePolicy", arn, admin)
    unbounded = {"iam:PolicyARN": ok["iam:PolicyARN"]}
    assert not allowed(deploy, "iam:AttachRolePolicy", arn, unbounded)


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_roles_keep_the_permissions_a_first_deploy_needs(plans, stack):
    """Issue 9: the provider tags the service-linked role (TagRole) right after creating it;
    Athena/Glue for `athena: true`; Organizations reads for the aggregator."""
    account = ESTATE[stack].account_id
    deploy = permissions(plan_of_stack(plans, stack), f"{PREFIX}-deploy-{stack}")
    slr = (
        f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    )
    service = {"iam:AWSServiceName": "config.amazonaws.com"}
    for action in (
        "iam:CreateServiceLinkedRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRoleTags",
    ):
        assert allowed(deploy, action, slr, service), action
    database = f"configtrail_{stack.replace('-', '_')}_history"
    assert allowed(
        deploy, "glue:CreateTable", f"arn:aws:glue:us-east-1:{account}:table/{database}/t"
    )
    assert allowed(
        deploy,
        "athena:CreateWorkGroup",
        f"arn:aws:athena:us-east-1:{account}:workgroup/configtrail-{stack}-history",
    )
    for action in (
        "organizations:DescribeOrganization",
        "organizations:ListDelegatedAdministrators",
    ):
        assert allowed(deploy, action, "*"), action


def test_no_role_may_read_recorded_history_or_use_every_action(plans):
    for plan in plans.values():
        for name in roles(plan):
            if name.endswith("-audit"):
                continue
            statements = permissions(plan, name)
            stack = name.split("-", 3)[-1]
            bucket = f"arn:aws:s3:::configtrail-{stack}-archive-{plan.account.account_id}-us-east-1"
            for action in ("s3:GetObject", "s3:DeleteObject", "s3:PutObject"):
                assert not allowed(statements, action, f"{bucket}/configtrail/AWSLogs/1/x"), name
            for statement in statements:
                actions = as_list(statement.get("Action", []))
                assert "*" not in actions and not any(a.endswith(":*") for a in actions), name


def test_preview_roles_can_change_nothing(plans):
    for plan in plans.values():
        for name in roles(plan):
            if "-preview-" not in name:
                continue
            for statement in permissions(plan, name):
                if statement["Effect"] == "Deny":
                    continue
                for action in as_list(statement["Action"]):
                    verb = action.split(":", 1)[1]
                    assert verb.startswith(("Get", "List", "Describe", "BatchGet")), action


# --- destructive archive changes -----------------------------------------------------------------

PROTECTED_ACTIONS = documents.PROTECTED_BUCKET_ACTIONS


@pytest.mark.parametrize("stack", PROTECTED)
def test_a_protected_archive_cannot_be_weakened_by_its_deploy_role(plans, plan_of, stack):
    plan = plan_of_stack(plans, stack)
    deploy = permissions(plan, f"{PREFIX}-deploy-{stack}")
    admin = permissions(plan, f"{PREFIX}-archive-{stack}")
    history = [
        f"arn:aws:s3:::{r.inputs['bucket']}"
        for r in plan_of(stack, False).by_type("aws:s3/bucket:Bucket")
        if r.inputs["bucket"].startswith(
            (f"configtrail-{stack}-archive-", f"configtrail-{stack}-vault-")
        )
    ]
    assert history
    for arn in history:
        for action in PROTECTED_ACTIONS:
            assert denied(deploy, action, arn), (action, arn)
            assert allowed(admin, action, arn), (action, arn)
        assert allowed(deploy, "s3:PutBucketTagging", arn), "everything else still deploys"
    key = f"arn:aws:kms:us-east-1:{plan.account.account_id}:key/k"
    aliased = {"kms:ResourceAliases": f"alias/configtrail-{stack}-us-east-1"}
    assert denied(deploy, "kms:ScheduleKeyDeletion", key, aliased)
    assert allowed(admin, "kms:ScheduleKeyDeletion", key)


@pytest.mark.parametrize("stack", UNPROTECTED_ARCHIVES)
def test_an_unprotected_archive_is_its_deploy_roles_to_change(plans, stack):
    """archiveProtect: false is an explicit choice in the stack file (a trial)."""
    plan = plan_of_stack(plans, stack)
    deploy = permissions(plan, f"{PREFIX}-deploy-{stack}")
    arn = f"arn:aws:s3:::configtrail-{stack}-archive-{plan.account.account_id}-us-east-1"
    assert allowed(deploy, "s3:PutLifecycleConfiguration", arn)
    assert f"{PREFIX}-archive-{stack}" not in roles(plan)


def test_the_protected_stacks_are_those_the_estate_protects():
    assert PROTECTED == ["log-archive"] and UNPROTECTED_ARCHIVES == ["trial"]


# --- boundaries ----------------------------------------------------------------------------------


def test_every_pipeline_role_carries_the_deploy_boundary(plans):
    for account, plan in plans.items():
        for name, role in roles(plan).items():
            assert role.inputs["permissionsBoundary"] == (
                f"arn:aws:iam::{account}:policy/{PREFIX}-boundary"
            ), name


def test_the_deploy_boundary_closes_the_paths_to_admin(plans):
    account = "333333333333"
    statements = managed_policy(plans[account], f"{PREFIX}-boundary")
    own_role = f"arn:aws:iam::{account}:role/{PREFIX}-deploy-ml-dev"
    for action, arn in [
        ("iam:CreateUser", f"arn:aws:iam::{account}:user/x"),
        ("iam:CreateAccessKey", f"arn:aws:iam::{account}:user/x"),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::{account}:policy/x"),
        ("iam:PutRolePolicy", own_role),
        ("iam:UpdateAssumeRolePolicy", own_role),
        ("iam:DeleteRolePermissionsBoundary", f"arn:aws:iam::{account}:role/configtrail-ml-dev-x"),
        ("iam:CreatePolicyVersion", boundary(account)),
        ("sts:AssumeRole", f"arn:aws:iam::{account}:role/anything"),
        ("organizations:LeaveOrganization", "*"),
        ("iam:UpdateOpenIDConnectProviderThumbprint", provider_arn(account)),
    ]:
        assert denied(statements, action, arn), action
    assert allowed(statements, "iam:GetRole", own_role)
    assert allowed(statements, "config:PutConfigurationRecorder", "*")


def test_the_workload_boundary_stops_escalation_and_history_loss(plans):
    statements = managed_policy(plans["444444444444"], names.WORKLOAD_BOUNDARY)
    for action in (
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "sts:AssumeRole",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
        "kms:ScheduleKeyDeletion",
        "config:DeleteConfigurationRecorder",
    ):
        assert denied(statements, action, "*"), action
    for action in ("s3:PutObject", "s3:ReplicateObject", "kms:GenerateDataKey", "config:Put*"):
        assert allowed(statements, action, "*"), action


def test_policies_fit_iams_size_limits(plans):
    for plan in plans.values():
        for policy in plan.by_type("aws:iam/rolePolicy:RolePolicy"):
            compact = json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))
            assert len(compact) <= 10_240, policy.name
        for policy in plan.by_type("aws:iam/policy:Policy"):
            compact = json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))
            assert len(compact) <= 6_144, policy.name


# --- self-managed backend: one stack's state and secrets -----------------------------------------


@pytest.fixture(scope="module")
def backend_plans(tmp_path_factory):
    path = settings_file(tmp_path_factory.mktemp("backend"), stateBucket="acme-pulumi-state")
    return {p.account.account_id: p for p in bootstrap_plan.run_all(path)}


def test_each_stack_reaches_only_its_own_state(backend_plans):
    state = "arn:aws:s3:::acme-pulumi-state/.pulumi"
    plan = backend_plans[ESTATE["ml-dev"].account_id]
    preview = permissions(plan, f"{PREFIX}-preview-ml-dev")
    deploy = permissions(plan, f"{PREFIX}-deploy-ml-dev")
    own = [
        "stacks/configtrail/ml-dev.json",
        "stacks/configtrail/ml-dev.json.bak",
        "locks/organization/configtrail/ml-dev/1.json",
        "history/configtrail/ml-dev/ml-dev-1.history.json",
    ]
    for path in own:
        assert allowed(preview, "s3:GetObject", f"{state}/{path}"), path
        assert not allowed(preview, "s3:PutObject", f"{state}/{path}"), path
        assert allowed(deploy, "s3:PutObject", f"{state}/{path}"), path
    for other in ("ml-prod", "log-archive", "ml"):
        arn = f"{state}/stacks/configtrail/{other}.json"
        assert not allowed(preview, "s3:GetObject", arn) and not allowed(
            deploy, "s3:PutObject", arn
        )
    assert allowed(deploy, "s3:PutObject", f"{state}/meta.yaml"), "first login writes it"
    assert not allowed(preview, "s3:PutObject", f"{state}/meta.yaml")


def test_each_stack_decrypts_only_its_own_secrets(backend_plans):
    account = ESTATE["ml-dev"].account_id
    plan = backend_plans[account]
    key = f"arn:aws:kms:us-east-1:{account}:key/k"
    alias = {"kms:ResourceAliases": "alias/configtrail-pulumi-secrets"}
    preview = permissions(plan, f"{PREFIX}-preview-ml-dev")
    deploy = permissions(plan, f"{PREFIX}-deploy-ml-dev")
    assert allowed(preview, "kms:Decrypt", key, {**alias, "kms:EncryptionContext:stack": "ml-dev"})
    assert not allowed(
        preview, "kms:Decrypt", key, {**alias, "kms:EncryptionContext:stack": "ml-prod"}
    )
    assert not allowed(
        preview, "kms:Encrypt", key, {**alias, "kms:EncryptionContext:stack": "ml-dev"}
    )
    assert allowed(deploy, "kms:Encrypt", key, {**alias, "kms:EncryptionContext:stack": "ml-dev"})
    assert plan.outputs["stacks"]["ml-dev"]["secretsProvider"] == (
        "awskms://alias/configtrail-pulumi-secrets?region=us-east-1&context_stack=ml-dev"
    )
    [key_resource] = plan.by_type("aws:kms/key:Key")
    assert key_resource.inputs["enableKeyRotation"] and key_resource.protect


def test_pulumi_cloud_needs_no_secrets_key(plans):
    for plan in plans.values():
        assert plan.by_type("aws:kms/key:Key") == []
        assert all("secretsProvider" not in s for s in plan.outputs["stacks"].values())


# --- the project files and the command ----------------------------------------------------------


def test_the_project_runs_the_importable_program_in_the_repository_venv():
    project = yaml.safe_load((program.PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == program.PROJECT
    assert project["runtime"]["options"]["virtualenv"] == "../.venv"
    entry = (program.PROJECT_DIR / "__main__.py").read_text()
    code = [line for line in entry.splitlines() if line and not line.startswith(('"', " "))]
    assert code[-2:] == ["from configtrail.bootstrap.program import main", "main()"]
    assert not list(program.PROJECT_DIR.glob("Pulumi.*.yaml")), "settings live in pipeline.yaml"


def test_a_bootstrap_stack_name_must_be_an_account_of_the_estate():
    found = bs.load_accounts()
    assert bs.account_of_stack(
        "acme/configtrail-bootstrap/account-333333333333", found
    ).stack_names == ["ml-dev"]
    with pytest.raises(bs.SettingsError) as error:
        bs.account_of_stack("account-999999999999", found)
    [problem] = error.value.problems
    assert "not an account of the estate" in problem and "account-111111111111" in problem


def test_bootstrap_plan_writes_one_export_per_account_and_a_summary(tmp_path):
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
    for account in ESTATE.accounts():
        export = json.loads(
            (tmp_path / "bootstrap" / f"account-{account}" / "stack.json").read_text()
        )
        assert export["version"] == 3
        assert export["deployment"]["resources"][0]["type"] == "pulumi:pulumi:Stack"
    summary = (tmp_path / "summary" / "bootstrap.md").read_text()
    assert (
        "| 444444444444 | ml-prod | `configtrail-github-deploy-ml-prod` | "
        "repo:example-org/configtrail:environment:ml-prod |" in summary
    )
