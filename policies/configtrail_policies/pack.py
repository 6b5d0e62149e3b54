"""The pack's policies, built from the rule metadata, the validators and the config schemas.

`policies()` is what `policies/__main__.py` hands to `PolicyPack(...)`; `service()` builds the
analyzer service `PolicyPack(...)` would serve, for the in-process engine and tests, without ever
starting a gRPC server in their own process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from configtrail_policies import analyzer, identity, recording, s3, tagging
from configtrail_policies.config import CONFIG_SCHEMAS
from configtrail_policies.rules import RESOURCE, RULES, Rule

# The SDK turns every request into fresh dicts and proxies once per policy; with Python's default
# gen-0 threshold (700) the collector runs thousands of times over a large stack and its cost grows
# with the heap (benchmarks/policy_pack.py: 10,000 resources 8.6 s -> 6.6 s in-process).
gc.set_threshold(50_000, 20, 100)

# The pack process (`PolicyPack(...)` in __main__.py, which imports this module first) converts
# each request once per call instead of once per policy: see analyzer.py.
analyzer.install()

PACK_NAME = "configtrail-guardrails"
PACK_DESCRIPTION = (
    "ConfigTrail guardrails: block changes that would make the AWS Config archive public, stop "
    "recording, shorten history or let it be deleted."
)
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
# What `PolicyPack(...)` hands its servicer as the version; the CLI reports PulumiPolicy.yaml's.
SDK_PACK_VERSION = "0.0.1"

VALIDATORS: dict[str, Callable] = {
    "aws-s3-bucket-versioning-enabled": s3.versioning_enabled,
    "aws-s3-bucket-default-encryption-kms": s3.default_encryption_kms,
    "aws-s3-bucket-public-access-blocked": s3.public_access_blocked,
    "aws-s3-bucket-tls-only": s3.tls_only,
    "aws-s3-bucket-config-delivery-policy": s3.config_delivery_policy,
    "aws-s3-bucket-disallow-force-destroy": s3.disallow_force_destroy,
    "aws-s3-bucket-protected": s3.protected,
    "aws-s3-bucket-lifecycle-keeps-history": s3.lifecycle_keeps_history,
    "aws-s3-bucket-no-object-lock-on-delivery": s3.no_object_lock_on_delivery,
    "aws-s3-bucket-history-controls-present": s3.history_controls_present,
    "aws-cfg-recorder-recording-scope": recording.recording_scope,
    "aws-cfg-recorder-global-types-once": recording.global_types_once,
    "aws-cfg-recorder-delivery-channel": recording.recorder_delivery_channel,
    "aws-cfg-recorder-status-enabled": recording.recorder_status_enabled,
    "aws-cfg-deliverychannel-delivery-frequency": recording.delivery_frequency,
    "aws-cfg-retentionconfiguration-minimum-days": recording.retention_minimum_days,
    "aws-cfg-recorder-continuous-recording": recording.continuous_recording,
    "aws-cfg-recorder-churny-types-daily": recording.churny_types_daily,
    "aws-iam-role-config-trust": identity.config_trust,
    "aws-iam-policy-no-admin-statements": identity.no_admin_statements,
    "aws-iam-role-no-administrator-access": identity.no_administrator_access,
    "aws-kms-key-rotation-enabled": identity.key_rotation,
    "aws-sns-topic-encrypted": identity.topic_encrypted,
    "aws-taggable-resource-required-tags": tagging.required_tags,
}


def _framework(rule: Rule) -> PolicyComplianceFramework | None:
    if not rule.controls:
        return None
    return PolicyComplianceFramework(name="ConfigTrail", reference="; ".join(rule.controls))


def build(rule: Rule) -> Policy:
    """One SDK policy object for one rule."""
    schema = CONFIG_SCHEMAS.get(rule.name)
    common = dict(
        name=rule.name,
        description=rule.description,
        validate=VALIDATORS[rule.name],
        enforcement_level=EnforcementLevel(rule.level),
        config_schema=PolicyConfigSchema(properties=schema) if schema else None,
        severity=Severity(rule.severity),
        framework=_framework(rule),
        tags=[f"unknowns:{rule.unknowns}"],
        remediation_steps=rule.remediation,
    )
    if rule.kind == RESOURCE:
        return ResourceValidationPolicy(**common)
    return StackValidationPolicy(**common)


def policies() -> list[Policy]:
    """Every policy of the pack, in rule order."""
    return [build(rule) for rule in RULES]


def service(
    servicer: type[analyzer.SDK_ANALYZER] = analyzer.ConvertOnceAnalyzer,
) -> analyzer.SDK_ANALYZER:
    """The analyzer service of `policies/__main__.py`'s `PolicyPack(...)`, built as
    `PolicyPack.__init__` builds it (pulumi-policy 1.21.0) but not served: the in-process engine
    calls its methods directly. `servicer=analyzer.SDK_ANALYZER` gives the SDK's unmodified one."""
    return servicer(
        PACK_NAME,
        SDK_PACK_VERSION,
        policies(),
        PACK_ENFORCEMENT_LEVEL,
        None,  # initial_config
        PACK_DESCRIPTION,
    )
