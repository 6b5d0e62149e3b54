"""The estate: stack files checked together, through the real CLI (`configtrail plan`).

AWS Config is a singleton per account and region, and PutConfigurationRecorder /
PutDeliveryChannel / PutRetentionConfiguration overwrite what is there: two stacks that would own
the same singleton are refused with exit 2 before anything is registered, naming both files, the
account and the region. Estates here are written to temporary directories.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from configtrail import cli, estate
from configtrail.plan import runner
from configtrail.settings import SettingsError
from tests.conftest import ESTATE

TAGS = {
    "owner": "ml-platform",
    "environment": "test",
    "ai-system": "recommender",
    "data-classification": "internal",
}


def _stack(kind: str, account: str, **settings) -> dict:
    config = {
        "aws:region": "us-east-1",
        "configtrail:accountId": account,
        "configtrail:stackKind": kind,
        "configtrail:tags": TAGS,
    }
    config.update({f"configtrail:{key}": value for key, value in settings.items()})
    return config


@pytest.fixture
def write(tmp_path):
    def write_stack(name: str, config: dict):
        path = tmp_path / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump({"config": config}))
        return path

    return write_stack


@pytest.fixture
def registrations(monkeypatch):
    """Spy on the mock runtime: any call means resources would have been registered."""
    calls = []
    real = runner.pulumi_mocks.set_mocks
    monkeypatch.setattr(
        runner.pulumi_mocks, "set_mocks", lambda *a, **k: (calls.append(a), real(*a, **k))
    )
    return calls


def _plan_all(directory, *extra) -> int:
    return cli.main(
        [
            "plan",
            "--all",
            "--environments-dir",
            str(directory),
            "--quiet",
            "--jobs",
            "1",
            "--out",
            str(directory / "build"),
            *extra,
        ]
    )


def _refused(tmp_path, capsys, registrations) -> str:
    assert _plan_all(tmp_path) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert registrations == [], "nothing may be registered when the estate is refused"
    return " ".join(err.split())


def test_two_stacks_recording_one_account_and_region_are_refused(
    write, tmp_path, capsys, registrations
):
    first = write("team-a", _stack("standalone", "111111111111"))
    second = write("team-b", _stack("standalone", "111111111111", serviceLinkedRole="existing"))
    err = _refused(tmp_path, capsys, registrations)
    assert (
        f"{first} and {second}: both would own the configuration recorder of account "
        "111111111111 in us-east-1" in err
    )
    assert "delivery channel of account 111111111111 in us-east-1" in err
    assert "retention configuration of account 111111111111 in us-east-1" in err
    assert "service-linked role" not in err, "only one of them creates the service-linked role"


def test_two_stacks_creating_one_accounts_service_linked_role_are_refused(
    write, tmp_path, capsys, registrations
):
    write("east", _stack("standalone", "111111111111"))
    # different regions are fine, but both would create AWSServiceRoleForConfig
    write("west", {**_stack("standalone", "111111111111"), "aws:region": "us-west-2"})
    err = _refused(tmp_path, capsys, registrations)
    assert "service-linked role AWSServiceRoleForConfig of account 111111111111" in err
    assert "serviceLinkedRole: existing" in err


def test_one_account_in_two_stacks_with_split_regions_and_one_role_plans(write, tmp_path, capsys):
    write("east", _stack("standalone", "111111111111"))
    west = _stack("standalone", "111111111111", serviceLinkedRole="existing")
    west["aws:region"] = "us-west-2"
    write("west", west)
    assert _plan_all(tmp_path) == 0, capsys.readouterr().err


def test_skipping_the_recorder_lets_another_stack_own_it_but_not_retention(
    write, tmp_path, capsys, registrations
):
    write("owner", _stack("standalone", "111111111111"))
    write(
        "second",
        _stack("standalone", "111111111111", existingRecorder="skip"),
    )
    err = _refused(tmp_path, capsys, registrations)
    assert "configuration recorder" not in err
    assert "retention configuration of account 111111111111 in us-east-1" in err


def test_a_member_without_an_archive_is_refused(write, tmp_path, capsys, registrations):
    path = write("ml", _stack("member", "333333333333"))
    err = _refused(tmp_path, capsys, registrations)
    assert f"{path}: configtrail:archiveStack: missing; the estate has 0 archive stacks" in err


def test_a_member_naming_a_stack_that_is_not_an_archive_is_refused(
    write, tmp_path, capsys, registrations
):
    write("audit", _stack("aggregator", "222222222222"))
    path = write("ml", _stack("member", "333333333333", archiveStack="audit"))
    err = _refused(tmp_path, capsys, registrations)
    assert f"{path}: configtrail:archiveStack = 'audit': that stack is a 'aggregator' stack" in err


def test_a_member_naming_a_missing_stack_is_refused(write, tmp_path, capsys, registrations):
    write("logs", _stack("archive", "111111111111"))
    path = write("ml", _stack("member", "333333333333", archiveStack="log"))
    err = _refused(tmp_path, capsys, registrations)
    assert f"{path}: configtrail:archiveStack = 'log': no stack file" in err
    assert "(archive stacks: logs)" in err


def test_two_archives_need_members_to_say_which(write, tmp_path, capsys, registrations):
    write("logs-eu", _stack("archive", "111111111111"))
    write("logs-us", _stack("archive", "111111111112"))
    path = write("ml", _stack("member", "333333333333"))
    err = _refused(tmp_path, capsys, registrations)
    assert (
        f"{path}: configtrail:archiveStack: missing; the estate has 2 archive stacks "
        "(logs-eu, logs-us)" in err
    )


def test_an_archive_may_not_expire_history_a_member_still_keeps(
    write, tmp_path, capsys, registrations
):
    archive = write(
        "logs",
        _stack("archive", "111111111111", retentionDays=365, archiveExpirationDays=400),
    )
    member = write("ml", _stack("member", "333333333333", retentionDays=2557))
    err = _refused(tmp_path, capsys, registrations)
    assert f"{archive}: configtrail:archiveExpirationDays = 400" in err
    assert f"{member} keeps 2557 days" in err


def test_the_archive_admits_the_members_of_the_estate(write, tmp_path):
    write("logs", _stack("archive", "111111111111"))
    write("ml-a", _stack("member", "333333333333"))
    write("ml-b", _stack("member", "444444444444", regions=["us-east-1", "eu-west-1"]))
    write("audit", _stack("aggregator", "222222222222"))
    loaded = estate.load(tmp_path)
    assert loaded.delivering_accounts("logs") == ["333333333333", "444444444444"]
    assert loaded.archive_of("ml-b").name == "logs"
    assert loaded.deploy_order() == [["logs"], ["ml-a", "ml-b"], ["audit"]]
    assert loaded.recorded() == [
        ("333333333333", "us-east-1", "ml-a"),
        ("444444444444", "eu-west-1", "ml-b"),
        ("444444444444", "us-east-1", "ml-b"),
    ]
    assert loaded.accounts()["111111111111"] == ["logs"]


def test_the_example_estate_is_one_organization_plus_a_trial():
    assert ESTATE.deploy_order() == [
        ["log-archive", "trial"],
        ["ml-dev", "ml-prod"],
        ["aggregator"],
    ]
    assert ESTATE.delivering_accounts("log-archive") == ["333333333333", "444444444444"]
    recorded_accounts = {account for account, _, _ in ESTATE.recorded()}
    assert recorded_accounts == {"333333333333", "444444444444", "555555555555"}


def test_adding_a_member_is_one_file(tmp_path, capsys):
    """A copy of a member stack file with a new account id plans, and the archive admits it."""
    shutil.copytree(estate.ENVIRONMENTS, tmp_path, dirs_exist_ok=True)
    config = yaml.safe_load((tmp_path / "Pulumi.ml-dev.yaml").read_text())
    config["config"]["configtrail:accountId"] = "666666666666"
    (tmp_path / "Pulumi.ml-research.yaml").write_text(yaml.safe_dump(config))
    assert _plan_all(tmp_path) == 0, capsys.readouterr().err
    loaded = estate.load(tmp_path)
    assert "666666666666" in loaded.delivering_accounts("log-archive")
    assert (tmp_path / "build" / "ml-research" / "stack.json").is_file()


def test_a_stack_name_that_cannot_name_aws_resources_is_refused(write, tmp_path):
    write("Team_A", _stack("standalone", "111111111111"))
    with pytest.raises(SettingsError, match="stack name 'Team_A' must be lowercase"):
        estate.load(tmp_path)
