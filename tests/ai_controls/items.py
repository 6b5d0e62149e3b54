"""Configuration items shaped as AWS Config delivers them to a CUSTOM_POLICY (Guard) rule: the
configuration-item fields (version 1.3: accountId, arn, awsRegion, configurationItemStatus,
resourceType, tags, relationships, configuration, supplementaryConfiguration, ...), with a
`configuration` of the type's CloudFormation properties — for Bedrock types AWS Config records the
CloudFormation resource's properties, and `cloudformation_schema()` gives the schema cfn-lint
bundles so tests can prove each fixture uses real property names and values.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

ACCOUNT = "111111111111"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@cache
def cloudformation_schema(resource_type: str) -> dict:
    """The CloudFormation resource schema of `resource_type` as cfn-lint ships it (us-east-1)."""
    base = resources.files("cfnlint.data.schemas")
    index = json.loads(base.joinpath("providers").joinpath("us-east-1.json").read_text())
    return json.loads(
        base.joinpath("resources").joinpath(f"{index[resource_type]}.json").read_text()
    )


def assert_real_configuration(item: dict) -> None:
    """`item["configuration"]` validates against its type's CloudFormation schema (property names,
    enums, nesting): a misspelt field in a fixture fails here, not silently in Guard."""
    schema = dict(cloudformation_schema(item["resourceType"]))
    schema.pop("required", None)  # Config records what exists; create-time requirements differ
    jsonschema.Draft7Validator(schema).validate(item["configuration"])


def item(
    resource_type: str, name: str, configuration: dict, tags: dict | None = None, status: str = "OK"
) -> dict[str, Any]:
    """One configuration item, as Config delivers it."""
    service = resource_type.split("::")[1].lower()
    kind = resource_type.split("::")[2].lower()
    return {
        "version": "1.3",
        "accountId": ACCOUNT,
        "configurationItemCaptureTime": "2026-11-30T10:15:00.000Z",
        "configurationItemStatus": status,
        "configurationStateId": "1764497700000",
        "configurationItemMD5Hash": "",
        "arn": f"arn:aws:{service}:{REGION}:{ACCOUNT}:{kind}/{name}",
        "resourceType": resource_type,
        "resourceId": name,
        "resourceName": name,
        "awsRegion": REGION,
        "availabilityZone": "Not Applicable",
        "resourceCreationTime": "2026-11-01T09:00:00.000Z",
        "tags": dict(tags or {}),
        "relatedEvents": [],
        "relationships": [],
        "configuration": None if status == "ResourceDeleted" else configuration,
        "supplementaryConfiguration": {},
    }


CATEGORIES = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")


def guardrail(**changes: Any) -> dict:
    """A compliant guardrail item; `changes` replace top-level configuration properties."""
    configuration = {
        "GuardrailArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abcd1234efgh",
        "GuardrailId": "abcd1234efgh",
        "Name": "assistant-guardrail",
        "Version": "DRAFT",
        "Status": "READY",
        "BlockedInputMessaging": "Sorry, this request is not allowed.",
        "BlockedOutputsMessaging": "Sorry, this response was blocked.",
        "KmsKeyArn": KEY_ARN,
        "ContentPolicyConfig": {
            "FiltersConfig": [
                {"Type": c, "InputStrength": "HIGH", "OutputStrength": "HIGH"} for c in CATEGORIES
            ]
            + [{"Type": "PROMPT_ATTACK", "InputStrength": "HIGH", "OutputStrength": "NONE"}]
        },
        "ContextualGroundingPolicyConfig": {
            "FiltersConfig": [
                {"Type": "GROUNDING", "Threshold": 0.8},
                {"Type": "RELEVANCE", "Threshold": 0.75},
            ]
        },
    }
    configuration.update(changes)
    return item(
        "AWS::Bedrock::Guardrail",
        "assistant-guardrail",
        configuration,
        tags={"ai-grounding-check": "required", "owner": "ml-platform"},
    )


def with_filter(ci: dict, category: str, **fields: Any) -> dict:
    """`ci` with the content filter of `category` changed."""
    ci = copy.deepcopy(ci)
    for f in ci["configuration"]["ContentPolicyConfig"]["FiltersConfig"]:
        if f["Type"] == category:
            f.update(fields)
    return ci


def knowledge_base(kb_type: str = "MANAGED", key: str | None = KEY_ARN) -> dict:
    configuration: dict[str, Any] = {
        "KnowledgeBaseId": "KB12345678",
        "KnowledgeBaseArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:knowledge-base/KB12345678",
        "Name": "handbook",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock-kb",
        "Status": "ACTIVE",
    }
    if kb_type == "MANAGED":
        managed: dict[str, Any] = {"EmbeddingModelType": "MANAGED"}
        if key is not None:
            managed["ServerSideEncryptionConfiguration"] = {"KmsKeyArn": key}
        configuration["KnowledgeBaseConfiguration"] = {
            "Type": "MANAGED",
            "ManagedKnowledgeBaseConfiguration": managed,
        }
    else:
        configuration["KnowledgeBaseConfiguration"] = {
            "Type": "VECTOR",
            "VectorKnowledgeBaseConfiguration": {
                "EmbeddingModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/"
                "amazon.titan-embed-text-v2:0"
            },
        }
        configuration["StorageConfiguration"] = {
            "Type": "OPENSEARCH_SERVERLESS",
            "OpensearchServerlessConfiguration": {
                "CollectionArn": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/abcdefghij0123456789",
                "VectorIndexName": "handbook",
                "FieldMapping": {"VectorField": "v", "TextField": "t", "MetadataField": "m"},
            },
        }
    return item("AWS::Bedrock::KnowledgeBase", "KB12345678", configuration)
