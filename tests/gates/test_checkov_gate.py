"""`configtrail checkov` with the real checkov (.venv/checkov): the export is not vacuous (an
insecure plan fails the checks it should), the real environments pass, and the gate's own rules
(reasoned skips, stale acceptances, unmapped types) hold. Plans come from the real program or a
small insecure program, both run through Pulumi's mock runtime (stand-in mocks, no cloud)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pulumi_aws as aws
import pytest

from configtrail import cli, tfplan
from configtrail.gates import checkov
from configtrail.plan import export, runner
from tests.conftest import STACKS

REPO = checkov.REPO_ROOT


def _insecure_program() -> dict:
    """A public bucket with no versioning and no encryption, a recorder never started and a KMS
    key without rotation: every one of them something checkov must report."""
    bucket = aws.s3.Bucket("data", bucket="insecure-training-data")
    aws.s3.BucketPublicAccessBlock(
        "data-public-access-block",
        bucket=bucket.bucket,
        block_public_acls=False,
        block_public_policy=False,
        ignore_public_acls=False,
        restrict_public_buckets=False,
    )
    recorder = aws.cfg.Recorder(
        "recorder",
        name="default",
        role_arn="arn:aws:iam::123456789012:role/config",
        recording_group={"all_supported": True, "include_global_resource_types": True},
    )
    aws.cfg.RecorderStatus("recorder-status", name=recorder.name, is_enabled=False)
    aws.kms.Key("key", description="no rotation", enable_key_rotation=False)
    return {}


@pytest.fixture(scope="module")
def insecure_plan(tmp_path_factory) -> Path:
    resources, outputs = runner.register(
        _insecure_program,
        project="insecure",
        stack="test",
        config={"aws:region": "us-east-1"},
        home_region="us-east-1",
        preview=False,
    )
    plan = runner.Plan(
        env="insecure", preview=False, stack=None, resources=resources, outputs=outputs
    )
    path = tmp_path_factory.mktemp("insecure") / "insecure" / "tfplan.json"
    return tfplan.write(export.stack_export(plan), path)


def _failed(result: checkov.Result) -> dict[str, set[str]]:
    failed: dict[str, set[str]] = {}
    for finding in result.open:
        failed.setdefault(finding.check_id, set()).add(finding.resource)
    return failed


def test_an_insecure_plan_fails_the_checks_it_should(insecure_plan, checkov_bin):
    result = checkov.run([insecure_plan], [], [], checkov=checkov_bin, accepted=[])
    failed = _failed(result)
    expected = {
        "CKV2_AWS_6": "aws_s3_bucket.data",  # public access block connected but not blocking
        "CKV_AWS_21": "aws_s3_bucket.data",  # no versioning
        "CKV_AWS_145": "aws_s3_bucket.data",  # no KMS default encryption
        "CKV2_AWS_45": "aws_config_configuration_recorder_status.recorder-status",  # not started
        "CKV_AWS_7": "aws_kms_key.key",  # no rotation
        "CKV_AWS_53": "aws_s3_bucket_public_access_block.data-public-access-block",
        "CKV_AWS_56": "aws_s3_bucket_public_access_block.data-public-access-block",
    }
    for check, resource in expected.items():
        assert resource in failed.get(check, set()), f"{check} did not fail for {resource}"


def test_connection_checks_pass_on_a_complete_stack_because_the_references_link(
    plan_files, checkov_bin, tmp_path
):
    # Without `quiet`, so that checkov reports passed checks too; run outside the repository,
    # whose .checkov.yaml checkov would otherwise merge in from the working directory.
    (tmp_path / "config.yaml").write_text("skip-download: true\n")
    done = checkov.subprocess.run(
        [
            str(checkov_bin),
            "--config-file",
            str(tmp_path / "config.yaml"),
            "-o",
            "json",
            "--framework",
            "terraform_plan",
            "-f",
            str(plan_files["variant"]),
        ],
        capture_output=True,
        text=True,
        env={**checkov.os.environ, **checkov.OFFLINE_ENV},
        cwd=tmp_path,
    )
    passed = {
        (p["check_id"], p["resource"]) for p in json.loads(done.stdout)["results"]["passed_checks"]
    }
    # Each passes only if checkov connected the bucket to its separate resource.
    for check in ("CKV2_AWS_6", "CKV_AWS_21", "CKV_AWS_145", "CKV_AWS_144", "CKV2_AWS_61"):
        assert (check, "aws_s3_bucket.archive") in passed, check
    assert (
        "CKV2_AWS_45",
        "aws_config_configuration_recorder_status.recording-eu-west-1-status",
    ) in passed


def _scratch_repo(tmp_path: Path, plan_files: dict[str, Path]) -> Path:
    for env in STACKS:
        target = tmp_path / "build" / env / "tfplan.json"
        target.parent.mkdir(parents=True)
        shutil.copy(plan_files[env], target)
    shutil.copy(REPO / ".checkov.yaml", tmp_path / ".checkov.yaml")
    return tmp_path


def _cli(tmp_path: Path, *extra: str) -> int:
    return cli.main(
        [
            "checkov",
            "--all",
            "--only",
            "terraform_plan",
            "--build",
            str(tmp_path / "build"),
            "--config",
            str(tmp_path / ".checkov.yaml"),
            *extra,
        ]
    )


def test_the_real_environments_pass_with_the_repositorys_skips_and_acceptances(
    tmp_path, plan_files, checkov_bin, capsys, monkeypatch
):
    root = _scratch_repo(tmp_path, plan_files)
    monkeypatch.setattr(checkov, "REPO_ROOT", root)
    code = _cli(root, "--accepted", str(REPO / ".checkov-accepted.yaml"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 open" in out


def test_an_acceptance_that_matches_nothing_fails_the_gate(
    tmp_path, plan_files, checkov_bin, capsys, monkeypatch
):
    root = _scratch_repo(tmp_path, plan_files)
    accepted = (REPO / ".checkov-accepted.yaml").read_text() + (
        "- check: CKV_AWS_7\n  where: [build/log-archive/tfplan.json::aws_kms_key.*]\n"
        "  reason: keys rotate already so this never matches anything\n"
    )
    (root / "accepted.yaml").write_text(accepted)
    monkeypatch.setattr(checkov, "REPO_ROOT", root)
    code = _cli(root, "--accepted", str(root / "accepted.yaml"))
    out = capsys.readouterr().out
    assert code == 1
    assert "STALE CKV_AWS_7" in out


def test_a_skip_without_a_reason_is_refused(tmp_path, plan_files, capsys):
    root = _scratch_repo(tmp_path, plan_files)
    (root / ".checkov.yaml").write_text("skip-check:\n  - CKV_AWS_18\n")
    assert _cli(root) == 2
    assert "skip-check CKV_AWS_18: give the reason" in capsys.readouterr().err


def test_a_missing_plan_is_bad_input_not_a_pass(tmp_path, capsys):
    (tmp_path / ".checkov.yaml").write_text("quiet: true\n")
    assert _cli(tmp_path) == 2
    assert "no Terraform plan; run `configtrail plan --all`" in capsys.readouterr().err


def test_an_unmapped_type_fails_the_gate(tmp_path, stack_exports, plan_files, capsys, monkeypatch):
    root = _scratch_repo(tmp_path, plan_files)
    document = json.loads(json.dumps(stack_exports["ml-dev"]))
    document["deployment"]["resources"].append(
        {
            "urn": "urn:pulumi:ml-dev::configtrail::aws:ec2/vpc:Vpc::net",
            "custom": True,
            "type": "aws:ec2/vpc:Vpc",
            "id": "vpc-1",
            "inputs": {},
            "outputs": {},
        }
    )
    tfplan.write(document, root / "build" / "ml-dev" / "tfplan.json")
    monkeypatch.setattr(checkov, "REPO_ROOT", root)
    code = _cli(root, "--accepted", str(REPO / ".checkov-accepted.yaml"))
    assert code == 1
    assert "UNMAPPED" in capsys.readouterr().out
