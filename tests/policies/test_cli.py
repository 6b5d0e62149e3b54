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
        ({"version": 5, "deployment": {"resources": []}}, "version 5 is not supported"),
        ({"version": 4, "features": ["teleport"], "deployment": {}}, "features that Pulumi"),
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
    # Ciphertext cannot be decrypted offline: masked, as `pulumi policy analyze` masks it.
    assert wire_value({SIG_KEY: SECRET_SIG, "ciphertext": "AAAA"}) == {
        SIG_KEY: SECRET_SIG,
        "value": "[secret]",
    }
    reference = "5cf8f73096256a8f31e491e813e4eb8e"
    custom = {SIG_KEY: reference, "urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "id": "b-1"}
    assert wire_value({"out": custom}) == {"out": "b-1"}
    component = {SIG_KEY: reference, "urn": "urn:pulumi:s::p::my:c:C::c", "packageVersion": ""}
    assert wire_value([component]) == ["urn:pulumi:s::p::my:c:C::c"]
    assert wire_value({SIG_KEY: "d0e6a833031e9bbcd3f4e8bde6ca49a4", "secret": True}) == {
        SIG_KEY: SECRET_SIG,
        "value": UNKNOWN,
    }
    nan = wire_value({SIG_KEY: "8ad145fe-0d11-4827-bfd7-1abcbf086f5c", "value": "7ff8000000000001"})
    assert nan != nan


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


# --- any pack directory, and a pack that fails ---------------------------------------------------

PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def validate(args, report):
    if args.resource_type == "aws:s3/bucket:Bucket":
        raise RuntimeError("this policy is broken")
    report("every resource is judged")

PolicyPack(
    name="another-pack",
    policies=[ResourceValidationPolicy(name="judge", description="Judges.", validate=validate)],
    enforcement_level=EnforcementLevel.ADVISORY,
)
"""


def _pack(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.2.3\n")
    (pack / "__main__.py").write_text(PACK)
    return pack


@pytest.mark.slow
def test_another_pack_directory_runs_and_a_failing_policy_is_a_clean_exit_2(
    plan_documents, tmp_path, capsys
):
    pack = _pack(tmp_path)
    document = copy.deepcopy(plan_documents["dev"]["stack"])
    document["deployment"]["resources"] = [
        s for s in document["deployment"]["resources"] if s["type"] != "aws:s3/bucket:Bucket"
    ]
    path = _write(tmp_path, "ok.json", document)
    assert main(["policy-check", path, "--pack-dir", str(pack), "--format", "json"]) == 0
    [report] = json.loads(capsys.readouterr().out)["reports"]
    assert report["pack"] == "another-pack" and report["version"] == "1.2.3"
    assert {f["policy"] for f in report["findings"]} == {"judge"}
    broken = _write(tmp_path, "broken.json", plan_documents["dev"]["stack"])
    assert main(["policy-check", broken, "--pack-dir", str(pack)]) == 2
    err = capsys.readouterr().err
    assert "this policy is broken" in err and "broken.json" in err and "Traceback" not in err


def test_a_directory_without_a_pack_is_a_clean_exit_2(plan_documents, tmp_path, capsys):
    stack = _write(tmp_path, "s.json", plan_documents["dev"]["stack"])
    assert main(["policy-check", stack, "--pack-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "PulumiPolicy.yaml" in err and "Traceback" not in err


def test_an_encoded_stack_request_is_the_request_the_engine_would_send(plan_documents):
    deployment = inputs.parse(copy.deepcopy(plan_documents["prod"]["stack"]), "t.json")
    wire = Wire(deployment)
    encoded = wire.analyze_stack_request()
    decoded = encoded.decode()
    assert [r.urn for r in decoded.resources] == [s.urn for s in deployment.resources]
    assert list(decoded.resources) == [wire.stack_resource(s) for s in deployment.resources]
    some = deployment.resources[3:7]
    assert [r.urn for r in wire.analyze_stack_request(some).decode().resources] == [
        s.urn for s in some
    ]


def test_one_pack_version_is_shown(plan_documents, tmp_path, capsys):
    """The SDK writes its placeholder 0.0.1 into its own diagnostics; the report shows the
    version of PulumiPolicy.yaml everywhere."""
    path = _write(tmp_path, "p.json", plan_documents["prod"]["preview"])
    main(["policy-check", path, "--format", "json"])
    out = capsys.readouterr().out
    assert "@v0.0.1" not in out and "0.0.1" not in json.loads(out)["reports"][0]["version"]
    assert "can't run policy" in out, "the preview holds a value the SDK waits for"
    assert "configtrail-guardrails@0.1.0" in out
