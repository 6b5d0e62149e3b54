"""The AI control catalog is true to AWS and to pulumi-aws, and bad data or a bad selection gets a
one-line error naming the file, the key, the value and what is allowed."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from configtrail import catalog, controls
from configtrail.ai_pack import plan_variant
from configtrail.commands import controls_doc

DOCUMENT = yaml.safe_load(
    resources.files("configtrail.data").joinpath("ai_controls.yaml").read_text()
)


def mutated(control_id: str, change) -> dict:
    document = copy.deepcopy(DOCUMENT)
    change(next(c for c in document["controls"] if c["id"] == control_id))
    return document


def problems_of(document: dict) -> list[str]:
    with pytest.raises(controls.ControlCatalogError) as caught:
        controls.parse(document)
    return caught.value.problems


def test_catalog_covers_what_issue_12_names():
    ids = {c.id for c in controls.controls()}
    assert {
        "sagemaker-notebook-no-direct-internet",
        "sagemaker-notebook-no-root-access",
        "sagemaker-notebook-in-vpc",
        "sagemaker-notebook-kms",
        "sagemaker-endpoint-config-kms",
        "sagemaker-model-network-isolation",
        "sagemaker-model-in-vpc",
        "sagemaker-domain-vpc-only",
        "bedrock-guardrail-content-filters",
        "bedrock-guardrail-contextual-grounding",
        "bedrock-knowledge-base-customer-key",
        "bedrock-agent-guardrail",
        "bedrock-model-invocation-logging",
        "training-data-bucket-versioned",
        "training-data-bucket-encrypted",
        "training-data-bucket-not-public",
    } <= ids
    for control in controls.controls():
        assert control.preventive or control.detective.kind != "none", control.id
        assert control.guidance and control.statement.endswith("."), control.id


def test_recordable_types_are_botocore_facts():
    recordable = catalog.recordable_resource_types()
    for t in (
        "AWS::SageMaker::NotebookInstance",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::Bedrock::Agent",
        "AWS::Bedrock::DataSource",
    ):
        assert t not in recordable, t
    for t in (
        "AWS::SageMaker::Model",
        "AWS::SageMaker::Domain",
        "AWS::Bedrock::Guardrail",
        "AWS::Bedrock::KnowledgeBase",
        "AWS::S3::Bucket",
    ):
        assert t in recordable, t
    by_id = controls.by_id()
    assert by_id["bedrock-agent-guardrail"].unrecorded_types == ("AWS::Bedrock::Agent",)
    # A change-triggered managed rule on a type Config does not record evaluates nothing.
    assert "NotebookInstance" in by_id["sagemaker-notebook-no-root-access"].detective_gap
    # A periodic managed rule asks the service itself: covered although the type is unrecorded.
    assert by_id["sagemaker-notebook-kms"].detective_gap == ""
    assert by_id["bedrock-guardrail-content-filters"].detective_gap == ""


def test_guard_rules_only_for_recorded_types():
    document = mutated(
        "bedrock-guardrail-customer-key", lambda c: c.update(resource_types=["AWS::Bedrock::Agent"])
    )
    assert any(
        "AWS Config does not record ['AWS::Bedrock::Agent']" in p for p in problems_of(document)
    )


def test_every_preventive_path_is_a_real_pulumi_aws_input():
    """The compliant example stack uses the real pulumi-aws classes, so its resources carry the
    wire names the engine sends; every path the catalog checks must be set there."""
    from configtrail_ai_policies import checks  # the pack's own path walker

    resources_ = plan_variant("compliant")["deployment"]["resources"]
    for control in controls.controls():
        preventive = control.preventive
        target = preventive.companion_type or preventive.resource
        states = [r for r in resources_ if r["type"] == target]
        assert states, f"{control.id}: the example has no {target}"
        paths = [r.path for r in preventive.require] + (
            [preventive.path + "[*]"] if preventive.path else []
        )
        for path in paths:
            assert any(
                checks.values_at(s["inputs"], path)
                and all(v is not checks.MISSING for v in checks.values_at(s["inputs"], path))
                for s in states
            ), f"{control.id}: {path} is not an input of {target}"


@pytest.mark.parametrize(
    ("control_id", "change", "expected"),
    [
        (
            "sagemaker-notebook-kms",
            lambda c: c.update(severity="urgent"),
            "severity: 'urgent'; allowed: low, medium, high, critical",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c.update(colour="red"),
            "controls[sagemaker-notebook-kms]: unknown key 'colour'; allowed: id, pack",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c["detective"].update(managed="NO_SUCH_RULE"),
            "detective.managed: 'NO_SUCH_RULE' is not in the managed-rule catalog",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c["detective"].update(trigger="hourly"),
            "detective.trigger: 'hourly': one of change, periodic",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c.update(pack="gpu"),
            "[sagemaker-notebook-kms].pack: 'gpu'; allowed: sagemaker, bedrock, data-stores",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c["preventive"].update(resource="NotebookInstance"),
            "preventive.resource: 'NotebookInstance': must be a pulumi-aws type token",
        ),
        (
            "sagemaker-notebook-kms",
            lambda c: c.update(resource_types=["SageMaker Notebook"]),
            "resource_types: 'SageMaker Notebook' is not AWS::X::Y",
        ),
        (
            "bedrock-guardrail-customer-key",
            lambda c: c["detective"].update(guard="nope.guard"),
            "detective.guard: 'nope.guard': no such file in src/configtrail/data/guard/",
        ),
        (
            "bedrock-guardrail-content-filters",
            lambda c: c["parameters"]["allowed_strengths"].update(default=["MEDIUM"]),
            "must be a strength and every one above it",
        ),
        (
            "bedrock-guardrail-contextual-grounding",
            lambda c: c["parameters"]["minimum_grounding_threshold"].update(default=1.5),
            "must be a number from 0 to 0.99",
        ),
    ],
)
def test_bad_catalog_data_gets_one_line_naming_file_key_value(control_id, change, expected):
    problems = problems_of(mutated(control_id, change))
    assert any(expected in p for p in problems), problems
    assert all(
        p.startswith(controls.CATALOG_FILE) or p.startswith("src/configtrail/data/guard/")
        for p in problems
    )
    assert all("\n" not in p for p in problems)


def test_guard_let_must_match_the_catalog_default():
    document = mutated(
        "bedrock-guardrail-contextual-grounding",
        lambda c: c["parameters"]["minimum_relevance_threshold"].update(default=0.6),
    )
    assert any(
        "`let minimum_relevance_threshold` is 0.7 but the catalog default is 0.6" in p
        for p in problems_of(document)
    )


def test_select_by_pack_and_id_with_exclusions():
    chosen = controls.select(
        ["bedrock", "sagemaker-notebook-kms"], exclude=["bedrock-agent-guardrail"]
    )
    ids = [c.id for c in chosen]
    assert "sagemaker-notebook-kms" in ids and "bedrock-guardrail-content-filters" in ids
    assert "bedrock-agent-guardrail" not in ids
    assert ids == [c.id for c in controls.controls() if c.id in ids]  # catalog order


def test_unknown_control_in_a_selection_names_source_value_and_allowed():
    source = "environments/Pulumi.ml-dev.yaml: configtrail:aiControls"
    with pytest.raises(controls.ControlCatalogError) as caught:
        controls.select(["bedrok"], source=source)
    (line,) = caught.value.problems
    assert line.startswith(f"{source}: 'bedrok' is not an AI control or pack; allowed: packs ")
    assert "bedrock" in line and "sagemaker-notebook-kms" in line
    with pytest.raises(controls.ControlCatalogError, match="exclude 'x' is not an AI control"):
        controls.select(["bedrock"], exclude=["x"], source=source)


def test_parameter_overrides_are_validated():
    control = controls.by_id()["bedrock-guardrail-content-filters"]
    assert controls.resolved_parameters(control, {"allowed_strengths": ["MEDIUM", "HIGH"]}) == {
        "allowed_strengths": ["MEDIUM", "HIGH"]
    }
    with pytest.raises(
        controls.ControlCatalogError, match="unknown parameter; allowed: allowed_strengths"
    ):
        controls.resolved_parameters(control, {"strength": ["HIGH"]})
    with pytest.raises(controls.ControlCatalogError, match="'LOW', 'HIGH'"):
        controls.resolved_parameters(control, {"allowed_strengths": ["LOW", "HIGH"]})


def test_rendered_guard_rule_carries_the_stack_value():
    control = controls.by_id()["bedrock-guardrail-content-filters"]
    text = controls.guard_policy_text(control, {"allowed_strengths": ["MEDIUM", "HIGH"]})
    assert 'let allowed_strengths = ["MEDIUM", "HIGH"]' in text
    assert "#" not in "".join(line[:1] for line in text.splitlines())  # comments dropped


def test_readme_table_is_the_generated_one():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start, end = controls_doc.START, controls_doc.END
    assert start in readme and end in readme, "README lost its ai-controls markers"
    assert readme.split(start, 1)[1].split(end, 1)[0] == controls_doc.table_markdown(), (
        "README AI control table is stale: run `configtrail controls --update README.md`"
    )
    for control in controls.controls():
        assert f"**{control.id}**" in readme


def test_managed_identifiers_of_a_selection():
    selected = controls.select(["data-stores", "bedrock"])
    assert controls.managed_identifiers(selected) == [
        "S3_BUCKET_VERSIONING_ENABLED",
        "S3_DEFAULT_ENCRYPTION_KMS",
        "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    ]


def test_parameter_problems_name_the_stack_file():
    source = "environments/Pulumi.ml-dev.yaml: configtrail:aiControlParameters"
    selected = controls.select(["bedrock"])
    assert controls.parameter_problems(selected, {}, source) == []
    problems = controls.parameter_problems(
        selected,
        {"sagemaker-notebook-kms": {}, "bedrock-guardrail-content-filters": {"allowed": 1}},
        source,
    )
    assert problems[0].startswith(f"{source}: 'sagemaker-notebook-kms' is not a selected control")
    assert problems[1] == (
        f"{source}: bedrock-guardrail-content-filters.allowed: unknown "
        "parameter; allowed: allowed_strengths"
    )
