"""The pack: every policy definition of the service modules, as SDK policy objects.

`policies()` is what `policies/__main__.py` hands to `PolicyPack(...)` — the SDK's own public way
of hosting a pack, which serves them over the Analyzer gRPC protocol. Importing this module has no
other effect.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

# The service modules register their definitions when imported, in this order (the pack's order);
# coverage, delivery, legacy and vault hold the history invariants against the estate.
from configtrail_policies import (  # noqa: F401
    coverage,
    delivery,
    identity,
    legacy,
    recording,
    s3,
    stack,
    tagging,
    vault,
)
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
