"""The same history questions, answered by Athena over the table the stack creates.

With `configtrail:athena: true` the recording stack creates a Glue table over the archive with
partition projection (`region`, `dt` = `yyyy/M/d` as in the delivery keys, `kind` = ConfigHistory
or ConfigSnapshot) and a workgroup with encrypted results; see src/configtrail/stack/athena.py.
Here the CLI builds one SELECT from the same filters as a local scan, runs it in that workgroup
and turns each result row back into a delivered item, so timelines, diffs and reports are the
exact same code whichever way the items were read.

The table keeps `configuration`, `supplementaryConfiguration`, `tags` and `relationships` as JSON
text (declared `string`), so what comes back is what AWS Config wrote.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from configtrail.history.model import Item, ItemError, item_from_delivery
from configtrail.history.scan import Filters, Problem, Progress, ScanSummary
from configtrail.history.store import ItemStore

DEFAULT_TABLE = "config_items"
# History files can be delivered the day after the changes they carry.
DELIVERY_LAG_DAYS = 1
MAX_DAYS_LISTED = 3660  # beyond ten years, leave the date partitions unrestricted
_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
COLUMNS = (
    "account",
    "delivery_region",
    "region",
    "resource_type",
    "resource_id",
    "resource_name",
    "arn",
    "capture_time",
    "status",
    "state_id",
    "configuration",
    "supplementary_configuration",
    "tags",
    "relationships",
    "source",
)


class AthenaError(Exception):
    """The query could not be run or failed; the message says which and why."""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(_literal(v) for v in sorted(values))})"


def _days(first: date, last: date) -> list[str]:
    """Partition values (`yyyy/M/d`, not zero-padded, as AWS Config names its folders)."""
    days, day = [], first
    while day <= last:
        days.append(f"{day.year}/{day.month}/{day.day}")
        day += timedelta(days=1)
    return days


def _timestamp(value: datetime) -> str:
    return _literal(value.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def _captured(item: str) -> str:
    return f"from_iso8601_timestamp({item}.configurationitemcapturetime)"


def build_query(
    filters: Filters, database: str, table: str = DEFAULT_TABLE, today: date | None = None
) -> str:
    """One SELECT returning the wanted items, reading only the partitions they can be in.

    The window's items come from the history partitions of the window's days and the day after
    (delivery lag): inside the window the history files carry every change. Each resource's last
    state before the window is its newest item before `since` in any history or snapshot
    partition (a snapshot repeats states with their original capture times), over all earlier
    days or, with `baselineDays`, over those days only.
    """
    _check_names(database, table)
    item = "ci"
    common: list[str] = []
    if filters.accounts is not None:
        common.append(_in("account", filters.accounts))
    if filters.regions is not None:
        common.append(_in("region", filters.regions))
    if filters.types is not None:
        common.append(_in(f"{item}.resourcetype", filters.types))
    if filters.resource_ids is not None:
        common.append(_in(f"{item}.resourceid", filters.resource_ids))
    window = ["kind = 'ConfigHistory'"]
    if filters.since is not None:
        last = (filters.until.date() if filters.until else (today or date.today())) + timedelta(
            days=DELIVERY_LAG_DAYS
        )
        history_days = _days(filters.since.date(), last)
        if len(history_days) <= MAX_DAYS_LISTED:
            window.append(_in("dt", history_days))
        window.append(f"{_captured(item)} >= from_iso8601_timestamp({_timestamp(filters.since)})")
    if filters.until is not None:
        window.append(f"{_captured(item)} < from_iso8601_timestamp({_timestamp(filters.until)})")
    query = _select(item, database, table, common + window)
    if filters.since is not None and filters.baseline_days != 0:
        before = [f"{_captured(item)} < from_iso8601_timestamp({_timestamp(filters.since)})"]
        if filters.read_from is not None:
            before.insert(0, _in("dt", _days(filters.read_from.date(), filters.since.date())))
        ranked = _select(
            item,
            database,
            table,
            common + before,
            extra=f"row_number() OVER (PARTITION BY {item}.awsaccountid, region, "
            f"{item}.resourcetype, {item}.resourceid ORDER BY {_captured(item)} DESC, "
            f"{item}.configurationstateid DESC) AS newest",
        )
        query += (
            f"\nUNION ALL\nSELECT {', '.join(COLUMNS)} FROM (\n{ranked}\n) AS earlier "
            "WHERE newest = 1"
        )
    return query


def _check_names(database: str, table: str) -> None:
    for label, name in (("database", database), ("table", table)):
        if not _NAME.match(name):
            raise AthenaError(
                f"Athena {label} name {name!r} is not valid: use lowercase letters, digits and _"
            )


def deliveries_query(
    filters: Filters, database: str, table: str = DEFAULT_TABLE, today: date | None = None
) -> str:
    """The (account, region, day) partitions holding at least one delivered file in the window:
    what the coverage section needs, from the partition columns alone."""
    _check_names(database, table)
    conditions = []
    if filters.since is not None:
        last = filters.until.date() if filters.until else (today or date.today())
        days = _days(filters.since.date(), last)
        if len(days) <= MAX_DAYS_LISTED:
            conditions.append(_in("dt", days))
    if filters.accounts is not None:
        conditions.append(_in("account", filters.accounts))
    if filters.regions is not None:
        conditions.append(_in("region", filters.regions))
    return (
        f'SELECT DISTINCT account, region, dt\nFROM "{database}"."{table}"\nWHERE '
        + "\n  AND ".join(conditions or ["TRUE"])
    )


def _select(item: str, database: str, table: str, conditions: list[str], extra: str = "") -> str:
    selected = (
        f"{item}.awsaccountid",
        "region",
        f"{item}.awsregion",
        f"{item}.resourcetype",
        f"{item}.resourceid",
        f"{item}.resourcename",
        f"{item}.arn",
        f"{item}.configurationitemcapturetime",
        f"{item}.configurationitemstatus",
        f"CAST({item}.configurationstateid AS varchar)",
        f"{item}.configuration",
        f"{item}.supplementaryconfiguration",
        f"{item}.tags",
        f"{item}.relationships",
        '"$path"',
    )
    columns = [f"{expr} AS {name}" for expr, name in zip(selected, COLUMNS, strict=True)]
    return (
        "SELECT "
        + ", ".join(columns + ([extra] if extra else []))
        + f'\nFROM "{database}"."{table}"\nCROSS JOIN UNNEST(configurationitems) AS t({item})'
        + "\nWHERE "
        + "\n  AND ".join(conditions or ["TRUE"])
    )


def _json(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def row_to_delivery(row: dict[str, str | None]) -> dict[str, Any]:
    """A result row as the configuration item AWS Config delivered."""
    return {
        "awsAccountId": row.get("account"),
        "awsRegion": row.get("region"),
        "resourceType": row.get("resource_type"),
        "resourceId": row.get("resource_id"),
        "resourceName": row.get("resource_name"),
        "ARN": row.get("arn"),
        "configurationItemCaptureTime": row.get("capture_time"),
        "configurationItemStatus": row.get("status"),
        "configurationStateId": row.get("state_id"),
        "configuration": _json(row.get("configuration")),
        "supplementaryConfiguration": _json(row.get("supplementary_configuration")) or {},
        "tags": _json(row.get("tags")) or {},
        "relationships": _json(row.get("relationships")) or [],
    }


def result_rows(pages) -> Iterator[dict[str, str | None]]:
    """Rows of GetQueryResults pages as dicts; the first row of the first page is the header
    and a NULL is a Datum without VarCharValue."""
    header: list[str] | None = None
    for page in pages:
        for row in page["ResultSet"]["Rows"]:
            values = [datum.get("VarCharValue") for datum in row["Data"]]
            if header is None:
                header = [str(v) for v in values]
                continue
            yield dict(zip(header, values, strict=False))


@dataclass
class AthenaRunner:
    """Runs one query in a workgroup and waits for it."""

    client: Any
    workgroup: str
    database: str
    poll_seconds: float = 1.0
    timeout_seconds: float = 1800.0

    def run(self, query: str) -> Iterator[dict[str, str | None]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            execution = self.client.start_query_execution(
                QueryString=query,
                QueryExecutionContext={"Database": self.database},
                WorkGroup=self.workgroup,
            )["QueryExecutionId"]
            deadline = time.monotonic() + self.timeout_seconds
            while True:
                status = self.client.get_query_execution(QueryExecutionId=execution)[
                    "QueryExecution"
                ]["Status"]
                state = status["State"]
                if state == "SUCCEEDED":
                    break
                if state in ("FAILED", "CANCELLED"):
                    raise AthenaError(
                        f"Athena query {execution} in workgroup {self.workgroup} {state.lower()}: "
                        f"{status.get('StateChangeReason', 'no reason given')}"
                    )
                if time.monotonic() > deadline:
                    raise AthenaError(
                        f"Athena query {execution} still {state} after {self.timeout_seconds:.0f} s"
                    )
                time.sleep(self.poll_seconds)
            pages = self.client.get_paginator("get_query_results").paginate(
                QueryExecutionId=execution
            )
            yield from result_rows(pages)
        except ClientError as error:
            raise AthenaError(
                f"Athena workgroup {self.workgroup}, database {self.database}: "
                f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}"
            ) from None
        except BotoCoreError as error:
            raise AthenaError(f"Athena: {error}") from None


def athena_client(endpoint_url: str | None = None, region: str | None = None):
    import boto3

    return boto3.client("athena", endpoint_url=endpoint_url, region_name=region)


def scan_athena(
    runner: AthenaRunner,
    filters: Filters,
    store: ItemStore,
    table: str,
    progress: Progress | None = None,
) -> ScanSummary:
    """Fill `store` from Athena, as `scan.scan` does from files."""
    progress = progress or Progress()
    summary = ScanSummary(source=f"athena://{runner.workgroup}/{runner.database}.{table}")
    batch: list[Item] = []
    for index, row in enumerate(runner.run(build_query(filters, runner.database, table))):
        summary.items_read += 1
        source = row.get("source") or summary.source
        try:
            item = item_from_delivery(
                row_to_delivery(row),
                delivery_account=row.get("account") or "",
                delivery_region=row.get("delivery_region") or "",
                source=source,
            )
        except ItemError as error:
            problem = Problem(f"{source} result row {index + 1}", str(error))
            summary.skipped_items.append(problem)
            progress.warn(problem)
            continue
        if filters.wants_item(item):
            batch.append(item)
        if len(batch) >= 5000:
            store.add(batch)
            batch = []
    store.add(batch)
    store.commit()
    for row in runner.run(deliveries_query(filters, runner.database, table)):
        try:
            year, month, day = (int(part) for part in (row.get("dt") or "").split("/"))
            summary.deliveries.add(
                (row["account"] or "", row["region"] or "", date(year, month, day))
            )
        except (KeyError, ValueError):
            problem = Problem(f"{summary.source} partition {row}", "not an account, region, day")
            summary.skipped_items.append(problem)
            progress.warn(problem)
    summary.files_read = 0
    summary.counts = store.counts
    return summary
