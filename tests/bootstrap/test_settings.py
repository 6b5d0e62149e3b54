"""Bootstrap settings (`bootstrap/pipeline.yaml`): the shipped file is valid and applies to every
account of the estate; every bad value is one line naming the file, the key, the value and what
is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from configtrail.bootstrap import settings as bs
from configtrail.settings import SettingsError
from tests.bootstrap.helpers import SHIPPED, settings_file
from tests.conftest import ESTATE

SOURCE = "bootstrap/pipeline.yaml"


def problems(**changes) -> list[str]:
    values = {**SHIPPED}
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    with pytest.raises(SettingsError) as error:
        bs.accounts(bs.from_mapping(values, SOURCE), ESTATE, SOURCE)
    return error.value.problems


def test_the_shipped_file_is_valid_and_covers_every_account():
    settings = bs.load()
    assert settings.repository == "example-org/configtrail"
    found = bs.load_accounts()
    assert list(found) == list(ESTATE.accounts())
    assert {name for a in found.values() for name in a.stack_names} == set(ESTATE.stacks)
    assert found["111111111111"].audit_stack.name == "log-archive"
    assert all(a.audit_stack is None for k, a in found.items() if k != "111111111111")


def test_defaults():
    settings = bs.from_mapping({"githubOrg": "acme", "githubRepo": "trail"}, SOURCE)
    assert settings.default_branch == "main"
    assert settings.oidc_provider == "create"
    assert settings.session_seconds == 7200
    assert settings.job_timeout_minutes == 110
    assert settings.state_bucket is None
    assert settings.audit_role is True and settings.audit_stack is None
    # the estate has exactly one archive stack: that is the audited one
    found = bs.accounts(settings, ESTATE)
    assert found["111111111111"].audit_stack.name == "log-archive"


def test_overrides_apply_to_their_account_only():
    settings = bs.from_mapping(
        {
            **SHIPPED,
            "stateBucket": "acme-state",
            "accounts": {
                "444444444444": {
                    "oidcProvider": "existing",
                    "stateBucket": "acme-prod-state",
                    "region": "eu-west-1",
                    "tags": {"owner": "ml-prod-team"},
                }
            },
        },
        SOURCE,
    )
    found = bs.accounts(settings, ESTATE)
    prod, dev = found["444444444444"], found["333333333333"]
    assert (prod.oidc_provider, prod.state_bucket, prod.region) == (
        "existing",
        "acme-prod-state",
        "eu-west-1",
    )
    assert prod.tags == {"owner": "ml-prod-team", "ai-system": "ml-platform"}
    assert (dev.oidc_provider, dev.state_bucket, dev.region) == (
        "create",
        "acme-state",
        "us-east-1",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"githubOrg": None}, "githubOrg: missing (required)"),
        ({"githubRepo": None}, "githubRepo: missing (required)"),
        ({"githubOrg": "-bad-"}, 'githubOrg = "-bad-": must be a GitHub owner'),
        ({"githubRepo": "con fig"}, 'githubRepo = "con fig": must be a repository name'),
        ({"defaultBranch": "ma..in"}, "must be a branch name"),
        ({"oidcProvider": "adopt"}, 'oidcProvider = "adopt"'),
        ({"sessionSeconds": 600}, "must be between 3600 and 43200 seconds"),
        ({"sessionSeconds": 50000}, "must be between 3600 and 43200 seconds"),
        ({"stateBucket": "My_Bucket"}, 'stateBucket = "My_Bucket": must be an S3 bucket name'),
        ({"secretsKeyAlias": "pulumi"}, "must be a KMS alias"),
        ({"rolePrefix": "x" * 41}, "must be 1-40 characters"),
        ({"auditRole": "maybe"}, 'auditRole = "maybe"'),
        ({"auditStack": "ml-dev"}, "a member stack holds no archive; stacks with an archive"),
        ({"auditStack": "log-archiv"}, "no such stack; stacks with an archive: log-archive, trial"),
        ({"auditRole": False}, 'auditStack = "log-archive": set but auditRole is false'),
        ({"githubOrgs": "x"}, "githubOrgs: unknown setting (did you mean 'githubOrg'?)"),
        ({"accounts": {"999999999999": {}}}, "accounts.999999999999: not an account of the estate"),
        ({"accounts": {"12345": {}}}, "accounts.12345: not a 12-digit AWS account id"),
        (
            {"accounts": {"444444444444": {"oidcProviders": "existing"}}},
            "accounts.444444444444.oidcProviders: unknown setting (did you mean 'oidcProvider'?)",
        ),
        (
            {"accounts": {"444444444444": {"oidcProvider": "adopt"}}},
            'accounts.444444444444.oidcProvider = "adopt"',
        ),
        (
            {"accounts": {"444444444444": {"region": "us-east-9"}}},
            "'us-east-9' is not an AWS region",
        ),
        (
            {"pulumiCloud": {"previewTeam": "readers"}},
            "must be a Pulumi team name containing {stack}",
        ),
        (
            {"rolePrefix": "configtrail-trial-ci"},
            "falls under the resource names of stack trial (configtrail-trial-*)",
        ),
        (
            {"stateBucket": "configtrail-ml-prod-state"},
            "falls under stack ml-prod's resource names (configtrail-ml-prod-*)",
        ),
    ],
)
def test_bad_settings_are_one_line_each(changes, expected):
    found = problems(**changes)
    assert any(expected in problem for problem in found), found
    assert all(problem.startswith(f"{SOURCE}: ") and "\n" not in problem for problem in found)


def test_role_names_that_do_not_fit_iam_are_refused(monkeypatch):
    monkeypatch.setattr(bs, "MAX_ROLE_NAME", 40)
    found = problems(rolePrefix="a-long-prefix-for-roles")
    assert any(
        "'a-long-prefix-for-roles-preview-log-archive' of stack log-archive" in p for p in found
    )
    assert any("IAM allows 40: shorten rolePrefix" in p for p in found)


def test_unusable_files(tmp_path):
    for text, expected in [
        ("[1, 2]\n", "must be a mapping of bootstrap settings"),
        ("a: [\n", "not valid YAML"),
    ]:
        path = tmp_path / "pipeline.yaml"
        path.write_text(text)
        with pytest.raises(SettingsError) as error:
            bs.load(path)
        [problem] = error.value.problems
        assert expected in problem and "\n" not in problem


def test_cli_reports_bad_settings_with_exit_2_and_no_traceback(tmp_path):
    path = settings_file(tmp_path, githubRepo=None, accounts={"999999999999": {}})
    done = subprocess.run(
        [
            Path(sys.executable).parent / "configtrail",
            "bootstrap-plan",
            "--settings",
            str(path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "githubRepo: missing (required)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists(), "nothing is planned from bad settings"
