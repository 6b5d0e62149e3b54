"""Every bad stack file gets one clear line through the real CLI (`configtrail plan`), exit 2, no
traceback, nothing registered: bytes that are not UTF-8, a key written twice, settings outside
`config:`, a namespace typo, settings that have no effect, and a vault shorter than retention.
One table, so a new class of mistake is one row."""

from __future__ import annotations

import pytest
import yaml

from configtrail import cli

GOOD = {
    "aws:region": "us-east-1",
    "configtrail:accountId": "123456789012",
    "configtrail:stackKind": "standalone",
    "configtrail:tags": {
        "owner": "ml",
        "environment": "t",
        "ai-system": "x",
        "data-classification": "internal",
    },
}


def _yaml(config: dict, **top) -> str:
    return yaml.safe_dump({"config": config, **top})


def _with(**settings) -> str:
    return _yaml({**GOOD, **{f"configtrail:{k}": v for k, v in settings.items()}})


# (case, file content (text or bytes), fragments the one-line message must hold)
CASES = [
    (
        "not-utf-8",
        _with(retentionDays=400).encode() + b"# caf\xe9\n",
        ["not UTF-8 text: byte 0xe9 on line", "save the stack file as UTF-8"],
    ),
    (
        "duplicate-key",
        _with(retentionDays=400) + "  configtrail:retentionDays: 30\n",
        ["not valid YAML", "key 'configtrail:retentionDays' appears twice", "remove one"],
    ),
    (
        "setting-outside-config",
        _yaml(GOOD, retentionDays=30),
        ["retentionDays: not a key of a Pulumi stack file", "settings go under config:"],
    ),
    (
        "namespace-typo",
        _yaml({**GOOD, "configtrial:retentionDays": 30}),
        [
            "configtrial:retentionDays: unknown namespace 'configtrial'",
            "did you mean 'configtrail'",
        ],
    ),
    (
        "vault-key-without-vault",
        _with(vaultLockMode="GOVERNANCE"),
        ['configtrail:vaultLockMode = "GOVERNANCE": has no effect', "configtrail:vault is false"],
    ),
    (
        "adopt-names-without-adopt",
        _with(existingRecorderName="default"),
        ["configtrail:existingRecorderName", "has no effect", "not 'adopt'"],
    ),
    (
        "recorder-name-when-skipping",
        _with(existingRecorder="skip", recorderName="mine"),
        ["configtrail:recorderName", "has no effect", "creates no recorder of its own"],
    ),
    (
        "role-kind-with-custom-role",
        _with(recorderRole="custom", serviceLinkedRole="existing"),
        ["configtrail:serviceLinkedRole", "has no effect", "recorderRole is 'custom'"],
    ),
    (
        "daily-types-when-everything-is-daily",
        _with(recordingFrequency="DAILY", dailyResourceTypes=["AWS::EC2::NetworkInterface"]),
        ["configtrail:dailyResourceTypes", "has no effect", "already DAILY"],
    ),
    (
        "daily-type-not-recorded",
        _with(dailyResourceTypes=["AWS::DynamoDB::Table"]),
        ["AWS::DynamoDB::Table is not recorded by the ai-systems profile", "extraResourceTypes"],
    ),
    (
        "exclude-a-rule-not-selected",
        _with(rules=["sagemaker"], excludeRules=["CLOUD_TRAIL_ENABLED"]),
        ["configtrail:excludeRules", "CLOUD_TRAIL_ENABLED is not selected", "no effect"],
    ),
    (
        "a-secure-value",
        _yaml({**GOOD, "configtrail:retentionDays": {"secure": "v1:abc"}}),
        ["configtrail:retentionDays: is a secret (`secure:`", "write the value in plain text"],
    ),
    (
        "one-bad-tag-among-many",
        _yaml({**GOOD, "configtrail:tags": {**GOOD["configtrail:tags"], "aws:owner": "x"}}),
        ["configtrail:tags: tag key 'aws:owner' is not a valid AWS tag key"],
    ),
    (
        "vault-shorter-than-retention",
        _with(retentionDays=2557, vault=True, vaultRetentionDays=365),
        [
            "configtrail:vaultRetentionDays = 365: shorter than configtrail:retentionDays (2557)",
            "allowShortVaultRetention: true",
        ],
    ),
]


def _plan(directory) -> int:
    return cli.main(
        [
            "plan",
            "--all",
            "--quiet",
            "--jobs",
            "1",
            "--environments-dir",
            str(directory),
            "--out",
            str(directory / "build"),
        ]
    )


@pytest.mark.parametrize(("case", "content", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_stack_file_gets_one_clear_line(tmp_path, capsys, case, content, fragments):
    path = tmp_path / "Pulumi.test.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert _plan(tmp_path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from: {err}"
    assert '"data-classification": "internal"' not in err, "one bad value, not the whole map"
    assert not (tmp_path / "build").exists(), "nothing is written for a refused estate"


def test_the_accepted_short_vault_is_explicit(tmp_path, capsys):
    (tmp_path / "Pulumi.test.yaml").write_text(
        _with(retentionDays=2557, vault=True, vaultRetentionDays=365, allowShortVaultRetention=True)
    )
    assert _plan(tmp_path) == 0, capsys.readouterr().err


def test_the_good_file_plans(tmp_path, capsys):
    (tmp_path / "Pulumi.test.yaml").write_text(_with(retentionDays=400))
    assert _plan(tmp_path) == 0, capsys.readouterr().err


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys, where):
    (tmp_path / "Pulumi.test.yaml").write_text(_with(retentionDays=400))
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    out = blocker if where == "a-file" else blocker / "build"
    code = cli.main(
        [
            "plan",
            "--all",
            "--quiet",
            "--jobs",
            "1",
            "--environments-dir",
            str(tmp_path),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "cannot write" in err and "blocker" in err


@pytest.mark.slow
def test_policy_re_plans_when_a_stack_file_changed_after_the_plan(tmp_path, capsys):
    import os

    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(_with(retentionDays=400))
    build = tmp_path / "build"
    command = ["policy", "--env", "test", "--environments-dir", str(tmp_path), "--out", str(build)]
    assert cli.main([*command, "--quiet"]) == 0
    first = (build / "test" / "stack.json").read_text()
    assert '"retentionPeriodInDays": 400' in first
    path.write_text(_with(retentionDays=500))
    later = (build / "test" / "stack.json").stat().st_mtime + 5
    os.utime(path, (later, later))
    capsys.readouterr()
    assert cli.main([*command, "--quiet"]) == 0
    assert "re-planning test: a stack file changed" in capsys.readouterr().err
    assert '"retentionPeriodInDays": 500' in (build / "test" / "stack.json").read_text()


def test_messages_print_literally_and_piped_output_is_not_wrapped(tmp_path, capsys):
    """An emoji code or markup in a value prints as written, and a long path stays on one line
    when the output is not a terminal."""
    deep = tmp_path / ("a-very-long-folder-name-" * 8)
    deep.mkdir()
    (deep / "Pulumi.test.yaml").write_text(_with(recorderName="my :lock: [bold]recorder[/bold]"))
    assert _plan(deep) == 2
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "recorderName" in line)
    assert ":lock:" in line and "[bold]recorder[/bold]" in line
    assert str(deep / "Pulumi.test.yaml") in line, "the path is whole, on the message's line"
