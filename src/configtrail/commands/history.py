"""`configtrail history`: timelines, field-level diffs and audit reports from the recorded
configuration history, read from the archive bucket, a local copy of it, or through Athena.

Exit codes: 0 every file and item was read; 1 the report was written but something was skipped
(each skipped file or item is named in a warning and in the report) or no item matched the
filters; 2 unusable input (a bad option, a source that cannot be listed or holds no deliveries, a
failed Athena query) and no report.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar

from configtrail import catalog
from configtrail.history import athena, compliance, coverage, render, scan
from configtrail.history.reader import SourceError, open_source
from configtrail.history.store import ItemStore

OK, SKIPPED, UNUSABLE = 0, 1, 2
OUT_DIR_FILES = {"html": "history.html", "markdown": "history.md", "json": "history.json"}


class UsageError(Exception):
    """A bad option value: one line naming the option, the value and what is allowed."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "history",
        help="timelines and diffs of recorded configuration history (audit reports)",
        description=__doc__.split("\n\n")[0],
        epilog="Exit codes: 0 clean, 1 something was skipped (named in warnings and the "
        "report), 2 unusable input.",
    )
    where = parser.add_argument_group("where the history is")
    where.add_argument(
        "--source",
        metavar="S3_URI_OR_DIR",
        help="s3://bucket[/prefix] of the archive, or a directory of downloaded deliveries",
    )
    where.add_argument(
        "--endpoint-url",
        help="S3 (and Athena) endpoint, for S3-compatible services or a local test server",
    )
    where.add_argument(
        "--aws-region", help="region of the AWS clients (default: the AWS environment/profile)"
    )
    where.add_argument(
        "--athena-workgroup",
        help="query through this Athena workgroup instead "
        "of reading files (needs configtrail:athena: true in the stack)",
    )
    where.add_argument(
        "--athena-database", help="Glue database of the history table (configtrail_<env>_history)"
    )
    where.add_argument(
        "--athena-table",
        default=athena.DEFAULT_TABLE,
        help=f"history table (default {athena.DEFAULT_TABLE})",
    )
    where.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes that read a local archive (default: one per available core; 1: "
        "read in this process only)",
    )

    what = parser.add_argument_group("what to show")
    what.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="RESOURCE_TYPE",
        help="resource type, repeatable (default: the ai-systems profile's types)",
    )
    what.add_argument("--all-types", action="store_true", help="every resource type")
    what.add_argument(
        "--resource-id", action="append", default=[], metavar="ID", help="resource id, repeatable"
    )
    what.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ACCOUNT_ID",
        help="account whose deliveries to read (12 digits; an organization archive holds "
        "many under one prefix), repeatable",
    )
    what.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="recording region (the delivery folder), repeatable",
    )
    what.add_argument(
        "--since",
        help="start of the window, inclusive: YYYY-MM-DD or ISO time "
        "(UTC unless an offset is given)",
    )
    what.add_argument("--until", help="end of the window, exclusive")
    what.add_argument(
        "--previous-month",
        action="store_true",
        help="the previous calendar month (UTC) as the window",
    )
    what.add_argument(
        "--baseline-days",
        type=int,
        default=None,
        metavar="N",
        help="look for each resource's last state before --since only in the deliveries of "
        "the N days before it (default: as far back as needed, from the newest snapshot "
        "before --since; 0: no earlier state)",
    )

    expected = parser.add_argument_group(
        "coverage (was recording continuous?)",
        "The report lists, for every expected account and region, the days of the window with "
        "a delivery and every gap. Expected pairs come from --expect, else from --estate, else "
        "they are the pairs seen delivering.",
    )
    expected.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="ACCOUNT:REGION",
        help="an account and region that must deliver every day, repeatable",
    )
    expected.add_argument(
        "--estate",
        type=Path,
        metavar="DIR",
        help="expect the recorded accounts and regions of the estate whose stack files are in "
        "DIR (e.g. environments)",
    )

    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=render.FORMATS, default="table")
    output.add_argument("--out", type=Path, help="write the report here (default: stdout)")
    output.add_argument(
        "--out-dir",
        type=Path,
        help="write history.html, history.md and history.json (from one scan) and a short "
        "summary.md into this directory, instead of --format/--out",
    )
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


# --- options -----------------------------------------------------------------------------------


def _did_you_mean(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_time(option: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: not a date or time; use YYYY-MM-DD or an ISO 8601 time"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def previous_month(now: datetime) -> tuple[datetime, datetime]:
    """[first day of last month, first day of this month), in UTC."""
    this_month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return last_month, this_month


def filters_from(args: argparse.Namespace, now: datetime | None = None) -> scan.Filters:
    if args.all_types and args.type:
        raise UsageError("--all-types and --type exclude each other")
    recordable = catalog.recordable_resource_types()
    for value in args.type:
        if value not in recordable:
            raise UsageError(
                f"--type {value!r}: not a resource type AWS Config records (botocore's Config "
                f"ResourceType list){_did_you_mean(value, recordable)}"
            )
    for value in args.account:
        _account("--account", value)
    regions = catalog.config_regions()
    for value in args.region:
        if value not in regions:
            raise UsageError(
                f"--region {value!r}: not a region where AWS Config is offered"
                f"{_did_you_mean(value, regions)}"
            )
    if args.previous_month and (args.since or args.until):
        raise UsageError("--previous-month and --since/--until exclude each other")
    if args.previous_month:
        since, until = previous_month(now or datetime.now(UTC))
    else:
        since = parse_time("--since", args.since) if args.since else None
        until = parse_time("--until", args.until) if args.until else None
    if since and until and since >= until:
        raise UsageError(f"--since {args.since} must be before --until {args.until}")
    if args.baseline_days is not None and not 0 <= args.baseline_days <= 366:
        raise UsageError(f"--baseline-days {args.baseline_days}: must be between 0 and 366")
    types = None if args.all_types else frozenset(args.type or catalog.ai_systems_types())
    return scan.Filters(
        types=types,
        regions=frozenset(args.region) or None,
        resource_ids=frozenset(args.resource_id) or None,
        accounts=frozenset(args.account) or None,
        since=since,
        until=until,
        baseline_days=args.baseline_days,
    )


def _account(option: str, value: str) -> str:
    if not (len(value) == 12 and value.isascii() and value.isdigit()):
        raise UsageError(f"{option} {value!r}: not an AWS account id (12 digits)")
    return value


def expected_recording(args: argparse.Namespace) -> list[tuple[str, str]] | None:
    """The (account, region) pairs that must deliver every day of the window; None: the pairs
    seen delivering.

    `--expect ACCOUNT:REGION` first; else `--estate DIR`, the estate's recorded pairs
    (`configtrail.estate.load(DIR).recorded()`).
    """
    regions = catalog.config_regions()
    pairs = []
    for value in args.expect:
        account, _, region = value.partition(":")
        if not region:
            raise UsageError(f"--expect {value!r}: use ACCOUNT:REGION, e.g. 333333333333:us-east-1")
        _account("--expect", account)
        if region not in regions:
            raise UsageError(
                f"--expect {value!r}: {region!r} is not a region where AWS Config is offered"
                f"{_did_you_mean(region, regions)}"
            )
        pairs.append((account, region))
    if pairs:
        return pairs
    if args.estate is None:
        return None
    return estate_recording(args.estate)


def estate_recording(directory: Path) -> list[tuple[str, str]]:
    """The recorded (account, region) pairs of the estate whose stack files are in `directory`
    (`configtrail.estate`, the model every command shares)."""
    from configtrail import estate
    from configtrail.settings_error import SettingsError

    if not directory.is_dir():
        raise UsageError(f"--estate {directory}: no such directory")
    try:
        loaded = estate.load(directory)
    except SettingsError as error:
        raise UsageError(f"--estate {directory}: {'; '.join(error.problems)}") from None
    if not loaded.stacks:
        raise UsageError(f"--estate {directory}: no stack files (Pulumi.<stack>.yaml) in it")
    return sorted({(account, region) for account, region, _stack in loaded.recorded()})


def coverage_window(filters: scan.Filters, seen, now: datetime | None = None):
    """(first, last) days of the coverage: the window's days; without --since from the first
    delivery seen, without --until up to today (UTC)."""
    now = now or datetime.now(UTC)
    days = [day for _, _, day in seen] or [now.date()]
    first = filters.since.date() if filters.since is not None else min(days)
    last = (filters.until - timedelta(microseconds=1)).date() if filters.until else now.date()
    return first, last


MAX_JOBS = 256  # --jobs: more processes than this only cost memory


def _check_sources(args: argparse.Namespace) -> None:
    if args.out_dir and args.out:
        raise UsageError("--out and --out-dir exclude each other")
    if args.athena_workgroup or args.athena_database:
        if not (args.athena_workgroup and args.athena_database):
            raise UsageError("--athena-workgroup and --athena-database go together")
        if args.source:
            raise UsageError(
                "--source and --athena-workgroup exclude each other: read the "
                "files, or query the table over them"
            )
    elif not args.source:
        raise UsageError(
            "--source is required (s3://bucket[/prefix] or a directory), "
            "or --athena-workgroup with --athena-database"
        )
    if args.jobs is not None and not 1 <= args.jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {args.jobs}: must be between 1 and {MAX_JOBS}")


# --- progress ----------------------------------------------------------------------------------


class ConsoleProgress(scan.Progress):
    """Warnings on stderr always; a progress bar only on a terminal."""

    def __init__(self, err: Console, bar: bool):
        self.err = err
        self.bar = (
            RichBar(
                TextColumn("reading deliveries"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            if bar
            else None
        )
        self.task = None

    def __enter__(self):
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()

    def listed(self, total: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task("read", total=total)

    def advance(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)

    def warn(self, problem: scan.Problem) -> None:
        self.err.print(
            f"[yellow]warning[/yellow]: skipped {problem}", highlight=False, soft_wrap=True
        )


# --- run ---------------------------------------------------------------------------------------


def _filters_line(filters) -> str:
    from configtrail.history.render import filters_text

    return "; ".join(f"{label}: {value}" for label, value in filters_text(filters))


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True, highlight=False)
    try:
        _check_sources(args)
        filters = filters_from(args)
        expected = expected_recording(args)
    except UsageError as error:
        err.print(f"configtrail history: {error}", markup=False, soft_wrap=True)
        return UNUSABLE
    progress = ConsoleProgress(err, bar=err.is_terminal and not args.no_progress)
    with ItemStore() as store:
        try:
            with progress:
                if args.athena_workgroup:
                    runner = athena.AthenaRunner(
                        athena.athena_client(args.endpoint_url, args.aws_region),
                        args.athena_workgroup,
                        args.athena_database,
                    )
                    summary = athena.scan_athena(
                        runner, filters, store, args.athena_table, progress
                    )
                else:
                    source = open_source(args.source, args.endpoint_url, args.aws_region)
                    summary = scan.scan(source, filters, store, progress, jobs=args.jobs)
        except (SourceError, athena.AthenaError) as error:
            err.print(f"configtrail history: {error}", markup=False, soft_wrap=True)
            return UNUSABLE
        if not args.athena_workgroup and summary.files_listed == 0:
            err.print(
                f"configtrail history: {summary.source}: holds no AWS Config deliveries (nothing "
                "under <prefix>/AWSLogs/<account>/Config/<region>/...); check --source and the "
                "key prefix (the stack's keyPrefix, default configtrail)",
                markup=False,
                soft_wrap=True,
            )
            return UNUSABLE
        generated = datetime.now(UTC)
        controls = compliance.build(
            store.timelines(filters.since, filters.until, types=[compliance.COMPLIANCE_TYPE]),
            lambda keys: {t.key: t for t in store.timelines(None, filters.until, keys=keys)},
            filters.since,
        )
        first, last = coverage_window(filters, summary.deliveries, generated)
        recording = coverage.coverage(summary.deliveries, first, last, expected)

        def write(fmt: str, path: Path | None) -> render.Totals:
            report = render.Report(
                summary=summary,
                filters=filters,
                generated=generated,
                timelines=store.timelines(filters.since, filters.until),
                coverage=recording,
                coverage_expected=expected is not None,
                time_range=store.time_range(filters.since, filters.until),
                compliance=controls,
            )
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
            target = path.open("w", encoding="utf-8") if path else nullcontext(sys.stdout)
            with target as out:
                return render.render(report, fmt, out)

        if args.out_dir:
            # One scan, several renderings: the store is read again for each format.
            for fmt, name in OUT_DIR_FILES.items():
                totals = write(fmt, args.out_dir / name)
            render.write_summary(summary, filters, totals, args.out_dir / "summary.md", recording)
        else:
            totals = write(args.format, args.out)
    skipped = len(summary.skipped_files) + len(summary.skipped_items)
    err.print(
        f"history: {totals.resources} resources, {totals.items} items, {totals.changes} field "
        f"changes from {summary.source}"
        + (f" -> {args.out or args.out_dir}" if args.out or args.out_dir else "")
        + (
            f"; [bold red]skipped {len(summary.skipped_files)} files and "
            f"{len(summary.skipped_items)} items[/bold red]"
            if skipped
            else ""
        ),
        soft_wrap=True,
    )
    if summary.items_kept == 0:
        # Deliveries were there, but no item matched: an empty report must not pass for a clean
        # one (a mistyped --resource-id, another account). A window without changes is fine: the
        # resources' earlier state was kept.
        err.print(
            f"history: no resource matched the filters ({_filters_line(filters)}) among "
            f"{summary.items_read} items read; check them",
            markup=False,
            soft_wrap=True,
        )
        return SKIPPED
    return OK if summary.clean else SKIPPED
