"""Regressions on real public configuration items (tests/history/data/real_items.json) in AWS
Config's delivery layout: the state before the window, oversized change notifications, a first
item that is a deletion, epoch capture times, and the monthly audit path on a clean month."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from configtrail.commands.history import previous_month
from configtrail.history import layout
from configtrail.history.scan import Filters, choose_files
from tests.history import real_archive as real

REPO = Path(__file__).resolve().parents[2]


def report(run_cli, root, *args):
    code, out, err = run_cli("--source", str(root), "--all-types", "--format", "json", *args)
    return code, json.loads(out) if out else None, err


def by_id(document) -> dict[str, dict]:
    return {t["resourceId"]: t for t in document["timelines"]}


def test_every_fixture_item_names_its_source():
    sources = real.sources()
    assert len(sources) >= 5
    for source in sources.values():
        assert source["source"].startswith("https://github.com/"), source["name"]
        assert "/blob/" in source["source"] or "/tree/" in source["source"]
        assert source["license"] and source["changes"]
    hosts = {s["source"].split("/")[3] for s in sources.values()}
    assert {"awsdocs", "cloud-custodian", "awslabs"} <= hosts


def test_state_before_the_window_comes_from_the_snapshot_whatever_its_capture_time(
    run_cli, tmp_path
):
    root = real.write(tmp_path, real.bucket_files())
    code, document, err = report(run_cli, root, "--since", "2019-04-01", "--until", "2019-05-01")
    assert code == 0, err
    timeline = by_id(document)["mborch-test-bucket-config-item"]
    # Captured in February, repeated by the snapshot of March 31st: the state before April.
    assert timeline["baseline"]["captureTime"] == "2019-02-12T07:29:16.288000Z"
    assert timeline["baseline"]["source"].endswith(f"{real.SNAPSHOT_ID}.json.gz")
    [entry] = timeline["items"]
    assert entry["note"] == "changed"
    assert [(c["path"], c["before"], c["after"]) for c in entry["changes"]] == [
        ("BucketVersioningConfiguration.status", "Enabled", "Suspended")
    ]
    # Only what is needed: the snapshot and April's file, not February's history.
    assert document["summary"]["filesRead"] == 2


def test_without_a_snapshot_the_baseline_comes_from_earlier_history(run_cli, tmp_path):
    files = {k: v for k, v in real.bucket_files().items() if "ConfigSnapshot" not in k}
    root = real.write(tmp_path, files)
    code, document, _ = report(run_cli, root, "--since", "2019-04-01", "--until", "2019-05-01")
    assert code == 0
    timeline = by_id(document)["mborch-test-bucket-config-item"]
    assert timeline["baseline"]["captureTime"] == "2019-02-12T07:29:16.288000Z"
    assert timeline["items"][0]["note"] == "changed"


def test_baseline_days_bounds_how_far_back_and_zero_means_none(run_cli, tmp_path):
    files = {k: v for k, v in real.bucket_files().items() if "ConfigSnapshot" not in k}
    root = real.write(tmp_path, files)
    for days in ("7", "0"):
        _, document, _ = report(
            run_cli, root, "--since", "2019-04-01", "--until", "2019-05-01", "--baseline-days", days
        )
        timeline = by_id(document)["mborch-test-bucket-config-item"]
        assert timeline["baseline"] is None, days
        assert timeline["items"][0]["note"] == "first-recorded"


def test_choose_files_reads_the_newest_snapshot_and_history_from_its_time_on():
    def key(kind, when, end=None):
        if kind == "snapshot":
            return layout.parse_key(layout.snapshot_key("p", "1" * 12, "us-east-1", when, "id"))
        return layout.parse_key(
            layout.history_key("p", "1" * 12, "us-east-1", "AWS::S3::Bucket", when, end or when)
        )

    day = datetime(2025, 3, 10, tzinfo=UTC)
    old_snapshot = key("snapshot", day - timedelta(days=9))
    new_snapshot = key("snapshot", day - timedelta(days=2))
    older_history = key("history", day - timedelta(days=5))
    newer_history = key("history", day - timedelta(days=1))
    window = key("history", day + timedelta(hours=3))
    later_snapshot = key("snapshot", day + timedelta(days=40))
    files = [old_snapshot, new_snapshot, older_history, newer_history, window, later_snapshot]
    wanted, not_needed = choose_files(files, Filters(since=day, until=day + timedelta(days=30)))
    assert wanted == [new_snapshot, newer_history, window]
    assert not_needed == 3


def test_oversized_change_notification_is_read_not_skipped(run_cli, tmp_path):
    root = real.write(tmp_path, real.instance_files())
    code, document, err = report(run_cli, root)
    assert code == 0, err
    summary = document["summary"]
    assert summary["skippedFiles"] == [] and summary["oversizedNotifications"] == 1
    # The notification carries the same item as the history file: counted once.
    assert summary["duplicates"] == 1
    [entry] = by_id(document)["i-007d374c8912e3e90"]["items"]
    assert entry["captureTime"] == "2017-01-09T22:50:14.328000Z"


def test_an_item_only_in_an_oversized_notification_is_on_the_timeline(run_cli, tmp_path):
    root = real.write(tmp_path, real.instance_files(with_history_copy=False))
    code, document, _ = report(run_cli, root)
    assert code == 0
    [entry] = by_id(document)["i-007d374c8912e3e90"]["items"]
    assert entry["source"].endswith("_20170109T225014Z_0.json.gz")
    assert "/OversizedChangeNotification/AWS::EC2::Instance/i-007d374c8912e3e90/" in entry["source"]


def test_aws_documented_oversized_location_parses():
    location = real.sources()["aws-docs-instance-notification"]["oversizedLocationExample"]
    file = layout.parse_key(location.split("/", 1)[1])
    assert (file.kind, file.resource_type, file.account, file.region) == (
        layout.OVERSIZED,
        "AWS::EC2::Instance",
        "123456789012",
        "us-west-2",
    )
    assert file.start == datetime(2016, 10, 6, 16, 46, 16, tzinfo=UTC)


def test_a_broken_oversized_notification_is_a_bad_file(run_cli, tmp_path):
    files = real.instance_files(with_history_copy=False)
    [key] = files
    files[key] = b"\x1f\x8bnot gzip"
    root = real.write(tmp_path, files)
    code, document, _ = report(run_cli, root)
    assert code == 1
    [problem] = document["summary"]["skippedFiles"]
    assert problem["file"].endswith(key) and problem["reason"].startswith("corrupt gzip")


def test_first_item_that_is_a_deletion_reads_as_one(run_cli, tmp_path):
    root = real.write(tmp_path, real.deleted_key_files())
    code, document, _ = report(run_cli, root)
    assert code == 0
    [entry] = by_id(document)["test"]["items"]
    assert (entry["status"], entry["note"]) == ("ResourceDeleted", "gone")


def test_epoch_capture_times_and_json_text_of_api_exports(run_cli, tmp_path):
    root = real.write(tmp_path, real.api_export_files())
    code, document, err = report(run_cli, root)
    assert code == 0, err
    assert document["summary"]["skippedItems"] == []
    group = by_id(document)["sg-a38ed1de"]
    # Epoch seconds, placed in time order (the export lists newest first).
    assert [i["captureTime"] for i in group["items"]] == [
        "2016-12-11T06:04:02.376000Z",
        "2016-12-11T06:04:03.800000Z",
    ]
    assert [i["note"] for i in group["items"]] == ["first-recorded", "unchanged"]
    role = by_id(document)["AROAIY7FPU7KRV7IZBNPC"]
    assert role["region"] == "us-west-2"  # awsRegion "global": the delivery folder's region


def test_json_text_configuration_is_diffed_field_by_field(run_cli, tmp_path):
    group = real.items("custodian-security-group")[0]
    configuration = json.loads(group["configuration"])
    configuration["ipPermissions"][0]["ipRanges"] = ["10.0.0.0/8"]
    changed = real.derived(group, datetime(2016, 12, 12, tzinfo=UTC))
    changed["configuration"] = json.dumps(configuration)  # derived: ingress narrowed
    files = real.api_export_files()
    files.update(
        [
            real.history(
                "644160558196",
                "us-east-1",
                "AWS::EC2::SecurityGroup",
                datetime(2016, 12, 11, 23, tzinfo=UTC),
                datetime(2016, 12, 12, 1, tzinfo=UTC),
                [changed],
            )
        ]
    )
    _, document, _ = report(run_cli, real.write(tmp_path, files))
    last = by_id(document)["sg-a38ed1de"]["items"][-1]
    assert [(c["path"], c["before"], c["after"]) for c in last["changes"]] == [
        ("ipPermissions[0].ipRanges[0]", "0.0.0.0/0", "10.0.0.0/8")
    ]


def _monthly_archive(root: Path) -> Path:
    """Last month, built from the real bucket and instance: the bucket captured 40 days before
    the month (history), repeated by the snapshot of the month's eve, changed inside the month;
    the instance's oversized notification inside the month (capture times derived)."""
    since, _ = previous_month(datetime.now(UTC))
    bucket = real.items("rdk-example-ci")[0]
    early = real.derived(bucket, since - timedelta(days=40))
    changed = real.derived(
        bucket,
        since + timedelta(days=9),
        supplementaryConfiguration__BucketVersioningConfiguration={"status": "Suspended"},
    )
    notification = copy.deepcopy(real.sources()["aws-docs-instance-notification"]["notification"])
    notification["configurationItem"] = real.derived(
        notification["configurationItem"], since + timedelta(days=3)
    )
    account = real.BUCKET_ACCOUNT
    files = dict(
        [
            real.history(
                account,
                "us-east-1",
                "AWS::S3::Bucket",
                since - timedelta(days=40, hours=1),
                since - timedelta(days=40) + timedelta(hours=1),
                [early],
            ),
            real.snapshot(account, "us-east-1", since - timedelta(hours=6), [early]),
            real.history(
                account,
                "us-east-1",
                "AWS::S3::Bucket",
                since + timedelta(days=9) - timedelta(hours=1),
                since + timedelta(days=9) + timedelta(hours=1),
                [changed],
            ),
            real.oversized("123456789012", "us-east-2", notification),
        ]
    )
    files[f"{real.PREFIX}/AWSLogs/{account}/Config/{layout.WRITABILITY_CHECK}"] = b""
    return real.write(root, files)


def test_previous_month_on_a_clean_month_exits_0_with_the_state_before_it(run_cli, tmp_path):
    root = _monthly_archive(tmp_path / "archive")
    code, document, err = report(run_cli, root, "--previous-month")
    assert code == 0, err
    bucket = by_id(document)["mborch-test-bucket-config-item"]
    assert bucket["baseline"] is not None
    assert bucket["items"][0]["note"] == "changed"
    assert document["summary"]["oversizedNotifications"] == 1


@pytest.mark.slow
def test_make_audit_report_exits_0_on_a_clean_month(tmp_path):
    root = _monthly_archive(tmp_path / "archive")
    result = subprocess.run(
        [
            "make",
            "-s",
            "audit-report",
            f"AUDIT_DIR={tmp_path / 'audit'}",
            f"AUDIT_SUMMARY={tmp_path / 'summary.md'}",
            "AUDIT_ARGS=--all-types",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "AUDIT_SOURCE": str(root)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Skipped" not in (tmp_path / "summary.md").read_text()
