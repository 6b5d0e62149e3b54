"""Benchmark: the real policy pack on synthetic stacks of up to 10,000 resources, both engines.

The synthetic stack is the prod offline plan copied until it has N resources (every copy renamed,
URNs and names alike, so each copy is a self-contained graph; the renaming also garbles type names
inside documents, so the stack draws a few hundred findings — realistic work for the report).
Each engine gets the same requests, built by the same code (wire.Wire), in the order the engine
sends them — GetAnalyzerInfo and Configure once, one Analyze per resource, one AnalyzeStack with
every resource:

- grpc: the pack as the Pulumi engine runs it, a child process speaking the Analyzer gRPC
  protocol (`configtrail policy`'s default);
- in-process: the pack's own analyzer service called in this process (`--engine in-process`);
  its start-up includes importing the pack, which every CLI run pays.

    .venv/bin/python benchmarks/policy_pack.py [--sizes 1000 2500 5000 10000]
        [--engines grpc in-process] [--window 8] [--no-cli]

The run is `runner.evaluate_with`, the code `configtrail policy` runs. Prints, per engine and
size: parse (stack export -> resource states), start-up, Analyze (all resources), AnalyzeStack,
other (building the requests, GetAnalyzerInfo/Configure, diagnostics -> findings), total, the
microseconds per resource of the total, and the findings count — the findings themselves are
compared between the engines, and the script fails if they differ. Then, for the largest size,
the wall time of the whole `configtrail policy-check FILE --engine E` process (interpreter start,
imports, reading the JSON, rendering included).
Target (issue 3): 10,000 resources under 3 s on this 2-core machine, growing linearly (flat
us/res). Check `uptime` first: other work on the machine inflates every number.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from functools import cache
from pathlib import Path

from configtrail.plan import export, runner
from configtrail.policy import inputs
from configtrail.policy.analyzer import POLICY_PACK_DIR
from configtrail.policy.runner import CONFIG_DIR, ENGINES, evaluate_with, open_pack

TARGET_SECONDS = 3.0
TARGET_SIZE = 10_000


@cache
def _prod_export() -> str:
    return json.dumps(export.stack_export(runner.run("prod")))


def synthetic(size: int) -> dict:
    """A stack export with `size` resources made of renamed copies of the prod plan."""
    base = json.loads(_prod_export())
    resources = base["deployment"]["resources"]
    # The export is in a stable dependency order; the stack and its provider are copied once.
    root = resources[0]
    provider = next(r for r in resources if r["type"].startswith("pulumi:providers:"))
    body = [r for r in resources[1:] if r is not provider]
    text = json.dumps(body)
    out = [root, provider]
    copy = 0
    while len(out) < size:
        renamed = (
            text.replace("configtrail-prod-", f"configtrail-prod{copy}-")
            .replace("::", f"::c{copy}-")
            .replace(f"urn:pulumi:c{copy}-prod", "urn:pulumi:prod")
        )
        for state in json.loads(renamed):
            if len(out) >= size:
                break
            if "provider" in state:
                state["provider"] = provider["urn"] + "::" + provider["id"]
            out.append(state)
        copy += 1
    base["deployment"]["resources"] = out
    return base


def _import_pack_seconds() -> float:
    """The one-time cost of importing the pack in this process (in-process engine start-up)."""
    started = time.perf_counter()
    import configtrail_policies.pack  # noqa: F401 (timed import)

    return time.perf_counter() - started


class TimedPack:
    """The pack with the time spent in its Analyze and AnalyzeStack calls recorded, so the run
    itself is `runner.evaluate_with` — the code `configtrail policy` runs, findings included."""

    def __init__(self, pack, window: int):
        self.pack = pack
        self.pack_dir = pack.pack_dir
        self.window = window
        self.analyze_s = self.analyze_stack_s = 0.0

    def info(self):
        return self.pack.info()

    def configure(self, policy_config):
        self.pack.configure(policy_config)

    def analyze_many(self, requests):
        started = time.perf_counter()
        try:
            return self.pack.analyze_many(requests, window=self.window)
        finally:
            self.analyze_s += time.perf_counter() - started

    def analyze_stack(self, request):
        started = time.perf_counter()
        try:
            return self.pack.analyze_stack(request)
        finally:
            self.analyze_stack_s += time.perf_counter() - started


def measure(document: dict, engine: str, window: int, config: dict, import_s: float) -> dict:
    started = time.perf_counter()
    deployment = inputs.parse(document, "synthetic")
    parsed = time.perf_counter()
    with open_pack(
        engine, POLICY_PACK_DIR, project="configtrail", stack="bench", dry_run=False
    ) as pack:
        ready = time.perf_counter()
        timed = TimedPack(pack, window)
        report = evaluate_with(timed, deployment, config, "prod.json", "prod")
        done = time.perf_counter()
    startup = ready - parsed + (import_s if engine == "in-process" else 0.0)
    total = (parsed - started) + startup + (done - ready)
    return {
        "engine": engine,
        "resources": len(deployment.resources),
        "parse_s": parsed - started,
        "startup_s": startup,
        "analyze_s": timed.analyze_s,
        "analyze_stack_s": timed.analyze_stack_s,
        # building requests, GetAnalyzerInfo/Configure, turning diagnostics into findings
        "other_s": (done - ready) - timed.analyze_s - timed.analyze_stack_s,
        "total_s": total,
        "us_per_resource": total / len(deployment.resources) * 1e6,
        "findings": [asdict(finding) for finding in report.findings],
    }


def cli_seconds(document: dict, engine: str) -> float:
    """Wall time of the whole `configtrail policy-check FILE --engine ENGINE` process."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stack.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        command = [
            str(Path(sys.executable).with_name("configtrail")),
            "policy-check",
            str(path),
            "--env",
            "prod",
            "--format",
            "json",
            "--engine",
            engine,
        ]
        started = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited with {result.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500, 5000, 10000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--window", type=int, default=8, help="gRPC Analyze calls in flight")
    parser.add_argument(
        "--no-cli",
        dest="cli",
        action="store_false",
        help="skip timing the whole CLI process on the largest stack",
    )
    args = parser.parse_args()
    config = json.loads((CONFIG_DIR / "prod.json").read_text())
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cpus)")
    import_s = _import_pack_seconds() if "in-process" in args.engines else 0.0
    print(
        f"{'engine':>10} {'resources':>9} {'parse':>6} {'start-up':>8} {'Analyze':>8} "
        f"{'Stack':>6} {'other':>6} {'total':>6} {'us/res':>6} {'finds':>5}"
    )
    failed = False
    for size in args.sizes:
        document = synthetic(size)
        results = []
        for engine in args.engines:
            r = measure(json.loads(json.dumps(document)), engine, args.window, config, import_s)
            results.append(r)
            print(
                f"{r['engine']:>10} {r['resources']:>9} {r['parse_s']:>5.2f}s "
                f"{r['startup_s']:>7.2f}s {r['analyze_s']:>7.2f}s "
                f"{r['analyze_stack_s']:>5.2f}s {r['other_s']:>5.2f}s {r['total_s']:>5.2f}s "
                f"{r['us_per_resource']:>6.0f} {len(r['findings']):>5}"
            )
        if len({json.dumps(r["findings"]) for r in results}) > 1:
            print(f"engines disagree on the findings of the {size}-resource stack")
            failed = True
        if size == max(args.sizes) and args.cli:
            for engine in args.engines:
                seconds = cli_seconds(document, engine)
                verdict = (
                    ""
                    if size != TARGET_SIZE
                    else (
                        "  meets the target" if seconds < TARGET_SECONDS else "  MISSES the target"
                    )
                )
                print(
                    f"{engine:>10} {size:>9} whole `configtrail policy-check` process: "
                    f"{seconds:.2f}s{verdict}"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
