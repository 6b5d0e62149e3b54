"""Entry point the Pulumi CLI (and `configtrail policy`) runs: starts the analyzer server.

Nothing else belongs here — `PolicyPack(...)` blocks forever serving gRPC, so the policies live
in the importable `configtrail_policies` package.
"""

from configtrail_policies.pack import PACK_DESCRIPTION, PACK_NAME, policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description=PACK_DESCRIPTION,
)
