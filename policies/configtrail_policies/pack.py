"""The pack: every policy definition of the service modules, as SDK policy objects.

`policies()` is what `policies/__main__.py` hands to `PolicyPack(...)` — the SDK's own public way
of hosting a pack, which serves them over the Analyzer gRPC protocol. Importing this module has no
other effect.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

# The service modules register their definitions when imported, in this order (the pack's order).
from configtrail_policies import identity, recording, s3, stack, tagging  # noqa: F401

# The history invariants against the estate (issue 10, item 1), after the property checks.
from configtrail_policies import coverage, delivery, legacy, vault  # noqa: F401, I001
from configtrail_policies.definition import REGISTRY, Definition

PACK_NAME = "configtrail-guardrails"
PACK_DESCRIPTION = (
    "ConfigTrail guardrails: block changes that would make the AWS Config archive public, stop "
    "recording, shorten history or let it be deleted."
)
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


def definitions() -> list[Definition]:
    """Every policy definition, in the pack's order."""
    return list(REGISTRY)


def policies() -> list[Policy]:
    """Every policy of the pack, as `PolicyPack(...)` takes them."""
    return [definition.sdk_policy() for definition in REGISTRY]
