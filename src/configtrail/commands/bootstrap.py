"""`configtrail bootstrap-plan`: the offline plan of the bootstrap project (bootstrap/).

Runs the real bootstrap program through the mock runtime for each stack file
`bootstrap/Pulumi.<stack>.yaml`, prints who each role trusts and what it may do, and writes
`build/bootstrap/<stack>/stack.json` (the shape of `pulumi stack export`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from configtrail.bootstrap import plan as bootstrap_plan
from configtrail.bootstrap.program import PROJECT_DIR
from configtrail.console import console as make_console
from configtrail.plan import runner

DEFAULT_OUT = runner.REPO_ROOT / "build"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bootstrap-plan", help="offline plan of the bootstrap project (OIDC provider and roles)"
    )
    parser.add_argument(
        "--stack",
        action="append",
        default=[],
        metavar="NAME",
        help="bootstrap/Pulumi.<NAME>.yaml; repeatable (default: every bootstrap stack file)",
    )
    parser.add_argument("--directory", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (build/)")
    parser.add_argument("--quiet", action="store_true", help="one summary line per stack")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = make_console()
    stacks = args.stack or bootstrap_plan.stack_names(args.directory)
    summary = [
        "## Bootstrap plan",
        "",
        "| stack | role | trusts (sub) | max session |",
        "|---|---|---|---|",
    ]
    for stack in stacks:
        plan = bootstrap_plan.run(stack, args.directory)
        written = bootstrap_plan.write(plan, args.out / "bootstrap")
        table = Table(title=f"bootstrap {stack}: {plan.settings.repository}", title_justify="left")
        for column in ("role", "trusts (sub)", "max session", "permissions (statement ids)"):
            table.add_column(column)
        policies = {
            r.inputs["role"]: r.inputs["policy"]
            for r in plan.by_type("aws:iam/rolePolicy:RolePolicy")
        }
        for role in plan.by_type("aws:iam/role:Role"):
            name = role.inputs["name"]
            subjects = _subjects(role.inputs["assumeRolePolicy"])
            sids = [
                s["Sid"] for s in json.loads(policies.get(name, '{"Statement": []}'))["Statement"]
            ]
            session = f"{role.inputs.get('maxSessionDuration', 3600) // 60} min"
            table.add_row(name, "\n".join(subjects), session, ", ".join(sids))
            summary.append(f"| {stack} | `{name}` | {'<br>'.join(subjects)} | {session} |")
        if args.quiet:
            console.print(
                f"bootstrap-plan {stack}: {len(plan.by_type('aws:iam/role:Role'))} "
                f"roles -> {written}"
            )
        else:
            console.print(table)
            console.print(f"wrote {written}\n")
    summary_file = args.out / "summary" / "bootstrap.md"
    summary_file.parent.mkdir(parents=True, exist_ok=True)
    summary_file.write_text("\n".join(summary) + "\n")
    return 0


def _subjects(trust_json: str) -> list[str]:
    subjects: list[str] = []
    for statement in json.loads(trust_json)["Statement"]:
        for condition in statement.get("Condition", {}).values():
            for key, value in condition.items():
                if key.endswith(":sub"):
                    subjects += value if isinstance(value, list) else [value]
    return subjects
