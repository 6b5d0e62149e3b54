"""Real CLI files (issue 10, item 3), on the offline plan of every environment: versions 1-4 of
stack exports and backend checkpoints, previews in the shape the CLI writes them (no
`newState.outputs`), resource references and "[secret]" masks where no policy looks, pending
operations and unknown value signatures. A verdict or a clean exit 2, never a traceback."""

from __future__ import annotations

import copy
import json

import pytest

from configtrail.cli import main
from configtrail.policy.wire import RESOURCE_REFERENCE_SIG as REFERENCE
from configtrail.policy.wire import SIG_KEY as SIG
from tests.policies.conftest import ENVS
from tests.policies.helpers import find, resources


def real_preview(export: dict, *, outputs: dict | None = None) -> dict:
    """The unchanged stack as `pulumi preview --json --show-sames` writes it: every step `same`,
    each newState with its inputs and no outputs (or `outputs` given explicitly)."""
    steps = []
    for state in export["deployment"]["resources"]:
        new = {k: v for k, v in state.items() if k != "outputs"}
        if outputs is not None:
            new["outputs"] = outputs
        steps.append(
            {
                "op": "same",
                "urn": state["urn"],
                "provider": state.get("provider", ""),
                "newState": new,
            }
        )
    return {"steps": steps, "changeSummary": {"same": len(steps)}, "diagnostics": []}


def _key(report):
    return [(f.policy, f.urn, f.level, f.message) for f in report.findings]


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_the_unchanged_stack_in_real_preview_shape_passes(plan_documents, run, env):
    report = run(real_preview(plan_documents[env]["stack"]), env)
    assert report.kind == "preview"
    assert report.mandatory == [], [
        (f.policy, f.resource_name, f.message) for f in report.mandatory
    ]


@pytest.mark.slow
def test_outputs_that_are_really_empty_are_judged_as_empty(plan_documents, run):
    """Proof the test above depends on judging inputs when outputs are absent: the same preview
    with outputs present but empty draws the false findings that absent outputs used to."""
    report = run(real_preview(plan_documents["prod"]["stack"], outputs={}), "prod")
    assert report.mandatory


@pytest.mark.slow
@pytest.mark.parametrize("version", [1, 2, 3, 4])
@pytest.mark.parametrize("wrapping", ["export", "checkpoint"])
def test_every_version_gives_the_verdicts_of_version_3(plan_documents, run, version, wrapping):
    export = copy.deepcopy(plan_documents["prod"]["stack"])
    reference = run(export, "prod")
    deployment = export["deployment"]
    if version < 3:  # what Pulumi 1.x/2.x wrote: no propertyDependencies; v1 also `defaults`
        for state in deployment["resources"]:
            state.pop("propertyDependencies", None)
            if version == 1:
                state["defaults"] = {}
    document = {"version": version, "deployment": deployment}
    if version == 4:
        document["features"] = ["refreshBeforeUpdate"]
    if wrapping == "checkpoint":
        document = {"version": version, "checkpoint": {"stack": "prod", "latest": deployment}}
        if version == 4:
            document["features"] = ["refreshBeforeUpdate"]
    report = run(document, "prod")
    assert report.kind == "stack-export"
    if version >= 3:
        assert _key(report) == _key(reference)
    else:  # property dependencies are gone: companions are still matched by bucket name
        assert report.passed, [(f.policy, f.message) for f in report.mandatory]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stack", "preview"])
def test_resource_references_and_masks_where_no_policy_looks(plan_documents, run, kind):
    document = copy.deepcopy(plan_documents["prod"][kind])
    reference = run(document, "prod")
    states = resources(document)
    root = next(s for s in states if s["type"] == "pulumi:pulumi:Stack")
    bucket = find(document, "aws:s3/bucket:Bucket", "archive")
    component = next(s for s in states if s["type"].startswith("configtrail:"))
    root["outputs"] = {
        "archive": {
            SIG: REFERENCE,
            "urn": bucket["urn"],
            "id": bucket.get("id", "x"),
            "packageVersion": "7.51.1",
        },
        "component": {SIG: REFERENCE, "urn": component["urn"], "packageVersion": ""},
        "token": "[secret]",
    }
    topic = find(document, "aws:sns/topic:Topic", "us-east-1")
    topic.setdefault("inputs", {})["displayName"] = "[secret]"
    report = run(document, "prod")
    assert _key(report) == _key(reference)


def _write(tmp_path, document) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_pending_operations_are_refused_with_what_to_run(plan_documents, tmp_path, capsys):
    document = copy.deepcopy(plan_documents["dev"]["stack"])
    bucket = find(document, "aws:s3/bucket:Bucket", "archive")
    document["deployment"]["pending_operations"] = [{"resource": bucket, "type": "creating"}]
    assert main(["policy-check", _write(tmp_path, document)]) == 2
    err = capsys.readouterr().err
    assert "pending operation" in err and "pulumi refresh" in err and "Traceback" not in err


def test_an_unknown_value_signature_is_refused_cleanly(plan_documents, tmp_path, capsys):
    document = copy.deepcopy(plan_documents["dev"]["stack"])
    find(document, "aws:s3/bucket:Bucket", "archive")["inputs"]["odd"] = {SIG: "ffff"}
    assert main(["policy-check", _write(tmp_path, document)]) == 2
    err = capsys.readouterr().err
    assert (
        "unknown value signature 'ffff'" in err and "inputs.odd" in err and "Traceback" not in err
    )


@pytest.mark.slow
def test_a_stack_without_config_resources_says_it_is_not_a_configtrail_stack(plan_documents, run):
    document = copy.deepcopy(plan_documents["prod"]["stack"])
    document["deployment"]["resources"] = [
        s for s in document["deployment"]["resources"] if not s["type"].startswith("aws:cfg/")
    ]
    report = run(document, "prod")
    [plain] = [f for f in report.findings if f.policy == "aws-cfg-stack-is-configtrail"]
    assert plain.level == "mandatory" and "not a ConfigTrail stack" in plain.message
    assert not report.passed
    assert not run(plan_documents["prod"]["stack"], "prod").findings
