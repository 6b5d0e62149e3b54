"""`configtrail plan`: the offline plan of one or every environment.

Runs the real program through Pulumi's mock runtime twice per environment — once as after an
`up` (values AWS computes are filled in by AWS-like mocks) and once as a first-time preview (those
values unknown) — and writes `build/<env>/stack.json` and `build/<env>/preview.json`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from configtrail.plan import export, render, runner
from configtrail.settings import SettingsError

DEFAULT_OUT = runner.REPO_ROOT / "build"


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """`--env NAME` (repeatable) or `--all`; shared by the commands that work per environment."""
    parser.add_argument(
        "--env", action="append", default=[], metavar="ENV",
        help="environment (stack) name: environments/Pulumi.<ENV>.yaml; repeatable",
    )
    parser.add_argument("--all", action="store_true", help="every environment in environments/")
    parser.add_argument(
        "--environments-dir", type=Path, default=runner.ENVIRONMENTS,
        help="directory of stack files (default: environments/)",
    )


def selected_envs(args: argparse.Namespace) -> list[str]:
    """The environments a command was asked for; SettingsError if none or unknown."""
    available = runner.environment_names(args.environments_dir)
    if args.all or "all" in args.env:
        chosen = available
    else:
        chosen = args.env
    if not chosen:
        raise SettingsError([
            f"no environment given: use --env NAME or --all (available: {', '.join(available)})"
        ])
    unknown = [env for env in chosen if env not in available]
    if unknown:
        raise SettingsError([
            f"{runner.stack_path(env, args.environments_dir)}: no such stack file "
            f"(environments: {', '.join(available) or 'none'})" for env in unknown
        ])
    return chosen


def register(subparsers) -> None:
    parser = subparsers.add_parser("plan", help="offline plan of the stack (no cloud, no CLI)")
    add_env_arguments(parser)
    parser.add_argument("--preview", action="store_true",
                        help="show the preview-style plan (values computed on create unknown)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (build/)")
    parser.add_argument("--quiet", action="store_true", help="one summary line per environment")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Wide enough for the plan table when piped into CI logs and job summaries.
    console = Console(highlight=False, width=None if Console().is_terminal else 160)
    envs = selected_envs(args)
    # Validate every environment first: nothing is registered if any stack file is bad.
    problems: list[str] = []
    for env in envs:
        try:
            runner.load_settings(env, args.environments_dir)
        except SettingsError as error:
            problems.extend(error.problems)
    if problems:
        raise SettingsError(problems)
    summary = ["## Offline plan", "", "| environment | resources | regions | profile | retention "
               "| protected | files |", "|---|---|---|---|---|---|---|"]
    for env in envs:
        normal = runner.run(env, preview=False, directory=args.environments_dir)
        preview = runner.run(env, preview=True, directory=args.environments_dir)
        stack_file, preview_file = export.write(normal, preview, args.out)
        s = normal.settings
        summary.append(
            f"| {env} | {sum(r.custom for r in normal.resources)} | {', '.join(s.regions)} "
            f"| {s.recording_profile} | {s.retention_days} days "
            f"| {'yes' if s.archive_protect else '**no**'} "
            f"| `{_shown(stack_file)}`, `{_shown(preview_file)}` |"
        )
        if args.quiet:
            console.print(
                f"plan {env}: {sum(r.custom for r in normal.resources)} resources -> "
                f"{_shown(stack_file)}, {_shown(preview_file)}"
            )
        else:
            render.render(preview if args.preview else normal, console)
            console.print(f"wrote {_shown(stack_file)} and {_shown(preview_file)}\n")
    summary_file = args.out / "summary" / "plan.md"
    summary_file.parent.mkdir(parents=True, exist_ok=True)
    summary_file.write_text("\n".join(summary) + "\n")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
