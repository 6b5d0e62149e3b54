"""An organization archive: many accounts under one prefix. --account, reports grouped by account,
and the coverage section (delivered days and gaps per expected account and region)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from configtrail.history import athena
from configtrail.history.coverage import Gap, coverage
from configtrail.history.scan import Filters
from tests.history import archive

DEV, PROD, STRAY = "333333333333", "444444444444", "999999999999"
DAY = datetime(2025, 3, 1, tzinfo=UTC)


def _guardrail(account: str, when: datetime, message: str) -> dict:
    raw = archive.guardrail(when.strftime("%Y-%m-%dT%H:%M:%S"), message)
    raw["awsAccountId"] = account
    raw["awsRegion"] = "us-east-1"
    raw["ARN"] = f"arn:aws:bedrock:us-east-1:{account}:guardrail/gr-abc123"
    return raw


def _history(account: str, day: int, items: list[dict]):
    from configtrail.history import layout

    start = DAY + timedelta(days=day - 1)
    key = layout.history_key(
        "org", account, "us-east-1", "AWS::Bedrock::Guardrail", start, start + timedelta(hours=6)
    )
    return key, gzip.compress(archive.document(items))


def organization_files() -> dict[str, bytes]:
    """dev delivers on March 1, 2 and 4 (not 3, nor after 4); prod on March 1-5; an account the
    estate does not know delivers once."""
    files = {}
    for day in (1, 2, 4):
        when = DAY + timedelta(days=day - 1, hours=2)
        files.update([_history(DEV, day, [_guardrail(DEV, when, f"dev v{day}")])])
    for day in range(1, 6):
        when = DAY + timedelta(days=day - 1, hours=3)
        files.update([_history(PROD, day, [_guardrail(PROD, when, f"prod v{day}")])])
    files.update([_history(STRAY, 2, [_guardrail(STRAY, DAY + timedelta(days=1), "stray")])])
    return files


@pytest.fixture
def org_dir(tmp_path):
    archive.write_dir(tmp_path, organization_files())
    return tmp_path


WINDOW = ("--since", "2025-03-01", "--until", "2025-03-06")


def test_account_filter_reads_only_that_accounts_deliveries(run_cli, org_dir):
    code, out, err = run_cli("--source", str(org_dir), "--format", "json", *WINDOW)
    assert code == 0, err
    assert {t["account"] for t in json.loads(out)["timelines"]} == {DEV, PROD, STRAY}
    _, out, _ = run_cli(
        "--source", str(org_dir), "--format", "json", "--account", PROD, "--account", STRAY
    )
    document = json.loads(out)
    assert {t["account"] for t in document["timelines"]} == {PROD, STRAY}
    assert document["summary"]["filesRead"] == 6  # decided from the keys: dev's not fetched
    assert document["filters"]["accounts"] == f"{PROD}, {STRAY}"


@pytest.mark.parametrize(
    "value",
    ["12345", "abcdefghijkl", "3333333333333", "\uff133333333333"],  # a fullwidth digit
)
def test_account_must_be_twelve_digits(run_cli, org_dir, value):
    code, out, err = run_cli("--source", str(org_dir), "--account", value)
    assert code == 2 and out == ""
    assert " ".join(err.split()) == (
        f"configtrail history: --account {value!r}: not an AWS account id (12 digits)"
    )


def test_reports_are_grouped_by_account(run_cli, org_dir):
    _, out, _ = run_cli("--source", str(org_dir), "--format", "markdown", *WINDOW)
    headings = [line for line in out.splitlines() if line.startswith("## Account")]
    assert headings == [f"## Account {DEV}", f"## Account {PROD}", f"## Account {STRAY}"]
    assert f"| {PROD} | 1 | 5 | 4 |" in out  # resources, items, field changes
    _, out, _ = run_cli("--source", str(org_dir), "--format", "json", *WINDOW)
    assert json.loads(out)["accounts"] == [
        {"account": DEV, "resources": 1, "items": 3, "changes": 2},
        {"account": PROD, "resources": 1, "items": 5, "changes": 4},
        {"account": STRAY, "resources": 1, "items": 1, "changes": 0},
    ]


def test_coverage_names_every_gap_of_the_expected_pairs(run_cli, org_dir):
    code, out, _ = run_cli(
        "--source",
        str(org_dir),
        "--format",
        "json",
        *WINDOW,
        "--expect",
        f"{DEV}:us-east-1",
        "--expect",
        f"{PROD}:us-east-1",
        "--expect",
        f"{PROD}:eu-west-1",
    )
    assert code == 0  # a gap is a finding in the report, not a read failure
    recording = json.loads(out)["coverage"]
    assert recording["expectedGiven"] is True
    pairs = {(p["account"], p["region"]): p for p in recording["pairs"]}
    dev = pairs[(DEV, "us-east-1")]
    assert (dev["status"], dev["windowDays"], dev["deliveredDays"]) == ("gaps", 5, 3)
    assert dev["gaps"] == [
        {"first": "2025-03-03", "last": "2025-03-03", "days": 1},
        {"first": "2025-03-05", "last": "2025-03-05", "days": 1},
    ]
    assert pairs[(PROD, "us-east-1")]["status"] == "continuous"
    assert pairs[(PROD, "eu-west-1")]["status"] == "no delivery"
    assert pairs[(PROD, "eu-west-1")]["gaps"] == [
        {"first": "2025-03-01", "last": "2025-03-05", "days": 5}
    ]
    # Delivering into the archive without being expected: listed, flagged.
    assert pairs[(STRAY, "us-east-1")]["status"] == "not expected"


def test_coverage_in_the_human_reports(run_cli, org_dir, tmp_path):
    args = ("--source", str(org_dir), *WINDOW, "--expect", f"{DEV}:us-east-1")
    _, out, _ = run_cli(*args, "--format", "markdown")
    row = next(line for line in out.splitlines() if line.startswith(f"| {DEV} | us-east-1 |"))
    assert row == f"| {DEV} | us-east-1 | gaps | 3 of 5 | 2025-03-03; 2025-03-05 |"
    _, out, _ = run_cli(*args, "--format", "table")
    assert "2025-03-03; 2025-03-05" in out
    run_cli(*args, "--out-dir", str(tmp_path / "audit"))
    summary = (tmp_path / "audit" / "summary.md").read_text()
    assert "- recording: 0 of 3 account/region pairs delivered every day" in summary
    assert f"- {DEV} us-east-1: gaps (2025-03-03; 2025-03-05)" in summary


def test_without_expectations_the_pairs_seen_are_expected(run_cli, org_dir):
    _, out, _ = run_cli("--source", str(org_dir), "--format", "json", *WINDOW)
    recording = json.loads(out)["coverage"]
    assert recording["expectedGiven"] is False
    assert [(p["account"], p["status"]) for p in recording["pairs"]] == [
        (DEV, "gaps"),
        (PROD, "continuous"),
        (STRAY, "gaps"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("333333333333", "--expect '333333333333': use ACCOUNT:REGION"),
        ("3333:us-east-1", "--expect '3333': not an AWS account id (12 digits)"),
        (
            "333333333333:us-east-9",
            "--expect '333333333333:us-east-9': 'us-east-9' is not a region where AWS Config is "
            "offered (did you mean 'us-east-2'?)",
        ),
    ],
)
def test_expect_is_validated(run_cli, org_dir, value, message):
    code, _, err = run_cli("--source", str(org_dir), "--expect", value)
    assert code == 2
    assert message in " ".join(err.split())


REPO = Path(__file__).resolve().parents[2]


def test_estate_supplies_the_expected_pairs(run_cli, org_dir):
    """The repository's example estate: ml-dev (333333333333) records us-east-1; ml-prod
    (444444444444) us-east-1, eu-west-1 and us-west-2; trial (555555555555) us-east-1."""
    code, out, err = run_cli(
        "--source",
        str(org_dir),
        "--format",
        "json",
        *WINDOW,
        "--estate",
        str(REPO / "environments"),
    )
    assert code == 0, err
    pairs = {(p["account"], p["region"]): p["status"] for p in json.loads(out)["coverage"]["pairs"]}
    assert pairs == {
        (DEV, "us-east-1"): "gaps",
        (PROD, "us-east-1"): "continuous",
        (PROD, "eu-west-1"): "no delivery",
        (PROD, "us-west-2"): "no delivery",
        ("555555555555", "us-east-1"): "no delivery",
        (STRAY, "us-east-1"): "not expected",
    }


def test_a_bad_estate_is_one_clear_line(run_cli, org_dir, tmp_path):
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  configtrail:accountId: '12'\n")
    code, out, err = run_cli("--source", str(org_dir), "--estate", str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"configtrail history: --estate {tmp_path}: ")
    assert "Traceback" not in err and "Pulumi.broken.yaml" in err
    code, _, err = run_cli("--source", str(org_dir), "--estate", str(tmp_path / "none"))
    assert code == 2 and "no such directory" in err


def test_coverage_function():
    days = [("a", "r", date(2025, 1, d)) for d in (2, 3, 7)] + [("b", "r", date(2024, 12, 31))]
    [a, b] = coverage(days, date(2025, 1, 1), date(2025, 1, 8), expected=[("a", "r"), ("b", "r")])
    assert a.gaps == (
        Gap(date(2025, 1, 1), date(2025, 1, 1)),
        Gap(date(2025, 1, 4), date(2025, 1, 6)),
        Gap(date(2025, 1, 8), date(2025, 1, 8)),
    )
    assert str(a.gaps[1]) == "2025-01-04 to 2025-01-06 (3 days)"
    assert (len(a.delivered), a.window_days, a.status) == (3, 8, "gaps")
    # b delivered only before the window: no delivery inside it.
    assert (b.status, b.gaps) == ("no delivery", (Gap(date(2025, 1, 1), date(2025, 1, 8)),))
    # Nothing expected and nothing delivered in the window: nothing to list.
    assert coverage(days, date(2026, 1, 1), date(2026, 1, 2), expected=[]) == []


def test_athena_filters_and_counts_deliveries_by_account_partition():
    filters = Filters(
        accounts=frozenset({PROD}),
        since=datetime(2025, 3, 1, tzinfo=UTC),
        until=datetime(2025, 3, 3, tzinfo=UTC),
    )
    query = athena.build_query(filters, "db")
    window, _, earlier = query.partition("\nUNION ALL\n")
    assert f"account IN ('{PROD}')" in window and f"account IN ('{PROD}')" in earlier
    assert athena.deliveries_query(filters, "db") == (
        'SELECT DISTINCT account, region, dt\nFROM "db"."config_items"\n'
        f"WHERE dt IN ('2025/3/1', '2025/3/2', '2025/3/3')\n  AND account IN ('{PROD}')"
    )
