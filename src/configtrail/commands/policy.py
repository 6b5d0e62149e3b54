"""`configtrail policy` and `configtrail policy-check`: the CrossGuard policy pack, offline.

- `policy --env ENV` / `--all`: the pack on the offline plan of each environment — the state
  after an `up` (build/<env>/stack.json) and a first preview (build/<env>/preview.json) — with
  that environment's policy config (policies/config/<env>.json). Plans are made if missing.
- `policy-check FILE [--env ENV]`: the pack on a `pulumi stack export` or `pulumi preview --json`
  file, e.g. one exported from a real stack.

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

from rich.console import Console

from configtrail.commands.plan import DEFAULT_OUT, add_env_arguments, selected_envs
from configtrail.policy import report as render
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackFailure, PackStartError
from configtrail.policy.inputs import PolicyInputError, load
from configtrail.policy.packconfig import read_file
from configtrail.policy.runner import DEFAULT_DISPATCH, DISPATCHES, Job, config_path, evaluate_all

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
        "--env", metavar="ENV", help="use policies/config/ENV.json (default: the pack's defaults)"
    )
    check.add_argument(
        "--config", type=Path, metavar="FILE", help="policy config file (instead of --env's)"
    )
    _common(check)
    check.set_defaults(handler=run_check)


def _config_for(env: str | None, pack_dir: Path) -> Path | None:
    if env is None:
        return None
    path = config_path(env, pack_dir / "config")
    if not path.is_file():
        available = sorted(p.stem for p in (pack_dir / "config").glob("*.json"))
        raise PolicyInputError(
            f"{path}: no policy config for environment {env!r} "
            f"(available: {', '.join(available) or 'none'})"
        )
    return path


def _ensure_plan(env: str, args: argparse.Namespace) -> list[Path]:
    files = [args.out / env / "stack.json", args.out / env / "preview.json"]
    if not all(path.is_file() for path in files):
        from configtrail.plan import export, runner

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
        console = Console(highlight=False, width=None if Console().is_terminal else 160)
        render.render_text(reports, console, quiet=args.quiet)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(render.render_markdown(reports), encoding="utf-8")
    return 0 if all(report.passed for report in reports) else 1


def _guarded(work) -> int:
    err = Console(stderr=True, highlight=False)
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
            config = _config_for(env, args.pack_dir)
            raw = read_file(config)
            for path in _ensure_plan(env, args):
                yield Job(load(path), raw, str(config), env)

    def work() -> int:
        return _emit(evaluate_all(jobs(), args.pack_dir, args.dispatch), args)

    return _guarded(work)


def run_check(args: argparse.Namespace) -> int:
    def work() -> int:
        config = args.config or _config_for(args.env, args.pack_dir)

        def jobs():
            label = str(config) if config else None
            yield Job(load(args.file), read_file(config), label, args.env)

        return _emit(evaluate_all(jobs(), args.pack_dir, args.dispatch), args)

    return _guarded(work)
