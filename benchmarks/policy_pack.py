"""Benchmark: the real policy pack through the real gRPC path — the pack started as the Pulumi CLI
starts it (`python -u -m pulumi.policy`), in its own process, spoken to over the Analyzer protocol.

Two targets (issue 10, item 6), each timed as the whole CLI process a person runs (interpreter
start, imports, reading the JSON, the pack's start-up, rendering), best and median of --repeat runs:
- the estate: `configtrail policy --all --quiet` over every environment's offline plan (stack
  export and preview), one pack process for all files — under 4 s;
- a 10,000-resource stack: `configtrail policy-check FILE --env prod --format json` on a synthetic
  stack export — under 3 s.

Then, for the synthetic stack, where the time goes inside one run (`runner.evaluate_with` with the
pack's calls timed): parse, pack start-up, Analyze, AnalyzeStack, the rest; and, with --full, the
same run with the full dispatch (every resource to every policy, the engine's own calls) for
comparison. The findings of both dispatches are compared: the script fails if they differ.

The synthetic stack is the prod offline plan copied until it has N resources (every copy renamed,
URNs and names alike, so each copy is a self-contained graph; the renaming also garbles type names
inside documents, so the stack draws a few hundred findings — realistic work for the report).

    .venv/bin/python benchmarks/policy_pack.py [--size 10000] [--repeat 3] [--full]

Check `uptime` first: other work on this 2-core machine inflates every number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from functools import cache
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.plan import export, runner
from configtrail.policy import inputs, stack_config
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackProcess
from configtrail.policy.runner import evaluate_with

REPO = Path(__file__).resolve().parents[1]
# The complete standalone stack of the pack's tests (archive, vault, recorders, KMS, topics in
# three regions): copies of its plan make the synthetic stacks.
STACKS = REPO / "tests" / "policies" / "stacks"
CLI = str(Path(sys.executable).with_name("configtrail"))
ESTATE_TARGET_S = 4.0
STACK_TARGET_S = 3.0


@cache
def _prod_export() -> str:
    return json.dumps(export.stack_export(runner.run("prod", directory=STACKS)))


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


def wall(command: list[str], repeat: int) -> list[float]:
    """Wall seconds of `command`, `repeat` times (exit 0 or 1 — a verdict — is required)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, cwd=REPO, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} exited with {result.returncode}")
    return times


def verdict(times: list[float], target: float) -> str:
    best, median = min(times), statistics.median(times)
    met = "meets" if median < target else "MISSES"
    return (
        f"best {best:.2f}s, median {median:.2f}s of {len(times)} — {met} the {target:.0f} s target"
    )


class TimedPack:
    """The pack with the time spent in its Analyze and AnalyzeStack calls recorded, so the run
    itself is `runner.evaluate_with` — the code `configtrail policy` runs, findings included."""

    def __init__(self, pack):
        self.pack = pack
        self.analyze_s = self.analyze_stack_s = 0.0
        self.analyze_calls = self.stack_calls = 0

    def __getattr__(self, name):
        return getattr(self.pack, name)

    def analyze_many(self, requests, window=16):
        started = time.perf_counter()
        try:
            return self.pack.analyze_many(requests, window)
        finally:
            self.analyze_s += time.perf_counter() - started
            self.analyze_calls += len(requests)

    def analyze_stack(self, request):
        started = time.perf_counter()
        try:
            return self.pack.analyze_stack(request)
        finally:
            self.analyze_stack_s += time.perf_counter() - started
            self.stack_calls += 1


def breakdown(document: dict, dispatch: str) -> tuple[str, list[dict]]:
    stacks = estate_module.load(STACKS)
    config = stack_config.policy_config(stacks["prod"], stacks)
    started = time.perf_counter()
    deployment = inputs.parse(document, "synthetic")
    parsed = time.perf_counter()
    with PackProcess(POLICY_PACK_DIR) as pack:
        ready = time.perf_counter()
        timed = TimedPack(pack)
        report = evaluate_with(timed, deployment, config, "prod.json", "prod", dispatch=dispatch)
        done = time.perf_counter()
    rest = (done - ready) - timed.analyze_s - timed.analyze_stack_s
    line = (
        f"{dispatch:>7} {len(deployment.resources):>6} resources: parse {parsed - started:.2f}s, "
        f"pack start-up {ready - parsed:.2f}s, Analyze {timed.analyze_s:.2f}s "
        f"({timed.analyze_calls} calls), AnalyzeStack {timed.analyze_stack_s:.2f}s "
        f"({timed.stack_calls} calls), rest {rest:.2f}s; {len(report.findings)} findings"
    )
    return line, [asdict(finding) for finding in report.findings]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time the full dispatch")
    args = parser.parse_args()
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cpus)")

    stacks = estate_module.stack_names()
    if not all((REPO / "build" / env / "stack.json").is_file() for env in stacks):
        subprocess.run([CLI, "plan", "--all", "--quiet"], cwd=REPO, check=True)
    estate = wall([CLI, "policy", "--all", "--quiet"], args.repeat)
    print(f"estate  `configtrail policy --all`: {verdict(estate, ESTATE_TARGET_S)}")

    document = synthetic(args.size)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stack.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        command = [CLI, "policy-check", str(path), "--env", "prod", "--environments-dir"]
        command += [str(STACKS), "--out", directory, "--format", "json"]
        stack = wall(command, args.repeat)
    print(f"{args.size}-resource `configtrail policy-check`: {verdict(stack, STACK_TARGET_S)}")

    line, scoped = breakdown(json.loads(json.dumps(document)), "scoped")
    print(line)
    if args.full:
        line, full = breakdown(json.loads(json.dumps(document)), "full")
        print(line)
        if full != scoped:
            print("the full and scoped dispatches disagree on the findings")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
