"""`configtrail bootstrap-plan`: the offline plan of the bootstrap project (bootstrap/).

Runs the real bootstrap program through the mock runtime for every account of the estate (one
bootstrap stack `account-<id>` each, settings from `bootstrap/pipeline.yaml`), prints who each
role trusts and what it may do, and writes `build/bootstrap/account-<id>/stack.json` (the shape
of `pulumi stack export`) and a summary grouped by account.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from configtrail import estate as estate_module
from configtrail.bootstrap import plan as bootstrap_plan
from configtrail.bootstrap import settings as settings_module
from configtrail.console import console as make_console
from configtrail.plan import runner

DEFAULT_OUT = runner.REPO_ROOT / "build"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bootstrap-plan", help="offline plan of the bootstrap project, one stack per account"
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ID",
        help="plan only this account of the estate; repeatable (default: every account)",
    )
    parser.add_argument(
        "--settings", type=Path, default=settings_module.SETTINGS_FILE, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--environments-dir", type=Path, default=estate_module.ENVIRONMENTS, help=argparse.SUPPRESS
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (build/)")
    parser.add_argument("--quiet", action="store_true", help="one summary line per account")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = make_console()
    found = settings_module.load_accounts(args.settings, args.environments_dir)
    chosen = [
        settings_module.account_of_stack(f"{settings_module.STACK_PREFIX}{a}", found)
        for a in args.account
    ] or list(found.values())
    summary = [
        "## Bootstrap plan (one stack per account)",
        "",
        "| account | stacks | role | trusts (sub) | max session |",
        "|---|---|---|---|---|",
    ]
    for account in chosen:
        plan = bootstrap_plan.run_account(account)
        written = bootstrap_plan.write(plan, args.out / "bootstrap")
        table = Table(
            title=f"bootstrap {plan.stack}: {', '.join(account.stack_names)} "
            f"({account.settings.repository})",
            title_justify="left",
        )
        for column in ("role", "trusts (sub)", "max session", "permissions (statement ids)"):
            table.add_column(column)
        policies = {
            r.inputs["role"]: r.inputs["policy"]
            for r in plan.by_type("aws:iam/rolePolicy:RolePolicy")
        }
        roles = plan.by_type("aws:iam/role:Role")
        for role in roles:
            name = role.inputs["name"]
            subjects = _subjects(role.inputs["assumeRolePolicy"])
            sids = [
                s["Sid"] for s in json.loads(policies.get(name, '{"Statement": []}'))["Statement"]
            ]
            session = f"{int(role.inputs.get('maxSessionDuration', 3600)) // 60} min"
            table.add_row(name, "\n".join(subjects), session, ", ".join(sids))
            summary.append(
                f"| {account.account_id} | {', '.join(account.stack_names)} | `{name}` | "
                f"{'<br>'.join(subjects)} | {session} |"
            )
        if args.quiet:
            console.print(
                f"bootstrap-plan {plan.stack} ({', '.join(account.stack_names)}): "
                f"{len(roles)} roles -> {written}"
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
