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
        [--engines grpc in-process] [--window 8]

Prints, per engine and size: parse (stack export -> resource states), requests (building the
Analyze/AnalyzeStack requests), start-up, Analyze (all resources), AnalyzeStack, total (the sum:
what a CLI run on such a file costs besides reading the JSON), microseconds per resource of the
total, and the diagnostics count — which must be the same for both engines (checked: the
diagnostics themselves are compared, and the script fails if they differ).
Target (issue 3): 10,000 resources under 3 s on this 2-core machine, growing linearly (flat
us/res). Check `uptime` first: other work on the machine inflates every number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import cache

from configtrail.plan import export, runner
from configtrail.policy import inputs, packconfig
from configtrail.policy.analyzer import POLICY_PACK_DIR
from configtrail.policy.runner import CONFIG_DIR, ENGINES, open_pack
from configtrail.policy.wire import Wire

TARGET_SECONDS = 3.0
TARGET_SIZE = 10_000


@cache
def _prod_export() -> str:
    return json.dumps(export.stack_export(runner.run("prod")))


def synthetic(size: int) -> dict:
    """A stack export with `size` resources made of renamed copies of the prod plan."""
    base = json.loads(_prod_export())
    resources = base["deployment"]["resources"]
    # Sorted: the plan's registration order varies between runs, and the last copy is partial.
    root, provider, body = resources[0], resources[1], sorted(resources[2:], key=lambda r: r["urn"])
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


def measure(document: dict, engine: str, window: int, config: dict, import_s: float) -> dict:
    started = time.perf_counter()
    deployment = inputs.parse(document, "synthetic")
    parsed = time.perf_counter()
    wire = Wire(deployment)
    requests = wire.analyze_requests()
    stack_request = wire.analyze_stack_request()
    built = time.perf_counter()
    with open_pack(
        engine, POLICY_PACK_DIR, project="configtrail", stack="bench", dry_run=False
    ) as pack:
        info = pack.info()
        pack.configure(packconfig.to_wire(packconfig.reconcile(info, config, "prod.json")))
        ready = time.perf_counter()
        responses = pack.analyze_many(requests, window=window)
        analyzed = time.perf_counter()
        stack = pack.analyze_stack(stack_request)
        done = time.perf_counter()
    startup = ready - built + (import_s if engine == "in-process" else 0.0)
    total = (parsed - started) + (built - parsed) + startup + (done - ready)
    diagnostics = [
        (d.policyName, d.urn or r.urn, d.enforcementLevel, d.message)
        for response, r in zip(responses, requests, strict=True)
        for d in response.diagnostics
    ] + [(d.policyName, d.urn, d.enforcementLevel, d.message) for d in stack.diagnostics]
    return {
        "engine": engine,
        "resources": len(deployment.resources),
        "parse_s": parsed - started,
        "requests_s": built - parsed,
        "startup_s": startup,
        "analyze_s": analyzed - ready,
        "analyze_stack_s": done - analyzed,
        "total_s": total,
        "us_per_resource": total / len(deployment.resources) * 1e6,
        "diagnostics": diagnostics,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500, 5000, 10000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--window", type=int, default=8, help="gRPC Analyze calls in flight")
    args = parser.parse_args()
    config = json.loads((CONFIG_DIR / "prod.json").read_text())
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cpus)")
    import_s = _import_pack_seconds() if "in-process" in args.engines else 0.0
    print(
        f"{'engine':>10} {'resources':>9} {'parse':>6} {'requests':>8} {'start-up':>8} "
        f"{'Analyze':>8} {'Stack':>6} {'total':>6} {'us/res':>6} {'diags':>5}"
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
                f"{r['requests_s']:>7.2f}s {r['startup_s']:>7.2f}s {r['analyze_s']:>7.2f}s "
                f"{r['analyze_stack_s']:>5.2f}s {r['total_s']:>5.2f}s "
                f"{r['us_per_resource']:>6.0f} {len(r['diagnostics']):>5}"
            )
            if size == TARGET_SIZE:
                verdict = "meets" if r["total_s"] < TARGET_SECONDS else "MISSES"
                print(f"{'':>10} {verdict} the target ({TARGET_SECONDS:.0f} s for {size})")
        if len({json.dumps(r["diagnostics"]) for r in results}) > 1:
            print(f"engines disagree on the diagnostics of the {size}-resource stack")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
