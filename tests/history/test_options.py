"""Bad options and unusable sources: one line naming the option or source, exit code 2."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from configtrail.commands.history import previous_month


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "AWS::SageMaker::Modle"],
            "--type 'AWS::SageMaker::Modle': not a resource type AWS Config records (botocore's "
            "Config ResourceType list) (did you mean 'AWS::SageMaker::Model'?)",
        ),
        (
            ["--region", "us-east-9"],
            "--region 'us-east-9': not a region where AWS Config is offered (did you mean "
            "'us-east-2'?)",
        ),
        (
            ["--since", "last tuesday"],
            "--since 'last tuesday': not a date or time; use YYYY-MM-DD or an ISO 8601 time",
        ),
        (
            ["--since", "2025-03-02", "--until", "2025-03-01"],
            "--since 2025-03-02 must be before --until 2025-03-01",
        ),
        (
            ["--previous-month", "--since", "2025-01-01"],
            "--previous-month and --since/--until exclude each other",
        ),
        (["--all-types", "--type", "AWS::S3::Bucket"], "--all-types and --type exclude each other"),
        (["--baseline-days", "-1"], "--baseline-days -1: must be between 0 and 366"),
    ],
)
def test_bad_option_values(run_cli, good_dir, args, message):
    code, out, err = run_cli("--source", str(good_dir), *args)
    assert code == 2 and out == ""
    assert " ".join(err.split()) == f"configtrail history: {message}"


def test_source_is_required(run_cli):
    code, _, err = run_cli()
    assert code == 2
    assert "--source is required" in err


def test_athena_options_go_together(run_cli, good_dir):
    code, _, err = run_cli("--athena-workgroup", "wg")
    assert code == 2 and "--athena-workgroup and --athena-database go together" in err
    code, _, err = run_cli(
        "--athena-workgroup", "wg", "--athena-database", "db", "--source", str(good_dir)
    )
    assert code == 2 and "--source and --athena-workgroup exclude each other" in err


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/nonexistent/archive", "/nonexistent/archive: no such directory"),
        ("https://example.com/archive", "only s3:// URIs and local directories are supported"),
        ("s3://", "no bucket name"),
    ],
)
def test_unusable_sources(run_cli, source, message):
    code, out, err = run_cli("--source", source)
    assert code == 2 and out == ""
    assert message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_missing_bucket(run_cli, moto_endpoint):
    code, _, err = run_cli("--source", "s3://no-such-bucket-here", "--endpoint-url", moto_endpoint)
    assert code == 2
    assert "s3://no-such-bucket-here/: cannot list (NoSuchBucket" in err


def test_unknown_format_is_refused_by_the_parser(run_cli, good_dir):
    with pytest.raises(SystemExit) as stop:
        run_cli("--source", str(good_dir), "--format", "pdf")
    assert stop.value.code == 2


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (datetime(2025, 3, 15, 8, tzinfo=UTC), ("2025-02-01", "2025-03-01")),
        (datetime(2025, 1, 1, 0, tzinfo=UTC), ("2024-12-01", "2025-01-01")),
    ],
)
def test_previous_month(now, window):
    since, until = previous_month(now)
    assert (since.date().isoformat(), until.date().isoformat()) == window
    assert since.tzinfo is not None
