"""Benchmark: the real policy pack on synthetic stacks of up to 10,000 resources.

The synthetic stack is the prod offline plan copied until it has N resources (every copy renamed,
URNs and names alike, so each copy is a self-contained graph). The pack runs as the engine runs
it: a child process speaking the Analyzer gRPC protocol — GetAnalyzerInfo and Configure once,
one Analyze per resource, one AnalyzeStack with every resource.

    .venv/bin/python benchmarks/policy_pack.py [--sizes 1000 2500 5000 10000] [--window 8]

Prints, per size: pack start-up, Analyze (all resources), AnalyzeStack, total, and microseconds
per resource (flat means linear growth). Target: 10,000 resources under 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time

from configtrail.plan import export, runner
from configtrail.policy import inputs, packconfig
from configtrail.policy.analyzer import PackProcess
from configtrail.policy.runner import CONFIG_DIR
from configtrail.policy.wire import Wire


def synthetic(size: int) -> dict:
    """A stack export with `size` resources made of renamed copies of the prod plan."""
    base = export.stack_export(runner.run("prod"))
    resources = base["deployment"]["resources"]
    root, provider, body = resources[0], resources[1], resources[2:]
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


def measure(size: int, window: int, config: dict) -> dict:
    deployment = inputs.parse(synthetic(size), f"synthetic-{size}")
    wire = Wire(deployment)
    marshal_started = time.perf_counter()
    requests = wire.analyze_requests()
    stack_request = wire.analyze_stack_request()
    marshal = time.perf_counter() - marshal_started
    started = time.perf_counter()
    with PackProcess(stack="bench", dry_run=False) as pack:
        info = pack.info()
        pack.configure(packconfig.to_wire(packconfig.reconcile(info, config, "prod.json")))
        ready = time.perf_counter()
        responses = pack.analyze_many(requests, window=window)
        analyzed = time.perf_counter()
        stack = pack.analyze_stack(stack_request)
        done = time.perf_counter()
    diagnostics = sum(len(r.diagnostics) for r in responses) + len(stack.diagnostics)
    return {
        "resources": len(deployment.resources),
        "marshal_s": marshal,
        "startup_s": ready - started,
        "analyze_s": analyzed - ready,
        "analyze_stack_s": done - analyzed,
        "total_s": done - started,
        "evaluation_s": done - ready,
        "us_per_resource": (done - ready) / len(deployment.resources) * 1e6,
        "diagnostics": diagnostics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500, 5000, 10000])
    parser.add_argument("--window", type=int, default=8, help="Analyze calls in flight")
    args = parser.parse_args()
    config = json.loads((CONFIG_DIR / "prod.json").read_text())
    print(
        f"{'resources':>9} {'marshal':>8} {'start-up':>9} {'Analyze':>9} {'Stack':>8} {'total':>8} "
        f"{'us/res':>7} {'diags':>6}"
    )
    for size in args.sizes:
        r = measure(size, args.window, config)
        print(
            f"{r['resources']:>9} {r['marshal_s']:>7.2f}s {r['startup_s']:>8.2f}s "
            f"{r['analyze_s']:>8.2f}s "
            f"{r['analyze_stack_s']:>7.2f}s {r['total_s']:>7.2f}s {r['us_per_resource']:>7.0f} "
            f"{r['diagnostics']:>6}"
        )


if __name__ == "__main__":
    main()
