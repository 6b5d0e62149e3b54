"""Bootstrap settings: the shipped stack file is valid; every bad value is one line naming the
file, the key, the value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from configtrail.bootstrap import settings as bs
from configtrail.settings import SettingsError

GOOD = {
    "aws:region": "us-east-1",
    "configtrail-bootstrap:githubOrg": "example-org",
    "configtrail-bootstrap:githubRepo": "configtrail",
}
SOURCE = "bootstrap/Pulumi.test.yaml"


def problems(**changes) -> list[str]:
    config = {**GOOD}
    for key, value in changes.items():
        full = key if ":" in key else f"configtrail-bootstrap:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    with pytest.raises(SettingsError) as error:
        bs.from_config(config, SOURCE)
    return error.value.problems


def test_the_shipped_stack_file_is_valid():
    settings = bs.load(
        Path(bs.__file__).resolve().parents[3] / "bootstrap" / "Pulumi.pipeline.yaml"
    )
    assert settings.repository == "example-org/configtrail"
    assert settings.environments == ["dev", "staging", "prod"]


def test_defaults():
    settings = bs.from_config(GOOD, SOURCE)
    assert settings.environments == ["dev", "staging", "prod"]
    assert settings.default_branch == "main"
    assert settings.oidc_provider == "create"
    assert settings.deploy_session_seconds == 7200
    assert settings.state_bucket is None and settings.secrets_key_arn is None
    assert settings.audit_role is True and settings.audit_environments is None
    assert settings.audited_environments == ["dev", "staging", "prod"]


def test_the_shipped_stack_file_audits_prod_only():
    settings = bs.load(
        Path(bs.__file__).resolve().parents[3] / "bootstrap" / "Pulumi.pipeline.yaml"
    )
    assert settings.audited_environments == ["prod"]


def test_without_the_audit_role_nothing_is_audited():
    settings = bs.from_config({**GOOD, "configtrail-bootstrap:auditRole": "false"}, SOURCE)
    assert settings.audited_environments == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"githubOrg": None}, "configtrail-bootstrap:githubOrg: missing (required)"),
        ({"githubRepo": None}, "configtrail-bootstrap:githubRepo: missing (required)"),
        ({"aws:region": None}, "aws:region: missing"),
        (
            {"aws:region": "us-east-9"},
            "aws:region = \"us-east-9\": 'us-east-9' is not an AWS region",
        ),
        (
            {"githubOrg": "-bad-"},
            'configtrail-bootstrap:githubOrg = "-bad-": must be a GitHub owner',
        ),
        ({"githubOrg": "a" * 40}, "must be a GitHub owner name"),
        ({"githubRepo": "con fig"}, 'githubRepo = "con fig": must be a repository name'),
        ({"githubRepo": ".."}, "must be a repository name"),
        ({"environments": ["dev", "qa"]}, "'qa' has no stack file environments/Pulumi.qa.yaml"),
        ({"environments": ["prdo"]}, "did you mean 'prod'?"),
        ({"environments": []}, "must list at least one environment"),
        ({"environments": ["dev", "dev"]}, "lists an environment twice"),
        ({"defaultBranch": "ma..in"}, "must be a branch name"),
        ({"oidcProvider": "adopt"}, 'configtrail-bootstrap:oidcProvider = "adopt"'),
        ({"deploySessionSeconds": 600}, "must be between 3600 and 43200 seconds"),
        ({"deploySessionSeconds": 50000}, "must be between 3600 and 43200 seconds"),
        ({"stateBucket": "My_Bucket"}, 'stateBucket = "My_Bucket": must be an S3 bucket name'),
        ({"secretsKeyArn": "alias/pulumi"}, "must be a KMS key or alias ARN"),
        (
            {"rolePrefix": "x" * 50, "environments": ["staging"]},
            "IAM allows 64: shorten rolePrefix",
        ),
        ({"auditRole": "maybe"}, 'configtrail-bootstrap:auditRole = "maybe"'),
        ({"auditEnvironments": []}, "must list at least one environment (leave it out"),
        ({"auditEnvironments": ["prod", "prod"]}, "lists an environment twice"),
        (
            {"environments": ["dev"], "auditEnvironments": ["prod"]},
            "auditEnvironments lists 'prod', which is not deployed into this account "
            "(environments: dev)",
        ),
        (
            {"auditRole": False, "auditEnvironments": ["prod"]},
            "auditEnvironments is set but auditRole is false",
        ),
        (
            {"githubOrgs": "x"},
            "configtrail-bootstrap:githubOrgs: unknown setting (did you mean 'githubOrg'?)",
        ),
        (
            {"configtrail:regions": ["us-east-1"]},
            "configtrail:regions: unknown namespace 'configtrail'",
        ),
    ],
)
def test_bad_settings_are_one_line_each(changes, expected):
    found = problems(**changes)
    assert any(expected in problem for problem in found), found
    assert all(problem.startswith(f"{SOURCE}: ") and "\n" not in problem for problem in found)


def test_structured_values_arrive_as_json_text_like_from_the_engine():
    settings = bs.from_config(
        {
            **GOOD,
            "configtrail-bootstrap:environments": '["prod"]',
            "configtrail-bootstrap:deploySessionSeconds": "10800",
        },
        SOURCE,
    )
    assert settings.environments == ["prod"]
    assert settings.deploy_session_seconds == 10800


def test_bare_keys_belong_to_the_bootstrap_project(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  aws:region: us-east-1\n  githubOrg: acme\n  githubRepo: trail\n")
    assert bs.load(path).repository == "acme/trail"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config: [1, 2]\n", "a stack file must be a mapping with a 'config:' mapping"),
        ("config: {a: [\n", "not valid YAML"),
    ],
)
def test_unusable_stack_files(tmp_path, text, expected):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as error:
        bs.load(path)
    [problem] = error.value.problems
    assert problem.startswith(f"{path}: ") and expected in problem and "\n" not in problem


def test_cli_reports_bad_settings_with_exit_2_and_no_traceback(tmp_path):
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  configtrail-bootstrap:githubOrg: acme\n"
    )
    done = subprocess.run(
        [
            Path(sys.executable).parent / "configtrail",
            "bootstrap-plan",
            "--directory",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "configtrail-bootstrap:githubRepo: missing (required)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists(), "nothing is planned from bad settings"


def test_a_state_bucket_under_an_environments_names_is_refused():
    found = problems(stateBucket="configtrail-prod-pulumi-state")
    assert any("falls under prod's resource names (configtrail-prod-*)" in p for p in found), found


def test_environments_whose_name_prefixes_overlap_are_refused(monkeypatch):
    monkeypatch.setattr(bs.runner, "environment_names", lambda: ["dev", "dev-eu", "prod"])
    found = problems(environments=["dev", "dev-eu"])
    assert any("'dev' and 'dev-eu' would share the resource name prefix" in p for p in found), found


def test_an_environment_named_audit_would_share_the_audit_roles_subject(monkeypatch):
    monkeypatch.setattr(bs.runner, "environment_names", lambda: ["dev", "audit", "prod"])
    found = problems(environments=["dev", "audit"])
    assert any("environment 'audit' shares its GitHub environment" in p for p in found), found
    assert bs.from_config(
        {
            **GOOD,
            "configtrail-bootstrap:environments": ["dev", "audit"],
            "configtrail-bootstrap:auditRole": False,
        },
        SOURCE,
    ).environments == ["dev", "audit"]


def test_an_audited_environment_without_a_usable_stack_file_stops_the_run(monkeypatch):
    """The audit role's archive names come from the environment's stack file, read up front."""
    monkeypatch.setattr(bs.runner, "environment_names", lambda: ["dev", "qa", "prod"])
    found = problems(environments=["dev", "qa"], auditEnvironments=["qa"])
    [problem] = found
    assert problem.endswith("environments/Pulumi.qa.yaml: no such stack file"), problem


def test_bad_values_in_an_audited_stack_file_name_that_file(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  configtrail:keyPrefix: /AWSLogs/\n"
    )
    with pytest.raises(SettingsError) as error:
        bs.audit.archives(["qa"], tmp_path)
    found = error.value.problems
    assert any("configtrail:keyPrefix" in p and "Pulumi.qa.yaml" in p for p in found), found
    assert all("\n" not in p for p in found)
