"""The audit role of the bootstrap project (offline plan: the real program under the mock runtime,
see configtrail/plan/mocks.py): it trusts exactly the GitHub environment `audit` of the monthly
audit-report workflow, and reads the recorded history of the audited archive — as the recording
stack's own plan names it — and nothing else.

The checks are functions returning problems, so the mutation tests can show that a widened
subject or a write action is caught by the very checks the plan passes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from configtrail.bootstrap import audit, documents
from configtrail.bootstrap import plan as bootstrap_plan
from tests.bootstrap.helpers import (
    allowed,
    as_list,
    denied,
    permissions,
    roles,
    settings_file,
    trust,
)
from tests.conftest import ESTATE, STACKS

AUDITED = "log-archive"
ACCOUNT_ID = ESTATE[AUDITED].account_id
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
ROLE = "configtrail-github-audit"
SUBJECT = "repo:example-org/configtrail:environment:audit"
WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "audit-report.yml"
READ_ONLY = {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
# What a report role must never do, to the archive or anything else.
WRITES = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutReplicationConfiguration",
    "s3:DeleteBucket",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "sts:AssumeRole",
    "config:DeleteConfigurationRecorder",
    "config:StopConfigurationRecorder",
    "config:DeleteDeliveryChannel",
]


def account_plan(account: str = ACCOUNT_ID, settings=None):
    found = bootstrap_plan.run_all(settings) if settings else bootstrap_plan.run_all()
    [plan] = [p for p in found if p.account.account_id == account]
    return plan


@pytest.fixture(scope="module")
def plan():
    return account_plan()


# --- the checks ----------------------------------------------------------------------------------


def trust_problems(statement: dict, subject: str) -> list[str]:
    """What is wrong with a trust statement that must admit GitHub's tokens for `subject` only."""
    problems = []
    if statement.get("Effect") != "Allow" or statement.get("Principal") != {
        "Federated": PROVIDER_ARN
    }:
        problems.append(f"principal: {statement.get('Principal')}")
    if statement.get("Action") != "sts:AssumeRoleWithWebIdentity":
        problems.append(f"action: {statement.get('Action')}")
    expected = {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }
    }
    if statement.get("Condition") != expected:
        problems.append(f"condition: {statement.get('Condition')}")
    for operator in statement.get("Condition", {}).values():
        for key, values in operator.items():
            if key.endswith(":sub") and any("*" in v or "?" in v for v in as_list(values)):
                problems.append(f"wildcard subject: {values}")
    return problems


def read_only_problems(statements: list[dict]) -> list[str]:
    """Anything beyond listing, getting and decrypting history, or a missing guard-rail Deny."""
    problems = []
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        if "Action" not in statement:
            problems.append(f"{statement.get('Sid')}: an Allow without Action (NotAction)")
            continue
        for action in as_list(statement["Action"]):
            if action not in READ_ONLY:
                problems.append(f"{statement.get('Sid')}: allows {action}")
    problems += [
        f"{action} is not denied" for action in WRITES if not denied(statements, action, "*")
    ]
    return problems


def archive_of(plan_of, stack: str = AUDITED) -> dict[str, str]:
    """The archive as the recording stacks' plans name it: the bucket and key prefix a member's
    delivery channel writes to (the archive's own channel for a standalone stack), and the alias
    of the key that encrypts the archive (None for SSE-S3)."""
    holder = plan_of(stack, False)
    writers = [holder] + [plan_of(m.name, False) for m in ESTATE.members_of(stack)]
    channels = [c for p in writers for c in p.by_type("aws:cfg/deliveryChannel:DeliveryChannel")]
    [bucket] = {c.inputs["s3BucketName"] for c in channels}
    [prefix] = {c.inputs["s3KeyPrefix"] for c in channels}
    [archive] = [r for r in holder.by_type("aws:s3/bucket:Bucket") if r.inputs["bucket"] == bucket]
    [encryption] = [
        r
        for r in holder.by_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r.inputs["bucket"] == bucket
    ]
    [rule] = encryption.inputs["rules"]
    key_arn = rule["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId")
    aliases = [
        r.inputs["name"]
        for r in holder.by_type("aws:kms/alias:Alias")
        if key_arn is not None and key_arn.endswith(f"key/{r.inputs['targetKeyId']}")
    ]
    return {
        "bucket": bucket,
        "region": archive.inputs["region"],
        "prefix": prefix,
        "alias": aliases[0] if aliases else None,
    }


# --- trust ---------------------------------------------------------------------------------------


def test_the_audit_role_lives_in_the_audited_archives_account_only(plan):
    role = roles(plan)[ROLE]
    assert trust_problems(trust(role), SUBJECT) == []
    assert role.inputs["maxSessionDuration"] == plan.account.settings.session_seconds
    assert role.protect and role.retain_on_delete
    assert plan.outputs["auditRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}"
    for other in bootstrap_plan.run_all():
        if other.account.account_id != ACCOUNT_ID:
            assert ROLE not in roles(other) and "auditRoleArn" not in other.outputs


@pytest.mark.parametrize(
    "widen",
    [
        pytest.param(lambda repo, env: f"repo:{repo}:*", id="repository-wildcard"),
        pytest.param(lambda repo, env: f"repo:{repo}:environment:*", id="any-environment"),
        pytest.param(lambda repo, env: f"repo:{repo}:ref:refs/heads/main", id="another-subject"),
    ],
)
def test_a_widened_subject_fails_the_trust_check(monkeypatch, widen):
    monkeypatch.setattr(documents, "environment_subject", widen)
    assert trust_problems(trust(roles(account_plan())[ROLE]), SUBJECT) != []


def test_a_like_condition_fails_the_trust_check(monkeypatch):
    real = documents.github_trust

    def like(arn, subjects):
        document = real(arn, subjects)
        condition = document["Statement"][0]["Condition"]
        condition["StringLike"] = condition.pop("StringEquals")
        return document

    monkeypatch.setattr(documents, "github_trust", like)
    assert trust_problems(trust(roles(account_plan())[ROLE]), SUBJECT) != []


def test_the_workflow_runs_in_the_environment_the_role_trusts():
    """audit-report.yml's job environment makes the OIDC subject exact."""
    document = yaml.safe_load(WORKFLOW.read_text())
    [job] = [j for j in document["jobs"].values() if "environment" in j]
    assert f"repo:example-org/configtrail:environment:{job['environment']}" == SUBJECT
    [credentials] = [
        s
        for s in job["steps"]
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AUDIT_ROLE_ARN }}"


# --- permissions ---------------------------------------------------------------------------------


def test_the_audit_role_may_only_read_and_every_write_is_denied(plan):
    assert read_only_problems(permissions(plan, ROLE)) == []


@pytest.mark.parametrize("action", ["s3:PutObject", "s3:DeleteObject", "s3:*", "kms:*"])
def test_a_write_added_to_the_policy_fails_the_read_only_check(plan, action):
    statements = json.loads(json.dumps(permissions(plan, ROLE)))
    [read] = [s for s in statements if s["Sid"] == "ReadHistoryLogArchive"]
    read["Action"] = [read["Action"], action]
    assert read_only_problems(statements) != []


def test_dropping_the_deny_fails_the_read_only_check(plan):
    statements = [s for s in permissions(plan, ROLE) if s["Effect"] == "Allow"]
    assert read_only_problems(statements) != []


def test_the_audit_role_reads_the_archive_as_the_recording_stacks_name_it(plan, plan_of):
    statements = permissions(plan, ROLE)
    archive = archive_of(plan_of)
    bucket = f"arn:aws:s3:::{archive['bucket']}"
    prefix = archive["prefix"]
    assert allowed(statements, "s3:ListBucket", bucket, {"s3:prefix": prefix})
    [listing] = [s for s in statements if s.get("Action") == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    member = ESTATE["ml-prod"].account_id
    delivery = f"{prefix}/AWSLogs/{member}/Config/us-west-2/2025/3/1/ConfigHistory/x.json.gz"
    assert allowed(statements, "s3:GetObject", f"{bucket}/{delivery}")
    assert not allowed(statements, "s3:GetObject", f"{bucket}/{prefix}/not-a-delivery.json")
    assert not allowed(statements, "s3:GetObject", f"{bucket}/elsewhere/AWSLogs/x")
    assert plan.outputs["auditArchive"] == {
        "stack": AUDITED,
        "source": f"s3://{archive['bucket']}/{prefix}",
        "region": archive["region"],
    }


def test_the_archive_key_is_decrypted_by_its_alias_through_s3_only(plan, plan_of):
    archive = archive_of(plan_of)
    assert archive["alias"] == f"alias/configtrail-{AUDITED}-us-east-1"
    [decrypt] = [s for s in permissions(plan, ROLE) if s.get("Action") == "kms:Decrypt"]
    assert decrypt["Effect"] == "Allow"
    assert decrypt["Resource"] == f"arn:aws:kms:{archive['region']}:{ACCOUNT_ID}:key/*"
    assert decrypt["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": archive["alias"]},
        "StringEquals": {"kms:ViaService": f"s3.{archive['region']}.amazonaws.com"},
    }


def test_nothing_but_the_audited_archive_is_reachable(plan, plan_of):
    """Every other bucket of every stack (the trial's archive, the vault, access logs, Athena
    results) is out of reach, for listing and for reading."""
    statements = permissions(plan, ROLE)
    audited = archive_of(plan_of)["bucket"]
    others = [
        r.inputs["bucket"]
        for stack in STACKS
        for r in plan_of(stack, False).by_type("aws:s3/bucket:Bucket")
        if r.inputs["bucket"] != audited
    ]
    assert any("-vault-" in name for name in others) and any("-logs-" in name for name in others)
    for name in others:
        assert not allowed(
            statements, "s3:ListBucket", f"arn:aws:s3:::{name}", {"s3:prefix": "configtrail"}
        ), name
        assert not allowed(
            statements, "s3:GetObject", f"arn:aws:s3:::{name}/configtrail/AWSLogs/x"
        ), name


# --- settings ------------------------------------------------------------------------------------


def test_an_sse_s3_archive_gets_no_key_permission_and_its_account_gets_the_role(tmp_path):
    trial = ESTATE["trial"].account_id
    plan = account_plan(trial, settings_file(tmp_path, auditStack="trial"))
    statements = permissions(plan, ROLE)
    assert not any(s.get("Action") == "kms:Decrypt" for s in statements)
    assert not allowed(statements, "kms:Decrypt", f"arn:aws:kms:us-east-1:{trial}:key/k")
    assert read_only_problems(statements) == []
    assert ROLE not in roles(account_plan(ACCOUNT_ID, settings_file(tmp_path, auditStack="trial")))


def test_without_the_audit_role_there_is_no_role_and_no_output(tmp_path):
    plan = account_plan(ACCOUNT_ID, settings_file(tmp_path, auditRole=False, auditStack=None))
    assert ROLE not in roles(plan)
    assert "auditRoleArn" not in plan.outputs and "auditArchive" not in plan.outputs


def test_archive_names_follow_the_stack_file():
    """keyPrefix, home region and encryption come from environments/Pulumi.<stack>.yaml."""
    [archive] = audit.archives([AUDITED])
    settings = ESTATE[AUDITED].settings
    assert archive == audit.Archive(
        env=AUDITED, region=settings.home_region, key_prefix=settings.key_prefix, kms=True
    )
    assert archive.bucket(ACCOUNT_ID) == f"configtrail-{AUDITED}-archive-{ACCOUNT_ID}-us-east-1"
    statements = documents.audit_permissions("aws", ACCOUNT_ID, [archive])
    [read] = [s for s in statements["Statement"] if s["Sid"] == "ReadHistoryLogArchive"]
    assert read["Resource"].endswith(f"-us-east-1/{settings.key_prefix}/AWSLogs/*")


# --- the README's table of variables ----------------------------------------------------------


def readme_variables() -> dict[str, str]:
    """Variable -> bootstrap output path, from the table in the README's "Pipeline" section."""
    readme = (WORKFLOW.parents[2] / "README.md").read_text()
    table = readme.split("| variable | where | bootstrap output |", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[1:]]
    return {
        row[0].strip().strip("`"): row[2].strip().split("`")[1] for row in rows if len(row) == 3
    }


def test_the_readme_maps_every_role_and_audit_variable_to_a_real_bootstrap_output():
    read = set()
    for path in (WORKFLOW.parent).glob("*.yml"):
        read |= set(re.findall(r"vars\.([A-Z_]+)", path.read_text()))
    needed = {v for v in read if v.endswith("_ROLE_ARN") or v.startswith("AUDIT_")}
    variables = readme_variables()
    assert needed and needed <= set(variables), needed - set(variables)
    plans = {p.account.account_id: p for p in bootstrap_plan.run_all()}
    for variable, output in variables.items():
        for stack in STACKS if "<stack>" in output else ("",):
            plan = plans[ESTATE[stack].account_id] if stack else plans[ACCOUNT_ID]
            value = plan.outputs
            for part in output.replace("<stack>", stack).split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if "archiveAdmin" in output and value is None:
                assert (
                    not ESTATE[stack].settings.archive_protect
                    or not ESTATE[stack].settings.has_archive
                )
                continue
            assert isinstance(value, str) and value, (variable, output, stack)
