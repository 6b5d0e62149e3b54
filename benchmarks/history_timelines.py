"""Benchmark: every timeline of a large archive, side by side with DuckDB on the same files.

Generates 200,000 configuration items across 2,000 gzipped ConfigHistory files in AWS Config's
delivery layout (10 AI resource types x 2 regions x 100 days; 10,000 resources with 20 items each,
about 1 KB of configuration per item, an IAM-style policy document embedded as URL-encoded JSON
text), plus three bad files (corrupt gzip, truncated JSON, an item without resourceId). Then, each
in a fresh process and alternating for --rounds rounds:

- configtrail: read the archive and build every timeline with its field-level diffs, the way
  `configtrail history --all-types` does (a reading process per core; bad files skipped, named
  and counted; JSON text decoded); its memory is the sum over its processes (an upper bound);
- duckdb: DuckDB's `read_json` over the same (good) files, unnesting the items and returning them
  ordered per resource and capture time, fetched by the client in batches: the ordered-items query
  the timelines are compared with (DuckDB uses every core; its query fails on a bad file, so it is
  given the good ones).

Prints the median wall time and peak resident memory of each, their ratio (of the medians and
per round), and the machine's load average as each run started (a shared machine shows it).

    .venv/bin/python benchmarks/history_timelines.py             # or: make bench-history
    .venv/bin/python benchmarks/history_timelines.py --keep DIR  # reuse / keep the generated files

Targets (issue 13): configtrail within 2x of DuckDB, under 500 MB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

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
        "PolicyDocument": quote(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject"][: 1 + version % 2],
                            "Resource": f"arn:aws:s3:::{resource_id}/*",
                        }
                    ],
                }
            ),
            safe="",
        ),
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


BAD = "bad"  # a second prefix in the same archive, holding the bad files


def add_bad_files(root: Path) -> None:
    day = START + timedelta(days=3)
    name = layout.history_key(BAD, ACCOUNT, "us-east-1", TYPES[0], day, day + timedelta(hours=6))
    good = json.dumps({"fileVersion": "1.0", "configurationItems": [{"resourceType": TYPES[0]}]})
    for sequence, data in (
        (7, b"\x1f\x8b\x08\x00not deflate data"),
        (8, gzip.compress(b'{"fileVersion": "1.0", "configurationItems": [{"resou')),
        (9, gzip.compress(good.encode())),
    ):
        path = root / name.replace("_1.json.gz", f"_{sequence}.json.gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class TreeMemory:
    """The peak of the summed resident memory of this process and all its descendants (the
    reading processes are started by a fork server, so they are not this process's children
    and getrusage cannot see them), sampled from /proc every 20 ms while running."""

    def __init__(self):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        if Path("/proc/self/status").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))


def _tree_rss_kb(root: int) -> int:
    """VmRSS of `root` and its descendants, found through /proc/<pid>/task/<tid>/children."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:  # the process ended meanwhile
            continue
    return total


def measure_configtrail(root: Path, every_change: bool = False) -> dict:
    """Scan, then build every timeline and count its items and changes (what `configtrail
    history --all-types` does before rendering), as the DuckDB side counts its rows. That JSON
    text was decoded is checked on each timeline's last item; `every_change` checks every change
    instead, which costs this loop, not configtrail, about half a second."""
    from configtrail.history.processes import available_cores
    from configtrail.history.reader import LocalSource
    from configtrail.history.scan import Filters, scan
    from configtrail.history.store import ItemStore

    memory = TreeMemory().__enter__()
    began = time.perf_counter()
    with ItemStore() as store:
        summary = scan(LocalSource(root), Filters(), store)
        scanned = time.perf_counter()
        resources = entries = changes = decoded = 0
        for timeline in store.timelines():
            resources += 1
            entries += len(timeline.entries)
            for entry in timeline.entries:
                changes += len(entry.changes)
            for entry in timeline.entries if every_change else timeline.entries[-1:]:
                decoded += sum(c.path.startswith("PolicyDocument.Statement") for c in entry.changes)
    ended = time.perf_counter()
    memory.__exit__()
    return {
        "files": summary.files_read,
        "items": summary.items_kept,
        "resources": resources,
        "timelineItems": entries,
        "fieldChanges": changes,
        # in every change with --every-change, else in each timeline's last item
        "changesInsideJsonText": decoded,
        "everyChangeChecked": every_change,
        "skippedFiles": len(summary.skipped_files),
        "skippedItems": len(summary.skipped_items),
        "scanSeconds": round(scanned - began, 2),
        "timelineSeconds": round(ended - scanned, 2),
        "seconds": round(ended - began, 2),
        # All its processes at once (sampled), and never less than this process's own peak.
        "peakMemoryMB": max(memory.peak_mb, _peak_mb()),
        "peakMemoryThisProcessMB": _peak_mb(),
        "readingProcesses": available_cores(),
    }


def measure_duckdb(root: Path) -> dict:
    """DuckDB's ordered-items query over the same good files, rows fetched in batches."""
    import duckdb

    began = time.perf_counter()
    connection = duckdb.connect()
    cursor = connection.execute(
        f"""
        WITH items AS (
            SELECT unnest(configurationItems) AS ci, filename
            FROM read_json('{root}/configtrail/**/*.json.gz', filename = true)
        )
        SELECT ci.awsAccountId, ci.awsRegion, ci.resourceType, ci.resourceId,
               ci.configurationItemCaptureTime, ci.configurationStateId,
               ci.configurationItemStatus, to_json(ci.configuration),
               to_json(ci.supplementaryConfiguration), to_json(ci.tags),
               to_json(ci.relationships), filename
        FROM items ORDER BY 1, 2, 3, 4, 5, 6
        """
    )
    rows = 0
    while batch := cursor.fetchmany(10_000):
        rows += len(batch)
    ended = time.perf_counter()
    return {"items": rows, "seconds": round(ended - began, 2), "peakMemoryMB": _peak_mb()}


def _run(engine: str, root: Path, every_change: bool) -> dict:
    """One measurement in a fresh process, with the machine's load average (1 minute) as it
    started: on a shared machine the two engines are only comparable within one run."""
    load = round(os.getloadavg()[0], 2)
    flags = ["--every-change"] if every_change else []
    output = subprocess.run(
        [sys.executable, __file__, "--measure", engine, str(root), *flags],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {**json.loads(output), "loadAverage": load}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each engine")
    parser.add_argument(
        "--every-change",
        action="store_true",
        help="check every field change for decoded JSON text (not only each timeline's last "
        "item): adds the cost of walking 3 million changes in Python to configtrail's time",
    )
    parser.add_argument("--measure", nargs=2, metavar=("ENGINE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        engine, root = args.measure
        if engine == "configtrail":
            print(json.dumps(measure_configtrail(Path(root), args.every_change)))
        else:
            print(json.dumps(measure_duckdb(Path(root))))
        return 0
    with tempfile.TemporaryDirectory(prefix="configtrail-bench-") as scratch:
        root = args.keep or Path(scratch)
        if not any((root / "configtrail").rglob("*.json.gz")):
            began = time.perf_counter()
            files, items = generate(root)
            print(
                f"generated {items:,} items in {files:,} files under {root} "
                f"({time.perf_counter() - began:.1f} s)",
                file=sys.stderr,
            )
        add_bad_files(root)
        runs: dict[str, list[dict]] = {"configtrail": [], "duckdb": []}
        for round_ in range(args.rounds):
            for engine in ("duckdb", "configtrail") if round_ % 2 else ("configtrail", "duckdb"):
                runs[engine].append(_run(engine, root, args.every_change))
                print(f"round {round_ + 1} {engine}: {runs[engine][-1]}", file=sys.stderr)
    ours, duck = runs["configtrail"], runs["duckdb"]
    seconds = statistics.median(r["seconds"] for r in ours)
    duck_seconds = statistics.median(r["seconds"] for r in duck)
    result = {
        "configtrail": {
            **ours[-1],
            "seconds": seconds,
            "runs": [r["seconds"] for r in ours],
            "loadAverages": [r["loadAverage"] for r in ours],
            "peakMemoryMB": max(r["peakMemoryMB"] for r in ours),
        },
        "duckdb": {
            **duck[-1],
            "seconds": duck_seconds,
            "runs": [r["seconds"] for r in duck],
            "loadAverages": [r["loadAverage"] for r in duck],
            "peakMemoryMB": max(r["peakMemoryMB"] for r in duck),
        },
        "ratio": round(seconds / duck_seconds, 2),
        "ratioPerRound": [
            round(a["seconds"] / b["seconds"], 2) for a, b in zip(ours, duck, strict=True)
        ],
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    checks = {
        "within 2x of DuckDB": result["ratio"] <= 2,
        "under 500 MB": result["configtrail"]["peakMemoryMB"] < 500,
        "bad files named and counted": ours[-1]["skippedFiles"] == 2
        and ours[-1]["skippedItems"] == 1,
        "JSON text decoded": ours[-1]["changesInsideJsonText"] > 0,
        "same items": ours[-1]["items"] == duck[-1]["items"],
    }
    for label, ok in checks.items():
        print(f"{label}: {'met' if ok else 'NOT met'}", file=sys.stderr)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
