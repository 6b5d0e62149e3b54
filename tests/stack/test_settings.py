"""Bad settings stop the run before any resource is registered, with one clear message each.

Every case goes through the real entry point (`configtrail plan`) with a stack file written to a
temporary environments directory. A spy on `set_mocks` proves nothing was registered: the mock
runtime is never even started.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from configtrail import cli, settings
from configtrail.plan import runner

VALID = {
    "aws:region": "us-east-1",
    "configtrail:accountId": "123456789012",
    "configtrail:stackKind": "standalone",
    "configtrail:regions": ["us-east-1", "us-west-2"],
    "configtrail:retentionDays": 365,
    "configtrail:rules": ["sagemaker"],
    "configtrail:tags": {
        "owner": "ml-platform",
        "environment": "test",
        "ai-system": "recommender",
        "data-classification": "internal",
    },
}


def _set(key, value):
    def mutate(config):
        config[key] = value

    return mutate


def _drop(key):
    def mutate(config):
        config.pop(key)

    return mutate


def _drop_tag(tag):
    def mutate(config):
        config["configtrail:tags"].pop(tag)

    return mutate


# (case id, mutation, fragments the message must contain: key, value, what is allowed)
BAD_INPUTS = [
    (
        "unknown-home-region",
        _set("aws:region", "us-east-9"),
        ["aws:region", '"us-east-9"', "AWS region where Config is offered"],
    ),
    ("missing-home-region", _drop("aws:region"), ["aws:region: missing"]),
    (
        "unknown-region-in-list",
        _set("configtrail:regions", ["us-east-1", "eu-moon-1"]),
        ["configtrail:regions", "eu-moon-1", "AWS region where Config is offered"],
    ),
    (
        "regions-without-home",
        _set("configtrail:regions", ["us-west-2"]),
        ["configtrail:regions", "must include the home region 'us-east-1'"],
    ),
    (
        "duplicate-region",
        _set("configtrail:regions", ["us-east-1", "us-east-1"]),
        ["configtrail:regions", "lists a region twice"],
    ),
    (
        "bad-delivery-frequency",
        _set("configtrail:deliveryFrequency", "Hourly"),
        ["configtrail:deliveryFrequency", '"Hourly"', "One_Hour, Three_Hours, Six_Hours"],
    ),
    (
        "bad-rule-frequency",
        _set("configtrail:ruleFrequency", "Daily"),
        ["configtrail:ruleFrequency", '"Daily"', "TwentyFour_Hours"],
    ),
    (
        "retention-too-short",
        _set("configtrail:retentionDays", 10),
        ["configtrail:retentionDays = 10", "between 30 and 2557"],
    ),
    (
        "retention-too-long",
        _set("configtrail:retentionDays", 3000),
        ["configtrail:retentionDays = 3000", "between 30 and 2557"],
    ),
    (
        "retention-not-a-number",
        _set("configtrail:retentionDays", "seven years"),
        ["configtrail:retentionDays", "seven years", "valid integer"],
    ),
    (
        "unrecordable-type",
        _set("configtrail:extraResourceTypes", ["AWS::SageMaker::Endpoint"]),
        [
            "configtrail:extraResourceTypes",
            "AWS::SageMaker::Endpoint",
            "not a resource type AWS Config can record",
        ],
    ),
    (
        "misspelled-type",
        _set("configtrail:extraResourceTypes", ["AWS::SageMaker::Modle"]),
        ["AWS::SageMaker::Modle", "did you mean 'AWS::SageMaker::Model'"],
    ),
    (
        "unknown-daily-type",
        _set("configtrail:dailyResourceTypes", ["AWS::EC2::Nic"]),
        ["configtrail:dailyResourceTypes", "AWS::EC2::Nic", "can record"],
    ),
    (
        "unknown-rule",
        _set("configtrail:rules", ["SAGEMAKER_NOTEBOOK_NO_INTERNET_ACCESS"]),
        [
            "configtrail:rules",
            "SAGEMAKER_NOTEBOOK_NO_INTERNET_ACCESS",
            "did you mean 'SAGEMAKER_NOTEBOOK_NO_DIRECT_INTERNET_ACCESS'",
        ],
    ),
    (
        "unknown-rule-pack",
        _set("configtrail:rules", ["sagemakr"]),
        ["configtrail:rules", "'sagemakr' is not a rule pack", "did you mean 'sagemaker'"],
    ),
    (
        "unknown-excluded-rule",
        _set("configtrail:excludeRules", ["NOPE"]),
        ["configtrail:excludeRules", "'NOPE' is not a rule identifier"],
    ),
    (
        "missing-required-tag",
        _drop_tag("data-classification"),
        ["configtrail:tags", "required tag(s) missing or empty: data-classification"],
    ),
    (
        "empty-required-tag",
        _set("configtrail:tags", {**VALID["configtrail:tags"], "owner": " "}),
        ["configtrail:tags", "missing or empty: owner"],
    ),
    (
        "tags-not-a-mapping",
        _set("configtrail:tags", ["owner"]),
        ["configtrail:tags", "valid dictionary"],
    ),
    (
        "misspelled-key",
        _set("configtrail:retentionDay", 30),
        ["configtrail:retentionDay: unknown setting", "did you mean 'retentionDays'"],
    ),
    (
        "unknown-key",
        _set("configtrail:colour", "blue"),
        ["configtrail:colour: unknown setting", "allowed keys:"],
    ),
    (
        "bad-profile",
        _set("configtrail:recordingProfile", "everything"),
        ["configtrail:recordingProfile", '"everything"', "'ai-systems' or 'all'"],
    ),
    (
        "bad-recording-frequency",
        _set("configtrail:recordingFrequency", "HOURLY"),
        ["configtrail:recordingFrequency", "'CONTINUOUS' or 'DAILY'"],
    ),
    (
        "prefix-leading-slash",
        _set("configtrail:keyPrefix", "/config"),
        ["configtrail:keyPrefix", '"/config"', "no leading or trailing '/'"],
    ),
    (
        "prefix-with-awslogs",
        _set("configtrail:keyPrefix", "AWSLogs"),
        ["configtrail:keyPrefix", "without 'AWSLogs'"],
    ),
    (
        "expiry-before-retention",
        _set("configtrail:archiveExpirationDays", 100),
        ["configtrail:archiveExpirationDays = 100", "at least configtrail:retentionDays (365)"],
    ),
    (
        "expiry-before-transition",
        lambda c: c.update(
            {"configtrail:retentionDays": 30, "configtrail:archiveExpirationDays": 60}
        ),
        ["configtrail:archiveExpirationDays = 60", "later than configtrail:archiveTransitionDays"],
    ),
    (
        "transition-too-early",
        _set("configtrail:archiveTransitionDays", 7),
        ["configtrail:archiveTransitionDays = 7", "at least 30 days"],
    ),
    (
        "bad-lock-mode",
        _set("configtrail:vaultLockMode", "STRICT"),
        ["configtrail:vaultLockMode", "'GOVERNANCE' or 'COMPLIANCE'"],
    ),
    (
        "bad-vault-region",
        _set("configtrail:vaultRegion", "mars-1"),
        ["configtrail:vaultRegion", "mars-1", "AWS region"],
    ),
    (
        "bad-existing-recorder",
        _set("configtrail:existingRecorder", "import"),
        ["configtrail:existingRecorder", "'create', 'adopt' or 'skip'"],
    ),
    (
        "bad-recorder-name",
        _set("configtrail:recorderName", "my recorder"),
        ["configtrail:recorderName", "letters, digits"],
    ),
    (
        "extra-types-with-all-profile",
        lambda c: c.update(
            {
                "configtrail:recordingProfile": "all",
                "configtrail:extraResourceTypes": ["AWS::S3::Bucket"],
            }
        ),
        [
            "configtrail:extraResourceTypes",
            "AWS::S3::Bucket",
            "only applies to recordingProfile 'ai-systems'",
        ],
    ),
    (
        "bad-boolean",
        _set("configtrail:archiveProtect", "maybe"),
        ["configtrail:archiveProtect", "valid boolean"],
    ),
    # --- the estate: account and kind ---
    (
        "missing-account-id",
        _drop("configtrail:accountId"),
        ["configtrail:accountId: missing (required)", "The 12-digit AWS account"],
    ),
    (
        "short-account-id",
        _set("configtrail:accountId", "12345"),
        ["configtrail:accountId", '"12345"', "12-digit AWS account id"],
    ),
    (
        "account-id-that-lost-its-leading-zero",
        _set("configtrail:accountId", 12345678901),
        ["configtrail:accountId", "12345678901", "lost its leading zeros", "quote the id"],
    ),
    (
        "account-id-with-letters",
        _set("configtrail:accountId", "12345678901x"),
        ["configtrail:accountId", "12-digit"],
    ),
    (
        "missing-stack-kind",
        _drop("configtrail:stackKind"),
        ["configtrail:stackKind: missing (required)", "`standalone` (archive and recording"],
    ),
    (
        "unknown-stack-kind",
        _set("configtrail:stackKind", "workload"),
        [
            "configtrail:stackKind",
            '"workload"',
            "'standalone', 'archive', 'member' or 'aggregator'",
        ],
    ),
    (
        "aggregator-with-recording-keys",
        _set("configtrail:stackKind", "aggregator"),
        [
            "configtrail:regions",
            "not a setting of a 'aggregator' stack",
            "applies to 'standalone' and 'member' stacks",
            "Keys of a aggregator stack: accountId, stackKind, tags",
        ],
    ),
    (
        "archive-with-rules",
        lambda c: (
            c.update({"configtrail:stackKind": "archive", "configtrail:regions": None})
            or c.pop("configtrail:regions")
        ),
        ["configtrail:rules", "not a setting of a 'archive' stack", "records nothing itself"],
    ),
    (
        "member-with-archive-keys",
        lambda c: c.update({"configtrail:stackKind": "member", "configtrail:vault": True}),
        ["configtrail:vault = true", "not a setting of a 'member' stack", "delivers to an archive"],
    ),
    (
        "standalone-with-archive-stack",
        _set("configtrail:archiveStack", "log-archive"),
        ["configtrail:archiveStack", "applies to 'member' stacks"],
    ),
    (
        "bad-organization-id",
        lambda c: (
            c.update(
                {
                    "configtrail:stackKind": "archive",
                    "configtrail:organizationId": "org-123",
                    "configtrail:regions": None,
                    "configtrail:rules": None,
                }
            )
            or [c.pop(k) for k in ("configtrail:regions", "configtrail:rules")]
        ),
        ["configtrail:organizationId", '"org-123"', "'o-' and 10-32 lowercase letters"],
    ),
    # --- managed-rule parameters, checked against the catalog ---
    (
        "unknown-rule-parameter",
        _set(
            "configtrail:ruleParameters",
            {"SAGEMAKER_NOTEBOOK_INSTANCE_PLATFORM_VERSION": {"supportedVersions": "x"}},
        ),
        [
            "configtrail:ruleParameters",
            "SAGEMAKER_NOTEBOOK_INSTANCE_PLATFORM_VERSION.supportedVersions",
            "not a parameter of this rule",
            "it accepts: supportedPlatformIdentifierVersions",
        ],
    ),
    (
        "rule-parameter-value-not-allowed",
        _set(
            "configtrail:ruleParameters",
            {
                "SAGEMAKER_NOTEBOOK_INSTANCE_PLATFORM_VERSION": {
                    "supportedPlatformIdentifierVersions": ["notebook-al9-v1"]
                }
            },
        ),
        ["notebook-al9-v1 not allowed", "notebook-al2023-v1"],
    ),
    (
        "rule-parameter-of-unknown-rule",
        _set("configtrail:ruleParameters", {"SAGEMAKER_NOTEBOOK_PLATFORM": {"x": "y"}}),
        ["configtrail:ruleParameters", "'SAGEMAKER_NOTEBOOK_PLATFORM' is not a rule identifier"],
    ),
    (
        "rule-parameter-of-unselected-rule",
        _set("configtrail:ruleParameters", {"S3_BUCKET_LOGGING_ENABLED": {"targetPrefix": "x"}}),
        [
            "configtrail:ruleParameters.S3_BUCKET_LOGGING_ENABLED",
            "not selected by configtrail:rules",
            "would have no effect",
        ],
    ),
    (
        "rule-parameter-wrong-type",
        _set(
            "configtrail:ruleParameters",
            {
                "SAGEMAKER_NOTEBOOK_INSTANCE_PLATFORM_VERSION": {
                    "supportedPlatformIdentifierVersions": 3
                }
            },
        ),
        [
            "supportedPlatformIdentifierVersions = 3",
            "must be a non-empty string, or a list of them",
        ],
    ),
    (
        "unknown-ai-control",
        _set("configtrail:aiControls", ["bedrock-guardrails"]),
        ["configtrail:aiControls", "'bedrock-guardrails' is not an AI control or pack", "bedrock"],
    ),
    (
        "ai-control-parameter-of-unselected-control",
        lambda c: c.update(
            {
                "configtrail:aiControls": ["sagemaker"],
                "configtrail:aiControlParameters": {"bedrock-guardrail-content-filters": {"x": 1}},
            }
        ),
        [
            "configtrail:aiControlParameters",
            "'bedrock-guardrail-content-filters' is not a selected control",
        ],
    ),
    (
        "continuous-only-type-recorded-daily",
        _set("configtrail:dailyResourceTypes", ["AWS::Config::ResourceCompliance"]),
        [
            "configtrail:dailyResourceTypes",
            "AWS::Config::ResourceCompliance cannot be recorded DAILY",
        ],
    ),
]


@pytest.fixture
def environments(tmp_path):
    def write(config: dict, name: str = "test"):
        path = tmp_path / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump({"config": config}))
        return path

    return write


@pytest.fixture
def registrations(monkeypatch):
    """Spy on the mock runtime: any call means resources would have been registered."""
    calls = []
    real = runner.pulumi_mocks.set_mocks
    monkeypatch.setattr(
        runner.pulumi_mocks, "set_mocks", lambda *a, **k: (calls.append(a), real(*a, **k))
    )
    return calls


def _plan(tmp_dir, env="test"):
    return cli.main(
        [
            "plan",
            "--env",
            env,
            "--environments-dir",
            str(tmp_dir),
            "--quiet",
            "--out",
            str(tmp_dir / "build"),
            # in this process, so the spy on the mock runtime sees every registration
            "--jobs",
            "1",
        ]
    )


def test_there_are_at_least_twenty_distinct_bad_inputs():
    assert len({case for case, _, _ in BAD_INPUTS}) == len(BAD_INPUTS) >= 20


def test_the_valid_base_config_plans(environments, registrations, tmp_path, capsys):
    environments(VALID)
    assert _plan(tmp_path) == 0
    assert registrations, "a valid config must reach the mock runtime"
    assert (tmp_path / "build" / "test" / "stack.json").exists()


@pytest.mark.parametrize(
    ("case", "mutate", "fragments"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS]
)
def test_bad_input_is_rejected_with_a_clear_message(
    case, mutate, fragments, environments, registrations, tmp_path, capsys
):
    config = copy.deepcopy(VALID)
    mutate(config)
    path = environments(config)

    assert _plan(tmp_path) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(path) in err, "the message names the stack file"
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"
    assert registrations == [], "nothing may be registered when settings are bad"
    assert not (tmp_path / "build" / "test").exists()


def test_every_problem_in_a_file_is_reported_at_once(environments, tmp_path, capsys):
    config = copy.deepcopy(VALID)
    config["configtrail:retentionDays"] = 5
    config["configtrail:deliveryFrequency"] = "Weekly"
    environments(config)
    assert _plan(tmp_path) == 2
    err = capsys.readouterr().err
    assert "retentionDays" in err and "deliveryFrequency" in err


def test_one_bad_environment_stops_all_before_any_registration(
    environments, registrations, tmp_path, capsys
):
    environments(VALID, "good")
    environments({**VALID, "configtrail:retentionDays": 1}, "bad")
    code = cli.main(
        [
            "plan",
            "--all",
            "--environments-dir",
            str(tmp_path),
            "--quiet",
            "--out",
            str(tmp_path / "build"),
            "--jobs",
            "1",
        ]
    )
    assert code == 2
    assert registrations == []
    assert "Pulumi.bad.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("config: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping with a 'config:' key"),
        ("config: [1, 2]\n", "config: must be a mapping"),
    ],
)
def test_unreadable_stack_files_are_reported_not_raised(tmp_path, capsys, content, fragment):
    (tmp_path / "Pulumi.test.yaml").write_text(content)
    assert _plan(tmp_path) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_unknown_environment_names_the_missing_file(tmp_path, capsys, environments):
    environments(VALID)
    assert _plan(tmp_path, env="nope") == 2
    err = capsys.readouterr().err
    assert "Pulumi.nope.yaml: no such stack file" in err and "(stacks: test)" in err


def test_bare_keys_belong_to_the_project_namespace(tmp_path):
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": {**VALID, "retentionDays": 10}}))
    with pytest.raises(settings.SettingsError, match=r"configtrail:retentionDays = 10"):
        settings.load(path)


def test_engine_style_json_strings_decode_like_yaml_values():
    """The engine passes structured config as JSON text; the same settings must result."""
    import json

    as_engine = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in VALID.items()
    }
    assert settings.from_config(as_engine, "x") == settings.from_config(VALID, "x")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ("a-very-long-environment-name-indeed", "is too long: bucket names would have"),
        ("Prod_EU", "must be lowercase letters, digits and '-'"),
    ],
)
def test_stack_names_that_cannot_name_buckets_are_rejected(
    env, fragment, environments, registrations, tmp_path, capsys
):
    environments(VALID, env)
    assert _plan(tmp_path, env=env) == 2
    err = capsys.readouterr().err
    assert fragment in err and f"Pulumi.{env}.yaml" in err
    assert registrations == []
