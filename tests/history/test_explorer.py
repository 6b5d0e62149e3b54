"""`configtrail history` over the sample archive: from a local directory and from a real S3 API on
loopback (moto's server mode, a stand-in for Amazon S3): timeline order, diffs, filters."""

from __future__ import annotations

import json

import pytest

from tests.history import archive


def timelines(out: str) -> dict[str, dict]:
    return {t["resourceId"]: t for t in json.loads(out)["timelines"]}


@pytest.fixture(params=["directory", pytest.param("s3", marks=pytest.mark.slow)])
def source(request, good_dir):
    """The same archive, as a directory or as a bucket behind the S3 API."""
    if request.param == "directory":
        return [str(good_dir)]
    bucket = request.getfixturevalue("make_bucket")(archive.good_files())
    return [
        f"s3://{bucket}/{archive.PREFIX}",
        "--endpoint-url",
        request.getfixturevalue("moto_endpoint"),
    ]


def test_every_ai_resource_gets_a_timeline_in_capture_order(run_cli, source):
    code, out, err = run_cli("--source", *source, "--format", "json")
    assert code == 0, err
    found = timelines(out)
    # The EC2 instance is outside the ai-systems profile, so the default leaves it out.
    assert set(found) == {"churn-model", "AROAEXAMPLEROLE", "training-data", "gr-abc123"}
    guardrail = found["gr-abc123"]["items"]
    # Delivered newest first inside one file; the timeline is in capture order.
    assert [i["captureTime"] for i in guardrail] == ["2025-03-03T08:00:00Z", "2025-03-03T15:00:00Z"]
    model = found["churn-model"]["items"]
    assert [(i["status"], i["note"]) for i in model] == [
        ("ResourceDiscovered", "first-recorded"),
        ("OK", "changed"),
        ("ResourceDeleted", "gone"),
    ]
    summary = json.loads(out)["summary"]
    # The snapshot repeats the model, role and bucket states of day 2.
    assert summary["duplicates"] == 3
    assert summary["filesIgnored"] == 1  # AWS's writability check file
    assert (summary["skippedFiles"], summary["skippedItems"]) == ([], [])


def test_diffs_cover_configuration_tags_supplementary_configuration_and_relationships(
    run_cli, source
):
    _code, out, _ = run_cli("--source", *source, "--format", "json")
    found = timelines(out)
    model_changes = {
        (c["section"], c["path"], c["kind"], json.dumps(c["before"]), json.dumps(c["after"]))
        for c in found["churn-model"]["items"][1]["changes"]
    }
    assert model_changes == {
        ("configuration", "EnableNetworkIsolation", "changed", "false", "true"),
        (
            "configuration",
            "PrimaryContainer.Image",
            "changed",
            '"123.dkr.ecr/churn:1.0"',
            '"123.dkr.ecr/churn:1.1"',
        ),
        ("tags", "owner", "changed", '"ml"', '"ml-platform"'),
        ("tags", "stage", "added", "null", '"prod"'),
    }
    [bucket_change] = found["training-data"]["items"][1]["changes"]
    assert bucket_change["section"] == "supplementaryConfiguration"
    assert bucket_change["path"] == "BucketVersioningConfiguration.status"
    assert (bucket_change["before"], bucket_change["after"]) == ("Off", "Enabled")
    role = found["AROAEXAMPLEROLE"]
    assert role["region"] == "us-east-1"  # awsRegion "global": the recording region
    assert {(c["section"], c["path"], c["kind"]) for c in role["items"][1]["changes"]} == {
        ("configuration", "assumeRolePolicyDocument.Statement[0].Action[1]", "added"),
        (
            "relationships",
            "Is attached to CustomerManagedPolicy AWS::IAM::Policy ml-data-read",
            "added",
        ),
    }


@pytest.mark.slow
def test_directory_and_bucket_give_the_same_timelines(
    run_cli, good_dir, make_bucket, moto_endpoint
):
    _, local, _ = run_cli("--source", str(good_dir), "--format", "json", "--all-types")
    bucket = make_bucket(archive.good_files())
    _, remote, _ = run_cli(
        "--source",
        f"s3://{bucket}",
        "--endpoint-url",
        moto_endpoint,
        "--format",
        "json",
        "--all-types",
    )

    def comparable(out):
        result = timelines(out)
        for timeline in result.values():
            for entry in timeline["items"]:
                entry["source"] = entry["source"].rsplit("/", 1)[-1]
        return result

    assert comparable(local) == comparable(remote)
    assert "i-0abc" in comparable(local)


def test_type_filter(run_cli, source):
    code, out, _ = run_cli(
        "--source",
        *source,
        "--format",
        "json",
        "--type",
        "AWS::S3::Bucket",
        "--type",
        "AWS::EC2::Instance",
    )
    assert code == 0
    assert set(timelines(out)) == {"training-data", "i-0abc"}
    # History files of other types are not even fetched: their key names the type.
    assert json.loads(out)["summary"]["filesRead"] == 4  # 2 bucket, 1 instance, 1 snapshot


def test_resource_id_and_region_filters(run_cli, source):
    _, out, _ = run_cli("--source", *source, "--format", "json", "--resource-id", "churn-model")
    assert set(timelines(out)) == {"churn-model"}
    _, out, _ = run_cli("--source", *source, "--format", "json", "--region", "eu-west-1")
    assert set(timelines(out)) == {"gr-abc123"}
    assert json.loads(out)["summary"]["filesRead"] == 1


def test_window_with_baseline_from_before_it(run_cli, source):
    code, out, _ = run_cli(
        "--source", *source, "--format", "json", "--since", "2025-03-02", "--until", "2025-03-03"
    )
    assert code == 0
    found = timelines(out)
    assert set(found) == {"churn-model", "AROAEXAMPLEROLE", "training-data"}
    model = found["churn-model"]
    # The state before the window comes from day 1; the day-2 change is diffed against it.
    assert model["baseline"]["captureTime"] == "2025-03-01T10:00:00Z"
    assert [i["captureTime"] for i in model["items"]] == ["2025-03-02T09:00:00Z"]
    assert model["items"][0]["note"] == "changed"


def test_window_without_baseline_days(run_cli, source):
    _, out, _ = run_cli(
        "--source",
        *source,
        "--format",
        "json",
        "--since",
        "2025-03-02T00:00:00Z",
        "--until",
        "2025-03-03",
        "--baseline-days",
        "0",
    )
    model = timelines(out)["churn-model"]
    assert model["baseline"] is None
    assert model["items"][0]["note"] == "first-recorded"


def test_nothing_in_the_window(run_cli, source):
    code, out, _ = run_cli("--source", *source, "--format", "json", "--since", "2030-01-01")
    assert code == 0
    assert json.loads(out)["timelines"] == []


def test_an_empty_source_says_so_and_is_unusable(run_cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run_cli("--source", str(empty))
    assert code == 2 and out == ""
    assert "holds no AWS Config deliveries" in err and "key prefix" in err


def test_filters_that_match_nothing_say_so_and_exit_non_zero(run_cli, source):
    code, _, err = run_cli("--source", *source, "--resource-id", "no-such-resource")
    assert code == 1
    assert "no resource matched the filters" in err and "no-such-resource" in err
