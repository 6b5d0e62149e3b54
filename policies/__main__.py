"""Entry point the Pulumi CLI (and `configtrail policy`) runs: `python -u -m pulumi.policy <engine>
<this directory>` runs this file, and `PolicyPack(...)` serves the policies over the Analyzer gRPC
protocol until the engine stops it.

Nothing else belongs here — `PolicyPack(...)` blocks forever, so the policies live in the
importable `configtrail_policies` package.
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
