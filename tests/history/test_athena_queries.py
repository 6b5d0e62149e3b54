"""`configtrail history --athena-workgroup`: the query it builds, and the result rows it parses.

Query construction is checked as text. Running it goes through moto's Athena (server mode), a
stand-in that does not execute SQL: it records the query and returns the rows queued through its
`/moto-api/static/athena/query-results` endpoint, here rows shaped as Athena returns them for the
sample archive. That proves the API calls, pagination and parsing; whether Athena accepts the SQL
and the table definition can only be seen against a real workgroup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
import requests

from configtrail.history import athena
from configtrail.history.scan import Filters
from tests.history import archive


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _parts(query: str) -> tuple[str, str]:
    window, _, earlier = query.partition("\nUNION ALL\n")
    return window, earlier


def test_query_reads_only_the_partitions_of_the_window():
    query = athena.build_query(
        Filters(
            types=frozenset({"AWS::SageMaker::Model"}),
            regions=frozenset({"us-east-1"}),
            since=at("2025-02-28T00:00:00"),
            until=at("2025-03-02T00:00:00"),
            baseline_days=1,
        ),
        "configtrail_prod_history",
    )
    window, earlier = _parts(query)
    assert 'FROM "configtrail_prod_history"."config_items"' in window
    assert "CROSS JOIN UNNEST(configurationitems) AS t(ci)" in window
    # The window: history of its days and one day past it (delivery lag), unpadded.
    assert (
        "kind = 'ConfigHistory'\n  AND dt IN ('2025/2/28', '2025/3/1', '2025/3/2', '2025/3/3')"
    ) in window
    assert "region IN ('us-east-1')" in window
    assert "ci.resourcetype IN ('AWS::SageMaker::Model')" in window
    assert (
        "from_iso8601_timestamp(ci.configurationitemcapturetime) >= "
        "from_iso8601_timestamp('2025-02-28T00:00:00.000000Z')"
    ) in window
    assert (
        "from_iso8601_timestamp(ci.configurationitemcapturetime) < "
        "from_iso8601_timestamp('2025-03-02T00:00:00.000000Z')"
    ) in window
    assert '"$path" AS source' in window
    # The state before: the newest item per resource in any kind of file of the baseline days,
    # whatever its capture time (a snapshot repeats old states).
    assert "dt IN ('2025/2/27', '2025/2/28')" in earlier
    assert "kind" not in earlier.split("WHERE", 1)[1]
    assert (
        "row_number() OVER (PARTITION BY ci.awsaccountid, region, ci.resourcetype, "
        "ci.resourceid ORDER BY from_iso8601_timestamp(ci.configurationitemcapturetime) DESC, "
        "ci.configurationstateid DESC) AS newest"
    ) in earlier
    assert earlier.endswith("WHERE newest = 1")
    assert (
        "from_iso8601_timestamp(ci.configurationitemcapturetime) < "
        "from_iso8601_timestamp('2025-02-28T00:00:00.000000Z')"
    ) in earlier
    assert "ci.resourcetype IN ('AWS::SageMaker::Model')" in earlier


def test_unbounded_baseline_reads_every_earlier_day():
    query = athena.build_query(
        Filters(since=at("2025-02-28T00:00:00"), until=at("2025-03-01T00:00:00")), "db"
    )
    _, earlier = _parts(query)
    assert "newest = 1" in earlier and "dt IN" not in earlier
    _, none = _parts(
        athena.build_query(Filters(since=at("2025-02-28T00:00:00"), baseline_days=0), "db")
    )
    assert none == ""


def test_without_a_window_only_history_files_are_read():
    query = athena.build_query(Filters(), "db")
    assert query.endswith("WHERE kind = 'ConfigHistory'")


def test_values_are_quoted_as_sql_literals():
    query = athena.build_query(Filters(resource_ids=frozenset({"it's"})), "db")
    assert "ci.resourceid IN ('it''s')" in query


@pytest.mark.parametrize("name", ["Prod", "db; DROP TABLE x", "db-1", ""])
def test_database_and_table_names_are_checked(name):
    with pytest.raises(athena.AthenaError, match="is not valid"):
        athena.build_query(Filters(), name)
    with pytest.raises(athena.AthenaError, match="is not valid"):
        athena.build_query(Filters(), "db", table=name)


def athena_rows(items, region_of):
    """Rows as GetQueryResults returns them for build_query's columns (all text, header first)."""
    header = {"Data": [{"VarCharValue": c} for c in athena.COLUMNS]}
    rows = [header]
    for raw in items:
        values = {
            "account": raw["awsAccountId"],
            "delivery_region": region_of(raw),
            "region": raw["awsRegion"],
            "resource_type": raw["resourceType"],
            "resource_id": raw["resourceId"],
            "resource_name": raw["resourceName"],
            "arn": raw["ARN"],
            "capture_time": raw["configurationItemCaptureTime"],
            "status": raw["configurationItemStatus"],
            "state_id": str(raw["configurationStateId"]),
            "configuration": None
            if raw["configuration"] is None
            else json.dumps(raw["configuration"]),
            "supplementary_configuration": json.dumps(raw["supplementaryConfiguration"]),
            "tags": json.dumps(raw["tags"]),
            "relationships": json.dumps(raw["relationships"]),
            "source": f"s3://archive/{raw['resourceId']}.json.gz",
        }
        rows.append(
            {
                "Data": [
                    {} if values[c] is None else {"VarCharValue": values[c]} for c in athena.COLUMNS
                ]
            }
        )
    return rows


def test_result_rows_parse_nulls_and_header():
    rows = athena_rows([archive.M3], lambda raw: "us-east-1")
    [row] = list(athena.result_rows([{"ResultSet": {"Rows": rows}}]))
    assert row["configuration"] is None
    delivered = athena.row_to_delivery(row)
    assert delivered["configurationItemStatus"] == "ResourceDeleted"
    assert delivered["relationships"] == []


@pytest.fixture
def athena_results(moto_endpoint):
    """Queue result sets in the moto server for the next queries."""

    def queue(rows):
        response = requests.post(
            f"{moto_endpoint}/moto-api/static/athena/query-results",
            json={
                "account_id": "123456789012",
                "region": "us-east-1",
                "results": [{"rows": rows, "column_info": []}],
            },
            timeout=10,
        )
        assert response.status_code == 201

    return queue


@pytest.mark.slow
def test_timelines_through_athena_match_the_file_scan(
    run_cli, moto_endpoint, athena_results, good_dir
):
    client = boto3.client("athena", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_work_group(
        Name="configtrail-test-history",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://configtrail-test-athena/"}},
    )
    items = [
        archive.M1,
        archive.M2,
        archive.M3,
        archive.R1,
        archive.R2,
        archive.B1,
        archive.B2,
        archive.G2,
        archive.G1,
        archive.M2,
    ]  # M2 twice: history and snapshot
    athena_results(
        athena_rows(
            items, lambda raw: "eu-west-1" if raw["awsRegion"] == "eu-west-1" else "us-east-1"
        )
    )
    code, out, err = run_cli(
        "--athena-workgroup",
        "configtrail-test-history",
        "--athena-database",
        "configtrail_test_history",
        "--endpoint-url",
        moto_endpoint,
        "--aws-region",
        "us-east-1",
        "--format",
        "json",
    )
    assert code == 0, err
    through_athena = json.loads(out)
    _, out, _ = run_cli("--source", str(good_dir), "--format", "json")
    from_files = json.loads(out)

    def shape(report):
        return {
            t["resourceId"]: [
                (i["captureTime"], i["status"], i["note"], json.dumps(i["changes"], sort_keys=True))
                for i in t["items"]
            ]
            for t in report["timelines"]
        }

    assert shape(through_athena) == shape(from_files)
    assert through_athena["summary"]["duplicates"] == 1
    assert through_athena["summary"]["source"] == (
        "athena://configtrail-test-history/configtrail_test_history.config_items"
    )
    executions = client.list_query_executions(WorkGroup="configtrail-test-history")[
        "QueryExecutionIds"
    ]
    sent = sorted(
        client.get_query_execution(QueryExecutionId=e)["QueryExecution"]["Query"]
        for e in executions
    )
    # The items, and the delivered (account, region, day) partitions for the coverage.
    assert len(sent) == 2
    assert sent[0].startswith("SELECT DISTINCT account, region, dt")
    assert sent[1].startswith("SELECT ci.awsaccountid AS account")
    context = client.get_query_execution(QueryExecutionId=executions[0])["QueryExecution"]
    assert context["QueryExecutionContext"]["Database"] == "configtrail_test_history"


class _FailingAthena:
    """A hand-written fake client whose query fails, for the error path only."""

    def start_query_execution(self, **_):
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, **_):
        return {
            "QueryExecution": {
                "Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: config_items"}
            }
        }


def test_failed_query_is_reported_with_its_reason():
    runner = athena.AthenaRunner(_FailingAthena(), "wg", "db", poll_seconds=0)
    with pytest.raises(
        athena.AthenaError, match="query q-1 in workgroup wg failed: TABLE_NOT_FOUND: config_items"
    ):
        list(runner.run("SELECT 1"))
