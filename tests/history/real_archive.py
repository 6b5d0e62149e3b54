"""Real public configuration items (tests/history/data/real_items.json, each with its source)
arranged the way AWS Config delivers them: history files, a daily snapshot and an oversized
change notification, under AWSLogs/<account>/Config/<region>/.

Where a regression needs a state the public items do not have (a later change, a deletion), the
item is *derived* from a real one: a copy with the named fields changed, said so where it is made.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from configtrail.history import layout

DATA = Path(__file__).parent / "data" / "real_items.json"
PREFIX = "org"
SNAPSHOT_ID = "16da64e4-cb65-4846-b061-e6c3ba43cb96"  # from AWS's snapshot notification example


def sources() -> dict[str, dict]:
    return {source["name"]: source for source in json.loads(DATA.read_text())["sources"]}


def items(name: str) -> list[dict]:
    return copy.deepcopy(sources()[name]["items"])


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def derived(item: dict, captured: datetime, **changes) -> dict:
    """A copy of a real item captured later, with `changes` applied (dotted paths)."""
    result = copy.deepcopy(item)
    result["configurationItemCaptureTime"] = iso(captured)
    result["configurationStateId"] = int(captured.timestamp() * 1000)
    for path, value in changes.items():
        target = result
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return result


def _document(entries: list[dict], snapshot: bool = False) -> bytes:
    body: dict = {"fileVersion": "1.0"}
    if snapshot:
        body["configSnapshotId"] = SNAPSHOT_ID
    body["configurationItems"] = entries
    return gzip.compress(json.dumps(body).encode())


def history(account, region, resource_type, start, end, entries, sequence=1):
    key = layout.history_key(PREFIX, account, region, resource_type, start, end, sequence)
    return key, _document(entries)


def snapshot(account, region, when, entries):
    return layout.snapshot_key(PREFIX, account, region, when, SNAPSHOT_ID), _document(
        entries, snapshot=True
    )


def oversized(account, region, notification: dict):
    item = notification["configurationItem"]
    key = layout.oversized_key(
        PREFIX,
        account,
        region,
        item["resourceType"],
        item["resourceId"],
        at(item["configurationItemCaptureTime"]),
    )
    return key, gzip.compress(json.dumps(notification).encode())


# The rdk S3 bucket was captured on 2019-02-12; April 2019 is the audited window.
BUCKET_ACCOUNT = "934654633380"
WINDOW = (datetime(2019, 4, 1, tzinfo=UTC), datetime(2019, 5, 1, tzinfo=UTC))
SUSPENDED = datetime(2019, 4, 10, 9, 30, tzinfo=UTC)


def bucket_files() -> dict[str, bytes]:
    """The bucket's first item in February's history, repeated (original capture time) by the
    snapshot of 2019-03-31, then a change inside April: versioning suspended (derived)."""
    bucket = items("rdk-example-ci")[0]
    captured = at(bucket["configurationItemCaptureTime"])
    suspended = derived(
        bucket,
        SUSPENDED,
        supplementaryConfiguration__BucketVersioningConfiguration={
            "status": "Suspended",
            "isMfaDeleteEnabled": None,
        },
    )
    return dict(
        [
            history(
                BUCKET_ACCOUNT,
                "us-east-1",
                "AWS::S3::Bucket",
                captured - timedelta(minutes=20),
                captured + timedelta(minutes=10),
                [bucket],
            ),
            snapshot(BUCKET_ACCOUNT, "us-east-1", datetime(2019, 3, 31, 18, tzinfo=UTC), [bucket]),
            history(
                BUCKET_ACCOUNT,
                "us-east-1",
                "AWS::S3::Bucket",
                SUSPENDED - timedelta(minutes=30),
                SUSPENDED + timedelta(hours=1),
                [suspended],
            ),
        ]
    )


def instance_files(with_history_copy: bool = True) -> dict[str, bytes]:
    """The EC2 instance change that AWS documents as too large for SNS: its oversized change
    notification object and, as AWS also delivers it, the same item in the history file."""
    notification = copy.deepcopy(sources()["aws-docs-instance-notification"]["notification"])
    item = notification["configurationItem"]
    captured = at(item["configurationItemCaptureTime"])
    files = dict([oversized("123456789012", "us-east-2", notification)])
    if with_history_copy:
        files.update(
            [
                history(
                    "123456789012",
                    "us-east-2",
                    "AWS::EC2::Instance",
                    captured - timedelta(hours=1),
                    captured + timedelta(hours=1),
                    [item],
                )
            ]
        )
    return files


def api_export_files() -> dict[str, bytes]:
    """Items exported through the API (epoch capture times, JSON-text configuration), as a
    person who saved `get-resource-config-history` output would file them: the custodian
    security group (two captures of one state) and the rdk IAM role (awsRegion global)."""
    group = items("custodian-security-group")
    role = items("rdk-example-ci")[1]
    return dict(
        [
            history(
                "644160558196",
                "us-east-1",
                "AWS::EC2::SecurityGroup",
                datetime(2016, 12, 11, 6, tzinfo=UTC),
                datetime(2016, 12, 11, 7, tzinfo=UTC),
                group,
            ),
            history(
                "264683526309",
                "us-west-2",
                "AWS::IAM::Role",
                datetime(2016, 11, 6, 3, tzinfo=UTC),
                datetime(2016, 11, 6, 4, tzinfo=UTC),
                [role],
            ),
        ]
    )


KEY_DELETED = datetime(2021, 10, 2, 8, tzinfo=UTC)


def deleted_key_files() -> dict[str, bytes]:
    """A KMS key whose only item in the archive is its deletion (derived from the rdk key: a
    deletion item carries no configuration)."""
    key = items("rdk-example-ci")[2]
    gone = derived(
        key,
        KEY_DELETED,
        configurationItemStatus="ResourceDeleted",
        configuration=None,
        supplementaryConfiguration={},
    )
    return dict(
        [
            history(
                "123456789012",
                "us-east-1",
                "AWS::KMS::Key",
                KEY_DELETED - timedelta(hours=1),
                KEY_DELETED + timedelta(hours=1),
                [gone],
            )
        ]
    )


def all_files() -> dict[str, bytes]:
    files = {**bucket_files(), **instance_files(), **api_export_files(), **deleted_key_files()}
    files[f"{PREFIX}/AWSLogs/{BUCKET_ACCOUNT}/Config/{layout.WRITABILITY_CHECK}"] = b""
    return files


def write(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
