"""Benchmark: build every timeline of a large archive from a local copy of it.

Generates 200,000 configuration items across 2,000 gzipped ConfigHistory files in AWS Config's
delivery layout (10 AI resource types x 2 regions x 100 days; 10,000 resources with 20 items each,
about 1 KB of configuration per item), then, in a fresh process so that generating does not count,
reads them all and builds every timeline with its field-level diffs, the way
`configtrail history --all-types` does. Reports wall time and peak resident memory of that process.

    .venv/bin/python benchmarks/history_timelines.py            # or: make bench-history
    .venv/bin/python benchmarks/history_timelines.py --keep DIR # reuse / keep the generated files

Targets (issue 6): under 60 s and under 500 MB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from configtrail.history import layout

ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")
TYPES = (
    "AWS::SageMaker::Model",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::FeatureGroup",
    "AWS::SageMaker::UserProfile",
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
)
DAYS = 100
ITEMS_PER_FILE = 100
RESOURCES_PER_GROUP = 500  # per (region, type): 10,000 resources in all
START = datetime(2025, 1, 1, tzinfo=UTC)


def _configuration(resource_id: str, version: int, rng: random.Random) -> dict:
    return {
        "Name": resource_id,
        "Version": version,
        "Image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{resource_id}:{version}",
        "EnableNetworkIsolation": version % 3 == 0,
        "VpcConfig": {
            "Subnets": [f"subnet-{i:08x}" for i in range(3)],
            "SecurityGroupIds": [f"sg-{rng.randrange(16**8):08x}"],
        },
        "Environment": {f"VAR_{i}": f"value-{i}-{version % 2}" for i in range(8)},
        "KmsKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{resource_id}",
        "Description": "Benchmark resource " + "x" * 200,
        "Limits": {"MaxConcurrency": 10 + version % 4, "TimeoutSeconds": 3600},
    }


def generate(root: Path) -> tuple[int, int]:
    rng = random.Random(6)
    versions: dict[str, int] = {}
    files = items = 0
    for day in range(DAYS):
        start = START + timedelta(days=day)
        for region in REGIONS:
            for resource_type in TYPES:
                group = [
                    f"{resource_type.split('::')[2].lower()}-{region}-{n}"
                    for n in range(RESOURCES_PER_GROUP)
                ]
                batch = []
                for index, resource_id in enumerate(rng.sample(group, ITEMS_PER_FILE)):
                    version = versions.get(resource_id, 0) + 1
                    versions[resource_id] = version
                    captured = start + timedelta(seconds=index * 60 + 1)
                    batch.append(
                        {
                            "configurationItemVersion": "1.3",
                            "configurationItemCaptureTime": captured.strftime(
                                "%Y-%m-%dT%H:%M:%S.000Z"
                            ),
                            "configurationStateId": int(captured.timestamp() * 1000),
                            "awsAccountId": ACCOUNT,
                            "configurationItemStatus": "ResourceDiscovered"
                            if version == 1
                            else "OK",
                            "resourceType": resource_type,
                            "resourceId": resource_id,
                            "resourceName": resource_id,
                            "ARN": f"arn:aws:service:{region}:{ACCOUNT}:{resource_id}",
                            "awsRegion": region,
                            "availabilityZone": "Regional",
                            "configurationStateMd5Hash": "",
                            "tags": {"owner": "ml-platform", "version": str(version % 5)},
                            "relatedEvents": [],
                            "relationships": [
                                {
                                    "resourceId": f"role-{version % 2}",
                                    "resourceType": "AWS::IAM::Role",
                                    "name": "Is associated with Role",
                                }
                            ],
                            "configuration": _configuration(resource_id, version, rng),
                            "supplementaryConfiguration": {},
                        }
                    )
                key = layout.history_key(
                    "configtrail", ACCOUNT, region, resource_type, start, start + timedelta(hours=6)
                )
                path = root / key
                path.parent.mkdir(parents=True, exist_ok=True)
                body = {"fileVersion": "1.0", "configurationItems": batch}
                path.write_bytes(gzip.compress(json.dumps(body).encode(), 6))
                files += 1
                items += len(batch)
    return files, items


def measure(root: Path) -> None:
    """Runs in a fresh process: scan, then build and walk every timeline."""
    from configtrail.history.reader import LocalSource
    from configtrail.history.scan import Filters, scan
    from configtrail.history.store import ItemStore

    began = time.perf_counter()
    with ItemStore() as store:
        summary = scan(LocalSource(root), Filters(), store)
        scanned = time.perf_counter()
        resources = entries = changes = 0
        for timeline in store.timelines():
            resources += 1
            entries += len(timeline.entries)
            changes += timeline.change_count
    ended = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "files": summary.files_read,
                "items": summary.items_kept,
                "resources": resources,
                "timelineItems": entries,
                "fieldChanges": changes,
                "skipped": len(summary.skipped_files),
                "scanSeconds": round(scanned - began, 2),
                "timelineSeconds": round(ended - scanned, 2),
                "totalSeconds": round(ended - began, 2),
                "peakMemoryMB": round(peak_kb / 1024, 1),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    with tempfile.TemporaryDirectory(prefix="configtrail-bench-") as scratch:
        root = args.keep or Path(scratch)
        if not any(root.rglob("*.json.gz")):
            began = time.perf_counter()
            files, items = generate(root)
            print(
                f"generated {items:,} items in {files:,} files under {root} "
                f"({time.perf_counter() - began:.1f} s)",
                file=sys.stderr,
            )
        output = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(output)
    print(json.dumps(result, indent=2))
    ok = result["totalSeconds"] < 60 and result["peakMemoryMB"] < 500
    print(f"target (< 60 s, < 500 MB): {'met' if ok else 'NOT met'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
