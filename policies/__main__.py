"""Entry point the Pulumi CLI (and `configtrail policy`) runs: starts the analyzer server.

Nothing else belongs here — `PolicyPack(...)` blocks forever serving gRPC, so the policies live
in the importable `configtrail_policies` package. `configtrail_policies.pack.service()` builds the
same service for the in-process engine; tests/policies/test_engines.py keeps the two in step.
"""

from configtrail_policies.pack import (
    PACK_DESCRIPTION,
    PACK_ENFORCEMENT_LEVEL,
    PACK_NAME,
    policies,
)
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
)
