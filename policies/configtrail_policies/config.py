"""Per-policy configuration: the JSON schema of every configurable policy, with its defaults, in
one constant (`CONFIG_SCHEMAS`).

The Pulumi CLI fills in these defaults before it configures the pack, and an environment's file
under `policies/config/` overrides them (and the enforcement level). Validators read their
settings through `settings_for()`, which applies the same defaults again, so a validator never
depends on whether a caller passed config at all.

Lists that describe AWS Config (the AI baseline, global and churny types) come from the
repository's own catalog (`configtrail.catalog`, data in src/configtrail/data), so the pack and
the stack can never disagree about what "the baseline" is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configtrail import catalog
from configtrail.settings import REQUIRED_TAGS

# AWS's MaximumExecutionFrequency values, in hours (a test keeps this in step with botocore).
FREQUENCY_HOURS: dict[str, int] = {
    "One_Hour": 1,
    "Three_Hours": 3,
    "Six_Hours": 6,
    "Twelve_Hours": 12,
    "TwentyFour_Hours": 24,
}
# What AWS uses when a delivery channel sets no frequency.
AWS_DEFAULT_DELIVERY_FREQUENCY = "TwentyFour_Hours"


def _types(values) -> list[str]:
    return sorted(set(values))


def _string_list(description: str, default: list[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "description": description,
        "default": default,
    }


# The AI baseline a narrowed recorder must keep, in every region. Global (IAM) types are left out
# here because they are recorded in one region only (aws-cfg-recorder-global-types-once).
BASELINE_TYPES = _types(set(catalog.ai_systems_types()) - set(catalog.global_resource_types()))

CONFIG_SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    "aws-s3-bucket-default-encryption-kms": {
        "requireKms": {
            "type": "boolean",
            "description": "Require SSE-KMS with a customer key (false: SSE-S3 is enough).",
            "default": True,
        },
        "sseS3Buckets": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Bucket-name patterns (fnmatch) that may use SSE-S3 although KMS is "
            "required: server-access-log buckets, which S3 logging delivers to with SSE-S3 only.",
            "default": [],
        },
    },
    "aws-s3-bucket-lifecycle-keeps-history": {
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "No lifecycle rule may expire objects or old versions sooner.",
            "default": 365,
        },
    },
    "aws-cfg-retentionconfiguration-minimum-days": {
        "minRetentionDays": {
            "type": "integer",
            "minimum": 30,
            "maximum": 2557,
            "description": "Fewest days AWS Config must keep its own history.",
            "default": 365,
        },
    },
    "aws-cfg-recorder-recording-scope": {
        "requiredResourceTypes": _string_list(
            "Types every recorder must record unless it records all supported types "
            "(default: the ai-systems baseline without the global IAM types).",
            BASELINE_TYPES,
        ),
    },
    "aws-cfg-recorder-global-types-once": {
        "globalResourceTypes": _string_list(
            "Global types that must be recorded in exactly one region.",
            _types(catalog.global_resource_types()),
        ),
    },
    "aws-cfg-recorder-delivery-channel": {
        "archiveBuckets": _string_list(
            "Archive buckets of the estate in another account that this stack's channels may "
            "deliver to (a member stack's log-archive bucket); derived from the stack files.",
            [],
        ),
    },
    "aws-cfg-deliverychannel-delivery-frequency": {
        "slowestDeliveryFrequency": {
            "type": "string",
            "enum": list(FREQUENCY_HOURS),
            "description": "The slowest snapshot delivery frequency allowed.",
            "default": "Six_Hours",
        },
    },
    "aws-cfg-recorder-continuous-recording": {
        "dailyAllowedResourceTypes": _string_list(
            "Types that may be recorded DAILY while everything else is CONTINUOUS.",
            _types(catalog.churny_resource_types()),
        ),
    },
    "aws-cfg-recorder-churny-types-daily": {
        "churnyResourceTypes": _string_list(
            "Types whose CONTINUOUS recording is expensive.",
            _types(catalog.churny_resource_types()),
        ),
        "allowContinuous": {
            "type": "boolean",
            "description": "This environment accepts the cost of recording churny types "
            "continuously.",
            "default": False,
        },
    },
    "aws-taggable-resource-required-tags": {
        "requiredTags": _string_list(
            "Tag keys every taggable resource must carry (its own tags or the provider's "
            "default tags).",
            list(REQUIRED_TAGS),
        ),
    },
}


def defaults(policy_name: str) -> dict[str, Any]:
    """The default settings of one policy (empty for a policy without config)."""
    return {
        key: schema["default"]
        for key, schema in CONFIG_SCHEMAS.get(policy_name, {}).items()
        if "default" in schema
    }


def settings_for(policy_name: str, configured: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with what the engine passed (`args.get_config()`). Config crosses the
    wire as a protobuf Struct, where every number is a float: whole numbers become ints again."""
    merged = {**defaults(policy_name), **dict(configured or {})}
    return {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key, value in merged.items()
    }
