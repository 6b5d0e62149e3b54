"""`configtrail checkov`: checkov over every environment's plan (build/<env>/tfplan.json, written
by `configtrail plan`), the workflows and the repository's files (secrets), in one offline
checkov process. Exit 0 clean, 1 findings (or stale acceptances, or resource types checkov cannot
see), 2 unusable input (no plan, no checkov, a skip without a reason)."""

from __future__ import annotations

import argparse
from pathlib import Path

from configtrail.commands.plan import DEFAULT_OUT, add_env_arguments, selected_envs
from configtrail.console import console as make_console
from configtrail.gates import checkov
from configtrail.settings import SettingsError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "checkov", help="checkov over the plans (Terraform plan JSON), workflows and secrets"
    )
    add_env_arguments(parser)
    parser.add_argument(
        "--build",
        type=Path,
        default=DEFAULT_OUT,
        help="where `configtrail plan` wrote <env>/tfplan.json (default: build/)",
    )
    parser.add_argument(
        "--checkov",
        type=Path,
        default=checkov.CHECKOV,
        help="checkov executable (default: .venv/checkov/bin/checkov)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=checkov.CONFIG,
        help="checkov config with the reasoned skips (default: .checkov.yaml)",
    )
    parser.add_argument(
        "--accepted",
        type=Path,
        default=checkov.ACCEPTED,
        help="findings accepted per resource (default: .checkov-accepted.yaml)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=checkov.FRAMEWORKS,
        metavar="FRAMEWORK",
        help=f"run only this framework; repeatable (default: {', '.join(checkov.FRAMEWORKS)})",
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="scan these files for secrets and, under .github/workflows, as "
        "workflows (default: every workflow and every file git would commit)",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        default=None,
        help="Markdown summary (default: <build>/summary/checkov.md for a full scan)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = make_console()
    if not args.env and not args.all:
        args.all = True  # every environment unless told otherwise
    only = set(args.only or checkov.FRAMEWORKS)
    envs = selected_envs(args) if "terraform_plan" in only else []
    plans = [args.build / env / "tfplan.json" for env in envs]
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        raise SettingsError([f"{f}: no such file to scan" for f in missing])
    if args.files:
        workflows = [f for f in args.files if checkov.is_workflow(f)]
        secrets = list(args.files)
    else:
        workflows, secrets = checkov.workflow_files(), checkov.secret_scan_files()
    from configtrail import estate

    accepted = checkov.load_accepted(args.accepted, estate.load(args.environments_dir))
    skips = checkov.skipped_checks(args.config)
    result = checkov.run(
        plans,
        workflows if "github_actions" in only else [],
        secrets if "secrets" in only else [],
        checkov=args.checkov,
        config=args.config,
        accepted=accepted,
    )
    # The job summary describes the full scan; a partial one (pre-commit hooks) writes none
    # unless asked, so it never replaces the full picture.
    summary = args.summary
    if summary is None and not args.files and not args.only:
        summary = args.build / "summary" / "checkov.md"
    if summary is not None:
        from configtrail import files

        files.write_text(summary, checkov.summary_markdown(result, skips))

    for finding in result.open:
        console.print(
            f"FAILED {finding.check_id} {finding.file} {finding.resource}: {finding.check_name}",
            markup=False,
        )
    for plan, types in result.unmapped.items():
        console.print(
            f"UNMAPPED {plan}: checkov cannot see {', '.join(types)} — map them in "
            "src/configtrail/data/terraform_types.yaml",
            markup=False,
        )
    for acceptance in result.stale:
        console.print(
            f"STALE {acceptance.check} at {', '.join(acceptance.where)}: matches no "
            f"finding any more; remove it from {args.accepted}",
            markup=False,
        )
    counts = result.counts()
    console.print(
        f"checkov {result.version}: {counts}; in all {len(result.accepted)} accepted, "
        f"{len(result.open)} open" + (f" -> {checkov.shown(summary)}" if summary else ""),
        markup=False,
    )
    return 0 if result.ok else 1
