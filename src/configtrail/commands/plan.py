"""`configtrail plan`: the offline plan of one or every stack of the estate.

Runs the real program through Pulumi's mock runtime twice per stack — once as after an `up`
(values AWS computes are filled in by AWS-like mocks) and once as a first-time preview (those
values unknown) — and writes `build/<stack>/stack.json` and `build/<stack>/preview.json`.

The whole estate (every stack file) is validated first, even when one stack is asked for: a
member needs its archive, and two stacks must not own one account's recorder. Stacks are planned
in forked worker processes, at most one per core: each gets a fresh Pulumi runtime (no state
leaks between stacks) and the heavy imports are paid once, before the fork.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.plan import runner
from configtrail.settings import SettingsError

DEFAULT_OUT = runner.REPO_ROOT / "build"


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """`--env NAME` (repeatable) or `--all`; shared by the commands that work per stack."""
    parser.add_argument(
        "--env",
        "--stack",
        dest="env",
        action="append",
        default=[],
        metavar="STACK",
        help="stack name: environments/Pulumi.<STACK>.yaml; repeatable",
    )
    parser.add_argument("--all", action="store_true", help="every stack in environments/")
    parser.add_argument(
        "--environments-dir",
        type=Path,
        default=runner.ENVIRONMENTS,
        help="directory of stack files (default: environments/)",
    )


def selected_envs(args: argparse.Namespace) -> list[str]:
    """The stacks a command was asked for, in deploy order; SettingsError if none or unknown."""
    available = estate_module.stack_names(args.environments_dir)
    chosen = available if args.all or "all" in args.env else args.env
    if not chosen:
        raise SettingsError(
            [f"no stack given: use --env NAME or --all (stacks: {', '.join(available)})"]
        )
    unknown = [env for env in chosen if env not in available]
    if unknown:
        raise SettingsError(
            [
                f"{estate_module.stack_path(env, args.environments_dir)}: no such stack file "
                f"(stacks: {', '.join(available) or 'none'})"
                for env in unknown
            ]
        )
    return list(dict.fromkeys(chosen))


def register(subparsers) -> None:
    parser = subparsers.add_parser("plan", help="offline plan of the stack (no cloud, no CLI)")
    add_env_arguments(parser)
    parser.add_argument(
        "--preview",
        action="store_true",
        help="show the preview-style plan (values computed on create unknown)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (build/)")
    parser.add_argument("--quiet", action="store_true", help="one summary line per environment")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="environments planned at once (default: one per core)",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class RunResult:
    """What a worker reports back about one run (normal or preview-style) of one environment."""

    env: str
    preview: bool
    resources: int
    path: str
    text: str
    summary_row: str


def plan_run(
    env: str, preview: bool, estate: estate_module.Estate, out: Path, show: bool, width: int
) -> RunResult:
    """One run of one stack: register the program, write its file, render if asked."""
    from configtrail.plan import export

    plan = runner.run(env, preview=preview, estate=estate)
    path = _shown(export.write(plan, out))
    if not preview:
        from configtrail.policy import stack_config

        stack_config.write(plan.stack, estate, out)
    text = ""
    if show:
        from rich.console import Console

        from configtrail.plan import render

        buffer = io.StringIO()
        render.render(plan, Console(file=buffer, width=width, highlight=False))
        text = buffer.getvalue()
    s = plan.settings
    # One vocabulary across plan, policy and summaries: "cloud resources" are what AWS will hold
    # (custom resources but the provider); the export also holds components, provider and stack.
    count = sum(r.custom and not r.type.startswith("pulumi:providers:") for r in plan.resources)
    row = (
        f"| {env} | {s.stack_kind} | {s.account_id} | {count} | {', '.join(s.regions) or '-'} "
        f"| {s.recording_profile if s.records else '-'} "
        f"| {f'{s.retention_days} days' if s.records or s.has_archive else '-'} "
        f"| {('yes' if s.archive_protect else '**no**') if s.has_archive else '-'} |"
    )
    return RunResult(env, preview, count, path, text, row)


def run(args: argparse.Namespace) -> int:
    envs = selected_envs(args)
    # Validate the whole estate first: nothing is registered if any stack file is bad.
    estate = estate_module.load(args.environments_dir)
    envs = [name for name in estate.names() if name in envs]
    if args.jobs < 1:
        raise SettingsError([f"--jobs {args.jobs}: must be 1 or more"])

    from configtrail.stack import program

    program.import_provider_modules()
    width = _terminal_width()
    # Heaviest first, so two workers finish together; both runs of each env are jobs.
    jobs = [
        (
            env,
            preview,
            estate,
            args.out,
            not args.quiet and preview == args.preview,
            width,
        )
        for env in reversed(envs)
        for preview in (False, True)
    ]
    workers = min(args.jobs, len(jobs))
    # Forking is only safe while this process runs no other thread (a Pulumi runtime that already
    # ran here leaves executor threads whose locks a child would inherit held).
    if workers > 1 and threading.active_count() == 1 and hasattr(os, "fork"):
        results = _forked(jobs, workers)
    else:
        results = [plan_run(*job) for job in jobs]

    by_key = {(r.env, r.preview): r for r in results}
    summary = [
        "## Offline plan",
        "",
        "| stack | kind | account | cloud resources | regions | profile | retention | protected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for env in envs:
        normal, preview = by_key[(env, False)], by_key[(env, True)]
        files = f"{normal.path}, {preview.path}"
        if args.quiet:
            print(f"plan {env}: {normal.resources} cloud resources -> {files}", flush=True)
        else:
            shown = preview if args.preview else normal
            print(shown.text + f"wrote {files}\n", flush=True)
        summary.append(normal.summary_row)
    from configtrail import files

    files.write_text(args.out / "summary" / "plan.md", "\n".join(summary) + "\n")
    return 0


def _forked(jobs: list[tuple], workers: int) -> list[RunResult]:
    """Run `jobs` (heaviest first) in `workers` forked children, dealt out in turn, and collect
    their results through pipes. A child that fails sends its exception, raised here again."""
    children = []
    for index in range(workers):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: plan its share, report, and leave without interpreter teardown
            os.close(read_end)
            status = 0
            try:
                payload = [plan_run(*job) for job in jobs[index::workers]]
            except BaseException as error:
                payload, status = error, 1
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(payload, pipe)
            os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))
    results: list[RunResult] = []
    failure: BaseException | None = None
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as pipe:
            try:
                payload = pickle.load(pipe)
            except EOFError:
                payload = RuntimeError(f"plan worker {pid} died without a result")
        os.waitpid(pid, 0)
        if isinstance(payload, BaseException):
            failure = failure or payload
        else:
            results.extend(payload)
    if failure is not None:
        raise failure
    return results


def _terminal_width() -> int:
    """The terminal's width, or a width that suits CI logs when output is piped."""
    import shutil

    return shutil.get_terminal_size((160, 24)).columns if os.isatty(1) else 160


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
