"""Entry point the Pulumi CLI (and `configtrail policy-check --pack-dir policies/ai-workloads`)
runs: starts the analyzer server. The policies live in the importable `configtrail_ai_policies`
package, generated from the AI control catalog; `PolicyPack(...)` blocks forever serving gRPC."""

from configtrail_ai_policies.pack import (
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
