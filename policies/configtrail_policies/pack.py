"""The pack: every policy definition of the service modules, as SDK policy objects.

`policies()` is what `policies/__main__.py` hands to `PolicyPack(...)` — the SDK's own public way
of hosting a pack, which serves them over the Analyzer gRPC protocol. Importing this module has no
other effect.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from configtrail_policies import (
    access,
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

# The service modules register their definitions when imported; the pack's order (and the README
# table's) is this one, whatever order imports happen in. coverage, delivery, legacy and vault hold
# the history invariants against the estate (where it goes, the write-once copy, what is recorded);
# access holds who may read or write it.
MODULES = (s3, identity, recording, stack, access, delivery, vault, coverage, legacy, tagging)

PACK_NAME = "configtrail-guardrails"
PACK_DESCRIPTION = (
    "ConfigTrail guardrails: block changes that would make the AWS Config archive public, stop "
    "recording, shorten history or let it be deleted."
)
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


def definitions() -> list[Definition]:
    """Every policy definition, in the pack's order (by module, then as each module defines)."""
    order = [module.__name__ for module in MODULES]
    return sorted(REGISTRY, key=lambda d: order.index(d.validate.__module__))


def policies() -> list[Policy]:
    """Every policy of the pack, as `PolicyPack(...)` takes them."""
    return [definition.sdk_policy() for definition in definitions()]
