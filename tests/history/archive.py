"""A small archive in AWS Config's delivery layout, built the way AWS Config writes it.

Four days, two regions (us-east-1 home, eu-west-1), SageMaker, Bedrock, S3 and IAM items plus one
EC2 instance outside the ai-systems profile; gzip and plain files; one history file with its items
out of time order; a snapshot repeating states already in history files; AWS's writability check
file. Item fields follow the delivered format (configurationItemVersion 1.3, ARN, awsAccountId,
awsRegion, configurationStateId as a number; IAM documents URL-encoded; IAM awsRegion "global").
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from urllib.parse import quote

from configtrail.history import layout

ACCOUNT = "123456789012"
PREFIX = "configtrail"
HOME, OTHER = "us-east-1", "eu-west-1"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def item(
    resource_type,
    resource_id,
    captured,
    status="OK",
    region=HOME,
    configuration=None,
    supplementary=None,
    tags=None,
    relationships=None,
    name=None,
    arn=None,
):
    when = t(captured)
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "configurationStateId": int(when.timestamp() * 1000),
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name or resource_id,
        "ARN": arn
        or f"arn:aws:{resource_type.split('::')[1].lower()}:{region}:{ACCOUNT}:{resource_id}",
        "awsRegion": region,
        "availabilityZone": "Regional",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": "2025-02-01T00:00:00.000Z",
        "tags": tags if tags is not None else {},
        "relatedEvents": [],
        "relationships": relationships or [],
        "configuration": configuration,
        "supplementaryConfiguration": supplementary or {},
    }


def model(captured, image, isolation, tags, status="OK"):
    configuration = (
        None
        if status == "ResourceDeleted"
        else {
            "ModelName": "churn-model",
            "PrimaryContainer": {"Image": image, "Environment": {"SAGEMAKER_PROGRAM": "serve.py"}},
            "EnableNetworkIsolation": isolation,
            "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-exec",
        }
    )
    return item(
        "AWS::SageMaker::Model",
        "churn-model",
        captured,
        status,
        configuration=configuration,
        tags=tags if configuration else {},
        relationships=[
            {
                "resourceId": "sagemaker-exec",
                "resourceName": None,
                "resourceType": "AWS::IAM::Role",
                "name": "Is associated with Role",
            }
        ]
        if configuration
        else [],
    )


def policy(actions):
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": actions,
            }
        ],
    }
    return quote(json.dumps(document, separators=(",", ":")), safe="")


def role(captured, actions, attached):
    return item(
        "AWS::IAM::Role",
        "AROAEXAMPLEROLE",
        captured,
        region="global",
        name="sagemaker-exec",
        arn=f"arn:aws:iam::{ACCOUNT}:role/sagemaker-exec",
        configuration={
            "roleName": "sagemaker-exec",
            "assumeRolePolicyDocument": policy(actions),
            "path": "/",
        },
        relationships=[
            {
                "resourceId": p,
                "resourceName": p,
                "resourceType": "AWS::IAM::Policy",
                "name": "Is attached to CustomerManagedPolicy",
            }
            for p in attached
        ],
    )


def bucket(captured, versioning, status="OK"):
    return item(
        "AWS::S3::Bucket",
        "training-data",
        captured,
        status,
        arn="arn:aws:s3:::training-data",
        configuration={"name": "training-data", "owner": {"id": "abc"}},
        supplementary={
            "BucketVersioningConfiguration": {"status": versioning},
            "ServerSideEncryptionConfiguration": {
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]
            },
            "BucketPolicy": {
                "policyText": json.dumps({"Statement": [{"Sid": "TLS", "Effect": "Deny"}]})
            },
        },
        tags={"data-classification": "confidential"},
    )


def guardrail(captured, message, status="OK"):
    return item(
        "AWS::Bedrock::Guardrail",
        "gr-abc123",
        captured,
        status,
        region=OTHER,
        configuration={
            "Name": "support-bot",
            "BlockedInputMessaging": message,
            "ContentPolicyConfig": {"FiltersConfig": [{"Type": "HATE", "InputStrength": "HIGH"}]},
        },
    )


def instance(captured):
    return item(
        "AWS::EC2::Instance",
        "i-0abc",
        captured,
        region=OTHER,
        configuration={"instanceType": "t3.micro"},
    )


M1 = model(
    "2025-03-01T10:00:00", "123.dkr.ecr/churn:1.0", False, {"owner": "ml"}, "ResourceDiscovered"
)
M2 = model(
    "2025-03-02T09:00:00", "123.dkr.ecr/churn:1.1", True, {"owner": "ml-platform", "stage": "prod"}
)
M3 = model("2025-03-04T12:00:00", "", False, {}, "ResourceDeleted")
R1 = role("2025-03-01T10:05:00", ["sts:AssumeRole"], [])
R2 = role("2025-03-02T11:00:00", ["sts:AssumeRole", "sts:TagSession"], ["ml-data-read"])
B1 = bucket("2025-03-01T10:10:00", "Off")
B2 = bucket("2025-03-02T12:00:00", "Enabled")
G1 = guardrail("2025-03-03T08:00:00", "Sorry, I cannot help with that.")
G2 = guardrail("2025-03-03T15:00:00", "This request is blocked by policy.")
E1 = instance("2025-03-03T09:00:00")


def document(items, snapshot_id=None):
    body = {"fileVersion": "1.0", "configurationItems": items}
    if snapshot_id:
        body = {"fileVersion": "1.0", "configSnapshotId": snapshot_id, "configurationItems": items}
    return json.dumps(body).encode()


def history(region, resource_type, start, end, items, gzipped=True, sequence=1):
    key = layout.history_key(
        PREFIX, ACCOUNT, region, resource_type, t(start), t(end), sequence, gzipped
    )
    data = document(items)
    return key, gzip.compress(data) if gzipped else data


def snapshot(region, time, items):
    key = layout.snapshot_key(
        PREFIX, ACCOUNT, region, t(time), "5f2c1b8e-0d4e-4d55-9f0a-1c2b3d4e5f60"
    )
    return key, gzip.compress(document(items, "5f2c1b8e-0d4e-4d55-9f0a-1c2b3d4e5f60"))


def good_files() -> dict[str, bytes]:
    files = [
        history(HOME, "AWS::SageMaker::Model", "2025-03-01T06:00:00", "2025-03-01T12:00:00", [M1]),
        history(HOME, "AWS::IAM::Role", "2025-03-01T06:00:00", "2025-03-01T12:00:00", [R1]),
        history(
            HOME,
            "AWS::S3::Bucket",
            "2025-03-01T06:00:00",
            "2025-03-01T12:00:00",
            [B1],
            gzipped=False,
        ),
        history(HOME, "AWS::SageMaker::Model", "2025-03-02T06:00:00", "2025-03-02T12:00:00", [M2]),
        history(HOME, "AWS::IAM::Role", "2025-03-02T06:00:00", "2025-03-02T12:00:00", [R2]),
        history(HOME, "AWS::S3::Bucket", "2025-03-02T12:00:00", "2025-03-02T18:00:00", [B2]),
        # Out of order inside the file: timelines must not trust file order.
        history(
            OTHER,
            "AWS::Bedrock::Guardrail",
            "2025-03-03T06:00:00",
            "2025-03-03T18:00:00",
            [G2, G1],
            gzipped=False,
        ),
        history(OTHER, "AWS::EC2::Instance", "2025-03-03T06:00:00", "2025-03-03T12:00:00", [E1]),
        snapshot(HOME, "2025-03-04T00:30:00", [M2, R2, B2]),
        history(HOME, "AWS::SageMaker::Model", "2025-03-04T12:00:00", "2025-03-04T18:00:00", [M3]),
    ]
    result = dict(files)
    result[f"{PREFIX}/AWSLogs/{ACCOUNT}/Config/{layout.WRITABILITY_CHECK}"] = b""
    return result


CORRUPT_GZIP = b"\x1f\x8b\x08\x00this is not deflate data"


def bad_files() -> dict[str, bytes]:
    """One file for each kind of bad input, each named for what is wrong with it."""
    day = f"{PREFIX}/AWSLogs/{ACCOUNT}/Config/{HOME}/2025/3/2"
    name = f"{ACCOUNT}_Config_{HOME}_ConfigHistory_AWS::SageMaker::Model"
    truncated = document([M2])[:40]
    missing_id = dict(B2, configurationItemCaptureTime="2025-03-02T13:00:00.000Z")
    del missing_id["resourceId"]
    return {
        f"{day}/ConfigHistory/{name}_20250302T000000Z_20250302T060000Z_7.json.gz": CORRUPT_GZIP,
        f"{day}/ConfigHistory/{name}_20250302T000000Z_20250302T060000Z_8.json": truncated,
        f"{day}/ConfigHistory/{name}_20250302T000000Z_20250302T060000Z_9.json.gz": gzip.compress(
            truncated
        ),
        f"{day}/ConfigHistory/{name}_20250302T000000Z_20250302T060000Z_10.json.gz": gzip.compress(
            json.dumps({"fileVersion": "2.0", "configurationItems": [M2]}).encode()
        ),
        f"{day}/ConfigHistory/notes.txt": b"downloaded by hand",
        f"{PREFIX}/exports/{name}_20250302T000000Z_20250302T060000Z_1.json.gz": gzip.compress(
            document([M2])
        ),
        f"{day}/ConfigHistory/{ACCOUNT}_Config_{HOME}_ConfigHistory_AWS::S3::Bucket_"
        f"20250302T120000Z_20250302T180000Z_2.json.gz": gzip.compress(document([missing_id])),
    }


def write_dir(root, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def put_s3(client, bucket_name: str, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        client.put_object(Bucket=bucket_name, Key=key, Body=data)
