"""The Terraform plan export (configtrail/tfplan): every type is mapped or explained, and what
checkov reads comes out of checkov's own parser with the value the program set."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from configtrail import tfplan
from configtrail.tfplan import typemap
from configtrail.tfplan.convert import snake, terraform_name
from tests.gates.conftest import checkov_parse

MISSING = object()


def _pulumi_value(inputs: dict, mapping: typemap.Mapping, path: str):
    """The program's input behind a Terraform attribute path (first block of each list)."""
    value = inputs
    for segment in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else MISSING
        if not isinstance(value, dict):
            return MISSING
        key = next((k for k in value if mapping.blocks.get(k, snake(k)) == segment), None)
        if key is None:
            return MISSING
        value = value[key]
    return value


def _checkov_value(conf: dict, path: str):
    """The value checkov's parsed resource holds at a Terraform attribute path."""
    value = conf
    for segment in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else MISSING
        if not isinstance(value, dict) or segment not in value:
            return MISSING
        value = value[segment]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _address(state: dict, mapping: typemap.Mapping) -> str:
    return f"{mapping.terraform}.{terraform_name(state['urn'].split('::')[-1])}"


def test_every_type_the_program_registers_is_mapped_or_explained(stack_exports):
    types = typemap.load()
    seen = set()
    for env, document in stack_exports.items():
        for state in document["deployment"]["resources"]:
            token = state["type"]
            seen.add(token)
            assert types.mapping(token) or types.unmapped_reason(token), (
                f"{env}: {token} is neither mapped nor listed as deliberately unmapped in "
                f"{typemap.DEFAULT_PATH} — checkov would not see it"
            )
        assert tfplan.from_stack_export(document)["configtrail"]["unmapped_types"] == {}
    unused = set(types.mapped) - seen
    assert not unused, f"mapped types no plan exercises (no round trip checks them): {unused}"


def test_a_new_unmapped_type_is_reported_not_dropped(stack_exports):
    document = copy.deepcopy(stack_exports["trial"])
    vpc = {
        "urn": "urn:pulumi:trial::configtrail::aws:ec2/vpc:Vpc::net",
        "custom": True,
        "type": "aws:ec2/vpc:Vpc",
        "id": "vpc-1",
        "inputs": {"cidrBlock": "10.0.0.0/16"},
        "outputs": {},
    }
    document["deployment"]["resources"].append(vpc)
    plan = tfplan.from_stack_export(document)
    assert plan["configtrail"]["unmapped_types"] == {"aws:ec2/vpc:Vpc": 1}
    types = {r["type"] for r in plan["planned_values"]["root_module"]["resources"]}
    assert "aws_s3_bucket" in types


def test_mapping_round_trips_the_attributes_checkov_reads(stack_exports, plan_files, checkov_bin):
    types = typemap.load()
    parsed = checkov_parse(checkov_bin, list(plan_files.values()))
    verified: set[tuple[str, str]] = set()
    for env, document in stack_exports.items():
        confs = {
            conf["__address__"]: conf
            for block in parsed[str(plan_files[env])]
            for named in block.values()
            for conf in named.values()
        }
        for state in document["deployment"]["resources"]:
            mapping = types.mapping(state["type"])
            if mapping is None:
                continue
            address = _address(state, mapping)
            assert address in confs, f"{env}: checkov did not parse {address}"
            for path in mapping.reads:
                expected = _pulumi_value(state["inputs"], mapping, path)
                if expected is MISSING:
                    continue  # not set by this resource; another plan must cover it
                seen = _checkov_value(confs[address], path)
                if isinstance(expected, str) and isinstance(seen, dict):
                    expected = json.loads(expected)  # checkov parses policy documents
                assert seen == expected, f"{env}: {address} {path}: checkov reads {seen!r}"
                verified.add((state["type"], path))
    unchecked = {(t, p) for t, m in types.mapped.items() for p in m.reads} - verified
    assert not unchecked, f"attributes no plan set, so never round-tripped: {sorted(unchecked)}"


def test_references_link_children_to_the_resource_they_configure(plan_files, checkov_bin):
    parsed = checkov_parse(checkov_bin, [plan_files["variant"]])[str(plan_files["variant"])]
    confs = {
        c["__address__"]: c for block in parsed for named in block.values() for c in named.values()
    }
    assert confs["aws_s3_bucket_versioning.archive-versioning"]["bucket"] == [
        "aws_s3_bucket.archive.id"
    ]
    assert confs["aws_s3_bucket_public_access_block.vault-public-access-block"]["bucket"] == [
        "aws_s3_bucket.vault.id"
    ]
    assert confs["aws_config_configuration_recorder_status.recording-eu-west-1-status"]["name"] == [
        "aws_config_configuration_recorder.recording-eu-west-1-recorder.id"
    ]
    channel = confs["aws_config_delivery_channel.recording-eu-west-1-channel"]
    assert channel["s3_bucket_name"] == ["aws_s3_bucket.archive.id"]
    assert channel["sns_topic_arn"] == ["aws_sns_topic.notifications-eu-west-1.arn"]
    replication = confs["aws_s3_bucket_replication_configuration.vault-replication"]
    assert replication["bucket"] == ["aws_s3_bucket.archive.id"]
    assert replication["role"] == ["aws_iam_role.vault-replication-role.arn"]


def test_provider_region_and_default_tags_become_provider_config(stack_exports):
    config = tfplan.from_stack_export(stack_exports["ml-prod"])["configuration"]["provider_config"]
    assert config["aws"]["expressions"]["region"] == {"constant_value": "us-east-1"}
    tags = config["aws"]["expressions"]["default_tags"][0]["tags"]["constant_value"]
    assert tags["environment"] == "prod"


def test_names_follow_the_bridge_and_terraform_rules():
    assert snake("s3KmsKeyArn") == "s3_kms_key_arn"
    assert snake("applyServerSideEncryptionByDefault") == "apply_server_side_encryption_by_default"
    assert terraform_name("recording-us-east-1-recorder") == "recording-us-east-1-recorder"
    assert terraform_name("1st.bucket") == "_1st_bucket"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"mapped": {}}, "mapped: expected a non-empty mapping"),
        ({"mapped": {"aws:x/y:Y": {"terraform": "y"}}}, "mapped.aws:x/y:Y.terraform"),
        ({"mapped": {"aws:x/y:Y": {"terraform": "aws_y", "read": []}}}, "unknown keys ['read']"),
        (
            {"mapped": {"aws:x/y:Y": {"terraform": "aws_y"}, "aws:x/z:Z": {"terraform": "aws_y"}}},
            "mapped more than once: ['aws_y']",
        ),
        (
            {"mapped": {"aws:x/y:Y": {"terraform": "aws_y"}}, "unmapped": {"aws:*": "all"}},
            "both mapped and unmapped",
        ),
        (
            {"mapped": {"aws:x/y:Y": {"terraform": "aws_y"}}, "unmapped": {"aws:q": ""}},
            "unmapped: expected a mapping of names to non-empty text",
        ),
    ],
)
def test_a_bad_type_map_names_file_key_and_what_is_allowed(raw, message):
    with pytest.raises(typemap.TypeMapError) as error:
        typemap.parse(raw, Path("types.yaml"))
    assert str(error.value).startswith("types.yaml: ")
    assert message in str(error.value)
