"""`configtrail policy` / `policy-check`: formats, exit codes (0 pass, 1 mandatory violation,
2 unusable input, each with a one-line reason), and the wire format the runner sends."""

from __future__ import annotations

import copy
import json

import pytest

from configtrail.cli import main
from configtrail.policy import inputs
from configtrail.policy.wire import SECRET_SIG, SIG_KEY, UNKNOWN, Wire, wire_value
from tests.policies.conftest import TEST_ESTATE_DIR
from tests.policies.helpers import find, set_prop

# The test stacks' directory, for every command that names a stack.
IN_TEST_ESTATE = ["--environments-dir", str(TEST_ESTATE_DIR)]


def _write(tmp_path, name, document) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


# --- unusable input: exit 2, a clear message, no traceback -----------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ({"hello": 1}, "unknown format"),
        ({"version": 2, "deployment": {"resources": []}}, "version 2 is not supported"),
        ({"steps": [{"op": "create", "newState": {"urn": "x", "type": "t"}}]}, "not a Pulumi URN"),
    ],
)
def test_unusable_file(tmp_path, capsys, content, expected):
    assert main(["policy-check", _write(tmp_path, "in.json", content)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    assert main(["policy-check", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_preview_without_sames_is_refused(plan_documents, tmp_path, capsys):
    document = copy.deepcopy(plan_documents["dev"]["preview"])
    document["changeSummary"]["same"] = 3
    assert main(["policy-check", _write(tmp_path, "p.json", document)]) == 2
    assert "--show-sames" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"aws-s3-bucket-protectd": "advisory"}, "did you mean 'aws-s3-bucket-protected'"),
        ({"aws-s3-bucket-protected": "blocking"}, "'blocking' is not one of"),
        (
            {"aws-cfg-retentionconfiguration-minimum-days": {"minRetentionDay": 10}},
            "not a setting of this policy",
        ),
        (
            {"aws-cfg-retentionconfiguration-minimum-days": {"minRetentionDays": "long"}},
            "is not of type 'integer'",
        ),
        (
            {"aws-cfg-retentionconfiguration-minimum-days": {"minRetentionDays": 10}},
            "less than the minimum of 30",
        ),
        ({"all": {"requireKms": True}}, "only an enforcement level"),
    ],
)
def test_bad_policy_config(plan_documents, tmp_path, capsys, config, expected):
    stack = _write(tmp_path, "s.json", plan_documents["dev"]["stack"])
    cfg = _write(tmp_path, "c.json", config)
    assert main(["policy-check", stack, "--config", cfg]) == 2
    err = capsys.readouterr().err
    assert expected in err and "c.json" in err


def test_unknown_environment_config(plan_documents, tmp_path, capsys):
    stack = _write(tmp_path, "s.json", plan_documents["dev"]["stack"])
    assert main(["policy-check", stack, "--env", "qa", *IN_TEST_ESTATE]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.qa.yaml: no such stack file (stacks: " in err and "Traceback" not in err


# --- verdicts and formats --------------------------------------------------------------------


@pytest.mark.slow
def test_violation_exits_1_with_json_and_markdown(plan_documents, tmp_path, capsys):
    document = copy.deepcopy(plan_documents["prod"]["stack"])
    set_prop(find(document, "aws:s3/bucket:Bucket", "archive"), "forceDestroy", True)
    path = _write(tmp_path, "prod.json", document)
    summary = tmp_path / "summary.md"
    assert (
        main(
            [
                "policy-check",
                path,
                "--env",
                "prod",
                *IN_TEST_ESTATE,
                "--out",
                str(tmp_path),
                "--format",
                "json",
                "--summary",
                str(summary),
            ]
        )
        == 1
    )
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is False
    [finding] = result["reports"][0]["findings"]
    assert finding["policy"] == "aws-s3-bucket-disallow-force-destroy"
    assert finding["level"] == "mandatory" and finding["resource_name"] == "archive"
    markdown = summary.read_text()
    assert markdown.startswith("### Policy pack: FAILED")
    assert "aws-s3-bucket-disallow-force-destroy" in markdown and len(markdown) < 64_000


@pytest.mark.slow
def test_clean_plan_exits_0_in_text(plan_documents, tmp_path, capsys):
    path = _write(tmp_path, "dev.json", plan_documents["dev"]["preview"])
    assert (
        main(["policy-check", path, "--env", "dev", *IN_TEST_ESTATE, "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "PASS" in out and "aws-s3-bucket-protected" in out and "advisory" in out


@pytest.mark.slow
def test_policy_makes_missing_plans(tmp_path, capsys):
    assert main(["policy", "--env", "dev", *IN_TEST_ESTATE, "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "dev" / "stack.json").is_file()
    assert (tmp_path / "dev" / "preview.json").is_file()
    assert capsys.readouterr().out.count("PASS") == 2


# --- the wire format -------------------------------------------------------------------------


def test_wire_values_as_the_engine_marshals_them():
    assert wire_value({"days": 30, "on": True, "none": None}) == {
        "days": 30.0,
        "on": True,
        "none": None,
    }
    assert wire_value({"__defaults": ["x"], "a": 1}) == {"a": 1.0}
    secret = {SIG_KEY: SECRET_SIG, "plaintext": json.dumps({"k": 1})}
    assert wire_value(secret) == {SIG_KEY: SECRET_SIG, "value": {"k": 1.0}}
    assert wire_value({SIG_KEY: SECRET_SIG, "ciphertext": "AAAA"}) == UNKNOWN


def test_analyze_gets_inputs_and_stack_gets_outputs_with_provider_inputs(plan_documents):
    document = copy.deepcopy(plan_documents["prod"]["stack"])
    bucket = find(document, "aws:s3/bucket:Bucket", "archive")
    bucket["outputs"]["onlyInOutputs"] = "x"
    wire = Wire(inputs.parse(document, "t.json"))
    state = next(s for s in wire.deployment.resources if s.urn == bucket["urn"])
    request = wire.analyze_request(state)
    assert "onlyInOutputs" not in request.properties
    assert request.options.protect is True
    assert "defaultTags" in request.provider.properties
    resource = wire.stack_resource(state)
    assert resource.properties["onlyInOutputs"] == "x"
    assert resource.parent == bucket["parent"]


@pytest.mark.slow
def test_in_process_engine_gives_the_same_report(plan_documents, tmp_path, capsys):
    document = copy.deepcopy(plan_documents["prod"]["stack"])
    set_prop(find(document, "aws:s3/bucket:Bucket", "archive"), "forceDestroy", True)
    path = _write(tmp_path, "prod.json", document)
    reports = {}
    for engine in ("grpc", "in-process"):
        command = [
            "policy-check",
            path,
            "--env",
            "prod",
            *IN_TEST_ESTATE,
            "--out",
            str(tmp_path),
            "--format",
            "json",
            "--engine",
            engine,
        ]
        assert main(command) == 1
        [reports[engine]] = json.loads(capsys.readouterr().out)["reports"]
    assert reports["grpc"].pop("engine") == "grpc"
    assert reports["in-process"].pop("engine") == "in-process"
    assert reports["grpc"] == reports["in-process"]
    assert [f["policy"] for f in reports["grpc"]["findings"]] == [
        "aws-s3-bucket-disallow-force-destroy"
    ]


def test_in_process_engine_refuses_another_pack_dir(plan_documents, tmp_path, capsys):
    stack = _write(tmp_path, "s.json", plan_documents["dev"]["stack"])
    command = ["policy-check", stack, "--engine", "in-process", "--pack-dir", str(tmp_path)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "use --engine grpc" in err and "Traceback" not in err
