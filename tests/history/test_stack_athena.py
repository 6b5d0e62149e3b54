"""`configtrail:athena: true` adds the Glue table, Athena workgroup and results bucket; checked on
the offline plan (the real program under Pulumi's mock runtime, whose AWS-like mocks are
stand-ins for the provider: they show what the program registers, not what AWS would accept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from configtrail.history.athena import DEFAULT_TABLE
from configtrail.plan import runner
from configtrail.settings import Settings

ACCOUNT = "123456789012"
TAGS = {"owner": "ml", "environment": "t", "ai-system": "x", "data-classification": "internal"}


def stack_dir(tmp_path: Path, env: str, **config) -> Path:
    document = {
        "config": {
            "aws:region": "us-east-1",
            "configtrail:accountId": ACCOUNT,
            "configtrail:stackKind": "standalone",
            "configtrail:tags": TAGS,
            **{f"configtrail:{k}": v for k, v in config.items()},
        }
    }
    (tmp_path / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def one(plan, type_token):
    [resource] = plan.by_type(type_token)
    return resource


@pytest.fixture(scope="module")
def kms_plan(tmp_path_factory):
    directory = stack_dir(
        tmp_path_factory.mktemp("envs"),
        "audit",
        athena=True,
        archiveEncryption="kms",
        regions=["us-east-1", "eu-west-1"],
        keyPrefix="org/config",
    )
    return runner.run("audit", preview=False, directory=directory)


def test_off_by_default(tmp_path):
    plan = runner.run("plain", directory=stack_dir(tmp_path, "plain"))
    assert not [r for r in plan.resources if r.type.startswith(("aws:glue", "aws:athena"))]
    assert "athenaWorkgroup" not in plan.outputs
    assert Settings.model_fields["athena"].default is False


def test_table_projects_partitions_over_the_delivery_layout(kms_plan):
    table = one(kms_plan, "aws:glue/catalogTable:CatalogTable")
    database = one(kms_plan, "aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "configtrail_audit_history"
    assert table.inputs["name"] == DEFAULT_TABLE
    assert table.inputs["databaseName"] == "configtrail_audit_history"
    assert table.inputs["tableType"] == "EXTERNAL_TABLE"
    root = f"s3://configtrail-audit-archive-{ACCOUNT}-us-east-1/org/config/AWSLogs/"
    params = table.inputs["parameters"]
    assert params["storage.location.template"] == (
        root + "${account}/Config/${region}/${dt}/${kind}/"
    )
    assert params["projection.enabled"] == "true"
    # a standalone archive holds its own account's deliveries
    assert params["projection.account.values"] == ACCOUNT
    assert params["projection.region.values"] == "us-east-1,eu-west-1"
    # AWS Config's day folders are not zero-padded: 2024/9/7.
    assert (params["projection.dt.type"], params["projection.dt.format"]) == ("date", "yyyy/M/d")
    assert params["projection.dt.range"].endswith(",NOW")
    assert params["projection.kind.values"] == "ConfigHistory,ConfigSnapshot"
    assert [k["name"] for k in table.inputs["partitionKeys"]] == ["account", "region", "dt", "kind"]
    descriptor = table.inputs["storageDescriptor"]
    assert descriptor["location"] == root
    assert descriptor["serDeInfo"]["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    items = next(c for c in descriptor["columns"] if c["name"] == "configurationitems")["type"]
    for field in (
        "configurationitemcapturetime:string",
        "configurationstateid:bigint",
        "resourcetype:string",
        "configuration:string",
        "relationships:string",
    ):
        assert field in items


def test_projection_lists_every_delivering_account():
    from configtrail.stack.athena import delivery_root, projection_parameters

    root = delivery_root("archive", "configtrail")
    assert root == "s3://archive/configtrail/AWSLogs/"
    params = projection_parameters(["333333333333", "444444444444"], ["us-east-1"], root)
    assert params["projection.account.values"] == "333333333333,444444444444"
    assert params["storage.location.template"] == (
        "s3://archive/configtrail/AWSLogs/${account}/Config/${region}/${dt}/${kind}/"
    )


def test_workgroup_enforces_encrypted_results_in_the_results_bucket(kms_plan):
    workgroup = one(kms_plan, "aws:athena/workgroup:Workgroup")
    config = workgroup.inputs["configuration"]
    assert workgroup.inputs["name"] == "configtrail-audit-history"
    assert config["enforceWorkgroupConfiguration"] is True
    assert config["bytesScannedCutoffPerQuery"] > 0
    results = config["resultConfiguration"]
    bucket = f"configtrail-audit-athena-{ACCOUNT}-us-east-1"
    assert results["outputLocation"] == f"s3://{bucket}/"
    assert results["expectedBucketOwner"] == ACCOUNT
    key = one(kms_plan, "aws:kms/key:Key")
    assert results["encryptionConfiguration"] == {
        "encryptionOption": "SSE_KMS",
        "kmsKeyArn": key.outputs["arn"],
    }
    assert kms_plan.outputs["athenaWorkgroup"] == "configtrail-audit-history"
    assert kms_plan.outputs["athenaResultsBucket"] == bucket


def test_results_bucket_is_hardened_and_expires_results(kms_plan):
    bucket = f"configtrail-audit-athena-{ACCOUNT}-us-east-1"
    on_results = [r for r in kms_plan.resources if r.inputs.get("bucket") == bucket]
    by_type = {r.type: r for r in on_results}
    assert (
        by_type["aws:s3/bucketVersioning:BucketVersioning"].inputs["versioningConfiguration"][
            "status"
        ]
        == "Enabled"
    )
    block = by_type["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"].inputs
    assert all(
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    [rule] = by_type[
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert (
        by_type["aws:s3/bucketOwnershipControls:BucketOwnershipControls"].inputs["rule"][
            "objectOwnership"
        ]
        == "BucketOwnerEnforced"
    )
    policy = json.loads(by_type["aws:s3/bucketPolicy:BucketPolicy"].inputs["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [lifecycle] = by_type[
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ].inputs["rules"]
    # Results are audit evidence: kept as long as Config keeps history (retentionDays).
    assert lifecycle["expiration"]["days"] == kms_plan.settings.retention_days == 2557
    assert lifecycle["noncurrentVersionExpiration"]["noncurrentDays"] == 2557
    bucket_resource = by_type["aws:s3/bucket:Bucket"]
    assert bucket_resource.protect and bucket_resource.retain_on_delete


def test_sse_s3_archive_gives_sse_s3_results(tmp_path):
    plan = runner.run("cheap", directory=stack_dir(tmp_path, "cheap", athena=True))
    config = one(plan, "aws:athena/workgroup:Workgroup").inputs["configuration"]
    assert config["resultConfiguration"]["encryptionConfiguration"] == {
        "encryptionOption": "SSE_S3"
    }


def test_preview_registers_the_same_resources(tmp_path):
    directory = stack_dir(tmp_path, "prev", athena=True)
    types = sorted(r.type for r in runner.run("prev", preview=True, directory=directory).resources)
    assert types == sorted(r.type for r in runner.run("prev", directory=directory).resources)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["trial", "log-archive"])
def test_policy_pack_accepts_the_athena_resources(tmp_path, env):
    """The repository's environments with athena switched on pass the real policy pack."""
    import subprocess
    import sys

    document = yaml.safe_load((runner.ENVIRONMENTS / f"Pulumi.{env}.yaml").read_text())
    document["config"]["configtrail:athena"] = True
    (tmp_path / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(document))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "configtrail.cli",
            "policy",
            "--env",
            env,
            "--environments-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "build"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=runner.REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mandatory" in result.stdout
    stack = json.loads((tmp_path / "build" / env / "stack.json").read_text())
    types = {r["type"] for r in stack["deployment"]["resources"]}
    assert {"aws:athena/workgroup:Workgroup", "aws:glue/catalogTable:CatalogTable"} <= types


def test_an_organization_archive_projects_every_delivering_account(plan_of):
    """The log-archive stack's table covers each member account's prefix of the archive."""
    from tests.conftest import ESTATE

    plan = plan_of("log-archive", False)
    params = one(plan, "aws:glue/catalogTable:CatalogTable").inputs["parameters"]
    assert params["projection.account.values"] == ",".join(
        ESTATE.delivering_accounts("log-archive")
    )
    recorded = sorted({r for m in ESTATE.members_of("log-archive") for r in m.regions})
    assert params["projection.region.values"] == ",".join(recorded)
