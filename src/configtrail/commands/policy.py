"""`configtrail policy` and `configtrail policy-check`: the CrossGuard policy pack, offline.

- `policy --env STACK` / `--all`: the pack on the offline plan of each stack — the state after an
  `up` (build/<stack>/stack.json) and a first preview (build/<stack>/preview.json) — with the
  stack's policy config, derived from its stack file and the estate
  (build/<stack>/policy-config.json, configtrail.policy.stack_config). Plans are made if missing.
- `policy-check FILE [--env STACK]`: the pack on a `pulumi stack export` or `pulumi preview
  --json` file, e.g. one exported from a real stack.

The pack runs as the Pulumi CLI runs it (`python -u -m pulumi.policy`, in its own process, over
the Analyzer gRPC protocol) — one process for every file of the run. `--dispatch full` sends every
resource to every policy, exactly the engine's calls; the default `scoped` sends each policy only
the resource types it declares, with the same verdicts (see README, Policy pack).

Exit codes: 0 no mandatory violation, 1 at least one, 2 no verdict (unusable file, config or
settings; a pack that did not start or failed) — always with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.commands.plan import DEFAULT_OUT, add_env_arguments, selected_envs
from configtrail.console import console as make_console
from configtrail.estate import ENVIRONMENTS
from configtrail.policy import report as render
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackFailure, PackStartError
from configtrail.policy.inputs import PolicyInputError, load
from configtrail.policy.packconfig import read_file
from configtrail.policy.runner import DEFAULT_DISPATCH, DISPATCHES, Job, evaluate_all
from configtrail.settings import SettingsError

FORMATS = ("text", "json", "markdown")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (grouped by resource), json, or markdown (PR comment)",
    )
    parser.add_argument(
        "--summary", type=Path, metavar="FILE", help="also write the Markdown summary to FILE"
    )
    parser.add_argument("--quiet", action="store_true", help="text: one line per file")
    parser.add_argument(
        "--pack-dir",
        type=Path,
        default=POLICY_PACK_DIR,
        help="policy pack directory (default: policies/)",
    )
    parser.add_argument(
        "--dispatch",
        choices=DISPATCHES,
        default=DEFAULT_DISPATCH,
        help="scoped: each policy gets only the resource types it declares (default); full: "
        "every resource to every policy, as the engine sends them (same verdicts, slower)",
    )
    parser.set_defaults(config_dir=None)


def register(subparsers) -> None:
    policy = subparsers.add_parser(
        "policy", help="policy pack verdicts on the offline plan of environments"
    )
    add_env_arguments(policy)
    policy.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="plan directory (build/); plans missing there are made first",
    )
    _common(policy)
    policy.set_defaults(handler=run_policy)

    check = subparsers.add_parser(
        "policy-check",
        help="policy pack verdicts on a `pulumi stack export` or `pulumi preview --json` file",
    )
    check.add_argument("file", type=Path, help="the JSON file to evaluate")
    check.add_argument(
        "--env",
        "--stack",
        dest="env",
        metavar="STACK",
        help="judge against STACK's policy config, derived from its stack file "
        "(default: the pack's defaults)",
    )
    check.add_argument(
        "--environments-dir",
        type=Path,
        default=ENVIRONMENTS,
        help="directory of stack files (default: environments/)",
    )
    check.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where the derived config is written"
    )
    check.add_argument(
        "--config", type=Path, metavar="FILE", help="policy config file (instead of --env's)"
    )
    _common(check)
    check.set_defaults(handler=run_check)

    derive = subparsers.add_parser(
        "policy-config",
        help="write the policy config of stacks, derived from their stack files "
        "(build/<stack>/policy-config.json; pulumi preview/up take it as --policy-pack-config)",
    )
    add_env_arguments(derive)
    derive.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build directory (build/)")
    derive.set_defaults(handler=run_policy_config)


def _config_for(env: str | None, args: argparse.Namespace) -> Path | None:
    """The stack's policy config, derived from the estate (written to build/<stack>/)."""
    if env is None:
        return None
    from configtrail.policy import stack_config

    try:
        estate = estate_module.load(args.environments_dir)
    except SettingsError as error:
        raise PolicyInputError("\n".join(error.problems)) from None
    if env not in estate.stacks:
        raise PolicyInputError(
            f"{estate_module.shown(estate_module.stack_path(env, args.environments_dir))}: "
            f"no such stack file (stacks: {', '.join(estate.names()) or 'none'})"
        )
    return stack_config.write(estate[env], estate, args.out)


def _stale(files: list[Path], directory: Path) -> bool:
    """A plan is stale when any stack file changed after it was made (the estate: a member's
    file changes its archive's plan too)."""
    sources = list(directory.glob("Pulumi.*.yaml"))
    newest = max((path.stat().st_mtime for path in sources), default=0.0)
    return any(path.stat().st_mtime < newest for path in files)


def _ensure_plan(env: str, args: argparse.Namespace) -> list[Path]:
    """The stack's plan files, made first when missing or older than a stack file."""
    files = [args.out / env / "stack.json", args.out / env / "preview.json"]
    missing = not all(path.is_file() for path in files)
    if missing or _stale(files, args.environments_dir):
        from configtrail.plan import export, runner

        if not missing:
            print(
                f"re-planning {env}: a stack file changed after {files[0]} was made",
                file=sys.stderr,
            )
        for preview in (False, True):
            export.write(
                runner.run(env, preview=preview, directory=args.environments_dir), args.out
            )
    return files


def _emit(reports: list[render.Report], args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(render.render_json(reports) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.render_markdown(reports))
    else:
        console = make_console()
        render.render_text(reports, console, quiet=args.quiet)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(render.render_markdown(reports), encoding="utf-8")
    return 0 if all(report.passed for report in reports) else 1


def _guarded(work) -> int:
    err = make_console(stderr=True)
    try:
        return work()
    except PolicyInputError as error:
        err.print("[bold red]Unusable input[/bold red] — no verdict:")
        for line in str(error).splitlines():
            err.print(f"  • {line}", markup=False, soft_wrap=True)
        return 2
    except PackStartError as error:
        err.print(f"Policy pack did not start: {error}", markup=False, soft_wrap=True)
        return 2
    except PackFailure as error:
        err.print(f"No verdict: {error}", markup=False, soft_wrap=True)
        return 2


def run_policy(args: argparse.Namespace) -> int:
    envs = selected_envs(args)

    def jobs():
        for env in envs:
            config = _config_for(env, args)
            raw = read_file(config)
            for path in _ensure_plan(env, args):
                yield Job(load(path), raw, str(config), env)

    def work() -> int:
        return _emit(evaluate_all(jobs(), args.pack_dir, args.dispatch), args)

    return _guarded(work)


def run_check(args: argparse.Namespace) -> int:
    def work() -> int:
        config = args.config or _config_for(args.env, args)

        def jobs():
            label = str(config) if config else None
            yield Job(load(args.file), read_file(config), label, args.env)

        return _emit(evaluate_all(jobs(), args.pack_dir, args.dispatch), args)

    return _guarded(work)


def run_policy_config(args: argparse.Namespace) -> int:
    """Write each chosen stack's derived policy config; print its path."""
    from configtrail.policy import stack_config

    envs = selected_envs(args)
    estate = estate_module.load(args.environments_dir)
    for env in envs:
        print(stack_config.write(estate[env], estate, args.out))
    return 0
