"""`configtrail pipeline ...`: the logic the workflows run, reachable from a terminal and from
tests (the workflows stay thin and call these through make targets).

  matrix       the stacks, waves and session settings every workflow runs over (from the estate)
  run          one Pulumi command on one stack (first run, policy pack before up, verdicts)
  check-ref    a dispatch's ref: the default branch, a tag or a commit on it; prints the SHA
  confirm      a dispatch's typed confirmation (up on production stacks, any destroy)
  check-role   a deploy role ARN belongs to the stack's account
  report       the preview verdicts of every stack as one Markdown report, grouped by account
  comment      create or edit the pull request's one preview comment (gh)
  install-cli  the Pulumi CLI at .pulumi-version, verified against Pulumi's published checksums
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.settings import SettingsError

REPO_ROOT = estate_module.REPO_ROOT


def register(subparsers) -> None:
    parser = subparsers.add_parser("pipeline", help="what the workflows run (matrix, run, ...)")
    commands = parser.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")

    matrix = commands.add_parser("matrix", help="stacks, waves and sessions as workflow outputs")
    matrix.add_argument("--github-output", type=Path, default=_env_path("GITHUB_OUTPUT"))
    matrix.add_argument("--stack", default="", help="only this stack's entry, as entry=<json>")
    matrix.set_defaults(handler=run_matrix)

    run = commands.add_parser("run", help="one Pulumi command on one stack")
    run.add_argument("--command", required=True)
    run.add_argument("--stack", required=True, help="stack file name (environments/)")
    run.add_argument("--qualified", default="", help="stack name for the CLI (org/project/name)")
    run.add_argument("--message", default="")
    run.add_argument("--secrets-provider", default="")
    run.add_argument("--pulumi", default="pulumi", help=argparse.SUPPRESS)
    run.add_argument("--out", type=Path, default=REPO_ROOT / "build")
    run.add_argument("--drift-dir", type=Path, default=REPO_ROOT / "build" / "drift")
    run.add_argument("--summary-dir", type=Path, default=REPO_ROOT / "build" / "summary")
    run.set_defaults(handler=run_run)

    ref = commands.add_parser("check-ref", help="may this ref be dispatched? prints its SHA")
    ref.add_argument("--ref", required=True)
    ref.add_argument("--default-branch", default="")
    ref.add_argument("--repo", type=Path, default=Path.cwd())
    ref.add_argument("--github-output", type=Path, default=_env_path("GITHUB_OUTPUT"))
    ref.set_defaults(handler=run_check_ref)

    role = commands.add_parser("check-role", help="the role ARN is in the stack's account")
    role.add_argument("--stack", required=True)
    role.add_argument("--role-arn", required=True)
    role.set_defaults(handler=run_check_role)

    report = commands.add_parser("report", help="preview verdicts as one report by account")
    report.add_argument("--dir", type=Path, default=REPO_ROOT / "build" / "preview")
    report.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "summary" / "preview.md")
    report.add_argument("--title", default="Pulumi preview of every stack")
    report.add_argument("--run-url", default="")
    report.set_defaults(handler=run_report)

    comment = commands.add_parser("comment", help="create or edit the one preview comment")
    comment.add_argument("--repo", required=True)
    comment.add_argument("--pull-request", type=int, required=True)
    comment.add_argument("--body", type=Path, required=True)
    comment.set_defaults(handler=run_comment)

    confirm = commands.add_parser(
        "confirm", help="dispatch guard: COMMAND and CONFIRM from the environment"
    )
    confirm.add_argument("--stack", required=True)
    confirm.set_defaults(handler=run_confirm)

    cli = commands.add_parser("install-cli", help="the Pulumi CLI, checksum-verified")
    cli.add_argument("--version-file", type=Path, default=REPO_ROOT / ".pulumi-version")
    cli.add_argument("--dest", type=Path, default=Path.home() / ".configtrail-pulumi")
    cli.add_argument("--base-url", default="", help=argparse.SUPPRESS)
    cli.add_argument("--github-path", type=Path, default=_env_path("GITHUB_PATH"))
    cli.set_defaults(handler=run_install_cli)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _write_outputs(target: Path | None, values: dict[str, str]) -> None:
    text = "".join(f"{key}={value}\n" for key, value in values.items())
    if target is None:
        sys.stdout.write(text)
    else:
        with target.open("a", encoding="utf-8") as handle:
            handle.write(text)


def run_matrix(args: argparse.Namespace) -> int:
    from configtrail.bootstrap import settings as bs
    from configtrail.pipeline import matrix

    estate = estate_module.load()
    accounts = bs.load_accounts()
    if args.stack:
        found = [e for e in matrix.entries(estate, accounts) if e["name"] == args.stack]
        if not found:
            _say(
                f"matrix: stack {args.stack!r} has no stack file environments/Pulumi."
                f"{args.stack}.yaml (stacks: {', '.join(estate.names())}); nothing was run"
            )
            return 1
        _write_outputs(args.github_output, {"entry": json.dumps(found[0], separators=(",", ":"))})
        return 0
    _write_outputs(args.github_output, matrix.outputs(estate, accounts))
    return 0


def run_run(args: argparse.Namespace) -> int:
    from configtrail.pipeline.runner import Run, RunError

    run = Run(
        command=args.command,
        stack_name=args.stack,
        stack=args.qualified or args.stack,
        message=args.message,
        secrets_provider=args.secrets_provider,
        pulumi=args.pulumi,
        out_dir=args.out,
        drift_dir=args.drift_dir,
        summary_dir=args.summary_dir,
    )
    try:
        return run.execute()
    except RunError as error:
        _say(f"pipeline run {args.command} {args.stack}: {error}")
        return 2


def run_check_ref(args: argparse.Namespace) -> int:
    from configtrail.bootstrap import settings as bs
    from configtrail.pipeline.refs import RefusedRef, resolve

    branch = args.default_branch or bs.load().default_branch
    try:
        sha = resolve(args.ref, branch, args.repo)
    except RefusedRef as error:
        _say(f"check-ref: {error}; nothing was run")
        return 1
    _say(f"check-ref: {args.ref!r} is {sha}, reachable from {branch}")
    _write_outputs(args.github_output, {"sha": sha})
    return 0


def run_check_role(args: argparse.Namespace) -> int:
    estate = estate_module.load()
    if args.stack not in estate.stacks:
        raise SettingsError([f"stack {args.stack!r}: no such stack file"])
    account = estate[args.stack].account_id
    parts = args.role_arn.split(":")
    if not args.role_arn:
        _say(
            f"check-role: the GitHub environment {args.stack} has no variable "
            "AWS_DEPLOY_ROLE_ARN; set it to the bootstrap output "
            f"stacks.{args.stack}.deployRoleArn of account-{account}"
        )
        return 1
    if len(parts) < 6 or parts[2] != "iam" or parts[4] != account:
        _say(
            f"check-role: AWS_DEPLOY_ROLE_ARN = {args.role_arn!r} of environment {args.stack} is "
            f"not a role of account {account} (configtrail:accountId of "
            f"environments/Pulumi.{args.stack}.yaml); nothing was run"
        )
        return 1
    return 0


def run_report(args: argparse.Namespace) -> int:
    from configtrail.pipeline import report

    estate = estate_module.load()
    body = report.render(estate, report.read_verdicts(args.dir), args.title, args.run_url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(body)
    _say(f"report: {args.out}")
    return 0


def run_comment(args: argparse.Namespace) -> int:
    from configtrail.pipeline import report

    try:
        _say(report.upsert_comment(args.repo, args.pull_request, args.body))
    except RuntimeError as error:
        _say(f"comment: {error}")
        return 1
    return 0


def run_install_cli(args: argparse.Namespace) -> int:
    from configtrail.pipeline import cli_install

    version = args.version_file.read_text().strip()
    try:
        bin_dir = cli_install.install(version, args.dest, args.base_url or cli_install.BASE_URL)
    except (cli_install.ChecksumError, OSError) as error:
        _say(f"install-cli: {error}")
        return 1
    if args.github_path is not None:
        with args.github_path.open("a", encoding="utf-8") as handle:
            handle.write(f"{bin_dir}\n")
    _say(f"install-cli: Pulumi CLI {version} verified and installed in {bin_dir}")
    return 0


DISPATCH_COMMANDS = ("preview", "up", "refresh", "destroy")


def run_confirm(args: argparse.Namespace) -> int:
    """`up` on a production stack (environment tag `prod`) and any `destroy` need the stack's
    name typed into CONFIRM; the typed text is compared, never run."""
    from configtrail.pipeline.matrix import PRODUCTION_TAG

    command = os.environ.get("COMMAND", "")
    typed = os.environ.get("CONFIRM", "")
    if command not in DISPATCH_COMMANDS:
        _say(f"confirm: COMMAND={command!r} is not one of {', '.join(DISPATCH_COMMANDS)}")
        return 2
    stack = estate_module.load()[args.stack]
    production = stack.settings.tags.get(PRODUCTION_TAG[0]) == PRODUCTION_TAG[1]
    if (command == "destroy" or (command == "up" and production)) and typed != args.stack:
        why = "a production stack" if command == "up" else "any stack"
        _say(
            f"confirm: {command!r} on {why} ({args.stack}) needs CONFIRM={args.stack} "
            f"(typed: {typed!r}); nothing was run"
        )
        return 1
    _say(f"confirm: {command} on {args.stack} may run")
    return 0
