"""Benchmark: the offline plan of every environment against the bare cost of importing Pulumi.

Target (issue 2): `configtrail plan --all` (what `make check` runs first) within 4x the wall time
of `python -c "import pulumi, pulumi_aws"` on the same machine. Both are whole processes, timed
with the same clock, several rounds, median reported.

    .venv/bin/python benchmarks/plan_vs_import.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 4.0


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    configtrail = str(Path(python).with_name("configtrail"))
    with tempfile.TemporaryDirectory() as out:
        floor_cmd = [python, "-c", "import pulumi, pulumi_aws"]
        plan_cmd = [configtrail, "plan", "--all", "--quiet", "--out", out]
        wall(floor_cmd), wall(plan_cmd)  # warm the OS file cache once
        floors, plans = [], []
        for _ in range(args.rounds):
            floors.append(wall(floor_cmd))
            plans.append(wall(plan_cmd))
    floor, plan = statistics.median(floors), statistics.median(plans)
    ratio = plan / floor
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(
        f"import floor  (python -c 'import pulumi, pulumi_aws'): median {floor:.3f} s "
        f"(min {min(floors):.3f})"
    )
    print(
        f"offline plan  (configtrail plan --all, 3 envs x 2 runs): median {plan:.3f} s "
        f"(min {min(plans):.3f})"
    )
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"ratio {ratio:.2f}x — {verdict} the {TARGET_RATIO:.0f}x target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
